"""A differentiable hardware-cost term for the training loss (its weight chosen by the search).

In a fully unrolled (distributed-arithmetic) layer every nonzero weight ``w`` becomes a few
shifted additions of its input: about as many adders as ``w / lsb`` has significant bits,
each as wide as the input. So the cost of a layer is approximated by

    sum_ij  input_bits * log2(1 + |w_ij| / lsb)

("bit-adders", the same order as LUTs): zero for a zero weight, growing like the number of
digits for large ones. Its gradient ``~ 1 / (lsb + |w|)`` pushes the smallest weights to
zero hardest, which is what removes adders; an L1 in LSB units would instead pay as much
for shrinking a large weight (which saves at most one digit) as for zeroing a small one.
It is computed on the float kernels QKeras trains (the quantizers pass gradients
straight through), like HGQ's EBOPs penalty but with the bit widths fixed by the spec.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from qnas import _imports
from qnas.spec import ModelSpec

TRAINING_KEY = "cost_penalty"


def penalty_weight(spec: ModelSpec) -> float:
    """The weight of the cost term that the search chose for this spec (0 = none)."""
    value = (spec.metadata.get("training") or {}).get(TRAINING_KEY, 0.0)
    return float(value or 0.0)


def layer_scales(spec: ModelSpec) -> list[tuple[float, float]]:
    """(lsb, input bits) per layer: the weight step and the width of the adders it feeds.

    Binary weights are never zero, so no penalty can remove their adders: their scale is 0.
    """
    out = []
    for layer, _n_in, q_in in spec.layer_inputs():
        if layer.weight.kind == "binary":
            out.append((1.0, 0.0))
            continue
        lsb = 1.0 if layer.weight.kind == "ternary" else layer.weight.step
        out.append((lsb, float(q_in.bits)))
    return out


def hardware_cost(kernels: Sequence[Any], scales: Sequence[tuple[float, float]]) -> Any:
    """The bit-adder proxy of the module docstring, as a TensorFlow scalar."""
    tf = _imports.tensorflow()
    total = tf.constant(0.0)
    for kernel, (lsb, bits) in zip(kernels, scales):
        if bits == 0:
            continue
        digits = tf.math.log1p(tf.abs(kernel) / lsb) / math.log(2.0)
        total = total + bits * tf.reduce_sum(digits)
    return total


def add_cost_penalty(model: Any, spec: ModelSpec, dense_layers: Sequence[Any]) -> bool:
    """Add ``weight * hardware_cost`` to ``model``'s loss; False when the spec asks for none.

    ``dense_layers`` are the model's QDense layers in spec order (inside any pruning
    wrapper). The term is added with ``add_loss`` and is not part of the saved model.
    """
    weight = penalty_weight(spec)
    if weight <= 0:
        return False
    scales = layer_scales(spec)
    model.add_loss(lambda: weight * hardware_cost([layer.kernel for layer in dense_layers], scales))
    return True


def quantized_cost(kernels: Sequence[Any], scales: Sequence[tuple[float, float]]) -> float:
    """The same proxy on NumPy (already quantized) kernels: for reports and tests."""
    import numpy as np
    return float(sum(bits * np.sum(np.log2(1.0 + np.abs(np.asarray(k)) / lsb))
                     for k, (lsb, bits) in zip(kernels, scales) if bits))
