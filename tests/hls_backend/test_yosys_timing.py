"""What Yosys establishes about the Xilinx clock: parsers on recorded output, the verdict rule, a real run.

The recorded files are Yosys 0.23 ``ltp``/``sta`` output on the synth_xilinx (xcup)
netlist of ``make_mlp((8, 16, 8, 4), seed=1)`` generated at 5 ns (4 stages).
"""

from pathlib import Path

import pytest

from hls_backend.yosys_timing import parse_ltp, parse_sta, xilinx_timing_check
from qnas.results import SynthesisResult, TimingCheck

DATA = Path(__file__).parent / "data"
LTP = (DATA / "yosys023_ltp_xcup.txt").read_text()
STA = (DATA / "yosys023_sta_xcup.txt").read_text()


def test_parse_ltp_counts_cells_between_registers():
    assert parse_ltp(LTP) == 16
    assert parse_ltp("Longest topological path in top (length=-1):\n") is None  # no combinational path
    with pytest.raises(ValueError, match="Longest topological path"):
        parse_ltp("3. Executing STAT pass\n")


def test_parse_sta_reads_arrival_and_the_cells_of_the_critical_path():
    delay_ns, cells, no_arcs = parse_sta(STA)
    assert delay_ns == pytest.approx(5.116)
    assert cells == {"CARRY4": 8, "LUT2": 2, "LUT3": 1, "LUT5": 1, "LUT6": 1, "MUXF7": 1}
    assert no_arcs == ("MUXF9",)
    with pytest.raises(ValueError, match="Latest arrival"):
        parse_sta("no sta here")


def test_verdict_is_fails_only_on_the_family_the_delays_belong_to():
    xc7 = xilinx_timing_check(LTP, STA, family="xc7", clock_ns=5.0)
    assert xc7.verdict == "fails" and xc7.meets_clock is False
    assert "does NOT meet the 5 ns clock" in xc7.warning
    xcup = xilinx_timing_check(LTP, STA, family="xcup", clock_ns=5.0)
    assert xcup.verdict == "at_risk" and xcup.meets_clock is None and "may not meet" in xcup.warning
    relaxed = xilinx_timing_check(LTP, STA, family="xc7", clock_ns=10.0)
    assert relaxed.verdict == "not_established" and relaxed.warning is None  # cells fit; routing unknown
    for check in (xc7, xcup, relaxed):
        assert check.logic_levels_max == 16 and check.logic_delay_ns == pytest.approx(5.116)
        assert "unplaced" in check.basis and "MUXF9" in check.basis
        assert "FDRE" not in check.critical_path_cells


def test_timing_round_trips_with_the_result():
    check = xilinx_timing_check(LTP, STA, family="xcup", clock_ns=5.0)
    res = SynthesisResult(lut=1, ff=1, dsp=0, bram=0, latency_cycles=5, ii_cycles=1, clock_ns=5.0, latency_ns=25.0,
                          part="xcvu13p-flga2577-2-e", producer="yosys", timing=check)
    data = res.to_dict()
    assert data["timing"]["meets_clock"] is None and data["timing"]["logic_levels_max"] == 16
    assert SynthesisResult.from_dict(data) == res
    with pytest.raises(ValueError, match="verdict"):
        TimingCheck(clock_ns=5.0, verdict="probably", basis="")
