"""Reference designs a study is compared with: hand-designed models and other tools' fronts.

A Pareto front only says what the search bought when the designs people already use sit on
the same axes. A study names them under ``references:`` (validated with the rest of the
study file); ``qnas report --reference FILE`` adds more. Two kinds of entry::

    references:
      - name: hls4ml jet tagger 16-64-32-32-5, 6-bit       # one design
        spec: {widths: [16, 64, 32, 32, 5], weight_bits: 6, activation_bits: 6,
               activation_integer: 2, input_bits: 10, input_integer: 4}
        metrics: {accuracy: 0.717}                          # quality as measured (test split)
        source: python benchmarks/jet_physics.py --train-qkeras
      - file: ../benchmarks/results/pareto_vs_peers.json    # fronts; relative to the study file

A design's LUT/FF/latency are taken from the entry when it gives them (``lut``, ``ff``,
``dsp``, ``latency_cycles``, ``latency_ns``) and otherwise estimated from its spec by the
study's estimator on the study's part and clock, and labelled so. A ``file`` holds either
the same list (JSON or YAML, under ``references:``) or peer fronts as written by
``benchmarks/pareto_vs_peers.py`` (``fronts.<name>.points``); a missing file is skipped
with a note, since a benchmark may not have been run yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError
from .spec import DenseLayerSpec, ModelSpec, Quantizer
from .validation import check_keys, describe, join_key

__all__ = ["ReferenceDesign", "ReferenceFile", "load_reference_file", "parse_references", "shorthand_spec"]

#: resource fields a reference may state (otherwise estimated from its spec)
RESOURCE_FIELDS = ("lut", "ff", "dsp", "latency_cycles", "latency_ns")
_DESIGN_KEYS = ("name", "spec", "metrics", "source", "group") + RESOURCE_FIELDS
_SPEC_KEYS = ("widths", "weight_bits", "weight_integer", "bias_bits", "bias_integer", "activation_bits",
              "activation_integer", "input_bits", "input_integer", "strategy")


@dataclass(frozen=True)
class ReferenceDesign:
    """One reference point: a name, its quality metrics, and stated or estimable resources."""

    name: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    resources: Mapping[str, float] = field(default_factory=dict)
    spec: ModelSpec | None = None
    source: str = ""
    group: str = ""  # several designs of one group are drawn as one front


@dataclass(frozen=True)
class ReferenceFile:
    path: str  # as written; resolved against the study file's folder when relative


def shorthand_spec(data: Mapping[str, Any], path: str) -> ModelSpec:
    """A ModelSpec from ``{widths: [16, 64, 5], weight_bits: 6, ...}`` (a full spec dict also works)."""
    if "layers" in data:
        try:
            return ModelSpec.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(path, f"is not a valid model spec: {exc}") from None
    check_keys(data, _SPEC_KEYS, path)
    widths = data.get("widths")
    if not isinstance(widths, (list, tuple)) or len(widths) < 2 or not all(isinstance(w, int) and w > 0
                                                                           for w in widths):
        raise ConfigError(join_key(path, "widths"), "must list the input width then each layer's width "
                          f"(e.g. [16, 64, 32, 32, 5]); got {describe(widths)}")

    def q(bits: Any, integer: int, signed: bool = True) -> Quantizer:
        if bits in ("ternary", "binary"):
            return Quantizer.ternary() if bits == "ternary" else Quantizer.binary()
        return Quantizer.fixed(int(bits), int(integer), signed)

    try:
        wbits = data.get("weight_bits", 8)
        w = q(wbits, data.get("weight_integer", 0))
        fixed_w = wbits not in ("ternary", "binary")  # biases follow fixed-point weights by default
        b = q(data.get("bias_bits", wbits if fixed_w else 8),
              data.get("bias_integer", data.get("weight_integer", 0) if fixed_w else 3))
        act = q(data.get("activation_bits", 8), data.get("activation_integer", 2), signed=False)
        n = len(widths) - 1
        layers = tuple(DenseLayerSpec("output" if i == n - 1 else f"dense_{i}", widths[i + 1], w, b,
                                      None if i == n - 1 else act) for i in range(n))
        return ModelSpec(n_inputs=widths[0], input_quantizer=q(data.get("input_bits", 8),
                                                               data.get("input_integer", 3)),
                         layers=layers, strategy=data.get("strategy", "latency"))
    except (TypeError, ValueError) as exc:
        raise ConfigError(path, f"does not describe a valid model: {exc}") from None


def _numbers(value: Any, path: str) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise ConfigError(path, f"must map metric names to numbers (e.g. {{accuracy: 0.717}}); got {describe(value)}")
    out = {}
    for key, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(join_key(path, str(key)), f"must be a number; got {describe(v)}")
        out[str(key)] = float(v)
    return out


def _design(item: Mapping[str, Any], path: str) -> ReferenceDesign:
    check_keys(item, _DESIGN_KEYS, path)
    if not isinstance(item.get("name"), str) or not item["name"]:
        raise ConfigError(join_key(path, "name"), "every reference design needs a name")
    spec = None
    if item.get("spec") is not None:
        if not isinstance(item["spec"], Mapping):
            raise ConfigError(join_key(path, "spec"), f"must be a mapping; got {describe(item['spec'])}")
        spec = shorthand_spec(item["spec"], join_key(path, "spec"))
    resources = _numbers({k: item[k] for k in RESOURCE_FIELDS if k in item}, path)
    if spec is None and "lut" not in resources:
        raise ConfigError(path, f"reference {item['name']!r} needs a spec (to estimate it) or stated resources "
                                "(lut, and ff/latency_ns where known)")
    return ReferenceDesign(item["name"], _numbers(item.get("metrics") or {}, join_key(path, "metrics")),
                           resources, spec, str(item.get("source", "")), str(item.get("group", "")))


def parse_references(value: Any, path: str = "references") -> tuple[ReferenceDesign | ReferenceFile, ...]:
    """Validate a ``references:`` list (study file or reference file)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(path, f"must be a list of designs ({{name, spec, metrics}}) or files ({{file: PATH}}); "
                                f"got {describe(value)}")
    out: list[ReferenceDesign | ReferenceFile] = []
    for i, item in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(where, f"must be a mapping; got {describe(item)}")
        if "file" in item:
            check_keys(item, ("file",), where)
            out.append(ReferenceFile(str(item["file"])))
        else:
            out.append(_design(item, where))
    return tuple(out)


