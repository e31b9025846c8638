"""Fitted coefficients on disk, per estimator, tool and part, and the ``calibrate`` step.

A calibration is a JSON file ``<estimator>__<tool>__<part>.json`` in a coefficient
directory (``estimators/data/coefficients`` ships the open-flow fit; a user's own fits go
to ``$QNAS_CALIBRATION_DIR`` or ``~/.qnas/calibration``, which take precedence). Every
later ``estimate`` for that strategy and part loads it, so a user who calibrates on
their Vivado reports gets estimates in their tool's units from then on.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

from qnas.errors import ConfigError
from qnas.parts import get_part
from qnas.results import ResourceReport
from qnas.spec import ModelSpec
from qnas.weights import ModelWeights

from .distributed import DistributedArithmeticEstimator
from .ground_truth import read_records, split_records
from .hls4ml_model import HLSStrategyEstimator
from .vendor_sweeps import is_wa_hls4ml_csv, read_wa_hls4ml, split_rows

PACKAGE_DIR = Path(__file__).parent / "data" / "coefficients"

#: spec strategy -> estimator kind (the file-name prefix)
KIND_OF_STRATEGY = {"distributed_arithmetic": "distributed_arithmetic", "latency": "hls4ml", "resource": "hls4ml"}
_CLASSES = {"distributed_arithmetic": DistributedArithmeticEstimator, "hls4ml": HLSStrategyEstimator}
#: the tool a calibration is assumed to come from when none is asked for, per kind
DEFAULT_TOOL = {"distributed_arithmetic": "yosys", "hls4ml": "vitis-hls"}


def user_dir() -> Path:
    return Path(os.environ.get("QNAS_CALIBRATION_DIR", Path.home() / ".qnas" / "calibration"))


def search_dirs() -> list[Path]:
    """Coefficient directories, highest precedence first (user fits beat shipped ones)."""
    return [user_dir(), PACKAGE_DIR]


def coefficient_file(kind: str, tool: str, part: str, directory: str | Path) -> Path:
    safe_tool = re.sub(r"[^A-Za-z0-9.-]+", "-", tool.lower())
    return Path(directory) / f"{kind}__{safe_tool}__{get_part(part).name}.json"


def save_estimator(estimator: Any, directory: str | Path | None = None, tool: str | None = None) -> Path:
    """Write a fitted estimator's coefficients; returns the file written."""
    data = estimator.coefficients()
    kind = data["estimator"]
    part = data["calibrated_for"]["part"]
    path = coefficient_file(kind, tool or data["calibrated_for"].get("tool", DEFAULT_TOOL[kind]), part,
                            directory or user_dir())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True))
    return path


def load_estimator_file(path: str | Path) -> Any:
    data = json.loads(Path(path).read_text())
    kind = data.get("estimator")
    if kind not in _CLASSES:
        raise ConfigError(str(path), f"unknown estimator {kind!r} in coefficient file; known: {sorted(_CLASSES)}")
    return _CLASSES[kind].from_coefficients(data)


def find_calibration(strategy: str, part: str, tool: str | None = None,
                     directories: Iterable[Path] | None = None) -> Path | None:
    """The coefficient file used for ``strategy`` on ``part`` (None when there is none)."""
    kind = KIND_OF_STRATEGY[strategy]
    name = get_part(part).name
    for directory in (directories if directories is not None else search_dirs()):
        if tool:
            path = coefficient_file(kind, tool, name, directory)
            if path.is_file():
                return path
            continue
        matches = sorted(Path(directory).glob(f"{kind}__*__{name}.json"))
        if matches:
            return matches[0]
    return None


