#!/usr/bin/env bash
# Run the embedded default study (offline, scikit-learn digits, 2 CPU cores, < 10 min).
# Extra arguments go to `qnas run`, e.g.:  studies/default.sh --resume
#                                          studies/default.sh --trials 80 --out runs/digits-80
# Results: runs/digits-default/results.csv (.parquet), trials/, study.db (open with optuna-dashboard).
set -euo pipefail
cd "$(dirname "$0")/.."
exec nice -n 10 qnas run studies/default.yaml "$@"
