"""User data files as a study dataset: CSV, Parquet, NPZ or HDF5 with named columns.

Study YAML::

    dataset:
      name: file
      options: {path: data/jets.parquet, label: class, features: [zlogz, mass_mmdt, ...]}

Layouts: CSV/Parquet are tables (one column per feature plus the label column); NPZ and
HDF5 hold one 1-D array per column (keys/datasets named like columns, HDF5 optionally inside
``group``), or a 2-D feature matrix under ``x_key`` whose columns are named by ``features``.
Everything is checked before any training (missing or misspelt columns, ragged lengths,
non-numeric features, NaN/inf, unknown or missing labels) and every error names the file and
the column or key at fault. Preprocessing is the jet datasets' (``_tabular``): stratified
seeded split, StandardScaler fitted on the training split.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from qnas._imports import require
from qnas.data import Dataset
from qnas.errors import ConfigError, DataError
from qnas.validation import Field, InstanceOf, OneOf, validate_section

from ._tabular import SPLIT_FIELDS, check_finite, encode_labels, make_dataset

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".npz": "npz",
           ".h5": "hdf5", ".hdf5": "hdf5", ".hdf": "hdf5"}


def _string_list(value: Any, path: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise ConfigError(path, f"must be a non-empty list of column names; got {value!r}")
    for i, v in enumerate(value):
        if not isinstance(v, str) or not v:
            raise ConfigError(f"{path}[{i}]", f"must be a column name (string); got {v!r}")
    if len(set(value)) != len(value):
        dup = sorted({v for v in value if value.count(v) > 1})
        raise ConfigError(path, f"lists {dup} more than once")
    return tuple(value)


_NULL = InstanceOf(type(None), "null")
_FIELDS = {
    **SPLIT_FIELDS,
    "path": Field((InstanceOf(str, "a file path"),), required=True),
    "label": Field((InstanceOf(str, "a column name"),), "class"),
    "features": Field((), None, parse=_string_list),
    "class_names": Field((), None, parse=_string_list),
    "format": Field((OneOf(("csv", "parquet", "npz", "hdf5")), _NULL), None),
    "x_key": Field((InstanceOf(str, "an array/dataset name"), _NULL), None),
    "group": Field((InstanceOf(str, "an HDF5 group path"),), "/"),
}


def _no_such(name: str, available: list[str], what: str, where: str) -> DataError:
    close = difflib.get_close_matches(name, available, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return DataError(f"{where}: {what} {name!r} not found{hint} (available: {', '.join(available[:40])})")


def _read_table(path: Path, fmt: str) -> dict[str, np.ndarray]:
    import pandas as pd
    try:
        frame = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
    except Exception as exc:  # parser errors carry the line; keep them
        raise DataError(f"{path}: cannot read as {fmt} ({type(exc).__name__}: {str(exc)[:300]})") from exc
    return {str(c): frame[c].to_numpy() for c in frame.columns}


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    import zipfile
    try:
        with np.load(path, allow_pickle=False) as f:
            if not hasattr(f, "files"):  # a bare .npy array has no column names
                raise ValueError("it holds one bare array, not named arrays")
            return {k: f[k] for k in f.files}
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: cannot read as NPZ without pickles ({type(exc).__name__}: "
                        f"{str(exc)[:200]}); save plain arrays (np.savez(path, col1=..., col2=...))") from exc


def _read_hdf5(path: Path, group: str) -> dict[str, np.ndarray]:
    h5py = require("h5py", "data")
    try:
        with h5py.File(path, "r") as f:
            if group not in f:
                raise _no_such(group, [k for k in f.keys()], "HDF5 group", str(path))
            g = f[group]
            if not isinstance(g, h5py.Group):
                raise DataError(f"{path}: {group!r} is a dataset, not a group; set dataset.options.group "
                                "to the group holding one dataset per column")
            out = {}
            for key, item in g.items():
                if isinstance(item, h5py.Dataset):
                    data = item[()]
                    out[key] = data.astype(str) if data.dtype.kind in "SO" else data
            return out
    except OSError as exc:  # h5py's "file signature not found", truncated or corrupt datasets
        raise DataError(f"{path}: cannot read as HDF5 ({str(exc)[:200]}); is it an HDF5 file?") from None


def read_columns(path: Path, fmt: str, group: str = "/") -> dict[str, np.ndarray]:
    """The file's arrays by name (tables: one per column)."""
    if fmt in ("csv", "parquet"):
        return _read_table(path, fmt)
    if fmt == "npz":
        return _read_npz(path)
    return _read_hdf5(path, group)


