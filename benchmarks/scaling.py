"""Trials per hour with 1 and 2 workers on one study, measured side by side in one run.

A small real study (digits, QKeras quantization-aware training, a few epochs) is run to
the same budget twice through the CLI a user would type:

    qnas run STUDY --storage journal:///<tmp>/w1/study.log --workers 1
    qnas run STUDY --storage journal:///<tmp>/w2/study.log --workers 2

(``--storage postgresql://...`` runs both on a PostgreSQL server instead; each gets its
own study name.) Wall time runs from the command's start to its exit, so it includes each
worker's start-up (TensorFlow import) as a user sees it. Trials per hour counts every
trial of the budget (rejected ones included, as ``n_trials`` does).

Two ways to give the workers CPUs (both are measured unless ``--cores`` picks one):

* ``shared``: every run on all the machine's cores. On a machine with few cores one
  TensorFlow worker already keeps them all busy (its intra-op thread pool is as large as
  the core count), so this shows what ``--workers`` adds *on this machine*, not how the
  study scales when each worker brings its own cores.
* ``per-worker``: the run is confined (``taskset``) to one core per worker: 1 worker on 1
  core, 2 workers on 2. That is the scale-out case (each SLURM task or machine brings its
  cores), measured on one machine.

Usage::

    python benchmarks/scaling.py [--trials 10] [--epochs 5] [--cores shared|per-worker|both]
                                 [--storage URL_PREFIX] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def study(name: str, trials: int, epochs: int) -> dict:
    return {
        "name": name, "dataset": "digits", "seed": 0, "n_trials": trials,
        "search_space": {"family": "mlp", "depth": [1, 2], "width": [8, 16, 32],
                         "weight_bits": [8, 6, 4, "ternary"], "reuse_factor": [1, 2, 4]},
        "training": {"epochs": epochs, "batch_size": 128, "learning_rate": 0.005, "patience": 3},
        "objectives": ["accuracy", "lut", "latency_ns"],
        "budget": {"part": "xcvu13p", "clock_ns": 5.0, "max_lut": 0.05},
        "sampler": {"name": "tpe", "n_startup_trials": 4},
    }


def measure(workers: int, trials: int, epochs: int, tmp: Path, storage_prefix: str | None,
            cores: str = "shared") -> dict:
    name = f"scaling-w{workers}-{cores}-{os.getpid()}"
    out = tmp / f"w{workers}-{cores}"
    out.mkdir(parents=True)
    path = out / "study.yaml"
    path.write_text(yaml.safe_dump(study(name, trials, epochs), sort_keys=False))
    storage = storage_prefix or f"journal:///{out / 'study.log'}"
    cmd = [sys.executable, "-m", "qnas.cli", "run", str(path), "--storage", storage, "--workers", str(workers),
           "--out", str(out / "run"), "--no-progress"]
    if cores == "per-worker":
        cmd = ["taskset", "-c", ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:workers])] + cmd
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    started = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout[-2000:]}\n"
                         f"{result.stderr[-2000:]}")
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage
    backend = (JournalStorage(JournalFileBackend(str(out / "study.log"))) if storage.startswith("journal")
               else storage)
    states = [t.state.name for t in optuna.load_study(study_name=name, storage=backend).trials]
    return {"workers": workers, "cores": cores, "trials": len(states), "complete": states.count("COMPLETE"),
            "wall_s": round(wall, 1), "trials_per_hour": round(len(states) / wall * 3600, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--cores", choices=("shared", "per-worker", "both"), default="both",
                        help="shared: all cores for every run; per-worker: one core per worker (taskset)")
    parser.add_argument("--storage", help="a PostgreSQL/MySQL URL to use instead of journal files")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    modes = ("shared", "per-worker") if args.cores == "both" else (args.cores,)
    if "per-worker" in modes and (len(os.sched_getaffinity(0)) < 2 or not shutil.which("taskset")):
        raise SystemExit("scaling: --cores per-worker needs 2 cores and taskset (util-linux); use --cores shared")
    rows, speedup = [], {}
    with tempfile.TemporaryDirectory(prefix="qnas-scaling-") as tmp:
        for mode in modes:
            one, two = (measure(w, args.trials, args.epochs, Path(tmp), args.storage, mode) for w in (1, 2))
            rows += [one, two]
            speedup[mode] = round(two["trials_per_hour"] / one["trials_per_hour"], 3)
    print(f"{'cores':>10} {'workers':>7} {'trials':>6} {'complete':>8} {'wall_s':>8} {'trials/h':>9}")
    for r in rows:
        print(f"{r['cores']:>10} {r['workers']:>7} {r['trials']:>6} {r['complete']:>8} {r['wall_s']:>8.1f} "
              f"{r['trials_per_hour']:>9.1f}")
    for mode, ratio in speedup.items():
        print(f"{mode}: 2 workers / 1 worker = {ratio:.2f}x trials per hour")
    print(f"(cores here: {os.cpu_count()}, load average at the end {os.getloadavg()[0]:.1f})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"runs": rows, "speedup": speedup, "cpu_count": os.cpu_count(),
                                         "load_average_end": round(os.getloadavg()[0], 1),
                                         "trials": args.trials, "epochs": args.epochs}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
