"""The model spec: the one description of a candidate network that every stage reads.

A search space samples a :class:`ModelSpec`; ``nas`` builds and trains the QKeras model
from it; ``estimators`` cost it (no TensorFlow); ``hls_backend`` converts and synthesizes
it. Keeping it a frozen, JSON-round-tripping dataclass with no heavy imports is what lets
an estimate and a synthesis result be compared field by field, and lets every trial store
exactly what was built.

Fixed-point conventions follow QKeras, because QKeras is what the network is trained with
and the hardware must reproduce it bit for bit:

* signed ``fixed(bits, integer)`` is ``quantized_bits(bits, integer, keep_negative=True,
  alpha=1)``: ``integer`` excludes the sign bit, values are ``k * 2**-(bits-1-integer)``
  in ``[-2**integer, 2**integer - step]``; in HLS it is ``ap_fixed<bits, integer+1>``.
* unsigned ``fixed(bits, integer, signed=False)`` is ``quantized_relu(bits, integer)``:
  values ``k * 2**-(bits-integer)`` in ``[0, 2**integer - step]``; ``ap_ufixed<bits, integer>``.
* ``ternary`` is ``ternary(alpha=1)`` with values {-1, 0, +1}; ``binary`` is
  ``binary(alpha=1)`` with values {-1, +1}.

Networks trained with learned per-element precision (the ``hgq2_mlp`` family: HGQ2 learns
a bit width for every input feature and every activation) carry :class:`ElementFormats`
beside those uniform quantizers: ``ModelSpec.input_formats`` and each hidden layer's
``activation_formats``. They then rule; the uniform quantizer of the same place is their
envelope (a format holding every element), which the analytic estimator tiers and the
labels read. Their rounding and overflow follow HGQ2, not QKeras (see ElementFormats).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Mapping

from .pipeline import Pipelining, parse_pipelining

QuantizerKind = Literal["fixed", "ternary", "binary"]
Strategy = Literal["latency", "resource", "distributed_arithmetic"]
Task = Literal["classification", "autoencoder"]

STRATEGIES: tuple[str, ...] = ("latency", "resource", "distributed_arithmetic")
TASKS: tuple[str, ...] = ("classification", "autoencoder")
QUANTIZER_KINDS: tuple[str, ...] = ("fixed", "ternary", "binary")

SPEC_FORMAT_VERSION = 1

_HLS_TYPE = re.compile(r"ap_(u?)fixed<(\d+),(-?\d+)>")


def fixed_reuse_factor(strategy: str) -> int | None:
    """The one reuse factor ``strategy`` can build, or None when it takes several.

    Distributed arithmetic (hls4ml's and da4ml's) turns every weight into the wiring of a
    fully unrolled shift-and-add tree: nothing is time-multiplexed, so the reuse factor is
    1. This is the only place that rule is stated; the spec, the search space, the
    estimators and the open flow all ask here.
    """
    return 1 if strategy == "distributed_arithmetic" else None


class SpecError(ValueError):
    """A spec that is internally inconsistent; the message names the field."""


@dataclass(frozen=True)
class Quantizer:
    """A number format: fixed point (signed or unsigned), ternary or binary."""

    kind: QuantizerKind = "fixed"
    bits: int = 8
    integer: int = 0
    signed: bool = True

    def __post_init__(self) -> None:
        if self.kind not in QUANTIZER_KINDS:
            raise SpecError(f"quantizer kind must be one of {QUANTIZER_KINDS}; got {self.kind!r}")
        if self.kind == "ternary":
            if (self.bits, self.integer, self.signed) != (2, 1, True):
                raise SpecError("a ternary quantizer is always bits=2, integer=1, signed=True; "
                                f"got bits={self.bits}, integer={self.integer}, signed={self.signed}")
        elif self.kind == "binary":
            if (self.bits, self.integer, self.signed) != (1, 1, True):
                raise SpecError("a binary quantizer is always bits=1, integer=1, signed=True; "
                                f"got bits={self.bits}, integer={self.integer}, signed={self.signed}")
        else:
            if not isinstance(self.bits, int) or not 2 <= self.bits <= 32:
                raise SpecError(f"fixed-point bits must be an int in [2, 32]; got {self.bits!r}")
            if not isinstance(self.integer, int) or not -8 <= self.integer <= self.bits:
                raise SpecError(f"fixed-point integer bits must be an int in [-8, bits={self.bits}]; "
                                f"got {self.integer!r}")

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def fixed(cls, bits: int, integer: int = 0, signed: bool = True) -> "Quantizer":
        return cls("fixed", bits, integer, signed)

    @classmethod
    def ternary(cls) -> "Quantizer":
        return cls("ternary", 2, 1, True)

    @classmethod
    def binary(cls) -> "Quantizer":
        return cls("binary", 1, 1, True)

    @classmethod
    def from_hls_type(cls, text: str) -> "Quantizer":
        """Parse ``ap_fixed<W,I>`` / ``ap_ufixed<W,I>`` (the inverse of :attr:`hls_type`).

        ``I`` counts the sign bit in HLS, so ``ap_fixed<16,6>`` is ``fixed(16, 5)``; an
        ``ap_ufixed<8,3>`` is ``fixed(8, 3, signed=False)``. Rounding and overflow modes are
        refused: qnas formats round half to even and saturate like QKeras, which is not what
        a bare HLS type means, so a mode would be silently ignored.
        """
        match = _HLS_TYPE.fullmatch(str(text).replace(" ", ""))
        if not match:
            raise SpecError(f"{text!r} is not a fixed-point type; write ap_fixed<W,I> (signed, I counts the "
                            "sign bit) or ap_ufixed<W,I>, e.g. ap_fixed<16,6>")
        unsigned, width, integer = match.group(1) == "u", int(match.group(2)), int(match.group(3))
        return cls.fixed(width, integer if unsigned else integer - 1, signed=not unsigned)

    # -- properties the hardware cares about --------------------------------------------
    @property
    def fractional(self) -> int:
        """Fractional bits (bits right of the binary point)."""
        if self.kind != "fixed":
            return 0
        return self.bits - self.integer - (1 if self.signed else 0)

    @property
    def step(self) -> float:
        """Value of one least-significant bit."""
        return 2.0 ** -self.fractional

    @property
    def min_value(self) -> float:
        if self.kind == "ternary" or self.kind == "binary":
            return -1.0
        return -(2.0 ** self.integer) if self.signed else 0.0

    @property
    def max_value(self) -> float:
        if self.kind == "ternary" or self.kind == "binary":
            return 1.0
        return 2.0 ** self.integer - self.step

    @property
    def hls_type(self) -> str:
        """The ap_fixed type that holds every value of this format exactly."""
        if self.kind == "ternary":
            return "ap_int<2>"
        if self.kind == "binary":
            return "ap_int<2>"  # -1/+1 needs a sign bit when held as a number
        if self.signed:
            return f"ap_fixed<{self.bits},{self.integer + 1}>"
        return f"ap_ufixed<{self.bits},{self.integer}>"

    @property
    def label(self) -> str:
        if self.kind != "fixed":
            return self.kind
        return f"{'' if self.signed else 'u'}fixed<{self.bits},{self.integer}>"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Quantizer":
        return cls(**dict(data))


ROUNDINGS: tuple[str, ...] = ("RND",)
OVERFLOWS: tuple[str, ...] = ("WRAP",)


@dataclass(frozen=True)
class ElementFormats:
    """One fixed-point format per element of a vector (learned per-element precision).

    Element ``j`` is signed when ``keep_negative[j]`` is 1, has ``integer[j]`` integer bits
    (sign excluded) and ``fractional[j]`` fractional bits, either of which may be negative;
    ``keep_negative + max(integer, -fractional) + fractional <= 0`` means the element is
    pruned (always 0, no wires). The quantization is HGQ2's at inference:
    ``rounding='RND'`` is ``floor(x * 2**f + 1/2) / 2**f`` (half up, unlike QKeras' half to
    even) and ``overflow='WRAP'`` wraps two's-complement style into
    ``[-k * 2**i, 2**i)`` (HGQ2 sizes ``i`` on the training set with ``trace_minmax``).
    """

    keep_negative: tuple[int, ...]
    integer: tuple[int, ...]
    fractional: tuple[int, ...]
    rounding: str = "RND"
    overflow: str = "WRAP"

    def __post_init__(self) -> None:
        for name in ("keep_negative", "integer", "fractional"):
            values = tuple(int(v) for v in getattr(self, name))
            object.__setattr__(self, name, values)
        if not len(self.keep_negative) == len(self.integer) == len(self.fractional) >= 1:
            raise SpecError("element formats need one keep_negative/integer/fractional entry per element; got "
                            f"{len(self.keep_negative)}/{len(self.integer)}/{len(self.fractional)}")
        if any(k not in (0, 1) for k in self.keep_negative):
            raise SpecError(f"element keep_negative must be 0 or 1; got {sorted(set(self.keep_negative))}")
        if any(not -32 <= v <= 32 for v in self.integer + self.fractional):
            raise SpecError("element integer/fractional bits must be in [-32, 32]")
        if any(self.bits_of(j) > 32 for j in range(len(self))):
            raise SpecError("an element format is wider than 32 bits")
        if self.rounding not in ROUNDINGS:
            raise SpecError(f"element rounding must be one of {ROUNDINGS}; got {self.rounding!r}")
        if self.overflow not in OVERFLOWS:
            raise SpecError(f"element overflow must be one of {OVERFLOWS}; got {self.overflow!r}")

    def __len__(self) -> int:
        return len(self.integer)

    def kif(self, j: int) -> tuple[int, int, int]:
        """(sign bit, effective integer bits, fractional bits) of element ``j``."""
        f = self.fractional[j]
        return self.keep_negative[j], max(self.integer[j], -f), f

    def bits_of(self, j: int) -> int:
        k, i, f = self.kif(j)
        return max(k + i + f, 0)

    @property
    def total_bits(self) -> int:
        return sum(self.bits_of(j) for j in range(len(self)))

    def envelope(self, signed: bool) -> Quantizer:
        """The narrowest uniform fixed format holding every element's values."""
        live = [self.kif(j) for j in range(len(self)) if self.bits_of(j) > 0] or [(0, 0, 0)]
        integer = max(i for _, i, _ in live)
        frac = max(f for _, _, f in live)
        integer = min(max(integer, -8), 24)
        bits = integer + frac + (1 if signed else 0)
        bits = min(max(bits, 2), 32)
        return Quantizer.fixed(bits, min(integer, bits), signed=signed)

    def to_dict(self) -> dict[str, Any]:
        return {"keep_negative": list(self.keep_negative), "integer": list(self.integer),
                "fractional": list(self.fractional), "rounding": self.rounding, "overflow": self.overflow}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ElementFormats":
        return cls(tuple(data["keep_negative"]), tuple(data["integer"]), tuple(data["fractional"]),
                   data.get("rounding", "RND"), data.get("overflow", "WRAP"))


