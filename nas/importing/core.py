"""``qnas import``: turn a user's trained model into a folder every later command accepts.

The folder has the trial layout of :mod:`qnas.artifacts` (so ``qnas estimate``, ``export``,
``synth`` and ``verify`` treat it like a trial of a study) plus ``import.json``: where the
model came from, how each format was mapped, and the proof that the model qnas rebuilt
(with its own layer names, which hls4ml's per-layer configuration and the RTL rely on) computes
exactly what the user's model computes on test vectors on the input grid. For a float model
imported with ``--quantize`` there is nothing to be equal to; the record gives the accuracy
before and after the post-training quantization on the calibration data instead.

The folder is written beside its final place and renamed into it when complete, so an
interrupted import never leaves something that looks usable.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from qnas import _imports
from qnas._io import atomic_write, write_json_atomic, write_text_atomic
from qnas.artifacts import IMPORT_RECORD, TrialArtifacts
from qnas.errors import ConfigError, FatalError, UnsupportedSpec
from qnas.fixed_point import quantize_array, reference_forward
from qnas.pipeline import pipeline_record
from qnas.spec import ModelSpec, Quantizer

from .loading import load_user_model
from .mapping import ImportPlan, plan_import

__all__ = ["ImportResult", "import_model", "layer_chain"]

Echo = Callable[[str], None]


@dataclass(frozen=True)
class ImportResult:
    out: Path
    spec: ModelSpec
    record: dict[str, Any]


def layer_chain(model: Any) -> list[Any]:
    """The model's layers in order, refusing anything but a single chain (no branches or merges)."""
    layers = list(model.layers)
    previous = None
    for layer in layers:
        nodes = getattr(layer, "inbound_nodes", None) or getattr(layer, "_inbound_nodes", [])
        inbound: list[Any] = []
        for node in nodes[:1]:
            got = node.inbound_layers
            inbound = list(got) if isinstance(got, (list, tuple)) else [got]
        if len(nodes) > 1 or len(inbound) > 1:
            raise UnsupportedSpec(f"layer {layer.name!r} has several inputs or is used twice; qnas imports a "
                                  "single chain of layers")
        if previous is not None and inbound and inbound[0] is not previous:
            raise UnsupportedSpec(f"layer {layer.name!r} does not follow {previous.name!r}; qnas imports a single "
                                  "chain of layers")
        previous = layer
    return layers


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()


def _load_calibration(name_or_path: str, n_inputs: int, seed: int):
    from nas.datasets import load_dataset

    path = Path(name_or_path)
    if path.is_file():
        data = load_dataset("file", {"path": str(path)}, seed)
    else:
        data = load_dataset(name_or_path, {}, seed)
    if data.n_features != n_inputs:
        raise ConfigError("--calibration-data", f"dataset {data.name!r} has {data.n_features} features but the "
                                                f"model takes {n_inputs}")
    return data


