"""Datasets every installation has offline: scikit-learn's handwritten digits.

Digits (1797 8x8 images, 64 features, 10 classes) stands in for jets in the embedded
default study: it ships with scikit-learn, so the default study runs on a fresh machine with
no network, and its size (64 inputs, 10 outputs) is the size of an L1-trigger MLP.
Features are standard-scaled with statistics of the training split only, so no information
from validation or test leaks into the inputs.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from qnas.data import Dataset
from qnas.errors import ConfigError
from qnas.validation import Field, Interval, validate_section

_SPLIT_FIELDS = {
    "val_fraction": Field((Interval(float, 0.05, 0.45),), 0.2),
    "test_fraction": Field((Interval(float, 0.05, 0.45),), 0.2),
}


def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits as sk_load_digits
    bunch = sk_load_digits()
    return bunch.data.astype(np.float32), bunch.target.astype(np.int64)


def _split(n: int, y: np.ndarray | None, val: float, test: float, seed: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays for train/val/test, stratified by ``y`` when given."""
    from sklearn.model_selection import train_test_split
    idx = np.arange(n)
    rest, test_idx = train_test_split(idx, test_size=test, random_state=seed, stratify=y)
    strat_rest = None if y is None else y[rest]
    train_idx, val_idx = train_test_split(rest, test_size=val / (1 - test), random_state=seed,
                                          stratify=strat_rest)
    return train_idx, val_idx, test_idx


def _scale(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std[std == 0] = 1.0  # constant pixels (always 0 in the corners) stay 0, not NaN
    return [((a - mean) / std).astype(np.float32) for a in (train, *others)]


def _feature_names() -> tuple[str, ...]:
    return tuple(f"pixel_{r}_{c}" for r in range(8) for c in range(8))


def load_digits(options: Mapping[str, Any], seed: int) -> Dataset:
    """10-class digits classification, stratified 60/20/20 split (fractions settable)."""
    opts = validate_section(options, _SPLIT_FIELDS, "dataset.options")
    x, y = _raw_digits()
    tr, va, te = _split(len(x), y, opts["val_fraction"], opts["test_fraction"], seed)
    x_tr, x_va, x_te = _scale(x[tr], x[va], x[te])
    return Dataset(
        name="digits", task="classification",
        x_train=x_tr, y_train=y[tr], x_val=x_va, y_val=y[va], x_test=x_te, y_test=y[te],
        feature_names=_feature_names(), class_names=tuple(str(d) for d in range(10)),
        provenance={"source": "sklearn.datasets.load_digits", "seed": seed,
                    "split": f"stratified, val {opts['val_fraction']}, test {opts['test_fraction']}",
                    "scaling": "standard, fitted on the training split"},
    )


def _normal_classes(value: Any, path: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(path, f"must be a non-empty list of digits 0-9; got {value!r}")
    for i, d in enumerate(value):
        if isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 9:
            raise ConfigError(f"{path}[{i}]", f"must be a digit 0-9; got {d!r}")
    if len(set(value)) == 10:
        raise ConfigError(path, "lists all ten digits, which leaves no anomalies to detect")
    return tuple(sorted(set(value)))


_ANOMALY_FIELDS = {**_SPLIT_FIELDS, "normal_classes": Field((), (0, 1, 2, 3, 4), parse=_normal_classes)}


def load_digits_anomaly(options: Mapping[str, Any], seed: int) -> Dataset:
    """Autoencoder task: train on 'normal' digits only; val/test mix in the other digits.

    ``y_val``/``y_test`` are anomaly labels (1 = a digit outside ``normal_classes``), so the
    trainer can report a ROC AUC of the reconstruction error; the autoencoder never sees an
    anomaly during training. Anomalies are split evenly between validation and test.
    """
    opts = validate_section(options, _ANOMALY_FIELDS, "dataset.options")
    normal = opts["normal_classes"]
    x, y = _raw_digits()
    is_anomaly = ~np.isin(y, normal)
    x_norm, y_norm = x[~is_anomaly], y[~is_anomaly]
    x_anom = x[is_anomaly]
    tr, va, te = _split(len(x_norm), y_norm, opts["val_fraction"], opts["test_fraction"], seed)
    order = np.random.default_rng(seed).permutation(len(x_anom))
    half = len(order) // 2
    x_val = np.concatenate([x_norm[va], x_anom[order[:half]]])
    y_val = np.concatenate([np.zeros(len(va), np.int64), np.ones(half, np.int64)])
    x_test = np.concatenate([x_norm[te], x_anom[order[half:]]])
    y_test = np.concatenate([np.zeros(len(te), np.int64), np.ones(len(order) - half, np.int64)])
    x_tr, x_va, x_te = _scale(x_norm[tr], x_val, x_test)
    return Dataset(
        name="digits-anomaly", task="autoencoder",
        x_train=x_tr, y_train=None, x_val=x_va, y_val=y_val, x_test=x_te, y_test=y_test,
        feature_names=_feature_names(), class_names=("normal", "anomaly"),
        provenance={"source": "sklearn.datasets.load_digits", "seed": seed,
                    "normal_classes": list(normal), "scaling": "standard, fitted on normal training events"},
    )
