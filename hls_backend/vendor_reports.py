"""Vivado HLS / Vitis HLS / Vivado reports of an hls4ml project -> SynthesisResult.

hls4ml's own reader (``hls4ml.report.parse_vivado_report``) does the work where it can: it
reads the C-synthesis XML and Vivado's ``vivado_synth.rpt``. What it does not read is
filled in here from the same files: tool versions and the device (for provenance), and the
C-synthesis summary from the text ``.rpt`` when a project (e.g. an archived one) keeps no
XML. One hls4ml convention is corrected rather than passed on: its ``BRAM_18K`` from
``vivado_synth.rpt`` is the *Block RAM Tile* count, and a tile is 36 Kb, i.e. two 18 Kb
blocks. Where Vivado logic synthesis ran, its LUT/FF/DSP/BRAM replace the HLS estimates
(which stay in ``extra['hls_estimate']``).
"""

from __future__ import annotations

import contextlib
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from qnas import _imports
from qnas.errors import CandidateFailed
from qnas.results import SynthesisResult

DEFAULT_PROJECT = "myproject"
_APP_FILES = ("vivado_hls.app", "hls.app")


# -- locating the files ------------------------------------------------------------------
def project_name(project_dir: Path) -> str:
    """The top function name, read from hls4ml's ``project.tcl`` as hls4ml does."""
    tcl = project_dir / "project.tcl"
    if tcl.is_file():
        match = re.search(r'set project_name\s+"([^"]+)"', tcl.read_text(errors="replace"))
        if match:
            return match.group(1)
    return DEFAULT_PROJECT


def _report_dir(project_dir: Path, name: str) -> Path:
    return project_dir / f"{name}_prj" / "solution1" / "syn" / "report"


def csynth_report_paths(project_dir: str | Path) -> tuple[Path, Path]:
    """Where C synthesis writes its XML and text reports in an hls4ml project."""
    project_dir = Path(project_dir)
    name = project_name(project_dir)
    report_dir = _report_dir(project_dir, name)
    return report_dir / f"{name}_csynth.xml", report_dir / f"{name}_csynth.rpt"


# -- text reads hls4ml does not do -------------------------------------------------------
def _search(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, flags=re.MULTILINE)
    return match.group(1).strip() if match else None


