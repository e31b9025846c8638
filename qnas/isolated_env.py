"""Pinned virtual environments for toolsets that cannot share qnas's own environment.

HGQ2 needs Keras 3, and its wheel installs a top-level ``qkeras`` package that overwrites
the real QKeras qnas trains with; so it lives in a venv of its own and qnas talks to it
through files and a subprocess (:func:`run_job`). The same mechanism serves any toolset
registered in :data:`TOOLSETS`.

Where: ``$QNAS_ENV_DIR`` (or ``~/.cache/qnas/envs``) / ``<name>-<hash>``, the hash covering
the pins and the Python version, so changing a pin gives a new environment and never a
half-upgraded one. Creation is atomic: the venv is built in a ``.partial`` directory beside
the final one, checked (every module of ``toolset.imports`` must import), given a marker
file holding the pins, and only then renamed into place; an interrupted or failed creation
leaves nothing that looks ready. A file lock serialises concurrent creators (two studies
starting at once build it once). A venv keeps working after the rename because everything
here runs ``<env>/bin/python`` (``sys.prefix`` follows the interpreter's location); the
console scripts in ``bin/`` keep the build path and are never used.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .errors import FatalError

__all__ = ["TOOLSETS", "ENV_DIR_VAR", "EnvSetupError", "IsolatedEnv", "JobFailed", "Toolset",
           "env_root", "ensure_env", "find_env", "run_job"]

#: overrides the directory that holds every isolated environment
ENV_DIR_VAR = "QNAS_ENV_DIR"
MARKER = "qnas-env.json"
Echo = Callable[[str], None]


class EnvSetupError(FatalError):
    """An isolated environment could not be created; the message quotes pip and names a fix."""


class JobFailed(FatalError):
    """A job run in an isolated environment exited non-zero; the message quotes its stderr."""


@dataclass(frozen=True)
class Toolset:
    """What goes into one environment: pip requirement pins and the modules that must import."""

    name: str
    pins: tuple[str, ...]
    imports: tuple[str, ...]
    about: str = ""

    def key(self, python: str | None = None) -> str:
        """Short hash of the pins and the Python version: the environment's identity."""
        python = python or "%d.%d" % sys.version_info[:2]
        text = json.dumps({"pins": sorted(self.pins), "python": python}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def dirname(self) -> str:
        return f"{self.name}-{self.key()}"


TOOLSETS: dict[str, Toolset] = {
    "hgq2": Toolset(
        name="hgq2",
        pins=("hgq2==0.2.0", "keras==3.15.1", "tensorflow==2.21.0", "da4ml==0.6.0", "hls4ml==1.3.0",
              "numpy>=1.26,<2.5"),
        imports=("hgq", "keras", "da4ml", "hls4ml", "numpy"),
        about="HGQ2 (learned per-weight/per-activation bit widths, Keras 3) for the hgq2_mlp family "
              "(training, and hls4ml C simulation of its designs) and the HGQ2 peer of "
              "benchmarks/pareto_vs_peers.py",
    ),
}


def toolset(name: str) -> Toolset:
    if name not in TOOLSETS:
        raise EnvSetupError(f"unknown toolset {name!r}; known: {', '.join(sorted(TOOLSETS))}")
    return TOOLSETS[name]


def env_root(root: str | Path | None = None) -> Path:
    """The directory holding the environments: ``root``, else ``$QNAS_ENV_DIR``, else the cache."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(ENV_DIR_VAR):
        return Path(os.environ[ENV_DIR_VAR]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "qnas" / "envs"


@dataclass(frozen=True)
class IsolatedEnv:
    """A ready environment: its directory and its interpreter."""

    path: Path
    toolset: Toolset

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def describe(self) -> str:
        return f"{self.toolset.name} environment {self.path} ({', '.join(self.toolset.pins)})"


def _marker_ok(path: Path, ts: Toolset) -> bool:
    try:
        data = json.loads((path / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return data.get("pins") == list(ts.pins) and (path / "bin" / "python").exists()


def find_env(name: str, root: str | Path | None = None) -> IsolatedEnv | None:
    """The ready environment of toolset ``name``, or None if it was never (fully) created."""
    ts = toolset(name)
    path = env_root(root) / ts.dirname
    return IsolatedEnv(path, ts) if _marker_ok(path, ts) else None


@contextlib.contextmanager
def _locked(root: Path, name: str):
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_env(name: str, root: str | Path | None = None, *, python: str | None = None,
               progress: bool = True, echo: Echo = print, pip_args: Sequence[str] = ()) -> IsolatedEnv:
    """Return the ready environment of toolset ``name``, creating it first if needed.

    Creation downloads the pins with pip (TensorFlow alone is ~600 MB) and takes minutes
    once; later calls return at once. ``python`` is the interpreter the venv is made from
    (default: the one running qnas). Raises :class:`EnvSetupError` quoting pip's output.
    """
    ts = toolset(name)
    root = env_root(root)
    found = find_env(name, root)
    if found is not None:
        return found
    try:
        with _locked(root, ts.name):
            found = find_env(name, root)  # another process may have built it while we waited
            if found is not None:
                return found
            return _create(ts, root, python or sys.executable, progress, echo, pip_args)
    except OSError as exc:
        raise EnvSetupError(f"cannot create the {ts.name} environment under {root}: {exc}; "
                            f"point {ENV_DIR_VAR} at a writable directory with a few GB free") from exc


def _create(ts: Toolset, root: Path, python: str, progress: bool, echo: Echo,
            pip_args: Sequence[str]) -> IsolatedEnv:
    final = root / ts.dirname
    partial = root / f".{ts.dirname}.partial"
    log = root / f"{ts.dirname}.log"
    shutil.rmtree(partial, ignore_errors=True)  # left by an interrupted creation
    if final.exists():  # a directory without a valid marker: never trusted, rebuilt
        shutil.rmtree(final)
    started = time.perf_counter()
    try:
        echo(f"qnas env: creating the {ts.name} environment in {final} (once; pip downloads "
             f"{', '.join(ts.pins)})")
        echo(f"qnas env: [1/3] python -m venv  (log: {log})")
        with open(log, "w") as fh:
            _run_logged([python, "-m", "venv", str(partial)], fh, progress=False, echo=echo, what="venv")
            env_python = str(partial / "bin" / "python")
            echo("qnas env: [2/3] pip install (progress below)" if progress else "qnas env: [2/3] pip install")
            _run_logged([env_python, "-m", "pip", "install", "--disable-pip-version-check",
                         *pip_args, *ts.pins], fh, progress=progress, echo=echo, what="pip install")
            echo(f"qnas env: [3/3] checking that {', '.join(ts.imports)} import")
            check = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)\n"
            _run_logged([env_python, "-c", check, *ts.imports], fh, progress=False, echo=echo, what="import check",
                        env=_clean_env())
        marker = {"toolset": ts.name, "pins": list(ts.pins), "python": python,
                  "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "seconds": round(time.perf_counter() - started, 1)}
        (partial / MARKER).write_text(json.dumps(marker, indent=2))
        os.rename(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    echo(f"qnas env: {ts.name} environment ready in {time.perf_counter() - started:.0f} s: {final}")
    return IsolatedEnv(final, ts)


def _run_logged(cmd: list[str], log, *, progress: bool, echo: Echo, what: str,
                env: Mapping[str, str] | None = None) -> None:
    """Run ``cmd``, teeing its output to ``log`` (and to stderr when ``progress``)."""
    tail: deque[str] = deque(maxlen=25)
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=dict(env) if env is not None else None, start_new_session=True)
    except OSError as exc:
        raise EnvSetupError(f"{what} could not start ({exc}); check that {cmd[0]} exists") from exc
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            tail.append(line.rstrip())
            if progress:
                sys.stderr.write(line)
        rc = proc.wait()
    except BaseException:
        _stop(proc)
        raise
    log.flush()
    if rc != 0:
        quoted = "\n    ".join(tail)
        fix = ("check the network/index access of pip (or pass --pip-arg to point pip at a mirror), and that "
               "the pins exist for this Python" if what == "pip install" else
               "see the log above; remove the environment directory and retry")
        raise EnvSetupError(f"{what} failed (exit {rc}); last lines:\n    {quoted}\nFix: {fix}. "
                            f"Full log: {log.name}")


def _stop(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """Terminate a child started with ``start_new_session`` and everything it spawned."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _raise_terminated(signum, frame) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _terminate_raises():
    """While a job runs, SIGTERM unwinds (so the job is stopped too) instead of killing us outright.

    A job runs in its own session (so Ctrl-C reaches only qnas, which then stops it); a
    plain SIGTERM to qnas would otherwise leave it running orphaned. Only the main
    thread's default handler is replaced.
    """
    previous = None
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The parent's environment minus what would leak qnas's packages into the venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra or {})
    return env


