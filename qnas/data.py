"""The dataset a study trains on: arrays already split, checked once, then trusted.

Loaders (``nas.datasets``) return a :class:`Dataset`; :meth:`Dataset.validate` is where
shapes, NaN/inf and label sets are checked, so every source gets the same clear errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .errors import DataError
from .spec import Task


@dataclass(frozen=True)
class Dataset:
    """Train/validation/test splits.

    Classification: ``y_*`` are integer class indices into ``class_names``.
    Autoencoder: ``y_*`` are the anomaly labels of the test split (0 normal, 1 anomalous)
    or None; training uses ``x`` only (and only normal events).
    """

    name: str
    task: Task
    x_train: np.ndarray
    y_train: np.ndarray | None
    x_val: np.ndarray
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def validate(self) -> "Dataset":
        """Raise DataError naming the split and the fix; return self when usable."""
        for split in ("train", "val", "test"):
            x = getattr(self, f"x_{split}")
            y = getattr(self, f"y_{split}")
            if not isinstance(x, np.ndarray) or x.ndim != 2:
                raise DataError(f"dataset {self.name!r}: x_{split} must be a 2-D array "
                                f"(events, features); got shape {getattr(x, 'shape', None)}")
            if x.shape[0] == 0:
                raise DataError(f"dataset {self.name!r}: the {split} split is empty")
            if x.shape[1] != len(self.feature_names):
                raise DataError(f"dataset {self.name!r}: x_{split} has {x.shape[1]} features but "
                                f"{len(self.feature_names)} feature names are given")
            if not np.issubdtype(x.dtype, np.number):
                raise DataError(f"dataset {self.name!r}: x_{split} must be numeric; got {x.dtype}")
            bad = ~np.isfinite(x)
            if bad.any():
                rows, cols = np.nonzero(bad)
                raise DataError(
                    f"dataset {self.name!r}: x_{split} holds {int(bad.sum())} NaN/inf values "
                    f"(first at row {rows[0]}, feature {self.feature_names[cols[0]]!r}); "
                    "drop or impute those rows before the search")
            if self.task == "classification":
                if y is None:
                    raise DataError(f"dataset {self.name!r}: y_{split} is missing for classification")
                if y.shape != (x.shape[0],):
                    raise DataError(f"dataset {self.name!r}: y_{split} has shape {y.shape}, "
                                    f"expected ({x.shape[0]},)")
                if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= self.n_classes:
                    raise DataError(f"dataset {self.name!r}: y_{split} must be class indices in "
                                    f"[0, {self.n_classes - 1}]")
            elif y is not None and y.shape != (x.shape[0],):
                raise DataError(f"dataset {self.name!r}: y_{split} has shape {y.shape}, "
                                f"expected ({x.shape[0]},)")
        if self.task == "classification":
            if self.n_classes < 2:
                raise DataError(f"dataset {self.name!r}: classification needs at least 2 classes")
            missing = sorted(set(range(self.n_classes)) - set(np.unique(self.y_train).tolist()))
            if missing:
                raise DataError(f"dataset {self.name!r}: classes {[self.class_names[i] for i in missing]} "
                                "never occur in the training split")
        return self
