"""MLPs whose bit widths HGQ2 learns: the search chooses the architecture and the pressure.

HGQ2 learns a bit width for every weight and every activation by gradient, with a
resource penalty (EBOPs) weighted by ``beta`` that rises during training; zero-bit weights
are pruned, which costs nothing in distributed arithmetic. What it does not learn is the
network's depth and widths, the precision its input quantizer starts from, and how hard
the penalty pushes: those are this family's parameters. A trial trains in HGQ2's own
environment (:mod:`nas.hgq2`) and yields several designs, the checkpoints of its
(val accuracy, EBOPs) front along the beta ramp.

YAML (lists are choices)::

    search_space:
      family: hgq2_mlp
      depth: [2, 3]               # hidden layers
      width: [16, 32, 64]         # units of each hidden layer
      input_bits: [7, 10]         # where the input quantizer starts (HGQ2 then learns per feature)
      input_integer: [3]
      beta_start: [2.0e-6]        # EBOPs penalty weight, held for recipe.beta_hold_epochs...
      beta_end: [1.0e-3, 3.0e-3]  # ...then raised log-linearly to this at the last epoch
      recipe:                     # HGQ2's jet-tagger recipe (these are its defaults)
        epochs: 1200
        beta_hold_epochs: 100
        batch_size: 8192
        learning_rate: 0.005
        max_checkpoints: 12       # designs kept per training, spread along the front

Parameters: ``depth``, ``dense_k/units`` (conditional on depth), ``input/bits``,
``input/integer``, ``beta_start``, ``beta_end``. The sampled spec carries the uniform formats
training starts from (the budget pre-check reads them); the trained checkpoints replace them with
per-element formats (:class:`qnas.spec.ElementFormats`). Only ``strategy:
distributed_arithmetic`` is offered: HGQ2's per-weight widths only pay off as constant
shift-and-add trees, and that is what the open (da4ml) flow builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from qnas.errors import ConfigError
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
from qnas.validation import Interval, check_choices, check_keys, check_mapping, check_value, join_key

from ._base import SearchSpace
from ._layers import UNITS

MAX_DEPTH = 8
KEYS = ("family", "depth", "width", "input_bits", "input_integer", "beta_start", "beta_end", "recipe")
BETA = (Interval(float, 0.0, 1.0),)
#: the formats HGQ2's quantizers start from in the worker (weights: sign + 3 fractional bits;
#: activations: 3 integer + 3 fractional bits, unsigned after ReLU). The sampled spec carries
#: them so that the budget pre-check costs the network training starts from; the EBOPs
#: penalty then only narrows it (an 8-bit placeholder priced a 16-64-64-64-5 network at
#: 67.9k LUT and rejected it before training).
START_WEIGHT = Quantizer.fixed(4, 0)
START_BIAS = Quantizer.fixed(8, 3)
START_ACTIVATION = Quantizer.fixed(6, 3, signed=False)


@dataclass(frozen=True)
class HGQ2Recipe:
    """How every candidate trains (HGQ2's jet-tagger recipe by default)."""

    epochs: int = 1200
    beta_hold_epochs: int = 100
    batch_size: int = 8192
    learning_rate: float = 5e-3
    max_checkpoints: int = 12

    CONSTRAINTS = {"epochs": (Interval(int, 1, 100_000),), "beta_hold_epochs": (Interval(int, 0, 100_000),),
                   "batch_size": (Interval(int, 1, 1 << 20),), "learning_rate": (Interval(float, 1e-7, 1.0),),
                   "max_checkpoints": (Interval(int, 1, 1000),)}

    @classmethod
    def parse(cls, data: Any, path: str) -> "HGQ2Recipe":
        data = check_mapping(data if data is not None else {}, path)
        check_keys(data, cls.CONSTRAINTS, path)
        values = {k: check_value(v, cls.CONSTRAINTS[k], join_key(path, k)) for k, v in data.items()}
        recipe = cls(**values)
        if recipe.beta_hold_epochs >= recipe.epochs:
            raise ConfigError(join_key(path, "beta_hold_epochs"),
                              f"must be below epochs ({recipe.epochs}) so that beta is ramped at all; "
                              f"got {recipe.beta_hold_epochs}")
        return recipe

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.CONSTRAINTS}


