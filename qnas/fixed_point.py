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
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .spec import ElementFormats, ModelSpec, Quantizer
from .weights import ModelWeights

__all__ = ["quantize_array", "quantize_elements", "reference_forward", "accumulator_bits", "float32_exact",
           "TERNARY_THRESHOLD"]

#: QKeras' ternary threshold when ``alpha`` is a number (``ternary.default_threshold``).
TERNARY_THRESHOLD = np.float32(0.33)

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


def quantize_elements(x: np.ndarray | Sequence[float], fmts: ElementFormats) -> np.ndarray:
    """Quantize the columns of ``x`` to per-element formats with HGQ2's inference semantics.

    RND rounding (``floor(x * 2**f + 1/2)``) and WRAP overflow into ``[-k * 2**i, 2**i)``
    with ``i = max(i, -f)``, as HGQ2's fixed-point quantizer computes it; float64 (exact for
    every format of at most 32 bits).
    """
    x = np.asarray(x, dtype=np.float64)
    k, i, f = (np.array(v, dtype=np.float64) for v in zip(*(fmts.kif(j) for j in range(len(fmts)))))
    scale = 2.0 ** f
    xq = np.floor(x * scale + 0.5) / scale
    bias = k * 2.0 ** i
    return np.mod(xq + bias, 2.0 ** (i + k)) - bias


def _value_grid(q: Quantizer) -> tuple[int, float]:
    """(fractional bits, largest magnitude) of the values a quantizer emits."""
    if q.kind in ("ternary", "binary"):
        return 0, 1.0
    return q.fractional, max(abs(q.min_value), abs(q.max_value))


def accumulator_bits(spec: ModelSpec) -> tuple[int, ...]:
    """Per layer, the bits (sign excluded) an exact accumulator of ``x @ W + b`` needs.

    Worst case over all weights and inputs of the declared formats: every partial sum is a
    multiple of ``2**-frac`` (frac = finest of input*weight and bias grids) no larger than
    ``n_in * max|w| * max|x| + max|b|``. Layers without an activation pass their unquantized
    accumulator on, so the next layer's input grid and range are that accumulator's.
    """
    out = []
    x_frac, x_max = _value_grid(spec.input_quantizer)
    for layer, n_in, _ in spec.layer_inputs():
        w_frac, w_max = _value_grid(layer.weight)
        b_frac, b_max = _value_grid(layer.bias)
        frac = max(x_frac + w_frac, b_frac)
        bound = n_in * w_max * x_max + b_max
        out.append(max(1, math.ceil(math.log2(bound * 2.0 ** frac + 1))))
        if layer.activation is not None:
            x_frac, x_max = _value_grid(layer.activation)
        else:
            x_frac, x_max = frac, bound
    return tuple(out)


def float32_exact(spec: ModelSpec) -> bool:
    """True when QKeras' float32 dense arithmetic is exact for every possible input.

    Then :func:`reference_forward` equals QKeras ``model.predict`` bit for bit. When False,
    QKeras rounds some sums (its result depends on the BLAS summation order) while the
    reference, like the hardware, stays exact.
    """
    return max(accumulator_bits(spec)) <= 24


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
    if spec.input_formats is not None:
        h = quantize_elements(x, spec.input_formats)
    else:
        h = quantize_array(x, spec.input_quantizer)
    for layer, lw in zip(spec.layers, weights):
        h = h @ np.asarray(lw.kernel, dtype=np.float64) + np.asarray(lw.bias, dtype=np.float64)
        if layer.activation_formats is not None:
            h = quantize_elements(np.maximum(h, 0.0), layer.activation_formats)
        elif layer.activation is not None:
            h = quantize_array(h, layer.activation)
    return h
