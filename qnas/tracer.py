"""Trace a qnas MLP (spec + quantized weights) into da4ml's fixed-point dataflow graph.

The graph is the network exactly as QKeras infers it with alpha=1 quantizers:
input codes (already quantized by the input quantizer) -> ``x @ W + b`` with the integer
weights as constants (da4ml turns each layer into an optimised adder tree) ->
``quantized_relu`` (round half to even, clip) -> ... -> the output layer's accumulator,
which is emitted as is (logits; no requantisation, so it is exact and wide enough never to
overflow — da4ml sizes every adder from the value ranges).

It lives in ``qnas`` because two stages read the same trace: ``hls_backend.rtl`` writes
it out as Verilog and ``estimators`` (trace tier) counts its adders and registers, so the
pipeline an estimate describes is the one the RTL has. da4ml is imported only when a
network is traced.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .errors import UnsupportedSpec
from .qkeras_ops import input_kif, quantized_relu
from .spec import ModelSpec, fixed_reuse_factor
from .weights import ModelWeights

__all__ = ["OPEN_FLOW_STRATEGY", "check_supported", "trace_network", "trace_pipeline", "zero_fraction"]

#: what the open flow builds, whatever strategy the search chose for hls4ml
OPEN_FLOW_STRATEGY = "distributed_arithmetic"


def check_supported(spec: ModelSpec, weights: ModelWeights) -> None:
    """Raise UnsupportedSpec naming the field this fully unrolled DA flow cannot realise."""
    reuse = fixed_reuse_factor(OPEN_FLOW_STRATEGY)
    for idx, layer in enumerate(spec.layers):
        if layer.reuse_factor != reuse:
            raise UnsupportedSpec(
                f"layers[{idx}].reuse_factor={layer.reuse_factor}: the open (da4ml) flow builds "
                f"{OPEN_FLOW_STRATEGY} (a fully unrolled, II=1 pipeline), so every layer's reuse_factor "
                f"must be {reuse}; spec.with_strategy({OPEN_FLOW_STRATEGY!r}) is that realisation")
        act = layer.activation
        if act is not None and act.kind != "fixed":
            raise UnsupportedSpec(
                f"layers[{idx}].activation is {act.kind}: the open flow realises quantized_relu "
                "(unsigned fixed) activations or a linear layer (None) only")
    try:
        weights.check(spec)
    except ValueError as exc:
        raise UnsupportedSpec(f"weights do not fit the spec: {exc}") from exc


def trace_network(spec: ModelSpec, weights: ModelWeights, *, latency_cutoff: float,
                  solver_options: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """Return (input FixedVariableArray, output FixedVariableArray) of the traced network."""
    from ._imports import require

    trace = require("da4ml.trace", "hls")
    check_supported(spec, weights)

    # adder_size=1, carry_size=-1: da4ml's unit-delay model (each adder = 1 latency unit),
    # which is what its latency cutoff (adders per pipeline stage) is expressed in.
    hwconf = trace.HWConfig(1, -1, latency_cutoff)
    k, i, f = input_kif(spec.input_quantizer)
    n = spec.n_inputs
    x = trace.FixedVariableArray.from_kif(np.full(n, k), np.full(n, i), np.full(n, f), hwconf,
                                          solver_options=solver_options)
    inputs = x
    for layer, lw in zip(spec.layers, weights):
        kernel = np.asarray(lw.kernel, dtype=np.float64)
        bias = np.asarray(lw.bias, dtype=np.float64)
        acc = x @ kernel
        acc = acc + bias
        if layer.activation is None:
            x = acc
            continue
        x = _map(trace, acc, lambda v, q=layer.activation: quantized_relu(v, q))
    return inputs, x


def trace_pipeline(spec: ModelSpec, weights: ModelWeights, *, latency_cutoff: float,
                   hard_dc: int = 2) -> tuple[Any, Any]:
    """(combinational trace, pipeline cut every ``latency_cutoff`` adder levels) of the network.

    ``hard_dc`` is da4ml's adder-depth constraint for its CMVM solver (-1 = none; 2 = its
    default trade-off of depth for area). The RTL is written from exactly this pipeline.
    """
    from ._imports import require

    trace = require("da4ml.trace", "hls")
    inp, out = trace_network(spec, weights, latency_cutoff=latency_cutoff, solver_options={"hard_dc": hard_dc})
    comb = trace.comb_trace(inp, out, keep_dead_inputs=True)
    return comb, trace.to_pipeline(comb, latency_cutoff, verbose=False)


def _map(trace: Any, arr: Any, fn) -> Any:
    """Apply a per-element FixedVariable function to a FixedVariableArray."""
    out = np.array([fn(v) for v in arr._vars.ravel()], dtype=object).reshape(arr._vars.shape)
    return trace.FixedVariableArray(out, arr.solver_options, hwconf=arr.hwconf)


def zero_fraction(weights: Sequence[Any]) -> float:
    """Fraction of exactly-zero kernel entries (reported with the design)."""
    total = sum(np.size(lw.kernel) for lw in weights)
    zeros = sum(int(np.sum(np.asarray(lw.kernel) == 0)) for lw in weights)
    return zeros / total if total else 0.0
