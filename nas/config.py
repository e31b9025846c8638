"""A study, declared in YAML and checked completely before anything runs.

Every section is validated at load time with :mod:`qnas.validation`, so a typo in the
budget or a bit width the hardware cannot take stops the run in milliseconds with the key
path named, not after an hour of training. Example (``studies/default.yaml``)::

    name: digits-default
    dataset: digits                  # or {name: file, options: {path: ...}}
    seed: 0
    n_trials: 30
    search_space: {family: mlp, depth: [1, 2], width: [8, 16, 32], ...}
    training: {epochs: 30, batch_size: 256, patience: 5}   # + promote_epochs, promote_margin
    objectives: [accuracy, lut, latency_ns]     # or {metric: lut, direction: minimize}
    budget: {part: xcvu13p, clock_ns: 5, max_lut: 0.02, max_latency_ns: 100}
    pipeline: {adders_per_stage: 8}  # open-flow RTL cuts (or {adders_per_ns: 1.0}); default: qnas.pipeline
    sampler: {name: tpe, n_startup_trials: 10}
    storage: null                    # default sqlite:///<out>/study.db (journal <out>/study.log with workers > 1)
    workers: 1                       # local worker processes for `qnas run` (--workers overrides)
    out: null                        # default runs/<name>
    max_consecutive_rejections: 50
    baselines: [imported/tagger]     # models from `qnas import`: reference points on the front
    warm_start: [imported/tagger]    # their architectures become the first trials
    references: [{name: ..., spec: {...}, metrics: {...}}, {file: ...}]   # see qnas.references
"""

from __future__ import annotations

import collections.abc
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from estimators.budget import Budget
from nas.baselines import parse_reference_paths
from nas.datasets.registry import check_dataset_name
from qnas.errors import ConfigError
from qnas.parts import DEFAULT_PART
from qnas.pipeline import parse_pipelining
from qnas.references import parse_references
from qnas.validation import (Field, InstanceOf, Interval, OneOf, check_keys, check_mapping, check_value,
                             describe, join_key, validate_section)
from search_spaces import SearchSpace, build_search_space
from search_spaces.warm_start import check_params, params_for

#: quality metrics the trainer reports, with the direction that is better
QUALITY_METRICS: dict[str, str] = {"accuracy": "maximize", "roc_auc": "maximize", "loss": "minimize",
                                   "recon_mse": "minimize", "signal_eff": "maximize"}
#: which quality metrics make sense for which task
TASK_METRICS: dict[str, tuple[str, ...]] = {"classification": ("accuracy", "roc_auc", "loss"),
                                            "autoencoder": ("recon_mse", "roc_auc", "loss", "signal_eff")}
#: resource/latency metrics read from the estimate (always minimised by default)
RESOURCE_METRICS: tuple[str, ...] = ("lut", "ff", "dsp", "bram", "latency_ns", "latency_cycles",
                                     "ii_cycles", "n_params")
SAMPLERS: tuple[str, ...] = ("nsga2", "tpe", "motpe", "random")
DIRECTIONS = ("maximize", "minimize")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Objective:
    metric: str
    direction: str

    @property
    def is_quality(self) -> bool:
        return self.metric in QUALITY_METRICS


@dataclass(frozen=True)
class DatasetConfig:
    name: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SamplerConfig:
    name: str = "tpe"
    seed: int | None = None
    population_size: int = 10
    n_startup_trials: int = 10


@dataclass(frozen=True)
class StudyConfig:
    """A validated study; ``search_space`` is the built family object."""

    name: str
    dataset: DatasetConfig
    search_space: SearchSpace
    objectives: tuple[Objective, ...]
    budget: Budget
    training: Mapping[str, Any]
    sampler: SamplerConfig
    n_trials: int
    seed: int = 0
    storage: str | None = None
    out: str | None = None
    workers: int = 1
    max_consecutive_rejections: int = 50
    baselines: tuple = ()       # nas.baselines.Reference: reference points on the front
    warm_start: tuple = ()      # (Reference, Optuna params): enqueued as the first trials
    first_trials: tuple = ()    # Optuna params dicts: enqueued after the warm starts
    references: tuple = ()
    #: qnas.pipeline.Pipelining stated on every design of the study (None: the default rule)
    pipeline: Any = None
    source: Path | None = None
    #: the search_space section as written (canonical JSON): what workers compare to join a study
    search_space_text: str = field(default="", compare=False, repr=False)

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    @classmethod
    def from_dict(cls, data: Any, source: Path | None = None) -> "StudyConfig":
        values = validate_section(data, _STUDY_FIELDS, "")
        if values["training"] is None:
            values["training"] = _parse_training({}, "training")
        space: SearchSpace = values["search_space"]
        objectives = values["objectives"]
        allowed = TASK_METRICS[space.task]
        for i, obj in enumerate(objectives):
            if obj.is_quality and obj.metric not in allowed:
                raise ConfigError(f"objectives[{i}]", f"{obj.metric!r} does not apply to the {space.task} "
                                  f"task of family {space.family!r}; use one of {', '.join(allowed)}")
        values["warm_start"] = tuple((ref, params_for(space, ref.spec, f"warm_start[{i}]"))
                                     for i, ref in enumerate(values["warm_start"]))
        values["first_trials"] = tuple(check_params(space, point, f"first_trials[{i}]")
                                       for i, point in enumerate(values["first_trials"]))
        text = json.dumps(data["search_space"], sort_keys=True, default=str)
        return cls(source=source, search_space_text=text, **values)


