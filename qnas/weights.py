"""Trained, quantized weights as plain NumPy: what estimators and RTL generators read.

Held apart from any Keras object so that ``estimators`` (which never imports TensorFlow)
and ``hls_backend`` see exactly the values the trained network uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from .spec import ModelSpec, Quantizer


@dataclass(frozen=True)
class LayerWeights:
    """Kernel ``(n_in, n_out)`` and bias ``(n_out,)``, already quantized, as floats."""

    kernel: np.ndarray
    bias: np.ndarray


class ModelWeights(Sequence[LayerWeights]):
    """One :class:`LayerWeights` per layer of a :class:`ModelSpec`, checked against it."""

    def __init__(self, layers: Sequence[LayerWeights]):
        self._layers = tuple(layers)

    def __getitem__(self, index):  # type: ignore[override]
        return self._layers[index]

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[LayerWeights]:
        return iter(self._layers)

    def check(self, spec: ModelSpec) -> None:
        """Raise ValueError naming the layer whose shape or values do not fit the spec."""
        if len(self) != len(spec.layers):
            raise ValueError(f"weights have {len(self)} layers, spec has {len(spec.layers)}")
        for lw, (layer, n_in, _) in zip(self, spec.layer_inputs()):
            if lw.kernel.shape != (n_in, layer.units):
                raise ValueError(f"{layer.name}: kernel shape {lw.kernel.shape} != ({n_in}, {layer.units})")
            if lw.bias.shape != (layer.units,):
                raise ValueError(f"{layer.name}: bias shape {lw.bias.shape} != ({layer.units},)")
            for what, arr, q in (("kernel", lw.kernel, layer.weight), ("bias", lw.bias, layer.bias)):
                if not np.all(np.isfinite(arr)):
                    raise ValueError(f"{layer.name}.{what} holds NaN or inf")
                bad = ~is_representable(arr, q)
                if bad.any():
                    raise ValueError(f"{layer.name}.{what}: {int(bad.sum())} values are not "
                                     f"representable in {q.label} (e.g. {arr[bad].flat[0]!r})")

    def save(self, path: str | Path) -> None:
        arrays = {}
        for i, lw in enumerate(self):
            arrays[f"kernel_{i}"] = lw.kernel
            arrays[f"bias_{i}"] = lw.bias
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "ModelWeights":
        """Read a ``save``d file; anything else is a DataError naming the file, never a traceback."""
        import zipfile

        from .errors import DataError

        fix = "give the weights.npz that `qnas run` saved for the trial (kernel_<i>, bias_<i> per layer)"
        try:
            with np.load(path, allow_pickle=False) as data:
                if not hasattr(data, "files"):
                    raise ValueError("it holds one bare array, not kernel_<i>/bias_<i> arrays")
                n = len([k for k in data.files if k.startswith("kernel_")])
                missing = [k for i in range(n) for k in (f"kernel_{i}", f"bias_{i}") if k not in data.files]
                if not n or missing:
                    raise ValueError(f"missing arrays {missing[:4] or ['kernel_0', 'bias_0']}")
                layers = [LayerWeights(data[f"kernel_{i}"], data[f"bias_{i}"]) for i in range(n)]
        except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise DataError(f"{path}: not a qnas weights file ({type(exc).__name__}: {str(exc)[:200]}); "
                            f"{fix}") from None
        for i, lw in enumerate(layers):
            for what, arr, ndim in (("kernel", lw.kernel, 2), ("bias", lw.bias, 1)):
                if arr.dtype.kind not in "biuf" or arr.ndim != ndim:
                    raise DataError(f"{path}: {what}_{i} must be a {ndim}-D numeric array; got "
                                    f"{arr.ndim}-D {arr.dtype}; {fix}")
        return cls(layers)


def is_representable(values: np.ndarray, q: Quantizer) -> np.ndarray:
    """Element-wise: is each value exactly a point of the quantizer's grid and range?"""
    values = np.asarray(values, dtype=np.float64)
    if q.kind == "ternary":
        return np.isin(values, (-1.0, 0.0, 1.0))
    if q.kind == "binary":
        return np.isin(values, (-1.0, 1.0))
    scaled = values / q.step
    on_grid = scaled == np.round(scaled)
    return on_grid & (values >= q.min_value) & (values <= q.max_value)


def to_integers(values: np.ndarray, q: Quantizer) -> np.ndarray:
    """Integer mantissas (value / step) of quantized values, as int64."""
    scaled = np.asarray(values, dtype=np.float64) / q.step
    ints = np.round(scaled)
    if not np.array_equal(ints, scaled):
        raise ValueError(f"values are not on the {q.label} grid")
    return ints.astype(np.int64)


#: what ``--weights`` accepts, for messages
WEIGHT_FORMATS = ("weights.npz written by qnas (a trial's or an imported model's)",
                  "a Keras HDF5 file (model.save_weights('w.h5') or model.save('m.h5')) whose Dense layers "
                  "are named like the spec's layers")


def load_weights_file(path: str | Path, spec: ModelSpec) -> ModelWeights:
    """Quantized weights for ``spec`` from a qnas ``.npz`` or a Keras ``.h5``; checked against it.

    A Keras file holds the float variables; each is passed through the spec layer's quantizer
    (``qnas.fixed_point``, the NumPy copy of QKeras' arithmetic), which is what the QKeras
    layer computes with at inference. Raises ValueError naming the file, what is wrong and
    the formats that work.
    """
    path = Path(path)
    formats = "; ".join(WEIGHT_FORMATS)
    if not path.is_file():
        raise ValueError(f"no weights file at {path}; expected {formats}")
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"PK"):
        try:
            weights = ModelWeights.load(path)
        except Exception as exc:  # zipfile/pickle/KeyError: whatever a broken archive raises
            raise ValueError(f"{exc}; expected {formats}" if "not a qnas weights file" in str(exc) else
                             f"{path}: not a qnas weights file ({type(exc).__name__}: {str(exc)[:200]}); "
                             f"expected {formats}") from None
    elif magic == b"\x89HDF\r\n\x1a\n":
        weights = _from_keras_h5(path, spec)
    else:
        raise ValueError(f"{path}: not a qnas weights file (neither an .npz archive nor an HDF5 file); "
                         f"expected {formats}")
    weights.check(spec)
    return weights


def _from_keras_h5(path: Path, spec: ModelSpec) -> ModelWeights:
    from ._imports import require
    from .fixed_point import quantize_array

    h5py = require("h5py", "data")
    with h5py.File(path, "r") as f:
        root = f["model_weights"] if "model_weights" in f else f
        found = {name: root[name] for name in root.keys()}
        layers = []
        for layer in spec.layers:
            group = found.get(layer.name)
            if group is None:
                raise ValueError(f"{path} has no layer {layer.name!r} (it holds {', '.join(sorted(found)) or 'none'}); "
                                 "name the spec's layers like the Keras model's, or import the model with "
                                 "`qnas import`")
            arrays: dict[str, np.ndarray] = {}

            def collect(name, obj, arrays=arrays):
                if isinstance(obj, h5py.Dataset):
                    arrays[name.rsplit("/", 1)[-1].split(":")[0]] = np.asarray(obj[()])

            group.visititems(collect)
            if "kernel" not in arrays:
                raise ValueError(f"{path}: layer {layer.name!r} has no kernel")
            kernel = quantize_array(arrays["kernel"], layer.weight)
            bias = quantize_array(arrays.get("bias", np.zeros(layer.units)), layer.bias)
            layers.append(LayerWeights(kernel, bias))
    return ModelWeights(layers)
