"""``workers:`` in a study file and ``qnas run --workers N`` without a storage URL.

Several processes on one machine share an Optuna journal file in the run directory
(``study.log``); SQLite stays the one-process default. Every reader of a run directory
(export, report, resume) finds whichever of the two the run wrote.
"""

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml

from _study_helpers import small_study
from hls_backend.study_access import open_finished_study, storage_url
from nas._storage import default_storage, run_dir_storage
from nas.config import StudyConfig
from qnas.errors import ConfigError, FatalError

ROOT = Path(__file__).resolve().parents[2]


def test_workers_key_is_validated_at_its_key():
    assert StudyConfig.from_dict(small_study()).workers == 1
    assert StudyConfig.from_dict(small_study(workers=3)).workers == 3
    for bad in (0, -1, "two", 1.5):
        with pytest.raises(ConfigError, match="workers"):
            StudyConfig.from_dict(small_study(workers=bad))


def test_default_storage_is_sqlite_for_one_process_and_a_journal_for_several(tmp_path):
    run = tmp_path / "run"
    assert default_storage(run) == f"sqlite:///{run.resolve() / 'study.db'}"
    assert default_storage(run, workers=2) == f"journal:///{str(run.resolve() / 'study.log').lstrip('/')}"
    assert run_dir_storage(run) is None


def test_the_study_already_in_the_run_directory_wins(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "study.log").write_text("")
    assert default_storage(run).startswith("journal:///")  # a --resume by one process finds it
    (run / "study.db").write_text("")
    assert default_storage(run, workers=4).startswith("sqlite:///")  # then --workers is refused with the fix


def test_readers_of_a_run_directory_say_what_they_expect(tmp_path):
    with pytest.raises(FatalError, match="no study.db or study.log"):
        storage_url(str(tmp_path))


def _env():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TF_CPP_MIN_LOG_LEVEL="3", QNAS_TF_THREADS="1")
    return env


@pytest.mark.slow
def test_study_workers_key_runs_local_workers_on_a_journal_in_the_run_dir(tmp_path):
    study = tmp_path / "s.yaml"
    study.write_text(yaml.safe_dump(small_study(n_trials=4, workers=2,
                                                search_space={"family": "mlp", "depth": [1], "width": [4, 8],
                                                              "weight_bits": [8, 4], "reuse_factor": [1]})))
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "qnas.cli", "run", str(study), "--out", str(out),
                             "--no-progress"], env=_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 workers" in result.stdout
    assert (out / "study.log").exists() and not (out / "study.db").exists()
    assert sorted(p.name for p in (out / "workers").glob("worker-*.log")) == ["worker-0.log", "worker-1.log"]
    found = open_finished_study(str(out))  # what qnas export / synth / verify open
    trials = found.study.get_trials(deepcopy=False)
    assert len(trials) == 4
    assert all(t.state == optuna.trial.TrialState.COMPLETE or t.state == optuna.trial.TrialState.PRUNED
               for t in trials)
    from studies.dashboard.data import resolve_target
    target = resolve_target(str(out))  # what qnas report opens
    assert target.url.startswith("journal:///") and target.run_dir == out.resolve()

    # one process continuing the same run directory finds the journal, not a new SQLite file
    again = subprocess.run([sys.executable, "-m", "qnas.cli", "run", str(study), "--out", str(out), "--workers",
                            "1", "--trials", "5", "--resume", "--no-progress"], env=_env(), capture_output=True,
                           text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert not (out / "study.db").exists()
    assert len(open_finished_study(str(out)).study.get_trials(deepcopy=False)) == 5
