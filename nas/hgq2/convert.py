"""One HGQ2 checkpoint (plain arrays from the worker) as a qnas ModelSpec + ModelWeights.

No TensorFlow and no HGQ2 here: the worker (:mod:`nas.hgq2.worker`, in HGQ2's own
environment) has already extracted the exact quantized kernels and biases and the
per-element (k, i, f) of every layer's input quantizer. HGQ2's layer ``n`` quantizes its
*input*; qnas describes a layer's *output* format, so layer ``n``'s input formats become
the ``activation_formats`` of layer ``n - 1`` (of the ReLU output) and layer 0's become
the spec's ``input_formats``. The uniform quantizers of the spec are the envelopes the
analytic estimator tiers read; weights get the narrowest uniform format holding them all,
so :meth:`ModelWeights.check` still proves every value is representable.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from qnas.spec import DenseLayerSpec, ElementFormats, ModelSpec, Quantizer
from qnas.weights import LayerWeights, ModelWeights

__all__ = ["checkpoint_to_spec", "fixed_envelope"]

MAX_FRACTIONAL = 24


def fixed_envelope(values: np.ndarray) -> Quantizer:
    """The narrowest signed ``fixed(bits, integer)`` whose grid holds every value exactly."""
    v = np.asarray(values, dtype=np.float64).ravel()
    nz = v[v != 0]
    if nz.size == 0:
        return Quantizer.fixed(2, 0)
    frac = 0
    while frac < MAX_FRACTIONAL and not np.all(np.floor(nz * 2.0 ** frac) == nz * 2.0 ** frac):
        frac += 1
    step = 2.0 ** -frac
    integer = -frac
    while not (nz.max() <= 2.0 ** integer - step and nz.min() >= -(2.0 ** integer)):
        integer += 1
    integer = max(integer, -8)
    bits = integer + frac + 1
    if bits < 2:  # the Quantizer's smallest width; widen the integer part, grid unchanged
        integer += 2 - bits
        bits = 2
    return Quantizer.fixed(bits, integer)


def _formats(arrays: Mapping[str, np.ndarray], idx: int) -> ElementFormats:
    return ElementFormats(tuple(arrays[f"k_{idx}"]), tuple(arrays[f"i_{idx}"]), tuple(arrays[f"f_{idx}"]))


def checkpoint_to_spec(arrays: Mapping[str, np.ndarray], n_layers: int, metadata: Mapping | None = None
                       ) -> tuple[ModelSpec, ModelWeights]:
    """The spec (per-element formats, distributed arithmetic) and weights of one checkpoint."""
    layers, weights = [], []
    for idx in range(n_layers):
        kernel = np.asarray(arrays[f"kernel_{idx}"], dtype=np.float64)
        bias = np.asarray(arrays[f"bias_{idx}"], dtype=np.float64)
        last = idx == n_layers - 1
        act_fmts = None if last else _formats(arrays, idx + 1)
        layers.append(DenseLayerSpec(
            name="output" if last else f"dense_{idx}", units=int(kernel.shape[1]),
            weight=fixed_envelope(kernel), bias=fixed_envelope(bias),
            activation=None if last else act_fmts.envelope(signed=False),
            activation_formats=act_fmts))
        weights.append(LayerWeights(kernel, bias))
    in_fmts = _formats(arrays, 0)
    spec = ModelSpec(n_inputs=len(in_fmts), input_quantizer=in_fmts.envelope(signed=True), layers=tuple(layers),
                     strategy="distributed_arithmetic", family="hgq2_mlp", metadata=dict(metadata or {}),
                     input_formats=in_fmts)
    mw = ModelWeights(weights)
    mw.check(spec)
    return spec, mw
