"""Search throughput: trials per hour on the default study, and what the estimator saves.

Runs a study for real (QKeras training, the estimator as ``estimators.estimate`` runs it)
in a fresh run directory and reports, from the study's own records:

* trials per hour (every finished trial) and trained trials per hour (a candidate that
  differs from an earlier one only in reuse factors/strategy reuses its trained network),
* the share of candidates rejected by the estimator before training (fraction of all
  trials), and the median cost of such a rejection against the median trained trial,
* the Pareto set size at the end.

Usage::

    python benchmarks/search_throughput.py [--config studies/default.yaml] [--trials N]
                                           [--out DIR] [--json PATH]

Fractions are written as fractions (0.25, not 25 %), times in seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nas.config import load_study_config  # noqa: E402
from nas.study import run_study  # noqa: E402


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def measure(config_path: Path, n_trials: int | None, out: Path) -> dict:
    config = load_study_config(config_path)
    start = time.perf_counter()
    result = run_study(config, n_trials=n_trials, out=out, progress=False, echo=lambda s: None)
    wall = time.perf_counter() - start
    table = result.table
    n = len(table)
    rejected = table[table["rejected_by"] == "estimator"]
    trained = table[(table["state"] == "COMPLETE") & table["weights_from"].isna()]
    reused = int(table["weights_from"].notna().sum())
    failed = int((table["state"] == "FAIL").sum())
    return {
        "study": config.name,
        "config": str(config_path),
        "estimator": str(trained["estimator"].iloc[0]) if len(trained) else None,
        "trials": n,
        "trained_trials": len(trained),
        "reused_trained_networks": reused,
        "failed_trials": failed,
        "wall_seconds": wall,
        "trials_per_hour": n / wall * 3600 if wall else None,
        "trained_trials_per_hour": len(trained) / wall * 3600 if wall else None,
        "rejected_before_training_fraction": len(rejected) / n if n else None,
        "median_rejection_seconds": _median(rejected["duration_s"].dropna().tolist()),
        "median_trained_trial_seconds": _median(trained["duration_s"].dropna().tolist()),
        "median_train_seconds": _median(trained["train_seconds"].dropna().tolist()),
        "pareto_size": len(result.pareto),
        "run_dir": str(out),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "studies" / "default.yaml")
    parser.add_argument("--trials", type=int, default=None, help="default: n_trials of the study")
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: a temporary one)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qnas-throughput-") as tmp:
        out = args.out or Path(tmp) / "run"
        results = measure(args.config, args.trials, out)
    width = max(len(k) for k in results)
    for key, value in results.items():
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
