"""``qnas report``: one self-contained HTML file (and optionally PNGs) for a run.

The file must open on a laptop on a train: plotly.js is inlined once (not per figure, as
``fig.write_html`` would), figures and trial data travel as JSON blocks, and a small script
(``report.js``) draws them, sorts and filters the trial table and shows a trial's page on
``#trial-N``. PNGs go through kaleido (which drives the system Chromium).

What keeps a 1,000-trial report quick to open (``benchmarks/report_scale.py``): the page
draws only the Pareto figure at load; the others are drawn one per idle moment after the
first paint, or at once when scrolled to. A JSON block is parsed only when its figure, the
table or a trial page is first shown. Each trial's hover text is written once
(``qnas-hover``), not once per figure it appears in: a trace whose hover texts are exactly
its trials' shared texts carries only its ``customdata`` and is filled in by the page. Floats
in figure data are written with 6 significant digits, finer than any axis or hover shows.
"""

from __future__ import annotations

import html
import json
import math
import os
import shutil
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

from qnas._io import write_text_atomic
from qnas.errors import FatalError

from .data import RunData
from .details import TABLE_COLUMNS, summary, table_rows, trial_details
from .figures import FIGURES, axis_label, default_axes, hover_text, pareto_2d, synthesis_errors

__all__ = ["render_report", "write_pngs", "write_report"]

SECTIONS = (("front", "Pareto front", ("pareto", "pareto3d")),
            ("synthesis", "Estimate vs synthesis", ("synthesis",)),
            ("progress", "Search progress", ("hypervolume", "history", "rejections", "per_hour", "importance")))


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text()


def _json_block(block_id: str, value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, separators=(",", ":"))
    return f'<script type="application/json" id="{block_id}">{text.replace("</", "<" + chr(92) + "/")}</script>'


def _round(value: Any) -> Any:
    """Floats to 6 significant digits, recursively (figure JSON only: the trial data keeps its own rounding)."""
    if isinstance(value, float):
        return float(f"{value:.6g}") if math.isfinite(value) else value
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def compact_figure(fig, hover: Mapping[int, str]) -> dict[str, Any]:
    """A figure as a JSON-ready dict with shared hover texts left out (``"_hover": 1`` marks the trace)."""
    data = json.loads(fig.to_json())
    for trace in data.get("data", []):
        numbers, texts = trace.get("customdata"), trace.get("hovertext")
        if (isinstance(numbers, list) and isinstance(texts, list) and len(numbers) == len(texts)
                and all(isinstance(n, int) and hover.get(n) == t for n, t in zip(numbers, texts))):
            del trace["hovertext"]
            trace["_hover"] = 1
    return _round(data)


def axis_pairs(run: RunData) -> list[tuple[str, str]]:
    """Every (x, y) pair of objectives, the default (LUT vs quality) first."""
    x, y = default_axes(run)
    metrics = [m for m, _ in run.objectives]
    pairs = [(x, y)] + [(a, b) for i, b in enumerate(metrics) for a in metrics[i + 1:] if (a, b) != (x, y)
                        and (b, a) != (x, y)]
    return pairs


def _opt(value: Any, spec: str) -> str:
    return "" if not value else format(value, spec)


def _synthesis_table(run: RunData) -> str:
    rows = synthesis_errors(run)
    if not rows:
        return ""
    head = ["trial", "flow", "LUT est / synth / err", "FF est / synth / err", "DSP est / synth", "cycles est / synth",
            "latency ns", "Fmax MHz", "producer"]

    def triple(r, key, err=True):
        if r.get(f"synth_{key}") is None:
            return ""
        text = f"{r[f'est_{key}']:,.0f} / {r[f'synth_{key}']:,.0f}"
        return text + (f" / {r[f'err_{key}']:+.1%}" if err and r.get(f"err_{key}") is not None else "")

    body = "".join(
        f"<tr><td><a class='trial' href='#trial-{r['trial']}'>#{r['trial']}</a></td><td>{html.escape(r['flow'])}</td>"
        f"<td class='num'>{triple(r, 'lut')}</td><td class='num'>{triple(r, 'ff')}</td>"
        f"<td class='num'>{triple(r, 'dsp', False)}</td><td class='num'>{triple(r, 'latency_cycles', False)}</td>"
        f"<td class='num'>{_opt(r.get('latency_ns'), '.1f')}</td><td class='num'>{_opt(r.get('fmax_mhz'), '.0f')}</td>"
        f"<td>{html.escape(str(r.get('producer', '')))}</td></tr>" for r in rows)
    errs = [abs(r[f"err_{k}"]) for r in rows for k in ("lut", "ff") if r.get(f"err_{k}") is not None]
    mean = f"<p>mean absolute LUT/FF error over {len(rows)} result(s): {sum(errs) / len(errs):.1%}</p>" if errs else ""
    return (mean + "<div class='tablewrap'><table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head)
            + f"</tr></thead><tbody>{body}</tbody></table></div>")