def load_estimator(strategy: str, part: str, tool: str | None = None,
                   directories: Iterable[Path] | None = None) -> Any:
    """Fitted estimator for ``strategy`` on ``part`` where a calibration exists, else defaults.

    Without a calibration for the part itself, one for another part of the same vendor is
    used (LUT6 fabrics are alike); the estimate then says so in its notes.
    """
    kind = KIND_OF_STRATEGY.get(strategy)
    if kind is None:
        raise ConfigError("spec.strategy", f"no estimator for strategy {strategy!r}; known: {sorted(KIND_OF_STRATEGY)}")
    path = find_calibration(strategy, part, tool, directories)
    if path is None:
        vendor = get_part(part).vendor
        from qnas.parts import PARTS
        for other in PARTS.values():
            if other.vendor == vendor and other.name != get_part(part).name:
                path = find_calibration(strategy, other.name, tool, directories)
                if path is not None:
                    break
    if path is None:
        return _CLASSES[kind]()
    return load_estimator_file(path)


def calibrate(sources: Sequence[str | Path], *, part: str | None = None, tool: str | None = None,
              out_dir: str | Path | None = None, include_heldout: bool = False) -> list[Path]:
    """Fit coefficients to synthesis results and save them; returns the files written.

    ``sources`` are ground-truth datasets (``*.jsonl`` written by
    ``benchmarks/make_ground_truth.py``; only their training split is used unless
    ``include_heldout``), wa-hls4ml sweep CSVs of Vitis HLS C-synthesis results
    (:mod:`estimators.vendor_sweeps`, same split rule) and/or hls4ml project directories
    holding Vivado/Vitis reports and the trial's ``spec.json`` (read with
    ``hls_backend.vendor_reports``).
    """
    if not sources:
        raise ConfigError("REPORTS", "give at least one ground-truth .jsonl file or hls4ml project directory")
    groups: dict[tuple[str, str, str], list[tuple[ModelSpec, ResourceReport, ModelWeights | None]]] = {}
    for source in sources:
        path = Path(source)
        if path.is_file() and path.suffix == ".jsonl":
            records = read_records(path)
            train, held = split_records(records)
            for record in (records if include_heldout else train):
                kind = KIND_OF_STRATEGY[record.spec.strategy]
                key = (kind, tool or record.truth.producer.split()[0], part or record.truth.part)
                groups.setdefault(key, []).append((record.spec, record.truth, record.weights()))
        elif is_wa_hls4ml_csv(path):
            rows = read_wa_hls4ml(path)
            for row in (rows if include_heldout else split_rows(rows)[0]):
                key = ("hls4ml", tool or row.truth.producer.split()[0], part or row.truth.part)
                groups.setdefault(key, []).append((row.spec, row.truth, None))
        elif path.is_dir():
            spec, truth, weights = _vendor_project(path, part)
            kind = KIND_OF_STRATEGY[spec.strategy]
            key = (kind, tool or truth.producer.split()[0], part or truth.part)
            groups.setdefault(key, []).append((spec, truth, weights))
        else:
            raise ConfigError(str(source), "not a ground-truth .jsonl file, a wa-hls4ml results .csv nor an hls4ml "
                              "project directory")
    written = []
    for (kind, tool_name, part_name), rows in groups.items():
        estimator = _CLASSES[kind](tool=tool_name)
        specs, truths, weights = zip(*rows)
        estimator.fit(list(specs), list(truths), list(weights), part=part_name)
        written.append(save_estimator(estimator, out_dir, tool=tool_name))
    return written


def _vendor_project(path: Path, part: str | None):
    """(spec, SynthesisResult, weights or None) of an hls4ml project directory."""
    spec_path = next((p for p in (path / "spec.json", path.parent / "spec.json") if p.is_file()), None)
    if spec_path is None:
        raise ConfigError(str(path), "a vendor report directory needs the trial's spec.json beside it "
                          "(in the directory or its parent) so the reports can be matched to a spec")
    from qnas._imports import require

    reports = require("hls_backend.vendor_reports", "hls")
    truth = reports.parse_vendor_reports(path, part=part)
    spec = ModelSpec.from_json(spec_path.read_text())
    weights_path = spec_path.parent / "weights.npz"
    weights = ModelWeights.load(weights_path) if weights_path.is_file() else None
    return spec, truth, weights
