"""QKeras inference arithmetic in NumPy: the golden model RTL and C simulation are checked against.

Why a NumPy copy at all: ``hls_backend`` and ``estimators`` must compare firmware outputs to
what the trained network computes without importing TensorFlow, and the comparison is only
meaningful if it is bit exact. So this module does not implement "ideal" fixed point; it
replays the float32 operations QKeras 0.9.0 performs at inference, in the same order, so
that every corner (rounding ties, saturation, the straight-through-estimator arithmetic)
comes out identical. Only the quantizers qnas uses are covered, always with ``alpha=1``.

Semantics (``x`` is first cast to float32, as QKeras does with ``K.cast_to_floatx``):

* signed fixed ``quantized_bits(bits, integer, keep_negative=1, alpha=1)``:
  ``p = x * 2**(bits-1) / 2**integer``; ``k = round_half_to_even(p)`` (``tf.round``);
  ``k = clip(k, -2**(bits-1), 2**(bits-1) - 1)`` (saturation, asymmetric two's complement
  range); ``xq = 2**integer * k / 2**(bits-1)``.
* unsigned fixed ``quantized_relu(bits, integer)``: ``p = x * 2**bits / 2**integer``;
  ``xq = 2**integer * clip(round_half_to_even(p) / 2**bits, 0, 1 - 2**-bits)``. Negative
  inputs give 0 (that is the ReLU), large ones saturate at ``2**integer - step``.
* ``ternary(alpha=1)``: ``xq = sign(x) * (|x| >= float32(0.33))`` -- the threshold is the
  fixed 0.33 QKeras uses when alpha is a number, compared in float32, so 0.33 itself maps
  to +-1.
* ``binary(alpha=1)``: ``xq = sign(x)`` with 0 (and -0) mapped to +1.

Every quantizer then returns ``x + (xq - x)`` (the straight-through estimator, and inside
it ``tf.round`` is itself ``p + (round(p) - p)``), evaluated in float32. For all sensibly
scaled inputs that is exactly ``xq``. It stops being ``xq`` only when ``|x|`` is so large
that ``xq`` is below float32 resolution at ``x`` (``|x| >= 2**24 * step``; e.g. 6-bit
``fixed<6,0>`` maps ``1e9`` to 0, not to the saturation value 0.96875), or when ``x`` is
inf/NaN. Hardware saturates there instead, so inputs must be scaled to the input format's
range; the emulation below reproduces QKeras even in that corner, on purpose.

QKeras cannot build quantizers with a negative ``integer`` (it computes ``2**integer`` on
int32 tensors); :func:`quantize_array` still evaluates the same formulas for them so the
estimators can reason about such formats, but ``nas.qkeras_model`` refuses them.

Dense layers: QKeras computes ``x @ W + b`` in float32, which equals exact arithmetic
whenever every partial sum fits float32's 24-bit mantissa; :func:`float32_exact` checks that
bound for a spec. :func:`reference_forward` accumulates in float64 (exact for any spec qnas
can describe up to 53 bits), so it matches QKeras bit for bit exactly when
``float32_exact(spec)`` holds, and matches exact fixed-point hardware always.

Accumulators: :func:`accumulator_ranges` is the one place the range (and so the width) of
a dense layer's exact accumulator is derived. The hls4ml precision plan, the estimators and
:func:`float32_exact` all read it, so an estimate and the design it describes cannot
disagree on accumulator widths by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .spec import ModelSpec, Quantizer
from .weights import ModelWeights, to_integers

__all__ = ["FLOAT32_MANTISSA_BITS", "MantissaRange", "TERNARY_THRESHOLD", "accumulator_bits",
           "accumulator_ranges", "float32_exact", "quantize_array", "quantizer_range", "reference_forward",
           "signed_width"]

#: QKeras' ternary threshold when ``alpha`` is a number (``ternary.default_threshold``).
TERNARY_THRESHOLD = np.float32(0.33)

#: float32 (what QKeras trains and infers in) holds integers exactly up to 2**24.
FLOAT32_MANTISSA_BITS = 24

_F32 = np.float32


def _straight_through(x: np.ndarray, xq: np.ndarray) -> np.ndarray:
    """``x + stop_gradient(1.0 * (-x + xq))`` in float32, as QKeras returns it."""
    with np.errstate(invalid="ignore", over="ignore"):
        return x + ((-x + xq) * _F32(1.0))


def _round_through(p: np.ndarray) -> np.ndarray:
    """QKeras' ``_round_through``: ``p + (round(p) - p)``; NumPy rounds half to even like tf.round."""
    with np.errstate(invalid="ignore", over="ignore"):
        return p + (-p + np.round(p))


