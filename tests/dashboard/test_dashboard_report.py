"""``qnas report``: one offline file, references and empty states, PNGs; ``qnas dashboard`` flags."""

import json
import re

import optuna
import pytest

from _dash_helpers import make_run
from qnas.cli import main
from studies.dashboard import load_run, render_report
from studies.dashboard.figures import build_figures, pareto_2d


def _blocks(text):
    return {m.group(1): m.group(2) for m in re.finditer(r'<script type="application/json" id="([^"]+)">(.*?)</script>',
                                                          text, re.S)}


def test_report_is_one_offline_file_with_plotly_inlined_once(mixed_run, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(mixed_run), "--out", str(out)]) == 0
    assert "Pareto designs" in capsys.readouterr().out
    text = out.read_text()
    assert text.count("plotly.js v") >= 1 and len(re.findall(r"<script>/\*\*\s*\n?\s*\* plotly.js", text)) == 1
    assert not re.search(r'<script[^>]+src=', text) and not re.search(r'<link[^>]+href=', text)
    blocks = _blocks(text)
    trials = json.loads(blocks["qnas-trials"])
    run = load_run(str(mixed_run))
    assert sorted(map(int, trials)) == [r["number"] for r in run.rows]
    fig = json.loads(blocks["fig-pareto-0"])
    pareto = next(t for t in fig["data"] if t["name"] == "Pareto design")
    assert sorted(pareto["customdata"]) == run.pareto
    n = run.pareto[0]
    assert trials[str(n)]["export"].startswith(f"qnas export {mixed_run}")
    assert f"--trial {n}" in trials[str(n)]["export"]


def test_default_report_location_is_the_run_directory(mixed_run):
    assert main(["report", str(mixed_run)]) == 0
    assert (mixed_run / "report.html").stat().st_size > 1e6


def test_reference_points_are_drawn_on_the_study_axes(mixed_run, tmp_path):
    ref = tmp_path / "refs.yaml"
    ref.write_text("references:\n  - name: hand-made\n    spec: {widths: [64, 16, 10], weight_bits: 6}\n"
                   "    metrics: {accuracy: 0.8}\n")
    run = load_run(str(mixed_run), references=[ref])
    (placed,) = run.references
    assert placed.values["accuracy"] == 0.8 and placed.values["lut"] > 0 and "estimated by" in placed.how
    fig = pareto_2d(run)
    trace = next(t for t in fig.data if "hand-made" in t.name)
    assert list(trace.x) == [placed.values["lut"]] and list(trace.y) == [0.8]


def test_every_view_has_an_empty_state(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    optuna.create_study(study_name="nothing", storage=url, directions=["maximize", "minimize"])
    run = load_run(url)
    figs = build_figures(run)
    for key, fig in figs.items():
        assert fig.layout.annotations, f"{key} should say why it is empty"
    assert "no trial yet" in render_report(run)


def test_a_study_whose_trials_were_all_rejected_still_reports(tmp_path):
    run_dir = make_run(tmp_path, n_trials=3, max_lut=0.00001)
    run = load_run(str(run_dir))
    assert {r["category"] for r in run.rows} == {"rejected"} and run.pareto == []
    text = render_report(run)
    assert "No trial completed" in text
    rejections = build_figures(run, ["rejections"])["rejections"]
    assert sum(rejections.data[0].x) == 3


def test_a_single_trial_reports(tmp_path):
    run = load_run(str(make_run(tmp_path, n_trials=1)))
    figs = build_figures(run)
    assert [t for t in figs["pareto"].data if t.name == "Pareto design"][0].customdata == (0,)
    assert figs["hypervolume"].layout.annotations  # needs two trials: says so


def test_several_studies_are_listed_by_the_cli(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'multi.db'}"
    for name in ("alpha", "beta"):
        optuna.create_study(study_name=name, storage=url)
    assert main(["report", url]) == 2
    err = capsys.readouterr().err
    assert "holds 2 studies" in err and "  alpha" in err and "--study" in err


def test_not_a_run_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "expects a run directory written by `qnas run`" in capsys.readouterr().err


def test_dashboard_binds_elsewhere_only_when_asked(mixed_run, capsys):
    assert main(["dashboard", str(mixed_run), "--host", "0.0.0.0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


@pytest.mark.slow  # kaleido starts a Chromium of its own: seconds on a quiet machine, minutes on a loaded one
def test_png_figures(mixed_run, tmp_path):
    pytest.importorskip("kaleido")
    from studies.dashboard.static import write_pngs
    paths = write_pngs(load_run(str(mixed_run)), tmp_path, only=["pareto"])
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_hover_texts_are_written_once_and_figure_floats_rounded(mixed_run):
    from studies.dashboard.figures import hover_text
    run = load_run(str(mixed_run))
    blocks = _blocks(render_report(run))
    hover = json.loads(blocks["qnas-hover"])
    assert hover == {str(r["number"]): hover_text(run, r) for r in run.finished}
    for key in ("fig-pareto-0", "fig-pareto3d"):
        traces = json.loads(blocks[key])["data"]
        marked = [t for t in traces if t.get("_hover")]
        assert {t["name"] for t in marked} >= {"Pareto design", "dominated"}
        assert all("hovertext" not in t for t in marked)
    # each architecture hover is in the shared block only, not again in the 2-D and 3-D fronts
    in_hover = sum(h.count("weight bits") for h in hover.values())
    assert in_hover and sum(text.count("weight bits") for text in blocks.values()) == in_hover
    pareto = next(t for t in json.loads(blocks["fig-pareto-0"])["data"] if t["name"] == "Pareto design")
    assert pareto["y"] and all(float(f"{v:.6g}") == v for v in pareto["y"] + pareto["x"])
