"""The reference jet dataset, OpenML 42468 (``hls4ml_lhc_jets_hlf``), with a local cache.

830k jets, 16 features, classes g/q/t/w/z (Coleman et al. arXiv:1709.08705, Duarte et al.
arXiv:1804.06913); the benchmark of the hls4ml, QKeras, HGQ, LogicNets and da4ml papers.

The first load goes through scikit-learn's ``fetch_openml`` (which keeps its own download
cache under ``<cache>/openml``) and then writes a compact ``hls4ml_lhc_jets_hlf.npz`` beside
it, so later loads take a second instead of re-parsing ARFF. With no network and no cache
the loader says how to fetch the file elsewhere and which offline study to run instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from qnas.data import Dataset
from qnas.errors import DataError
from qnas.validation import Field, InstanceOf, validate_section

from .._tabular import SPLIT_FIELDS, check_finite, encode_labels, make_dataset
from .features import CLASS_NAMES, FEATURE_NAMES, LABEL_COLUMN

OPENML_ID = 42468
OPENML_NAME = "hls4ml_lhc_jets_hlf"
CACHE_FILE = f"{OPENML_NAME}.npz"

_FIELDS = {**SPLIT_FIELDS, "cache_dir": Field((InstanceOf(str, "a directory path"),
                                                InstanceOf(type(None), "null (default cache)")), None)}


def default_cache_dir() -> Path:
    """``$QNAS_CACHE`` (default ``~/.cache/qnas``) + ``/datasets``."""
    root = os.environ.get("QNAS_CACHE") or os.path.join(Path.home(), ".cache", "qnas")
    return Path(root) / "datasets"


def _offline_message(cache: Path, exc: BaseException) -> str:
    return (
        f"OpenML dataset {OPENML_ID} ({OPENML_NAME}) is not cached in {cache} and could not be "
        f"downloaded ({type(exc).__name__}: {exc}). To get it, run once on a machine with network:\n"
        f"    python -c \"from nas.datasets.jets import fetch_openml_jets; fetch_openml_jets('{cache}')\"\n"
        f"and copy {cache / CACHE_FILE} here (or point dataset.options.cache_dir at it). "
        "Offline, run the same task on the embedded Pythia 8 jets instead:\n"
        "    qnas run studies/jet_tagging_offline.yaml")


def _frame_to_arrays(frame: Any) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in FEATURE_NAMES + (LABEL_COLUMN,) if c not in frame.columns]
    if missing:
        raise DataError(f"OpenML {OPENML_ID}: columns {missing} are missing (got {list(frame.columns)}); "
                        "the download is not the hls4ml jet dataset")
    x = frame[list(FEATURE_NAMES)].to_numpy(dtype=np.float64)
    labels = frame[LABEL_COLUMN].astype(str).to_numpy()
    return x, labels


def fetch_openml_jets(cache_dir: str | os.PathLike | None = None) -> Path:
    """Download (or reuse) OpenML 42468 and write the compact cache file; return its path."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    target = cache / CACHE_FILE
    if target.is_file():
        return target
    import warnings

    from sklearn import datasets as sk_datasets
    try:
        with warnings.catch_warnings():  # "network error ... Retrying" per retry; the error says it all
            warnings.simplefilter("ignore", UserWarning)
            bunch = sk_datasets.fetch_openml(data_id=OPENML_ID, data_home=str(cache / "openml"),
                                             as_frame=True, parser="auto")
    except (OSError, ConnectionError, TimeoutError) as exc:  # URLError/HTTPError are OSErrors
        raise DataError(_offline_message(cache, exc)) from exc
    x, labels = _frame_to_arrays(bunch.frame)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / (CACHE_FILE + ".tmp.npz")
    np.savez_compressed(tmp, x=x, labels=labels.astype("<U1"), feature_names=np.array(FEATURE_NAMES))
    os.replace(tmp, target)
    return target


def read_openml_cache(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(x, labels) of the compact cache: arrays x (n, 16), labels (n,) str, feature_names."""
    try:
        with np.load(path, allow_pickle=False) as f:
            names = tuple(str(n) for n in f["feature_names"])
            if names != FEATURE_NAMES:
                raise DataError(f"{path}: feature columns {names} differ from {FEATURE_NAMES}; "
                                "delete the file to re-fetch it")
            return f["x"], f["labels"]
    except DataError:
        raise
    except (KeyError, ValueError, OSError) as exc:
        raise DataError(f"{path}: not a valid OpenML {OPENML_ID} cache ({exc}); it must hold arrays "
                        "x (n, 16), labels (n,) of strings and feature_names; delete it to re-fetch") from exc


def load_openml_jets(options: Mapping[str, Any], seed: int) -> Dataset:
    """OpenML 42468 as a Dataset (hls4ml preprocessing: encode, 80/20 split, train-only scaling).

    Options: ``cache_dir``, ``test_fraction`` (0.2), ``val_fraction`` (0.2), ``max_rows``
    (stratified subsample, e.g. for quick studies), ``scale`` (true).
    """
    opts = validate_section(options, _FIELDS, "dataset.options")
    path = fetch_openml_jets(opts["cache_dir"])
    x, labels = read_openml_cache(path)
    where = f"OpenML {OPENML_ID} ({path})"
    check_finite(x, FEATURE_NAMES, where)
    y = encode_labels(labels, CLASS_NAMES, where)
    return make_dataset("jets-openml", x, y, FEATURE_NAMES, CLASS_NAMES, opts, seed,
                        {"source": f"OpenML {OPENML_ID} ({OPENML_NAME})", "cache": str(path),
                         "reference": "arXiv:1709.08705, arXiv:1804.06913"})
