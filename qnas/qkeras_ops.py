"""QKeras quantizer semantics expressed as da4ml traced fixed-point operations.

da4ml's own ``quantize(..., round_mode='RND')`` rounds half *up* (add half an LSB, then
floor). QKeras rounds with ``tf.round``, which is round-half-to-*even*; the two differ
whenever an accumulator lands exactly half-way between two grid points, which happens
often (the accumulator carries the input's plus the weight's fractional bits, so ties are
an ordinary bit pattern). Bit-exactness with the trained model therefore needs the
rounding built here from primitive traced operations:

    u   = v + step/2                    (one constant add, folded with the bias)
    U   = floor(u / step) * step        (drop bits: free wiring)
    tie = all bits of u below step are 0  (NOR of the dropped bits)
    r   = U - step * (tie AND lsb(U))    (a tie that rounded up to odd goes back down)

Saturation (QKeras ``clip``) is a compare against the grid's end, as a mux.
Each function works on one :class:`da4ml.trace.FixedVariable`; :mod:`qnas.tracer` applies
them, and :mod:`qnas.fixed_point` states the same semantics in NumPy.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .spec import Quantizer

__all__ = ["input_kif", "quantized_bits", "quantized_relu", "round_half_even", "saturate"]

FixedVariable = Any  # da4ml.trace.FixedVariable, imported lazily by callers


def input_kif(q: Quantizer) -> tuple[int, int, int]:
    """(sign bit, integer bits, fractional bits) of a fixed-point quantizer's values."""
    return (1 if q.signed else 0), q.integer, q.fractional


def round_half_even(v: FixedVariable, frac_bits: int) -> FixedVariable:
    """``tf.round`` of ``v`` onto the grid of step ``2**-frac_bits`` (no clipping).

    Values already on the grid pass through untouched (no hardware).
    """
    step = Decimal(2) ** -frac_bits
    if v.opr == "const":
        return v.from_const(_rne_decimal(v.low, step), hwconf=v.hwconf)
    if v.step >= step:
        return v
    u = v + float(step / 2)
    _, i_u, f_u = u.kif
    # floor(u / step): a WRAP quantization with enough integer bits never wraps, it only
    # drops the bits below ``step``.
    floor_u = u.quantize(1, max(i_u, 0) + 1, frac_bits, "WRAP", "TRN")
    below = u.quantize(0, -frac_bits, f_u, "WRAP", "TRN")  # u mod step: the dropped bits
    tie = ~below.unary_bit_op("any")  # 1 when u was exactly on the grid, i.e. v was a tie
    lsb = floor_u.quantize(0, 1 - frac_bits, frac_bits, "WRAP", "TRN") * (2.0 ** frac_bits)  # 0/1
    back_to_even = lsb & tie
    return floor_u - back_to_even * float(step)


def _rne_decimal(value: Decimal, step: Decimal) -> Decimal:
    scaled = value / step
    return scaled.to_integral_value(rounding="ROUND_HALF_EVEN") * step


def saturate(v: FixedVariable, low: float, high: float) -> FixedVariable:
    """QKeras ``clip`` to [low, high]; free when the value range already fits."""
    out = v
    if float(out.low) < low:
        out = out.max_of(low) if low != 0 else out.relu()
    if float(out.high) > high:
        out = out.min_of(high)
    return out


def quantized_relu(v: FixedVariable, q: Quantizer) -> FixedVariable:
    """``quantized_relu(bits, integer)``: ReLU, round half to even, clip to the top code."""
    if q.kind != "fixed" or q.signed:
        raise ValueError(f"quantized_relu needs an unsigned fixed quantizer, got {q.label}")
    return saturate(round_half_even(v, q.fractional), 0.0, q.max_value)


def quantized_bits(v: FixedVariable, q: Quantizer) -> FixedVariable:
    """Signed ``quantized_bits(bits, integer, alpha=1)``: round half to even, clip."""
    if q.kind != "fixed":
        raise ValueError(f"quantized_bits needs a fixed quantizer, got {q.label}")
    return saturate(round_half_even(v, q.fractional), q.min_value, q.max_value)
