"""The committed L1 anomaly-detection sample as an autoencoder task (dataset name ``anomaly-l1``).

``nas/datasets/data/anomaly_l1.npz`` holds ``l1`` (n, 57) int16 L1 integers and ``process``;
the sidecar ``anomaly_l1.json`` records the ``qnas data make-anomaly`` command, seeds, Pythia
settings, detector response and versions that regenerate it bit for bit. Any other
``make-anomaly`` file loads the same way through ``dataset.options.path``.

The task, as a Level-1 anomaly trigger is built: the autoencoder trains on SM background
only; validation and test hold background plus every signal (signal events are split half
and half between them), with labels 0 = background and k = the k-th signal of
``class_names``. Quality is the signal efficiency at a fixed background acceptance, the
trigger rate over the 40 MHz bunch-crossing rate (``rate_khz``, stored in the provenance as
``background_acceptance``, read by :mod:`nas.metrics`). A rate the validation or test
background cannot resolve (fewer than ``MIN_EVENTS_AT_RATE`` background events above the
threshold) is refused with the lowest rate it can.

Inputs: the L1 integers converted to physical units (pT GeV, eta, phi) and standard-scaled
with statistics of the training background only; the search's input quantizer then puts
them on the firmware's input grid.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from qnas.data import Dataset
from qnas.errors import ConfigError, DataError
from qnas.validation import Field, InstanceOf, Interval, validate_section

from .detector import INPUT_NAMES, N_INPUTS, dequantize
from .generate import L1_COLUMN, PROCESS_COLUMN
from .processes import BACKGROUND_FRACTIONS, SIGNALS

EMBEDDED_FILE = "anomaly_l1.npz"
BUNCH_CROSSING_KHZ = 40_000.0
#: background events above the threshold each of val and test must hold at the chosen rate
MIN_EVENTS_AT_RATE = 20


def _signals(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(path, f"must be a non-empty list of signals from {list(SIGNALS)}; got {value!r}")
    for i, s in enumerate(value):
        if s not in SIGNALS:
            raise ConfigError(f"{path}[{i}]", f"unknown signal {s!r}; choose from {list(SIGNALS)}")
    if len(set(value)) != len(value):
        raise ConfigError(path, "lists a signal twice")
    return tuple(value)


FIELDS = {
    "path": Field((InstanceOf(str, "a path to a make-anomaly .npz file"),
                   InstanceOf(type(None), "null (the embedded sample)")), None),
    "signals": Field((), SIGNALS, parse=_signals),
    "rate_khz": Field((Interval(float, 0, BUNCH_CROSSING_KHZ, low_open=True),), 40.0),
    "val_fraction": Field((Interval(float, 0.05, 0.45),), 0.3),
    "test_fraction": Field((Interval(float, 0.05, 0.45),), 0.3),
    "max_train": Field((Interval(int, 100), InstanceOf(type(None), "null (all training background)")), None),
}


def embedded_path() -> Path:
    """Where the committed sample lives inside the installed package."""
    return Path(str(resources.files("nas.datasets") / "data" / EMBEDDED_FILE))


def read_l1(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(L1 integers (n, 57) int16, process names (n,), sidecar dict or {}) of a make-anomaly .npz."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"anomaly sample {path} does not exist; generate one with `qnas data make-anomaly "
                        "--n-background 100000 --n-signal 5000 --out <path>.npz` (extra: physics)")
    with np.load(path) as f:
        missing = [c for c in (L1_COLUMN, PROCESS_COLUMN) if c not in f.files]
        if missing:
            raise DataError(f"{path}: arrays {missing} are missing (has {f.files}); "
                            "not a `qnas data make-anomaly` file")
        l1, process = f[L1_COLUMN], f[PROCESS_COLUMN].astype(str)
    if l1.ndim != 2 or l1.shape[1] != N_INPUTS or len(process) != len(l1):
        raise DataError(f"{path}: l1 has shape {l1.shape} and process {process.shape}; expected "
                        f"(n, {N_INPUTS}) and (n,)")
    sidecar_file = path.with_suffix(".json")
    sidecar = json.loads(sidecar_file.read_text()) if sidecar_file.is_file() else {}
    return l1, process, sidecar


def split_events(process: np.ndarray, opts: Mapping[str, Any], seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (row indices, labels)}: background split by the fractions, signals half val, half test.

    Labels: 0 background, k (1-based) the k-th of ``opts['signals']``. Validation and test
    are in a seeded random order (background and signals mixed). Seeded, so the physics benchmark and
    the study see the same test events.
    """
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(15,)))
    bg = np.flatnonzero(np.isin(process, list(BACKGROUND_FRACTIONS)))
    if len(bg) == 0:
        raise DataError("the anomaly sample holds no background events")
    bg = bg[rng.permutation(len(bg))]
    n_test = int(round(opts["test_fraction"] * len(bg)))
    n_val = int(round(opts["val_fraction"] * len(bg)))
    test, val, train = bg[:n_test], bg[n_test:n_test + n_val], bg[n_test + n_val:]
    if opts["max_train"] is not None:
        train = train[:opts["max_train"]]
    parts = {"train": ([train], [np.zeros(len(train), np.int64)]),
             "val": ([val], [np.zeros(len(val), np.int64)]),
             "test": ([test], [np.zeros(len(test), np.int64)])}
    for k, name in enumerate(opts["signals"], start=1):
        rows = np.flatnonzero(process == name)
        if len(rows) < 2:
            raise DataError(f"the anomaly sample holds {len(rows)} {name!r} events; need at least 2")
        rows = rows[rng.permutation(len(rows))]
        half = len(rows) // 2
        for split, r in (("val", rows[:half]), ("test", rows[half:])):
            parts[split][0].append(r)
            parts[split][1].append(np.full(len(r), k, np.int64))
    out = {}
    for split, (idx, lab) in parts.items():
        idx, lab = np.concatenate(idx), np.concatenate(lab)
        # mixed order, so the first events of a split (the bundle's test vectors) hold signals too
        order = rng.permutation(len(idx)) if split != "train" else np.arange(len(idx))
        out[split] = (idx[order], lab[order])
    return out


