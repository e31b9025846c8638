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

from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
from qnas.weights import LayerWeights, ModelWeights, to_integers

from ._csd import WeightPrior, csd_digit_count, expected_csd_digits, expected_nonzero


@dataclass(frozen=True)
class LayerStats:
    """What a dense layer costs in shift-and-add terms.

    ``terms`` holds, per output, the number of non-zero CSD digits of its weight column
    (expected values before training, so possibly fractional). ``acc_bits`` is the width
    of the exact accumulator (sign included), ``in_bits`` the width of one input value.
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


def _mantissa(q: Quantizer) -> tuple[int, int, int]:
    """(min, max, fractional bits) of a quantizer's integer mantissas."""
    if q.kind in ("ternary", "binary"):
        return -1, 1, 0
    if q.signed:
        return -(2 ** (q.bits - 1)), 2 ** (q.bits - 1) - 1, q.fractional
    return 0, 2 ** q.bits - 1, q.fractional


def value_bits(q: Quantizer) -> int:
    """Bits of one value as carried on a wire."""
    return 2 if q.kind == "ternary" else (1 if q.kind == "binary" else q.bits)


def _signed_width(lo: float, hi: float) -> int:
    width = 1
    while lo < -(2 ** (width - 1)) or hi > 2 ** (width - 1) - 1:
        width += 1
    return width


def _accumulator_bits(n_in: int, q_in: Quantizer, layer: DenseLayerSpec, kernel_abs_colsum: float | None) -> int:
    x_lo, x_hi, f_x = _mantissa(q_in)
    w_lo, w_hi, f_w = _mantissa(layer.weight)
    b_lo, b_hi, f_b = _mantissa(layer.bias)
    frac = max(f_x + f_w, f_b)
    x_abs = max(abs(x_lo), abs(x_hi))
    if kernel_abs_colsum is None:
        kernel_abs_colsum = n_in * max(abs(w_lo), abs(w_hi))
    span = kernel_abs_colsum * x_abs * 2 ** (frac - f_x - f_w) + max(abs(b_lo), abs(b_hi)) * 2 ** (frac - f_b)
    return _signed_width(-span, span)


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
    for index, (layer, n_in, q_in) in enumerate(spec.layer_inputs()):
        prior = priors[index]
        lw: LayerWeights | None = weights[index] if weights is not None else None
        if lw is not None:
            ints = _weight_ints(lw.kernel, layer.weight)
            terms = csd_digit_count(ints).sum(axis=0).astype(np.float64)
            nonzero = float(np.count_nonzero(ints))
            bias_nz = float(np.count_nonzero(lw.bias))
            colsum = float(np.abs(ints).sum(axis=0).max()) if ints.size else 0.0
        else:
            per_weight = expected_csd_digits(layer.weight.bits, layer.weight.kind, prior)
            terms = np.full(layer.units, n_in * per_weight)
            nonzero = n_in * layer.units * expected_nonzero(layer.weight.bits, layer.weight.kind, prior)
            bias_nz = 0.9 * layer.units
            colsum = None
        acc = _accumulator_bits(n_in, q_in, layer, colsum)
        act = layer.activation
        acc_frac = max(_mantissa(q_in)[2] + _mantissa(layer.weight)[2], _mantissa(layer.bias)[2])
        out.append(LayerStats(
            name=layer.name, n_in=n_in, n_out=layer.units, in_bits=value_bits(q_in),
            w_bits=value_bits(layer.weight), w_kind=layer.weight.kind, acc_bits=acc,
            out_bits=value_bits(act) if act is not None else acc, terms=terms, nonzero=nonzero,
            bias_nonzero=bias_nz, has_activation=act is not None,
            rounding=act is not None and act.fractional < acc_frac, exact=lw is not None,
        ))
    return out


def _weight_ints(kernel: np.ndarray, q: Quantizer) -> np.ndarray:
    if q.kind in ("ternary", "binary"):
        return np.rint(np.asarray(kernel)).astype(np.int64)
    return to_integers(kernel, q)


def log2ceil(x: float) -> int:
    return 0 if x <= 1 else int(math.ceil(math.log2(x) - 1e-12))
