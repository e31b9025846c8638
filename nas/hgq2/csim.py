"""hls4ml C simulation of an HGQ2-trained design, in HGQ2's environment.

``qnas export`` checks every bundle twice against the trained model: RTL simulation of
the da4ml Verilog (in qnas's own environment) and hls4ml C simulation. For an HGQ2 model
the latter must load the Keras 3 checkpoint, so it runs :mod:`nas.hgq2.csim_worker` in the
isolated environment and reads back the C simulation's outputs.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["CSIM_WORKER", "csim_outputs"]

CSIM_WORKER = Path(__file__).with_name("csim_worker.py")


def csim_outputs(model: str | Path, x: np.ndarray, y: np.ndarray, project: str | Path, *, part: str,
                 clock_ns: float, backend: str = "Vitis", echo: Callable[[str], None] | None = None,
                 env_dir: str | Path | None = None) -> np.ndarray:
    """Convert ``model`` (an HGQ2 ``.keras``) with hls4ml into ``project``, compile, predict ``x``."""
    from qnas.isolated_env import ensure_env, run_job

    env = ensure_env("hgq2", env_dir, progress=echo is not None, echo=echo or (lambda _: None))
    job = Path(tempfile.mkdtemp(prefix="qnas-hgq2-csim-"))
    try:
        run_job(env, CSIM_WORKER, job, {"protocol": 1, "model": str(Path(model).resolve()), "part": part,
                                       "clock_ns": float(clock_ns), "backend": backend,
                                       "project": str(Path(project).resolve())},
                {"x": np.asarray(x, np.float64), "y": np.asarray(y, np.float64)}, echo=echo)
        return np.load(job / "y_hls.npy")
    finally:
        shutil.rmtree(job, ignore_errors=True)
