"""The study driver's own logic, with a cheap trainer standing in for QKeras.

Real training is exercised end to end in the slow test of test_cli_run.py; here the
trainer only has to record calls and return grid-valid weights, so each test checks the
driver: which trials get trained, what is recorded, how a study resumes.
"""

import errno
import os
import signal

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from _study_helpers import FakeTrainer, small_study
from nas.config import StudyConfig
from nas.study import ImpossibleBudget, StudyInterrupted, run_study
from qnas.errors import CandidateFailed, ConfigError, FatalError
from qnas.spec import ModelSpec


def _run(tmp_path, trainer, data=None, **kwargs):
    config = StudyConfig.from_dict(data or small_study())
    return run_study(config, out=tmp_path / "run", trainer=trainer, progress=False, echo=lambda s: None,
                     **kwargs)


def _trials(tmp_path, name="t"):
    return optuna.load_study(study_name=name, storage=f"sqlite:///{tmp_path / 'run' / 'study.db'}").trials


def test_over_budget_candidates_are_rejected_before_training(tmp_path):
    trainer = FakeTrainer()
    data = small_study(n_trials=30, budget={"part": "xcvu13p", "clock_ns": 5.0, "max_lut": 0.005})
    result = _run(tmp_path, trainer, data)
    trials = _trials(tmp_path)
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert pruned and complete, "the budget should split this space"
    trained = {s.fingerprint() for s in trainer.trained}
    for t in pruned:
        assert t.user_attrs["fingerprint"] not in trained  # no training call for it
        assert t.user_attrs["reason"].startswith("over budget before training (")
        assert "LUT" in t.user_attrs["reason"] and t.user_attrs["rejected_by"] == "estimator"
        assert t.constraints["lut"] > 0  # the sampler sees why
        assert t.user_attrs["estimate"]["stage"] == "pre-training"
    assert len(trainer.trained) == len({t.user_attrs["fingerprint"] for t in complete
                                        if "weights_from" not in t.user_attrs})
    for t in complete:
        assert all(v <= 0 for v in t.constraints.values())
        assert t.user_attrs["estimate"]["stage"] == "trained weights"
        assert ModelSpec.from_json(t.user_attrs["spec"]).fingerprint() == t.user_attrs["fingerprint"]
    table = result.table
    assert list(table["number"]) == list(range(30))
    assert set(table.loc[table.state == "PRUNED", "feasible"]) == {False}
    assert (table.loc[table.state == "PRUNED", "reason"].str.len() > 0).all()


def test_impossible_budget_stops_with_a_message_naming_the_budget(tmp_path):
    trainer = FakeTrainer()
    data = small_study(n_trials=100, max_consecutive_rejections=6,
                       budget={"part": "xcvu13p", "clock_ns": 5.0, "max_latency_ns": 1})
    with pytest.raises(ImpossibleBudget) as err:
        _run(tmp_path, trainer, data)
    assert trainer.trained == []
    message = str(err.value)
    assert "last 6 candidates" in message and "budget.max_latency_ns=1" in message
    assert len(_trials(tmp_path)) == 6
    assert len(pd.read_csv(tmp_path / "run" / "results.csv")) == 6


def test_results_table_one_row_per_trial_in_csv_and_parquet(tmp_path):
    result = _run(tmp_path, FakeTrainer())
    csv = pd.read_csv(result.csv_path)
    parquet = pd.read_parquet(result.parquet_path)
    assert len(csv) == len(parquet) == 8 == len(_trials(tmp_path))
    for column in ("number", "state", "feasible", "reason", "architecture", "objective_accuracy",
                   "val_accuracy", "test_accuracy", "est_lut", "est_ff", "est_latency_ns", "estimator",
                   "param:depth", "dense_0/reuse_factor", "spec"):
        assert column in csv.columns, column
    done = csv[csv.state == "COMPLETE"]
    assert len(done) > 0
    by_number = {t.number: t for t in _trials(tmp_path)}
    for _, row in done.iterrows():  # each row carries the estimate recorded on its trial
        estimate = by_number[row["number"]].user_attrs["estimate"]
        assert row["estimator"] == estimate["producer"] and row["estimator"].startswith("qnas.")
        assert row["est_lut"] == pytest.approx(estimate["lut"])
    assert result.pareto and set(result.pareto) <= set(done["number"])


def test_artifacts_and_estimate_saved_per_completed_trial(tmp_path):
    trainer = FakeTrainer()
    _run(tmp_path, trainer)
    for t in _trials(tmp_path):
        if t.state == TrialState.COMPLETE:
            root = tmp_path / "run" / t.user_attrs["artifacts"]
            assert (root / "spec.json").exists() and (root / "estimate.json").exists()
    assert len(trainer.saved) == len(trainer.trained)


