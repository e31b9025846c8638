"""Trained QKeras (tf-keras) model -> hls4ml project whose C simulation equals QKeras bit for bit.

hls4ml 1.3 sends any model down its Keras-3 path when Keras 3 is installed beside tf-keras,
which breaks a tf-keras model. The working route is to build the configuration while
``sys.modules['keras']`` is tf-keras and then call the Keras-2 converter directly; the
swap is undone even when hls4ml raises. Precisions come from the spec
(:mod:`hls_backend.hls4ml_precision`), not from hls4ml's defaults, and the reuse factor and
strategy hls4ml actually applied are checked against the spec, because hls4ml silently
snaps values it does not like.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any, Iterator

from qnas.parts import DEFAULT_CLOCK_NS, DEFAULT_PART, get_part
from qnas import _imports
from qnas.errors import CandidateFailed, ConfigError, UnsupportedSpec, error_excerpt
from qnas.spec import ModelSpec

from .hls4ml_precision import linear_layer_name, plan_precisions

BACKENDS: tuple[str, ...] = ("Vitis", "Vivado")
IO_TYPES: tuple[str, ...] = ("io_parallel", "io_stream")
PROJECT_NAME = "myproject"

#: spec strategy -> hls4ml strategy name
_STRATEGY = {"latency": "Latency", "resource": "Resource", "distributed_arithmetic": "distributed_arithmetic"}

def hls_part_name(part: str) -> str:
    """The full Xilinx part name hls4ml and Vivado need, from a catalogue name or alias.

    Parts outside qnas' catalogue pass through unchanged (Vivado accepts many more); a
    catalogued non-Xilinx part is refused, since the Vitis/Vivado backends cannot target it.
    """
    try:
        known = get_part(part)
    except ConfigError:
        return part
    if known.vendor != "xilinx":
        raise ConfigError("part", f"{known.name} is a {known.family} part; hls4ml's Vitis/Vivado backends "
                                  "target Xilinx parts only (use the open flow for it)")
    return known.name


@contextlib.contextmanager
def _keras_is_tf_keras() -> Iterator[Any]:
    """Let hls4ml's ``import keras`` see tf-keras for the duration of the block."""
    tf_keras = _imports.tf_keras()
    missing = object()
    saved = sys.modules.get("keras", missing)
    sys.modules["keras"] = tf_keras
    try:
        yield tf_keras
    finally:
        if saved is missing:
            sys.modules.pop("keras", None)
        else:
            sys.modules["keras"] = saved


def _check_model_matches_spec(model: Any, spec: ModelSpec) -> None:
    """Fail early, naming the layer, when the Keras model is not the one the spec describes."""
    names = {layer.name for layer in model.layers}
    for layer in spec.layers:
        if layer.name not in names:
            raise CandidateFailed(f"model has no layer named {layer.name!r} (spec layers[].name); "
                                  f"model layers: {sorted(names)}")
        if layer.activation is not None and layer.activation.kind != "fixed":
            raise UnsupportedSpec(f"{layer.name}.activation: hls4ml conversion supports fixed-point "
                                  f"quantized_relu activations only; got {layer.activation.label}")


def build_hls_config(model: Any, spec: ModelSpec, backend: str) -> dict[str, Any]:
    """hls4ml's per-layer configuration with the spec's precisions, reuse factors and strategy."""
    hls4ml = _imports.require("hls4ml", "hls")
    with _keras_is_tf_keras():
        config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend=backend)
    strategy = _STRATEGY[spec.strategy]
    config["Model"]["Strategy"] = strategy
    layer_config = config["LayerName"]
    input_layer = model.layers[0].name  # the InputLayer: Keras names it, the builder may not
    optional = {linear_layer_name(layer.name) for layer in spec.layers}  # hls4ml adds these itself
    for name, precisions in plan_precisions(spec, input_layer=input_layer).items():
        if name not in layer_config:
            if name in optional:
                continue
            raise CandidateFailed(f"the model has no layer {name!r}, so its precision cannot be set and "
                                  "the firmware would not be bit-exact; build the model with "
                                  "nas.qkeras_model.build_qkeras_model")
        layer_config[name].setdefault("Precision", {}).update(precisions)
    for layer in spec.layers:
        layer_config[layer.name]["ReuseFactor"] = layer.reuse_factor
        layer_config[layer.name]["Strategy"] = strategy
    return config


