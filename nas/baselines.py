"""Reference models on a study's front: ``baselines:`` and ``warm_start:`` in the study YAML.

A baseline is a trained model the user already has (a folder written by ``qnas import``, or
a trial folder of another run). It is scored on the study's own data split and costed by
the study's estimator at the study's part and clock, so it sits on the same axes as every
trial and the user sees what the search bought. Scoring uses the NumPy golden model
(:func:`qnas.fixed_point.reference_forward`), which is what the firmware computes, so no
TensorFlow is needed for it.

A warm start enqueues the model's architecture as the study's first trial(s), trained
afresh like any other candidate (the parameters come from
:func:`search_spaces.warm_start.params_for`). With many workers the "is the study still
empty?" check and the enqueue must be one step across all of them, so
:func:`enqueue_warm_starts` runs inside the study's claim lock (:func:`nas._claim.claim_lock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager

from qnas.artifacts import TrialArtifacts
from qnas.errors import ConfigError
from qnas.spec import ModelSpec, SpecError

__all__ = ["Reference", "enqueue_warm_starts", "evaluate_baselines", "load_reference", "parse_reference_paths"]


@dataclass(frozen=True)
class Reference:
    name: str
    path: Path
    spec: ModelSpec


def load_reference(path: str | Path, where: str) -> Reference:
    """The spec of a model folder; ConfigError at ``where`` if it is not one."""
    folder = Path(path).expanduser()
    art = TrialArtifacts(folder)
    if not folder.is_dir() or not art.spec.is_file() or not art.weights.is_file():
        raise ConfigError(where, f"{folder} is not a model folder (it needs spec.json and weights.npz); give a "
                                 "folder written by `qnas import MODEL --out DIR`, or a trial folder "
                                 "runs/<study>/trials/<n>")
    try:
        spec = ModelSpec.from_json(art.spec.read_text())
    except (SpecError, KeyError, ValueError, TypeError) as exc:
        raise ConfigError(where, f"{art.spec} is not a valid ModelSpec JSON: {exc}") from None
    return Reference(folder.name, folder.resolve(), spec)


def parse_reference_paths(value: Any, path: str) -> tuple[Reference, ...]:
    """``baselines``/``warm_start``: a list of model folders (a single string is one)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ConfigError(path, f"must be a list of model folders (e.g. [imported/tagger]); got {value!r}")
    return tuple(load_reference(item, f"{path}[{i}]") for i, item in enumerate(items))


def enqueue_warm_starts(study, warm_start, lock: Callable[[], ContextManager],
                        echo: Callable[[str], None], first_trials: tuple = ()) -> int:
    """Enqueue the warm starts, then ``first_trials``, as a fresh study's first trials; how many.

    ``warm_start`` is ``StudyConfig.warm_start`` ((Reference, params) pairs), ``first_trials``
    ``StudyConfig.first_trials`` (checked parameter dicts) and ``lock`` the study's claim lock.
    The check that the study holds no trial yet and the enqueue happen under that lock: two
    workers starting together on a new study would otherwise both see it empty and both
    enqueue, so each point would be trained twice and take two budget slots. A study that
    already has trials (a resume, a later worker) gets none.
    """
    if not warm_start and not first_trials:
        return 0
    with lock():
        if study.get_trials(deepcopy=False):
            return 0
        for ref, params in warm_start:
            study.enqueue_trial(params, user_attrs={"warm_start": str(ref.path)})
        for i, params in enumerate(first_trials):
            study.enqueue_trial(params, user_attrs={"first_trial": i})
    for ref, _ in warm_start:
        echo(f"qnas run: warm start: the first trial is {ref.name} ({ref.spec.architecture})")
    if first_trials:
        echo(f"qnas run: {len(first_trials)} search point(s) from first_trials are trained first")
    return len(warm_start) + len(first_trials)


def evaluate_baselines(references, dataset, budget, objectives, pipeline=None) -> list[dict[str, Any]]:
    """Each reference scored on ``dataset`` (validation and test splits) and estimated under ``budget``.

    ``pipeline`` (the study's stated :class:`qnas.pipeline.Pipelining`, if any) replaces the
    reference's own, so it is costed as the study's designs are pipelined.
    """
    from dataclasses import replace

    import numpy as np

    from estimators import estimate
    from qnas.fixed_point import reference_forward
    from qnas.weights import ModelWeights

    from .metrics import autoencoder_metrics, classification_metrics

    out = []
    for i, ref in enumerate(references):
        where = f"baselines[{i}]"
        spec = ref.spec if pipeline is None else replace(ref.spec, pipeline=pipeline)
        if spec.n_inputs != dataset.n_features:
            raise ConfigError(where, f"{ref.path} takes {spec.n_inputs} inputs; dataset {dataset.name!r} has "
                                     f"{dataset.n_features} features")
        if spec.task == "classification" and spec.n_outputs != dataset.n_classes:
            raise ConfigError(where, f"{ref.path} has {spec.n_outputs} outputs; dataset {dataset.name!r} has "
                                     f"{dataset.n_classes} classes")
        weights = ModelWeights.load(TrialArtifacts(ref.path).weights)
        metrics = {}
        for split in ("val", "test"):
            x, y = getattr(dataset, f"x_{split}"), getattr(dataset, f"y_{split}")
            outputs = reference_forward(spec, weights, np.asarray(x))
            metrics[split] = (classification_metrics(y, outputs) if spec.task == "classification"
                              else autoencoder_metrics(x, outputs, y))
        est = estimate(spec, weights=weights, part=budget.part.name, clock_ns=budget.clock_ns)
        resources = est.to_dict()
        values = {}
        for obj in objectives:
            values[obj.metric] = (metrics["val"].get(obj.metric) if obj.is_quality
                                  else float(spec.n_params) if obj.metric == "n_params" else resources.get(obj.metric))
        out.append({"name": ref.name, "path": str(ref.path), "architecture": spec.architecture,
                    "spec": spec.to_dict(), "val": metrics["val"], "test": metrics["test"],
                    "estimate": resources, "objectives": values,
                    "violations": budget.violations(est)})
    return out
