"""One real worker process for the worker tests: the qnas driver with the cheap trainer.

``python _fake_worker.py SETTINGS_JSON``: settings name the storage, run directory,
budget, worker index, seconds each training takes, heartbeat/grace, whether this is a
``run`` (``join: false``) or a joining worker, and a file where every finished training
appends its network key (so a test can check no network was trained twice).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _study_helpers import FakeTrainer, small_study  # noqa: E402

from nas._trial import network_key  # noqa: E402
from nas.config import StudyConfig  # noqa: E402
from nas.study import StudyInterrupted, run_study  # noqa: E402
from qnas.errors import QnasError  # noqa: E402


class LoggingTrainer(FakeTrainer):
    def __init__(self, log: str, seconds: float):
        super().__init__()
        self.log, self.seconds = log, seconds

    def train(self, spec, dataset):
        time.sleep(self.seconds)
        trained = super().train(spec, dataset)
        with open(self.log, "a") as fh:
            fh.write(f"{network_key(spec)} {os.getpid()}\n")
        return trained


def main() -> int:
    s = json.loads(sys.argv[1])
    config = StudyConfig.from_dict(small_study(n_trials=s["n_trials"], **s.get("study", {})))
    try:
        run_study(config, storage=s["storage"], out=s["out"], trainer=LoggingTrainer(s["log"], s["seconds"]),
                  progress=False, join=s.get("join", True), resume=s.get("resume", False),
                  worker_index=s.get("index"), heartbeat_s=s.get("heartbeat", 1), grace_s=s.get("grace", 3),
                  max_retries=s.get("max_retries", 2), poll_s=0.3)
    except StudyInterrupted as exc:
        print(f"interrupted: {exc}", file=sys.stderr)
        return 130
    except QnasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
