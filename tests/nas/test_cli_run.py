"""``qnas run``: options, error paths, Ctrl-C, and one real end-to-end search (slow)."""

import argparse

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml
from optuna.trial import TrialState

from _study_helpers import FakeTrainer, small_study
from nas import _trial as trial_module
from nas.cli import register, run_command
from qnas.artifacts import TrialArtifacts
from qnas.errors import ConfigError
from qnas.spec import ModelSpec
from qnas.weights import ModelWeights


def _parse(*argv):
    parser = argparse.ArgumentParser(prog="qnas")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["run", *argv])


def _study_file(tmp_path, **changes):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(small_study(**changes)))
    return path


def test_options_parse():
    args = _parse("s.yaml", "--trials", "7", "--storage", "sqlite:///x.db", "--resume", "--seed", "3",
                  "--out", "d", "--no-progress")
    assert (args.config, args.trials, args.storage, args.resume, args.seed, args.out) == \
        ("s.yaml", 7, "sqlite:///x.db", True, 3, "d")
    assert args.func is run_command


@pytest.mark.parametrize("bad", ["0", "-2", "many"])
def test_trials_must_be_a_positive_integer(bad, capsys):
    with pytest.raises(SystemExit):
        _parse("s.yaml", "--trials", bad)
    assert "positive integer" in capsys.readouterr().err


def test_bad_study_file_stops_before_anything_runs(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(small_study(search_space={"family": "mlp", "depth": [1], "width": []})))
    with pytest.raises(ConfigError) as err:
        run_command(_parse(str(path), "--out", str(tmp_path / "run")))
    assert err.value.path == "search_space.width"
    assert not (tmp_path / "run").exists()


def test_run_writes_table_and_honours_trials_seed_and_out(tmp_path, monkeypatch):
    # the cheap trainer replaces QKeras here: this test is about the command's plumbing
    monkeypatch.setattr(trial_module, "QKerasTrainer", lambda settings, seed: FakeTrainer())
    out = tmp_path / "run"
    code = run_command(_parse(str(_study_file(tmp_path)), "--trials", "3", "--out", str(out), "--seed", "5",
                              "--no-progress"))
    assert code == 0
    table = pd.read_csv(out / "results.csv")
    assert len(table) == 3
    assert (out / "study.db").exists() and (out / "results.parquet").exists()
    # --seed 5 reached the study: recorded on it, and it draws seed 5's candidates, not seed 0's
    study = optuna.load_study(study_name="t", storage=f"sqlite:///{out / 'study.db'}")
    assert study.user_attrs["seed"] == 5
    from nas.config import StudyConfig
    from nas.study import run_study

    def fingerprints(seed, where):
        res = run_study(StudyConfig.from_dict(small_study()), n_trials=3, out=where, seed=seed,
                        trainer=FakeTrainer(), progress=False, echo=lambda s: None)
        return res.table["fingerprint"].tolist()

    assert table["fingerprint"].tolist() == fingerprints(5, tmp_path / "s5")
    assert table["fingerprint"].tolist() != fingerprints(0, tmp_path / "s0")


def test_ctrl_c_returns_130_and_says_how_to_resume(tmp_path, monkeypatch, capsys):
    def interrupt(spec, index):
        if index == 1:
            raise KeyboardInterrupt
    monkeypatch.setattr(trial_module, "QKerasTrainer", lambda settings, seed: FakeTrainer(on_train=interrupt))
    path = _study_file(tmp_path)
    out = tmp_path / "run"
    code = run_command(_parse(str(path), "--out", str(out), "--no-progress"))
    assert code == 130
    err = capsys.readouterr().err
    assert f"qnas run {path} --resume --out {out}" in err and "marked failed" in err

    monkeypatch.setattr(trial_module, "QKerasTrainer", lambda settings, seed: FakeTrainer())
    assert run_command(_parse(str(path), "--out", str(out), "--resume", "--no-progress")) == 0
    table = pd.read_csv(out / "results.csv")
    assert list(table["number"]) == list(range(len(table)))
    assert (table["state"] == "FAIL").sum() == 1 and len(table) == 9


@pytest.mark.slow
def test_real_search_trains_saves_and_reports(tmp_path, capsys):
    """A tiny study with real QKeras training, end to end through the command."""
    path = _study_file(
        tmp_path, n_trials=4, training={"epochs": 3, "batch_size": 256},
        search_space={"family": "mlp", "depth": [1], "width": [8], "weight_bits": ["ternary", "binary", 6],
                      "reuse_factor": [1, 2]},
        sampler={"name": "random"})
    out = tmp_path / "run"
    assert run_command(_parse(str(path), "--out", str(out), "--no-progress")) == 0
    assert "Pareto set" in capsys.readouterr().out
    study = optuna.load_study(study_name="t", storage=f"sqlite:///{out / 'study.db'}")
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert complete
    for t in complete:
        art = TrialArtifacts(out / t.user_attrs["artifacts"])
        assert art.exists() and art.estimate.exists()
        spec = ModelSpec.from_json(art.spec.read_text())
        weights = ModelWeights.load(art.weights)
        weights.check(spec)  # trained values lie on the quantization grid
        if spec.layers[0].weight.kind == "ternary":
            assert set(np.unique(weights[0].kernel)) <= {-1.0, 0.0, 1.0}
        assert 0.0 < t.user_attrs["metrics_val"]["accuracy"] <= 1.0
        assert t.user_attrs["estimate"]["stage"] == "trained weights"
    assert len(pd.read_csv(out / "results.csv")) == 4
