"""One trial: sample a spec, reject it cheaply if it cannot fit, else train, estimate, save.

Outcomes are exceptions, mapped to trial states by the driver (:mod:`nas.study`):
``BudgetRejection``/``InfeasibleCandidate`` -> PRUNED with the reason, ``CandidateFailed``
-> FAIL with the traceback, ``FatalError`` -> stop.

Reuse factors and the strategy change the hardware, not the network: two candidates that
differ only there train to the same weights (training is seeded and deterministic). So a
candidate whose network the study has already trained is not trained again; it takes that
trial's trained weights and metrics (user attribute ``weights_from``), and gets its own
estimate, constraints, objective values and artifacts.

Trainers that learn the precision (HGQ2, :mod:`nas.hgq2`) return the trained spec (with
its per-element formats), which replaces the sampled one, and several designs per
training (``trained.checkpoints``, the front along its beta ramp). Each further design is
estimated, costed and saved under the trial's directory like the trial itself, and
:meth:`TrialRunner.take_checkpoints` hands them to the driver, which records them as
finished trials with the same parameters and the user attribute ``checkpoint_of``.
"""


from __future__ import annotations

import hashlib
import json
import math
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence

from qnas.artifacts import TrialArtifacts
from qnas.data import Dataset
from qnas.errors import CandidateFailed, FatalError
from qnas.spec import ModelSpec
from qnas.weights import ModelWeights

from ._storage import disk_error
from .config import StudyConfig
from .constraints import estimate_for_budget, estimate_summary, precheck, record_constraints


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

    @property
    def promotion(self) -> tuple[int, float]:
        """(extra epochs, quality margin) of multi-fidelity promotion; 0 epochs = off."""
        return (int(self.settings.get("promote_epochs", 0) or 0),
                float(self.settings.get("promote_margin", 0.01)))

    def promote(self, trained: Any, dataset: Dataset) -> Any:
        from . import training
        return training.continue_training(trained, dataset, self.promotion[0])


def training_recipe(spec: ModelSpec) -> str:
    """The training choices the search made for ``spec`` (metadata ``training``), as a key part.

    They change the trained weights though not the network (e.g. the cost-penalty weight),
    so two trials that differ only there are different designs.
    """
    recipe = spec.metadata.get("training")
    return json.dumps(recipe, sort_keys=True) if recipe else ""


def trainer_for(config: StudyConfig, seed: int, echo=None) -> Trainer:
    """The trainer the study's family needs (QKeras unless the family names another)."""
    if getattr(config.search_space, "trainer", "qkeras") == "hgq2":
        from .hgq2 import HGQ2Trainer
        return HGQ2Trainer(seed, echo=echo)
    return QKerasTrainer(config.training, seed)


@dataclass
class CheckpointTrial:
    """A further design of one training, to be recorded as its own finished trial."""

    values: list[float]
    user_attrs: dict[str, Any]
    constraints: dict[str, float]


class _Attrs:
    """Collects what a trial would record (user attributes, constraints) for a later add_trial."""

    def __init__(self) -> None:
        self.user_attrs: dict[str, Any] = {}
        self.constraints: dict[str, float] = {}

    def set_user_attr(self, key: str, value: Any) -> None:
        self.user_attrs[key] = value

    def set_constraint(self, key: str, value: float) -> None:
        self.constraints[key] = float(value)


def network_key(spec: ModelSpec) -> str:
    """Fingerprint of what training sees: the spec without reuse factors, strategy and
    pipelining (how the RTL is cut), plus the training recipe."""
    layers = tuple(replace(layer, reuse_factor=1) for layer in spec.layers)
    key = replace(spec, layers=layers, strategy="latency", pipeline=None).fingerprint()
    recipe = training_recipe(spec)
    return f"{key}+{hashlib.sha256(recipe.encode()).hexdigest()[:8]}" if recipe else key


@dataclass(frozen=True)
class TrainedNetwork:
    """A network the study trained: where its artifacts are and what it scored."""

    number: int
    artifacts: str  # relative to the run directory
    metrics_val: Mapping[str, float]
    metrics_test: Mapping[str, float]
    epochs_run: int
    train_seconds: float

    @classmethod
    def from_frozen(cls, trial) -> "TrainedNetwork | None":
        a = trial.user_attrs
        if trial.state.name != "COMPLETE" or "artifacts" not in a or "metrics_val" not in a:
            return None
        return cls(a.get("weights_from", trial.number), a["artifacts"], a["metrics_val"],
                   a.get("metrics_test", {}), a.get("epochs_run", 0), a.get("train_seconds", 0.0))


