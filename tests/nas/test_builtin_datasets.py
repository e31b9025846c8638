"""The offline datasets and the dataset registry."""

import numpy as np
import pytest

from nas.datasets import DATASETS, check_dataset_name, get_loader, load_dataset
from qnas.errors import ConfigError


def test_digits_split_is_stratified_seeded_and_scaled_on_train_only():
    d = load_dataset("digits", {}, seed=0)
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (1077, 360, 360)
    assert d.n_features == 64 and d.n_classes == 10 and d.task == "classification"
    assert np.allclose(d.x_train.mean(axis=0), 0, atol=1e-5)
    assert not np.allclose(d.x_test.mean(axis=0), 0, atol=1e-5)  # test stats were not used
    assert set(np.bincount(d.y_val)) <= {35, 36, 37}  # stratified: ~36 per class
    again = load_dataset("digits", {}, seed=0)
    other = load_dataset("digits", {}, seed=1)
    assert np.array_equal(d.x_train, again.x_train) and not np.array_equal(d.x_train, other.x_train)


def test_digits_anomaly_trains_on_normal_digits_only():
    d = load_dataset("digits-anomaly", {"normal_classes": [0, 1]}, seed=0)
    assert d.task == "autoencoder" and d.y_train is None
    assert set(np.unique(d.y_val)) == {0, 1} and set(np.unique(d.y_test)) == {0, 1}
    n_normal = int((np.isin(np.arange(10), [0, 1])).sum())
    assert len(d.x_train) < 1797 * n_normal / 10  # only normal events train
    assert d.y_test.mean() > 0.5  # eight anomalous digits vs two normal


def test_bad_options_name_the_key():
    with pytest.raises(ConfigError) as err:
        load_dataset("digits", {"val_fraction": 0.9}, seed=0)
    assert err.value.path == "dataset.options.val_fraction"
    with pytest.raises(ConfigError) as err:
        load_dataset("digits", {"test_frac": 0.1}, seed=0)
    assert "did you mean 'test_fraction'?" in str(err.value)
    with pytest.raises(ConfigError, match="no anomalies"):
        load_dataset("digits-anomaly", {"normal_classes": list(range(10))}, seed=0)


def test_registry_lists_every_dataset_and_resolves_lazily():
    assert set(DATASETS) == {"digits", "digits-anomaly", "jets-openml", "jets", "anomaly-l1", "file"}
    for name in DATASETS:
        assert callable(get_loader(name))
    with pytest.raises(ConfigError) as err:
        check_dataset_name("jet")
    assert err.value.path == "dataset.name" and "did you mean 'jets'?" in str(err.value)
    assert "digits-anomaly, file, jets, jets-openml" in str(err.value)
