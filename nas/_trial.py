"""One trial: sample a spec, reject it cheaply if it cannot fit, else train, estimate, save.

Outcomes are exceptions, mapped to trial states by the driver (:mod:`nas.study`):
``BudgetRejection``/``InfeasibleCandidate`` -> PRUNED with the reason, ``CandidateFailed``
-> FAIL with the traceback, ``FatalError`` -> stop. A candidate the study already trained
(same spec fingerprint) is not trained again: its recorded results are reused, because
training is seeded and the second run would only repeat the first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence

from qnas.artifacts import TrialArtifacts
from qnas.data import Dataset
from qnas.errors import CandidateFailed, FatalError
from qnas.spec import ModelSpec

from ._storage import disk_error
from .config import StudyConfig
from .constraints import estimate_for_budget, estimate_summary, precheck, record_constraints

#: user attributes a duplicate candidate copies from the trial that trained it
_REUSED_ATTRS = ("estimate", "metrics_val", "metrics_test", "epochs_run", "train_seconds", "artifacts")


class Trainer(Protocol):
    """What the driver needs from a trainer (``nas.training`` behind :class:`QKerasTrainer`)."""

    def train(self, spec: ModelSpec, dataset: Dataset) -> Any: ...

    def save(self, trained: Any, artifacts: TrialArtifacts, dataset: Dataset) -> None: ...


class QKerasTrainer:
    """QKeras quantization-aware training; TensorFlow loads when the first candidate trains."""

    def __init__(self, settings: Mapping[str, Any], seed: int):
        self.settings = dict(settings)
        self.seed = seed

    def train(self, spec: ModelSpec, dataset: Dataset) -> Any:
        from . import training
        config = training.TrainingConfig(**self.settings, seed=self.seed)
        return training.train_candidate(spec, dataset, config)

    def save(self, trained: Any, artifacts: TrialArtifacts, dataset: Dataset) -> None:
        from . import training
        training.save_trained(trained, artifacts, dataset)


@dataclass(frozen=True)
class Completed:
    """What a later duplicate of a completed candidate reuses."""

    number: int
    values: tuple[float, ...]
    constraints: Mapping[str, float]
    attrs: Mapping[str, Any]

    @classmethod
    def from_frozen(cls, trial) -> "Completed":
        return cls(trial.number, tuple(trial.values), dict(trial.constraints),
                   {k: trial.user_attrs[k] for k in _REUSED_ATTRS if k in trial.user_attrs})


def _scalars(metrics: Mapping[str, Any] | None) -> dict[str, float]:
    """Plain-float copy of the numeric metrics (NumPy scalars are not JSON)."""
    out = {}
    for key, value in (metrics or {}).items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError):
            continue
    return out


class TrialRunner:
    def __init__(self, config: StudyConfig, dataset: Dataset, trainer: Trainer, run_dir: Path,
                 completed: Mapping[str, Completed]):
        self.config = config
        self.dataset = dataset
        self.trainer = trainer
        self.run_dir = run_dir
        self.completed: dict[str, Completed] = dict(completed)
        self.n_inputs = dataset.n_features
        self.n_outputs = dataset.n_classes if dataset.task == "classification" else dataset.n_features

    def run(self, trial) -> list[float]:
        spec = self.config.search_space.sample(trial, self.n_inputs, self.n_outputs)
        fingerprint = spec.fingerprint()
        for key, value in (("spec", spec.to_json(indent=None)), ("architecture", spec.architecture),
                           ("fingerprint", fingerprint), ("family", spec.family),
                           ("n_params", spec.n_params)):
            trial.set_user_attr(key, value)
        if fingerprint in self.completed:
            return self._reuse(trial, self.completed[fingerprint])
        budget = self.config.budget
        pre = precheck(trial, spec, budget)
        trial.set_user_attr("estimate", estimate_summary(pre, "pre-training"))
        trained = self.trainer.train(spec, self.dataset)
        post = estimate_for_budget(spec, budget, trained.weights)
        constraints = record_constraints(trial, budget, post)
        val, test = _scalars(trained.val_metrics), _scalars(trained.metrics)
        for key, value in (("estimate", estimate_summary(post, "trained weights")), ("metrics_val", val),
                           ("metrics_test", test), ("epochs_run", int(trained.epochs_run)),
                           ("train_seconds", float(trained.train_seconds))):
            trial.set_user_attr(key, value)
        values = self._objective_values(spec, val, post)
        self._save(trial, trained, post)
        self.completed[fingerprint] = Completed(trial.number, tuple(values), constraints,
                                                {k: trial.user_attrs[k] for k in _REUSED_ATTRS
                                                 if k in trial.user_attrs})
        return values

    def _objective_values(self, spec: ModelSpec, val: Mapping[str, float], estimate) -> list[float]:
        values = []
        for obj in self.config.objectives:
            if obj.is_quality:
                if obj.metric not in val:
                    raise FatalError(f"the trainer reported no validation metric {obj.metric!r} "
                                     f"(it reported {sorted(val)}); change 'objectives' in the study file")
                value = val[obj.metric]
            elif obj.metric == "n_params":
                value = float(spec.n_params)
            else:
                value = float(getattr(estimate, obj.metric))
            if not math.isfinite(value):
                raise CandidateFailed(f"objective {obj.metric} is {value} for this candidate")
            values.append(value)
        return values

    def _save(self, trial, trained: Any, estimate) -> None:
        artifacts = TrialArtifacts.for_trial(self.run_dir, trial.number)
        try:
            artifacts.root.mkdir(parents=True, exist_ok=True)
            self.trainer.save(trained, artifacts, self.dataset)
            artifacts.estimate.write_text(estimate.to_json())
        except OSError as exc:
            fatal = disk_error(exc, f"the artifacts of trial {trial.number} ({artifacts.root})")
            if fatal is not None:
                raise fatal from exc
            raise
        trial.set_user_attr("artifacts", str(artifacts.root.relative_to(self.run_dir)))

    def _reuse(self, trial, done: Completed) -> list[float]:
        for key, value in done.constraints.items():
            trial.set_constraint(key, value)
        for key, value in done.attrs.items():
            trial.set_user_attr(key, value)
        trial.set_user_attr("duplicate_of", done.number)
        return list(done.values)


def completed_by_fingerprint(trials: Sequence) -> dict[str, Completed]:
    """Completed trials of a (resumed) study, keyed by spec fingerprint."""
    out = {}
    for t in trials:
        fp = t.user_attrs.get("fingerprint")
        if t.state.name == "COMPLETE" and fp and fp not in out and t.values:
            out[fp] = Completed.from_frozen(t)
    return out
