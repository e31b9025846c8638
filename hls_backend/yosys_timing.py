"""What Yosys can say about the Xilinx clock: logic levels and cell delay of the mapped netlist.

Yosys has no Xilinx placer or router, so nothing here is a timing closure. Two facts are
established on the ``synth_xilinx`` netlist, in the same Yosys run:

* ``ltp`` (longest topological path) with the flip-flops and shift registers cut out: the
  most cells any register-to-register path passes through. That is what Vivado reports
  as ``LOGIC_LEVELS`` (each LUT, CARRY and MUXF counts once), before placement.
* ``sta`` with the ``specify`` delays Yosys ships in ``+/xilinx/cells_sim.v``: the latest
  arrival time through the cells alone. Those delays are Artix-7 (7-series, -1) figures
  from Project X-Ray (the file cites ``prjxray-db/artix7/timings``); routing is not in
  them, and a cell without delays there (``MUXF9``, UltraScale+ only) counts as zero.

The verdict says only what follows from that. On a 7-series part, cells alone slower
than the period means the design *cannot* meet it (routing only adds): ``fails``. On
UltraScale(+) the cells are faster than Artix-7's but routing is not modelled (UG949:
more than half of a path's delay on UltraScale), so the same excess is ``at_risk``, and
neither family can be called ``met`` without place and route. Parsers are pure text ->
values, tested on recorded output.
"""

from __future__ import annotations

import re
from collections import Counter

from qnas.results import TimingCheck

__all__ = ["TIMING_BASIS", "parse_ltp", "parse_sta", "timing_script", "xilinx_timing_check"]

#: cells that hold state: paths start and end at them (Yosys 0.23 xilinx primitives)
SEQUENTIAL_CELLS = ("FD*", "SRL*", "RAM*", "DSP48*")

TIMING_BASIS = ("yosys ltp + sta on the synth_xilinx netlist: unplaced, cell delays only "
                "(Artix-7 -1 from +/xilinx/cells_sim.v), no routing")

_LTP = re.compile(r"Longest topological path in \S+ \(length=(-?\d+)\)")
_ARRIVAL = re.compile(r"Latest arrival time in '[^']*' is (\d+):")
_PATH_CELL = re.compile(r"^\s+\d+\s+\S+\s+\(([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)->[^)]*\)\s*$")
_CLOCK_PINS = ("C", "CLK")  # an arc from a clock pin is the register launching the path
_NO_ARCS = re.compile(r"Module '([^']+)' has no timing arcs")


def timing_script() -> list[str]:
    """Yosys commands, run after ``synth_xilinx``, writing ``ltp.txt`` and ``sta.txt``."""
    cut = " ".join(f"t:{c} %d" for c in SEQUENTIAL_CELLS)  # %d: difference of the top two sets
    return [
        f"tee -q -o ltp.txt ltp -noff * {cut}",
        "read_verilog -lib -specify -overwrite +/xilinx/cells_sim.v",
        "tee -q -o sta.txt sta",
    ]


def parse_ltp(text: str) -> int | None:
    """Cells on the longest register-to-register path (``None`` when ltp found no path)."""
    found = _LTP.findall(text)
    if not found:
        raise ValueError("no 'Longest topological path' line in the Yosys ltp output")
    length = int(found[-1])
    return length if length >= 0 else None


def parse_sta(text: str) -> tuple[float, dict[str, int], tuple[str, ...]]:
    """(latest arrival in ns, combinational cell types on that path with counts, types without delays).

    The arrival includes the launching register's clock-to-output delay; that register is
    not counted among the path's cells.
    """
    m = _ARRIVAL.search(text)
    if not m:
        raise ValueError("no 'Latest arrival time' line in the Yosys sta output")
    cells: Counter[str] = Counter()
    for line in text[m.end():].splitlines():
        if line.startswith("Arrival histogram"):
            break
        c = _PATH_CELL.match(line)
        if c and c.group(2) not in _CLOCK_PINS:
            cells[c.group(1)] += 1
    no_arcs = tuple(sorted(set(_NO_ARCS.findall(text))))
    return int(m.group(1)) / 1000.0, dict(sorted(cells.items())), no_arcs


def xilinx_timing_check(ltp_text: str, sta_text: str, *, family: str, clock_ns: float) -> TimingCheck:
    """The verdict on the target clock from recorded ``ltp``/``sta`` output (see the module docstring)."""
    levels = parse_ltp(ltp_text)
    delay_ns, cells, no_arcs = parse_sta(sta_text)
    basis = TIMING_BASIS + (f"; no delays for {', '.join(no_arcs)} (counted as 0)" if no_arcs else "")
    over = delay_ns > clock_ns
    if family == "xc7":
        verdict = "fails" if over else "not_established"
        reason = (f"the cells alone take {delay_ns:.2f} ns > the {clock_ns:g} ns period on 7-series -1 delays; "
                  "routing only adds" if over else
                  f"cells alone {delay_ns:.2f} ns of the {clock_ns:g} ns period; routing not modelled")
    else:
        verdict = "at_risk" if over else "not_established"
        reason = (f"the cells alone would take {delay_ns:.2f} ns > the {clock_ns:g} ns period at 7-series -1 "
                  f"speed; {family} cells are faster but routing is not modelled" if over else
                  f"cells alone {delay_ns:.2f} ns at 7-series -1 speed of the {clock_ns:g} ns period; "
                  "routing not modelled")
    return TimingCheck(clock_ns=clock_ns, verdict=verdict, basis=basis, logic_levels_max=levels,
                       logic_delay_ns=delay_ns, critical_path_cells=cells, reason=reason)