@dataclass(frozen=True)
class DenseLayerSpec:
    """One fully connected layer and what follows it.

    ``activation`` is the quantizer of the layer's output after ReLU (``quantized_relu``);
    ``None`` means a linear layer whose accumulator value is the output (used for the
    final layer: classifiers emit logits, so the firmware needs no softmax table).

    ``sparsity`` is the fraction of the kernel that pruning-aware training sets to exactly
    zero (magnitude pruning, :mod:`nas.pruning`); 0 means no pruning. A zero weight costs
    no adder in distributed arithmetic, so a pre-training estimate may read it; the trained
    weights hold the zeros themselves. It is written to JSON only when nonzero, so specs
    without pruning keep their fingerprints.
    """

    name: str
    units: int
    weight: Quantizer
    bias: Quantizer
    activation: Quantizer | None
    reuse_factor: int = 1
    sparsity: float = 0.0
    #: per-unit formats of the ReLU output (learned precision); ``activation`` is then their envelope
    activation_formats: ElementFormats | None = None

    def __post_init__(self) -> None:
        if self.activation_formats is not None:
            if self.activation is None:
                raise SpecError(f"{self.name}.activation_formats needs an activation (a linear layer "
                                "emits its accumulator unquantized)")
            if len(self.activation_formats) != self.units:
                raise SpecError(f"{self.name}.activation_formats has {len(self.activation_formats)} "
                                f"elements for {self.units} units")
        if not isinstance(self.units, int) or self.units < 1:
            raise SpecError(f"{self.name}.units must be a positive int; got {self.units!r}")
        if not isinstance(self.reuse_factor, int) or self.reuse_factor < 1:
            raise SpecError(f"{self.name}.reuse_factor must be a positive int; got {self.reuse_factor!r}")
        if (isinstance(self.sparsity, bool) or not isinstance(self.sparsity, (int, float))
                or not 0.0 <= self.sparsity < 1.0):
            raise SpecError(f"{self.name}.sparsity must be a number in [0, 1); got {self.sparsity!r}")
        if self.sparsity and self.weight.kind == "binary":
            raise SpecError(f"{self.name}.sparsity must be 0 with binary weights (they cannot be zero); "
                            f"got {self.sparsity!r}")
        if self.activation is not None and self.activation.kind == "fixed" and self.activation.signed:
            raise SpecError(f"{self.name}.activation is a ReLU output and must be unsigned "
                            "(Quantizer.fixed(bits, integer, signed=False))")

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "units": self.units,
            "weight": self.weight.to_dict(),
            "bias": self.bias.to_dict(),
            "activation": None if self.activation is None else self.activation.to_dict(),
            "reuse_factor": self.reuse_factor,
            **({} if self.activation_formats is None
               else {"activation_formats": self.activation_formats.to_dict()}),
        }
        if self.sparsity:
            out["sparsity"] = float(self.sparsity)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DenseLayerSpec":
        act = data.get("activation")
        fmts = data.get("activation_formats")
        return cls(
            name=data["name"],
            units=int(data["units"]),
            weight=Quantizer.from_dict(data["weight"]),
            bias=Quantizer.from_dict(data["bias"]),
            activation=None if act is None else Quantizer.from_dict(act),
            reuse_factor=int(data.get("reuse_factor", 1)),
            sparsity=float(data.get("sparsity", 0.0)),
            activation_formats=None if fmts is None else ElementFormats.from_dict(fmts),
        )


