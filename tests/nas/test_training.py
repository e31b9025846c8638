"""Quantization-aware training: quantized weights, reproducibility, artifacts, failure modes.

Data: sklearn's digits, pooled 8x8 -> 4x4 (16 features) and cut to 5 classes, so the
models are L1-trigger sized (16-...-5) and a 2-epoch fit takes a few seconds.
"""

import json

import numpy as np
import pytest

from qnas.artifacts import TrialArtifacts
from qnas.data import Dataset
from qnas.errors import CandidateFailed, ConfigError
from qnas.fixed_point import reference_forward
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer

pytest.importorskip("qkeras")
from nas.metrics import autoencoder_metrics, classification_metrics  # noqa: E402
from nas.training import TrainingConfig, load_trained, save_trained, train_candidate  # noqa: E402

U = lambda bits, integer: Quantizer.fixed(bits, integer, signed=False)  # noqa: E731


def digits16(n_classes=5, max_rows=None) -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    keep = d.target < n_classes
    x = d.images[keep].reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(-1, 16) / 8.0  # [0, 2]
    y = d.target[keep].astype(np.int64)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))[:max_rows]
    x, y = x[order], y[order]
    n = len(y)
    a, b = int(0.6 * n), int(0.8 * n)
    return Dataset("digits16", "classification", x[:a], y[:a], x[a:b], y[a:b], x[b:], y[b:],
                   tuple(f"px{i}" for i in range(16)), tuple(str(c) for c in range(n_classes))).validate()


def mlp(hidden, weight, act=U(6, 2), bias=Quantizer.fixed(8, 3), n_out=5):
    layers = [DenseLayerSpec(f"fc{i + 1}", u, weight, bias, act) for i, u in enumerate(hidden)]
    layers.append(DenseLayerSpec("output", n_out, weight, bias, None))
    return ModelSpec(16, Quantizer.fixed(8, 2), tuple(layers))


FAST = TrainingConfig(epochs=2, batch_size=64, learning_rate=1e-2, seed=3)


@pytest.fixture(scope="module")
def data():
    return digits16()


@pytest.mark.parametrize("weight, allowed", [
    (Quantizer.ternary(), {-1.0, 0.0, 1.0}),
    (Quantizer.binary(), {-1.0, 1.0}),
])
def test_ternary_and_binary_training_yields_only_those_values(data, weight, allowed):
    spec = mlp((16,), weight)
    trained = train_candidate(spec, data, FAST)
    for lw in trained.weights:
        assert set(np.unique(lw.kernel).tolist()) <= allowed
    # the model computes with exactly these values: firmware golden model == QKeras
    x = data.x_test[:300].astype(np.float32)
    np.testing.assert_array_equal(reference_forward(spec, trained.weights, x),
                                  trained.model.predict(x, verbose=0))
    # and it learned something (chance is 0.2)
    assert trained.metrics["accuracy"] > 0.4
    assert trained.epochs_run == 2 and len(trained.history["loss"]) == 2


def test_fixed_point_weights_lie_on_their_grid_and_learn(data):
    spec = mlp((32, 16), Quantizer.fixed(6, 0))
    trained = train_candidate(spec, data, TrainingConfig(epochs=4, batch_size=64, learning_rate=1e-2))
    for lw in trained.weights:
        k = lw.kernel * 32  # fixed<6,0>: step 2^-5, range [-1, 31/32]
        np.testing.assert_array_equal(k, np.round(k))
        assert lw.kernel.min() >= -1.0 and lw.kernel.max() <= 31 / 32
    assert len(np.unique(trained.weights[0].kernel)) > 8  # uses the grid, not a few values
    assert trained.metrics["accuracy"] > 0.8
    assert set(trained.metrics) == {"accuracy", "roc_auc", "loss"}
    assert trained.metrics["roc_auc"] > 0.9


def test_same_seed_gives_identical_weights_other_seed_differs(data):
    spec = mlp((16,), Quantizer.fixed(6, 0))
    a = train_candidate(spec, data, FAST)
    b = train_candidate(spec, data, FAST)
    c = train_candidate(spec, data, TrainingConfig(epochs=2, batch_size=64, learning_rate=1e-2, seed=4))
    for la, lb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(la.kernel, lb.kernel)
        np.testing.assert_array_equal(la.bias, lb.bias)
    assert a.history == b.history
    assert not np.array_equal(a.weights[0].kernel, c.weights[0].kernel)
    # trained, not constant: the weights use many grid points and fit the data
    assert len(np.unique(a.weights[0].kernel)) > 8 and a.metrics["accuracy"] > 0.3


def test_save_load_round_trip(data, tmp_path):
    spec = mlp((16,), Quantizer.fixed(6, 0))
    trained = train_candidate(spec, data, FAST)
    art = TrialArtifacts.for_trial(tmp_path, 7)
    save_trained(trained, art, data, n_vectors=50)
    assert art.exists()
    assert not [p.name for p in art.root.iterdir() if ".tmp" in p.name]
    spec2, model2, weights2 = load_trained(art)
    assert spec2 == spec
    for la, lb in zip(trained.weights, weights2):
        np.testing.assert_array_equal(la.kernel, lb.kernel)
    with np.load(art.test_vectors) as tv:
        assert tv["x"].shape == (50, 16) and tv["y_qkeras"].shape == (50, 5)
        np.testing.assert_array_equal(tv["y_true"], data.y_test[:50])
        np.testing.assert_array_equal(model2.predict(tv["x"].astype(np.float32), verbose=0), tv["y_qkeras"])
        np.testing.assert_array_equal(reference_forward(spec2, weights2, tv["x"]), tv["y_qkeras"])
    summary = json.loads(art.metrics.read_text())
    assert summary["test"]["accuracy"] == pytest.approx(trained.metrics["accuracy"])
    assert summary["epochs_run"] == 2 and summary["training"]["seed"] == 3
    art.spec.unlink()
    with pytest.raises(FileNotFoundError, match="spec.json"):
        load_trained(art)


