"""A trainer that learns precision returns several designs per training (HGQ2's front).

The driver records the trained spec (not the sampled placeholder) and every further
checkpoint as a finished trial with the same parameters; those do not count toward
n_trials, carry their own estimate, constraints and artifacts, and export reads them.
"""

from dataclasses import dataclass, field, replace

import numpy as np
import optuna
from optuna.trial import TrialState

from nas.config import StudyConfig
from nas.study import pareto_trial_numbers, run_study
from qnas.artifacts import TrialArtifacts
from qnas.spec import DenseLayerSpec, ElementFormats, ModelSpec, Quantizer
from qnas.weights import LayerWeights, ModelWeights


@dataclass
class _Design:
    spec: ModelSpec
    weights: ModelWeights
    metrics: dict
    val_metrics: dict
    epochs_run: int = 5
    train_seconds: float = 0.01
    checkpoints: list = field(default_factory=list)


class _LearnsPrecision:
    """Returns per-element-format specs: a wide, accurate design and narrower checkpoints."""

    def __init__(self):
        self.calls = 0

    def _design(self, sampled: ModelSpec, bits: int, acc: float) -> _Design:
        rng = np.random.default_rng(bits)
        layers, weights = [], []
        for layer, n_in, _ in sampled.layer_inputs():
            k = rng.integers(-(2 ** (bits - 1)), 2 ** (bits - 1), (n_in, layer.units)) / 2.0 ** (bits - 1)
            b = np.zeros(layer.units)
            fmts = None if layer.activation is None else ElementFormats((0,) * layer.units, (2,) * layer.units,
                                                                        (bits - 2,) * layer.units)
            layers.append(replace(layer, weight=Quantizer.fixed(bits, 0), bias=Quantizer.fixed(2, 0),
                                  activation=None if fmts is None else fmts.envelope(False), activation_formats=fmts))
            weights.append(LayerWeights(k, b))
        n = sampled.n_inputs
        fm = ElementFormats((1,) * n, (3,) * n, (bits - 3,) * n)
        spec = replace(sampled, layers=tuple(layers), input_formats=fm, input_quantizer=fm.envelope(True))
        return _Design(spec, ModelWeights(weights), {"accuracy": acc - 0.01}, {"accuracy": acc})

    def train(self, spec, dataset):
        self.calls += 1
        best = self._design(spec, 6, 0.9)
        best.checkpoints = [self._design(spec, 4, 0.8), self._design(spec, 3, 0.7)]
        return best

    def save(self, trained, artifacts, dataset):
        artifacts.spec.write_text(trained.spec.to_json())
        trained.weights.save(artifacts.weights)
        artifacts.hgq2_model.write_bytes(b"arrays")


def test_checkpoints_become_trials_with_the_same_params(tmp_path):
    config = StudyConfig.from_dict({
        "name": "h", "dataset": "digits", "n_trials": 2, "seed": 0,
        "search_space": {"family": "hgq2_mlp", "depth": [1], "width": [4, 8], "recipe": {"epochs": 2,
                                                                                        "beta_hold_epochs": 1}},
        "objectives": ["accuracy", "lut"], "budget": {"part": "xcvu13p", "clock_ns": 5.0},
        "sampler": {"name": "random"}})
    trainer = _LearnsPrecision()
    result = run_study(config, out=tmp_path / "run", trainer=trainer, progress=False, echo=lambda s: None)
    study = optuna.load_study(study_name="h", storage=result.storage)
    trials = study.get_trials()
    assert trainer.calls == 2  # n_trials counts the candidates asked for, not their checkpoints
    assert len(trials) == 6 and all(t.state == TrialState.COMPLETE for t in trials)
    asked = [t for t in trials if "checkpoint_of" not in t.user_attrs]
    for parent in asked:
        spec = ModelSpec.from_json(parent.user_attrs["spec"])
        assert spec.heterogeneous  # the trained spec, not the sampled placeholder
        kids = [t for t in trials if t.user_attrs.get("checkpoint_of") == parent.number]
        assert len(kids) == 2
        luts = [parent.values[1]] + [k.values[1] for k in kids]
        assert luts == sorted(luts, reverse=True)  # narrower checkpoints cost less
        for kid in kids:
            assert kid.params == parent.params
            assert kid.user_attrs["fingerprint"] != parent.user_attrs["fingerprint"]
            assert set(kid.system_attrs.get("constraints", ()) or ()) or any(
                k.startswith("constraints") for k in kid.system_attrs)
            art = TrialArtifacts(tmp_path / "run" / kid.user_attrs["artifacts"])
            assert art.exists() and art.trainer == "hgq2" and art.root.parent.name == f"{parent.number:05d}"
    assert set(result.table["number"]) == {t.number for t in trials}
    assert pareto_trial_numbers(study)  # the front is over every design


