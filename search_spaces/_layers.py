"""Per-layer choices (width, bit widths, reuse factor) and how one layer is sampled.

Both families share this: a layer's choices are the space-wide defaults, overridden key by
key for one layer (``layers[2].weight_bits``, ``output.reuse_factor``, ``output.sparsity``). Parameter names are
``<layer>/<what>`` and never depend on anything but the layer's position, so they are stable
across trials; categorical choice lists are fixed at load time and never change between
trials (Optuna requires it).

The reuse factor is the one parameter whose valid values depend on the sampled widths
(hls4ml accepts only :func:`qnas.spec.valid_reuse_factors` of the layer's shape). It is
drawn as an index into that layer's valid list, filtered by the user's allowed set, and the
real value is stored in the trial's user attributes as ``<layer>/reuse_factor``; no invalid
value is ever drawn and then snapped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from qnas.errors import ConfigError, InfeasibleCandidate
from qnas.spec import DenseLayerSpec, Quantizer, fixed_reuse_factor, valid_reuse_factors
from qnas.validation import Interval, OneOf, check_choices, check_keys, check_mapping, join_key

WEIGHT_BITS = (Interval(int, 2, 16), OneOf(("ternary", "binary")))
BITS = (Interval(int, 2, 16),)
INTEGER_BITS = (Interval(int, 0, 8),)
UNITS = (Interval(int, 1, 1024),)
REUSE = (Interval(int, 1, 65536),)
#: at most 95 % of a kernel pruned: beyond that a layer is left with almost no connections
SPARSITY = (Interval(float, 0, 0.95),)

#: quantization keys settable space-wide and per layer, with their defaults
QUANT_DEFAULTS: dict[str, tuple] = {
    "weight_bits": (6,),
    "weight_integer": (0,),
    "bias_bits": (8,),
    "bias_integer": (3,),
    "activation_bits": (8,),
    "activation_integer": (3,),
    "reuse_factor": (1,),
    "sparsity": (0,),
}
QUANT_CONSTRAINTS = {
    "weight_bits": WEIGHT_BITS, "weight_integer": INTEGER_BITS, "bias_bits": BITS,
    "bias_integer": INTEGER_BITS, "activation_bits": BITS, "activation_integer": INTEGER_BITS,
    "reuse_factor": REUSE, "sparsity": SPARSITY,
}


@dataclass(frozen=True)
class LayerChoices:
    """Everything one layer may be; ``units`` is empty when the family fixes the width."""

    weight_bits: tuple
    weight_integer: tuple
    bias_bits: tuple
    bias_integer: tuple
    activation_bits: tuple
    activation_integer: tuple
    reuse_factor: tuple
    sparsity: tuple = (0,)
    units: tuple = ()
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)


def parse_choice_overrides(data: Any, path: str, *, allow_units: bool, allow_activation: bool
                           ) -> dict[str, tuple]:
    """Validate a mapping of quantization (and maybe ``units``) choice lists."""
    data = check_mapping(data, path)
    allowed = [k for k in QUANT_CONSTRAINTS
               if allow_activation or not k.startswith("activation_")]
    if allow_units:
        allowed.append("units")
    check_keys(data, allowed, path)
    out = {}
    for key, value in data.items():
        constraints = UNITS if key == "units" else QUANT_CONSTRAINTS[key]
        out[key] = check_choices(value, constraints, join_key(path, key))
    return out


def merge_choices(defaults: Mapping[str, tuple], default_sources: Mapping[str, str],
                  overrides: Mapping[str, tuple], override_path: str | None) -> LayerChoices:
    """Layer choices = space defaults with this layer's overrides; combinations checked."""
    values = dict(defaults)
    sources = dict(default_sources)
    for key, value in overrides.items():
        values[key] = value
        sources[key] = join_key(override_path or "", key)
    choices = LayerChoices(**{k: values.get(k, ()) for k in QUANT_DEFAULTS},
                           units=values.get("units", ()), sources=sources)
    _check_integer_fits(choices, "weight", signed=True)
    _check_integer_fits(choices, "bias", signed=True)
    _check_integer_fits(choices, "activation", signed=False)
    return choices


def _check_integer_fits(choices: LayerChoices, what: str, signed: bool) -> None:
    """Every (bits, integer) pair that can be drawn must be a valid fixed-point format."""
    bits_choices = [b for b in getattr(choices, f"{what}_bits") if isinstance(b, int)]
    if not bits_choices:
        return  # ternary/binary only: integer bits are never drawn
    smallest = min(bits_choices)
    limit = smallest - (1 if signed else 0)
    for integer in getattr(choices, f"{what}_integer"):
        if integer > limit:
            raise ConfigError(
                choices.sources.get(f"{what}_integer", f"{what}_integer"),
                f"{integer} integer bits do not fit in {smallest}-bit {what}s (from "
                f"{choices.sources.get(f'{what}_bits', f'{what}_bits')}); "
                f"{'signed' if signed else 'unsigned'} {smallest}-bit values allow at most {limit}: "
                f"lower the integer bits or drop the {smallest}-bit choice")