def trained_networks(trials: Sequence) -> dict[str, TrainedNetwork]:
    """Networks trained by the completed trials of a (resumed) study, by :func:`network_key`."""
    out: dict[str, TrainedNetwork] = {}
    for t in trials:
        if t.state.name != "COMPLETE":
            continue
        spec_json = t.user_attrs.get("spec")
        net = TrainedNetwork.from_frozen(t) if spec_json else None
        if net is not None:
            key = t.user_attrs.get("network_key") or network_key(ModelSpec.from_json(spec_json))
            out.setdefault(key, net)
    return out


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
                 networks: Mapping[str, TrainedNetwork]):
        self.config = config
        self.dataset = dataset
        self.trainer = trainer
        self.run_dir = run_dir
        self.networks: dict[str, TrainedNetwork] = dict(networks)
        self.n_inputs = dataset.n_features
        self.n_outputs = dataset.n_classes if dataset.task == "classification" else dataset.n_features
        self._checkpoints: list[CheckpointTrial] = []

    @property
    def learns_precision(self) -> bool:
        """Whether the trainer learns the bit widths (HGQ2): then no two trainings share weights."""
        return getattr(self.config.search_space, "trainer", "qkeras") != "qkeras"

    def take_checkpoints(self) -> list[CheckpointTrial]:
        """The further designs of the last trial's training (once)."""
        out, self._checkpoints = self._checkpoints, []
        return out

    def run(self, trial) -> list[float]:
        return self.evaluate(trial, self.draw(trial))

    def draw(self, trial) -> ModelSpec:
        """Sample the trial's candidate and record what identifies it (fast: no estimate yet).

        Workers on a shared study draw inside the claim lock (:mod:`nas._claim`), so each sees
        the candidates the others are training by ``network_key`` before it trains one.
        """
        spec = self._pipelined(self.config.search_space.sample(trial, self.n_inputs, self.n_outputs))
        self._record_spec(trial, spec)
        return spec

    def repeat(self, trial, spec: ModelSpec, n: int) -> ModelSpec:
        """``spec`` as the ``n``-th repeat of its point: trained from another seed (learned precision only)."""
        metadata = {**spec.metadata, "hgq2": {**spec.metadata.get("hgq2", {}), "repeat": int(n)}}
        spec = replace(spec, metadata=metadata)
        trial.set_user_attr("repeat_of_point", int(n))
        self._record_spec(trial, spec)
        return spec

    def _pipelined(self, spec: ModelSpec) -> ModelSpec:
        """``spec`` with the study's stated pipelining (``pipeline:`` in the YAML), if it states one."""
        choice = getattr(self.config, "pipeline", None)
        return spec if choice is None or spec.pipeline == choice else replace(spec, pipeline=choice)

    def _pipelined_trained(self, trained: Any) -> Any:
        """A trainer's result whose (learned) spec carries the study's pipelining too."""
        if trained is None or getattr(trained, "spec", None) is None:
            return trained
        spec = self._pipelined(trained.spec)
        return trained if spec is trained.spec else replace(trained, spec=spec)

    @staticmethod
    def _record_spec(trial, spec: ModelSpec) -> None:
        """Record what identifies a design (the trained spec replaces the sampled one)."""
        for key, value in (("spec", spec.to_json(indent=None)), ("architecture", spec.architecture),
                           ("fingerprint", spec.fingerprint()), ("network_key", network_key(spec)),
                           ("family", spec.family), ("n_params", spec.n_params)):
            trial.set_user_attr(key, value)

    def learn(self, trials: Sequence) -> None:
        """Add the networks other workers trained meanwhile (completed trials in the storage)."""
        for key, net in trained_networks(trials).items():
            self.networks.setdefault(key, net)

    def evaluate(self, trial, spec: ModelSpec) -> list[float]:
        """Estimate, train (or reuse the weights of the same network), estimate again, save."""
        self._checkpoints = []
        budget = self.config.budget
        pre = precheck(trial, spec, budget)
        trial.set_user_attr("estimate", estimate_summary(pre, "pre-training"))
        artifacts = TrialArtifacts.for_trial(self.run_dir, trial.number)
        key = network_key(spec)
        prior = None if self.learns_precision else self.networks.get(key)
        source = TrialArtifacts(self.run_dir / prior.artifacts) if prior is not None else None
        if source is not None and source.spec.exists() and source.weights.exists():
            weights = ModelWeights.load(source.weights)
            net = replace(prior, artifacts=str(artifacts.root.relative_to(self.run_dir)))
            trial.set_user_attr("weights_from", prior.number)
            trained = None
        else:
            trained = self._pipelined_trained(self.trainer.train(spec, self.dataset))
            if trained.spec != spec:  # the trainer learned the precision: its spec is the design
                spec = trained.spec
                self._record_spec(trial, spec)
            weights = trained.weights
            net = TrainedNetwork(trial.number, str(artifacts.root.relative_to(self.run_dir)),
                                 _scalars(trained.val_metrics), _scalars(trained.metrics),
                                 int(trained.epochs_run), float(trained.train_seconds))
        post = estimate_for_budget(spec, budget, weights)
        if trained is not None and self._near_front(trial, spec, net, post):
            trained = self._pipelined_trained(self.trainer.promote(trained, self.dataset))
            weights = trained.weights
            net = TrainedNetwork(trial.number, net.artifacts, _scalars(trained.val_metrics),
                                 _scalars(trained.metrics), int(trained.epochs_run),
                                 float(trained.train_seconds))
            post = estimate_for_budget(spec, budget, weights)
            trial.set_user_attr("promoted", True)
        record_constraints(trial, budget, post)
        for attr, value in (("estimate", estimate_summary(post, "trained weights")),
                            ("metrics_val", dict(net.metrics_val)), ("metrics_test", dict(net.metrics_test)),
                            ("epochs_run", net.epochs_run), ("train_seconds", net.train_seconds)):
            trial.set_user_attr(attr, value)
        values = self._objective_values(spec, net.metrics_val, post)
        self._save(trial, artifacts, spec, trained, prior, post)
        self.networks.setdefault(key, net)
        for n, extra in enumerate(getattr(trained, "checkpoints", None) or []):
            self._checkpoints.append(self._checkpoint_trial(trial.number, n, artifacts, extra))
        return values

    def _checkpoint_trial(self, parent: int, n: int, parent_artifacts: TrialArtifacts, trained) -> CheckpointTrial:
        """Estimate, cost and save one further design of trial ``parent``'s training."""
        rec = _Attrs()
        trained = self._pipelined_trained(trained)
        spec = trained.spec
        self._record_spec(rec, spec)
        post = estimate_for_budget(spec, self.config.budget, trained.weights)
        record_constraints(rec, self.config.budget, post)
        artifacts = TrialArtifacts(parent_artifacts.root / f"checkpoint_{n:03d}")
        for attr, value in (("estimate", estimate_summary(post, "trained weights")),
                            ("metrics_val", _scalars(trained.val_metrics)), ("metrics_test", _scalars(trained.metrics)),
                            ("epochs_run", int(trained.epochs_run)), ("train_seconds", float(trained.train_seconds)),
                            ("checkpoint_of", parent)):
            rec.set_user_attr(attr, value)
        values = self._objective_values(spec, rec.user_attrs["metrics_val"], post)
        self._save(rec, artifacts, spec, trained, None, post)
        return CheckpointTrial(values, rec.user_attrs, rec.constraints)

    def _near_front(self, trial, spec: ModelSpec, net: TrainedNetwork, estimate) -> bool:
        """Multi-fidelity: is this short-trained candidate worth training longer?

        Yes unless a finished feasible trial beats it by more than the margin in every
        quality objective while costing no more in every other objective (Optuna cannot
        prune multi-objective trials, so the study spends the long training itself).
        """
        epochs, margin = getattr(self.trainer, "promotion", (0, 0.0))
        if epochs <= 0 or self.config.budget.violations(estimate):
            return False  # off, or over budget with its trained weights: never on the front
        from optuna.trial import TrialState
        mine = self._objective_values(spec, net.metrics_val, estimate)
        signs = [1.0 if o.direction == "maximize" else -1.0 for o in self.config.objectives]
        for other in trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            if any(c > 0 for c in other.constraints.values()):
                continue
            beats = all(
                s * (theirs - ours) > margin if o.is_quality else s * (theirs - ours) >= 0
                for o, s, theirs, ours in zip(self.config.objectives, signs, other.values, mine))
            if beats:
                return False
        return True

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

    def _save(self, trial, artifacts: TrialArtifacts, spec: ModelSpec, trained: Any,
              prior: TrainedNetwork | None, estimate) -> None:
        """Write the trial's artifacts; spec.json comes last so ``exists()`` means complete.

        ``trial`` only receives the ``artifacts`` attribute (a live trial, or the recorder
        of a checkpoint trial)."""
        try:
            artifacts.root.mkdir(parents=True, exist_ok=True)
            if trained is not None:
                self.trainer.save(trained, artifacts, self.dataset)
            else:  # same network as trial prior.number: its files, this trial's spec
                source = self.run_dir / prior.artifacts
                for path in sorted(source.iterdir()):
                    if path.name not in (artifacts.spec.name, artifacts.estimate.name) and path.is_file():
                        shutil.copy2(path, artifacts.root / path.name)
                artifacts.spec.write_text(spec.to_json())
            artifacts.estimate.write_text(estimate.to_json())
        except OSError as exc:
            fatal = disk_error(exc, f"the trial artifacts in {artifacts.root}")
            if fatal is not None:
                raise fatal from exc
            raise
        trial.set_user_attr("artifacts", str(artifacts.root.relative_to(self.run_dir)))
