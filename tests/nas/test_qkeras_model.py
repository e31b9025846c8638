"""The QKeras model built from a spec, its extracted weights, and the NumPy golden model."""

import numpy as np
import pytest

from qnas.errors import UnsupportedSpec
from qnas.fixed_point import float32_exact, quantize_array, reference_forward
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer

pytest.importorskip("qkeras")
from nas.qkeras_model import (build_qkeras_model, extract_weights, load_qkeras_model,  # noqa: E402
                              qkeras_quantizer)

U = lambda bits, integer: Quantizer.fixed(bits, integer, signed=False)  # noqa: E731


def mlp(widths, weight, act=U(6, 2), inp=Quantizer.fixed(8, 3), bias=None, task="classification"):
    layers = []
    for i, units in enumerate(widths[1:]):
        last = i == len(widths) - 2
        layers.append(DenseLayerSpec(f"fc{i + 1}", units, weight, bias or Quantizer.fixed(8, 3),
                                     None if last else act))
    return ModelSpec(widths[0], inp, tuple(layers), task=task)


SPECS = {
    "fixed6": mlp((16, 32, 16, 5), Quantizer.fixed(6, 0)),
    "ternary": mlp((16, 24, 5), Quantizer.ternary(), act=U(4, 2)),
    "binary": mlp((16, 24, 5), Quantizer.binary(), act=U(3, 1), bias=Quantizer.binary()),
    "mixed": ModelSpec(10, Quantizer.fixed(6, 2), (
        DenseLayerSpec("enc", 8, Quantizer.fixed(4, 1), Quantizer.fixed(6, 2), Quantizer.ternary()),
        DenseLayerSpec("mid", 6, Quantizer.binary(), Quantizer.fixed(5, 1), U(5, 3)),
        DenseLayerSpec("out", 10, Quantizer.fixed(8, 1), Quantizer.fixed(8, 2), None)), task="autoencoder"),
}


def randomize(model, seed):
    """Spread the weights over the whole quantizer range so every corner is exercised."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.uniform(-1.6, 1.6, w.shape).astype(np.float32))


def stress_inputs(spec, n, seed):
    rng = np.random.default_rng(seed)
    q = spec.input_quantizer
    raw = rng.normal(0, 2.0 ** q.integer, (n, spec.n_inputs))
    ties = (np.round(raw / q.step) + 0.5) * q.step  # exactly halfway between grid points
    far = raw * 6  # well beyond saturation
    return np.concatenate([raw, ties, far]).astype(np.float32)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_reference_forward_equals_qkeras_predict_bit_for_bit(name):
    spec = SPECS[name]
    assert float32_exact(spec)
    model = build_qkeras_model(spec, seed=1)
    randomize(model, seed=len(name))
    weights = extract_weights(model, spec)
    x = stress_inputs(spec, 1500, seed=3)
    predicted = model.predict(x, batch_size=1024, verbose=0).astype(np.float64)
    ours = reference_forward(spec, weights, x)
    np.testing.assert_array_equal(ours, predicted)
    # on inputs already quantized to the input format (what the firmware sees) as well
    xq = quantize_array(x, spec.input_quantizer).astype(np.float32)
    np.testing.assert_array_equal(reference_forward(spec, weights, xq),
                                  model.predict(xq, batch_size=1024, verbose=0))


def test_model_layout_names_and_quantizers():
    spec = SPECS["mixed"]
    model = build_qkeras_model(spec)
    names = [layer.name for layer in model.layers]
    assert names == ["inputs", "input_q", "enc", "enc_act", "mid", "mid_act", "out"]
    assert str(model.get_layer("enc").kernel_quantizer_internal) == "quantized_bits(4,1,0,alpha=1)"
    assert str(model.get_layer("mid").kernel_quantizer_internal) == "binary(alpha=1)"
    assert str(model.get_layer("enc_act").quantizer) == "ternary(alpha=1)"
    assert str(model.get_layer("mid_act").quantizer) == "quantized_relu(5,3)"
    assert model.output_shape == (None, 10)


def test_extracted_weights_are_quantized_and_seed_reproducible():
    spec = SPECS["ternary"]
    a = extract_weights(build_qkeras_model(spec, seed=5), spec)
    b = extract_weights(build_qkeras_model(spec, seed=5), spec)
    c = extract_weights(build_qkeras_model(spec, seed=6), spec)
    assert set(np.unique(a[0].kernel)) <= {-1.0, 0.0, 1.0}
    np.testing.assert_array_equal(a[0].kernel, b[0].kernel)
    assert not np.array_equal(a[0].kernel, c[0].kernel)


@pytest.mark.parametrize("q, role, match", [
    (Quantizer.fixed(6, -1), "weight", "integer=-1"),
    (Quantizer.fixed(28, 4), "bias", "float32"),
    (U(6, 0), "weight", "signed"),
])
def test_unbuildable_quantizers_are_refused_with_the_field(q, role, match):
    with pytest.raises(UnsupportedSpec, match=match):
        qkeras_quantizer(q, role, "fc1.weight")
    spec = ModelSpec(4, Quantizer.fixed(8, 3), (DenseLayerSpec("fc1", 2, q if role == "weight" else Quantizer.fixed(6, 0),
                                                               q if role == "bias" else Quantizer.fixed(6, 0), None),))
    with pytest.raises(UnsupportedSpec, match="fc1"):
        build_qkeras_model(spec)


def test_layer_name_clash_is_refused():
    spec = ModelSpec(4, Quantizer.fixed(8, 3), (
        DenseLayerSpec("a", 3, Quantizer.fixed(6, 0), Quantizer.fixed(6, 0), U(6, 2)),
        DenseLayerSpec("a_act", 2, Quantizer.fixed(6, 0), Quantizer.fixed(6, 0), None)))
    with pytest.raises(UnsupportedSpec, match="a_act"):
        build_qkeras_model(spec)


def test_save_and_load_keeps_outputs(tmp_path):
    spec = SPECS["binary"]
    model = build_qkeras_model(spec, seed=2)
    randomize(model, seed=9)
    path = tmp_path / "model.h5"
    model.save(path)
    loaded = load_qkeras_model(path)
    x = stress_inputs(spec, 200, seed=1)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_array_equal(extract_weights(loaded, spec)[1].kernel, extract_weights(model, spec)[1].kernel)
    with pytest.raises(FileNotFoundError):
        load_qkeras_model(tmp_path / "missing.h5")
