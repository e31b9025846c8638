"""qnas.fixed_point must replay QKeras' float32 quantizer arithmetic bit for bit.

Fast tests call the QKeras quantizer objects directly on arrays that stress the corners:
rounding ties (half-to-even), values just beside the ties, saturation on both sides,
huge values where QKeras' straight-through arithmetic loses the quantized value, -0, inf
and NaN.
"""

import numpy as np
import pytest

from qnas.fixed_point import (TERNARY_THRESHOLD, accumulator_bits, float32_exact, quantize_array,
                              reference_forward)
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
from qnas.weights import LayerWeights, ModelWeights, is_representable

qkeras = pytest.importorskip("qkeras")  # noqa: E402  (imported after TF_USE_LEGACY_KERAS is set)

FORMATS = [
    Quantizer.fixed(6, 0), Quantizer.fixed(6, 2), Quantizer.fixed(8, 3), Quantizer.fixed(4, 0),
    Quantizer.fixed(2, 0), Quantizer.fixed(16, 6), Quantizer.fixed(10, 10), Quantizer.fixed(24, 4),
    Quantizer.fixed(6, 0, signed=False), Quantizer.fixed(6, 2, signed=False),
    Quantizer.fixed(8, 3, signed=False), Quantizer.fixed(3, 1, signed=False),
    Quantizer.fixed(16, 6, signed=False), Quantizer.fixed(2, 2, signed=False),
    Quantizer.ternary(), Quantizer.binary(),
]


def qkeras_object(q: Quantizer):
    if q.kind == "ternary":
        return qkeras.ternary(alpha=1)
    if q.kind == "binary":
        return qkeras.binary(alpha=1)
    if q.signed:
        return qkeras.quantized_bits(q.bits, q.integer, keep_negative=1, alpha=1)
    return qkeras.quantized_relu(q.bits, q.integer)


def stress_values(q: Quantizer, n_random: int = 4000) -> np.ndarray:
    rng = np.random.default_rng(q.bits * 31 + q.integer)
    span = 2.0 ** max(q.integer, 0) if q.kind == "fixed" else 1.0
    step = q.step
    grid = np.arange(-2 * span, 2 * span + step, step)
    ties = grid + step / 2
    f32 = np.float32
    beside = np.concatenate([np.nextafter(ties.astype(f32), f32(np.inf)),
                             np.nextafter(ties.astype(f32), f32(-np.inf))])
    special = np.array([0.0, -0.0, 0.33, -0.33, float(TERNARY_THRESHOLD), 0.3299999, 0.5, -0.5,
                        1.0, -1.0, 1e-30, -1e-30, 3.0, -3.0, 100.0, -100.0, 1e6, -1e6, 1e9, -1e9,
                        3e38, -3e38, np.inf, -np.inf, np.nan])
    rand = rng.normal(0.0, span, n_random)
    return np.concatenate([grid, ties, beside, special, rand]).astype(np.float32)


@pytest.mark.parametrize("q", FORMATS, ids=lambda q: q.label + ("" if q.signed else "u"))
def test_quantize_array_matches_qkeras_bit_for_bit(q):
    x = stress_values(q)
    tf = pytest.importorskip("tensorflow")
    expected = qkeras_object(q)(tf.constant(x)).numpy().astype(np.float64)
    got = quantize_array(x, q)
    same = (got == expected) | (np.isnan(got) & np.isnan(expected))
    assert same.all(), f"{q.label}: first mismatch at x={x[~same][0]!r}: ours {got[~same][0]}, qkeras {expected[~same][0]}"


@pytest.mark.parametrize("q", FORMATS, ids=lambda q: q.label + ("" if q.signed else "u"))
def test_in_range_results_are_on_the_grid(q):
    # beyond 2**24 steps QKeras' float32 straight-through sum loses the value (tested above)
    limit = min(4 * abs(q.min_value) + 4, 2.0 ** 23 * q.step)
    x = np.random.default_rng(0).uniform(-limit, limit, 5000)
    out = quantize_array(x, q)
    assert is_representable(out, q).all()


def test_rounding_is_half_to_even_and_saturates():
    q = Quantizer.fixed(4, 0)  # step 1/8, range [-1, 7/8]
    x = np.array([1 / 16, 3 / 16, -1 / 16, -3 / 16, 0.9, 5.0, -0.99, -5.0])
    np.testing.assert_array_equal(quantize_array(x, q), [0, 0.25, 0, -0.25, 0.875, 0.875, -1.0, -1.0])
    relu = Quantizer.fixed(4, 1, signed=False)  # step 1/8, range [0, 15/8]
    np.testing.assert_array_equal(quantize_array([-3.0, 1 / 16, 3 / 16, 1.9, 9.0], relu),
                                  [0, 0, 0.25, 1.875, 1.875])


def test_ternary_threshold_and_binary_zero():
    np.testing.assert_array_equal(quantize_array([0.33, 0.3299, -0.33, -0.2, 0.0, 7.0], Quantizer.ternary()),
                                  [1, 0, -1, 0, 0, 1])
    np.testing.assert_array_equal(quantize_array([0.0, -0.0, -1e-3, 2.0], Quantizer.binary()),
                                  [1, 1, -1, 1])


def test_huge_values_follow_qkeras_not_ideal_saturation():
    # QKeras' x + (xq - x) in float32 loses xq when |x| dwarfs it; the golden model must too.
    assert quantize_array([1e9], Quantizer.fixed(6, 0))[0] == 0.0
    assert quantize_array([100.0], Quantizer.fixed(6, 0))[0] == 0.96875


def _mlp(widths, weight, act, inp=Quantizer.fixed(8, 3), bias=None):
    layers = []
    for i, units in enumerate(widths[1:]):
        last = i == len(widths) - 2
        layers.append(DenseLayerSpec(f"dense_{i}", units, weight, bias or weight, None if last else act))
    return ModelSpec(widths[0], inp, tuple(layers))


def test_accumulator_bits_and_float32_exactness():
    spec = _mlp((16, 64, 32, 32, 5), Quantizer.fixed(6, 0), Quantizer.fixed(6, 2, signed=False))
    # layer 0: 16 inputs fixed<8,3> (4 frac, |x|<=8) * fixed<6,0> (5 frac, |w|<=1): grid 2^-9, bound 16*8+1
    assert accumulator_bits(spec)[0] == int(np.ceil(np.log2((16 * 8 + 1) * 2 ** 9 + 1)))
    assert float32_exact(spec)
    wide = _mlp((64, 64, 5), Quantizer.fixed(16, 4), Quantizer.fixed(16, 6, signed=False),
                inp=Quantizer.fixed(16, 6))
    assert not float32_exact(wide)


def test_reference_forward_shapes_and_validation():
    spec = _mlp((3, 4, 2), Quantizer.ternary(), Quantizer.fixed(4, 1, signed=False),
                bias=Quantizer.fixed(6, 1))
    w = ModelWeights([LayerWeights(np.ones((3, 4)), np.zeros(4)), LayerWeights(-np.ones((4, 2)), np.full(2, 0.5))])
    out = reference_forward(spec, w, np.array([[0.5, 0.25, 0.0]]))
    # hidden: relu-quantized 0.75 per unit (fixed<4,1>: step 1/8); output: -4*0.75 + 0.5
    np.testing.assert_array_equal(out, [[-2.5, -2.5]])
    with pytest.raises(ValueError, match="shape"):
        reference_forward(spec, w, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="dense_0.kernel"):
        reference_forward(spec, ModelWeights([LayerWeights(np.full((3, 4), 0.5), np.zeros(4)), w[1]]),
                          np.zeros((1, 3)))
