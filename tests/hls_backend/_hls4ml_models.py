"""Shared helpers for the hls4ml tests: a spec per quantizer family, a model with weights, inputs."""

from __future__ import annotations

import numpy as np

from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer

WEIGHTS = {"fixed": Quantizer.fixed(6, 0), "ternary": Quantizer.ternary(), "binary": Quantizer.binary()}


def make_spec(family: str, widths=(16, 32, 5), reuse_factor: int = 1, strategy: str = "latency") -> ModelSpec:
    """An MLP with ``family`` weights, 8-bit inputs and biases, 6-bit ReLUs, linear logits."""
    layers = []
    for i, units in enumerate(widths[1:]):
        last = i == len(widths) - 2
        layers.append(DenseLayerSpec(f"dense_{i}", units, WEIGHTS[family], Quantizer.fixed(8, 3),
                                     None if last else Quantizer.fixed(6, 2, signed=False), reuse_factor))
    return ModelSpec(widths[0], Quantizer.fixed(8, 3), tuple(layers), strategy=strategy)


def model_with_weights(spec: ModelSpec, seed: int = 0):
    """H1's QKeras model with random non-zero biases too (the initializer sets them to 0)."""
    from nas.qkeras_model import build_qkeras_model

    model = build_qkeras_model(spec, seed=seed)
    rng = np.random.default_rng(seed)
    for layer in spec.layers:
        dense = model.get_layer(layer.name)
        kernel, bias = dense.get_weights()
        dense.set_weights([kernel * 2.0, rng.normal(0.0, 1.0, bias.shape)])
    return model


def quantized_inputs(spec: ModelSpec, n: int, seed: int = 1) -> np.ndarray:
    from qnas.fixed_point import quantize_array

    rng = np.random.default_rng(seed)
    return quantize_array(rng.normal(0.0, 3.0, (n, spec.n_inputs)), spec.input_quantizer)
