"""Pruning-aware QAT and the hardware-cost penalty: they do what they claim, bit-exactly.

Same digits16 data as test_training (16 features, 5 classes, seconds per fit).
"""

from dataclasses import replace

import numpy as np
import pytest

from qnas.artifacts import TrialArtifacts
from qnas.fixed_point import reference_forward
from qnas.spec import ModelSpec, Quantizer, SpecError

pytest.importorskip("qkeras")
pytest.importorskip("tensorflow_model_optimization")
from nas import cost_penalty  # noqa: E402
from nas._trial import network_key  # noqa: E402
from nas.training import TrainingConfig, load_trained, save_trained, train_candidate  # noqa: E402

from test_training import U, digits16, mlp  # noqa: E402

CONFIG = TrainingConfig(epochs=6, batch_size=64, learning_rate=1e-2, patience=2, seed=1)


@pytest.fixture(scope="module")
def data():
    return digits16()


def _sparse(spec: ModelSpec, sparsity: float) -> ModelSpec:
    return replace(spec, layers=tuple(replace(layer, sparsity=sparsity) for layer in spec.layers))


def _with_penalty(spec: ModelSpec, weight: float) -> ModelSpec:
    return replace(spec, metadata={"training": {"cost_penalty": weight}})


def _zero_fraction(weights) -> list[float]:
    return [float(np.mean(lw.kernel == 0)) for lw in weights]


@pytest.mark.parametrize("weight", [Quantizer.fixed(6, 0), pytest.param(Quantizer.ternary(), marks=pytest.mark.slow)])
def test_pruning_reaches_the_target_and_the_stripped_model_is_the_numpy_reference(data, weight, tmp_path):
    spec = _sparse(mlp((32, 16), weight), 0.75)
    trained = train_candidate(spec, data, CONFIG)
    # every layer has at least its target share of exact zeros (quantization may add more)
    for name, zero in zip([l.name for l in spec.layers], _zero_fraction(trained.weights)):
        assert zero >= 0.75 - 1e-9, (name, zero)
    # the model that leaves training is plain QKeras: no pruning wrappers
    assert [l.name for l in trained.model.layers if "prune" in l.name] == []
    assert {type(trained.model.get_layer(l.name)).__name__ for l in spec.layers} == {"QDense"}
    x = data.x_test[:300].astype(np.float32)
    np.testing.assert_array_equal(reference_forward(spec, trained.weights, x),
                                  trained.model.predict(x, verbose=0))
    # what is saved is what was checked (HDF5 reloads with QKeras alone, zeros intact)
    art = TrialArtifacts(tmp_path / "t")
    save_trained(trained, art, data, n_vectors=50)
    spec2, model2, weights2 = load_trained(art)
    assert spec2 == spec and spec2.layers[0].sparsity == 0.75
    np.testing.assert_array_equal(model2.predict(x, verbose=0), trained.model.predict(x, verbose=0))
    assert _zero_fraction(weights2) == _zero_fraction(trained.weights)
    assert trained.metrics["accuracy"] > 0.4  # still learns (chance is 0.2)


@pytest.mark.slow
def test_pruned_training_does_not_stop_before_the_sparsity_ramp_ends(data):
    spec = _sparse(mlp((16,), Quantizer.fixed(6, 0)), 0.5)
    trained = train_candidate(spec, data, replace(CONFIG, epochs=9, patience=1))
    assert trained.epochs_run >= 3 + 1  # ramp of 9 // 3 epochs, then at least one watched epoch


def test_cost_penalty_reduces_nonzero_weights_and_the_proxy(data):
    spec = mlp((32, 16), Quantizer.fixed(6, 0))
    plain = train_candidate(spec, data, CONFIG)
    penalised = train_candidate(_with_penalty(spec, 3e-4), data, CONFIG)
    scales = cost_penalty.layer_scales(spec)
    cost = lambda t: cost_penalty.quantized_cost([lw.kernel for lw in t.weights], scales)  # noqa: E731
    nonzero = lambda t: sum(int(np.count_nonzero(lw.kernel)) for lw in t.weights)  # noqa: E731
    assert nonzero(penalised) < 0.8 * nonzero(plain)
    assert cost(penalised) < 0.8 * cost(plain)
    x = data.x_test[:300].astype(np.float32)
    np.testing.assert_array_equal(reference_forward(penalised.spec, penalised.weights, x),
                                  penalised.model.predict(x, verbose=0))


def test_proxy_is_zero_for_zero_weights_and_counts_digits_times_input_bits():
    spec = mlp((4,), Quantizer.fixed(6, 0), act=U(4, 2))
    scales = cost_penalty.layer_scales(spec)
    assert scales == [(2.0 ** -5, 8.0), (2.0 ** -5, 4.0)]
    k0, k1 = np.zeros((16, 4)), np.zeros((4, 5))
    assert cost_penalty.quantized_cost([k0, k1], scales) == 0.0
    k1[0, 0] = 3 * 2.0 ** -5  # |w| = 3 LSB: log2(4) = 2 digits of a 4-bit input
    assert cost_penalty.quantized_cost([k0, k1], scales) == pytest.approx(8.0)
    tf_value = float(cost_penalty.hardware_cost([k0.astype(np.float32), k1.astype(np.float32)], scales))
    assert tf_value == pytest.approx(8.0)
    # binary weights can never be zero: no penalty on them
    assert cost_penalty.layer_scales(mlp((4,), Quantizer.binary()))[0][1] == 0.0


def test_penalty_and_sparsity_make_different_networks_for_the_study():
    spec = mlp((16,), Quantizer.fixed(6, 0))
    keys = {network_key(spec), network_key(_sparse(spec, 0.5)), network_key(_with_penalty(spec, 1e-4))}
    assert len(keys) == 3


def test_sparsity_is_in_the_spec_json_only_when_set():
    spec = mlp((16,), Quantizer.fixed(6, 0))
    assert "sparsity" not in spec.to_json()
    sparse = _sparse(spec, 0.5)
    assert ModelSpec.from_json(sparse.to_json()) == sparse and sparse.fingerprint() != spec.fingerprint()
    with pytest.raises(SpecError, match="sparsity"):
        _sparse(spec, 1.0)
    with pytest.raises(SpecError, match="binary"):
        _sparse(mlp((16,), Quantizer.binary()), 0.5)
