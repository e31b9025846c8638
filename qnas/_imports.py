"""Lazy access to heavy optional dependencies, with an install hint that is always shown.

TensorFlow, hls4ml, da4ml and plotly cost seconds to import; ``qnas --help`` and the
estimators must not pay that. Modules call these helpers inside functions.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import tempfile
import warnings
from types import ModuleType
from typing import Any, Callable, Mapping

from .errors import ToolNotFound

EXTRAS = {
    "tensorflow": "train", "tf_keras": "train", "qkeras": "train",
    "hls4ml": "hls", "da4ml": "hls", "h5py": "data",
    "plotly": "dashboard", "dash": "dashboard", "kaleido": "dashboard", "playwright": "test", "pythia8": "physics", "fastjet": "physics",
    "rule4ml": "bench",
}


def require(module: str, extra: str | None = None) -> ModuleType:
    """Import ``module`` or raise ToolNotFound telling which qnas extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = extra or EXTRAS.get(top, "all")
        raise ToolNotFound(
            f"{module} is required for this step but could not be imported ({exc}). "
            f"Install it with: pip install 'qnas[{extra}]'"
        ) from exc


@contextlib.contextmanager
def _quiet_native_stderr():
    """Hold back what TF's C++ runtime prints at import (absl/oneDNN/CUDA banners, which
    ignore TF_CPP_MIN_LOG_LEVEL); replay it if the import fails or QNAS_TF_VERBOSE=1."""
    if os.environ.get("QNAS_TF_VERBOSE") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (embedded interpreters): nothing to silence
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                captured.seek(0)
                sys.stderr.write(captured.read().decode(errors="replace"))


def tensorflow() -> ModuleType:
    """Import TensorFlow with the legacy tf-keras (Keras 2) that QKeras and hls4ml need."""
    if "tensorflow" not in sys.modules:
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        with _quiet_native_stderr():
            tf = require("tensorflow", "train")
        # QKeras quantizers are stored as kernel constraints; tf-keras warns on each save.
        warnings.filterwarnings("ignore", message=r"The `keras\.constraints\.serialize\(\)` API")
    else:
        tf = require("tensorflow", "train")
    # The variable is read once, at TF's import; some packages set it only afterwards, so
    # check which Keras tf.keras really is rather than trusting the environment.
    # Ask where tf.keras' classes come from: importing qkeras renames the tf.keras module
    # object to "tensorflow.keras" while it still is tf-keras, so its __name__ proves nothing.
    layers = getattr(getattr(tf, "keras", None), "layers", None)
    keras_name = getattr(getattr(layers, "Dense", None), "__module__", "")
    if not keras_name.startswith("tf_keras"):
        raise ToolNotFound(
            f"TensorFlow was imported with Keras 3 as tf.keras ({keras_name or 'unknown'}), but QKeras "
            "and hls4ml need the legacy tf-keras: set TF_USE_LEGACY_KERAS=1 in the environment, or "
            "import qnas before tensorflow/qkeras")
    return tf


def tf_keras() -> ModuleType:
    tensorflow()
    return require("tf_keras", "train")


def qkeras() -> ModuleType:
    tensorflow()
    require("pyparsing", "train")
    return require("qkeras", "train")


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """PEP 562 ``__getattr__`` and ``__dir__`` for a package whose public names load on first use.

    ``exports`` maps each public name to the module defining it. Importing the package then
    loads none of those modules, so a light caller never pays for a heavy sibling.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