def _parse_first_trials(value: Any, path: str) -> tuple:
    if not isinstance(value, list):
        raise ConfigError(path, f"must be a list of search points, each a mapping of the search space's "
                                f"parameters (e.g. [{{depth: 3, dense_0/units: 64}}]); got {value!r}")
    return tuple(value)


def _parse_name(value: Any, path: str) -> str:
    if not _NAME.match(value):
        raise ConfigError(path, f"must be letters, digits, '.', '_' or '-' (it names the run "
                                f"directory and the Optuna study); got {value!r}")
    return value


def _parse_dataset(value: Any, path: str) -> DatasetConfig:
    if isinstance(value, str):
        value = {"name": value}
    data = check_mapping(value, path, "a dataset name or {name: ..., options: {...}}")
    check_keys(data, ("name", "options"), path, required=("name",))
    check_value(data["name"], (InstanceOf(str, "a dataset name"),), join_key(path, "name"))
    check_dataset_name(data["name"], join_key(path, "name"))
    options = check_mapping(data.get("options") or {}, join_key(path, "options"))
    return DatasetConfig(data["name"], dict(options))


def _parse_objectives(value: Any, path: str) -> tuple[Objective, ...]:
    known = list(QUALITY_METRICS) + list(RESOURCE_METRICS)
    if not isinstance(value, list) or not value:
        raise ConfigError(path, f"must be a non-empty list of metrics (e.g. [accuracy, lut, latency_ns]); "
                                f"got {describe(value)}")
    out: list[Objective] = []
    for i, item in enumerate(value):
        ipath = join_key(path, i)
        if isinstance(item, str):
            metric, direction = item, None
        else:
            item = check_mapping(item, ipath, "a metric name or {metric: ..., direction: ...}")
            check_keys(item, ("metric", "direction"), ipath, required=("metric",))
            metric, direction = item["metric"], item.get("direction")
            if direction is not None:
                check_value(direction, (OneOf(DIRECTIONS),), join_key(ipath, "direction"))
        check_value(metric, (OneOf(tuple(known)),), ipath if isinstance(item, str) else join_key(ipath, "metric"))
        if any(o.metric == metric for o in out):
            raise ConfigError(ipath, f"{metric!r} is listed twice")
        out.append(Objective(metric, direction or QUALITY_METRICS.get(metric, "minimize")))
    return tuple(out)


_BUDGET_FIELDS = {
    "part": Field((InstanceOf(str, "an FPGA part name"),), DEFAULT_PART),
    "clock_ns": Field((Interval(float, 0, None, low_open=True),), None),
    "max_lut": Field((Interval(float, 0, 1),), 1.0),
    "max_ff": Field((Interval(float, 0, 1),), 1.0),
    "max_dsp": Field((Interval(float, 0, 1),), 1.0),
    "max_bram": Field((Interval(float, 0, 1),), 1.0),
    "max_latency_ns": Field((Interval(float, 0, None, low_open=True), OneOf((None,))), None),
    "max_ii": Field((Interval(int, 1, None), OneOf((None,))), None),
}


def _parse_budget(value: Any, path: str) -> Budget:
    v = validate_section(value, _BUDGET_FIELDS, path)
    part = v.pop("part")
    clock = v.pop("clock_ns")
    return Budget.create(part, clock_ns=clock, **v)


#: keys of the training section; the study's seed is the training seed
TRAINING_KEYS = ("epochs", "batch_size", "learning_rate", "patience", "min_delta", "max_seconds",
                 "promote_epochs", "promote_margin")


def _parse_training(value: Any, path: str) -> dict[str, Any]:
    """Keys checked here (did-you-mean); values by nas.training.TrainingConfig itself."""
    from nas.training import TrainingConfig
    data = check_mapping(value or {}, path)
    check_keys(data, TRAINING_KEYS, path)
    config = TrainingConfig(**data)
    return {key: getattr(config, key) for key in TRAINING_KEYS}


_SAMPLER_FIELDS = {
    "name": Field((OneOf(SAMPLERS),), "tpe"),
    "seed": Field((Interval(int, 0, 2**32 - 1), OneOf((None,))), None),
    "population_size": Field((Interval(int, 2, 10000),), 10),
    "n_startup_trials": Field((Interval(int, 0, 10000),), 10),
}


def _parse_sampler(value: Any, path: str) -> SamplerConfig:
    if isinstance(value, str):
        value = {"name": value}
    return SamplerConfig(**validate_section(value, _SAMPLER_FIELDS, path))


