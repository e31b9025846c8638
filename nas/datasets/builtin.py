"""Datasets every installation has offline: scikit-learn's handwritten digits.

Digits (1797 8x8 images, 64 features, 10 classes) stands in for jets in the embedded
default study: it ships with scikit-learn, so the default study runs on a fresh machine with
no network, and its size (64 inputs, 10 outputs) is the size of an L1-trigger MLP. Both
datasets follow the tabular loaders' preprocessing (:mod:`nas.datasets._tabular`): seeded
stratified splits and standard scaling with training-split statistics only.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from qnas.data import Dataset
from qnas.errors import ConfigError
from qnas.validation import Field, validate_section

from ._tabular import SPLIT_FIELDS, make_dataset, split_indices

_SOURCE = "sklearn.datasets.load_digits"


def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits as sk_load_digits
    bunch = sk_load_digits()
    return bunch.data.astype(np.float64), bunch.target.astype(np.int64)


def _feature_names() -> tuple[str, ...]:
    return tuple(f"pixel_{r}_{c}" for r in range(8) for c in range(8))


def load_digits(options: Mapping[str, Any], seed: int) -> Dataset:
    """10-class digits classification; options as every tabular loader (fractions, max_rows, scale)."""
    opts = validate_section(options, SPLIT_FIELDS, "dataset.options")
    x, y = _raw_digits()
    return make_dataset("digits", x, y, _feature_names(), tuple(str(d) for d in range(10)), opts, seed,
                        {"source": _SOURCE})


def _normal_classes(value: Any, path: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(path, f"must be a non-empty list of digits 0-9; got {value!r}")
    for i, d in enumerate(value):
        if isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 9:
            raise ConfigError(f"{path}[{i}]", f"must be a digit 0-9; got {d!r}")
    if len(set(value)) == 10:
        raise ConfigError(path, "lists all ten digits, which leaves no anomalies to detect")
    return tuple(sorted(set(value)))


_ANOMALY_FIELDS = {"test_fraction": SPLIT_FIELDS["test_fraction"], "val_fraction": SPLIT_FIELDS["val_fraction"],
                   "normal_classes": Field((), (0, 1, 2, 3, 4), parse=_normal_classes)}


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
    x_norm, y_norm, x_anom = x[~is_anomaly], y[~is_anomaly], x[is_anomaly]
    tr, va, te = split_indices(y_norm, opts["test_fraction"], opts["val_fraction"], seed)
    order = np.random.default_rng(seed).permutation(len(x_anom))
    half = len(order) // 2
    x_val = np.concatenate([x_norm[va], x_anom[order[:half]]])
    y_val = np.concatenate([np.zeros(len(va), np.int64), np.ones(half, np.int64)])
    x_test = np.concatenate([x_norm[te], x_anom[order[half:]]])
    y_test = np.concatenate([np.zeros(len(te), np.int64), np.ones(len(order) - half, np.int64)])
    mean, std = x_norm[tr].mean(axis=0), x_norm[tr].std(axis=0)
    std[std == 0] = 1.0  # constant pixels (always 0 in the corners) stay 0, not NaN
    x_tr, x_va, x_te = (((a - mean) / std).astype(np.float32) for a in (x_norm[tr], x_val, x_test))
    return Dataset(
        name="digits-anomaly", task="autoencoder",
        x_train=x_tr, y_train=None, x_val=x_va, y_val=y_val, x_test=x_te, y_test=y_test,
        feature_names=_feature_names(), class_names=("normal", "anomaly"),
        provenance={"source": _SOURCE, "seed": seed, "normal_classes": list(normal),
                    "scaling": "standard, fitted on normal training events"},
    )