class HGQ2MLPSpace(SearchSpace):
    family = "hgq2_mlp"
    task = "classification"
    #: trials of this family are trained by nas.hgq2 (see nas._trial.trainer_for)
    trainer = "hgq2"

    def __init__(self, data: Mapping[str, Any], path: str = "search_space"):
        data = check_mapping(data, path)
        check_keys(data, KEYS, path, required=("depth", "width"))

        def choices(key, constraints, default):
            return check_choices(data[key], constraints, join_key(path, key)) if key in data else default

        self.depths = tuple(sorted(choices("depth", (Interval(int, 1, MAX_DEPTH),), ())))
        self.widths = tuple(sorted(choices("width", UNITS, ())))
        self.input_bits = choices("input_bits", (Interval(int, 2, 16),), (7,))
        self.input_integer = choices("input_integer", (Interval(int, -4, 8),), (3,))
        bad = [i for i in self.input_integer if i > min(self.input_bits) - 1]
        if bad:
            raise ConfigError(join_key(path, "input_integer"),
                              f"{bad[0]} integer bits do not fit in {min(self.input_bits)}-bit signed inputs "
                              f"(at most {min(self.input_bits) - 1}); lower it or raise input_bits")
        self.beta_start = choices("beta_start", BETA, (2e-6,))
        self.beta_end = choices("beta_end", BETA, (1e-3,))
        if max(self.beta_start) > min(self.beta_end):
            raise ConfigError(join_key(path, "beta_end"),
                              f"every beta_end must be >= every beta_start (the penalty rises); got "
                              f"beta_start {list(self.beta_start)}, beta_end {list(self.beta_end)}")
        if min(self.beta_start) <= 0:
            raise ConfigError(join_key(path, "beta_start"), "must be > 0 (the ramp is log-linear)")
        self.recipe = HGQ2Recipe.parse(data.get("recipe"), join_key(path, "recipe"))

    def sample(self, trial, n_inputs: int, n_outputs: int) -> ModelSpec:
        in_bits = int(trial.suggest_categorical("input/bits", list(self.input_bits)))
        in_int = int(trial.suggest_categorical("input/integer", list(self.input_integer)))
        depth = int(trial.suggest_categorical("depth", list(self.depths)))
        beta_start = float(trial.suggest_categorical("beta_start", list(self.beta_start)))
        beta_end = float(trial.suggest_categorical("beta_end", list(self.beta_end)))
        layers = []
        for k in range(depth):
            units = int(trial.suggest_categorical(f"dense_{k}/units", list(self.widths)))
            layers.append(DenseLayerSpec(f"dense_{k}", units, START_WEIGHT, START_BIAS, START_ACTIVATION))
        layers.append(DenseLayerSpec("output", n_outputs, START_WEIGHT, START_BIAS, None))
        hgq2 = {"input_bits": in_bits, "input_integer": in_int, "beta_start": beta_start, "beta_end": beta_end,
                **self.recipe.to_dict()}
        return ModelSpec(n_inputs=n_inputs, input_quantizer=Quantizer.fixed(in_bits, in_int), layers=tuple(layers),
                         strategy="distributed_arithmetic", task=self.task, family=self.family,
                         metadata={"hgq2": hgq2})

    def check_dataset_shape(self, n_inputs: int, n_outputs: int) -> None:
        """Nothing to refuse: every layer is fully unrolled (reuse factor 1) on any shape."""

    def describe(self) -> str:
        r = self.recipe
        return (f"hgq2_mlp: depth {list(self.depths)}, widths {list(self.widths)}, input bits "
                f"{list(self.input_bits)}, beta {list(self.beta_start)} -> {list(self.beta_end)} over "
                f"{r.epochs} epochs (held {r.beta_hold_epochs}), <= {r.max_checkpoints} designs per training")
