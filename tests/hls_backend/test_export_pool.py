"""``qnas export --workers N``: the designs of a study exported in a pool, one task per design."""

import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from test_bundle import _trial

from hls_backend.manifest import read_manifest
from qnas.artifacts import TrialArtifacts


@pytest.mark.slow  # two Verilator builds
def test_export_pool_builds_every_design_of_the_study(tmp_path):
    run = tmp_path / "run"
    art, spec = _trial(run)
    # a second trained trial: the same files under another number
    other = TrialArtifacts.for_trial(run, 4)
    other.root.mkdir(parents=True)
    for path in art.root.iterdir():
        (other.root / path.name).write_bytes(path.read_bytes())
    storage = f"sqlite:///{run / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=storage, directions=["maximize", "minimize"])
    for key, value in {"run_dir": str(run), "part": "xcvu13p", "clock_ns": 5.0}.items():
        study.set_user_attr(key, value)
    for number in (3, 4):
        study.add_trial(optuna.trial.create_trial(values=[0.9, 10.0 + number], user_attrs={
            "artifacts": f"trials/{number:05d}", "fingerprint": f"f{number}"}))
    root = Path(__file__).resolve().parents[2]
    numbers = [t.number for t in study.trials]
    cmd = [sys.executable, "-m", "qnas.cli", "export", str(run), "--no-csim", "--workers", "2",
           "--out", str(tmp_path / "fw"), "--vectors", "30"] + [a for n in numbers for a in ("--trial", str(n))]
    # the stored trial numbers are 0 and 1; their artifacts are trials/00003 and trials/00004
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=root,
                            env={**__import__("os").environ, "PYTHONPATH": str(root)})
    assert result.returncode == 0, result.stderr + result.stdout
    for number in numbers:
        manifest = read_manifest(tmp_path / "fw" / f"trial_{number:05d}")
        assert manifest["spec_fingerprint"] == spec.fingerprint()
        assert manifest["results"]["rtl_sim"]["vectors_mismatched"] == 0
    exported = optuna.load_study(study_name="s", storage=storage).user_attrs
    assert {f"export/{n}" for n in numbers} <= set(exported)
    assert json.dumps(exported[f"export/{numbers[0]}"])
