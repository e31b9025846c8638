"""A Keras/QKeras layer chain -> a qnas ModelSpec, by reading the layers' configurations.

Only what qnas can realise bit for bit is accepted: a chain (no branches) of Dense/QDense
layers with ReLU-type activations, an optional input quantizer first, and a linear output
(a final softmax is dropped: the firmware emits logits, whose argmax it does not change).
Everything else is refused with the layer's name, its class and what qnas supports, because
a layer that is silently skipped or approximated would make every later bit-exact check
meaningless.

Number formats map one to one (see :mod:`qnas.spec`): ``quantized_bits(b, i, alpha=1)`` is
``fixed(b, i)``; ``quantized_relu(b, i)`` is ``fixed(b, i, signed=False)``; ``ternary(alpha=1)``
and ``binary(alpha=1)`` are ternary and binary. The user's float variables are kept as they
are and quantized by the rebuilt model's own quantizers, exactly as in the user's model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from qnas.errors import UnsupportedSpec
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer, SpecError

__all__ = ["ImportPlan", "LayerSource", "plan_import", "quantizer_from_config", "SUPPORTED"]

SUPPORTED = ("InputLayer", "Dense", "QDense", "QActivation", "Activation (relu, linear, softmax last)",
             "ReLU", "Dropout", "Flatten (of a 1-D input)")
#: layers that do nothing at inference
_NO_OPS = ("Dropout", "AlphaDropout", "GaussianDropout", "GaussianNoise", "SpatialDropout1D")
_FOLD_HINT = {
    "BatchNormalization": "fold it into the preceding Dense (kernel*gamma/sqrt(var+eps), shifted bias) "
                          "before importing; qnas does not fold batch normalisation yet",
    "QBatchNormalization": "fold it into the preceding QDense before importing; qnas does not fold yet",
}


@dataclass(frozen=True)
class LayerSource:
    """Where a spec layer's weights come from in the user's model."""

    spec_name: str
    keras_name: str
    use_bias: bool


@dataclass(frozen=True)
class ImportPlan:
    """The spec, which user layer feeds each spec layer, and what was dropped or assumed."""

    spec: ModelSpec
    sources: tuple[LayerSource, ...]
    output_layer: str  # name of the user's layer whose output equals the spec's output
    notes: tuple[str, ...] = field(default=())


def _format_name(config: Mapping[str, Any]) -> str:
    return str(config.get("class_name", "?"))


def quantizer_from_config(q: Any, where: str) -> Quantizer:
    """A QKeras quantizer (object, ``{'class_name', 'config'}`` dict or string) -> Quantizer."""
    name, cfg = _quantizer_parts(q, where)
    alpha = cfg.get("alpha", None)
    if name in ("quantized_bits", "ternary", "binary") and alpha not in (None, 1, 1.0):
        raise UnsupportedSpec(
            f"{where}: {name}(alpha={alpha!r}) scales its values by a learned or power-of-two factor that "
            "hls4ml and the qnas RTL cannot reproduce bit for bit; retrain with alpha=1 (the qnas and hls4ml "
            "bit-exact recipe), or import the float model with --quantize")
    if cfg.get("use_stochastic_rounding"):
        raise UnsupportedSpec(f"{where}: {name} uses stochastic rounding, which has no deterministic hardware "
                              "equivalent; set use_stochastic_rounding=False")
    if name == "quantized_bits":
        if cfg.get("symmetric", 0):
            raise UnsupportedSpec(f"{where}: quantized_bits(symmetric=1) drops the most negative code; qnas "
                                  "formats use the full two's-complement range: use symmetric=0")
        bits, integer = int(cfg.get("bits", 8)), int(cfg.get("integer", 0))
        if not cfg.get("keep_negative", True):
            return _fixed(bits, integer, False, where)
        return _fixed(bits, integer, True, where)
    if name == "quantized_relu":
        if cfg.get("use_sigmoid", 0) or float(cfg.get("negative_slope", 0.0) or 0.0) != 0.0 \
                or cfg.get("relu_upper_bound") is not None:
            raise UnsupportedSpec(f"{where}: quantized_relu with use_sigmoid, negative_slope or relu_upper_bound "
                                  "is not a plain ReLU; qnas realises quantized_relu(bits, integer) only")
        return _fixed(int(cfg.get("bits", 8)), int(cfg.get("integer", 0)), False, where)
    if name == "ternary":
        if cfg.get("threshold") not in (None,):
            raise UnsupportedSpec(f"{where}: ternary(threshold={cfg['threshold']!r}); qnas realises the default "
                                  "threshold of ternary(alpha=1) only")
        return Quantizer.ternary()
    if name == "binary":
        if cfg.get("use_01"):
            raise UnsupportedSpec(f"{where}: binary(use_01=True) emits {{0, 1}}; qnas realises {{-1, +1}} binary")
        return Quantizer.binary()
    raise UnsupportedSpec(f"{where}: quantizer {name!r} is not supported; qnas maps quantized_bits, "
                          "quantized_relu, ternary and binary (alpha=1)")


def _fixed(bits: int, integer: int, signed: bool, where: str) -> Quantizer:
    try:
        return Quantizer.fixed(bits, integer, signed=signed)
    except SpecError as exc:
        raise UnsupportedSpec(f"{where}: {exc}") from exc


def _quantizer_parts(q: Any, where: str) -> tuple[str, dict[str, Any]]:
    if q is None:
        raise UnsupportedSpec(f"{where}: no quantizer")
    if isinstance(q, Mapping):
        return str(q.get("class_name")), dict(q.get("config") or {})
    if isinstance(q, str):
        # QKeras accepts quantizers written as code, e.g. "quantized_relu(6,0)"; parse it safely
        return _parse_quantizer_text(q, where)
    if hasattr(q, "get_config"):
        return type(q).__name__, dict(q.get_config())
    raise UnsupportedSpec(f"{where}: cannot read quantizer {q!r}")


_ARG_NAMES = {"quantized_bits": ("bits", "integer", "symmetric", "keep_negative", "alpha"),
              "quantized_relu": ("bits", "integer", "use_sigmoid", "negative_slope"),
              "ternary": ("alpha", "threshold"), "binary": ("use_01", "alpha")}


def _parse_quantizer_text(text: str, where: str) -> tuple[str, dict[str, Any]]:
    import ast

    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise UnsupportedSpec(f"{where}: cannot parse quantizer {text!r}") from exc
    if isinstance(node, ast.Name):
        return node.id, {}
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise UnsupportedSpec(f"{where}: cannot parse quantizer {text!r}")
    name = node.func.id
    try:
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    except ValueError as exc:
        raise UnsupportedSpec(f"{where}: quantizer {text!r} has non-literal arguments") from exc
    names = _ARG_NAMES.get(name, ())
    if len(args) > len(names):
        raise UnsupportedSpec(f"{where}: cannot read the positional arguments of {text!r}")
    return name, {**dict(zip(names, args)), **kwargs}


def _activation_name(value: Any) -> str:
    if value is None:
        return "linear"
    if isinstance(value, Mapping):
        return str(value.get("class_name", value))
    if callable(value) and hasattr(value, "__name__") and not hasattr(value, "get_config"):
        return value.__name__
    if isinstance(value, str):  # "quantized_relu(6,0)" names its quantizer before the arguments
        return value.split("(", 1)[0].strip()
    return type(value).__name__


def plan_import(layers: list[Any], *, input_quantizer: Quantizer | None,
                quantize: Quantizer | None = None, family: str = "imported") -> ImportPlan:
    """Map the model's layer chain to a ModelSpec.

    ``input_quantizer`` is the input format when the model has no input quantizer of its own
    (``--input-precision``); ``quantize`` turns on post-training quantization of float
    layers to that format (weights and biases; ReLU outputs get the unsigned format of the
    same width and integer bits).
    """
    model_input_q: Quantizer | None = None
    dense: list[dict[str, Any]] = []  # pending spec layers
    notes: list[str] = []
    n_inputs: int | None = None
    output_layer = None
    for idx, layer in enumerate(layers):
        cls = type(layer).__name__
        name = layer.name
        where = f"layer {name!r} ({cls})"
        if cls == "InputLayer":
            shape = tuple(layer.get_config().get("batch_input_shape") or layer.get_config().get("batch_shape") or ())
            if len(shape) != 2:
                raise UnsupportedSpec(f"{where}: input shape {shape[1:]} is not a flat feature vector; qnas imports "
                                      "dense networks on (features,) inputs")
            n_inputs = int(shape[1])
            continue
        if cls in _NO_OPS:
            notes.append(f"{name} ({cls}) does nothing at inference and was dropped")
            continue
        if cls == "Flatten":
            notes.append(f"{name} (Flatten) of a 1-D input is the identity and was dropped")
            continue
        if cls in _FOLD_HINT:
            raise UnsupportedSpec(f"{where}: {_FOLD_HINT[cls]}")
        if cls in ("QDense", "Dense"):
            cfg = layer.get_config()
            entry: dict[str, Any] = {"layer": layer, "name": name, "units": int(cfg["units"]),
                                     "use_bias": bool(cfg.get("use_bias", True)), "activation": None}
            if cls == "QDense":
                entry["weight"] = quantizer_from_config(getattr(layer, "kernel_quantizer_internal", None)
                                                        or cfg.get("kernel_quantizer"), f"{where}.kernel_quantizer")
                bq = getattr(layer, "bias_quantizer_internal", None) or cfg.get("bias_quantizer")
                if entry["use_bias"] and bq is None:
                    if quantize is None:
                        raise UnsupportedSpec(f"{where} has no bias_quantizer: its float bias cannot be hard-wired "
                                              "exactly; give it a quantized_bits bias_quantizer, or import with "
                                              "--quantize ap_fixed<W,I> to quantize it after training")
                    entry["bias"] = quantize
                    notes.append(f"{name}: float bias quantized to {quantize.hls_type}")
                else:
                    entry["bias"] = quantizer_from_config(bq, f"{where}.bias_quantizer") if bq is not None \
                        else entry["weight"] if entry["weight"].kind == "fixed" else Quantizer.fixed(2, 0)
            else:
                if quantize is None:
                    raise UnsupportedSpec(f"{where} is a float layer; import it with --quantize ap_fixed<W,I> "
                                          "(post-training quantization) or train it with QKeras (QDense)")
                entry["weight"] = entry["bias"] = quantize
            act = _activation_name(cfg.get("activation"))
            if act not in ("linear", "None"):
                entry["activation"] = _activation_from(act, cfg.get("activation"), quantize, where,
                                                       last=idx == len(layers) - 1, notes=notes)
            dense.append(entry)
            output_layer = name
            continue
        if cls in ("QActivation", "Activation", "ReLU"):
            cfg = layer.get_config()
            raw = cfg.get("activation") if cls != "ReLU" else "relu"
            if cls == "ReLU" and (cfg.get("max_value") is not None or float(cfg.get("negative_slope", 0) or 0)
                                  or float(cfg.get("threshold", 0) or 0)):
                raise UnsupportedSpec(f"{where}: ReLU with max_value/negative_slope/threshold is not a plain ReLU")
            if cls == "QActivation":
                raw = getattr(layer, "quantizer", None) or raw
            act_name = _activation_name(raw)
            if not dense:
                if cls != "QActivation":
                    raise UnsupportedSpec(f"{where}: an activation before the first Dense layer is not supported")
                q = quantizer_from_config(raw, f"{where} (input quantizer)")
                if q.kind != "fixed" or not q.signed:
                    raise UnsupportedSpec(f"{where}: the input quantizer must be signed fixed point "
                                          f"(quantized_bits); got {q.label}")
                model_input_q = q
                continue
            if act_name == "linear":
                continue
            last = idx == len(layers) - 1
            if dense[-1]["activation"] is not None:
                if act_name == "softmax" and last:
                    notes.append(f"{name} (softmax) dropped: the firmware emits logits (same argmax)")
                    continue
                raise UnsupportedSpec(f"{where}: a second activation after {dense[-1]['name']!r} is not supported")
            q = _activation_from(act_name, raw, quantize, where, last=last, notes=notes)
            if q is None:
                continue
            dense[-1]["activation"] = q
            output_layer = name
            continue
        raise UnsupportedSpec(f"{where} cannot be imported: qnas builds {', '.join(SUPPORTED)}. "
                              "Convolutions and custom layers are not supported yet")
    if not dense:
        raise UnsupportedSpec("the model has no Dense/QDense layer to import")
    if dense[-1]["activation"] is not None:
        raise UnsupportedSpec(f"the output layer {dense[-1]['name']!r} ends in an activation "
                              f"({dense[-1]['activation'].label}); qnas output layers are linear (logits or "
                              "reconstruction). Import the model up to its last Dense layer")
    if n_inputs is None:
        n_inputs = int(dense[0]["layer"].input_shape[-1])
    if model_input_q is not None and input_quantizer is not None and model_input_q != input_quantizer:
        raise UnsupportedSpec(f"--input-precision {input_quantizer.hls_type} disagrees with the model's own input "
                              f"quantizer {model_input_q.hls_type}; drop --input-precision")
    in_q = model_input_q or input_quantizer or quantize
    if in_q is None:
        raise UnsupportedSpec("the model has no input quantizer, so the input format is unknown: give it with "
                              "--input-precision ap_fixed<W,I> (the format the firmware receives, e.g. "
                              "ap_fixed<16,6>)")
    if model_input_q is None:
        notes.append(f"inputs are quantized to {in_q.hls_type} ("
                     + ("--input-precision" if input_quantizer is not None else "--quantize") + ") before the first layer")
    spec_layers = []
    for i, entry in enumerate(dense):
        act = entry["activation"]
        spec_layers.append(DenseLayerSpec(name=_spec_name(entry["name"], i, len(dense)), units=entry["units"],
                                          weight=entry["weight"], bias=entry["bias"], activation=act))
    try:
        spec = ModelSpec(n_inputs=n_inputs, input_quantizer=in_q, layers=tuple(spec_layers),
                         strategy="distributed_arithmetic", task="classification", family=family)
    except SpecError as exc:
        raise UnsupportedSpec(f"the imported network is not a valid qnas spec: {exc}") from exc
    sources = tuple(LayerSource(s.name, e["name"], e["use_bias"]) for s, e in zip(spec_layers, dense))
    return ImportPlan(spec, sources, output_layer, tuple(notes))


def _activation_from(act_name: str, raw: Any, quantize: Quantizer | None, where: str, *, last: bool,
                     notes: list[str]) -> Quantizer | None:
    if act_name == "softmax":
        if not last:
            raise UnsupportedSpec(f"{where}: softmax is supported only as the very last layer")
        notes.append(f"{where}: softmax dropped: the firmware emits logits (same argmax)")
        return None
    if act_name in ("quantized_relu", "quantized_bits", "ternary", "binary"):
        q = quantizer_from_config(raw, where)
        if q.kind != "fixed" or q.signed:
            raise UnsupportedSpec(f"{where}: activation {q.label} is not a ReLU output; qnas hidden layers end "
                                  "in quantized_relu(bits, integer)")
        return q
    if act_name == "relu":
        if quantize is None:
            raise UnsupportedSpec(f"{where}: a float ReLU has no fixed-point output format; use "
                                  "QActivation(quantized_relu(bits, integer)), or import with --quantize "
                                  "ap_fixed<W,I> to quantize ReLU outputs to ap_ufixed<W,I>")
        return Quantizer.fixed(quantize.bits, quantize.integer + 1, signed=False)
    raise UnsupportedSpec(f"{where}: activation {act_name!r} is not supported; qnas realises ReLU "
                          "(quantized_relu) hidden layers and a linear (or final softmax) output")


def _spec_name(keras_name: str, index: int, n: int) -> str:
    """The user's layer name where it is a safe identifier (reports then speak the user's names)."""
    safe = keras_name.replace("/", "_")
    if safe.isidentifier() and safe not in ("inputs", "input_q") and not safe.endswith("_act"):
        return safe
    return "output" if index == n - 1 else f"dense_{index + 1}"
