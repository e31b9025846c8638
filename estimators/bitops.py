"""The simplest honest estimator: bit-operations count times one fitted constant.

It is the baseline every better estimator is measured against (issue 3 asks for at least
2x lower LUT error). A multiplication of an ``a``-bit input by a ``w``-bit weight costs
``a * w`` bit operations (ternary/binary weights count as 1 bit: a sign flip or skip);
LUTs and FFs are each one constant times the sum, which :meth:`BitOpsEstimator.fit`
chooses by least squares on synthesis results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from qnas.results import LayerResources, ResourceEstimate, ResourceReport
from qnas.spec import ModelSpec
from qnas.weights import ModelWeights

from qnas.parts import DEFAULT_PART, get_part


def layer_bitops(spec: ModelSpec, weights: ModelWeights | None = None) -> list[float]:
    """Bit operations per layer; with weights, zero weights cost nothing."""
    out = []
    for i, (layer, n_in, q_in) in enumerate(spec.layer_inputs()):
        w_bits = 1 if layer.weight.kind in ("ternary", "binary") else layer.weight.bits
        if weights is not None:
            n_mult = int(np.count_nonzero(weights[i].kernel))
        else:
            n_mult = n_in * layer.units
        out.append(float(n_mult * w_bits * q_in.bits))
    return out


@dataclass
class BitOpsEstimator:
    """``lut = lut_per_bitop * bitops``, ``ff = ff_per_bitop * bitops``.

    Default constants are rough until fitted; ``fit`` sets the ``*_`` attributes.
    """

    lut_per_bitop: float = 0.5
    ff_per_bitop: float = 0.3

    name = "qnas.bitops"

    def estimate(self, spec: ModelSpec, weights: ModelWeights | None = None,
                 part: str | None = None, clock_ns: float | None = None) -> ResourceEstimate:
        fpga = get_part(part or DEFAULT_PART)
        clock = clock_ns or fpga.default_clock_ns
        lut_k = getattr(self, "lut_per_bitop_", self.lut_per_bitop)
        ff_k = getattr(self, "ff_per_bitop_", self.ff_per_bitop)
        per_layer, cycles, ii = [], 0, 1
        for (layer, n_in, _), ops in zip(spec.layer_inputs(), layer_bitops(spec, weights)):
            # One multiply stage plus a binary adder tree over the fan-in, R times over.
            lat = layer.reuse_factor + math.ceil(math.log2(max(n_in, 2)))
            cycles += lat
            ii = max(ii, layer.reuse_factor)
            per_layer.append(LayerResources(layer.name, lut=lut_k * ops, ff=ff_k * ops,
                                            latency_cycles=lat, ii_cycles=layer.reuse_factor))
        return ResourceEstimate(
            lut=sum(l.lut for l in per_layer), ff=sum(l.ff for l in per_layer), dsp=0.0, bram=0.0,
            latency_cycles=cycles, ii_cycles=ii, clock_ns=clock, latency_ns=cycles * clock,
            part=fpga.name, producer=self.name, tool_version="1",
            per_layer=tuple(per_layer), in_calibrated_range=None,
        )

    def fit(self, specs: Sequence[ModelSpec], truths: Sequence[ResourceReport],
            weights: Sequence[ModelWeights | None] | None = None) -> "BitOpsEstimator":
        """Least-squares constants through the origin on (bitops, truth) pairs."""
        weights = weights or [None] * len(specs)
        ops = np.array([sum(layer_bitops(s, w)) for s, w in zip(specs, weights)])
        if len(ops) == 0 or not np.any(ops):
            raise ValueError("BitOpsEstimator.fit needs at least one design with non-zero bit operations")
        lut = np.array([t.lut for t in truths], dtype=float)
        ff = np.array([t.ff for t in truths], dtype=float)
        self.lut_per_bitop_ = float(ops @ lut / (ops @ ops))
        self.ff_per_bitop_ = float(ops @ ff / (ops @ ops))
        return self
