"""Place and route on Lattice ECP5 (Yosys ``synth_ecp5`` + ``nextpnr-ecp5``) for a routed Fmax.

nextpnr has no out-of-context mode: every top-level port becomes a package pin, and a
16-input 6-bit network already needs ~100 input and ~75 output pins (an 85F in CABGA381
has 205). So the design is placed inside a small harness with three pins: the inputs are
filled by a shift register (``din`` shifted in each cycle), and every output bit is folded
into ``dout`` by a registered tree of 4-input XORs (one LUT level per register, so the
harness never sets the critical path and no output bit can be optimised away). The
harness costs one FF per input bit plus ~(output bits / 3) LUT+FF; it is reported in the
notes and subtracted from nothing -- the LUT/FF figures are the routed design's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from qnas.errors import CandidateFailed
from qnas.results import SynthesisResult, TimingCheck

from .rtl.design import RTLDesign
from .tools import find_nextpnr_ecp5, find_yosys, run_tool
from .yosys_synth import yosys_read_script

__all__ = ["NextpnrReport", "parse_nextpnr_log", "harness_verilog", "pnr_ecp5", "ECP5_DEVICE"]

ECP5_DEVICE = ("--85k", "CABGA381")
ECP5_PART = "LFE5U-85F-6BG381C"


@dataclass(frozen=True)
class NextpnrReport:
    """Routed Fmax per clock (MHz) and the device utilisation table."""

    fmax_mhz: dict[str, float]
    target_mhz: dict[str, float]
    utilisation: dict[str, tuple[int, int]]  # cell type -> (used, available)

    @property
    def fmax(self) -> float:
        if not self.fmax_mhz:
            raise ValueError("nextpnr reported no clock frequency")
        return min(self.fmax_mhz.values())

    def used(self, cell: str) -> int:
        return self.utilisation.get(cell, (0, 0))[0]


_FMAX = re.compile(r"Max frequency for clock\s+'([^']+)':\s+([\d.]+)\s*MHz\s*\((?:PASS|FAIL)\s+at\s+([\d.]+)\s*MHz\)")
_UTIL = re.compile(r"^Info:\s+([A-Za-z_]\w*):\s+(\d+)/\s*(\d+)\s+\d+%")


def parse_nextpnr_log(text: str) -> NextpnrReport:
    """Fmax from the *last* timing report (after routing) and the last utilisation table."""
    fmax: dict[str, float] = {}
    target: dict[str, float] = {}
    # every "Max frequency" line overwrites the earlier (pre-route) estimate of that clock
    for m in _FMAX.finditer(text):
        fmax[m.group(1)] = float(m.group(2))
        target[m.group(1)] = float(m.group(3))
    util: dict[str, tuple[int, int]] = {}
    marker = text.rfind("Device utilisation:")
    if marker >= 0:
        for line in text[marker:].splitlines()[1:]:
            m = _UTIL.match(line)
            if m:
                util[m.group(1)] = (int(m.group(2)), int(m.group(3)))
            elif util:
                break
    if not fmax:
        raise ValueError("no 'Max frequency for clock' line in the nextpnr log (did routing finish?)")
    return NextpnrReport(fmax, target, util)


def harness_verilog(design: RTLDesign, name: str = "qnas_ecp5_harness") -> str:
    """A 3-pin wrapper (clk, din, dout) around the design; see the module docstring."""
    w_in, w_out = design.input_format.width, design.output_format.width
    lines = [
        f"module {name} (input clk, input din, output dout);",
        f"    reg [{w_in - 1}:0] sr = 0;",
        f"    wire [{w_out - 1}:0] y;",
        "    always @(posedge clk) sr <= {sr[%d:0], din};" % (w_in - 2) if w_in > 1 else "    always @(posedge clk) sr <= din;",
        f"    {design.top} dut (.clk(clk), .model_inp(sr), .model_out(y));",
    ]
    level, width, src = 0, w_out, "y"
    while width > 1:
        nxt = -(-width // 4)
        lines.append(f"    reg [{nxt - 1}:0] x{level} = 0;")
        lines.append("    always @(posedge clk) begin")
        for j in range(nxt):
            hi = min(width, 4 * j + 4) - 1
            lines.append(f"        x{level}[{j}] <= ^{src}[{hi}:{4 * j}];")
        lines.append("    end")
        src, width, level = f"x{level}", nxt, level + 1
    lines.append(f"    assign dout = {src}[0];" if w_out > 1 else "    reg d = 0; always @(posedge clk) d <= y[0]; assign dout = d;")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def pnr_ecp5(design: RTLDesign, *, timeout_s: float | None = 3600, seed: int = 1, progress: bool = False,
             target_mhz: float | None = None, router: str = "router2",
             work_dir: str | Path | None = None) -> SynthesisResult:
    """Synthesise for ECP5-85F, place and route, and report the routed Fmax and utilisation.

    ``latency_ns = latency_cycles * 1000 / fmax``: the time the pipeline needs at the
    fastest clock it routes at. The clock constraint defaults to the design's target clock
    (``--timing-allow-fail``: a failing constraint still gives the achieved Fmax).
    ``router2`` is the default because router1 did not converge on a 51k-LUT4 design in
    30 minutes (arc count barely falling), where router2 is built for large designs.
    """
    yosys, nextpnr = find_yosys(), find_nextpnr_ecp5()
    work = Path(work_dir) if work_dir else Path(design.out_dir) / "ecp5"
    work.mkdir(parents=True, exist_ok=True)
    harness = work / "harness.v"
    harness.write_text(harness_verilog(design))
    (work / "synth.ys").write_text("\n".join([
        *yosys_read_script(design, work, (harness,)),
        "hierarchy -check -top qnas_ecp5_harness",
        "synth_ecp5 -top qnas_ecp5_harness -json design.json",
        "tee -o stat.txt stat",
        "",
    ]))
    syn = run_tool(yosys, ["-q", "-l", "yosys.log", "-s", "synth.ys"], cwd=work, log_name="yosys.out",
                   timeout_s=timeout_s, what="yosys synth_ecp5", progress=progress, tail_file="yosys.log")
    freq = target_mhz if target_mhz else 1000.0 / design.clock_ns
    remaining = None if timeout_s is None else max(60.0, timeout_s - syn.seconds)
    pnr = run_tool(nextpnr, [*ECP5_DEVICE[:1], "--package", ECP5_DEVICE[1], "--json", "design.json",
                             "--freq", f"{freq:.2f}", "--timing-allow-fail", "--seed", str(seed),
                             "--router", router, "--report", "report.json", "--log", "nextpnr.log"],
                   cwd=work, log_name="nextpnr.out", timeout_s=remaining, what="nextpnr-ecp5 place and route",
                   progress=progress, tail_file="nextpnr.log")
    log = (work / "nextpnr.log").read_text(errors="replace")
    try:
        report = parse_nextpnr_log(log)
    except ValueError as exc:
        raise CandidateFailed(f"nextpnr-ecp5 finished without a timing report ({exc}); see {work / 'nextpnr.log'}")
    fmax = report.fmax
    harness_ff = design.input_format.width + _xor_tree_regs(design.output_format.width)
    notes = [
        f"routed on LFE5U-85F (CABGA381) with {router}, seed {seed}, constraint {freq:.1f} MHz",
        f"inside a 3-pin harness: +{harness_ff} FF and ~{_xor_tree_regs(design.output_format.width)} LUT "
        "of shift-register/XOR-tree not part of the network are included in lut/ff",
        "latency_ns = latency_cycles x 1000 / routed Fmax",
    ]
    lut = report.used("TRELLIS_COMB") or report.used("LUT4")
    ff = report.used("TRELLIS_FF")
    extra = {"utilisation": {k: list(v) for k, v in report.utilisation.items()}, "fmax_per_clock": report.fmax_mhz,
             "synth_s": syn.seconds, "pnr_s": pnr.seconds, "seconds": syn.seconds + pnr.seconds,
             "harness_ff": harness_ff, "nextpnr_version": nextpnr.version, "flow": "open/da4ml"}
    report_json = work / "report.json"
    if report_json.exists():
        extra["report_json"] = str(report_json)
    timing = TimingCheck(
        clock_ns=1000.0 / freq, verdict="met" if fmax >= freq else "fails", fmax_mhz=fmax,
        basis=f"nextpnr-ecp5 {nextpnr.version} routed Fmax on LFE5U-85F (router {router}, seed {seed})",
        reason=f"routed Fmax {fmax:.1f} MHz {'>=' if fmax >= freq else '<'} the {freq:.1f} MHz constraint")
    return SynthesisResult(
        lut=float(lut), ff=float(ff), dsp=float(report.used("MULT18X18D")), bram=float(report.used("DP16KD")),
        latency_cycles=design.latency_cycles, ii_cycles=1, clock_ns=1000.0 / fmax,
        latency_ns=design.latency_cycles * 1000.0 / fmax, part=ECP5_PART,
        producer=f"yosys {yosys.version} synth_ecp5 + nextpnr-ecp5 {nextpnr.version}",
        tool_version=f"yosys {yosys.version}; nextpnr-ecp5 {nextpnr.version}", fmax_mhz=fmax,
        carry=float(report.used("CCU2C")) if "CCU2C" in report.utilisation else None,
        notes=tuple(notes), timing=timing, extra=extra,
    )


def _xor_tree_regs(width: int) -> int:
    total = 0
    while width > 1:
        width = -(-width // 4)
        total += width
    return total if total else 1


def load_report_json(path: str | Path) -> dict:
    """nextpnr's ``--report`` JSON (fmax per clock, utilisation), for tools that want more."""
    return json.loads(Path(path).read_text())
