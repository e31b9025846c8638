// qnas report: draws the embedded figures, the trial table and the trial pages (#trial-N).
// Data comes from <script type="application/json"> blocks written by studies/dashboard/static.py.
// Only the Pareto figure is drawn at load; each block is parsed when first needed (see static.py).
(function () {
  "use strict";
  const parsed = {};
  const data = (id) => (id in parsed ? parsed[id] : (parsed[id] = JSON.parse(document.getElementById(id).textContent)));
  const trials = () => data("qnas-trials");
  const config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  const fmt = (v) => (v == null ? "" : typeof v === "number" ? (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en") : String(+v.toPrecision(4))) : String(v));

  function onClick(ev) {
    const p = ev.points && ev.points[0];
    if (p && p.customdata != null && trials()[p.customdata]) location.hash = "#trial-" + p.customdata;
  }

  // A figure block, with the shared hover texts put back into the traces marked "_hover".
  function figure(id) {
    const fig = JSON.parse(document.getElementById(id).textContent);
    fig.data.forEach((t) => {
      if (t._hover) { const h = data("qnas-hover"); t.hovertext = t.customdata.map((n) => h[n]); delete t._hover; }
    });
    return fig;
  }
  function draw(div) {
    if (div.dataset.drawn) return;
    div.dataset.drawn = "1";
    const fig = figure(div.dataset.fig);
    Plotly.newPlot(div, fig.data, fig.layout, config).then(() => div.on("plotly_click", onClick));
  }

  // The Pareto figure now; the others one per idle moment after the first paint (so none
  // holds up the first view), or at once when scrolled to.
  const figs = Array.from(document.querySelectorAll("div.fig[data-fig]"));
  const front = document.getElementById("fig-pareto");
  if (front) draw(front);
  const later = figs.filter((d) => !d.dataset.drawn);
  const idle = window.requestIdleCallback || ((f) => setTimeout(() => f({ timeRemaining: () => 0 }), 50));
  const shownYet = (el) => (el.id === "trial-table" ? TABLE : el.dataset.drawn);
  const show = (el) => { if (!shownYet(el)) (el.id === "trial-table" ? render() : draw(el)); };
  let painted = false;
  function drainOne() {
    if (document.body.classList.contains("trial")) { setTimeout(() => idle(drainOne, { timeout: 2000 }), 500); return; }
    const next = later.find((el) => !shownYet(el));
    if (next) { show(next); idle(drainOne, { timeout: 2000 }); }
  }
  // "qnas-first-view": the front is drawn and its frame produced (benchmarks/report_scale.py reads it).
  requestAnimationFrame(() => setTimeout(() => {
    painted = true; performance.mark("qnas-first-view"); idle(drainOne, { timeout: 2000 });
  }, 0));
  // Before the first paint, figures already in view wait for the idle queue (page order).
  const io = "IntersectionObserver" in window ? new IntersectionObserver((entries) => entries.forEach((e) => {
    if (e.isIntersecting && painted) { io.unobserve(e.target); show(e.target); }
  }), { rootMargin: "100px" }) : null;
  if (io) later.forEach((el) => io.observe(el));

  // Axis choice of the 2-D front: each pair is its own pre-built figure.
  const axes = document.getElementById("pareto-axes");
  if (axes) axes.addEventListener("change", () => {
    const div = document.getElementById("fig-pareto");
    div.dataset.fig = axes.value;
    const fig = figure(axes.value);
    Plotly.react(div, fig.data, fig.layout, config);
  });

  // Trial table: click a heading to sort, type to filter, download what is shown as CSV.
  // The table's rows are parsed and rendered when it comes near the view, on idle, or on first use.
  let sortKey = "number", sortDir = 1, shown = [], TABLE = null, COLUMNS = [];
  const tbody = document.querySelector("#trial-table tbody");
  const thead = document.querySelector("#trial-table thead tr");
  function table() {
    if (TABLE) return;
    TABLE = data("qnas-table"); COLUMNS = data("qnas-columns");
    COLUMNS.forEach(([key, label]) => {
      const th = document.createElement("th");
      th.textContent = label; th.dataset.key = key;
      th.addEventListener("click", () => { sortDir = sortKey === key ? -sortDir : 1; sortKey = key; render(); });
      thead.appendChild(th);
    });
  }
  const filter = document.getElementById("table-filter");
  filter.addEventListener("input", render);
  function render() {
    table();
    const terms = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    shown = TABLE.filter((r) => terms.every((t) => COLUMNS.some(([k]) => String(r[k] == null ? "" : r[k]).toLowerCase().includes(t))));
    shown.sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      if (x == null) return 1; if (y == null) return -1;
      return (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y))) * sortDir;
    });
    thead.querySelectorAll("th").forEach((th) => { th.className = th.dataset.key === sortKey ? (sortDir > 0 ? "sorted-asc" : "sorted-desc") : ""; });
    tbody.innerHTML = shown.map((r) => "<tr>" + COLUMNS.map(([k]) => {
      const v = r[k];
      if (k === "number") return `<td class="num"><a class="trial" href="#trial-${v}">#${v}</a></td>`;
      return `<td class="${typeof v === "number" ? "num" : ""}">${esc(fmt(v))}</td>`;
    }).join("") + "</tr>").join("");
    document.getElementById("table-count").textContent = `${shown.length} of ${TABLE.length} trials`;
  }
  const tableEl = document.getElementById("trial-table");
  later.push(tableEl);
  if (io) io.observe(tableEl);
  document.getElementById("table-csv").addEventListener("click", () => {
    render();
    const cell = (v) => { const s = v == null ? "" : String(v); return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; };
    const lines = [COLUMNS.map(([k]) => k).join(",")].concat(shown.map((r) => COLUMNS.map(([k]) => cell(r[k])).join(",")));
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" }));
    a.download = document.body.dataset.study + "-trials.csv";
    document.body.appendChild(a); a.click(); a.remove();
  });

  // Trial pages.
  const kv = (obj) => "<table>" + Object.entries(obj || {}).map(([k, v]) => `<tr><th>${esc(k)}</th><td class="num">${esc(fmt(v))}</td></tr>`).join("") + "</table>";
  const grid = (rows, cols) => !rows || !rows.length ? '<p class="empty">none</p>' :
    "<table><tr>" + cols.map((c) => `<th>${esc(c)}</th>`).join("") + "</tr>" +
    rows.map((r) => "<tr>" + cols.map((c) => `<td class="${typeof r[c] === "number" ? "num" : ""}">${esc(c === "error" && r[c] != null ? (100 * r[c]).toFixed(1) + " %" : fmt(r[c]))}</td>`).join("") + "</tr>").join("") + "</table>";
  function page(n) {
    const t = trials()[n];
    const el = document.getElementById("trial-page");
    if (!t) { el.innerHTML = `<section><p>No trial #${esc(n)} in this report. <a href="#">Back to the overview</a></p></section>`; return; }
    el.innerHTML = `<section><p><a href="#">&larr; overview</a></p>
      <h2>Trial #${t.number} <span class="pill ${esc(t.kind)}">${esc(t.category)}</span></h2>
      <p><b>${esc(t.architecture)}</b>${t.duplicate_of != null ? ` &middot; same design as <a class="trial" href="#trial-${t.duplicate_of}">#${t.duplicate_of}</a>` : ""}</p>
      ${t.reason ? `<p class="note">${esc(t.reason)}</p>` : ""}
      <div class="row"><div><h3>Objectives</h3>${kv(t.objectives)}<h3>Metrics</h3>${kv(t.metrics)}</div>
      <div><h3>Estimate (${esc(t.estimator)}, ${esc(t.estimate_stage)})</h3>${kv(t.estimate)}<h3>Budget constraints (&le; 0 fits)</h3>${kv(t.constraints)}</div></div>
      <h3>Layers</h3>${grid(t.layers, ["layer", "in", "units", "weight", "bias_bits", "activation", "reuse_factor"].concat(t.layers.some((l) => "sparsity" in l) ? ["sparsity"] : []))}
      <h3>Estimate vs synthesis</h3>${t.synthesis.length ? grid(t.synthesis, ["flow", "field", "estimate", "synthesis", "error"]) : '<p class="empty">not synthesized</p>'}
      ${Object.entries(t.synthesis_errors).map(([f, e]) => `<p class="note">${esc(f)} failed: ${esc(e)}</p>`).join("")}
      <h3>Files and commands</h3>
      ${t.artifacts ? `<p>trained model: <code>${esc(t.artifacts)}</code></p>` : "<p>no trained model (not trained)</p>"}
      ${t.bundle ? `<p>firmware bundle: <code>${esc(t.bundle)}</code></p>` : ""}
      ${t.export ? `<p>export: <code class="cmd">${esc(t.export)}</code></p><p>synthesize: <code class="cmd">${esc(t.synth)}</code></p>` : ""}
      <h3>Spec</h3><pre>${esc(JSON.stringify(t.spec, null, 2))}</pre></section>`;
  }
  function route() {
    const m = location.hash.match(/^#trial-(\d+)$/);
    document.body.classList.toggle("trial", !!m);
    if (m) { page(m[1]); window.scrollTo(0, 0); }
    else { figs.forEach((d) => { if (d.dataset.drawn && d.offsetParent) Plotly.Plots.resize(d); }); }
  }
  window.addEventListener("hashchange", route);
  route();
  document.body.dataset.ready = "1";
})();
