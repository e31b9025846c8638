"""Shared helpers for the open-flow tests: small MLPs with random-but-realistic quantized weights."""

from __future__ import annotations

import numpy as np

from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
from qnas.weights import LayerWeights, ModelWeights

WEIGHT_QUANTIZERS = {"fixed4": Quantizer.fixed(4, 0), "fixed6": Quantizer.fixed(6, 0),
                     "ternary": Quantizer.ternary(), "binary": Quantizer.binary()}


def _codes(rng, q: Quantizer, shape) -> np.ndarray:
    if q.kind == "ternary":
        return rng.integers(-1, 2, shape).astype(np.float64)
    if q.kind == "binary":
        return rng.choice([-1.0, 1.0], shape)
    lo, hi = int(round(q.min_value / q.step)), int(round(q.max_value / q.step))
    return rng.integers(lo, hi + 1, shape) * q.step


def make_mlp(widths=(4, 8, 3), weight: str = "fixed4", act_bits: int = 4, in_bits: int = 4,
             zero_fraction: float = 0.5, seed: int = 0) -> tuple[ModelSpec, ModelWeights]:
    """An MLP with ``weight`` kernels, ~``zero_fraction`` zeros, ReLU activations, linear logits."""
    rng = np.random.default_rng(seed)
    wq = WEIGHT_QUANTIZERS[weight]
    bq = Quantizer.fixed(max(in_bits, act_bits), 1)
    aq = Quantizer.fixed(act_bits, 2, signed=False)
    layers, lws = [], []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        last = i == len(widths) - 2
        layers.append(DenseLayerSpec(f"dense_{i}", n_out, wq, bq, None if last else aq))
        kernel = _codes(rng, wq, (n_in, n_out))
        if wq.kind != "binary":
            kernel[rng.random((n_in, n_out)) < zero_fraction] = 0.0
        lws.append(LayerWeights(kernel, _codes(rng, bq, (n_out,))))
    spec = ModelSpec(widths[0], Quantizer.fixed(in_bits, 2), tuple(layers))
    return spec, ModelWeights(lws)


def random_inputs(spec: ModelSpec, n: int, seed: int = 1, off_grid: bool = False) -> np.ndarray:
    """Inputs spread over the input quantizer's range (on its grid unless ``off_grid``)."""
    rng = np.random.default_rng(seed)
    q = spec.input_quantizer
    if off_grid:
        return rng.uniform(q.min_value * 1.2, q.max_value * 1.2, (n, spec.n_inputs))
    return _codes(rng, q, (n, spec.n_inputs))
