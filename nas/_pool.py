"""``qnas run --workers N``: N worker processes on this machine, one shared study.

The parent checks and creates the study (so every message about a bad URL, server or
study file comes once, before any worker starts), then starts N ``qnas worker``
processes - the same command a SLURM task or another machine runs - and shows the
study's progress from the storage until they are done. Each worker's log is
``<out>/workers/worker-<i>.log``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from qnas.errors import FatalError

from ._storage import default_storage
from .config import StudyConfig
from .storage_url import parse_storage_url
from .study import StudyInterrupted, open_study, pareto_trial_numbers

__all__ = ["run_pool"]


def _worker_command(config: StudyConfig, url: str, run_dir: Path, n_total: int, seed: int, index: int,
                    heartbeat_s: int, grace_s: int, max_retries: int) -> list[str]:
    return [sys.executable, "-m", "qnas.cli", "worker", str(config.source), "--storage", url,
            "--out", str(run_dir), "--trials", str(n_total), "--seed", str(seed), "--worker-index", str(index),
            "--heartbeat", str(heartbeat_s), "--grace", str(grace_s), "--max-retries", str(max_retries),
            "--no-progress"]


def _tail(path: Path, n: int = 6) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "(no log)"
    return "\n    ".join(lines[-n:])


def run_pool(config: StudyConfig, workers: int, *, n_trials: int | None, storage: str | None, resume: bool,
             out: str | None, seed: int | None, heartbeat_s: int, grace_s: int, max_retries: int,
             progress: bool = True, echo: Callable[[str], None] = print) -> int:
    """Run the study with ``workers`` local processes; returns the exit code for the CLI."""
    from optuna.trial import TrialState

    from ._progress import Progress
    from ._worker import budget_state
    from .results_table import build_table, format_pareto, write_table

    if config.source is None:
        raise FatalError("--workers needs the study as a file (each worker reads it); save it as YAML")
    run_dir = Path(out or config.out or Path("runs") / config.name).resolve()
    given = storage or config.storage or default_storage(run_dir, workers)
    if not parse_storage_url(given).shared:
        raise FatalError(f"--workers {workers} needs a storage several processes can share; {given} is SQLite "
                         f"(one process at a time). Use --storage postgresql://user@host/db or "
                         f"journal:///{run_dir}/study.log (README: 'Many workers')")
    if config.sampler.name == "nsga2" and config.sampler.population_size < workers:
        echo(f"qnas run: note: NSGA-II population_size {config.sampler.population_size} < {workers} workers; "
             "generations fill from completed trials, so each may overfill by up to one trial per worker "
             "- a population of at least the number of workers keeps them meaningful")
    opened = open_study(config, n_trials=n_trials, storage=given, resume=resume, out=out, seed=seed,
                        heartbeat_s=heartbeat_s, grace_s=grace_s, max_retries=max_retries, echo=echo)
    opened.close()
    study, run_dir, n_total, url = opened.study, opened.run_dir, opened.n_total, opened.storage
    if getattr(config.search_space, "trainer", "qkeras") == "hgq2":
        # created here once, with its progress on this terminal, not N times behind a lock in
        # the workers' logs
        from qnas.isolated_env import ensure_env
        ensure_env("hgq2", progress=progress, echo=echo)
    logs = run_dir / "workers"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    procs: list[tuple[subprocess.Popen, Path]] = []
    for index in range(workers):
        log = logs / f"worker-{index}.log"
        with open(log, "w") as fh:
            cmd = _worker_command(config, url.url, run_dir, n_total, opened.seed, index, heartbeat_s, grace_s,
                                  max_retries)
            procs.append((subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL),
                          log))
    echo(f"qnas run: {workers} workers on study {config.name!r} ({url.redacted}); logs in {logs}")

    def counted() -> int:
        return budget_state(study.get_trials(deepcopy=False)).counted

    done = counted()
    bar = Progress(n_total, min(done, n_total), config.name, disable=not progress)
    try:
        while any(p.poll() is None for p, _ in procs):
            time.sleep(1.0)
            try:
                now = counted()
            except Exception:  # the server may be restarting; the workers say so in their logs
                continue
            for _ in range(max(0, min(now, n_total) - done)):
                bar.update("-", {"workers": sum(p.poll() is None for p, _ in procs)})
            done = max(done, now)
    except KeyboardInterrupt:
        bar.close()
        _stop(procs)
        command = " ".join(["qnas run", str(config.source), "--resume", "--workers", str(workers),
                            "--storage", url.url] + (["--out", str(out)] if out else [])
                           + (["--trials", str(n_trials)] if n_trials is not None else []))
        raise StudyInterrupted(f"interrupted: {counted()}/{n_total} trials are kept in {url.redacted}; "
                               f"running trials were marked failed and will run again. Continue with: {command}",
                               command) from None
    bar.close()
    failed = [(i, p.returncode, log) for i, (p, log) in enumerate(procs) if p.returncode != 0]
    for index, code, log in failed:
        echo(f"qnas run: worker {index} exited with code {code}; the end of {log}:\n    {_tail(log)}")
    trials = study.get_trials(deepcopy=False)
    table = build_table(trials, config.objectives)
    write_table(table, run_dir)
    pareto = pareto_trial_numbers(study)
    states = budget_state(trials)
    echo(f"\nPareto set ({len(pareto)} feasible trials):")
    echo(format_pareto(table, pareto, config.objectives))
    n_complete = sum(t.state == TrialState.COMPLETE for t in trials)
    echo(f"\nqnas run: {states.counted}/{n_total} trials ({n_complete} complete) by {workers} workers in "
         f"{time.perf_counter() - started:.0f} s; results in {run_dir / 'results.csv'}")
    return 1 if failed else 0


def _stop(procs) -> None:
    """Ctrl-C: each worker marks its trial failed and queues its candidate again, then exits."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and any(p.poll() is None for p, _ in procs):
        time.sleep(0.1)  # a terminal's Ctrl-C reached them already
    for p, _ in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 60
    for p, _ in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.terminate()