_STUDY_FIELDS = {
    "name": Field((InstanceOf(str, "a study name"),), required=True, parse=_parse_name),
    "dataset": Field((), required=True, parse=_parse_dataset),
    "search_space": Field((), required=True, parse=build_search_space),
    "objectives": Field((), required=True, parse=_parse_objectives),
    "budget": Field((), Budget.create(), parse=_parse_budget),
    # how the open flow pipelines every design (estimate and RTL alike); stated on each spec
    "pipeline": Field((), None, parse=lambda value, path: None if value is None else parse_pipelining(value, path)),
    "training": Field((), None, parse=_parse_training),
    "sampler": Field((), SamplerConfig(), parse=_parse_sampler),
    "n_trials": Field((Interval(int, 1, 1_000_000),), 30),
    "seed": Field((Interval(int, 0, 2**32 - 1),), 0),
    "storage": Field((InstanceOf(str, "an Optuna storage URL (e.g. sqlite:///runs/x.db)"), OneOf((None,))), None),
    "out": Field((InstanceOf(str, "a directory path"), OneOf((None,))), None),
    # local worker processes `qnas run` starts (what --workers sets); > 1 needs a storage several
    # processes share: the default then is an Optuna journal file in the run directory
    "workers": Field((Interval(int, 1, 256),), 1),
    "max_consecutive_rejections": Field((Interval(int, 1, 1_000_000),), 50),
    "baselines": Field((), (), parse=parse_reference_paths),
    "warm_start": Field((), (), parse=parse_reference_paths),
    # search points trained first, by their Optuna parameters (a known-good architecture the
    # search should start from and move past); checked against the space in from_dict
    "first_trials": Field((), (), parse=_parse_first_trials),
    # designs the dashboards draw beside the front (qnas.references); the driver ignores them
    "references": Field((), (), parse=parse_references),
}


#: Bounds on what a study file may make the loader build. A real study is a few KB with a
#: few hundred nodes; a sub-KB file of nested anchors ("billion laughs") expands to 10^9
#: nodes, and 100,000 nested brackets overflow PyYAML's recursive composer.
MAX_STUDY_BYTES = 1 << 20
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 100_000


class _StudyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one) and bounds
    nesting depth and the node count after alias expansion, before anything is constructed."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_YAML_DEPTH} levels; a study needs a few",
                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_document(self, node):
        _check_expanded_size(node)
        return super().construct_document(node)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, collections.abc.Hashable):
                raise yaml.constructor.ConstructorError(
                    None, None, f"a mapping key must be a plain value, got {describe(key)}", key_node.start_mark)
            if key in seen:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (line {mark.line + 1}); keep one", mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _check_expanded_size(root) -> None:
    """Refuse a node graph that expands (aliases followed) to more than MAX_YAML_NODES nodes.

    Sizes are counted once per shared node (iteratively: the graph may be deep), so the check
    itself costs the size of the file, not of the expansion; a node that contains itself
    through an alias is refused too.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_YAML_NODES:
                raise yaml.composer.ComposerError(
                    None, None, f"its aliases (*name) expand to more than {MAX_YAML_NODES:,} values; "
                    "a study needs a few hundred: write the values out, or use fewer nested aliases",
                    node.start_mark)
            continue
        if key in open_nodes:
            raise yaml.composer.ComposerError(None, None, "an alias refers to a value that contains it",
                                              node.start_mark)
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                raise yaml.composer.ComposerError(None, None, "an alias refers to a value that contains it",
                                                  child.start_mark)
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _read_study_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_STUDY_BYTES:
            raise ConfigError(str(path), f"is too large for a study file ({size:,} bytes; at most "
                                         f"{MAX_STUDY_BYTES:,}); is it the right file?")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_STUDY_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(str(path), "study file not found; check the path "
                                     "(the embedded default is studies/default.yaml)") from None
    except IsADirectoryError:
        raise ConfigError(str(path), "is a directory; give the study YAML file") from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read the study file: {exc.strerror}") from None
    if len(raw) > MAX_STUDY_BYTES:
        raise ConfigError(str(path), f"is too large for a study file (more than {MAX_STUDY_BYTES:,} bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), f"is not a text (UTF-8) study file: byte {exc.start} is "
                                     f"0x{raw[exc.start]:02x}; give the study YAML") from None


def load_study_config(path: str | Path) -> StudyConfig:
    """Read and validate a study YAML; every problem is a ConfigError naming file and key."""
    path = Path(path)
    text = _read_study_text(path)
    try:
        data = yaml.load(text, Loader=_StudyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(str(path), f"is not valid YAML{where}: {problem[:300]}") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a timestamp like 2001-13-45
        raise ConfigError(str(path), f"is not valid YAML: {type(exc).__name__}: {str(exc)[:300]}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(str(path), f"must hold a mapping of study settings (name, dataset, "
                                     f"search_space, objectives, ...); got {describe(data)}")
    try:
        return StudyConfig.from_dict(data, source=path)
    except ConfigError as exc:
        message = str(exc)[len(exc.path) + 2:] if exc.path else str(exc)
        raise ConfigError(exc.path, f"{message} (in {path})") from None
