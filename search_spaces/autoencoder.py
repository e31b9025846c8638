"""The encoder/decoder family for anomaly-detection autoencoders (trigger-style).

The encoder narrows the input through ``depth`` hidden layers to a latent layer; the
decoder mirrors the encoder's widths back out; the output layer is linear and as wide as
the input. The anomaly score is the reconstruction error. Mirroring keeps the space small
(the decoder's widths are not free parameters) while every layer keeps its own bit widths.

YAML::

    search_space:
      family: autoencoder
      depth: [1, 2]            # encoder hidden layers (the decoder has as many)
      width: [32, 16, 8]       # encoder widths
      latent: [2, 4, 8]        # bottleneck width
      weight_bits: [8, 6, 4]
      output: {weight_bits: [8]}

Parameters: ``strategy``, ``input/bits``, ``input/integer``, ``depth``, ``encoder_k/units``
(k < depth), ``latent/units``, and per layer (``encoder_k``, ``latent``, ``decoder_k``,
``output``) the quantization parameters ``<layer>/weight_bits`` ... ``<layer>/reuse_index``.
"""

from __future__ import annotations

from typing import Any, Mapping

from qnas.spec import ModelSpec
from qnas.validation import Interval, join_key

from ._base import (SearchSpace, layer_choices, output_choices, parse_common, sample_input,
                    sample_strategy, sample_training)
from ._layers import UNITS, sample_layer

MAX_DEPTH = 4


class AutoencoderSpace(SearchSpace):
    family = "autoencoder"
    task = "autoencoder"

    def __init__(self, data: Mapping[str, Any], path: str = "search_space"):
        common, own = parse_common(
            data, path,
            {"depth": (Interval(int, 1, MAX_DEPTH),), "width": UNITS, "latent": UNITS},
            required=("depth", "width", "latent"), extra_keys=("output",))
        self.common = common
        self.depths: tuple[int, ...] = tuple(sorted(own["depth"]))
        self.hidden = layer_choices(common, own["width"], width_source=join_key(path, "width"))
        self.latent = layer_choices(common, own["latent"], width_source=join_key(path, "latent"))
        self.output = output_choices(common, data, path)

    def sample(self, trial, n_inputs: int, n_outputs: int) -> ModelSpec:
        strategy = sample_strategy(trial, self.common)
        input_q = sample_input(trial, self.common)
        depth = trial.suggest_categorical("depth", list(self.depths))
        widths = [int(trial.suggest_categorical(f"encoder_{k}/units", list(self.hidden.units)))
                  for k in range(depth)]
        latent = int(trial.suggest_categorical("latent/units", list(self.latent.units)))
        plan = ([(f"encoder_{k}", w, self.hidden) for k, w in enumerate(widths)]
                + [("latent", latent, self.latent)]
                + [(f"decoder_{k}", widths[k], self.hidden) for k in reversed(range(depth))])
        layers, n_in = [], n_inputs
        for name, units, choices in plan:
            layers.append(sample_layer(trial, name, n_in, units, choices, strategy=strategy,
                                       activation=True))
            n_in = units
        layers.append(sample_layer(trial, "output", n_in, n_outputs, self.output,
                                   strategy=strategy, activation=False))
        return ModelSpec(n_inputs=n_inputs, input_quantizer=input_q, layers=tuple(layers),
                         strategy=strategy, task=self.task, family=self.family,
                         metadata=sample_training(trial, self.common))

    def layer_shapes(self, n_inputs: int, n_outputs: int) -> list[tuple[str, Any, set, set]]:
        widths, latent = set(self.hidden.units), set(self.latent.units)
        return [("encoder_0", self.hidden, {n_inputs}, widths),
                ("encoder_k/decoder_k", self.hidden, widths | latent | {n_inputs}, widths),
                ("latent", self.latent, widths, latent),
                ("output", self.output, widths, {n_outputs})]

    def describe(self) -> str:
        return (f"autoencoder: encoder depth {list(self.depths)}, widths {list(self.hidden.units)}, "
                f"latent {list(self.latent.units)}, weight bits "
                f"{sorted(str(b) for b in self.hidden.weight_bits)}")