def test_the_studys_pipelining_is_stated_on_every_design_and_its_estimate(tmp_path):
    import json

    from qnas.pipeline import Pipelining

    trainer = FakeTrainer()
    _run(tmp_path, trainer, small_study(n_trials=4, pipeline={"adders_per_stage": 1}))
    assert trainer.trained and all(spec.pipeline == Pipelining(adders_per_stage=1) for spec in trainer.trained)
    done = [t for t in _trials(tmp_path) if t.state == TrialState.COMPLETE]
    assert done
    for t in done:
        assert ModelSpec.from_json(t.user_attrs["spec"]).pipeline == Pipelining(adders_per_stage=1)
        root = tmp_path / "run" / t.user_attrs["artifacts"]
        assert ModelSpec.from_json((root / "spec.json").read_text()).pipeline == Pipelining(adders_per_stage=1)
    # resuming with another pipelining would mix designs cut differently: refused
    with pytest.raises(FatalError, match="pipeline"):
        _run(tmp_path, FakeTrainer(), small_study(n_trials=5, pipeline={"adders_per_stage": 2}), resume=True)


def test_pareto_set_holds_only_feasible_trials(tmp_path):
    data = small_study(n_trials=25, budget={"part": "xcvu13p", "clock_ns": 5.0, "max_lut": 0.005})
    result = _run(tmp_path, FakeTrainer(), data)
    by_number = {t.number: t for t in _trials(tmp_path)}
    assert result.pareto
    for n in result.pareto:
        assert by_number[n].state == TrialState.COMPLETE
        assert all(v <= 0 for v in by_number[n].constraints.values())


def _interrupt_on(call: int):
    def on_train(spec, index):
        if index == call:
            raise KeyboardInterrupt
    return on_train


def test_resume_after_ctrl_c_loses_and_duplicates_nothing(tmp_path):
    data = small_study(n_trials=10)
    with pytest.raises(StudyInterrupted) as err:
        _run(tmp_path, FakeTrainer(on_train=_interrupt_on(3)), data)
    assert "--resume" in err.value.resume_command and "--resume" in str(err.value)
    before = _trials(tmp_path)
    interrupted = [t for t in before if t.state == TrialState.FAIL]
    assert len(interrupted) == 1 and interrupted[0].user_attrs["interrupted"] is True
    assert "Ctrl-C" in interrupted[0].user_attrs["reason"]
    assert len(pd.read_csv(tmp_path / "run" / "results.csv")) == len(before)
    kept = {t.number: t.values for t in before if t.state == TrialState.COMPLETE}

    trainer = FakeTrainer()
    _run(tmp_path, trainer, data, resume=True)
    after = _trials(tmp_path)
    numbers = [t.number for t in after]
    assert numbers == list(range(len(after)))  # numbers continue, none duplicated
    assert {t.number: t.values for t in after if t.number in kept} == kept  # nothing lost
    counted = [t for t in after if not t.user_attrs.get("interrupted")]
    assert len(counted) == 10 and all(t.state.is_finished() for t in after)
    retry = [t for t in after if t.user_attrs.get("retry_of") == interrupted[0].number]
    assert len(retry) == 1 and retry[0].params == interrupted[0].params
    assert len(pd.read_csv(tmp_path / "run" / "results.csv")) == len(after)

    # a second resume of a finished study runs nothing and re-queues nothing
    trainer2 = FakeTrainer()
    result = _run(tmp_path, trainer2, data, resume=True)
    assert result.n_run == 0 and trainer2.trained == [] and len(_trials(tmp_path)) == len(after)


def test_real_sigint_marks_the_running_trial_failed(tmp_path):
    def sigint(spec, index):
        if index == 2:
            os.kill(os.getpid(), signal.SIGINT)
    with pytest.raises(StudyInterrupted, match="will run again"):
        _run(tmp_path, FakeTrainer(on_train=sigint), small_study(n_trials=6))
    failed = [t for t in _trials(tmp_path) if t.state == TrialState.FAIL]
    assert len(failed) == 1 and failed[0].user_attrs["interrupted"] is True
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_ctrl_c_whose_exception_was_swallowed_still_stops_after_the_trial(tmp_path):
    # like a KeyboardInterrupt raised inside a weakref callback, which Python prints and drops
    def swallowed(spec, index):
        if index == 1:
            try:
                os.kill(os.getpid(), signal.SIGINT)
            except KeyboardInterrupt:
                pass
    with pytest.raises(StudyInterrupted) as err:
        _run(tmp_path, FakeTrainer(on_train=swallowed), small_study(n_trials=20))
    trials = _trials(tmp_path)
    assert len(trials) < 20 and all(t.state != TrialState.FAIL for t in trials)
    assert trials[-1].state == TrialState.COMPLETE and "--resume" in str(err.value)


