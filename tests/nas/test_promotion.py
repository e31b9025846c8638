"""Multi-fidelity: the study trains longer only the candidates near its current front."""

from dataclasses import replace

import optuna
from optuna.trial import TrialState

from _study_helpers import FakeTrainer, small_study
from nas.config import StudyConfig
from nas.study import run_study


class PromotingTrainer(FakeTrainer):
    """FakeTrainer whose promotion adds 0.05 validation accuracy and records who got it."""

    def __init__(self, epochs: int, margin: float):
        super().__init__()
        self.promotion = (epochs, margin)
        self.promoted: list[str] = []

    def promote(self, trained, dataset):
        self.promoted.append(trained.spec.fingerprint())
        val = {**trained.val_metrics, "accuracy": trained.val_metrics["accuracy"] + 0.05}
        return replace(trained, val_metrics=val, epochs_run=trained.epochs_run + self.promotion[0])


def _run(tmp_path, trainer, n_trials=20):
    config = StudyConfig.from_dict(small_study(n_trials=n_trials, training={"epochs": 2, "promote_epochs": 5,
                                                                            "promote_margin": 0.0}))
    run_study(config, out=tmp_path / "run", trainer=trainer, progress=False, echo=lambda s: None)
    return optuna.load_study(study_name="t", storage=f"sqlite:///{tmp_path / 'run' / 'study.db'}").trials


def test_only_candidates_near_the_front_are_promoted_and_their_longer_training_counts(tmp_path):
    trainer = PromotingTrainer(epochs=5, margin=0.0)
    trials = [t for t in _run(tmp_path, trainer) if t.state == TrialState.COMPLETE]
    promoted = [t for t in trials if t.user_attrs.get("promoted")]
    assert trials[0].user_attrs.get("promoted")  # the first candidate is the front
    assert 0 < len(promoted) < len(trials)  # some, not all
    assert len(trainer.promoted) == len(promoted)
    for t in promoted:  # the objective is the promoted (longer-trained) accuracy
        assert t.values[0] == t.user_attrs["metrics_val"]["accuracy"]
        assert t.user_attrs["epochs_run"] == 3 + 5
    # a candidate not promoted was beaten, when it ran, by a finished trial costing no more
    for t in trials:
        if t.user_attrs.get("promoted") or "weights_from" in t.user_attrs:
            continue
        earlier = [o for o in trials if o.number < t.number]
        assert any(o.values[0] > t.values[0] and o.values[1] <= t.values[1] and o.values[2] <= t.values[2]
                   for o in earlier), t.number


def test_promotion_is_off_by_default(tmp_path):
    trainer = PromotingTrainer(epochs=0, margin=0.0)
    trials = _run(tmp_path, trainer, n_trials=6)
    assert trainer.promoted == [] and not any(t.user_attrs.get("promoted") for t in trials)
