"""The plotly figures of a run, shared by the static report, the PNG export and the live app.

Every figure is a plain ``plotly.graph_objects.Figure`` built from :class:`RunData`; each
point's ``customdata`` is its trial number, which is how a click finds the trial's page in
both front ends. A view with nothing to show returns a figure that says why (no finished
trial, nothing synthesized, too few trials for importance) instead of raising.
"""

from __future__ import annotations

import warnings
from collections import Counter
from typing import Any, Mapping, Sequence

from .data import CATEGORIES, CATEGORY_LABELS, RunData

__all__ = ["FIGURES", "axis_label", "build_figures", "empty_figure", "estimate_vs_synthesis", "history",
           "hover_text", "hypervolume", "importance", "pareto_2d", "pareto_3d", "rejections", "synthesis_errors",
           "trials_per_hour"]

COLORS = {"pareto": "#d62728", "dominated": "#6baed6", "infeasible": "#fdae6b", "rejected": "#969696",
          "reference": "#2ca02c"}
SYMBOLS = {"pareto": "circle", "dominated": "circle", "infeasible": "circle-open", "rejected": "x-thin-open"}
PEER_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79")
LABELS = {"accuracy": "validation accuracy", "roc_auc": "validation ROC AUC", "loss": "validation loss",
          "recon_mse": "validation reconstruction MSE",
          "signal_eff": "validation mean signal efficiency at the fixed rate", "lut": "LUT (estimate)", "ff": "FF (estimate)",
          "dsp": "DSP (estimate)", "bram": "BRAM (estimate)", "latency_ns": "latency [ns] (estimate)",
          "latency_cycles": "latency [cycles] (estimate)", "ii_cycles": "II [cycles] (estimate)",
          "n_params": "parameters"}
_LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=50, b=50), legend=dict(orientation="h", y=-0.18),
               hoverlabel=dict(align="left", font_size=12))


def _go():
    from qnas._imports import require
    return require("plotly.graph_objects", "dashboard")


def axis_label(metric: str) -> str:
    return LABELS.get(metric, metric)


def empty_figure(message: str, title: str = ""):
    go = _go()
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=15, color="#555"))
    fig.update_layout(title=title, xaxis=dict(visible=False), yaxis=dict(visible=False), **_LAYOUT)
    return fig


def _fmt(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}g}"
    return str(value)


def _bits(q: Mapping[str, Any] | None) -> str:
    if q is None:
        return "lin"
    return q["kind"] if q["kind"] != "fixed" else str(q["bits"])


def hover_text(run: RunData, row: Mapping[str, Any]) -> str:
    """Architecture, metrics, estimate and synthesis of one trial, as plotly hover HTML."""
    lines = [f"<b>trial #{row['number']}</b> · {CATEGORY_LABELS.get(row['category'], row['category'])}"]
    if row.get("duplicate_of") is not None:
        lines[0] += f" (same design as #{row['duplicate_of']})"
    spec = row.get("spec_dict")
    if spec:
        widths = [spec["n_inputs"]] + [layer["units"] for layer in spec["layers"]]
        lines.append(f"widths {'-'.join(map(str, widths))} · strategy {spec.get('strategy', '')}")
        lines.append("weight bits " + "/".join(_bits(layer["weight"]) for layer in spec["layers"])
                     + " · activation bits " + "/".join(_bits(layer.get("activation")) for layer in spec["layers"])
                     + f" · input {spec['input_quantizer']['bits']}")
        lines.append("reuse factors " + "/".join(str(layer["reuse_factor"]) for layer in row["layers"]))
        sparse = [f"{layer['layer']} {layer['sparsity']:.0%}" for layer in row["layers"] if "sparsity" in layer]
        if sparse:
            lines.append("sparsity " + ", ".join(sparse))
    shown = ("accuracy", "roc_auc", "recon_mse", "signal_eff")
    metrics = [f"val {k} {_fmt(row[f'val_{k}'])}" for k in shown if isinstance(row.get(f"val_{k}"), float)]
    metrics += [f"test {k} {_fmt(row[f'test_{k}'])}" for k in shown if isinstance(row.get(f"test_{k}"), float)]
    # anomaly studies: each signal's efficiency at the fixed background acceptance
    per_signal = [f"{k[len('test_eff_'):]} {_fmt(v)}" for k, v in row.items()
                  if k.startswith("test_eff_") and isinstance(v, float)]
    if per_signal:
        metrics.append("test efficiency at the rate: " + ", ".join(per_signal))
    if metrics:
        lines.append(" · ".join(metrics))
    if row.get("est_lut") is not None:
        lines.append(f"estimate LUT {_fmt(row['est_lut'])} · FF {_fmt(row['est_ff'])} · DSP {_fmt(row['est_dsp'])}"
                     f" · {row['est_latency_cycles']} cycles = {_fmt(row['est_latency_ns'])} ns"
                     f" ({row.get('estimator', '')})")
    syn = run.synthesis.get(row["number"])
    if syn:
        for flow, res in syn.results.items():
            extra = f" · Fmax {res['fmax_mhz']:.0f} MHz" if res.get("fmax_mhz") else ""
            lines.append(f"<b>{flow}</b> LUT {_fmt(float(res['lut']))} · FF {_fmt(float(res['ff']))} · "
                         f"{res['latency_cycles']} cycles{extra}")
    if row.get("reason"):
        lines.append(str(row["reason"])[:160])
    lines.append("<i>click for the trial page</i>")
    return "<br>".join(lines)