def _signed_fixed(x: np.ndarray, q: Quantizer) -> np.ndarray:
    m = _F32(2.0 ** (q.bits - 1))
    m_i = _F32(2.0 ** q.integer)
    with np.errstate(invalid="ignore", over="ignore"):
        p = x * m / m_i
        k = np.clip(_round_through(p), -m, m - _F32(1.0))
        xq = m_i * k / m
    return _straight_through(x, xq)


def _unsigned_fixed(x: np.ndarray, q: Quantizer) -> np.ndarray:
    m = _F32(2.0 ** q.bits)
    m_i = _F32(2.0 ** q.integer)
    m_f = _F32(2.0 ** (q.integer - q.bits))
    top = m_i - m_f
    with np.errstate(invalid="ignore", over="ignore"):
        x_u = np.where(x <= top, np.maximum(x, _F32(0.0)), top).astype(_F32)
        p = x * m / m_i
        xq = m_i * np.clip(_round_through(p) / m, _F32(0.0), _F32(1.0) - _F32(1.0) / m)
    return _straight_through(x_u, xq.astype(_F32))


def _ternary(x: np.ndarray) -> np.ndarray:
    q = (np.abs(x) >= TERNARY_THRESHOLD).astype(_F32) * np.sign(x)
    return _straight_through(x, _F32(1.0) * q)


def _binary(x: np.ndarray) -> np.ndarray:
    k = np.sign(x)
    k = k + (_F32(1.0) - np.abs(k))
    return _straight_through(x, _F32(1.0) * k)


def quantize_array(x: np.ndarray | Sequence[float] | float, q: Quantizer) -> np.ndarray:
    """Quantize ``x`` exactly as the QKeras quantizer for ``q`` does at inference.

    The computation runs in float32 (QKeras' dtype); the result is returned as float64 so
    callers can accumulate exactly. See the module docstring for the rules.
    """
    x32 = np.asarray(x, dtype=_F32)
    if q.kind == "ternary":
        out = _ternary(x32)
    elif q.kind == "binary":
        out = _binary(x32)
    elif q.signed:
        out = _signed_fixed(x32, q)
    else:
        out = _unsigned_fixed(x32, q)
    return np.asarray(out, dtype=np.float64)


def signed_width(lo: int, hi: int) -> int:
    """Smallest two's-complement width (sign included) holding every integer in [lo, hi]."""
    width = 1
    while lo < -(2 ** (width - 1)) or hi > 2 ** (width - 1) - 1:
        width += 1
    return width


@dataclass(frozen=True)
class MantissaRange:
    """Values ``k * 2**-frac`` for every integer mantissa ``k`` in ``[lo, hi]``."""

    lo: int
    hi: int
    frac: int

    @property
    def width(self) -> int:
        """Two's-complement bits, sign included, of a register holding every value exactly."""
        return signed_width(self.lo, self.hi)

    @property
    def magnitude(self) -> int:
        """Largest absolute mantissa."""
        return max(abs(self.lo), abs(self.hi))


def quantizer_range(q: Quantizer) -> MantissaRange:
    """The integer mantissas a quantizer emits (ternary/binary: -1..1 at ``frac`` 0)."""
    if q.kind in ("ternary", "binary"):
        return MantissaRange(-1, 1, 0)
    if q.signed:
        return MantissaRange(-(2 ** (q.bits - 1)), 2 ** (q.bits - 1) - 1, q.fractional)
    return MantissaRange(0, 2 ** q.bits - 1, q.fractional)


