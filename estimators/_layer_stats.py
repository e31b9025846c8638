"""Per-layer arithmetic facts every estimator builds on, from the spec and (optionally) weights.

A fully unrolled dense layer is, in hardware, one sum of shifted inputs per output: how
many terms each sum has (non-zero CSD digits of its weight column), how wide the inputs
are, how wide the accumulator must be, and what happens after it (ReLU + round + clip).
With trained weights these are counted exactly; without, they are expectations under
the :class:`~estimators._csd.WeightPrior`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qnas.fixed_point import accumulator_ranges
from qnas.spec import ModelSpec, Quantizer
from qnas.weights import LayerWeights, ModelWeights, to_integers

from ._csd import WeightPrior, csd_digit_count, expected_csd_digits, expected_nonzero


@dataclass(frozen=True)
class LayerStats:
    """What a dense layer costs in shift-and-add terms.

    ``terms`` holds, per output, the number of non-zero CSD digits of its weight column
    (expected values before training, so possibly fractional). ``acc_bits`` is the width
    of the exact accumulator (sign included; :func:`qnas.fixed_point.accumulator_ranges`,
    from the actual weights when given), ``in_bits`` the width of one input value.
    """

    name: str
    n_in: int
    n_out: int
    in_bits: int
    w_bits: int
    w_kind: str
    acc_bits: int
    out_bits: int  # bits of one layer output (activation format, or acc_bits when linear)
    terms: np.ndarray
    nonzero: float  # non-zero weights in the kernel
    bias_nonzero: float
    has_activation: bool
    rounding: bool  # the activation drops accumulator fractional bits (round logic needed)
    exact: bool  # True when counted from real weights

    @property
    def digits(self) -> float:
        return float(np.sum(self.terms))

    @property
    def naive_adders(self) -> float:
        """Two-input adders of a per-column adder tree without sharing."""
        return float(np.sum(np.maximum(self.terms - 1.0, 0.0)))

    @property
    def max_terms(self) -> float:
        return float(np.max(self.terms)) if self.terms.size else 0.0

    @property
    def products(self) -> int:
        return self.n_in * self.n_out


def value_bits(q: Quantizer) -> int:
    """Bits of one value as carried on a wire."""
    return 2 if q.kind == "ternary" else (1 if q.kind == "binary" else q.bits)


def layer_stats(spec: ModelSpec, weights: ModelWeights | None = None,
                prior: WeightPrior | list[WeightPrior] | None = None) -> list[LayerStats]:
    """One :class:`LayerStats` per layer; exact with ``weights``, expected without.

    ``prior`` is one prior for every layer or a list with one per layer (per-layer sparsity).
    """
    priors = list(prior) if isinstance(prior, (list, tuple)) else [prior or WeightPrior()] * len(spec.layers)
    if weights is not None:
        try:
            weights.check(spec)
        except ValueError as exc:
            from qnas.errors import UnsupportedSpec
            raise UnsupportedSpec(f"weights do not fit the spec: {exc}") from exc
    out = []
    accumulators = accumulator_ranges(spec, weights)
    for index, (layer, n_in, q_in) in enumerate(spec.layer_inputs()):
        prior = priors[index]
        lw: LayerWeights | None = weights[index] if weights is not None else None
        if lw is not None:
            ints = to_integers(lw.kernel, layer.weight)
            terms = csd_digit_count(ints).sum(axis=0).astype(np.float64)
            nonzero = float(np.count_nonzero(ints))
            bias_nz = float(np.count_nonzero(lw.bias))
        else:
            per_weight = expected_csd_digits(layer.weight.bits, layer.weight.kind, prior)
            terms = np.full(layer.units, n_in * per_weight)
            nonzero = n_in * layer.units * expected_nonzero(layer.weight.bits, layer.weight.kind, prior)
            bias_nz = 0.9 * layer.units
        acc = accumulators[index].width
        act = layer.activation
        acc_frac = accumulators[index].frac
        out.append(LayerStats(
            name=layer.name, n_in=n_in, n_out=layer.units, in_bits=value_bits(q_in),
            w_bits=value_bits(layer.weight), w_kind=layer.weight.kind, acc_bits=acc,
            out_bits=value_bits(act) if act is not None else acc, terms=terms, nonzero=nonzero,
            bias_nonzero=bias_nz, has_activation=act is not None,
            rounding=act is not None and act.fractional < acc_frac, exact=lw is not None,
        ))
    return out


def log2ceil(x: float) -> int:
    return 0 if x <= 1 else int(math.ceil(math.log2(x) - 1e-12))