def _floor(values: Sequence[float], direction: str) -> float:
    """Where trials without a quality value (rejected before training) sit: just past the worst."""
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.05 or 0.05
    return lo - pad if direction == "maximize" else hi + pad


def _points(run: RunData, metrics: Sequence[str]) -> tuple[dict[str, list], dict[str, float]]:
    """Per category: trial rows with their coordinates (missing quality goes to the floor)."""
    known: dict[str, list[float]] = {m: [] for m in metrics}
    for row in run.finished:
        for m in metrics:
            v = run.metric_value(row, m)
            if v is not None:
                known[m].append(v)
    directions = dict(run.objectives)
    floors = {m: _floor(v, directions.get(m, "minimize")) for m, v in known.items() if v}
    out: dict[str, list] = {c: [] for c in CATEGORIES}
    for row in run.finished:
        coords = []
        for m in metrics:
            v = run.metric_value(row, m)
            coords.append(floors.get(m) if v is None else v)
        if all(c is not None for c in coords):
            out[row["category"]].append((row, coords))
    return out, floors


def default_axes(run: RunData) -> tuple[str, str]:
    """(x, y): LUT (or the first resource objective) against the first quality objective."""
    from nas.config import QUALITY_METRICS
    metrics = [m for m, _ in run.objectives]
    quality = next((m for m in metrics if m in QUALITY_METRICS), metrics[0] if metrics else "accuracy")
    x = "lut" if "lut" in metrics or not metrics else next((m for m in metrics if m != quality), "lut")
    return x, quality


def _reference_traces(run: RunData, metrics: Sequence[str], three_d: bool = False) -> list:
    go = _go()
    traces = []
    groups: dict[str, list] = {}
    for ref in run.references:
        if all(m in ref.values for m in metrics):
            groups.setdefault(ref.group or ref.name, []).append(ref)
    for i, (group, refs) in enumerate(groups.items()):
        single = len(refs) == 1 and not refs[0].group
        color = COLORS["reference"] if single else PEER_COLORS[i % len(PEER_COLORS)]
        refs = sorted(refs, key=lambda r: r.values[metrics[0]])
        coords = [[r.values[m] for r in refs] for m in metrics]
        text = [f"<b>reference: {r.name}</b><br>" + " · ".join(f"{k} {_fmt(v)}" for k, v in r.values.items())
                + (f"<br>{r.how}" if r.how else "") for r in refs]
        common = dict(name=group if not single else f"reference: {group}", hovertext=text, hoverinfo="text",
                      mode="markers" if single else "lines+markers")
        if three_d:
            traces.append(go.Scatter3d(x=coords[0], y=coords[1], z=coords[2], **common,
                                       marker=dict(size=7, color=color, symbol="diamond")))
        else:
            traces.append(go.Scatter(x=coords[0], y=coords[1], **common, line=dict(color=color, dash="dot"),
                                     marker=dict(size=15 if single else 9, color=color,
                                                 symbol="star" if single else "diamond",
                                                 line=dict(width=1, color="#333"))))
    return traces


