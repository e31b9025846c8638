"""Feature table -> :class:`qnas.data.Dataset`: label encoding, seeded split, train-only scaling.

Shared by the jet loaders (OpenML 42468, embedded Pythia sample) and user files, so all of
them follow the hls4ml jet-tagging preprocessing: labels encoded in a fixed class order,
a test split held out with a fixed seed (20 % by default), a validation split carved from
the rest, and a StandardScaler fitted on the training split only (no information from
validation or test leaks into the inputs). Splits are stratified, so small samples keep
every class in every split.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from qnas.data import Dataset
from qnas.errors import DataError
from qnas.validation import Field, InstanceOf, Interval

#: options every tabular loader accepts (fractions of the whole sample)
SPLIT_FIELDS: dict[str, Field] = {
    "test_fraction": Field((Interval(float, 0.05, 0.5),), 0.2),
    "val_fraction": Field((Interval(float, 0.05, 0.5),), 0.2),
    "max_rows": Field((Interval(int, 10), InstanceOf(type(None), "null (all rows)")), None),
    "scale": Field((InstanceOf(bool, "true or false"),), True),
}


def encode_labels(raw: np.ndarray, class_names: Sequence[str], where: str) -> np.ndarray:
    """Map label values (compared as strings) to indices into ``class_names``."""
    values = np.asarray(raw).astype(str)
    index = {name: i for i, name in enumerate(class_names)}
    unknown = sorted(set(np.unique(values).tolist()) - set(index))
    if unknown:
        raise DataError(f"{where}: label values {unknown[:10]} are not among the classes "
                        f"{list(class_names)}; fix the labels or list them in dataset.options.class_names")
    return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))


def check_finite(x: np.ndarray, feature_names: Sequence[str], where: str) -> None:
    """DataError naming the first NaN/inf column and row, before anything is split."""
    bad = ~np.isfinite(x)
    if bad.any():
        rows, cols = np.nonzero(bad)
        raise DataError(f"{where}: column {feature_names[cols[0]]!r} holds NaN/inf "
                        f"({int(bad[:, cols[0]].sum())} rows, first at row {rows[0]}); "
                        "drop or impute those rows first")


def split_indices(y: np.ndarray, test_fraction: float, val_fraction: float, seed: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified train/val/test index arrays; fractions are of the whole sample."""
    from sklearn.model_selection import train_test_split
    if test_fraction + val_fraction >= 0.9:
        raise DataError(f"test_fraction + val_fraction = {test_fraction + val_fraction:g} leaves "
                        "almost nothing to train on; keep their sum below 0.9")
    idx = np.arange(len(y))
    counts = np.bincount(y)
    present = counts[counts > 0]
    n_test = int(np.ceil(test_fraction * len(y)))
    n_val = int(np.ceil(val_fraction * len(y)))
    if present.min() < 3 or min(n_test, n_val) < len(present):
        raise DataError(f"{len(y)} rows are too few to split {len(present)} classes into "
                        f"train/val/test (smallest class: {int(present.min())} rows); each split "
                        "needs every class, so provide more rows or larger fractions")
    rest, test = train_test_split(idx, test_size=test_fraction, random_state=seed, stratify=y)
    train, val = train_test_split(rest, test_size=val_fraction / (1 - test_fraction),
                                  random_state=seed, stratify=y[rest])
    return train, val, test


def subsample(y: np.ndarray, max_rows: int | None, seed: int) -> np.ndarray:
    """Indices of a stratified random subset of at most ``max_rows`` rows (all rows if None)."""
    if max_rows is None or max_rows >= len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split
    keep, _ = train_test_split(np.arange(len(y)), train_size=max_rows, random_state=seed, stratify=y)
    return np.sort(keep)


def make_dataset(name: str, x: np.ndarray, y: np.ndarray, feature_names: Sequence[str],
                 class_names: Sequence[str], opts: Mapping[str, Any], seed: int,
                 provenance: Mapping[str, Any]) -> Dataset:
    """Subsample, split and scale an already validated (x, y) into a Dataset."""
    keep = subsample(y, opts["max_rows"], seed)
    x, y = x[keep], y[keep]
    tr, va, te = split_indices(y, opts["test_fraction"], opts["val_fraction"], seed)
    x = x.astype(np.float64)
    x_tr, x_va, x_te = x[tr], x[va], x[te]
    scaling = "none"
    if opts["scale"]:
        mean = x_tr.mean(axis=0)
        std = x_tr.std(axis=0)
        std[std == 0] = 1.0  # a constant column stays constant instead of becoming NaN
        x_tr, x_va, x_te = ((a - mean) / std for a in (x_tr, x_va, x_te))
        scaling = "standard (StandardScaler statistics of the training split only)"
    return Dataset(
        name=name, task="classification",
        x_train=x_tr.astype(np.float32), y_train=y[tr], x_val=x_va.astype(np.float32), y_val=y[va],
        x_test=x_te.astype(np.float32), y_test=y[te], feature_names=tuple(feature_names),
        class_names=tuple(class_names),
        provenance={**provenance, "seed": seed, "rows": int(len(y)),
                    "split": f"stratified, test {opts['test_fraction']:g}, val {opts['val_fraction']:g}",
                    "scaling": scaling},
    ).validate()