def _layer_range(x: MantissaRange, n_in: int, weight: Quantizer, bias: Quantizer,
                 kernel: np.ndarray | None, bias_values: np.ndarray | None) -> MantissaRange:
    w, b = quantizer_range(weight), quantizer_range(bias)
    frac = max(x.frac + w.frac, b.frac)
    p_scale, b_scale = 2 ** (frac - x.frac - w.frac), 2 ** (frac - b.frac)
    if kernel is None:
        corners = (x.lo * w.lo, x.lo * w.hi, x.hi * w.lo, x.hi * w.hi)
        return MantissaRange(n_in * min(corners) * p_scale + b.lo * b_scale,
                             n_in * max(corners) * p_scale + b.hi * b_scale, frac)
    k, bq = to_integers(kernel, weight), to_integers(bias_values, bias)
    bound = (float(np.abs(k).sum(axis=0).max(initial=0)) * x.magnitude * p_scale
             + float(np.abs(bq).max(initial=0)) * b_scale)
    if bound >= 2.0 ** 62:  # beyond int64: exact Python integers (slow, never met in practice)
        k, bq = k.astype(object), bq.astype(object)
    lo_terms = np.minimum(k * x.lo, k * x.hi).sum(axis=0) * p_scale
    hi_terms = np.maximum(k * x.lo, k * x.hi).sum(axis=0) * p_scale
    return MantissaRange(int(min(lo_terms + bq * b_scale, default=0)),
                         int(max(hi_terms + bq * b_scale, default=0)), frac)


def accumulator_ranges(spec: ModelSpec, weights: ModelWeights | None = None) -> tuple[MantissaRange, ...]:
    """Per layer, the exact range of ``x @ W + b`` (the accumulator before any rounding).

    Without ``weights``: over every input, weight and bias the declared formats allow (what
    a design planned from the spec alone, like hls4ml's, must hold). With ``weights``: over
    every allowed input for these weights and biases, per output, the widest output taken
    (what an adder tree sized from the actual constants, like da4ml's, holds). The grid is
    the finest of input*weight and bias. A layer without an activation passes its
    unrounded accumulator on, so the next layer's input range is that accumulator's.
    """
    out = []
    x = quantizer_range(spec.input_quantizer)
    for index, (layer, n_in, _) in enumerate(spec.layer_inputs()):
        lw = weights[index] if weights is not None else None
        acc = _layer_range(x, n_in, layer.weight, layer.bias,
                           None if lw is None else lw.kernel, None if lw is None else lw.bias)
        out.append(acc)
        x = quantizer_range(layer.activation) if layer.activation is not None else acc
    return tuple(out)


def accumulator_bits(spec: ModelSpec) -> tuple[int, ...]:
    """Per layer, the bits (sign excluded) of the exact accumulator, from the formats alone."""
    return tuple(max(1, acc.width - 1) for acc in accumulator_ranges(spec))


def float32_exact(spec: ModelSpec) -> bool:
    """True when QKeras' float32 dense arithmetic is exact for every possible input.

    Then :func:`reference_forward` equals QKeras ``model.predict`` bit for bit. When False,
    QKeras rounds some sums (its result depends on the BLAS summation order) while the
    reference, like the hardware, stays exact.
    """
    return max(accumulator_bits(spec)) <= FLOAT32_MANTISSA_BITS


def reference_forward(spec: ModelSpec, weights: ModelWeights, x: np.ndarray) -> np.ndarray:
    """Float64 emulation of the QKeras model built from ``spec`` with these weights.

    ``x`` (events, n_inputs) is passed through the input quantizer (a no-op for inputs
    already on its grid), then each layer computes ``h @ W + b`` exactly and applies its
    activation quantizer; the last layer is linear, so the result is the logits (or the
    reconstruction of an autoencoder), shape (events, n_outputs).
    """
    weights.check(spec)
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != spec.n_inputs:
        raise ValueError(f"x must have shape (events, {spec.n_inputs}); got {x.shape}")
    h = quantize_array(x, spec.input_quantizer)
    for layer, lw in zip(spec.layers, weights):
        h = h @ np.asarray(lw.kernel, dtype=np.float64) + np.asarray(lw.bias, dtype=np.float64)
        if layer.activation is not None:
            h = quantize_array(h, layer.activation)
    return h
