"""Pruning-aware quantization-aware training: magnitude pruning of the QKeras dense layers.

A weight that is exactly zero costs nothing in a fully unrolled (distributed-arithmetic)
layer: no adder reads it. So ``DenseLayerSpec.sparsity`` asks training to zero that share of
a layer's kernel. tensorflow-model-optimization's ``prune_low_magnitude`` does the pruning
(QKeras' ``QDense`` is a ``PrunableLayer``): the mask grows polynomially from 0 to the
target over the first :func:`ramp_epochs` epochs and then stays fixed while the surviving
weights keep training, so early stopping (which only watches epochs after the ramp) never
restores a model that is less sparse than asked.

The model that leaves training is always the stripped, plain QKeras model: the masks are
multiplied into the kernels and the wrappers removed, so the saved HDF5, the extracted
weights, hls4ml and the RTL all see the same zeros.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from qnas import _imports
from qnas.spec import DenseLayerSpec, ModelSpec

#: how often (in optimizer steps) the pruning masks are recomputed while they grow
MASK_UPDATES_PER_EPOCH = 4


def is_pruned(spec: ModelSpec) -> bool:
    return any(layer.sparsity > 0 for layer in spec.layers)


def ramp_epochs(epochs: int) -> int:
    """Epochs over which sparsity rises to its target: the first third, at least one."""
    return max(1, epochs // 3)


def _tfmot() -> Any:
    _imports.tensorflow()
    return _imports.require("tensorflow_model_optimization", "train")


def dense_wrapper(spec: ModelSpec, steps_per_epoch: int, epochs: int, *, ramp: bool = True
                  ) -> Callable[[DenseLayerSpec, Any], Any] | None:
    """A ``wrap_dense`` hook for :func:`nas.qkeras_model.build_qkeras_model`, or None.

    Layers with ``sparsity > 0`` are wrapped in ``prune_low_magnitude``; the others are
    returned unchanged. ``ramp=False`` (continued training of an already pruned model)
    holds the target sparsity from the first step: the mask keeps the smallest weights,
    which are the ones already at zero.
    """
    if not is_pruned(spec):
        return None
    tfmot = _tfmot()
    end_step = max(1, ramp_epochs(epochs) * steps_per_epoch)
    frequency = max(1, math.ceil(steps_per_epoch / MASK_UPDATES_PER_EPOCH))

    def wrap(layer_spec: DenseLayerSpec, layer: Any) -> Any:
        if layer_spec.sparsity <= 0:
            return layer
        if ramp:
            schedule = tfmot.sparsity.keras.PolynomialDecay(
                initial_sparsity=0.0, final_sparsity=float(layer_spec.sparsity), begin_step=0,
                end_step=end_step, frequency=min(frequency, end_step))
        else:
            schedule = tfmot.sparsity.keras.ConstantSparsity(
                float(layer_spec.sparsity), begin_step=0, frequency=frequency)
        return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule)

    return wrap


def pruning_callbacks() -> list[Any]:
    """The callback that advances the pruning step (tfmot refuses to train without it)."""
    return [_tfmot().sparsity.keras.UpdatePruningStep()]


def strip_pruning(model: Any) -> Any:
    """The plain QKeras model: each mask multiplied into its kernel, then the wrappers removed.

    tfmot masks the kernel before each forward pass, so after the last optimizer step a
    pruned entry may hold a small nonzero value; applying the mask once more makes every
    pruned weight exactly zero in the stripped model (and hence in the quantized kernel).
    """
    tfmot = _tfmot()
    wrapper_type = _imports.require(
        "tensorflow_model_optimization.python.core.sparsity.keras.pruning_wrapper", "train").PruneLowMagnitude
    wrappers = [layer for layer in model.layers if isinstance(layer, wrapper_type)]
    if not wrappers:
        return model
    for wrapper in wrappers:
        for weight, mask, _threshold in wrapper.pruning_vars:
            weight.assign(weight * mask)
    return tfmot.sparsity.keras.strip_pruning(model)
