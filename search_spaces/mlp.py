"""The fully connected family: 1-N hidden ReLU layers and a linear output (classifier logits).

YAML (every value is a list of choices; a scalar is a one-choice list)::

    search_space:
      family: mlp
      depth: [1, 2, 3]              # hidden layers
      width: [8, 16, 32, 64]        # units of each hidden layer
      weight_bits: [8, 6, 4, ternary, binary]
      activation_bits: [6, 8]
      reuse_factor: [1, 2, 4]       # allowed set; only values hls4ml accepts per shape are drawn
      strategy: [latency]
      layers:                       # optional per-hidden-layer overrides, by position
        - {weight_bits: [8]}
      output: {weight_bits: [8, 6]} # optional overrides for the output layer
      sparsity: [0, 0.5, 0.75]      # per-layer pruning target (pruning-aware QAT, nas.pruning)
      cost_penalty: [0, 1e-5, 1e-4] # weight of the hardware-cost loss term (nas.cost_penalty)

Parameters: ``strategy``, ``input/bits``, ``input/integer``, ``depth``, then for each hidden
layer ``k < depth`` (conditional: sampled only when the network has that layer)
``dense_k/units``, ``dense_k/weight_bits``, ``dense_k/weight_integer`` (fixed-point weights
only), ``dense_k/bias_bits``, ``dense_k/bias_integer``, ``dense_k/activation_bits``,
``dense_k/activation_integer``, ``dense_k/reuse_index``; and the same (no units, no
activation) for ``output``. With more than one ``sparsity`` choice, ``<layer>/sparsity``
(not for binary weights); with more than one ``cost_penalty`` choice, ``cost_penalty``.
"""

from __future__ import annotations

from typing import Any, Mapping

from qnas.errors import ConfigError
from qnas.spec import ModelSpec
from qnas.validation import Interval, join_key

from ._base import (SearchSpace, layer_choices, output_choices, parse_common, sample_input,
                    sample_strategy, sample_training)
from ._layers import UNITS, LayerChoices, parse_choice_overrides, sample_layer

MAX_DEPTH = 8


class MLPSpace(SearchSpace):
    family = "mlp"
    task = "classification"

    def __init__(self, data: Mapping[str, Any], path: str = "search_space"):
        common, own = parse_common(
            data, path, {"depth": (Interval(int, 1, MAX_DEPTH),), "width": UNITS},
            required=("depth", "width"), extra_keys=("layers", "output"))
        self.common = common
        self.depths: tuple[int, ...] = tuple(sorted(own["depth"]))
        self.hidden: list[LayerChoices] = []
        overrides = data.get("layers", [])
        lpath = join_key(path, "layers")
        if not isinstance(overrides, list):
            raise ConfigError(lpath, f"must be a list of per-layer overrides; got {overrides!r}")
        if len(overrides) > max(self.depths):
            raise ConfigError(lpath, f"has {len(overrides)} entries but the deepest network has "
                                     f"{max(self.depths)} hidden layers (depth choices {list(self.depths)})")
        for k in range(max(self.depths)):
            item_path = join_key(lpath, k)
            item = parse_choice_overrides(overrides[k], item_path, allow_units=True, allow_activation=True
                                          ) if k < len(overrides) else {}
            self.hidden.append(layer_choices(common, own["width"], item, item_path,
                                             width_source=join_key(path, "width")))
        self.output = output_choices(common, data, path)

    def sample(self, trial, n_inputs: int, n_outputs: int) -> ModelSpec:
        strategy = sample_strategy(trial, self.common)
        input_q = sample_input(trial, self.common)
        depth = trial.suggest_categorical("depth", list(self.depths))
        layers, n_in = [], n_inputs
        for k in range(depth):
            choices = self.hidden[k]
            units = int(trial.suggest_categorical(f"dense_{k}/units", list(choices.units)))
            layers.append(sample_layer(trial, f"dense_{k}", n_in, units, choices,
                                       strategy=strategy, activation=True))
            n_in = units
        layers.append(sample_layer(trial, "output", n_in, n_outputs, self.output,
                                   strategy=strategy, activation=False))
        return ModelSpec(n_inputs=n_inputs, input_quantizer=input_q, layers=tuple(layers),
                         strategy=strategy, task=self.task, family=self.family,
                         metadata=sample_training(trial, self.common))

    def layer_shapes(self, n_inputs: int, n_outputs: int) -> list[tuple[str, LayerChoices, set, set]]:
        shapes, inputs = [], {n_inputs}
        for k, choices in enumerate(self.hidden):
            shapes.append((f"dense_{k}", choices, inputs, set(choices.units)))
            inputs = set(choices.units)
        last = {u for d in self.depths for u in self.hidden[d - 1].units}
        shapes.append(("output", self.output, last, {n_outputs}))
        return shapes

    def describe(self) -> str:
        widths = sorted({u for c in self.hidden for u in c.units})
        bits = sorted({str(b) for c in self.hidden + [self.output] for b in c.weight_bits})
        return (f"mlp: depth {list(self.depths)}, widths {widths}, weight bits {bits}, "
                f"strategies {list(self.common.strategy)}")