def pareto_2d(run: RunData, x: str | None = None, y: str | None = None):
    """Quality against a resource (or any two metrics): every finished trial by category."""
    go = _go()
    dx, dy = default_axes(run)
    x, y = x or dx, y or dy
    title = f"Pareto front: {axis_label(y)} vs {axis_label(x)}"
    if not run.finished:
        return empty_figure("No finished trial yet: the front appears as trials complete.", title)
    groups, floors = _points(run, (x, y))
    fig = go.Figure()
    for cat in CATEGORIES:
        pts = groups[cat]
        if cat == "pareto":
            pts = sorted(pts, key=lambda p: p[1][0])
        fig.add_trace(go.Scatter(
            x=[p[1][0] for p in pts], y=[p[1][1] for p in pts], mode="markers", name=CATEGORY_LABELS[cat],
            customdata=[p[0]["number"] for p in pts], hovertext=[hover_text(run, p[0]) for p in pts],
            hoverinfo="text", uid=f"cat-{cat}", visible=True if pts or cat == "pareto" else "legendonly",
            marker=dict(color=COLORS[cat], symbol=SYMBOLS[cat], size=11 if cat == "pareto" else 7,
                        opacity=1.0 if cat == "pareto" else 0.75,
                        line=dict(width=1 if cat == "pareto" else 0, color="#222"))))
    for trace in _reference_traces(run, (x, y)):
        fig.add_trace(trace)
    _synthesis_markers(fig, run, x, y)
    for metric, axis in ((x, "x"), (y, "y")):
        if metric in run.limits:
            kw = dict(line=dict(color="#444", dash="dash", width=1.5),
                      annotation_text=f"budget {axis_label(metric).split(' (')[0]} ≤ {_fmt(run.limits[metric])}",
                      annotation_font_size=11)
            (fig.add_vline(x=run.limits[metric], annotation_position="top left", **kw) if axis == "x"
             else fig.add_hline(y=run.limits[metric], annotation_position="bottom right", **kw))
    if y in floors and groups["rejected"]:
        fig.add_hline(y=floors[y], line=dict(color="#bbb", width=1), annotation_text="rejected before training "
                      "(no quality)", annotation_position="bottom left", annotation_font_size=10,
                      annotation_font_color="#888")
    fig.update_layout(title=title, xaxis_title=axis_label(x), yaxis_title=axis_label(y), clickmode="event",
                      hovermode="closest", **_LAYOUT)
    return fig


