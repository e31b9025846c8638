"""Does ``qnas report`` stay usable at 1,000 trials? File size and load time in headless Chromium.

Builds a synthetic study with the real trial code path (``nas._trial.TrialRunner`` under
``nas.study._run_trial``: real search-space sampling, estimator pre-check, budget
constraints and trial attributes) and the driver tests' cheap trainer in place of QKeras,
in memory, then copies it into a real SQLite storage (``optuna.copy_study``). It renders the
report with ``qnas report``'s code and opens it in Debian's Chromium (Playwright), timing:

* ``first_view_s``: navigation start until the Pareto plot is drawn and its frame produced,
  as the page itself marks it (``performance.mark("qnas-first-view")`` in ``report.js``);
* ``first_view_poll_s``: until Playwright, polling every 50 ms after ``goto`` returned, sees the
  plot (the measure used before the mark existed; on a loaded machine it adds seconds of
  harness round trips after the page is done, so it is an upper bound);
* ``all_figures_s``: until every figure is drawn (scrolled through);
* the same for a baseline page measured in the same run: plotly.js inlined with one empty plot
  (the cost any offline plotly page pays), marked the same way, so the ratio shows what the
  report adds.

    python benchmarks/report_scale.py --trials 1000 [--json benchmarks/results/report_scale.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "nas"))  # the driver tests' cheap trainer

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def build_study(n_trials: int, out: Path, seed: int = 0) -> Path:
    """``n_trials`` real-schema trials in ``out/study.db`` (in memory first, then copied)."""
    import optuna
    from tqdm import tqdm
    from _study_helpers import FakeTrainer, small_study
    from nas._trial import TrialRunner
    from nas.config import StudyConfig
    from nas.datasets import load_dataset
    from nas.study import _run_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    config = StudyConfig.from_dict(small_study(
        name="scale", n_trials=n_trials, seed=seed,
        search_space={"family": "mlp", "depth": [1, 2, 3], "width": [4, 8, 16, 32],
                      "weight_bits": [8, 6, 4, "ternary", "binary"], "activation_bits": [6, 8],
                      "reuse_factor": [1, 2, 4], "strategy": ["latency", "resource"]},
        budget={"part": "xcvu13p", "clock_ns": 5.0, "max_lut": 0.01, "max_latency_ns": 200}))
    run_dir = out / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset(config.dataset.name, config.dataset.options, seed)
    study = optuna.create_study(study_name=config.name, directions=config.directions,
                                sampler=optuna.samplers.RandomSampler(seed=seed))
    for key, value in {"objectives": [o.metric for o in config.objectives], "directions": config.directions,
                       "dataset": config.dataset.name, "seed": seed, "part": config.budget.part.name,
                       "clock_ns": config.budget.clock_ns, "run_dir": str(run_dir.resolve()),
                       "study_file": ""}.items():
        study.set_user_attr(key, value)
    runner = TrialRunner(config, dataset, FakeTrainer(), run_dir, {})
    start = time.time()
    for _ in tqdm(range(n_trials), desc="synthetic trials", mininterval=2):
        trial = study.ask()

        def work(trial=trial):  # what the driver does with a claimed trial: draw, then evaluate
            return runner.evaluate(trial, runner.draw(trial))
        _run_trial(study, trial, work)
    from nas._storage import default_storage, open_storage
    url = default_storage(run_dir)  # WAL, as `qnas run` writes it
    optuna.copy_study(from_study_name=config.name, from_storage=study._storage, to_storage=open_storage(url))
    print(f"built {n_trials} trials in {time.time() - start:.0f} s -> {url}")
    return run_dir


def _baseline_page(path: Path) -> Path:
    from plotly.offline import get_plotlyjs
    path.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><script>" + get_plotlyjs() + "</script></head>"
                    "<body><div id='fig-pareto'></div><script>Plotly.newPlot('fig-pareto', [{x: [1], y: [1]}])"
                    ".then(() => { document.body.dataset.ready = '1'; requestAnimationFrame(() => setTimeout(() => "
                    "performance.mark('qnas-first-view'), 0)); });</script></body></html>")
    return path


def time_page(browser, path: Path, scroll: bool) -> dict:
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), timeout=300_000)
    page.wait_for_function("document.body.dataset.ready === '1' && document.querySelector('#fig-pareto .main-svg')",
                           timeout=120_000, polling=50)
    poll = page.evaluate("performance.now()") / 1000
    page.wait_for_function("performance.getEntriesByName('qnas-first-view').length", timeout=120_000, polling=50)
    first = page.evaluate("performance.getEntriesByName('qnas-first-view')[0].startTime") / 1000
    out = {"first_view_s": round(first, 3), "first_view_poll_s": round(poll, 3)}
    if scroll:
        total = page.evaluate("document.querySelectorAll('div.fig[data-fig]').length")
        for div in range(total):
            page.evaluate(f"document.querySelectorAll('div.fig[data-fig]')[{div}].scrollIntoView()")
        page.wait_for_function(f"document.querySelectorAll('div.fig[data-fig] .main-svg').length >= {total}",
                               timeout=120_000, polling=50)
        out["all_figures_s"] = round(page.evaluate("performance.now()") / 1000, 3)
        out["n_figures"] = total
    out["console_errors"] = errors
    page.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", type=Path, help="keep the run directory here (default: a temp dir)")
    parser.add_argument("--from-run", type=Path, help="reuse a run directory built by an earlier --keep")
    parser.add_argument("--repeats", type=int, default=3, help="page loads per page (median reported)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from studies.dashboard import load_run, write_report

    tmp = Path(tempfile.mkdtemp(prefix="qnas-report-scale-"))
    try:
        run_dir = args.from_run or build_study(args.trials, args.keep or tmp)
        t0 = time.time()
        run = load_run(str(run_dir))
        load_s = time.time() - t0
        t0 = time.time()
        report = write_report(run, tmp / "report.html")
        render_s = time.time() - t0
        print(f"report: {report.stat().st_size / 1e6:.2f} MB, written in {render_s:.1f} s", flush=True)
        baseline = _baseline_page(tmp / "baseline.html")
        chromium = os.environ.get("QNAS_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            time_page(browser, baseline, scroll=False)  # warm the browser's caches for both
            rep = [time_page(browser, report, scroll=True) for _ in range(args.repeats)]
            base = [time_page(browser, baseline, scroll=False) for _ in range(args.repeats)]
            browser.close()
        med = lambda rows, key: sorted(r[key] for r in rows)[len(rows) // 2]  # noqa: E731
        result = {
            "n_trials": len(run.rows), "n_pareto": len(run.pareto),
            "n_rejected": sum(r["category"] == "rejected" for r in run.rows),
            "report_bytes": report.stat().st_size, "baseline_bytes": baseline.stat().st_size,
            "load_run_s": round(load_s, 2), "write_report_s": round(render_s, 2),
            "first_view_s": med(rep, "first_view_s"), "all_figures_s": med(rep, "all_figures_s"),
            "first_view_poll_s": med(rep, "first_view_poll_s"),
            "baseline_first_view_s": med(base, "first_view_s"),
            "baseline_first_view_poll_s": med(base, "first_view_poll_s"),
            "first_view_vs_baseline": round(med(rep, "first_view_s") / med(base, "first_view_s"), 2),
            "console_errors": sorted({e for r in rep for e in r["console_errors"]}), "repeats": args.repeats,
            "load_average_1min": round(os.getloadavg()[0], 1),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2))
    print(f"report of {result['n_trials']} trials: {result['report_bytes'] / 1e6:.2f} MB (limit 10), first view "
          f"{result['first_view_s']:.2f} s (limit 3; baseline plotly-only page {result['baseline_first_view_s']:.2f} s, "
          f"x{result['first_view_vs_baseline']}), all {result.get('all_figures_s', 0):.2f} s; polled from outside: "
          f"{result['first_view_poll_s']:.2f} s vs {result['baseline_first_view_poll_s']:.2f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["report_bytes"] < 10e6 and not result["console_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
