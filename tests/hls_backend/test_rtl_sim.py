"""Verilator simulation of the generated RTL: bit-exact against the QKeras emulation, latency measured."""

import numpy as np
import pytest

pytest.importorskip("da4ml")

from _open_flow_nets import make_mlp, random_inputs  # noqa: E402

from hls_backend.rtl import generate_rtl  # noqa: E402
from hls_backend.verilator_sim import measure_alignment, simulate_rtl  # noqa: E402
from qnas.fixed_point import reference_forward  # noqa: E402


@pytest.fixture(autouse=True)
def _verilator(require_tool):
    from hls_backend.tools import find_verilator

    return require_tool(find_verilator)


def test_tiny_mlp_rtl_is_bit_exact_and_latency_is_measured(tmp_path):
    spec, weights = make_mlp((4, 8, 3), seed=0)
    design = generate_rtl(spec, weights, tmp_path, clock_ns=3.0)
    x = random_inputs(spec, 400)
    sim = simulate_rtl(design, x)  # reference defaults to qnas.fixed_point.reference_forward
    assert sim.bitexact_rate == 1.0 and sim.row_exact_rate == 1.0
    assert sim.measured_latency_cycles == design.latency_cycles
    np.testing.assert_array_equal(sim.outputs, reference_forward(spec, weights, x))
    # the compiled simulator is reused; off-grid inputs are quantized like QKeras' input layer
    x_raw = random_inputs(spec, 200, seed=5, off_grid=True)
    again = simulate_rtl(design, x_raw)
    assert again.compile_s == 0.0
    assert again.bitexact_rate == 1.0
    np.testing.assert_array_equal(again.outputs, reference_forward(spec, weights, x_raw))


def test_stated_pipelining_changes_the_estimate_and_the_rtl_alike(tmp_path):
    """A spec cut every 2 adder levels: more cycles in the estimate, the same in the Verilog."""
    from dataclasses import replace

    import estimators
    from qnas.pipeline import Pipelining

    spec, weights = make_mlp((8, 12, 4), weight="fixed6", act_bits=6, in_bits=8, seed=11)
    spec = spec.with_strategy("distributed_arithmetic")
    x = random_inputs(spec, 200)
    seen = {}
    for n, choice in enumerate((None, Pipelining(adders_per_stage=2))):
        stated = replace(spec, pipeline=choice)
        est = estimators.estimate(stated, weights=weights, clock_ns=5.0)
        design = generate_rtl(stated, weights, tmp_path / f"rtl{n}", clock_ns=5.0)
        sim = simulate_rtl(design, x)
        assert sim.row_exact_rate == 1.0
        assert sim.measured_latency_cycles == design.latency_cycles == est.latency_cycles
        seen[choice] = est.latency_cycles
    assert seen[Pipelining(adders_per_stage=2)] > seen[None]


def test_wrong_reference_is_reported_not_hidden(tmp_path):
    spec, weights = make_mlp((4, 8, 3), seed=2)
    design = generate_rtl(spec, weights, tmp_path)
    x = random_inputs(spec, 200)
    ref = reference_forward(spec, weights, x)
    ref[::2, 0] += 1.0  # corrupt every second row's first logit
    sim = simulate_rtl(design, x, reference=ref)
    assert sim.measured_latency_cycles == design.latency_cycles
    assert sim.row_exact_rate == pytest.approx(0.5)
    assert sim.bitexact_rate == pytest.approx(1 - 0.5 / 3)


def test_alignment_finds_offset_and_refuses_constant_reference():
    ref = np.arange(10, dtype=float).reshape(-1, 1)
    hold, lat = 6, 4
    schedule = [0] * hold + list(range(1, 10)) + [9] * hold
    trace = np.array([[-1.0]] * (lat - 1) + [ref[s] for s in schedule])[: len(schedule)]
    assert measure_alignment(trace, ref, hold) == (lat, 1.0)
    assert measure_alignment(trace, np.zeros_like(ref), hold)[0] is None


@pytest.mark.slow
@pytest.mark.parametrize("weight", ["fixed6", "ternary", "binary"])
def test_rtl_bit_exact_per_quantizer_family(tmp_path, weight):
    spec, weights = make_mlp((16, 32, 16, 5), weight=weight, act_bits=6, in_bits=8, seed=11)
    design = generate_rtl(spec, weights, tmp_path, clock_ns=5.0)
    x = random_inputs(spec, 2000, seed=4)
    sim = simulate_rtl(design, x)
    assert sim.bitexact_rate == 1.0
    assert sim.measured_latency_cycles == design.latency_cycles


def test_da4ml_project_written_outside_qnas_is_loaded_and_simulated(tmp_path):
    """A foreign da4ml project (an HGQ2 peer's) gets the same formats, latency and testbench."""
    from hls_backend.rtl import load_da4ml_project
    from hls_backend.verilator_sim import simulate_design

    spec, weights = make_mlp((4, 8, 3), seed=3)
    ours = generate_rtl(spec, weights, tmp_path / "rtl", clock_ns=3.0)
    (tmp_path / "rtl" / "design.json").unlink()  # as if da4ml's RTLModel had written it alone
    foreign = load_da4ml_project(tmp_path / "rtl", prj_name="qnas_mlp", clock_ns=3.0)
    assert (foreign.input_format, foreign.output_format) == (ours.input_format, ours.output_format)
    assert foreign.latency_cycles == ours.latency_cycles and foreign.top == ours.top
    assert sorted(foreign.verilog_files) == sorted(ours.verilog_files)
    x = random_inputs(spec, 300)
    ref = reference_forward(spec, weights, x)
    sim = simulate_design(foreign, x, reference=ref)
    assert sim.bitexact_rate == 1.0 and sim.measured_latency_cycles == foreign.latency_cycles
    with pytest.raises(ValueError, match="x_q must have shape"):
        simulate_design(foreign, x[:, :2], reference=None)
    with pytest.raises(FileNotFoundError, match="no qnas_other_wrapper.v"):
        load_da4ml_project(tmp_path / "rtl", prj_name="qnas_other", clock_ns=3.0)
    with pytest.raises(FileNotFoundError, match="pipeline.json"):
        load_da4ml_project(tmp_path, prj_name="qnas_mlp", clock_ns=3.0)
