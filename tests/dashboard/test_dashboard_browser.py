"""The report and the live dashboard as a person sees them, in headless Chromium (Playwright).

Debian's chromium is used (no browser can be downloaded here). Every page is checked for
console errors and for requests leaving the machine; screenshots go to tests/_artifacts/.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _dash_helpers import make_run
from studies.dashboard import load_run, write_report

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("QNAS_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A page that records console errors, page errors and any request that leaves the machine."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1300, "height": 900})
        self.errors, self.remote = [], []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.remote.append(r.url) if not r.url.startswith(
            ("file:", "data:", "blob:", "http://127.0.0.1")) else None)

    def point(self, div: str, trace_name: str, number: int) -> tuple[float, float]:
        """Page coordinates of trial ``number`` in the named trace of a 2-D plotly graph."""
        return tuple(self.page.evaluate("""([div, name, n]) => {
            const el = document.querySelector(div);
            const gd = el.matches('.js-plotly-plot') ? el : el.querySelector('.js-plotly-plot');
            const t = gd.data.find(t => t.name === name); const i = t.customdata.indexOf(n);
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
            return [box.left + xa._offset + xa.l2p(t.x[i]), box.top + ya._offset + ya.l2p(t.y[i])]; }""",
                                        [div, trace_name, number]))

    def trace(self, div: str, name: str) -> list:
        return self.page.evaluate("""([div, name]) => { const el = document.querySelector(div);
            const gd = el.matches('.js-plotly-plot') ? el : el.querySelector('.js-plotly-plot'); const t = gd.data.find(t => t.name === name); return t ? t.customdata : null; }""",
                                  [div, name])


def _hover_and_click(p: Page, div: str, run, artifacts_dir: str, prefix: str) -> int:
    number = run.pareto[0]
    row = run.row(number)
    x, y = p.point(div, "Pareto design", number)
    p.page.mouse.move(x, y)
    hover = p.page.locator(".hoverlayer .hovertext")
    hover.first.wait_for(timeout=10_000)
    text = hover.first.text_content()
    widths = "-".join(str(w) for w in [row["spec_dict"]["n_inputs"]] + [l["units"] for l in row["layers"]])
    assert f"trial #{number}" in text and f"widths {widths}" in text and "weight bits" in text, text
    p.page.screenshot(path=os.path.join(artifacts_dir, f"{prefix}-hover.png"))
    p.page.mouse.click(x, y)
    return number


def test_report_in_a_browser(browser, mixed_run, tmp_path, artifacts_dir):
    run = load_run(str(mixed_run))
    path = write_report(run, tmp_path / "report.html")
    p = Page(browser)
    p.page.goto(path.as_uri())
    p.page.wait_for_selector("#fig-pareto .main-svg", timeout=30_000)
    assert sorted(p.trace("#fig-pareto", "Pareto design")) == run.pareto
    p.page.screenshot(path=os.path.join(artifacts_dir, "report.png"), full_page=True)
    number = _hover_and_click(p, "#fig-pareto", run, artifacts_dir, "report")
    p.page.wait_for_function(f"location.hash === '#trial-{number}'")
    page = p.page.locator("#trial-page")
    page.wait_for(state="visible")
    assert f"Trial #{number}" in page.text_content() and "qnas export" in page.text_content()
    assert p.page.locator("#overview").is_hidden()
    p.page.screenshot(path=os.path.join(artifacts_dir, "report-trial.png"), full_page=True)
    # the table sorts and filters
    p.page.go_back()
    p.page.fill("#table-filter", "pareto")
    assert p.page.locator("#table-count").text_content() == f"{len(run.pareto)} of {len(run.rows)} trials"
    assert p.errors == [] and p.remote == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_live_dashboard_follows_a_running_study(browser, tmp_path, artifacts_dir):
    root = tmp_path / "live"
    run_dir = make_run(root, n_trials=6, max_lut=0.006)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                        os.environ.get("PYTHONPATH", "")])}
    server = subprocess.Popen([sys.executable, "-m", "qnas.cli", "dashboard", str(run_dir), "--port", str(port),
                               "--refresh", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        p = Page(browser)
        deadline = time.time() + 90
        while True:
            try:
                p.page.goto(f"http://127.0.0.1:{port}/")
                break
            except sync_api.Error:
                if server.poll() is not None or time.time() > deadline:
                    raise AssertionError(f"dashboard did not start: {server.stdout.read() if server.poll() is not None else ''}")
                time.sleep(1)
        p.page.wait_for_selector("#g-pareto .main-svg", timeout=60_000)
        run = load_run(str(run_dir))
        assert sorted(p.trace("#g-pareto", "Pareto design")) == run.pareto
        meta = p.page.locator("#meta")
        assert "6 trials" in meta.text_content()
        number = _hover_and_click(p, "#g-pareto", run, artifacts_dir, "live")
        p.page.wait_for_url(f"**/trial/{number}")
        p.page.wait_for_selector("#trial-detail")
        assert f"Trial #{number}" in p.page.locator("#trial-detail").text_content()
        p.page.screenshot(path=os.path.join(artifacts_dir, "live-trial.png"), full_page=True)
        p.page.click("text=← overview")
        # another process finishes more trials: the open page picks them up
        make_run(root, n_trials=8, resume=True, max_lut=0.006)
        p.page.wait_for_function("document.querySelector('#meta').textContent.includes('8 trials')", timeout=120_000)
        after = load_run(str(run_dir))
        p.page.wait_for_function(
            """n => { const gd = document.querySelector('#g-pareto .js-plotly-plot');
                      const t = gd.data.find(t => t.name === 'Pareto design'); return t.customdata.length === n; }""",
            arg=len(after.pareto), timeout=30_000)
        assert sorted(p.trace("#g-pareto", "Pareto design")) == after.pareto
        p.page.screenshot(path=os.path.join(artifacts_dir, "live.png"), full_page=True)
        assert p.errors == [] and p.remote == []
    finally:
        server.terminate()
        server.wait(timeout=30)


def _drawn(p: Page) -> list[str]:
    return p.page.evaluate("Array.from(document.querySelectorAll('div.fig[data-fig]'))"
                           ".filter(d => d.querySelector('.main-svg')).map(d => d.id)")


def test_report_draws_the_front_first_and_the_rest_when_scrolled_to(browser, mixed_run, tmp_path):
    run = load_run(str(mixed_run))
    path = write_report(run, tmp_path / "report.html")
    p = Page(browser)
    # a browser that is never idle: only scrolling can draw what is below the fold
    p.page.add_init_script("window.requestIdleCallback = () => 0;")
    p.page.goto(path.as_uri())
    p.page.wait_for_function("document.body.dataset.ready === '1'", timeout=30_000)
    p.page.wait_for_timeout(500)
    # the front, and at most the figure whose top is in view (the 3-D front): nothing below the fold
    in_view = p.page.evaluate("Array.from(document.querySelectorAll('div.fig[data-fig]'))"
                              ".filter(d => d.getBoundingClientRect().top < 1000).map(d => d.id)")
    assert in_view[0] == "fig-pareto" and len(in_view) < 4
    assert _drawn(p)[0] == "fig-pareto" and set(_drawn(p)) <= set(in_view)
    assert p.page.locator("#trial-table tbody tr").count() == 0  # the table waits too
    below = "#fig-importance-div"
    assert p.page.evaluate(f"document.querySelector('{below}').getBoundingClientRect().top") > 1000
    p.page.locator(below).scroll_into_view_if_needed()
    p.page.wait_for_selector(f"{below} .main-svg", timeout=30_000)
    assert "fig-synthesis-div" not in _drawn(p)  # scrolled past, never in view: still waiting
    # the 3-D front gets its shared hover texts back when it is drawn
    p.page.locator("#fig-pareto3d-div").scroll_into_view_if_needed()
    p.page.wait_for_selector("#fig-pareto3d-div .main-svg", timeout=30_000)
    hover = p.page.evaluate("""() => { const gd = document.querySelector('#fig-pareto3d-div');
        const t = gd.data.find(t => t.name === 'Pareto design'); return [t.customdata, t.hovertext]; }""")
    assert sorted(hover[0]) == run.pareto and all(f"trial #{n}</b>" in h for n, h in zip(*hover))
    p.page.locator("#trial-table").scroll_into_view_if_needed()
    p.page.wait_for_function(f"document.querySelectorAll('#trial-table tbody tr').length === {len(run.rows)}")
    assert p.errors == [] and p.remote == []
    p.page.close()

