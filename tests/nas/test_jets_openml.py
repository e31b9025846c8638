"""OpenML 42468 loader: fetch through scikit-learn once, then a local cache; offline messages."""

import urllib.error

import numpy as np
import pandas as pd
import pytest

import sklearn.datasets
from nas.datasets.jets import CLASS_NAMES, FEATURE_NAMES, load_openml_jets
from nas.datasets.jets import openml as openml_mod
from qnas.errors import ConfigError, DataError


def _frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    data = {name: rng.normal(loc=i, size=n) for i, name in enumerate(FEATURE_NAMES)}
    labels = np.array(CLASS_NAMES)[np.arange(n) % 5]
    data["mass_mmdt"] = np.where(labels == "t", 173.0, 80.0) + rng.normal(size=n)
    frame = pd.DataFrame(data)
    frame["class"] = pd.Categorical(labels)
    return frame


class _Bunch:
    def __init__(self, frame):
        self.frame = frame


def test_first_load_fetches_then_the_cache_serves_offline(tmp_path, monkeypatch):
    calls = []

    def fake_fetch(**kwargs):
        calls.append(kwargs)
        return _Bunch(_frame())

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fake_fetch)
    ds = load_openml_jets({"cache_dir": str(tmp_path)}, seed=0)
    assert calls and calls[0]["data_id"] == 42468
    assert calls[0]["data_home"] == str(tmp_path / "openml")
    assert ds.feature_names == FEATURE_NAMES and ds.class_names == CLASS_NAMES
    assert len(ds.x_test) == 40 and len(ds.x_val) == 40 and len(ds.x_train) == 120
    assert np.allclose(ds.x_train.mean(axis=0), 0, atol=1e-5)
    assert (tmp_path / "hls4ml_lhc_jets_hlf.npz").is_file()

    def offline(**kwargs):
        raise AssertionError("fetch_openml must not be called when the cache exists")

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", offline)
    again = load_openml_jets({"cache_dir": str(tmp_path)}, seed=0)
    assert np.array_equal(again.x_test, ds.x_test) and np.array_equal(again.y_test, ds.y_test)
    # label encoding follows g, q, t, w, z: the top class has the big mass
    mass_col = FEATURE_NAMES.index("mass_mmdt")
    raw_mass = np.load(tmp_path / "hls4ml_lhc_jets_hlf.npz")["x"][:, mass_col]
    assert raw_mass[2::5].mean() > 150  # rows 2, 7, ... are 't' in the fake frame
    top = CLASS_NAMES.index("t")
    assert ds.x_train[ds.y_train == top, mass_col].mean() > ds.x_train[ds.y_train != top, mass_col].mean()


def test_prepopulated_cache_and_max_rows(tmp_path, monkeypatch):
    frame = _frame(500)
    np.savez_compressed(tmp_path / "hls4ml_lhc_jets_hlf.npz", x=frame[list(FEATURE_NAMES)].to_numpy(),
                        labels=frame["class"].astype(str).to_numpy().astype("<U1"),
                        feature_names=np.array(FEATURE_NAMES))
    monkeypatch.setattr(sklearn.datasets, "fetch_openml",
                        lambda **kw: (_ for _ in ()).throw(AssertionError("no fetch expected")))
    ds = load_openml_jets({"cache_dir": str(tmp_path), "max_rows": 100}, seed=1)
    assert len(ds.x_train) + len(ds.x_val) + len(ds.x_test) == 100
    assert set(np.bincount(np.concatenate([ds.y_train, ds.y_val, ds.y_test])).tolist()) == {20}


def test_offline_and_uncached_says_how_to_get_it_and_what_to_run(tmp_path, monkeypatch):
    def unreachable(**kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", unreachable)
    with pytest.raises(DataError) as err:
        load_openml_jets({"cache_dir": str(tmp_path)}, seed=0)
    msg = str(err.value)
    assert "42468" in msg and str(tmp_path) in msg
    assert "fetch_openml_jets" in msg and "studies/jet_tagging_offline.yaml" in msg


def test_wrong_download_is_rejected(tmp_path, monkeypatch):
    frame = _frame().drop(columns=["zlogz"])
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", lambda **kw: _Bunch(frame))
    with pytest.raises(DataError, match=r"columns \['zlogz'\] are missing"):
        load_openml_jets({"cache_dir": str(tmp_path)}, seed=0)
    frame = _frame()
    frame["class"] = frame["class"].astype(str).replace("w", "W")
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", lambda **kw: _Bunch(frame))
    with pytest.raises(DataError, match=r"label values \['W'\]"):
        load_openml_jets({"cache_dir": str(tmp_path / "b")}, seed=0)


def test_bad_options_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"dataset.options.cache: unknown key; did you mean 'cache_dir'"):
        load_openml_jets({"cache": str(tmp_path)}, seed=0)
    with pytest.raises(ConfigError, match=r"dataset.options.max_rows"):
        load_openml_jets({"cache_dir": str(tmp_path), "max_rows": 0}, seed=0)


def test_default_cache_follows_qnas_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("QNAS_CACHE", str(tmp_path))
    assert openml_mod.default_cache_dir() == tmp_path / "datasets"
