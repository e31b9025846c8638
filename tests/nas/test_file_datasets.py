"""User data files (CSV, Parquet, NPZ, HDF5) as datasets: loading, preprocessing, clear errors."""

import numpy as np
import pandas as pd
import pytest

from nas.datasets.files import load_file_dataset
from qnas.errors import ConfigError, DataError

FORMATS = ["csv", "parquet", "npz", "h5"]


def _table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.array(["b", "a", "c"])[np.arange(n) % 3]
    shift = {"a": 0.0, "b": 5.0, "c": 10.0}
    return {
        "f0": rng.normal(size=n) + np.array([shift[v] for v in labels]),
        "f1": rng.normal(size=n) * 3.0 + 7.0,
        "f2": np.arange(n, dtype=np.float64),
        "class": labels,
    }


def _write(tmp_path, cols, fmt):
    path = tmp_path / f"data.{fmt}"
    if fmt == "csv":
        pd.DataFrame(cols).to_csv(path, index=False)
    elif fmt == "parquet":
        pd.DataFrame(cols).to_parquet(path)
    elif fmt == "npz":
        np.savez(path, **cols)
    else:
        h5py = pytest.importorskip("h5py")
        with h5py.File(path, "w") as f:
            for k, v in cols.items():
                f[k] = v.astype("S") if v.dtype.kind == "U" else v
    return str(path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_loads_split_and_scales_on_train(tmp_path, fmt):
    path = _write(tmp_path, _table(), fmt)
    ds = load_file_dataset({"path": path}, seed=3)
    assert ds.feature_names == ("f0", "f1", "f2")
    assert ds.class_names == ("a", "b", "c")
    assert len(ds.x_train) + len(ds.x_val) + len(ds.x_test) == 60
    assert len(ds.x_test) == 12 and len(ds.x_val) == 12
    # scaler statistics come from the training split only
    assert np.allclose(ds.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(ds.x_train.std(axis=0), 1, atol=1e-4)
    assert not np.allclose(ds.x_test.mean(axis=0), 0, atol=1e-3)
    # labels follow the class order: class a rows have the smallest f0 (shift 0)
    raw_f0 = ds.x_train[:, 0]
    assert raw_f0[ds.y_train == 0].mean() < raw_f0[ds.y_train == 2].mean()
    # same seed, same split; other seed, other split
    again = load_file_dataset({"path": path}, seed=3)
    assert np.array_equal(again.x_test, ds.x_test)
    other = load_file_dataset({"path": path}, seed=4)
    assert not np.array_equal(other.x_test, ds.x_test)


def test_feature_selection_and_class_order(tmp_path):
    path = _write(tmp_path, _table(), "csv")
    ds = load_file_dataset({"path": path, "features": ["f1", "f0"], "class_names": ["c", "b", "a"],
                            "scale": False}, seed=0)
    assert ds.feature_names == ("f1", "f0")
    assert ds.class_names == ("c", "b", "a")
    # unscaled: class index 0 is 'c' whose f0 is shifted by 10
    assert ds.x_train[ds.y_train == 0, 1].mean() > 8


@pytest.mark.parametrize("fmt", FORMATS)
def test_nan_is_rejected_naming_the_column(tmp_path, fmt):
    cols = _table()
    cols["f1"][17] = np.nan
    path = _write(tmp_path, cols, fmt)
    with pytest.raises(DataError, match=r"'f1'.*NaN/inf.*row 17"):
        load_file_dataset({"path": path}, seed=0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_inf_is_rejected(tmp_path, fmt):
    cols = _table()
    cols["f2"][3] = np.inf
    path = _write(tmp_path, cols, fmt)
    with pytest.raises(DataError, match=r"'f2'.*NaN/inf"):
        load_file_dataset({"path": path}, seed=0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_label_column_suggests_a_name(tmp_path, fmt):
    path = _write(tmp_path, _table(), fmt)
    with pytest.raises(DataError, match=r"label column 'clas' not found; did you mean 'class'"):
        load_file_dataset({"path": path, "label": "clas"}, seed=0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_label_values_are_named(tmp_path, fmt):
    path = _write(tmp_path, _table(), fmt)
    with pytest.raises(DataError, match=r"label values \['c'\] are not among the classes"):
        load_file_dataset({"path": path, "class_names": ["a", "b"]}, seed=0)


@pytest.mark.parametrize("fmt", ["npz", "h5"])
def test_ragged_columns_are_a_shape_error(tmp_path, fmt):
    cols = _table()
    cols["f1"] = cols["f1"][:-5]
    path = _write(tmp_path, cols, fmt)
    with pytest.raises(DataError, match=r"feature 'f1' has 55 rows but label 'class' has 60"):
        load_file_dataset({"path": path}, seed=0)


@pytest.mark.parametrize("fmt", ["npz", "h5"])
def test_matrix_layout_with_x_key(tmp_path, fmt):
    t = _table()
    cols = {"x": np.stack([t["f0"], t["f1"]], axis=1), "class": t["class"]}
    path = _write(tmp_path, cols, fmt)
    ds = load_file_dataset({"path": path, "x_key": "x", "features": ["a0", "a1"]}, seed=0)
    assert ds.feature_names == ("a0", "a1") and ds.n_classes == 3
    with pytest.raises(DataError, match=r"x_key 'x' has 2 columns but dataset.options.features names 3"):
        load_file_dataset({"path": path, "x_key": "x", "features": ["a", "b", "c"]}, seed=0)
    bad = {"x": t["f0"], "class": t["class"]}
    path = _write(tmp_path, bad, fmt)
    with pytest.raises(DataError, match=r"x_key 'x' must be a 2-D array"):
        load_file_dataset({"path": path, "x_key": "x"}, seed=0)


def test_non_numeric_feature_and_missing_labels(tmp_path):
    cols = _table()
    cols["f1"] = np.array(["x"] * 60)
    path = _write(tmp_path, cols, "csv")
    with pytest.raises(DataError, match=r"feature 'f1' is not numeric"):
        load_file_dataset({"path": path, "features": ["f0", "f1"]}, seed=0)
    cols = _table()
    cols["class"] = np.where(np.arange(60) == 9, np.nan, np.arange(60) % 2).astype(float)
    path = _write(tmp_path, cols, "parquet")
    with pytest.raises(DataError, match=r"label is NaN/inf at row 9"):
        load_file_dataset({"path": path}, seed=0)


def test_numeric_labels_sort_as_numbers(tmp_path):
    cols = _table(n=90)
    cols["class"] = np.array([2, 10, 1])[np.arange(90) % 3]
    ds = load_file_dataset({"path": _write(tmp_path, cols, "npz")}, seed=0)
    assert ds.class_names == ("1", "2", "10")


def test_single_class_and_too_few_rows(tmp_path):
    cols = _table()
    cols["class"] = np.array(["a"] * 60)
    with pytest.raises(DataError, match="at least 2 classes"):
        load_file_dataset({"path": _write(tmp_path, cols, "csv")}, seed=0)
    small = {k: v[:6] for k, v in _table().items()}
    with pytest.raises(DataError, match="too few to split"):
        load_file_dataset({"path": _write(tmp_path, small, "npz")}, seed=0)


def test_option_errors_name_the_key(tmp_path):
    path = _write(tmp_path, _table(), "csv")
    with pytest.raises(ConfigError, match=r"dataset.options.path: is required"):
        load_file_dataset({}, seed=0)
    with pytest.raises(ConfigError, match=r"dataset.options.lable: unknown key; did you mean 'label'"):
        load_file_dataset({"path": path, "lable": "class"}, seed=0)
    with pytest.raises(ConfigError, match=r"dataset.options.test_fraction"):
        load_file_dataset({"path": path, "test_fraction": 0.9}, seed=0)
    with pytest.raises(ConfigError, match=r"dataset.options.features\[1\]"):
        load_file_dataset({"path": path, "features": ["f0", 3]}, seed=0)
    with pytest.raises(DataError, match=r"does not exist"):
        load_file_dataset({"path": str(tmp_path / "nope.csv")}, seed=0)
    other = tmp_path / "data.txt"
    other.write_text("f0,class\n1,a\n")
    with pytest.raises(ConfigError, match=r"dataset.options.format: cannot tell the format"):
        load_file_dataset({"path": str(other)}, seed=0)


def test_registry_routes_file_datasets(tmp_path):
    from nas.datasets import load_dataset
    ds = load_dataset("file", {"path": _write(tmp_path, _table(), "parquet")}, seed=1)
    assert ds.name == "data" and ds.n_features == 3
