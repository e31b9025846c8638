"""``qnas dashboard``: the report's views, live, as a Dash app that polls the study's storage.

Why Dash: it is plotly's own framework, so the figures of :mod:`.figures` are used as they
are; it serves its JavaScript from the installed package (no network); its DataTable does
sorting, filtering and CSV download; and a ``dcc.Interval`` is all a live view needs.
optuna-dashboard was the alternative (it already opens a qnas study), but its pages are
its own: plotly figures can only be attached beside them, not replace its front with one
that knows budgets, references and synthesis, nor link points to qnas trial pages.

The app only reads: SQLite storages are opened ``mode=ro`` (see :mod:`.data`), so it is
safe to point at a study that another process, or another machine sharing the storage, is
running. Every ``refresh_s`` it compares the storage's trial count and latest finish time
with what it shows and rebuilds the figures only when they changed; ``uirevision`` keeps a
user's zoom across refreshes.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Sequence

from .data import RunData
from .details import TABLE_COLUMNS, summary, table_rows, trial_details
from .figures import FIGURES, axis_label, default_axes, pareto_2d, synthesis_errors

__all__ = ["create_app", "views"]

GRAPHS = tuple(FIGURES)


def _kv(html, data: dict) -> Any:
    return html.Table([html.Tr([html.Th(str(k)), html.Td(_fmt(v), className="num")]) for k, v in data.items()])


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    return str(v)


def _grid(html, rows: Sequence[dict], cols: Sequence[str]) -> Any:
    if not rows:
        return html.P("none", className="empty")
    head = html.Tr([html.Th(c) for c in cols])
    body = [html.Tr([html.Td(f"{100 * r[c]:+.1f} %" if c.endswith("error") and r.get(c) is not None else _fmt(r.get(c)))
                     for c in cols]) for r in rows]
    return html.Table([head, *body])


def trial_page(html, dcc, details: dict | None, number: int) -> Any:
    if details is None:
        return html.Div([dcc.Link("← overview", href="/"), html.P(f"No trial #{number} in this study.")])
    d = details
    layer_cols = ["layer", "in", "units", "weight", "bias_bits", "activation", "reuse_factor"]
    if any("sparsity" in layer for layer in d["layers"]):
        layer_cols.append("sparsity")
    import json
    return html.Section([
        dcc.Link("← overview", href="/"),
        html.H2([f"Trial #{d['number']} ", html.Span(d["category"], className=f"pill {d['kind']}")]),
        html.P(html.B(d["architecture"])),
        html.P(d["reason"], className="note") if d["reason"] else None,
        html.Div([html.Div([html.H3("Objectives"), _kv(html, d["objectives"]), html.H3("Metrics"),
                            _kv(html, d["metrics"])]),
                  html.Div([html.H3(f"Estimate ({d['estimator']}, {d['estimate_stage']})"), _kv(html, d["estimate"]),
                            html.H3("Budget constraints (≤ 0 fits)"), _kv(html, d["constraints"])])],
                 className="row"),
        html.H3("Layers"), _grid(html, d["layers"], layer_cols),
        html.H3("Estimate vs synthesis"),
        _grid(html, d["synthesis"], ["flow", "field", "estimate", "synthesis", "error"]) if d["synthesis"]
        else html.P("not synthesized", className="empty"),
        html.H3("Files and commands"),
        html.P(["trained model: ", html.Code(d["artifacts"])]) if d["artifacts"] else html.P("no trained model"),
        html.P(["firmware bundle: ", html.Code(d["bundle"])]) if d["bundle"] else None,
        html.P(["export: ", html.Code(d["export"], className="cmd")]) if d["export"] else None,
        html.P(["synthesize: ", html.Code(d["synth"], className="cmd")]) if d["synth"] else None,
        html.H3("Spec"), html.Pre(json.dumps(d["spec"], indent=2)),
    ], id="trial-detail")


def views(run: RunData, x: str, y: str) -> list:
    """Every refreshed output: figures, table rows, header, notes, synthesis table."""
    from dash import html
    figs = []
    for key in GRAPHS:
        fig = pareto_2d(run, x, y) if key == "pareto" else FIGURES[key](run)
        fig.update_layout(uirevision=key)
        figs.append(fig)
    info = summary(run)
    counts = " · ".join(f"{k}: {v}" for k, v in info["counts"].items()) or "no trial yet"
    meta = (f"storage {run.url} · part {run.part} @ {run.clock_ns:g} ns · {len(run.rows)} trials ({counts}) · "
            f"{len(run.pareto)} Pareto designs · {len(run.synthesis)} synthesized · read-only")
    notes = [html.P(n, className="note") for n in run.notes]
    if not run.rows:
        notes.append(html.P("This study has no trial yet; the page fills in as trials finish.", className="note"))
    elif not any(r["state"] == "COMPLETE" for r in run.rows):
        notes.append(html.P("No trial completed: every candidate so far was rejected or failed.", className="note"))
    rows = synthesis_errors(run)
    synth = _grid(html, [{"trial": r["trial"], "flow": r["flow"], **{f"{k} error": r.get(f"err_{k}")
                                                                       for k in ("lut", "ff")}}
                         for r in rows if "est_lut" in r], ["trial", "flow", "lut error", "ff error"]) if rows else None
    meta += f" · updated {time.strftime('%H:%M:%S')}"
    return figs + [table_rows(run), meta, notes, synth]


def create_app(source, refresh_s: float = 5.0):
    """A Dash app showing ``source`` (a :class:`studies.dashboard.data.RunSource`), polled every ``refresh_s``.

    A poll costs one read of the trial list (:meth:`RunSource.signature`); the run is
    loaded again and the figures rebuilt only when that changed.
    """
    from qnas._imports import require
    dash = require("dash", "dashboard")
    from dash import Input, Output, State, dash_table, dcc, html, no_update
    from importlib import resources

    first = source.load()
    app = dash.Dash(__name__, title=f"qnas dashboard: {first.name}", update_title=None,
                    suppress_callback_exceptions=True)
    app.index_string = app.index_string.replace(
        "{%css%}", "{%css%}<style>" + resources.files(__package__).joinpath("report.css").read_text()
        + "#trial-page{display:block}</style>")
    lock = threading.Lock()
    cache: dict[str, Any] = {"run": first, "sig": source.signature()}

    def current() -> tuple[RunData, list]:
        """The run and its signature; loaded again only when the signature changed."""
        with lock:
            sig = source.signature()
            if sig != cache["sig"]:
                cache["run"], cache["sig"] = source.load(), sig
            return cache["run"], cache["sig"]

    metrics = [m for m, _ in first.objectives]
    x0, y0 = default_axes(first) if metrics else ("lut", "accuracy")
    options = [{"label": axis_label(m), "value": m} for m in dict.fromkeys(metrics + ["ff", "n_params"])]
    initial = views(first, x0, y0)
    figures = dict(zip(GRAPHS, initial[:len(GRAPHS)]))
    graph = lambda key: dcc.Graph(id=f"g-{key}", figure=figures[key], className="fig",  # noqa: E731
                                  config={"displaylogo": False})
    overview = html.Div([
        html.Div(initial[-2], id="notes"),
        html.Section([html.H2("Pareto front"), html.Div([
            "x ", dcc.Dropdown(options, x0, id="axis-x", clearable=False, style={"width": "260px"}),
            " y ", dcc.Dropdown(options, y0, id="axis-y", clearable=False, style={"width": "260px"})],
            className="controls", style={"display": "flex", "gap": "8px", "alignItems": "center"}),
            graph("pareto"), graph("pareto3d")], id="front"),
        html.Section([html.H2("Estimate vs synthesis"), html.Div(initial[-1], id="synth-table"), graph("synthesis")],
                     id="synthesis"),
        html.Section([html.H2("Search progress")] + [graph(k) for k in GRAPHS if k not in
                                                     ("pareto", "pareto3d", "synthesis")], id="progress"),
        html.Section([html.H2("Trials"), dash_table.DataTable(
            id="table", data=initial[-4], columns=[{"name": label, "id": key} for key, label in TABLE_COLUMNS],
            sort_action="native", filter_action="native", page_size=25, export_format="csv",
            style_table={"overflowX": "auto"}, style_cell={"fontSize": 12, "textAlign": "left",
                                                           "maxWidth": 380, "overflow": "hidden",
                                                           "textOverflow": "ellipsis"})], id="trials"),
    ], id="overview")
    app.layout = html.Div([
        dcc.Location(id="url"), dcc.Interval(id="tick", interval=int(refresh_s * 1000)),
        dcc.Store(id="shown", data=cache["sig"] + [x0, y0]),
        html.Header([html.H1(f"qnas dashboard: {first.name}"), html.Div(initial[-3], id="meta", className="meta")]),
        html.Nav([dcc.Link("Overview", href="/"), html.A("Pareto front", href="/#front"),
                  html.A("Search progress", href="/#progress"), html.A("Trials", href="/#trials")]),
        html.Main([overview, html.Div(id="trial-page")]),
    ])

    built: dict[str, Any] = {}
    build_lock = threading.Lock()
    outputs = [Output(f"g-{k}", "figure") for k in GRAPHS] + [
        Output("table", "data"), Output("meta", "children"), Output("notes", "children"),
        Output("synth-table", "children"), Output("shown", "data")]

    @app.callback(*outputs, Input("tick", "n_intervals"), Input("axis-x", "value"), Input("axis-y", "value"),
                  State("shown", "data"), prevent_initial_call=True)
    def refresh(_n, x, y, shown):
        run, sig = current()
        key = sig + [x, y]
        if key == shown:
            return [no_update] * len(outputs)
        # Ticks keep coming while a slow machine builds the figures, and Dash drops the answer
        # to a superseded request: build once per state, answer every later tick from the cache.
        with build_lock:
            if built.get("key") != key:
                built["key"], built["value"] = key, views(run, x, y) + [key]
            return built["value"]

    @app.callback(Output("url", "pathname"), [Input(f"g-{k}", "clickData") for k in ("pareto", "pareto3d",
                                                                                       "history", "synthesis")],
                  prevent_initial_call=True)
    def open_trial(*clicks):
        trig = dash.callback_context.triggered
        data = trig[0]["value"] if trig else None
        point = (data or {}).get("points", [{}])[0]
        number = point.get("customdata")
        if isinstance(number, list):
            number = number[0]
        return f"/trial/{int(number)}" if number is not None else no_update

    @app.callback(Output("overview", "style"), Output("trial-page", "children"), Input("url", "pathname"))
    def route(path):
        path = path or "/"
        if path.startswith("/trial/"):
            try:
                number = int(path.rsplit("/", 1)[1])
            except ValueError:
                number = -1
            return {"display": "none"}, trial_page(html, dcc, trial_details(current()[0], number), number)
        return {}, None

    return app