def _table_row(lines: list[str], start: int, first_cell: str) -> list[str] | None:
    """Cells of the first ``|first_cell ...|`` row at or after line ``start``."""
    for line in lines[start:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return cells
    return None


def parse_csynth_text(text: str) -> dict[str, str]:
    """C-synthesis summary from a ``<top>_csynth.rpt``, keyed like hls4ml's XML reader."""
    lines = text.splitlines()
    out: dict[str, str] = {}
    clock = re.search(r"^\s*\|ap_clk\s*\|\s*([\d.]+)\s*ns\s*\|\s*([\d.]+)\s*ns", text, flags=re.MULTILINE)
    if clock:
        out["TargetClockPeriod"], out["EstimatedClockPeriod"] = clock.group(1), clock.group(2)
    lat_at = next((i for i, line in enumerate(lines) if line.strip().startswith("+ Latency")), None)
    if lat_at is not None:
        for line in lines[lat_at:]:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 6 and cells[0].isdigit() and cells[1].isdigit():
                out["BestLatency"], out["WorstLatency"] = cells[0], cells[1]
                out["IntervalMin"], out["IntervalMax"] = cells[4], cells[5]
                break
    util_at = next((i for i, line in enumerate(lines) if "== Utilization Estimates" in line), None)
    if util_at is not None:
        header = _table_row(lines, util_at, "Name")
        total = _table_row(lines, util_at, "Total")
        if header and total:
            for key, value in zip(header[1:], total[1:]):
                out["DSP" if key.startswith("DSP") else key] = value
    return out


def _hls_tool(project_dir: Path, name: str, csynth_rpt: str) -> tuple[str, str]:
    """(producer, version) of the HLS tool: ``vivado_hls`` or ``vitis_hls``."""
    if "Vitis HLS Report" in csynth_rpt:
        tool = "vitis_hls"
    elif "Vivado HLS Report" in csynth_rpt:
        tool = "vivado_hls"
    else:
        tool = "vitis_hls" if (project_dir / f"{name}_prj" / "hls.app").is_file() else "vivado_hls"
    version = _search(r"^\* Version:\s*(\S+)", csynth_rpt) or ""
    xml = _report_dir(project_dir, name) / f"{name}_csynth.xml"
    if not version and xml.is_file():
        node = ET.parse(xml).getroot().find("./ReportVersion/Version")
        version = node.text.strip() if node is not None and node.text else ""
    return tool, version


def _hls_part(project_dir: Path, name: str, csynth_rpt: str) -> str:
    part = _search(r"^\* Target device:\s*(\S+)", csynth_rpt)
    xml = _report_dir(project_dir, name) / f"{name}_csynth.xml"
    if not part and xml.is_file():
        node = ET.parse(xml).getroot().find("./UserAssignments/Part")
        part = node.text.strip() if node is not None and node.text else None
    return part or ""


# -- the hls4ml reader -------------------------------------------------------------------
def _hls4ml_report(project_dir: Path, name: str) -> dict[str, Any]:
    """hls4ml's parse, with its progress prints kept off the user's terminal."""
    if not (project_dir / "project.tcl").is_file():
        raise CandidateFailed(f"{project_dir} is not an hls4ml project (no project.tcl)")
    if not any((project_dir / f"{name}_prj" / app).is_file() for app in _APP_FILES):
        raise CandidateFailed(f"no HLS project in {project_dir / f'{name}_prj'} (no {' or '.join(_APP_FILES)}); "
                              "did C synthesis run?")
    report = _imports.require("hls4ml.report", "hls")
    with contextlib.redirect_stdout(io.StringIO()):
        return report.parse_vivado_report(str(project_dir)) or {}


def _number(value: Any, what: str, source: Path) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise CandidateFailed(f"{source}: cannot read {what} (got {value!r})") from None


def parse_vendor_reports(project_dir: str | Path, part: str | None = None,
                         clock_ns: float | None = None) -> SynthesisResult:
    """Read the synthesis reports of an hls4ml project into a SynthesisResult.

    Expects hls4ml's layout: ``<project_dir>/project.tcl``, the C-synthesis reports in
    ``<project_dir>/<top>_prj/solution1/syn/report/`` and, after Vivado logic synthesis,
    ``<project_dir>/vivado_synth.rpt``. ``part`` and ``clock_ns`` override what the reports
    say. Raises FileNotFoundError for a missing directory and CandidateFailed when no
    C-synthesis report exists (synthesis did not run or failed).
    """
    project_dir = Path(project_dir)
    if not project_dir.is_dir():
        raise FileNotFoundError(f"no hls4ml project directory at {project_dir}")
    name = project_name(project_dir)
    report_dir = _report_dir(project_dir, name)
    rpt_path = report_dir / f"{name}_csynth.rpt"
    csynth_rpt = rpt_path.read_text(errors="replace") if rpt_path.is_file() else ""
    hls = _hls4ml_report(project_dir, name)
    csynth = hls.get("CSynthesisReport") or (parse_csynth_text(csynth_rpt) if csynth_rpt else {})
    if not csynth:
        raise CandidateFailed(f"no C-synthesis report in {report_dir} (expected {name}_csynth.xml or "
                              f"{name}_csynth.rpt); did C synthesis run?")
    source = report_dir
    tool, hls_version = _hls_tool(project_dir, name, csynth_rpt)
    notes = [f"C synthesis: {tool} {hls_version}".strip()]
    lut = _number(csynth.get("LUT"), "LUT", source)
    ff = _number(csynth.get("FF"), "FF", source)
    dsp = _number(csynth.get("DSP"), "DSP", source)
    bram = _number(csynth.get("BRAM_18K"), "BRAM_18K", source)
    producer, tool_version = tool, hls_version
    extra: dict[str, Any] = {"hls_estimate": {"lut": lut, "ff": ff, "dsp": dsp, "bram": bram}}
    if csynth.get("EstimatedClockPeriod"):
        extra["hls_estimated_clock_ns"] = float(csynth["EstimatedClockPeriod"])

    vsynth_path = project_dir / "vivado_synth.rpt"
    vsynth = hls.get("VivadoSynthReport")
    if vsynth:
        source = vsynth_path
        lut = _number(vsynth.get("LUT"), "LUT", source)
        ff = _number(vsynth.get("FF"), "FF", source)
        if "DSP48E" in vsynth:
            dsp = _number(vsynth["DSP48E"], "DSPs", source)
        if "BRAM_18K" in vsynth:  # hls4ml's key, but the value is 36 Kb Block RAM tiles
            bram = 2 * _number(vsynth["BRAM_18K"], "Block RAM Tile", source)
        vivado_version = _search(r"Tool Version\s*:\s*Vivado v\.(\S+)", vsynth_path.read_text(errors="replace"))
        producer = f"{tool} + vivado synth"
        tool_version = f"{tool} {hls_version}; vivado {vivado_version or '?'}"
        notes.append(f"LUT/FF/DSP/BRAM after Vivado logic synthesis ({vsynth_path.name})")

    period = float(clock_ns) if clock_ns is not None else _number(csynth.get("TargetClockPeriod"),
                                                                  "target clock period", report_dir)
    cycles = int(_number(csynth.get("WorstLatency"), "worst-case latency", report_dir))
    ii = int(_number(csynth.get("IntervalMax"), "interval", report_dir))
    return SynthesisResult(
        lut=lut, ff=ff, dsp=dsp, bram=bram, latency_cycles=cycles, ii_cycles=ii, clock_ns=period,
        latency_ns=cycles * period, part=part or _hls_part(project_dir, name, csynth_rpt),
        producer=producer, tool_version=tool_version, notes=tuple(notes), extra=extra)