def test_resume_marks_a_trial_left_running_by_a_crash_as_failed(tmp_path):
    data = small_study(n_trials=4)
    _run(tmp_path, FakeTrainer(), data)
    study = optuna.load_study(study_name="t", storage=f"sqlite:///{tmp_path / 'run' / 'study.db'}")
    crashed = study.ask()  # a process died here: the trial stays RUNNING
    crashed.suggest_categorical("depth", [1, 2])
    _run(tmp_path, FakeTrainer(), small_study(n_trials=6), resume=True)
    after = {t.number: t for t in _trials(tmp_path)}
    assert after[crashed.number].state == TrialState.FAIL
    assert "marked failed on resume" in after[crashed.number].user_attrs["reason"]
    assert sum(1 for t in after.values() if not t.user_attrs.get("interrupted")) == 6
    assert any(t.user_attrs.get("retry_of") == crashed.number for t in after.values())


def test_existing_study_without_resume_is_refused(tmp_path):
    _run(tmp_path, FakeTrainer(), small_study(n_trials=2))
    with pytest.raises(FatalError, match="already has 2 trials.*--resume"):
        _run(tmp_path, FakeTrainer(), small_study(n_trials=2))


def test_resume_with_other_objectives_dataset_or_seed_is_refused(tmp_path):
    _run(tmp_path, FakeTrainer(), small_study(n_trials=2))
    with pytest.raises(FatalError, match="objectives=.*not be comparable"):
        _run(tmp_path, FakeTrainer(), small_study(n_trials=3, objectives=["accuracy", "ff", "latency_ns"]),
             resume=True)
    with pytest.raises(FatalError, match="seed=0.*seed=4"):
        _run(tmp_path, FakeTrainer(), small_study(n_trials=3), resume=True, seed=4)
    with pytest.raises(FatalError, match="dataset='digits'"):
        _run(tmp_path, FakeTrainer(), small_study(n_trials=3, dataset="jets"), resume=True)


def test_failed_candidate_is_recorded_with_traceback_and_the_study_goes_on(tmp_path):
    def on_train(spec, index):
        if index == 1:
            raise CandidateFailed("loss became NaN at epoch 2")
    _run(tmp_path, FakeTrainer(on_train=on_train), small_study(n_trials=6))
    trials = _trials(tmp_path)
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert len(failed) == 1 and "CandidateFailed: loss became NaN" in failed[0].user_attrs["reason"]
    assert "Traceback" in failed[0].user_attrs["traceback"]
    assert len(trials) == 6


def test_repeated_failures_stop_the_study(tmp_path):
    def on_train(spec, index):
        raise CandidateFailed("broken")
    with pytest.raises(FatalError, match="5 trials in a row failed"):
        _run(tmp_path, FakeTrainer(on_train=on_train), small_study(n_trials=50))


def test_fatal_error_stops_at_once_with_its_message(tmp_path):
    def on_train(spec, index):
        raise FatalError("hls4ml is required for this step")
    with pytest.raises(FatalError, match="hls4ml is required"):
        _run(tmp_path, FakeTrainer(on_train=on_train), small_study(n_trials=5))
    trials = _trials(tmp_path)
    assert len(trials) == 1 and trials[0].state == TrialState.FAIL


def test_full_disk_while_saving_gives_one_clear_message_and_keeps_trials(tmp_path):
    class FullDisk(FakeTrainer):
        def save(self, trained, artifacts, dataset):
            if len(self.saved) == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            super().save(trained, artifacts, dataset)
    with pytest.raises(FatalError, match="disk is full.*--resume"):
        _run(tmp_path, FullDisk(), small_study(n_trials=8))
    trials = _trials(tmp_path)
    assert sum(t.state == TrialState.COMPLETE for t in trials) >= 2
    assert len(pd.read_csv(tmp_path / "run" / "results.csv")) == len(trials)


def test_unwritable_storage_path_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    config = StudyConfig.from_dict(small_study())
    with pytest.raises(FatalError, match="storage directory.*--storage"):
        run_study(config, out=tmp_path / "run", storage=f"sqlite:///{blocker}/sub/study.db",
                  trainer=FakeTrainer(), progress=False, echo=lambda s: None)
    with pytest.raises(FatalError, match="run directory"):
        run_study(config, out=blocker / "run", trainer=FakeTrainer(), progress=False, echo=lambda s: None)


def test_family_must_match_the_dataset_task(tmp_path):
    data = small_study(dataset="digits-anomaly", objectives=["roc_auc", "lut"])
    with pytest.raises(ConfigError, match="is an autoencoder dataset"):
        _run(tmp_path, FakeTrainer(), data)