def _synthesis_markers(fig, run: RunData, x: str, y: str) -> None:
    """Where a synthesized design really landed: its measured value of a resource axis, linked to the estimate."""
    go = _go()
    resource = {"lut", "ff", "dsp", "latency_cycles"}
    if not run.synthesis or not ({x, y} & resource):
        return
    xs, ys, text, numbers = [], [], [], []
    for number, syn in sorted(run.synthesis.items()):
        row = run.row(number)
        res = syn.results.get("open_xilinx") or next(iter(syn.results.values()), None)
        if row is None or res is None:
            continue
        point = []
        for m in (x, y):
            v = res.get(m) if m in resource else run.metric_value(row, m)
            point.append(None if v is None else float(v))
        est = [run.metric_value(row, m) for m in (x, y)]
        if None in point or None in est:
            continue
        xs += [est[0], point[0], None]
        ys += [est[1], point[1], None]
        numbers += [number, number, None]
        label = f"<b>trial #{number} synthesized</b> ({res.get('producer', '')})<br>" + " · ".join(
            f"{m} {_fmt(v)} (estimate {_fmt(e)})" for m, v, e in zip((x, y), point, est))
        text += [label, label, None]
    if xs:
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name="synthesized (measured)",
                                 customdata=numbers, hovertext=text, hoverinfo="text",
                                 line=dict(color="#333", width=1), marker=dict(
                                     symbol=["circle-open", "diamond", "circle"] * (len(xs) // 3),
                                     size=[0, 10, 0] * (len(xs) // 3), color="#111")))


def pareto_3d(run: RunData):
    go = _go()
    x, quality = default_axes(run)
    metrics = [m for m, _ in run.objectives]
    third = "latency_ns" if "latency_ns" in metrics and x != "latency_ns" else next(
        (m for m in metrics if m not in (x, quality)), "latency_ns")
    title = f"Pareto front in 3-D: {axis_label(quality)}, {axis_label(x)}, {axis_label(third)}"
    if not run.finished:
        return empty_figure("No finished trial yet.", title)
    groups, _ = _points(run, (x, third, quality))
    fig = go.Figure()
    for cat in CATEGORIES:
        pts = groups[cat]
        fig.add_trace(go.Scatter3d(
            x=[p[1][0] for p in pts], y=[p[1][1] for p in pts], z=[p[1][2] for p in pts], mode="markers",
            name=CATEGORY_LABELS[cat], customdata=[p[0]["number"] for p in pts],
            hovertext=[hover_text(run, p[0]) for p in pts], hoverinfo="text",
            marker=dict(color=COLORS[cat], size=6 if cat == "pareto" else 3.5,
                        symbol="x" if cat == "rejected" else "circle", opacity=0.95 if cat == "pareto" else 0.6)))
    for trace in _reference_traces(run, (x, third, quality), three_d=True):
        fig.add_trace(trace)
    fig.update_layout(title=title, scene=dict(xaxis_title=axis_label(x), yaxis_title=axis_label(third),
                                              zaxis_title=axis_label(quality)), height=600, **_LAYOUT)
    return fig


SYNTH_FIELDS = (("lut", "LUT"), ("ff", "FF"), ("dsp", "DSP"), ("latency_cycles", "cycles"))


def synthesis_errors(run: RunData) -> list[dict[str, Any]]:
    """One row per synthesized trial and flow: estimate, measured and relative error per field."""
    rows = []
    for number, syn in sorted(run.synthesis.items()):
        for flow, res in syn.results.items():
            row: dict[str, Any] = {"trial": number, "flow": flow, "bundle": syn.bundle,
                                   "producer": res.get("producer", "")}
            for key, _ in SYNTH_FIELDS:
                est, true = syn.estimate.get(key), res.get(key)
                row[f"est_{key}"], row[f"synth_{key}"] = est, true
                row[f"err_{key}"] = (None if est is None or not true else (float(est) - float(true)) / float(true))
            row["fmax_mhz"] = res.get("fmax_mhz")
            row["latency_ns"] = res.get("latency_ns")
            rows.append(row)
        for flow, error in syn.errors.items():
            rows.append({"trial": number, "flow": flow, "bundle": syn.bundle, "producer": f"failed: {error}"})
    return rows


def estimate_vs_synthesis(run: RunData):
    """Estimated against measured LUT/FF/DSP/cycles per synthesized trial, with the y = x line."""
    go = _go()
    from plotly.subplots import make_subplots
    rows = [r for r in synthesis_errors(run) if "est_lut" in r]
    title = "Estimate vs synthesis"
    if not rows:
        return empty_figure("No synthesized trial: export a Pareto design and synthesize it "
                            "(qnas export RUN --trial N; qnas synth firmware/trial_N), "
                            "or pass --bundles DIR.", title)
    fig = make_subplots(rows=1, cols=len(SYNTH_FIELDS), subplot_titles=[label for _, label in SYNTH_FIELDS])
    flows = sorted({r["flow"] for r in rows})
    for col, (key, label) in enumerate(SYNTH_FIELDS, start=1):
        vals = [float(v) for r in rows for v in (r.get(f"est_{key}"), r.get(f"synth_{key}")) if v is not None]
        if vals:
            lo, hi = min(vals), max(vals)
            fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(color="#aaa", dash="dot"),
                                     showlegend=False, hoverinfo="skip"), row=1, col=col)
        for i, flow in enumerate(flows):
            pts = [r for r in rows if r["flow"] == flow and r.get(f"synth_{key}") is not None]
            fig.add_trace(go.Scatter(
                x=[r[f"synth_{key}"] for r in pts], y=[r[f"est_{key}"] for r in pts], mode="markers",
                name=flow, legendgroup=flow, showlegend=col == 1, customdata=[r["trial"] for r in pts],
                marker=dict(size=10, color=PEER_COLORS[i % len(PEER_COLORS)]),
                hovertext=[f"trial #{r['trial']} ({flow})<br>{label}: estimate {_fmt(float(r[f'est_{key}']))}, "
                           f"measured {_fmt(float(r[f'synth_{key}']))}"
                           + (f", error {r[f'err_{key}']:+.1%}" if r[f"err_{key}"] is not None else "") for r in pts],
                hoverinfo="text"), row=1, col=col)
        fig.update_xaxes(title_text="measured", row=1, col=col)
    fig.update_yaxes(title_text="estimate", row=1, col=1)
    fig.update_layout(title=title, height=380, **_LAYOUT)
    return fig


def hypervolume(run: RunData):
    """Hypervolume of the feasible trials so far (optuna.visualization), against a fixed reference point."""
    title = "Hypervolume over trials"
    complete = [r for r in run.rows if r["state"] == "COMPLETE"]
    if len(complete) < 2 or run.study is None:
        return empty_figure("Hypervolume needs at least two completed trials.", title)
    import optuna
    ref = []
    for i, (metric, direction) in enumerate(run.objectives):
        values = [r[f"objective_{metric}"] for r in complete if r.get(f"objective_{metric}") is not None]
        if direction == "maximize":
            ref.append(min(0.0, min(values)))
        else:
            ref.append(run.limits.get(metric, max(values) * 1.1))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            fig = optuna.visualization.plot_hypervolume_history(run.study, reference_point=ref)
    except (ValueError, RuntimeError) as exc:
        return empty_figure(f"Hypervolume not available: {exc}", title)
    fig.update_layout(title=f"{title} (reference point: " + ", ".join(
        f"{m} {_fmt(float(v))}" for (m, _), v in zip(run.objectives, ref)) + ")", **_LAYOUT)
    return fig


def history(run: RunData):
    """Each objective against trial number, by category, with the best feasible value so far."""
    go = _go()
    from plotly.subplots import make_subplots
    title = "Objective history"
    if not run.finished or not run.objectives:
        return empty_figure("No finished trial yet.", title)
    n = len(run.objectives)
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[axis_label(m) for m, _ in run.objectives])
    for i, (metric, direction) in enumerate(run.objectives, start=1):
        for cat in CATEGORIES:
            pts = [(r["number"], run.metric_value(r, metric)) for r in run.finished if r["category"] == cat]
            pts = [p for p in pts if p[1] is not None]
            fig.add_trace(go.Scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="markers",
                                     name=CATEGORY_LABELS[cat], legendgroup=cat, showlegend=i == 1,
                                     customdata=[p[0] for p in pts],
                                     marker=dict(color=COLORS[cat], symbol=SYMBOLS[cat], size=6)), row=i, col=1)
        best, xs, ys = None, [], []
        for r in run.finished:
            v = r.get(f"objective_{metric}")
            if r["category"] in ("pareto", "dominated") and v is not None:
                best = v if best is None else (max(best, v) if direction == "maximize" else min(best, v))
            if best is not None:
                xs.append(r["number"])
                ys.append(best)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(shape="hv", color="#333", width=1.5),
                                 name="best feasible so far", legendgroup="best", showlegend=i == 1), row=i, col=1)
    fig.update_xaxes(title_text="trial", row=n, col=1)
    fig.update_layout(title=title, height=200 + 180 * n, **_LAYOUT)
    return fig


