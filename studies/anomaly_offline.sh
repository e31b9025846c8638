#!/usr/bin/env bash
# Run the embedded anomaly-detection trigger study (offline, 2 CPU cores, <= 30 min).
# Extra arguments go to `qnas run`, e.g.:  studies/anomaly_offline.sh --resume
#                                          studies/anomaly_offline.sh --trials 8 --out runs/anomaly-8
# Results: runs/anomaly-offline/results.csv (.parquet), trials/, study.db; per-signal
# efficiencies are in each trial's metrics (eff_<signal>) and in `qnas report runs/anomaly-offline`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec nice -n 10 qnas run studies/anomaly_offline.yaml "$@"