def _grid_vectors(q: Quantizer, n_inputs: int, n: int, seed: int) -> np.ndarray:
    """Random inputs on the input grid, spanning the whole range (saturation included)."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(-(2 ** (q.bits - 1)), 2 ** (q.bits - 1), size=(n, n_inputs))
    return quantize_array(codes * q.step, q)


def _set_user_weights(rebuilt: Any, user: Any, plan: ImportPlan) -> None:
    for src in plan.sources:
        layer = user.get_layer(src.keras_name)
        kernel = np.asarray(layer.kernel.numpy())
        bias = np.asarray(layer.bias.numpy()) if src.use_bias else np.zeros(kernel.shape[1], kernel.dtype)
        rebuilt.get_layer(src.spec_name).set_weights([kernel, bias])


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(x.astype(np.float32), batch_size=4096, verbose=0), dtype=np.float64)


def _accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(y)))


def import_model(model_path: str | Path, out: str | Path, *, weights_path: str | Path | None = None,
                 input_precision: str | None = None, quantize: str | None = None,
                 calibration_data: str | None = None, n_vectors: int = 1000, seed: int = 0,
                 part: str | None = None, clock_ns: float | None = None, force: bool = False,
                 pipeline: Any = None, echo: Echo = print) -> ImportResult:
    """Import ``model_path`` into the folder ``out`` (see the module docstring).

    ``pipeline`` (a :class:`qnas.pipeline.Pipelining`, ``--adders-per-stage``) is stated on
    the imported spec: its estimate and every export of the folder pipeline that way.
    """
    from estimators import DEFAULT_PART, estimate, get_part
    from nas.metrics import classification_metrics
    from nas.qkeras_model import build_qkeras_model, extract_weights
    from nas.training import _save_h5

    out = Path(out)
    if out.exists() and not force:
        raise FatalError(f"{out} exists; choose another --out, or pass --force to replace it")
    in_q = _parse_format(input_precision, "--input-precision") if input_precision else None
    ptq = _parse_format(quantize, "--quantize") if quantize else None
    if ptq is not None and not ptq.signed:
        raise ConfigError("--quantize", f"{quantize} is unsigned; weights need a signed ap_fixed<W,I>")
    part_info = get_part(part or DEFAULT_PART, "--part")
    clock = float(clock_ns or part_info.default_clock_ns)

    user = load_user_model(model_path, weights_path)
    plan = plan_import(layer_chain(user), input_quantizer=in_q, quantize=ptq)
    spec = plan.spec if pipeline is None else replace(plan.spec, pipeline=pipeline)
    for note in plan.notes:
        echo(f"qnas import: note: {note}")
    echo(f"qnas import: {spec.architecture.replace(' distributed_arithmetic', '')} "
         f"(input {spec.input_quantizer.hls_type})")

    rebuilt = build_qkeras_model(spec, seed=seed)
    _set_user_weights(rebuilt, user, plan)
    weights = extract_weights(rebuilt, spec)
    if ptq is not None:
        saturated = _saturated_weights(user, plan, weights)
        for name, count in saturated.items():
            echo(f"qnas import: warning: {count} weights of {name} saturate at {ptq.hls_type}'s range")

    data = _load_calibration(calibration_data, spec.n_inputs, seed) if calibration_data else None
    if data is not None:
        x_raw = data.x_test[:n_vectors]
        x = quantize_array(x_raw, spec.input_quantizer)
        y_true = data.y_test[:n_vectors] if data.y_test is not None else None
    else:
        x = _grid_vectors(spec.input_quantizer, spec.n_inputs, n_vectors, seed)
        y_true = None
    keras = _imports.tf_keras()
    user_logits = keras.Model(user.inputs, user.get_layer(plan.output_layer).output)
    y_rebuilt = _predict(rebuilt, x)
    y_reference = reference_forward(spec, weights, x)
    record: dict[str, Any] = {
        "source": {"model": str(Path(model_path).resolve()), "model_sha256": _sha256(Path(model_path)),
                   **({"weights": str(Path(weights_path).resolve()), "weights_sha256": _sha256(Path(weights_path))}
                      if weights_path else {})},
        "mode": "post_training_quantization" if ptq is not None else "quantized",
        "layers": [{"spec": s.spec_name, "keras": s.keras_name} for s in plan.sources],
        "output_layer": plan.output_layer,
        "notes": list(plan.notes),
        "part": part_info.name, "clock_ns": clock,
        "pipeline": pipeline_record(spec, clock),
        "n_vectors": int(len(x)),
        "vectors": "calibration test split" if data is not None else "random codes on the input grid",
        "rebuilt_equals_reference": bool(np.array_equal(y_rebuilt, y_reference)),
    }
    if ptq is None:
        y_user = _predict(user_logits, x)
        equal = y_user == y_rebuilt
        record["rebuilt_equals_user"] = {"bitexact_rate": float(equal.mean()),
                                         "row_exact_rate": float(equal.all(axis=1).mean())}
        if not equal.all():
            raise FatalError(f"the model qnas rebuilt differs from {model_path} on {int((~equal).sum())} of "
                             f"{equal.size} output values: some layer computes something the mapped formats do not "
                             "describe (see the notes above); nothing was written")
        echo(f"qnas import: rebuilt model equals the original bit for bit on {len(x)} vectors")
    else:
        record["quantize"] = ptq.hls_type
        if data is not None and data.y_test is not None and spec.task == "classification":
            before = classification_metrics(data.y_test, _predict(user_logits, data.x_test))
            after = classification_metrics(data.y_test, _predict(rebuilt, quantize_array(data.x_test,
                                                                                           spec.input_quantizer)))
            record["accuracy_before"], record["accuracy_after"] = before["accuracy"], after["accuracy"]
            echo(f"qnas import: test accuracy {before['accuracy']:.2%} (float) -> {after['accuracy']:.2%} "
                 f"({ptq.hls_type}) on {len(data.x_test)} events of {data.name!r}")
        else:
            echo("qnas import: no --calibration-data: accuracy before/after quantization not measured")

    est = estimate(spec, weights=weights, part=part_info.name, clock_ns=clock)
    _write_folder(out, force, spec, rebuilt, weights, x, y_rebuilt, y_true, est, record, data,
                  save_h5=_save_h5)
    echo(f"qnas import: wrote {out} (estimate: {est.lut:,.0f} LUT, {est.ff:,.0f} FF, "
         f"{est.latency_cycles} cycles at {clock:g} ns on {part_info.name})")
    return ImportResult(out, spec, record)


def _parse_format(text: str, key: str) -> Quantizer:
    from qnas.spec import SpecError

    try:
        return Quantizer.from_hls_type(text)
    except SpecError as exc:
        raise ConfigError(key, str(exc)) from None


def _saturated_weights(user: Any, plan: ImportPlan, weights) -> dict[str, int]:
    out = {}
    for src, lw, layer in zip(plan.sources, weights, plan.spec.layers):
        raw = np.asarray(user.get_layer(src.keras_name).kernel.numpy(), dtype=np.float64)
        n = int(np.sum((raw > layer.weight.max_value + layer.weight.step / 2)
                       | (raw < layer.weight.min_value - layer.weight.step / 2)))
        if n:
            out[src.keras_name] = n
    return out


def _write_folder(out: Path, force: bool, spec: ModelSpec, rebuilt: Any, weights, x, y_rebuilt, y_true, est,
                  record: dict[str, Any], data, *, save_h5) -> None:
    work = out.with_name(out.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        art = TrialArtifacts(work)
        atomic_write(art.model, lambda p: save_h5(rebuilt, p))
        atomic_write(art.weights, weights.save)
        vectors = {"x": x.astype(np.float64), "y_qkeras": y_rebuilt}
        if y_true is not None:
            vectors["y_true"] = np.asarray(y_true)
        atomic_write(art.test_vectors, lambda p: np.savez(p, **vectors))
        metrics = {"fingerprint": spec.fingerprint(), "architecture": spec.architecture, "n_params": spec.n_params,
                   "dataset": data.name if data is not None else None, "imported": True}
        for key in ("accuracy_before", "accuracy_after"):
            if key in record:
                metrics[key] = record[key]
        if "accuracy_after" in record:
            metrics["test"] = {"accuracy": record["accuracy_after"]}
        write_text_atomic(art.metrics, json.dumps(metrics, indent=2, sort_keys=True))
        write_json_atomic(art.estimate, est.to_dict())
        write_json_atomic(work / IMPORT_RECORD, record)
        write_text_atomic(art.spec, spec.to_json())
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
