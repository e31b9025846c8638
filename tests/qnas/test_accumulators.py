"""One accumulator rule: exact ranges from the formats, or from the actual weights, read by every stage."""

import itertools

import numpy as np
import pytest

from qnas.fixed_point import MantissaRange, accumulator_ranges, quantizer_range, signed_width
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
from qnas.weights import LayerWeights, ModelWeights


def _grid(q: Quantizer) -> np.ndarray:
    r = quantizer_range(q)
    return np.arange(r.lo, r.hi + 1) * 2.0 ** -r.frac


def _spec(q_in, weight, bias, act=None, n_in=3, units=2):
    return ModelSpec(n_in, q_in, (DenseLayerSpec("out", units, weight, bias, act),))


def test_signed_width_is_the_narrowest_twos_complement_register():
    assert signed_width(0, 0) == 1 and signed_width(-1, 0) == 1
    assert signed_width(0, 1) == 2 and signed_width(-128, 127) == 8 and signed_width(-129, 0) == 9
    assert MantissaRange(-65536, 66032, 9).width == 18


@pytest.mark.parametrize("weight", [Quantizer.fixed(3, 0), Quantizer.ternary(), Quantizer.binary()])
def test_range_with_weights_holds_every_input_and_is_reached(weight):
    q_in, bias = Quantizer.fixed(3, 1), Quantizer.fixed(4, 1)
    spec = _spec(q_in, weight, bias)
    rng = np.random.default_rng(3)
    kernel = rng.choice(_grid(weight), size=(3, 2))
    b = rng.choice(_grid(bias), size=2)
    acc = accumulator_ranges(spec, ModelWeights([LayerWeights(kernel, b)]))[0]
    sums = np.array([np.array(x) @ kernel + b for x in itertools.product(_grid(q_in), repeat=3)])
    mantissas = sums * 2.0 ** acc.frac
    assert np.array_equal(mantissas, np.round(mantissas))
    assert mantissas.min() == acc.lo and mantissas.max() == acc.hi  # exact, not a bound


def test_weights_narrow_the_range_within_the_format_range():
    q = Quantizer.fixed(6, 0)
    spec = _spec(Quantizer.fixed(8, 3), q, q, n_in=16, units=8)
    kernel = np.full((16, 8), 2.0 ** -5)  # one LSB everywhere
    narrow = accumulator_ranges(spec, ModelWeights([LayerWeights(kernel, np.zeros(8))]))[0]
    wide = accumulator_ranges(spec)[0]
    assert wide.lo <= narrow.lo and narrow.hi <= wide.hi and narrow.width < wide.width

