"""hls4ml precisions derived from a ModelSpec, so that C simulation equals QKeras bit for bit.

hls4ml's own defaults (``fixed<16,6>``) or its ``auto`` inference are not something qnas can
promise bit-exactness on for every quantizer it searches. The accumulator of a dense layer is
the one place where precision can be lost, so it is computed here from the spec alone: the
integer mantissa range of ``sum_i x_i * w_i + b`` over all inputs and weights the formats
allow, at the finest fractional resolution of a product or the bias. Any value this type
cannot hold cannot occur, and nothing is rounded before the activation quantizer (or, for
the linear output layer, ever).

No hls4ml import here: the plan is pure arithmetic on the spec and is tested as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from qnas.fixed_point import accumulator_ranges
from qnas.layer_names import INPUT_LAYER_NAME, activation_layer_name
from qnas.spec import ModelSpec, Quantizer


@dataclass(frozen=True)
class FixedType:
    """``ap_fixed<width, integer>`` (``integer`` counts the sign bit, as in HLS)."""

    width: int
    integer: int
    signed: bool = True
    rounding: str = ""  # "" = hls4ml default (truncate), else e.g. "RND_CONV"
    saturation: str = ""  # "" = wrap, else e.g. "SAT"

    @property
    def fractional(self) -> int:
        return self.width - self.integer

    def hls4ml_string(self) -> str:
        """Precision string in hls4ml's backend-neutral syntax (``fixed<W,I,RND_CONV,SAT>``)."""
        base = "fixed" if self.signed else "ufixed"
        args = [str(self.width), str(self.integer)]
        if self.rounding or self.saturation:
            args += [self.rounding or "TRN", self.saturation or "WRAP"]
        return f"{base}<{','.join(args)}>"


def quantizer_type(q: Quantizer, *, rounding: str = "", saturation: str = "") -> FixedType:
    """The fixed-point type holding exactly the values of a fixed-point quantizer."""
    if q.kind != "fixed":
        raise ValueError(f"{q.label} is not a fixed-point format")
    if q.signed:
        return FixedType(q.bits, q.integer + 1, True, rounding, saturation)
    return FixedType(q.bits, q.integer, False, rounding, saturation)


def exact_accumulators(spec: ModelSpec) -> tuple[FixedType, ...]:
    """Per layer, the narrowest signed type that holds ``x @ W + b`` exactly for any allowed x, W, b.

    The range is :func:`qnas.fixed_point.accumulator_ranges` of the spec alone (the
    estimators read the same function), so a hidden layer without an activation hands its
    unrounded accumulator range on to the next layer.
    """
    return tuple(FixedType(acc.width, acc.width - acc.frac, True) for acc in accumulator_ranges(spec))


def activation_type(q: Quantizer) -> FixedType:
    """QKeras' ``quantized_relu`` rounds half to even and clips: hls4ml's RND_CONV + SAT."""
    return quantizer_type(q, rounding="RND_CONV", saturation="SAT")


def linear_layer_name(layer_name: str) -> str:
    """The linear activation hls4ml attaches to a dense layer (merged away when it can)."""
    return f"{layer_name}_linear"


def plan_precisions(spec: ModelSpec, *, input_layer: str) -> dict[str, dict[str, str]]:
    """Per hls4ml layer name, the precisions to set (hls4ml ``LayerName`` config syntax).

    Names follow the QKeras model built by ``nas.qkeras_model``: the input layer
    (``input_layer``), its quantizing ``QActivation``, each ``QDense`` under its spec name,
    the linear activation hls4ml attaches to it and the ReLU quantizer after it.
    Weight and bias formats are the spec's; ternary/binary weights keep hls4ml's own
    encodings (it multiplies them with sign logic, not multipliers).
    """
    in_type = quantizer_type(spec.input_quantizer).hls4ml_string()
    plan: dict[str, dict[str, str]] = {
        input_layer: {"result": in_type},
        INPUT_LAYER_NAME: {
            "result": quantizer_type(spec.input_quantizer, rounding="RND_CONV", saturation="SAT").hls4ml_string()},
    }
    for layer, acc_type in zip(spec.layers, exact_accumulators(spec)):
        acc = acc_type.hls4ml_string()
        dense = {"accum": acc, "result": acc}
        if layer.weight.kind == "fixed":
            dense["weight"] = quantizer_type(layer.weight).hls4ml_string()
        if layer.bias.kind == "fixed":
            dense["bias"] = quantizer_type(layer.bias).hls4ml_string()
        plan[layer.name] = dense
        plan[linear_layer_name(layer.name)] = {"result": acc}
        if layer.activation is not None:
            plan[activation_layer_name(layer.name)] = {"result": activation_type(layer.activation).hls4ml_string()}
    return plan