def test_thinning_keeps_the_ends_and_leaves_no_gap():
    from nas.hgq2.worker import thin
    # a front dense at the cheap end: 20 points below 1k EBOPs, 5 spread up to 100k
    cheap = [(0.60 + 0.004 * j, 100.0 + 40 * j, j, None) for j in range(20)]
    dear = [(0.70 + 0.002 * j, 10.0 ** (3 + j), 20 + j, None) for j in range(5)]
    kept = thin(cheap + dear, 10)
    assert len(kept) == 10
    ebops = sorted(p[1] for p in kept)
    assert ebops[0] == 100.0 and max(p[0] for p in kept) == dear[-1][0]
    assert all(b / a < 11 for a, b in zip(ebops, ebops[1:]))  # no decade-plus hole
    assert thin(cheap[:3], 8) == sorted(cheap[:3], key=lambda p: p[1])


def test_a_point_drawn_again_trains_again_from_another_seed(tmp_path):
    # HGQ2 learns the precision, so there are no weights to reuse: a repeated point is a new
    # training (another initialisation, another front), never a wait for the first one's copy
    config = StudyConfig.from_dict({
        "name": "h", "dataset": "digits", "n_trials": 3, "seed": 0,
        "search_space": {"family": "hgq2_mlp", "depth": [1], "width": [4], "recipe": {"epochs": 2,
                                                                                    "beta_hold_epochs": 1}},
        "objectives": ["accuracy", "lut"], "budget": {"part": "xcvu13p", "clock_ns": 5.0},
        "sampler": {"name": "random"}})
    repeats = []

    class Recording(_LearnsPrecision):
        def train(self, spec, dataset):
            repeats.append(spec.metadata["hgq2"].get("repeat", 0))
            return super().train(spec, dataset)

    trainer = Recording()
    result = run_study(config, out=tmp_path / "run", trainer=trainer, progress=False, echo=lambda s: None)
    assert repeats == [0, 1, 2]
    study = optuna.load_study(study_name="h", storage=result.storage)
    asked = [t for t in study.get_trials() if "checkpoint_of" not in t.user_attrs]
    assert [t.user_attrs.get("repeat_of_point", 0) for t in asked] == [0, 1, 2]
    assert all(t.user_attrs.get("weights_from") is None for t in asked)



def test_a_repeat_reaches_hgq2_as_another_seed(monkeypatch):
    import qnas.isolated_env
    from nas.datasets import load_dataset
    from nas.hgq2.trainer import HGQ2Trainer
    from search_spaces import build_search_space

    seeds = []

    def run_job(env, worker, job, request, arrays, echo=None):
        seeds.append(request["seed"])
        raise KeyboardInterrupt  # stop before any training: only the request matters here

    monkeypatch.setattr(qnas.isolated_env, "run_job", run_job)
    trainer = HGQ2Trainer(5)
    monkeypatch.setattr(trainer, "_env", lambda: None)
    space = build_search_space({"family": "hgq2_mlp", "depth": [1], "width": [4]}, "search_space")
    spec = space.sample(optuna.trial.FixedTrial({"input/bits": 7, "input/integer": 3, "depth": 1,
                                                 "beta_start": 2e-6, "beta_end": 1e-3, "dense_0/units": 4}), 64, 10)
    data = load_dataset("digits", {}, 0)
    for repeat in (0, 0, 1, 2):
        again = replace(spec, metadata={**spec.metadata, "hgq2": {**spec.metadata["hgq2"], "repeat": repeat}})
        try:
            trainer.train(again, data)
        except KeyboardInterrupt:
            pass
    assert seeds[0] == seeds[1] == 5 and len(set(seeds)) == 3
