"""Per-element formats (learned precision): spec, NumPy reference, tracer and estimator.

No TensorFlow: these networks are built by hand with the semantics HGQ2 exports.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from qnas.fixed_point import quantize_elements, reference_forward
from qnas.spec import DenseLayerSpec, ElementFormats, ModelSpec, Quantizer, SpecError
from qnas.weights import LayerWeights, ModelWeights


def test_quantize_elements_rounds_half_up_and_wraps():
    fmts = ElementFormats((1, 0, 1), (1, 1, 0), (1, 1, 0))
    x = np.array([[0.25, 0.25, -1.0],     # 0.25 -> 0.5 (half up), unsigned: 0.5, signed 1-bit i=0,f=0: -1
                  [2.0, 2.25, 0.4],       # 2.0 wraps in [-2, 2) -> -2; unsigned [0, 2): 2.5 -> 0.5; 0.4 -> 0
                  [-0.75, -0.5, 0.5]])    # -0.75 -> -0.5 (half up); unsigned wraps -0.5 -> 1.5; 0.5 -> 1 wraps -> -1
    got = quantize_elements(x, fmts)
    assert np.array_equal(got, [[0.5, 0.5, -1.0], [-2.0, 0.5, 0.0], [-0.5, 1.5, -1.0]])


def test_pruned_element_is_always_zero():
    fmts = ElementFormats((0, 0), (-3, 2), (2, 2))  # element 0: i=-3 < -f -> i=-2: 0 bits
    assert fmts.bits_of(0) == 0 and fmts.bits_of(1) == 4
    assert np.all(quantize_elements(np.array([[0.3, 1.0], [3.7, 0.1]]), fmts)[:, 0] == 0)


def test_element_formats_validate_and_round_trip():
    with pytest.raises(SpecError, match="one keep_negative/integer/fractional entry per element"):
        ElementFormats((1,), (1, 2), (3, 3))
    with pytest.raises(SpecError, match="keep_negative must be 0 or 1"):
        ElementFormats((2,), (1,), (3,))
    with pytest.raises(SpecError, match="rounding"):
        ElementFormats((1,), (1,), (3,), rounding="RNE")
    spec = _net()[0]
    back = ModelSpec.from_json(spec.to_json())
    assert back == spec and back.input_formats == spec.input_formats and back.heterogeneous
    assert back.fingerprint() == spec.fingerprint()
    wider = ElementFormats((1, 1, 1), (2, 2, 2), (3, 3, 4))
    from dataclasses import replace
    assert replace(spec, input_formats=wider).fingerprint() != spec.fingerprint()


def test_formats_must_match_the_widths():
    f3 = ElementFormats((0,) * 3, (1,) * 3, (2,) * 3)
    with pytest.raises(SpecError, match="activation_formats has 3 elements for 4 units"):
        DenseLayerSpec("d", 4, Quantizer.fixed(4, 0), Quantizer.fixed(4, 0), Quantizer.fixed(3, 1, signed=False),
                       activation_formats=f3)
    with pytest.raises(SpecError, match="needs an activation"):
        DenseLayerSpec("d", 3, Quantizer.fixed(4, 0), Quantizer.fixed(4, 0), None, activation_formats=f3)


def test_envelope_holds_every_element():
    fmts = ElementFormats((1, 1, 0), (2, -1, 3), (3, 5, 1))
    env = fmts.envelope(signed=True)
    assert env.integer == 3 and env.fractional == 5
    for j in range(3):
        k, i, f = fmts.kif(j)
        assert env.max_value >= 2.0 ** i - 2.0 ** -f and env.step <= 2.0 ** -f


def _net(seed=0, prune_input=False):
    """A 3-4-2 network with per-element formats and HGQ2-like sparse power-of-two weights."""
    rng = np.random.default_rng(seed)
    in_fmts = ElementFormats((1, 1, 1), (2, 1, 2), (3, 2, 4))
    if prune_input:  # element 1: k=0, i=max(-2, -1), f=1: 0 bits
        in_fmts = ElementFormats((1, 0, 1), (2, -2, 2), (3, 1, 4))
    act = ElementFormats((0, 0, 0, 0), (2, 1, 3, 0), (2, 3, 1, 4))
    k1 = rng.integers(-7, 8, (3, 4)) / 4.0
    k1[rng.random((3, 4)) < 0.3] = 0.0
    b1 = rng.integers(-4, 5, 4) / 8.0
    k2 = rng.integers(-15, 16, (4, 2)) / 8.0
    b2 = rng.integers(-4, 5, 2) / 4.0
    from nas.hgq2.convert import fixed_envelope
    layers = (DenseLayerSpec("dense_0", 4, fixed_envelope(k1), fixed_envelope(b1), act.envelope(False),
                             activation_formats=act),
              DenseLayerSpec("output", 2, fixed_envelope(k2), fixed_envelope(b2), None))
    spec = ModelSpec(3, in_fmts.envelope(True), layers, strategy="distributed_arithmetic", family="hgq2_mlp",
                     input_formats=in_fmts)
    weights = ModelWeights([LayerWeights(k1, b1), LayerWeights(k2, b2)])
    weights.check(spec)
    return spec, weights


def test_reference_forward_uses_the_element_formats():
    spec, w = _net()
    x = np.random.default_rng(1).normal(0, 2, (200, 3))
    h = quantize_elements(x, spec.input_formats) @ w[0].kernel + w[0].bias
    h = quantize_elements(np.maximum(h, 0), spec.layers[0].activation_formats)
    expected = h @ w[1].kernel + w[1].bias
    assert np.array_equal(reference_forward(spec, w, x), expected)
    # and differs from the uniform envelope's (QKeras) semantics: the formats are not ignored
    uniform = ModelSpec(3, spec.input_quantizer, tuple(
        DenseLayerSpec(l.name, l.units, l.weight, l.bias, l.activation) for l in spec.layers))
    assert not np.array_equal(reference_forward(uniform, w, x), expected)


@pytest.mark.parametrize("prune_input", [False, True])
def test_traced_network_computes_the_reference(prune_input):
    """The da4ml graph (what the RTL is written from) equals the NumPy reference, bit for bit."""
    pytest.importorskip("da4ml")
    from qnas.tracer import trace_network
    import da4ml.trace as da_trace

    spec, w = _net(prune_input=prune_input)
    inp, out = trace_network(spec, w, latency_cutoff=5.0)
    comb = da_trace.comb_trace(inp, out, keep_dead_inputs=True)
    x = quantize_elements(np.random.default_rng(2).normal(0, 3, (500, 3)), spec.input_formats)
    got = np.array([comb(row) for row in x], dtype=np.float64)
    assert np.array_equal(got, reference_forward(spec, w, x))


def test_estimator_reads_element_formats_without_tensorflow():
    code = ("import json, sys\nsys.path.insert(0, 'tests/qnas')\nfrom test_element_formats import _net\n"
            "import estimators\n"
            "spec, w = _net()\nspec_p, w_p = _net(prune_input=True)\n"
            "a = estimators.estimate(spec, weights=w, part='xcvu9p', clock_ns=5.0)\n"
            "b = estimators.estimate(spec_p, weights=w_p, part='xcvu9p', clock_ns=5.0)\n"
            "heavy = [m for m in ('tensorflow', 'qkeras', 'hls4ml') if m in sys.modules]\n"
            "print(json.dumps({'a': a.lut, 'b': b.lut, 'producer': a.producer, 'heavy': heavy}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["heavy"] == []
    assert res["producer"].endswith("trace")  # the trace tier: it saw the per-element formats
    assert 0 < res["b"] < res["a"]  # a pruned input feature costs nothing


def _net_with_a_dead_input():
    """The 3-4-2 net with input 0 wide (i=3, f=4) but read by nothing (its kernel row is zero)."""
    spec, w = _net()
    k1 = np.array(w[0].kernel, dtype=np.float64)
    k1[0, :] = 0.0
    k1[1:, 0] = np.where(k1[1:, 0] == 0, 0.25, k1[1:, 0])
    fmts = ElementFormats((1, 1, 1), (3, 1, 2), (4, 2, 1))
    from dataclasses import replace
    spec = replace(spec, input_formats=fmts, input_quantizer=fmts.envelope(True))
    weights = ModelWeights([LayerWeights(k1, w[0].bias), LayerWeights(w[1].kernel, w[1].bias)])
    weights.check(spec)
    return spec, weights


def test_a_dead_input_is_recorded_and_its_slot_encodes_any_value(tmp_path):
    """HGQ2 prunes whole features: their port slot is narrower than the spec's format, and any
    test vector (say row 1,001 of the test set) must still encode, with 0 in the dead slot."""
    pytest.importorskip("da4ml")
    from hls_backend.rtl import generate_rtl

    spec, w = _net_with_a_dead_input()
    design = generate_rtl(spec, w, tmp_path / "rtl", clock_ns=5.0)
    assert design.dead_inputs == (0,)
    x = quantize_elements(np.array([[7.9375, 1.0, -2.5], [-8.0, -0.5, 3.5]]), spec.input_formats)
    with pytest.raises(ValueError):
        design.input_format.encode(x)  # the raw values do not fit the narrowed port
    words = design.encode_inputs(x)
    alive = x.copy()
    alive[:, 0] = 0.0
    assert words == design.input_format.encode(alive)
    from hls_backend.rtl.design import RTLDesign
    assert RTLDesign.from_dict(design.to_dict()).dead_inputs == (0,)  # design.json keeps it


@pytest.mark.slow
def test_a_dead_input_design_is_bit_exact_in_rtl_simulation(tmp_path):
    pytest.importorskip("da4ml")
    from hls_backend.rtl import generate_rtl
    from hls_backend.verilator_sim import simulate_design

    spec, w = _net_with_a_dead_input()
    design = generate_rtl(spec, w, tmp_path / "rtl", clock_ns=5.0)
    x = quantize_elements(np.random.default_rng(3).normal(0, 4, (300, 3)), spec.input_formats)
    sim = simulate_design(design, x, reference=reference_forward(spec, w, x))
    assert sim.bitexact_rate == 1.0