def run_job(env: IsolatedEnv, script: str | Path, job_dir: str | Path, request: Mapping[str, Any],
            arrays: Mapping[str, Any] | None = None, *, timeout_s: float | None = None,
            echo: Echo | None = None, extra_env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run ``script`` with the environment's Python on ``job_dir``; return its ``result.json``.

    The exchange is files only: ``request.json`` (and ``data.npz`` from ``arrays``) go in,
    the script writes ``result.json`` last. Its stderr is kept in ``job_dir/stderr.log`` and,
    when ``echo`` is given, passed on line by line (progress). Ctrl-C or a timeout stops the
    script and all its children. A non-zero exit raises :class:`JobFailed` with its last lines.
    """
    import numpy as np

    job = Path(job_dir)
    job.mkdir(parents=True, exist_ok=True)
    (job / "result.json").unlink(missing_ok=True)
    from ._io import atomic_write, write_json_atomic
    write_json_atomic(job / "request.json", dict(request))
    if arrays is not None:
        atomic_write(job / "data.npz", lambda tmp: np.savez(tmp, **dict(arrays)))
    tail: deque[str] = deque(maxlen=30)
    cmd = [str(env.python), str(Path(script).resolve()), str(job.resolve())]
    timed_out = threading.Event()
    with open(job / "stderr.log", "w") as log, _terminate_raises():
        proc = subprocess.Popen(cmd, cwd=job, stdout=log, stderr=subprocess.PIPE, text=True,
                                env=_clean_env(extra_env), start_new_session=True)
        watchdog = None
        if timeout_s is not None:
            watchdog = threading.Timer(timeout_s, lambda: (timed_out.set(), _stop(proc, 2.0)))
            watchdog.daemon = True
            watchdog.start()
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                log.write(line)
                tail.append(line.rstrip())
                if echo is not None and not _is_noise(line):
                    echo(line.rstrip())
            rc = proc.wait()
        except BaseException:  # Ctrl-C included: never leave the job running
            _stop(proc)
            raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
    if timed_out.is_set():
        raise JobFailed(f"{Path(script).name} exceeded its {timeout_s:g} s limit in the "
                        f"{env.toolset.name} environment and was stopped; log: {job / 'stderr.log'}")
    if rc != 0:
        raise JobFailed(f"{Path(script).name} failed in the {env.toolset.name} environment (exit {rc}); "
                        "last lines:\n    " + "\n    ".join(tail)
                        + f"\nFull log: {job / 'stderr.log'}. If the environment is broken, remove "
                          f"{env.path} and run `qnas env {env.toolset.name}` again")
    try:
        return json.loads((job / "result.json").read_text())
    except (OSError, ValueError) as exc:
        raise JobFailed(f"{Path(script).name} exited 0 but wrote no readable result.json in {job} ({exc})") from exc


def _is_noise(line: str) -> bool:
    """TensorFlow's native start-up banners (absl/CUDA), which say nothing to the user."""
    return (line.startswith(("I0000", "W0000", "E0000")) or "cuda" in line.lower() or "oneDNN" in line
            or "absl::InitializeLog" in line)