def _labels(raw: np.ndarray, where: str) -> np.ndarray:
    """Label values as strings; missing labels are an error naming the first row."""
    if raw.dtype.kind == "f":
        if not np.isfinite(raw).all():
            row = int(np.nonzero(~np.isfinite(raw))[0][0])
            raise DataError(f"{where}: label is NaN/inf at row {row}; every row needs a label")
        if np.all(raw == np.round(raw)):
            raw = raw.astype(np.int64)
    if raw.dtype.kind == "O":
        missing = [i for i, v in enumerate(raw) if v is None or (isinstance(v, float) and np.isnan(v))]
        if missing:
            raise DataError(f"{where}: label is missing at row {missing[0]} ({len(missing)} rows); "
                            "every row needs a label")
    return np.asarray(raw).astype(str)


def _default_classes(labels: np.ndarray) -> tuple[str, ...]:
    values = np.unique(labels).tolist()
    try:  # numeric labels sort as numbers (2 before 10)
        return tuple(sorted(values, key=float))
    except ValueError:
        return tuple(sorted(values))


def load_file_dataset(options: Mapping[str, Any], seed: int) -> Dataset:
    """A classification dataset from a user file (see the module docstring for layouts)."""
    opts = validate_section(options, _FIELDS, "dataset.options")
    path = Path(opts["path"]).expanduser()
    if not path.is_file():
        raise DataError(f"dataset.options.path: file {str(path)!r} does not exist")
    fmt = opts["format"] or FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError("dataset.options.format", f"cannot tell the format of {path.name!r} from its "
                          f"suffix; set it to csv, parquet, npz or hdf5")
    where = str(path)
    cols = read_columns(path, fmt, opts["group"])
    names = list(cols)
    label = opts["label"]
    if label not in cols:
        raise _no_such(label, names, "label column", where)
    raw_y = np.asarray(cols[label])
    if raw_y.ndim != 1:
        raise DataError(f"{where}: label {label!r} must be 1-D (one label per row); got shape {raw_y.shape}")

    if opts["x_key"] is not None:
        key = opts["x_key"]
        if key not in cols:
            raise _no_such(key, names, "feature array (x_key)", where)
        x = np.asarray(cols[key])
        if x.ndim != 2:
            raise DataError(f"{where}: x_key {key!r} must be a 2-D array (rows, features); got shape {x.shape}")
        feature_names = opts["features"] or tuple(f"{key}_{i}" for i in range(x.shape[1]))
        if len(feature_names) != x.shape[1]:
            raise DataError(f"{where}: x_key {key!r} has {x.shape[1]} columns but dataset.options.features "
                            f"names {len(feature_names)}")
        if x.shape[0] != len(raw_y):
            raise DataError(f"{where}: x_key {key!r} has {x.shape[0]} rows but label {label!r} has {len(raw_y)}")
        if not np.issubdtype(x.dtype, np.number):
            raise DataError(f"{where}: x_key {key!r} must be numeric; got dtype {x.dtype}")
    else:
        feature_names = opts["features"] or tuple(
            n for n in names if n != label and np.asarray(cols[n]).ndim == 1
            and np.issubdtype(np.asarray(cols[n]).dtype, np.number))
        if not feature_names:
            raise DataError(f"{where}: no numeric feature columns besides label {label!r} "
                            f"(columns: {names}); list them in dataset.options.features")
        arrays = []
        for name in feature_names:
            if name not in cols:
                raise _no_such(name, names, "feature column", where)
            a = np.asarray(cols[name])
            if a.ndim != 1:
                raise DataError(f"{where}: feature {name!r} must be 1-D (one value per row); got shape "
                                f"{a.shape}; use x_key for a 2-D matrix")
            if len(a) != len(raw_y):
                raise DataError(f"{where}: feature {name!r} has {len(a)} rows but label {label!r} has "
                                f"{len(raw_y)}; all columns must have the same length")
            if a.dtype.kind not in "biuf":
                raise DataError(f"{where}: feature {name!r} is not numeric (dtype {a.dtype}); "
                                "encode it as numbers or leave it out of dataset.options.features")
            arrays.append(a.astype(np.float64))
        x = np.stack(arrays, axis=1)
    if len(raw_y) == 0:
        raise DataError(f"{where}: the file holds no rows")
    check_finite(x.astype(np.float64), feature_names, where)
    labels = _labels(raw_y, f"{where}: column {label!r}")
    class_names = opts["class_names"] or _default_classes(labels)
    if len(class_names) < 2:
        raise DataError(f"{where}: label {label!r} has only the value(s) {list(class_names)}; "
                        "classification needs at least 2 classes")
    y = encode_labels(labels, class_names, f"{where}: column {label!r}")
    return make_dataset(path.stem, x, y, feature_names, class_names, opts, seed,
                        {"source": f"file {path}", "format": fmt, "label": label})
