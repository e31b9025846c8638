"""Read a user's Keras/QKeras model from the files people actually have.

tf-keras (Keras 2) with QKeras' custom objects: JSON architecture + HDF5 weights (what the
hls4ml tutorials and many papers publish), a single HDF5 model, a SavedModel directory or a
``.keras`` archive written by tf-keras. Keras 3 ``.keras`` files cannot be read by tf-keras;
the error says so and names the formats that work.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qnas import _imports
from qnas.errors import ConfigError

__all__ = ["load_user_model", "MODEL_FORMATS"]

MODEL_FORMATS = ("MODEL.json with --weights WEIGHTS.h5", "MODEL.h5 (whole model)", "a SavedModel directory",
                 "MODEL.keras written by tf-keras")


def _custom_objects() -> dict[str, Any]:
    _imports.tf_keras()
    utils = _imports.require("qkeras.utils", "train")
    objects: dict[str, Any] = {}
    utils._add_supported_quantized_objects(objects)  # the registry load_qmodel itself uses
    return objects


def _formats_hint() -> str:
    return "qnas import reads " + "; ".join(MODEL_FORMATS)


def _is_hdf5(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(8) == b"\x89HDF\r\n\x1a\n"


def load_user_model(model_path: str | Path, weights_path: str | Path | None = None) -> Any:
    """The user's model as a tf-keras Model; ConfigError naming the format problem otherwise."""
    path = Path(model_path)
    if not path.exists():
        raise ConfigError("MODEL", f"no model at {path}; {_formats_hint()}")
    keras = _imports.tf_keras()
    objects = _custom_objects()
    suffix = path.suffix.lower()
    if path.is_dir():
        if weights_path:
            raise ConfigError("--weights", "a SavedModel directory holds its weights; drop --weights")
        return _load(lambda: keras.models.load_model(str(path), custom_objects=objects, compile=False), path)
    if suffix == ".json":
        if not weights_path:
            raise ConfigError("--weights", f"{path.name} holds the architecture only; give its weights with "
                                           "--weights WEIGHTS.h5")
        try:
            text = path.read_text()
            json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ConfigError("MODEL", f"{path} is not a Keras model JSON ({exc}); {_formats_hint()}") from None
        text = _normalise_qactivations(text)
        model = _load(lambda: keras.models.model_from_json(text, custom_objects=objects), path)
        wpath = Path(weights_path)
        if not wpath.is_file() or not _is_hdf5(wpath):
            raise ConfigError("--weights", f"{wpath} is not an HDF5 weights file (model.save_weights('x.h5'))")
        _load(lambda: model.load_weights(str(wpath)), wpath)
        return model
    if suffix in (".h5", ".hdf5"):
        if not _is_hdf5(path):
            raise ConfigError("MODEL", f"{path} is not an HDF5 file; {_formats_hint()}")
        model = _load(lambda: keras.models.load_model(str(path), custom_objects=objects, compile=False), path)
        if weights_path:
            _load(lambda: model.load_weights(str(weights_path)), Path(weights_path))
        return model
    if suffix == ".keras":
        return _load(lambda: keras.models.load_model(str(path), custom_objects=objects, compile=False), path,
                     hint="a .keras file written by Keras 3 cannot be read by tf-keras (Keras 2), which QKeras "
                          "needs; save it as JSON + HDF5 weights or as .h5 from the Keras that trained it")
    raise ConfigError("MODEL", f"cannot tell the format of {path.name!r}; {_formats_hint()}")


def _normalise_qactivations(text: str) -> str:
    """Write QActivation quantizers in the string form QKeras' ``QActivation`` parses.

    tf-keras 2.21 serialises a QActivation's quantizer as a nested ``{"class_name",
    "config"}`` object, which ``QActivation.from_config`` then cannot rebuild (a TypeError
    on load); the string form (``"quantized_relu(bits=6, integer=0)"``) is what older Keras
    wrote and what QActivation has always accepted.
    """
    data = json.loads(text)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("class_name") == "QActivation":
                cfg = node.get("config", {})
                act = cfg.get("activation")
                if isinstance(act, dict) and "class_name" in act:
                    args = ", ".join(f"{k}={v!r}" for k, v in (act.get("config") or {}).items()
                                     if v is not None)  # QKeras' parser reads None as 'on'
                    cfg["activation"] = f"{act['class_name']}({args})"
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(data)
    return json.dumps(data)


def _load(load, path: Path, hint: str = "") -> Any:
    try:
        return load()
    except ConfigError:
        raise
    except Exception as exc:  # Keras raises ValueError/OSError/TypeError/KeyError for unreadable files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError("MODEL", f"cannot load {path}: {type(exc).__name__}: {first[:300]}"
                          + (f"; {hint}" if hint else f"; {_formats_hint()}")) from None