def test_autoencoder_study_runs(tmp_path):
    data = small_study(dataset="digits-anomaly", objectives=["roc_auc", "lut"], n_trials=4,
                       search_space={"family": "autoencoder", "depth": [1], "width": [16, 8],
                                     "latent": [4]})
    trainer = FakeTrainer()
    result = _run(tmp_path, trainer, data)
    assert all(s.task == "autoencoder" and s.n_outputs == 64 for s in trainer.trained)
    assert len(result.table) == 4


def test_distributed_arithmetic_study_runs(tmp_path):
    """The main job's strategy, with the cheap trainer: no reuse factor drawn, the DA estimator used."""
    data = small_study(n_trials=6, search_space={"family": "mlp", "depth": [1, 2], "width": [4, 8],
                                                 "weight_bits": [6, 4, "ternary"],
                                                 "strategy": ["distributed_arithmetic"],
                                                 "output": {"weight_bits": [8, 6]}})
    trainer = FakeTrainer()
    result = _run(tmp_path, trainer, data)
    assert len(result.table) == 6 and trainer.trained
    assert all(s.strategy == "distributed_arithmetic" and all(l.reuse_factor == 1 for l in s.layers)
               for s in trainer.trained)
    trials = _trials(tmp_path)
    assert not [p for t in trials for p in t.params if p.endswith("/reuse_index")]
    done = result.table[result.table.state == "COMPLETE"]
    assert len(done) and done["estimator"].str.startswith("qnas.da.").all()
    assert result.pareto and set(result.pareto) <= set(done["number"])


def test_same_seed_reproduces_the_candidates(tmp_path):
    data = small_study(n_trials=6, sampler={"name": "tpe", "n_startup_trials": 3})
    a = _run(tmp_path / "a", FakeTrainer(), data).table["fingerprint"].tolist()
    b = _run(tmp_path / "b", FakeTrainer(), data).table["fingerprint"].tolist()
    c = _run(tmp_path / "c", FakeTrainer(), data, seed=1).table["fingerprint"].tolist()
    assert a == b
    assert len(set(a)) > 3  # a constant sampler would pass the equality above
    assert a != c


def test_nsga2_with_constraints_runs(tmp_path):
    data = small_study(n_trials=12, sampler={"name": "nsga2", "population_size": 4},
                       budget={"part": "xcvu13p", "clock_ns": 5.0, "max_lut": 0.005})
    from nas.study import make_sampler

    config = StudyConfig.from_dict(data)
    sampler = make_sampler(config, 0)
    assert isinstance(sampler, optuna.samplers.NSGAIISampler) and sampler._population_size == 4
    result = _run(tmp_path, FakeTrainer(), data)
    assert len(result.table) == 12
    complete = [t for t in _trials(tmp_path) if t.state == TrialState.COMPLETE]
    # every trained trial carries its budget constraints, and "feasible" is exactly "all <= 0"
    assert complete and all(t.constraints for t in complete)
    table = result.table.set_index("number")
    for t in complete:
        assert bool(table.loc[t.number, "feasible"]) == all(v <= 0 for v in t.constraints.values())
    feasible = {t.number for t in complete if all(v <= 0 for v in t.constraints.values())}
    assert set(result.pareto) <= feasible
    # the budget binds: some trained candidates are over it, some within
    assert feasible and len(feasible) < len(complete) or any(t.state == TrialState.PRUNED for t in _trials(tmp_path))


def test_a_network_is_trained_once_whatever_its_reuse_factors(tmp_path):
    data = small_study(n_trials=14, search_space={"family": "mlp", "depth": [1], "width": [8],
                                                  "weight_bits": [8], "reuse_factor": [1, 2, 4, 8]})
    trainer = FakeTrainer()
    result = _run(tmp_path, trainer, data)
    table = result.table.set_index("number")
    assert len(trainer.trained) == 1  # one network; only reuse factors vary
    reused = table[table["weights_from"].notna()]
    assert len(reused) == 13 and set(reused["weights_from"]) == {0}
    assert (reused["objective_accuracy"] == table.loc[0, "objective_accuracy"]).all()
    assert table["est_latency_ns"].nunique() > 1  # but each gets its own estimate
    for number in reused.index:
        art = tmp_path / "run" / table.loc[number, "artifacts"]
        spec = ModelSpec.from_json((art / "spec.json").read_text())
        assert spec.fingerprint() == table.loc[number, "fingerprint"]
        assert (art / "weights.npz").exists() and (art / "estimate.json").exists()
    assert len(set(result.pareto)) == len({table.loc[n, "fingerprint"] for n in result.pareto})
