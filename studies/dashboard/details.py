"""What a trial's page shows, as plain data: both front ends render this one dictionary.

The static report embeds it as JSON (its JavaScript draws the page on ``#trial-N``); the
live app turns it into Dash components. Keeping the content here means the two pages
cannot drift apart.
"""

from __future__ import annotations

import shlex
from typing import Any, Mapping

from .data import CATEGORY_LABELS, RunData
from .figures import SYNTH_FIELDS

__all__ = ["TABLE_COLUMNS", "export_command", "table_rows", "trial_details"]

#: the trial table's columns: (key, heading)
TABLE_COLUMNS = (("number", "trial"), ("category", "kind"), ("architecture", "architecture"),
                 ("strategy", "strategy"), ("n_params", "params"), ("val_accuracy", "val acc"),
                 ("test_accuracy", "test acc"), ("est_lut", "LUT est"), ("est_ff", "FF est"),
                 ("est_dsp", "DSP est"), ("est_latency_cycles", "cycles"), ("est_latency_ns", "latency ns"),
                 ("synth_lut", "LUT synth"), ("reason", "reason"), ("duration_s", "seconds"))


def export_command(run: RunData, number: int) -> str:
    where = str(run.run_dir) if run.run_dir else run.url
    return " ".join(shlex.quote(p) for p in ("qnas", "export", where, "--study", run.name, "--trial", str(number),
                                             "--out", "firmware/"))


def _num(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def table_rows(run: RunData) -> list[dict[str, Any]]:
    out = []
    for row in run.rows:
        syn = run.synthesis.get(row["number"])
        first = next(iter(syn.results.values()), None) if syn else None
        item = {key: _num(row.get(key)) for key, _ in TABLE_COLUMNS if key != "synth_lut"}
        item["category"] = CATEGORY_LABELS.get(row["category"], row["category"])
        item["synth_lut"] = first.get("lut") if first else None
        item["reason"] = str(row.get("reason") or "")[:200]
        out.append(item)
    return out


def trial_details(run: RunData, number: int) -> dict[str, Any] | None:
    row = run.row(number)
    if row is None:
        return None
    syn = run.synthesis.get(number)
    est = {key[4:]: row.get(key) for key in row if key.startswith("est_") and key != "est_in_calibrated_range"}
    compare = []
    if syn:
        for flow, res in syn.results.items():
            for key, label in SYNTH_FIELDS + (("latency_ns", "latency ns"),):
                e, t = syn.estimate.get(key), res.get(key)
                compare.append({"flow": flow, "field": label, "estimate": _num(e), "synthesis": _num(t),
                                "error": None if e is None or not t else round((float(e) - float(t)) / float(t), 4)})
            if res.get("fmax_mhz"):
                compare.append({"flow": flow, "field": "Fmax MHz (routed)", "estimate": None,
                                "synthesis": _num(res["fmax_mhz"]), "error": None})
    metrics = {f"{split} {k[len(split) + 1:]}": _num(v) for split in ("val", "test") for k, v in row.items()
               if k.startswith(f"{split}_") and isinstance(v, (int, float))}
    objectives = {m: _num(row.get(f"objective_{m}")) for m, _ in run.objectives}
    return {
        "number": number, "state": row["state"], "kind": row["category"], "category": CATEGORY_LABELS.get(row["category"], row["category"]),
        "architecture": row.get("architecture", ""), "strategy": row.get("strategy"),
        "duplicate_of": row.get("duplicate_of"), "reason": row.get("reason", ""),
        "objectives": objectives, "metrics": metrics,
        "estimate": {k: _num(v) for k, v in est.items()}, "estimator": row.get("estimator", ""),
        "estimate_stage": row.get("estimate_stage", ""), "layers": row["layers"],
        "constraints": {k[len("constraint_"):]: _num(v) for k, v in row.items() if k.startswith("constraint_")},
        "spec": row.get("spec_dict"), "artifacts": str(run.run_dir / row["artifacts"]) if run.run_dir and
        row.get("artifacts") else "", "bundle": syn.bundle if syn else "", "synthesis": compare,
        "synthesis_errors": dict(syn.errors) if syn else {},
        "export": export_command(run, number) if row.get("artifacts") else "",
        "synth": (f"qnas synth {shlex.quote(syn.bundle)} --flow open" if syn else
                  f"qnas synth firmware/trial_{number:05d} --flow open") if row.get("artifacts") else "",
    }


def summary(run: RunData) -> Mapping[str, Any]:
    from collections import Counter
    counts = Counter(r["category"] for r in run.rows)
    return {"study": run.name, "storage": run.url, "run_dir": str(run.run_dir or ""), "part": run.part,
            "clock_ns": run.clock_ns, "objectives": [f"{d} {m}" for m, d in run.objectives],
            "limits": {k: _num(v) for k, v in run.limits.items()}, "n_trials": len(run.rows),
            "counts": {CATEGORY_LABELS[k]: v for k, v in counts.items()}, "pareto": run.pareto,
            "notes": run.notes}