def rejections(run: RunData):
    """Why candidates did not make the front: violated budget keys, and failures."""
    go = _go()
    title = "Rejections and failures"
    counts: Counter = Counter()
    for r in run.rows:
        if r["category"] == "rejected":
            for key in r["violated"] or ["infeasible (" + (r.get("rejected_by") or "no reason") + ")"]:
                counts[f"rejected before training: {key}"] += 1
        elif r["category"] == "infeasible":
            for key in r["violated"]:
                counts[f"trained, over budget: {key}"] += 1
        elif r["category"] == "failed":
            counts["failed: " + (str(r.get("reason") or "unknown").split(":")[0])[:60]] += 1
    if not counts:
        return empty_figure("No trial was rejected or failed.", title)
    items = counts.most_common()[::-1]
    fig = go.Figure(go.Bar(x=[c for _, c in items], y=[k for k, _ in items], orientation="h",
                           marker_color=COLORS["rejected"]))
    fig.update_layout(title=title, xaxis_title="trials", height=160 + 28 * len(items), **_LAYOUT)
    return fig


def trials_per_hour(run: RunData):
    """Finished trials per hour, binned finer than an hour for short runs (the rate stays per hour)."""
    go = _go()
    import pandas as pd
    title = "Trials finished per hour"
    stamps = [(r["datetime_complete"], r["state"]) for r in run.rows if r.get("datetime_complete")]
    if not stamps:
        return empty_figure("No finished trial yet.", title)
    frame = pd.DataFrame(stamps, columns=["t", "state"])
    frame["t"] = pd.to_datetime(frame["t"])
    span_h = (frame["t"].max() - frame["t"].min()).total_seconds() / 3600
    minutes = next((m for m in (5, 10, 15, 30) if span_h <= m / 60 * 24), 60)
    frame["bin"] = frame["t"].dt.floor(f"{minutes}min")
    fig = go.Figure()
    for state, label, color in (("COMPLETE", "completed", COLORS["dominated"]),
                                ("PRUNED", "rejected before training", COLORS["rejected"]), ("FAIL", "failed", "#333")):
        sub = frame[frame["state"] == state].groupby("bin").size()
        if len(sub):
            fig.add_trace(go.Bar(x=list(sub.index), y=[v * 60 / minutes for v in sub.values], name=label,
                                 marker_color=color, width=minutes * 60_000 * 0.9))
    total = len(frame) / max(span_h, 1e-9) if span_h > 0 else float("nan")
    fig.update_layout(title=f"{title} ({minutes}-minute bins; overall {total:.1f}/h)" if span_h > 0 else title,
                      barmode="stack", xaxis_title="time (UTC)", yaxis_title="trials per hour", **_LAYOUT)
    return fig


