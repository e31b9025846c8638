"""``qnas run``: run or resume a search from a study YAML (imports stay lazy until it runs)."""

from __future__ import annotations

import argparse
import sys

from qnas.cli import positive_int


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "run", help="run (or resume) a quantization-aware architecture search",
        description="Run the multi-objective search declared in a study YAML. Results: "
                    "<out>/results.csv and .parquet (one row per trial), trained trials under "
                    "<out>/trials/, the Optuna study in SQLite (default <out>/study.db).")
    parser.add_argument("config", metavar="STUDY_YAML", help="study file, e.g. studies/default.yaml")
    parser.add_argument("--trials", type=positive_int, metavar="N",
                        help="total number of trials the study should hold (default: n_trials of the file)")
    parser.add_argument("--storage", metavar="URL",
                        help="Optuna storage URL (default: sqlite:///<out>/study.db)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted study of the same name in the same storage")
    parser.add_argument("--seed", type=int, metavar="INT",
                        help="seed for data split, training and sampler (default: seed of the file)")
    parser.add_argument("--out", metavar="DIR", help="run directory (default: runs/<study name>)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")
    parser.set_defaults(func=run_command)
    return parser


def run_command(args: argparse.Namespace) -> int:
    from .config import load_study_config
    from .study import StudyInterrupted, run_study

    config = load_study_config(args.config)
    try:
        run_study(config, n_trials=args.trials, storage=args.storage, resume=args.resume, out=args.out,
                  seed=args.seed, progress=not args.no_progress)
    except StudyInterrupted as exc:
        print(f"qnas run: {exc}", file=sys.stderr)
        return 130
    return 0
