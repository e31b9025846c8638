"""The precision plan: accumulators exact for every allowed input, and no wider than needed."""

import itertools

import numpy as np
import pytest

from hls_backend.hls4ml_precision import FixedType, exact_accumulators, plan_precisions
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer


def _values(q: Quantizer) -> np.ndarray:
    if q.kind == "ternary":
        return np.array([-1.0, 0.0, 1.0])
    if q.kind == "binary":
        return np.array([-1.0, 1.0])
    return np.arange(q.min_value, q.max_value + q.step / 2, q.step)


def _representable(values: np.ndarray, t: FixedType) -> bool:
    scaled = values * 2.0 ** t.fractional
    lo, hi = -(2 ** (t.width - 1)), 2 ** (t.width - 1) - 1
    return bool(np.all(scaled == np.round(scaled)) and scaled.min() >= lo and scaled.max() <= hi)


def _all_sums(n_in: int, q_in: Quantizer, layer: DenseLayerSpec) -> np.ndarray:
    """Every value x @ w + b can take, by brute force over each product's extremes."""
    products = np.unique(np.outer(_values(q_in), _values(layer.weight)))
    sums = {0.0}
    for _ in range(n_in):
        sums = {s + p for s in sums for p in products}
    return np.array(sorted(s + b for s in sums for b in _values(layer.bias)))


CASES = [
    (Quantizer.fixed(4, 1), Quantizer.fixed(3, 0), Quantizer.fixed(4, 2)),
    (Quantizer.fixed(4, 2, signed=False), Quantizer.ternary(), Quantizer.fixed(3, 1)),
    (Quantizer.fixed(3, 0, signed=False), Quantizer.binary(), Quantizer.fixed(5, 0)),
    (Quantizer.fixed(4, 3), Quantizer.fixed(4, 3), Quantizer.fixed(2, 0)),
]


@pytest.mark.parametrize("q_in,weight,bias", CASES, ids=["fixed", "ternary", "binary", "coarse-bias"])
def test_accumulator_holds_every_sum_and_is_tight(q_in, weight, bias):
    n_in = 3
    layer = DenseLayerSpec("out", 2, weight, bias, None)
    if q_in.signed:
        spec = ModelSpec(n_in, q_in, (layer,))
    else:  # unsigned values reach a layer through a hidden ReLU layer
        hidden = DenseLayerSpec("h", n_in, Quantizer.fixed(4, 1), Quantizer.fixed(4, 1), q_in)
        spec = ModelSpec(2, Quantizer.fixed(4, 1), (hidden, layer))
    acc = exact_accumulators(spec)[-1]
    sums = _all_sums(n_in, q_in, layer)
    assert _representable(sums, acc)
    narrower = FixedType(acc.width - 1, acc.integer - 1)  # one integer bit less
    coarser = FixedType(acc.width - 1, acc.integer)  # one fractional bit less
    assert not _representable(sums, narrower)
    assert not _representable(sums, coarser)


def test_hidden_linear_layer_passes_its_accumulator_range_on():
    q = Quantizer.fixed(4, 1)
    spec = ModelSpec(4, q, (DenseLayerSpec("a", 4, q, q, None), DenseLayerSpec("b", 2, q, q, None)))
    first, second = exact_accumulators(spec)
    # the second layer multiplies the first one's accumulator, not a 4-bit quantized value
    assert second.fractional == first.fractional + q.fractional
    assert second.width > first.width + q.bits


def test_plan_names_every_layer_with_spec_formats():
    spec = ModelSpec(16, Quantizer.fixed(8, 3), (
        DenseLayerSpec("dense_0", 32, Quantizer.fixed(6, 0), Quantizer.fixed(8, 3), Quantizer.fixed(6, 2, signed=False)),
        DenseLayerSpec("out", 5, Quantizer.ternary(), Quantizer.fixed(8, 3), None)))
    plan = plan_precisions(spec, input_layer="inputs")
    assert plan["inputs"] == {"result": "fixed<8,4>"}
    assert plan["input_q"] == {"result": "fixed<8,4,RND_CONV,SAT>"}
    assert plan["dense_0"]["weight"] == "fixed<6,1>" and plan["dense_0"]["bias"] == "fixed<8,4>"
    # 16 * 128 * 32 products at 2^-9 plus a 2^-4 bias: |sum| < 2^17 -> 18 bits, 9 fractional
    assert plan["dense_0"]["accum"] == plan["dense_0"]["result"] == "fixed<18,9>"
    assert plan["dense_0_act"] == {"result": "ufixed<6,2,RND_CONV,SAT>"}
    assert "weight" not in plan["out"]  # ternary keeps hls4ml's own encoding
    assert plan["out_linear"] == {"result": plan["out"]["result"]}


def test_part_aliases_resolve_and_non_xilinx_parts_are_refused():
    from hls_backend.hls4ml_convert import hls_part_name
    from qnas.errors import ConfigError

    assert hls_part_name("vu13p") == "xcvu13p-flga2577-2-e"
    assert hls_part_name("xcku115-flvb2104-2-e") == "xcku115-flvb2104-2-e"  # outside the catalogue
    with pytest.raises(ConfigError, match="Xilinx parts only"):
        hls_part_name("ecp5")


def test_estimate_and_hls4ml_plan_read_the_same_accumulator():
    from estimators._layer_stats import layer_stats

    act = Quantizer.fixed(6, 2, signed=False)
    spec = ModelSpec(16, Quantizer.fixed(8, 3), (
        DenseLayerSpec("a", 12, Quantizer.fixed(5, 1), Quantizer.fixed(8, 3), act),
        DenseLayerSpec("lin", 6, Quantizer.ternary(), Quantizer.fixed(6, 2), None),
        DenseLayerSpec("out", 4, Quantizer.fixed(4, 0), Quantizer.fixed(8, 3), None)))
    assert [s.acc_bits for s in layer_stats(spec)] == [t.width for t in exact_accumulators(spec)]