def sample_quantizer(trial, prefix: str, what: str, choices: LayerChoices, signed: bool) -> Quantizer:
    bits = trial.suggest_categorical(f"{prefix}/{what}_bits", list(getattr(choices, f"{what}_bits")))
    if bits == "ternary":
        return Quantizer.ternary()
    if bits == "binary":
        return Quantizer.binary()
    integer = trial.suggest_categorical(f"{prefix}/{what}_integer", list(getattr(choices, f"{what}_integer")))
    return Quantizer.fixed(int(bits), int(integer), signed=signed)


def allowed_reuse_factors(n_in: int, n_out: int, allowed: tuple) -> tuple[int, ...]:
    """The reuse factors hls4ml accepts for this shape that the user also allows."""
    allowed_set = set(allowed)
    return tuple(r for r in valid_reuse_factors(n_in, n_out) if r in allowed_set)


def check_reuse_realisable(layers, strategies: tuple) -> None:
    """Refuse an allowed reuse-factor set that no shape a layer can take accepts.

    ``layers`` holds ``(name, choices, possible n_in values, possible units values)``; the
    value sets may over-approximate what can be drawn together, so this only ever refuses a
    set that is impossible for every candidate (then every trial would be pruned and the
    study would end blaming its budget). Distributed arithmetic ignores the reuse factor.
    """
    if all(s == "distributed_arithmetic" for s in strategies):
        return
    for name, choices, inputs, widths in layers:
        if any(allowed_reuse_factors(n_in, units, choices.reuse_factor) for n_in in inputs for units in widths):
            continue
        shapes = sorted({(n_in, units) for n_in in inputs for units in widths})
        examples = "; ".join(f"{n_in}x{units}: {list(valid_reuse_factors(n_in, units))[:8]}"
                             for n_in, units in shapes[:3])
        raise ConfigError(
            choices.sources.get("reuse_factor", "search_space.reuse_factor"),
            f"none of the allowed reuse factors {list(choices.reuse_factor)} is valid for layer {name} "
            f"(shapes {', '.join(f'{a}x{b}' for a, b in shapes[:6])}); hls4ml accepts {examples}. "
            "Allow one of those, or use strategy distributed_arithmetic")


def sample_sparsity(trial, name: str, choices: LayerChoices, weight: Quantizer) -> float:
    """The layer's pruning target; binary weights cannot be zero, so they are never pruned.

    ``<layer>/sparsity`` is drawn only when the space offers more than "no pruning" and the
    weights can be zero (like ``weight_integer``, it is conditional on the weight kind), so
    the trials of a space without pruning keep exactly the parameters they had before.
    """
    if tuple(choices.sparsity) == (0,) or weight.kind == "binary":
        return 0.0
    return float(trial.suggest_categorical(f"{name}/sparsity", list(choices.sparsity)))


def sample_layer(trial, name: str, n_in: int, units: int, choices: LayerChoices, *,
                 strategy: str, activation: bool) -> DenseLayerSpec:
    """Sample one layer's quantizers and reuse factor (``units`` already decided)."""
    weight = sample_quantizer(trial, name, "weight", choices, signed=True)
    bias_bits = trial.suggest_categorical(f"{name}/bias_bits", list(choices.bias_bits))
    bias_int = trial.suggest_categorical(f"{name}/bias_integer", list(choices.bias_integer))
    bias = Quantizer.fixed(int(bias_bits), int(bias_int))
    act = sample_quantizer(trial, name, "activation", choices, signed=False) if activation else None
    reuse = fixed_reuse_factor(strategy)
    if reuse is None:
        valid = allowed_reuse_factors(n_in, units, choices.reuse_factor)
        if not valid:
            raise InfeasibleCandidate(
                f"{name} ({n_in}x{units}): none of the allowed reuse factors "
                f"{list(choices.reuse_factor)} is valid for this shape (hls4ml accepts "
                f"{list(valid_reuse_factors(n_in, units))[:12]}...)")
        index = trial.suggest_int(f"{name}/reuse_index", 0, len(valid) - 1)
        reuse = valid[index]
    trial.set_user_attr(f"{name}/reuse_factor", reuse)
    return DenseLayerSpec(name=name, units=units, weight=weight, bias=bias, activation=act,
                          reuse_factor=reuse, sparsity=sample_sparsity(trial, name, choices, weight))
