"""RTL generation: QKeras rounding in the traced graph, port formats, unsupported specs."""

import numpy as np
import pytest

pytest.importorskip("da4ml")

from _open_flow_nets import make_mlp, random_inputs  # noqa: E402

from hls_backend.rtl import PortFormat, RTLDesign, generate_rtl  # noqa: E402
from qnas.pipeline import latency_cutoff_for  # noqa: E402
from qnas.qkeras_ops import quantized_relu, round_half_even  # noqa: E402
from qnas.tracer import trace_network  # noqa: E402
from qnas.errors import UnsupportedSpec  # noqa: E402
from qnas.fixed_point import quantize_array, reference_forward  # noqa: E402
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer  # noqa: E402


def _trace_scalar(kif, fn):
    from da4ml.trace import FixedVariableArray, HWConfig, comb_trace

    x = FixedVariableArray.from_kif(np.array([kif[0]]), np.array([kif[1]]), np.array([kif[2]]), HWConfig(1, -1, -1))
    y = np.array([fn(v) for v in x._vars], dtype=object)
    return comb_trace(x, FixedVariableArray(y, hwconf=x.hwconf))


@pytest.mark.parametrize("q", [Quantizer.fixed(4, 2, signed=False), Quantizer.fixed(6, 0, signed=False),
                               Quantizer.fixed(3, 1, signed=False)])
def test_traced_quantized_relu_matches_qkeras_on_every_code(q):
    # a signed input with 4 more fractional bits than the target: every tie, both signs,
    # and values beyond the saturation point
    kif = (1, 3, q.fractional + 4)
    comb = _trace_scalar(kif, lambda v: quantized_relu(v, q))
    step = 2.0 ** -kif[2]
    x = np.arange(-2 ** (kif[1] + kif[2]), 2 ** (kif[1] + kif[2])) * step
    got = comb.predict(x.reshape(-1, 1))[:, 0]
    np.testing.assert_array_equal(got, quantize_array(x, q))


def test_round_half_even_differs_from_half_up_on_ties():
    comb = _trace_scalar((1, 2, 3), lambda v: round_half_even(v, 1))
    x = np.array([0.25, 0.75, -0.25, -0.75, 1.25, 0.375])
    np.testing.assert_array_equal(comb.predict(x.reshape(-1, 1))[:, 0], [0.0, 1.0, -0.0, -1.0, 1.0, 0.5])


@pytest.mark.parametrize("weight", ["fixed4", "ternary", "binary"])
def test_traced_network_equals_reference_forward(weight):
    from da4ml.trace import comb_trace

    spec, weights = make_mlp((6, 10, 8, 3), weight=weight, seed=3)
    inp, out = trace_network(spec, weights, latency_cutoff=5)
    comb = comb_trace(inp, out)
    x = random_inputs(spec, 3000)
    np.testing.assert_array_equal(comb.predict(x), reference_forward(spec, weights, x))


def test_generate_rtl_writes_design(tmp_path):
    spec, weights = make_mlp()
    design = generate_rtl(spec, weights, tmp_path, clock_ns=5.0)
    assert design.top == "qnas_mlp_wrapper"
    assert all(f.exists() for f in design.files)
    assert any(f.name == "qnas_mlp_wrapper.v" for f in design.files)
    assert design.latency_cycles == design.n_stages + 1 >= 2
    assert design.input_format == PortFormat(n=4, bits=4, fractional=1, signed=True)
    assert design.output_format.n == 3 and design.output_format.signed
    assert design.da4ml_cost > 0 and design.generation_s > 0
    assert (tmp_path / "weights.npz").exists()
    again = RTLDesign.load(tmp_path)
    assert again == design and again.model_spec == spec


def test_shorter_clock_gives_deeper_pipeline(tmp_path):
    spec, weights = make_mlp((8, 16, 8, 4), seed=1)
    slow = generate_rtl(spec, weights, tmp_path / "slow", clock_ns=10.0)
    fast = generate_rtl(spec, weights, tmp_path / "fast", clock_ns=2.0)
    assert fast.latency_cycles > slow.latency_cycles
    assert (slow.latency_cutoff, fast.latency_cutoff) == (latency_cutoff_for(10.0), latency_cutoff_for(2.0))


def test_reuse_factor_above_one_is_unsupported(tmp_path):
    spec, weights = make_mlp()
    layers = (spec.layers[0], DenseLayerSpec(**{**spec.layers[1].__dict__, "reuse_factor": 2}))
    bad = ModelSpec(spec.n_inputs, spec.input_quantizer, layers)
    with pytest.raises(UnsupportedSpec, match=r"layers\[1\]\.reuse_factor"):
        generate_rtl(bad, weights, tmp_path)


def test_non_relu_activation_is_unsupported(tmp_path):
    spec, weights = make_mlp()
    layers = (DenseLayerSpec(**{**spec.layers[0].__dict__, "activation": Quantizer.ternary()}), spec.layers[1])
    bad = ModelSpec(spec.n_inputs, spec.input_quantizer, layers)
    with pytest.raises(UnsupportedSpec, match=r"layers\[0\]\.activation"):
        generate_rtl(bad, weights, tmp_path)


def test_weights_off_grid_are_rejected(tmp_path):
    spec, weights = make_mlp()
    weights[0].kernel[0, 0] = 0.01
    with pytest.raises(UnsupportedSpec, match="not representable"):
        generate_rtl(spec, weights, tmp_path)


def test_port_format_round_trip_and_range():
    fmt = PortFormat(n=3, bits=5, fractional=2, signed=True)
    rows = np.array([[-4.0, 3.75, 0.25], [0.0, -0.25, 1.5]])
    words = fmt.encode(rows)
    np.testing.assert_array_equal(fmt.decode(words), rows)
    with pytest.raises(ValueError, match="grid"):
        fmt.encode([[0.1, 0, 0]])
    with pytest.raises(ValueError, match="fit"):
        fmt.encode([[4.0, 0, 0]])
    unsigned = PortFormat(n=2, bits=3, fractional=0, signed=False)
    np.testing.assert_array_equal(unsigned.decode(unsigned.encode([[7, 5]])), [[7, 5]])


def test_regeneration_replaces_stale_verilog(tmp_path):
    spec, weights = make_mlp((8, 16, 8, 4), seed=1)
    deep = generate_rtl(spec, weights, tmp_path, clock_ns=2.0)
    shallow = generate_rtl(spec, weights, tmp_path, clock_ns=10.0)
    assert shallow.n_stages < deep.n_stages
    on_disk = sorted(p.name for p in (tmp_path / "src").glob("*_stage*.v"))
    assert len(on_disk) == shallow.n_stages


def test_foreign_src_directory_is_not_deleted(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "mine.v").write_text("module mine; endmodule\n")
    spec, weights = make_mlp()
    with pytest.raises(FileExistsError, match="not written by qnas"):
        generate_rtl(spec, weights, tmp_path)
    assert (tmp_path / "src" / "mine.v").exists()