def test_nan_inputs_make_the_candidate_fail(data):
    x = data.x_train.copy()
    x[5, 3] = np.nan  # bypasses Dataset.validate on purpose: this is what divergence looks like
    bad = Dataset("bad", "classification", x, data.y_train, data.x_val, data.y_val, data.x_test,
                  data.y_test, data.feature_names, data.class_names)
    with pytest.raises(CandidateFailed, match="diverged"):
        train_candidate(mlp((8,), Quantizer.fixed(6, 0)), bad, FAST)


def test_autoencoder_trains_on_normal_events_and_scores_anomalies():
    rng = np.random.default_rng(1)
    normal = rng.normal(0, 0.3, (1200, 2)) @ rng.normal(0, 1, (2, 8))  # rank-2 structure
    odd = rng.normal(0, 1.0, (300, 8))
    x = np.concatenate([normal, odd])
    y = np.concatenate([np.zeros(1200, np.int64), np.ones(300, np.int64)])
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    ds = Dataset("toy_ad", "autoencoder", x[:900], y[:900], x[900:1200], y[900:1200], x[1200:], y[1200:],
                 tuple(f"f{i}" for i in range(8)))
    spec = ModelSpec(8, Quantizer.fixed(8, 2), (
        DenseLayerSpec("enc", 4, Quantizer.fixed(8, 1), Quantizer.fixed(8, 2), U(8, 3)),
        DenseLayerSpec("dec", 8, Quantizer.fixed(8, 1), Quantizer.fixed(8, 2), None)), task="autoencoder")
    trained = train_candidate(spec, ds, TrainingConfig(epochs=8, batch_size=32, learning_rate=1e-2))
    assert set(trained.metrics) == {"recon_mse", "loss", "roc_auc"}
    assert trained.metrics["roc_auc"] > 0.7


def test_max_seconds_stops_training(data):
    trained = train_candidate(mlp((16,), Quantizer.fixed(6, 0)), data,
                              TrainingConfig(epochs=50, batch_size=16, max_seconds=0.5))
    assert trained.stop_reason == "max_seconds"
    assert trained.epochs_run < 50


def test_extra_callbacks_run_and_can_stop_training(data):
    tf_keras = pytest.importorskip("tf_keras")

    class StopAfterOne(tf_keras.callbacks.Callback):
        seen = 0

        def on_epoch_end(self, epoch, logs=None):
            StopAfterOne.seen += 1
            self.model.stop_training = True

    trained = train_candidate(mlp((8,), Quantizer.fixed(6, 0)), data,
                              TrainingConfig(epochs=5, batch_size=64), callbacks=[StopAfterOne()])
    assert StopAfterOne.seen == 1 and trained.epochs_run == 1 and trained.stop_reason == "callback"


@pytest.mark.parametrize("kwargs, key", [
    ({"epochs": 0}, "training.epochs"), ({"batch_size": 2.5}, "training.batch_size"),
    ({"learning_rate": -1}, "training.learning_rate"), ({"max_seconds": 0}, "training.max_seconds"),
    ({"patience": True}, "training.patience"), ({"seed": -2}, "training.seed"),
])
def test_training_config_names_the_bad_field(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        TrainingConfig(**kwargs)
    with pytest.raises(ConfigError, match="training.epoch"):
        TrainingConfig.from_dict({"epoch": 3})


def test_spec_dataset_mismatch_is_a_config_error(data):
    spec = ModelSpec(16, Quantizer.fixed(8, 2), (DenseLayerSpec("out", 3, Quantizer.fixed(6, 0),
                                                                Quantizer.fixed(6, 0), None),))
    with pytest.raises(ConfigError, match="3 outputs"):
        train_candidate(spec, data, FAST)


def test_metric_functions():
    logits = np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    m = classification_metrics(np.array([0, 1, 1, 1]), logits)
    assert m["accuracy"] == 0.75 and m["roc_auc"] == pytest.approx(1.0)
    expected_loss = np.mean([np.log1p(np.exp(-2)), np.log1p(np.exp(-3)), np.log1p(np.exp(1)), np.log1p(np.exp(-1))])
    assert m["loss"] == pytest.approx(expected_loss)
    a = autoencoder_metrics(np.zeros((3, 2)), np.array([[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]), np.array([0, 0, 1]))
    assert a["recon_mse"] == 0.5 and a["roc_auc"] == 1.0


@pytest.mark.slow
def test_l1_sized_6bit_model_reaches_good_accuracy(data):
    spec = mlp((64, 32, 32), Quantizer.fixed(6, 0))
    trained = train_candidate(spec, data, TrainingConfig(epochs=30, batch_size=64, learning_rate=3e-3))
    assert trained.metrics["accuracy"] > 0.93
    assert trained.stop_reason in ("early_stopping", "max_epochs")
    x = data.x_test.astype(np.float32)
    np.testing.assert_array_equal(reference_forward(spec, trained.weights, x), trained.model.predict(x, verbose=0))


def test_nan_validation_data_also_fails(data):
    x_val = data.x_val.copy()
    x_val[0, 0] = np.inf
    bad = Dataset("bad_val", "classification", data.x_train, data.y_train, x_val, data.y_val, data.x_test,
                  data.y_test, data.feature_names, data.class_names)
    with pytest.raises(CandidateFailed, match="val_loss"):
        train_candidate(mlp((8,), Quantizer.fixed(6, 0)), bad, FAST)