def _check_applied(hls_model: Any, spec: ModelSpec) -> None:
    """hls4ml may change a reuse factor or strategy without failing; qnas refuses that."""
    graph_layers = {layer.name: layer for layer in hls_model.get_layers()}
    for layer in spec.layers:
        node = graph_layers.get(layer.name)
        if node is None:
            raise CandidateFailed(f"hls4ml graph lost layer {layer.name!r}; graph: {sorted(graph_layers)}")
        rf = node.get_attr("reuse_factor")
        if rf != layer.reuse_factor:
            raise UnsupportedSpec(f"{layer.name}.reuse_factor={layer.reuse_factor} was changed by hls4ml "
                                  f"to {rf}; choose one of qnas.spec.valid_reuse_factors")
        applied = str(node.get_attr("strategy", "")).lower()
        if applied != spec.strategy:
            raise UnsupportedSpec(f"strategy={spec.strategy!r}: hls4ml used {applied!r} for layer "
                                  f"{layer.name!r}")


def _refuse_known_miscompilation(spec: ModelSpec) -> None:
    """hls4ml 1.3's distributed_arithmetic strategy treats binary weights' 1-bit encoding
    (0 stands for -1) as the value 0: on a jet tagger with one binary layer its C simulation
    matched QKeras on 0.5 % of outputs, while the same model with strategy 'latency' matched
    on 100 %. Refuse instead of emitting firmware that computes something else."""
    if spec.strategy != "distributed_arithmetic":
        return
    for i, layer in enumerate(spec.layers):
        if layer.weight.kind == "binary":
            raise UnsupportedSpec(
                f"layers[{i}].weight is binary, which hls4ml 1.3's distributed_arithmetic strategy "
                "mis-encodes (its C simulation does not match QKeras); use strategy 'latency' or "
                "'resource' for the hls4ml project, or the open flow (da4ml RTL), which is bit-exact")


def convert_to_hls(model: Any, spec: ModelSpec, output_dir: str | Path, *, backend: str = "Vitis",
                   part: str = DEFAULT_PART, clock_ns: float = DEFAULT_CLOCK_NS,
                   io_type: str = "io_parallel") -> Any:
    """Convert a trained QKeras model built from ``spec`` into an hls4ml project in ``output_dir``.

    Returns hls4ml's ``ModelGraph`` (``compile()``, ``predict()``, ``build()``), with the
    project written. Raises UnsupportedSpec for what hls4ml cannot realise (a layer type, a
    strategy/reuse combination) and CandidateFailed for other conversion errors, both with
    hls4ml's own message excerpted.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}")
    if io_type not in IO_TYPES:
        raise ValueError(f"io_type must be one of {IO_TYPES}; got {io_type!r}")
    if spec.strategy == "distributed_arithmetic" and io_type != "io_parallel":
        raise UnsupportedSpec("strategy='distributed_arithmetic' is converted with io_type='io_parallel' only")
    part_name = hls_part_name(part)
    _check_model_matches_spec(model, spec)
    _refuse_known_miscompilation(spec)
    hls4ml = _imports.require("hls4ml", "hls")
    try:
        hls_config = build_hls_config(model, spec, backend)
        config = hls4ml.utils.config.create_config(
            output_dir=str(output_dir), project_name=PROJECT_NAME, backend=backend,
            part=part_name, clock_period=clock_ns, io_type=io_type)
        config["KerasModel"] = model
        config["HLSConfig"] = {"Model": hls_config["Model"], "LayerName": hls_config["LayerName"]}
        with _keras_is_tf_keras():
            hls_model = hls4ml.converters.keras_v2_to_hls(config)
    except (UnsupportedSpec, CandidateFailed):
        raise
    except Exception as exc:  # hls4ml raises bare Exception for unsupported layers
        message = str(exc).lower()
        if "unsupported" in message or "not supported" in message:
            raise UnsupportedSpec(f"hls4ml cannot convert this model: {error_excerpt(exc)}") from exc
        raise CandidateFailed(f"hls4ml conversion failed: {error_excerpt(exc)}") from exc
    _check_applied(hls_model, spec)
    try:
        hls_model.write()
    except Exception as exc:  # noqa: BLE001 - hls4ml's writer errors are bare Exceptions too
        raise CandidateFailed(f"writing the hls4ml project to {output_dir} failed: {error_excerpt(exc)}") from exc
    return hls_model
