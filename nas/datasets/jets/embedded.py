"""The Pythia 8 jet sample committed with qnas: the jet-tagging task with no network at all.

``nas/datasets/data/jets_pythia8.npz`` holds one array per column (the 16 OpenML 42468
features, ``class``, and jet_pt/jet_eta/jet_mass for sanity checks); the sidecar
``jets_pythia8.json`` records the exact ``qnas data make-jets`` command, seed, chunk table
and package versions that regenerate it bit for bit. Any other file written by
``make-jets`` loads the same way through ``dataset.options.path``.

Measured on the committed 100k sample (``benchmarks/jet_physics.py --train --train-qkeras``,
seed 0, 60k/20k/20k split): mMDT mass peaks at 81 (W), 91 (Z) and 175 GeV (top, 2-GeV bins);
test accuracy 72.1 % for a float 16-64-32-32-5 MLP and 71.7 % for the 6-bit QKeras one, against
~75-76 % on OpenML 42468. Why they differ: 13x fewer training jets; generator-level particles
with no detector (Delphes in the reference), different samples (Pythia-only Z'/G* resonances
and QCD 2->2 here, MadGraph+Pythia there), a wider pT window (800-1200 GeV) and |eta| < 2.5.
Z is the hardest class (confused with q and W: Z -> b bbar/c cbar and a mass 11 GeV from W's).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from qnas.data import Dataset
from qnas.errors import DataError
from qnas.validation import Field, InstanceOf, validate_section

from .._tabular import SPLIT_FIELDS, check_finite, encode_labels, make_dataset
from .features import CLASS_NAMES, FEATURE_NAMES, LABEL_COLUMN

EMBEDDED_FILE = "jets_pythia8.npz"

_FIELDS = {**SPLIT_FIELDS, "path": Field((InstanceOf(str, "a path to a make-jets .npz file"),
                                          InstanceOf(type(None), "null (the embedded sample)")), None)}


def embedded_path() -> Path:
    """Where the committed sample lives inside the installed package."""
    return Path(str(resources.files("nas.datasets") / "data" / EMBEDDED_FILE))


def read_generated(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(features (n, 16) float32, class labels (n,) str, sidecar dict or {}) of a make-jets .npz."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"jet sample {path} does not exist; generate one with "
                        "`qnas data make-jets --n-jets 50000 --out <path>.npz` (extra: physics)")
    with np.load(path) as f:
        missing = [c for c in FEATURE_NAMES + (LABEL_COLUMN,) if c not in f.files]
        if missing:
            raise DataError(f"{path}: arrays {missing} are missing (has {f.files}); "
                            "not a `qnas data make-jets` file")
        x = np.stack([f[c] for c in FEATURE_NAMES], axis=1)
        labels = f[LABEL_COLUMN]
    sidecar_file = path.with_suffix(".json")
    sidecar = json.loads(sidecar_file.read_text()) if sidecar_file.is_file() else {}
    return x, labels, sidecar


def load_embedded_jets(options: Mapping[str, Any], seed: int) -> Dataset:
    """The committed Pythia 8 jets (or ``options.path``) as a Dataset, preprocessed like OpenML 42468."""
    opts = validate_section(options, _FIELDS, "dataset.options")
    path = Path(opts["path"]) if opts["path"] else embedded_path()
    x, labels, sidecar = read_generated(path)
    check_finite(x, FEATURE_NAMES, str(path))
    y = encode_labels(labels, CLASS_NAMES, str(path))
    return make_dataset("jets", x, y, FEATURE_NAMES, CLASS_NAMES, opts, seed,
                        {"source": f"Pythia 8 sample {path.name}",
                         "command": sidecar.get("command", "unknown (no sidecar JSON)"),
                         "generator_seed": sidecar.get("seed"),
                         "versions": sidecar.get("versions", {})})
