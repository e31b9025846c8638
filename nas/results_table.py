"""The results table: one row per trial, rebuilt from the study and written after every trial.

Rows come from the Optuna storage (the single source of truth), so a resumed or an
interrupted run always writes a table that matches the study exactly. CSV and Parquet are
written to a temporary name and renamed into place, so a crash or a full disk never leaves a
half-written table behind the last good one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from qnas._io import atomic_write

__all__ = ["ESTIMATE_COLUMNS", "build_table", "format_pareto", "trial_row", "write_table"]

ESTIMATE_COLUMNS = ("lut", "ff", "dsp", "bram", "latency_cycles", "ii_cycles", "latency_ns")
_FIRST = ["number", "state", "feasible", "reason", "rejected_by", "architecture", "family", "strategy", "n_params"]


def trial_row(trial, objectives: Sequence) -> dict[str, Any]:
    """One row from an ``optuna.trial.FrozenTrial`` (``objectives``: nas.config.Objective)."""
    attrs = trial.user_attrs
    state = trial.state.name
    constraints = dict(trial.constraints)
    if state == "COMPLETE":
        feasible: bool | None = all(v <= 0 for v in constraints.values())
    elif constraints:
        feasible = all(v <= 0 for v in constraints.values())
    else:
        feasible = None
    row: dict[str, Any] = {
        "number": trial.number,
        "state": state,
        "feasible": feasible,
        "reason": attrs.get("reason", ""),
        "rejected_by": attrs.get("rejected_by", ""),
        "architecture": attrs.get("architecture", ""),
        "family": attrs.get("family", ""),
        "strategy": trial.params.get("strategy"),
        "n_params": attrs.get("n_params"),
    }
    values = trial.values if state == "COMPLETE" and trial.values else [None] * len(objectives)
    for obj, value in zip(objectives, values):
        row[f"objective_{obj.metric}"] = value
    for split in ("val", "test"):
        for key, value in (attrs.get(f"metrics_{split}") or {}).items():
            row[f"{split}_{key}"] = value
    est = attrs.get("estimate") or {}
    for key in ESTIMATE_COLUMNS:
        row[f"est_{key}"] = est.get(key)
    row["estimator"] = est.get("producer", "")
    row["estimate_stage"] = est.get("stage", "")
    row["est_in_calibrated_range"] = est.get("in_calibrated_range")
    for key, value in constraints.items():
        row[f"constraint_{key}"] = value
    for key in sorted(attrs):
        if key.endswith("/reuse_factor"):
            row[key] = attrs[key]
    for key, value in trial.params.items():
        row[f"param:{key}"] = value
    row["epochs_run"] = attrs.get("epochs_run")
    row["train_seconds"] = attrs.get("train_seconds")
    row["duration_s"] = trial.duration.total_seconds() if trial.duration else None
    row["retry_of"] = attrs.get("retry_of")
    row["weights_from"] = attrs.get("weights_from")
    row["checkpoint_of"] = attrs.get("checkpoint_of")  # a further design of that trial's training
    row["artifacts"] = attrs.get("artifacts", "")
    row["fingerprint"] = attrs.get("fingerprint", "")
    row["spec"] = attrs.get("spec", "")
    row["datetime_start"] = trial.datetime_start.isoformat() if trial.datetime_start else None
    return row


def build_table(trials: Iterable, objectives: Sequence) -> pd.DataFrame:
    """A DataFrame with one row per trial, ordered by trial number."""
    rows = [trial_row(t, objectives) for t in sorted(trials, key=lambda t: t.number)]
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=_FIRST)
    rest = [c for c in table.columns if c not in _FIRST]
    return table[_FIRST + rest]


def _for_parquet(table: pd.DataFrame) -> pd.DataFrame:
    """Parquet columns need one type: a param mixing 6 and 'ternary' becomes text."""
    out = table.copy()
    for col in out.columns:
        if out[col].dtype != object:
            continue
        kinds = {type(v) for v in out[col] if v is not None and not (isinstance(v, float) and math.isnan(v))}
        if len(kinds) > 1 or kinds & {dict, list}:
            out[col] = [None if v is None or (isinstance(v, float) and math.isnan(v))
                        else (json.dumps(v) if isinstance(v, (dict, list)) else str(v)) for v in out[col]]
    return out


def write_table(table: pd.DataFrame, run_dir: str | Path, stem: str = "results") -> tuple[Path, Path]:
    """Write ``<stem>.csv`` and ``<stem>.parquet`` atomically; return their paths."""
    run_dir = Path(run_dir)
    csv_path, parquet_path = run_dir / f"{stem}.csv", run_dir / f"{stem}.parquet"
    atomic_write(csv_path, lambda p: table.to_csv(p, index=False))
    atomic_write(parquet_path, lambda p: _for_parquet(table).to_parquet(p, index=False))
    return csv_path, parquet_path


def _details(spec_json: str) -> str:
    """What the architecture label leaves out: input/activation bits and reuse factors."""
    from qnas.spec import ModelSpec
    if not spec_json:
        return ""
    spec = ModelSpec.from_json(spec_json)
    acts = "/".join(str(l.activation.bits) for l in spec.layers if l.activation is not None)
    reuse = "/".join(str(l.reuse_factor) for l in spec.layers)
    return f"in{spec.input_quantizer.bits} a[{acts}] R[{reuse}]"


def format_pareto(table: pd.DataFrame, numbers: Sequence[int], objectives: Sequence) -> str:
    """The Pareto set as aligned text, sorted by the first objective (best first)."""
    if not len(numbers):
        return "no feasible completed trial: the Pareto set is empty"
    rows = table[table["number"].isin(list(numbers))].copy()
    first = objectives[0]
    rows = rows.sort_values(f"objective_{first.metric}", ascending=first.direction == "minimize")
    rows["details"] = [_details(text) for text in rows["spec"]]
    cols = ["number", "architecture", "details"] + [f"objective_{o.metric}" for o in objectives]
    test_cols = [f"test_{o.metric}" for o in objectives if f"test_{o.metric}" in rows.columns]
    metrics = {o.metric for o in objectives}
    cols += test_cols + [c for c in ("est_lut", "est_latency_ns") if c[4:] not in metrics] + ["estimator"]
    shown = rows[cols].rename(columns=lambda c: c.replace("objective_", ""))
    return shown.to_string(index=False, float_format=lambda v: f"{v:.4g}")
