"""ModelSpec -> QKeras (tf-keras) model, and back out to the quantized weights.

The model is shaped so that hls4ml converts it to firmware that reproduces it bit for bit
(see ``qnas.fixed_point``): every quantizer has ``alpha=1`` (QKeras' power-of-two auto
scale has no hls4ml equivalent), a ``QActivation`` right after the input pins the input
precision, and the output layer is linear (logits). Layer names are the spec's, so the
hls4ml per-layer config and synthesis reports map back to spec layers by name
(the names are :mod:`qnas.layer_names`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np

from qnas import _imports
from qnas.errors import CandidateFailed, UnsupportedSpec
from qnas.fixed_point import FLOAT32_MANTISSA_BITS
from qnas.layer_names import INPUT_LAYER_NAME, MODEL_INPUT_NAME, activation_layer_name
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
from qnas.weights import LayerWeights, ModelWeights

Role = Literal["input", "weight", "bias", "activation"]
ROLES: tuple[str, ...] = ("input", "weight", "bias", "activation")

#: float32 (what QKeras trains and infers in) holds at most this many significant bits.
MAX_FIXED_BITS = FLOAT32_MANTISSA_BITS


def _check_quantizer(q: Quantizer, role: str, where: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}; got {role!r}")
    if q.kind != "fixed":
        if role == "input":
            raise UnsupportedSpec(f"{where}: the input quantizer must be fixed point; got {q.kind}")
        return
    if q.integer < 0:
        raise UnsupportedSpec(f"{where}: QKeras cannot build {q.label} (integer={q.integer} < 0; it "
                              "computes 2**integer on int32); use integer >= 0 and fewer bits")
    if q.bits > MAX_FIXED_BITS:
        raise UnsupportedSpec(f"{where}: {q.label} has {q.bits} bits but QKeras computes in float32, "
                              f"which holds at most {MAX_FIXED_BITS}; use bits <= {MAX_FIXED_BITS}")
    if role in ("weight", "bias") and not q.signed:
        raise UnsupportedSpec(f"{where}: weights and biases must be signed fixed point "
                              f"(Quantizer.fixed(bits, integer)); got {q.label}")


def qkeras_quantizer(q: Quantizer, role: Role, where: str = "quantizer") -> Any:
    """The QKeras quantizer object that implements ``q`` in ``role``.

    Signed fixed -> ``quantized_bits(bits, integer, keep_negative=1, alpha=1)``; unsigned
    fixed -> ``quantized_relu(bits, integer)`` (for activations that is the ReLU itself);
    ternary/binary -> ``ternary(alpha=1)`` / ``binary(alpha=1)``. ``where`` names the spec
    field in the UnsupportedSpec raised for formats QKeras cannot realise exactly.
    """
    _check_quantizer(q, role, where)
    qk = _imports.qkeras()
    if q.kind == "ternary":
        return qk.ternary(alpha=1)
    if q.kind == "binary":
        return qk.binary(alpha=1)
    if q.signed:
        return qk.quantized_bits(q.bits, q.integer, keep_negative=1, alpha=1)
    return qk.quantized_relu(q.bits, q.integer)


def check_buildable(spec: ModelSpec) -> None:
    """Raise UnsupportedSpec naming the field if ``spec`` cannot become a QKeras model."""
    _check_quantizer(spec.input_quantizer, "input", "input_quantizer")
    names = {INPUT_LAYER_NAME}
    for layer in spec.layers:
        _check_quantizer(layer.weight, "weight", f"{layer.name}.weight")
        _check_quantizer(layer.bias, "bias", f"{layer.name}.bias")
        if layer.activation is not None:
            _check_quantizer(layer.activation, "activation", f"{layer.name}.activation")
        for name in (layer.name, activation_layer_name(layer.name)):
            if name in names:
                raise UnsupportedSpec(f"layer name {name!r} clashes with another model layer; "
                                      "rename the spec layer")
            names.add(name)


def build_qkeras_model(spec: ModelSpec, seed: int = 0,
                       wrap_dense: Callable[[DenseLayerSpec, Any], Any] | None = None) -> Any:
    """Build the (uncompiled) QKeras model of ``spec``; weights drawn from ``seed``.

    ``wrap_dense(layer_spec, qdense)`` may return a wrapped layer to use instead (pruning
    wrappers during training, see :mod:`nas.pruning`); the saved model never has wrappers.
    """
    check_buildable(spec)
    keras = _imports.tf_keras()
    qk = _imports.qkeras()
    inputs = keras.Input(shape=(spec.n_inputs,), name=MODEL_INPUT_NAME)
    x = qk.QActivation(qkeras_quantizer(spec.input_quantizer, "input", "input_quantizer"),
                       name=INPUT_LAYER_NAME)(inputs)
    for i, layer in enumerate(spec.layers):
        dense = qk.QDense(
            layer.units,
            kernel_quantizer=qkeras_quantizer(layer.weight, "weight", f"{layer.name}.weight"),
            bias_quantizer=qkeras_quantizer(layer.bias, "bias", f"{layer.name}.bias"),
            kernel_initializer=keras.initializers.HeNormal(seed=seed * 1009 + i),
            bias_initializer="zeros",
            name=layer.name,
        )
        x = (wrap_dense(layer, dense) if wrap_dense is not None else dense)(x)
        if layer.activation is not None:
            x = qk.QActivation(qkeras_quantizer(layer.activation, "activation", f"{layer.name}.activation"),
                               name=activation_layer_name(layer.name))(x)
    return keras.Model(inputs, x, name=f"qnas_{spec.family}_{spec.fingerprint()}")


def extract_weights(model: Any, spec: ModelSpec) -> ModelWeights:
    """The kernel and bias values the model computes with at inference, checked against ``spec``.

    Each float variable is passed through the layer's own QKeras quantizer (exactly what
    ``QDense.call`` does), so the result is what hls4ml and the RTL must hard-wire.
    Raises CandidateFailed when they do not fit the spec (e.g. NaN after divergence).
    """
    tf = _imports.tensorflow()
    layers = []
    for layer in spec.layers:
        try:
            dense = model.get_layer(layer.name)
        except ValueError as exc:
            raise CandidateFailed(f"model has no layer {layer.name!r} of the spec "
                                  f"(was it built from another spec?)") from exc
        kernel = dense.kernel_quantizer_internal(tf.convert_to_tensor(dense.kernel))
        bias = dense.bias_quantizer_internal(tf.convert_to_tensor(dense.bias))
        layers.append(LayerWeights(np.asarray(kernel, dtype=np.float64),
                                   np.asarray(bias, dtype=np.float64)))
    weights = ModelWeights(layers)
    try:
        weights.check(spec)
    except ValueError as exc:
        raise CandidateFailed(f"quantized weights do not fit the spec: {exc}") from exc
    return weights


def load_qkeras_model(path: str | Path) -> Any:
    """Load a model saved by ``nas`` (HDF5) with the QKeras layers and quantizers registered."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved QKeras model at {path}")
    _imports.tf_keras()
    utils = _imports.require("qkeras.utils", "train")
    return utils.load_qmodel(str(path), compile=False)