def _first(point: Mapping[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = point.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def _front_points(name: str, front: Any) -> list[ReferenceDesign]:
    """Peer-front points, read defensively: unknown or missing fields are skipped, not fatal."""
    points = front.get("points") if isinstance(front, Mapping) else front
    out = []
    for i, p in enumerate(points if isinstance(points, list) else []):
        if not isinstance(p, Mapping):
            continue
        metrics = p.get("metrics") if isinstance(p.get("metrics"), Mapping) else {}
        acc = _first({**p, **metrics}, "test_accuracy", "accuracy", "acc")
        lut = _first(p, "lut", "LUT", "luts")
        if acc is None and lut is None:
            continue
        resources = {k: v for k, v in (("lut", lut), ("ff", _first(p, "ff", "FF")),
                                       ("dsp", _first(p, "dsp", "DSP")),
                                       ("latency_cycles", _first(p, "cycles", "latency_cycles")),
                                       ("latency_ns", _first(p, "latency_ns"))) if v is not None}
        spec = p.get("spec")
        label = p.get("architecture") or p.get("name") or (spec if isinstance(spec, str) else f"point {i}")
        out.append(ReferenceDesign(f"{name}: {label}", {"accuracy": acc} if acc is not None else {},
                                   resources, None, str(p.get("source", "")), group=name))
    return out


def load_reference_file(path: str | Path) -> tuple[list[ReferenceDesign], list[str]]:
    """(designs, notes) from a reference file; a missing or unreadable file gives a note, not an error."""
    path = Path(path)
    if not path.exists():
        return [], [f"reference file {path} not found (run the benchmark that writes it); skipped"]
    try:
        text = path.read_text()
        if path.suffix in (".yaml", ".yml"):
            import yaml
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except (OSError, ValueError) as exc:
        return [], [f"reference file {path} is unreadable ({exc}); skipped"]
    designs: list[ReferenceDesign] = []
    notes: list[str] = []
    if isinstance(data, Mapping) and isinstance(data.get("fronts"), Mapping):
        for name, front in data["fronts"].items():
            got = _front_points(str(name), front)
            designs += got
            if not got:
                notes.append(f"{path}: front {name!r} has no point with accuracy or LUT; skipped")
    if isinstance(data, Mapping) and "references" in data:
        for item in parse_references(data["references"], f"{path}: references"):
            if isinstance(item, ReferenceDesign):
                designs.append(item)
    if not designs and not notes:
        notes.append(f"reference file {path} holds neither 'fronts' nor 'references'; skipped")
    return designs, notes