@dataclass(frozen=True)
class ModelSpec:
    """A candidate network: a quantized input, a stack of dense layers, a strategy.

    ``layers[-1]`` is the output layer. For ``task='autoencoder'`` the output width equals
    the input width (encoder/decoder families set this up).
    """

    n_inputs: int
    input_quantizer: Quantizer
    layers: tuple[DenseLayerSpec, ...]
    strategy: Strategy = "latency"
    task: Task = "classification"
    family: str = "mlp"
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    #: per-feature input formats (learned precision); ``input_quantizer`` is then their envelope
    input_formats: ElementFormats | None = None
    #: how the open flow pipelines the unrolled network (:mod:`qnas.pipeline`); None states
    #: nothing and the default rule applies. Written to JSON only when stated, so specs that
    #: state none keep their fingerprints; a stated choice changes the fingerprint (the RTL).
    pipeline: Pipelining | None = None

    def __post_init__(self) -> None:
        if self.pipeline is not None and not isinstance(self.pipeline, Pipelining):
            raise SpecError(f"pipeline must be a qnas.pipeline.Pipelining or None; got {type(self.pipeline).__name__}")
        if not isinstance(self.n_inputs, int) or self.n_inputs < 1:
            raise SpecError(f"n_inputs must be a positive int; got {self.n_inputs!r}")
        if self.input_formats is not None and len(self.input_formats) != self.n_inputs:
            raise SpecError(f"input_formats has {len(self.input_formats)} elements for {self.n_inputs} inputs")
        if not self.layers:
            raise SpecError("layers must hold at least the output layer")
        if not isinstance(self.layers, tuple):
            object.__setattr__(self, "layers", tuple(self.layers))
        if self.strategy not in STRATEGIES:
            raise SpecError(f"strategy must be one of {STRATEGIES}; got {self.strategy!r}")
        if self.task not in TASKS:
            raise SpecError(f"task must be one of {TASKS}; got {self.task!r}")
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise SpecError(f"layer names must be unique; got {names}")
        if self.input_quantizer.kind != "fixed":
            raise SpecError("input_quantizer must be fixed point (inputs are never ternary/binary)")
        if self.task == "autoencoder" and self.n_outputs != self.n_inputs:
            raise SpecError(f"an autoencoder's output width ({self.n_outputs}) must equal "
                            f"n_inputs ({self.n_inputs})")
        fixed = fixed_reuse_factor(self.strategy)
        if fixed is not None:
            for layer in self.layers:
                if layer.reuse_factor != fixed:
                    raise SpecError(f"{layer.name}.reuse_factor must be {fixed} with strategy "
                                    f"{self.strategy!r} (fully unrolled); got {layer.reuse_factor}")

    # -- shape helpers ------------------------------------------------------------------
    @property
    def n_outputs(self) -> int:
        return self.layers[-1].units

    @property
    def widths(self) -> tuple[int, ...]:
        """All layer widths including the input: (16, 64, 32, 32, 5)."""
        return (self.n_inputs,) + tuple(layer.units for layer in self.layers)

    def layer_inputs(self) -> list[tuple[DenseLayerSpec, int, Quantizer]]:
        """Each layer with its fan-in and the quantizer of the values it receives."""
        out = []
        n_in, q_in = self.n_inputs, self.input_quantizer
        for layer in self.layers:
            out.append((layer, n_in, q_in))
            n_in = layer.units
            q_in = layer.activation if layer.activation is not None else q_in
        return out

    @property
    def heterogeneous(self) -> bool:
        """True when per-element formats (learned precision) rule inputs or activations."""
        return self.input_formats is not None or any(l.activation_formats is not None for l in self.layers)

    @property
    def n_params(self) -> int:
        return sum(n_in * layer.units + layer.units for layer, n_in, _ in self.layer_inputs())

    @property
    def architecture(self) -> str:
        """Short human label: ``16-64-32-5 w6/a6 latency``."""
        wbits = "/".join(l.weight.label if l.weight.kind != "fixed" else str(l.weight.bits)
                         for l in self.layers)
        return f"{'-'.join(map(str, self.widths))} w[{wbits}] {self.strategy}"

    def with_strategy(self, strategy: Strategy, reuse_factor: int | None = None) -> "ModelSpec":
        """The same network realised another way (optionally with one reuse factor everywhere).

        A strategy with a :func:`fixed_reuse_factor` gets it when ``reuse_factor`` is not
        given. The open RTL flow builds every spec fully unrolled as distributed arithmetic;
        its results are compared with the estimate of *this* realisation, never with that of
        the hls4ml strategy the search chose.
        """
        if reuse_factor is None:
            reuse_factor = fixed_reuse_factor(strategy)
        layers = self.layers if reuse_factor is None else tuple(
            replace(layer, reuse_factor=reuse_factor) for layer in self.layers)
        return replace(self, strategy=strategy, layers=layers)

    # -- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": SPEC_FORMAT_VERSION,
            "n_inputs": self.n_inputs,
            "input_quantizer": self.input_quantizer.to_dict(),
            "layers": [layer.to_dict() for layer in self.layers],
            "strategy": self.strategy,
            "task": self.task,
            "family": self.family,
            "metadata": dict(self.metadata),
            **({} if self.input_formats is None else {"input_formats": self.input_formats.to_dict()}),
            **({} if self.pipeline is None else {"pipeline": self.pipeline.to_dict()}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ModelSpec":
        version = data.get("format_version", SPEC_FORMAT_VERSION)
        if version != SPEC_FORMAT_VERSION:
            raise SpecError(f"spec format_version {version} is not supported "
                            f"(this qnas reads version {SPEC_FORMAT_VERSION})")
        return cls(
            n_inputs=int(data["n_inputs"]),
            input_quantizer=Quantizer.from_dict(data["input_quantizer"]),
            layers=tuple(DenseLayerSpec.from_dict(d) for d in data["layers"]),
            strategy=data.get("strategy", "latency"),
            task=data.get("task", "classification"),
            family=data.get("family", "mlp"),
            metadata=dict(data.get("metadata", {})),
            input_formats=(None if data.get("input_formats") is None
                           else ElementFormats.from_dict(data["input_formats"])),
            pipeline=None if data.get("pipeline") is None else parse_pipelining(data["pipeline"], "spec.pipeline"),
        )

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelSpec":
        return cls.from_dict(json.loads(text))

    def fingerprint(self) -> str:
        """Stable hash of everything that changes the hardware (metadata excluded)."""
        data = self.to_dict()
        data.pop("metadata", None)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def valid_reuse_factors(n_in: int, n_out: int) -> tuple[int, ...]:
    """Reuse factors hls4ml accepts for a dense layer of this shape, ascending.

    R must divide the n_in*n_out multiplications evenly; below n_in each output must get a
    whole number of the ceil(n_in*n_out/R) multipliers, from n_in up R must be a multiple
    of n_in. hls4ml silently snaps any other value to a neighbour; qnas instead only ever
    offers values from this list.
    """
    total = n_in * n_out
    out = []
    for r in range(1, total + 1):
        if total % r:
            continue
        if r < n_in:
            if -(-total // r) % n_out:
                continue
        elif r % n_in:
            continue
        out.append(r)
    return tuple(out)