def render_report(run: RunData, axes: tuple[str, str] | None = None) -> str:
    """The report as one HTML string."""
    from plotly.offline import get_plotlyjs
    figures = {key: make(run) for key, make in FIGURES.items()}
    pairs = axis_pairs(run)
    if axes and axes not in pairs:
        pairs.insert(0, axes)
    elif axes:
        pairs.remove(axes)
        pairs.insert(0, axes)
    hover = {r["number"]: hover_text(run, r) for r in run.finished}
    blocks = [_json_block("qnas-hover", hover)]
    for i, (x, y) in enumerate(pairs):
        fig = figures["pareto"] if i == 0 and (x, y) == default_axes(run) else pareto_2d(run, x, y)
        blocks.append(_json_block(f"fig-pareto-{i}", compact_figure(fig, hover)))
    blocks += [_json_block(f"fig-{key}", compact_figure(fig, hover)) for key, fig in figures.items() if key != "pareto"]
    details = {r["number"]: trial_details(run, r["number"]) for r in run.rows}
    blocks += [_json_block("qnas-trials", details), _json_block("qnas-table", table_rows(run)),
               _json_block("qnas-columns", [list(c) for c in TABLE_COLUMNS])]
    info = summary(run)
    counts = " · ".join(f"{k}: {v}" for k, v in info["counts"].items()) or "no trial yet"
    limits = ", ".join(f"{axis_label(k).split(' (')[0]} ≤ {v:,.6g}" for k, v in info["limits"].items()) or "none"
    notes = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in run.notes)
    if not run.rows:
        notes += "<p class='note'>This study has no trial yet: run it (or wait for its first trial).</p>"
    elif not any(r["state"] == "COMPLETE" for r in run.rows):
        notes += ("<p class='note'>No trial completed: every candidate so far was rejected or failed "
                  "(see Search progress → Rejections and the table's reason column).</p>")
    select = ("<label class='controls'>axes: <select id='pareto-axes'>" + "".join(
        f"<option value='fig-pareto-{i}'>{html.escape(axis_label(y))} vs {html.escape(axis_label(x))}</option>"
        for i, (x, y) in enumerate(pairs)) + "</select></label>") if len(pairs) > 1 else ""
    sections = []
    for sid, title, keys in SECTIONS:
        divs = []
        for key in keys:
            block = "fig-pareto-0" if key == "pareto" else f"fig-{key}"
            div_id = "fig-pareto" if key == "pareto" else f"fig-{key}-div"
            divs.append(f"<div class='fig' id='{div_id}' data-fig='{block}'></div>")
        extra = (select if sid == "front" else _synthesis_table(run) if sid == "synthesis" else "")
        sections.append(f"<section id='{sid}'><h2>{title}</h2>{extra}{''.join(divs)}</section>")
    table = ("<section id='trials'><h2>Trials</h2><div class='controls'><input id='table-filter' "
             "placeholder='filter: e.g. pareto 64 ternary'> <button id='table-csv'>download CSV</button> "
             "<span id='table-count'></span></div><div class='tablewrap'><table id='trial-table'><thead><tr></tr>"
             "</thead><tbody></tbody></table></div></section>")
    title = f"qnas report: {run.name}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{_asset("report.css")}</style>
<script>{get_plotlyjs()}</script>
</head><body data-study="{html.escape(run.name)}">
<header><h1>{html.escape(title)}</h1><div class="meta">storage {html.escape(run.url)} · part {html.escape(run.part)}
 @ {run.clock_ns:g} ns · objectives {html.escape(", ".join(info["objectives"]))} · budget {html.escape(limits)}<br>
 {len(run.rows)} trials: {html.escape(counts)} · {len(run.pareto)} Pareto designs · {len(run.synthesis)} synthesized</div></header>
<nav><a href="#front">Pareto front</a><a href="#synthesis">Estimate vs synthesis</a><a href="#progress">Search progress</a>
<a href="#trials">Trials</a></nav>
<main><div id="overview">{notes}{''.join(sections)}{table}</div><div id="trial-page"></div></main>
{''.join(blocks)}
<script>{_asset("report.js")}</script>
</body></html>
"""


def write_report(run: RunData, out: str | Path, axes: tuple[str, str] | None = None) -> Path:
    out = Path(out)
    write_text_atomic(out, render_report(run, axes))
    return out


def _browser() -> None:
    """kaleido 1.x drives a Chrome; point it at the system Chromium unless told otherwise."""
    if not os.environ.get("BROWSER_PATH"):
        found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if found:
            os.environ["BROWSER_PATH"] = found


def write_pngs(run: RunData, folder: str | Path, only: Sequence[str] | None = None,
               width: int = 1100, height: int | None = None) -> list[Path]:
    """The report's figures as PNG files (one kaleido session for all of them)."""
    from qnas._imports import require
    require("kaleido", "dashboard")
    import plotly.io as pio
    _browser()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figs, paths = [], []
    for key, make in FIGURES.items():
        if only is None or key in only:
            fig = make(run)
            figs.append(fig)
            paths.append(folder / f"{key}.png")
    pio.write_images(figs, paths, width=width, height=height, scale=1)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FatalError(f"kaleido wrote no image for {', '.join(missing)}; check that Chromium runs "
                         "(BROWSER_PATH=/usr/bin/chromium) and try again")
    return paths
