"""``qnas run`` and ``qnas worker``: run, resume or join a search (imports stay lazy until it runs)."""

from __future__ import annotations

import argparse
import random
import sys

from qnas.cli import int_at_least, positive_int

#: the defaults of nas.study (repeated here so that ``qnas --help`` imports neither Optuna nor pandas)
HEARTBEAT_S, GRACE_S, MAX_RETRIES = 10, 60, 2

_STORAGE_HELP = ("Optuna storage URL: sqlite:///<file>.db (default <out>/study.db, one process), "
                 "postgresql://user:password@host:5432/db or mysql://... (many workers, any machine), "
                 "journal:///<shared path>.log (many workers on a shared filesystem)")


def _shared_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", type=positive_int, metavar="N",
                        help="total number of trials the study should hold (default: n_trials of the file)")
    parser.add_argument("--seed", type=int, metavar="INT",
                        help="seed for data split, training and sampler (default: seed of the file)")
    parser.add_argument("--heartbeat", type=positive_int, default=HEARTBEAT_S, metavar="S",
                        help=f"shared storages: seconds between a running trial's heartbeats (default {HEARTBEAT_S})")
    parser.add_argument("--grace", type=positive_int, default=GRACE_S, metavar="S",
                        help="shared storages: seconds without heartbeat after which a trial's worker counts as "
                             f"lost; its trial is failed and its candidate retried (default {GRACE_S})")
    parser.add_argument("--max-retries", type=int_at_least(0), default=MAX_RETRIES, metavar="K",
                        help=f"how often a lost worker's candidate is retried (default {MAX_RETRIES})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "run", help="run (or resume) a quantization-aware architecture search",
        description="Run the multi-objective search declared in a study YAML. Results: "
                    "<out>/results.csv and .parquet (one row per trial), trained trials under "
                    "<out>/trials/, the Optuna study in SQLite (default <out>/study.db) or in the --storage.")
    parser.add_argument("config", metavar="STUDY_YAML", help="study file, e.g. studies/default.yaml")
    parser.add_argument("--storage", metavar="URL", help=_STORAGE_HELP)
    parser.add_argument("--workers", type=positive_int, default=None, metavar="N",
                        help="worker processes on this machine (default: the study's workers:, else 1); with "
                             "N > 1 and no --storage they share an Optuna journal file, <out>/study.log")
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted study of the same name in the same storage")
    parser.add_argument("--out", metavar="DIR",
                        help="run directory, also where trained trials go (default: runs/<study name>); "
                             "with workers on several machines, a path they all reach")
    _shared_options(parser)
    parser.set_defaults(func=run_command)

    worker = subparsers.add_parser(
        "worker", help="join a study on a shared storage as one more worker (any machine)",
        description="Run trials of the study in STUDY_YAML on a shared storage until its budget is met, "
                    "together with any other workers (qnas run --workers, SLURM array tasks, other "
                    "machines). Creates the study if it does not exist yet; refuses a study of the same "
                    "name made from a different study file.")
    worker.add_argument("config", metavar="STUDY_YAML", help="the study's file (the same for every worker)")
    worker.add_argument("--storage", metavar="URL", help=_STORAGE_HELP + "; default: storage of the file")
    worker.add_argument("--out", metavar="DIR",
                        help="where trained trials go (default: the study's run directory, as recorded in it)")
    worker.add_argument("--worker-index", type=int_at_least(0), metavar="K",
                        help="this worker's number, e.g. $SLURM_ARRAY_TASK_ID: gives it its own reproducible "
                             "sampler seed (default: a random one)")
    _shared_options(worker)
    worker.set_defaults(func=worker_command)
    return parser


def run_command(args: argparse.Namespace) -> int:
    from .config import load_study_config
    from .study import StudyInterrupted, run_study

    config = load_study_config(args.config)
    try:
        workers = args.workers if args.workers is not None else config.workers
        if workers > 1:
            from ._pool import run_pool
            return run_pool(config, workers, n_trials=args.trials, storage=args.storage, resume=args.resume,
                            out=args.out, seed=args.seed, heartbeat_s=args.heartbeat, grace_s=args.grace,
                            max_retries=args.max_retries, progress=not args.no_progress)
        run_study(config, n_trials=args.trials, storage=args.storage, resume=args.resume, out=args.out,
                  seed=args.seed, progress=not args.no_progress, heartbeat_s=args.heartbeat, grace_s=args.grace,
                  max_retries=args.max_retries)
    except StudyInterrupted as exc:
        print(f"qnas run: {exc}", file=sys.stderr)
        return 130
    return 0


def worker_command(args: argparse.Namespace) -> int:
    from qnas.errors import FatalError

    from .config import load_study_config
    from .study import StudyInterrupted, run_study

    config = load_study_config(args.config)
    if not (args.storage or config.storage):
        raise FatalError("a worker needs the study's storage: pass --storage URL (e.g. "
                         "postgresql://user@host/db or journal:///<shared path>.log), or set storage: in "
                         f"{args.config}")
    index = args.worker_index if args.worker_index is not None else random.SystemRandom().randrange(1, 2**20)
    try:
        run_study(config, n_trials=args.trials, storage=args.storage, out=args.out, seed=args.seed,
                  progress=not args.no_progress, join=True, worker_index=index, heartbeat_s=args.heartbeat,
                  grace_s=args.grace, max_retries=args.max_retries)
    except StudyInterrupted as exc:
        print(f"qnas worker: {exc}", file=sys.stderr)
        return 130
    return 0