def check_rate(n_background: int, acceptance: float, split: str) -> None:
    """ConfigError when ``n_background`` events cannot resolve ``acceptance``."""
    if n_background * acceptance < MIN_EVENTS_AT_RATE:
        lowest = MIN_EVENTS_AT_RATE / n_background * BUNCH_CROSSING_KHZ
        raise ConfigError("dataset.options.rate_khz",
                          f"{acceptance * BUNCH_CROSSING_KHZ:g} kHz keeps {n_background * acceptance:.1f} of the "
                          f"{n_background} {split} background events; at least {MIN_EVENTS_AT_RATE} are needed, "
                          f"so the lowest rate this sample resolves is {lowest:.1f} kHz (or generate more background)")


def load_anomaly_l1(options: Mapping[str, Any], seed: int) -> Dataset:
    """The committed L1 sample (or ``options.path``) as an autoencoder Dataset (module docstring)."""
    opts = validate_section(options, FIELDS, "dataset.options")
    path = Path(opts["path"]) if opts["path"] else embedded_path()
    l1, process, sidecar = read_l1(path)
    splits = split_events(process, opts, seed)
    acceptance = opts["rate_khz"] / BUNCH_CROSSING_KHZ
    for split in ("val", "test"):
        check_rate(int(np.sum(splits[split][1] == 0)), acceptance, split)
    x = dequantize(l1).astype(np.float64)
    train_rows = splits["train"][0]
    mean, std = x[train_rows].mean(axis=0), x[train_rows].std(axis=0)
    std[std == 0] = 1.0  # a slot never filled in training stays 0 instead of NaN
    arrays = {s: ((x[rows] - mean) / std).astype(np.float32) for s, (rows, _) in splits.items()}
    return Dataset(
        name="anomaly-l1", task="autoencoder",
        x_train=arrays["train"], y_train=splits["train"][1], x_val=arrays["val"], y_val=splits["val"][1],
        x_test=arrays["test"], y_test=splits["test"][1], feature_names=INPUT_NAMES,
        class_names=("background",) + tuple(opts["signals"]),
        provenance={"source": f"Pythia 8 L1 sample {path.name}",
                    "command": sidecar.get("command", "unknown (no sidecar JSON)"),
                    "generator_seed": sidecar.get("seed"), "versions": sidecar.get("versions", {}),
                    "seed": seed, "rate_khz": opts["rate_khz"], "background_acceptance": acceptance,
                    "events": {s: int(len(rows)) for s, (rows, _) in splits.items()},
                    "scaling": "L1 integers -> physical units, standard scaling on the training background"},
    ).validate()
