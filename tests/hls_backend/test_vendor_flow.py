"""Vendor flow: clear errors without the tools, and a build runner that can be stopped."""

import os
import subprocess
import time
from pathlib import Path

import pytest

from hls_backend.vendor import (VENDOR_TOOLS, check_vendor_tools, run_in_session, run_vendor_flow,
                                vendor_tools_available)
from qnas.errors import CandidateFailed, ToolNotFound


@pytest.fixture
def no_vendor_tools(monkeypatch, tmp_path):
    """A PATH holding only the basics, as on a machine without Vivado/Vitis."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("sh", "sleep"):
        os.symlink(subprocess.check_output(["sh", "-c", f"command -v {name}"], text=True).strip(), bin_dir / name)
    monkeypatch.setenv("PATH", str(bin_dir))


def test_tools_report_none_when_absent(no_vendor_tools):
    assert vendor_tools_available() == {name: None for name in VENDOR_TOOLS}


def test_check_vendor_tools_names_the_missing_tool_and_the_open_flow(no_vendor_tools):
    with pytest.raises(ToolNotFound, match=r"'vivado_hls' on PATH.*--flow open"):
        check_vendor_tools("vivado")
    with pytest.raises(ToolNotFound, match=r"'vitis-run', 'vivado'"):
        check_vendor_tools("vitis", vsynth=True)
    with pytest.raises(ValueError, match="flow must be one of"):
        check_vendor_tools("quartus")


@pytest.mark.slow
def test_run_vendor_flow_names_missing_tool_and_the_open_flow(no_vendor_tools, tmp_path):
    pytest.importorskip("hls4ml")
    from _hls4ml_models import make_spec, model_with_weights

    from hls_backend.hls4ml_convert import convert_to_hls

    spec = make_spec("fixed", (16, 8, 5))
    vitis = convert_to_hls(model_with_weights(spec), spec, tmp_path / "vitis", backend="Vitis")
    with pytest.raises(ToolNotFound, match=r"'vitis-run'.*--flow open"):
        run_vendor_flow(vitis, "vitis")
    with pytest.raises(ToolNotFound, match=r"'vitis-run', 'vivado'"):
        run_vendor_flow(vitis, "vitis", vsynth=True)
    with pytest.raises(ValueError, match="backend='Vivado'"):
        run_vendor_flow(vitis, "vivado")
    vivado = convert_to_hls(model_with_weights(spec), spec, tmp_path / "vivado", backend="Vivado")
    with pytest.raises(ToolNotFound, match="'vivado_hls'"):
        run_vendor_flow(vivado, "vivado")
    assert not (tmp_path / "vivado" / "vendor_build.log").exists()  # nothing was started


def test_run_in_session_logs_output_and_returns(tmp_path):
    log = tmp_path / "build.log"
    seconds = run_in_session(lambda: print("csynth done"), log, timeout_s=30, what="test build",
                             progress=False)
    assert "csynth done" in log.read_text()
    assert 0 <= seconds < 30


def test_run_in_session_failure_quotes_the_log(tmp_path):
    def broken():
        print("ERROR: [HLS 200-70] compilation failed")
        raise RuntimeError("Build failed for myproject")

    with pytest.raises(CandidateFailed, match=r"(?s)test build failed.*HLS 200-70.*Build failed for myproject"):
        run_in_session(broken, tmp_path / "build.log", timeout_s=30, what="test build", progress=False)


def _running(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
    except (FileNotFoundError, ProcessLookupError):
        return False
    return " Z " not in state and "zombie" not in state


def test_run_in_session_timeout_kills_the_tools_it_started(tmp_path):
    pid_file = tmp_path / "tool.pid"

    def hanging_tool():
        proc = subprocess.Popen(["sleep", "300"])
        pid_file.write_text(str(proc.pid))
        print("synthesizing...", flush=True)
        proc.wait()

    start = time.monotonic()
    with pytest.raises(CandidateFailed, match=r"(?s)timed out after 2 s.*synthesizing"):
        run_in_session(hanging_tool, tmp_path / "build.log", timeout_s=2, what="test build", progress=False)
    assert time.monotonic() - start < 20
    tool_pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _running(tool_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(tool_pid)


def test_reports_left_from_an_earlier_run_do_not_count_as_success(tmp_path):
    from hls_backend.vendor import _check_fresh_reports

    (tmp_path / "project.tcl").write_text('set project_name "myproject"\n')
    report = tmp_path / "myproject_prj" / "solution1" / "syn" / "report" / "myproject_csynth.xml"
    report.parent.mkdir(parents=True)
    report.write_text("<profile/>")
    (tmp_path / "vivado_synth.rpt").write_text("")
    build_start = time.time()
    os.utime(report, (build_start - 3600, build_start - 3600))
    with pytest.raises(CandidateFailed, match="no new C-synthesis report"):
        _check_fresh_reports(tmp_path, since=build_start, vsynth=False, what="vivado synthesis")
    os.utime(report, (build_start, build_start))
    _check_fresh_reports(tmp_path, since=build_start, vsynth=False, what="vivado synthesis")
    os.utime(tmp_path / "vivado_synth.rpt", (build_start - 3600, build_start - 3600))
    with pytest.raises(CandidateFailed, match="no new vivado_synth.rpt"):
        _check_fresh_reports(tmp_path, since=build_start, vsynth=True, what="vivado synthesis")
