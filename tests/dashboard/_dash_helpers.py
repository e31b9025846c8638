"""Build real qnas studies cheaply (FakeTrainer) for the dashboard tests."""

from pathlib import Path

from _study_helpers import FakeTrainer, small_study
from nas.config import StudyConfig
from nas.study import run_study


def make_run(root: Path, n_trials: int, resume: bool = False, **budget) -> Path:
    """Run (or extend to ``n_trials``) a digits study in ``root/run``; return the run directory."""
    data = small_study(n_trials=n_trials, max_consecutive_rejections=1000,
                       budget={"part": "xcvu13p", "clock_ns": 5.0, **budget})
    run_study(StudyConfig.from_dict(data), out=root / "run", trainer=FakeTrainer(), progress=False,
              echo=lambda s: None, resume=resume)
    return root / "run"