def importance(run: RunData):
    """fANOVA parameter importance for each objective (optuna.importance), on completed trials."""
    go = _go()
    title = "Parameter importance per objective"
    complete = [r for r in run.rows if r["state"] == "COMPLETE"]
    if len(complete) < 4 or run.study is None:
        return empty_figure(f"Importance needs at least 4 completed trials ({len(complete)} so far).", title)
    import optuna
    fig = go.Figure()
    per_metric: dict[str, dict[str, float]] = {}
    for i, (metric, _) in enumerate(run.objectives):
        try:
            scores = optuna.importance.get_param_importances(
                run.study, target=lambda t, i=i: t.values[i],
                evaluator=optuna.importance.FanovaImportanceEvaluator(n_trees=16, seed=0))
        except (ValueError, RuntimeError, ZeroDivisionError) as exc:
            return empty_figure(f"Importance not available: {exc}", title)
        per_metric[axis_label(metric)] = scores
    # the parameters that matter for some objective, most important last (top of the chart)
    top = sorted({p for sc in per_metric.values() for p in sc},
                 key=lambda p: max(sc.get(p, 0.0) for sc in per_metric.values()))
    top = [p for p in top if max(sc.get(p, 0.0) for sc in per_metric.values()) >= 0.01][-12:]
    if not top:
        return empty_figure("No parameter varied across the completed trials.", title)
    for i, (label, scores) in enumerate(per_metric.items()):
        fig.add_trace(go.Bar(x=[scores.get(p, 0.0) for p in top], y=top, orientation="h", name=label,
                             marker_color=PEER_COLORS[i % len(PEER_COLORS)]))
    fig.update_layout(title=f"{title} ({len(complete)} completed trials)", barmode="group",
                      xaxis_title="importance (fANOVA, sums to 1 per objective)",
                      height=220 + 16 * len(top) * len(per_metric), **_LAYOUT)
    return fig


#: figure id -> builder, in page order
FIGURES = {"pareto": pareto_2d, "pareto3d": pareto_3d, "synthesis": estimate_vs_synthesis,
           "hypervolume": hypervolume, "history": history, "rejections": rejections,
           "per_hour": trials_per_hour, "importance": importance}


def build_figures(run: RunData, only: Sequence[str] | None = None) -> dict[str, Any]:
    return {key: make(run) for key, make in FIGURES.items() if only is None or key in only}

