/* The dashboard's wiring: what it reads from the server, and when.
 *
 *   GET /api/init            flavor, storage, version (400 = no flavor yet)
 *   GET /healthz             uptime_s, db_path, db_bytes, kept, version (each optional)
 *   GET /metrics             Prometheus text: rivulet_kept_predictions, when
 *                            /healthz does not give "kept"
 *   GET /api/stats           predict/learn n_calls and durations (ns): rates
 *                            come from the change of n_calls between polls
 *   GET /api/metrics         the current global metrics (names and values)
 *   GET /api/models          {models, default, families?: {name: {by, keys}}}
 *   GET /api/models/metrics  every model's (and family key's) metrics in one
 *                            answer, when the server has it; otherwise
 *                            GET /api/model/NAME/metrics for each model, only
 *                            again for models that learned since (seen on the
 *                            event stream)
 *   SSE /api/stream/metrics  one chart point per learn (unnamed "message" events)
 *   SSE /api/stream/events   "predict" and "learn" events for the table
 *
 * Smoothness: stream messages only record (ring buffers, a bounded queue);
 * the DOM and canvases are touched once per animation frame, whatever the
 * event rate. Resilience: every poll backs off on failure (1 s doubling to
 * 15 s); a stream that fails for good is reopened with the same backoff; when
 * the server answers again after a failure the page reloads init and models.
 */
"use strict";
(function () {
  const $ = id => document.getElementById(id);
  const FLAVOR_METRICS = {
    regression: ["MAE", "RMSE", "SMAPE"],
    binary: ["Accuracy", "LogLoss", "Precision", "Recall", "F1"],
    multiclass: ["Accuracy", "CrossEntropy", "MacroPrecision", "MacroRecall", "MacroF1",
      "MicroPrecision", "MicroRecall", "MicroF1"],
  };
  const EVENTS_KEPT = 100, PER_MODEL_LIMIT = 2000;
  const st = {
    up: false, flavor: null, metricNames: [], charts: {}, valueEls: {},
    rateChart: null, lastStats: null, uptime: null,
    eventQueue: [], eventCount: 0, dirtyModels: new Set(),
    bulk: undefined, modelRows: new Map(), models: [], frame: 0, chartsDirty: false,
  };
  const table = new RV.VirtualTable($("model-table"), { onChange: t => {
    const shown = +t.el.dataset.shown, total = +t.el.dataset.total;
    $("table-info").textContent = total ? RV.fmtCount(shown) + " of " + RV.fmtCount(total) + " rows" : "";
  } });

  /* ===== Connection state ===== */

  function setUp(up) {
    if (up === st.up) return;
    st.up = up;
    const c = $("conn");
    c.className = "conn " + (up ? "up" : "down");
    c.textContent = up ? "live" : "reconnecting…";
    document.body.dataset.conn = up ? "up" : "down";
    if (up) { loadInit().catch(() => {}); loadModels().catch(() => {}); }
  }

  async function get(path, asText) {
    const ctl = new AbortController(), timer = setTimeout(() => ctl.abort(), 8000);
    try {
      const r = await fetch(path, { signal: ctl.signal, cache: "no-store" });
      const body = asText ? await r.text() : await r.json().catch(() => null);
      setUp(true);
      return { status: r.status, ok: r.ok, body };
    } catch (e) {
      setUp(false);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /* Runs fn every `every` ms; after a failure waits 1 s, 2 s, 4 s ... 15 s. */
  function poll(fn, every) {
    let delay = 0;
    const tick = async () => {
      let next;
      try {
        const min = await fn();
        delay = 0;
        next = Math.max(every, min || 0);
      } catch (e) {
        delay = Math.min(delay ? delay * 2 : 1000, 15000);
        next = delay;
      }
      setTimeout(tick, next);
    };
    tick();
  }

  /* ===== Server facts ===== */

  function pick(objs, names) {
    for (const o of objs) if (o) for (const n of names) if (o[n] !== undefined && o[n] !== null) return o[n];
    return undefined;
  }

  async function loadInit() {
    const r = await get("/api/init");
    st.init = r.ok ? r.body : null;
    setFlavor(r.ok && r.body ? r.body.flavor : null);
    facts();
  }

  function setFlavor(f) {
    $("flavor").textContent = f || "no flavor set";
    document.body.dataset.flavor = f || "";
    if (f !== st.flavor) {
      st.flavor = f;
      if (f && FLAVOR_METRICS[f] && !st.metricNames.length) setMetricNames(FLAVOR_METRICS[f]);
    }
  }

  async function pollHealth() {
    const r = await get("/healthz");
    st.health = r.body && typeof r.body === "object" ? r.body : {};
    let kept = pick([st.health, st.init], ["kept", "pending", "kept_predictions"]);
    if (kept === undefined) {
      const m = await get("/metrics", true);
      const hit = m.ok && /^rivulet_kept_predictions\s+(\S+)/m.exec(m.body || "");
      if (hit) kept = +hit[1];
    }
    $("pending").textContent = RV.fmtCount(kept);
    facts();
  }

  function facts() {
    const src = [st.health, st.init];
    $("version").textContent = pick(src, ["version"]) || "—";
    $("storage").textContent = pick(src, ["storage"]) || "—";
    $("db-path").textContent = pick(src, ["db_path", "database", "db"]) || "—";
    $("db-size").textContent = RV.fmtBytes(pick(src, ["db_bytes", "db_size", "database_bytes"]));
    const up = pick(src, ["uptime_s", "uptime_seconds", "uptime"]);
    st.uptime = typeof up === "number" ? { s: up, at: performance.now() } : null;
    tickUptime();
  }

  function tickUptime() {
    $("uptime").textContent = st.uptime && st.up
      ? RV.fmtDuration(st.uptime.s + (performance.now() - st.uptime.at) / 1000) : "—";
  }

  /* ===== Call statistics ===== */

  async function pollStats() {
    const r = await get("/api/stats");
    if (!r.ok || !r.body) return;
    const now = performance.now(), s = r.body, prev = st.lastStats;
    const rate = k => {
      if (!prev || !s[k] || !prev.s[k]) return NaN;
      const d = s[k].n_calls - prev.s[k].n_calls, dt = (now - prev.at) / 1000;
      return d >= 0 && dt > 0 ? d / dt : NaN; /* a negative change means the server reset */
    };
    for (const k of ["learn", "predict"]) {
      const t = s[k] || {};
      $(k + "-n").textContent = RV.fmtCount(t.n_calls);
      $(k + "-rate").textContent = RV.fmtRate(rate(k)) + " /s";
      $(k + "-p50").textContent = RV.fmtNs(t.p50_duration);
      $(k + "-p99").textContent = RV.fmtNs(t.p99_duration);
    }
    if (prev) st.rateChart.push([rate("predict"), rate("learn")]);
    st.lastStats = { s, at: now };
    st.chartsDirty = true;
    schedule();
  }

  /* ===== Metrics: values and charts ===== */

  function setMetricNames(names) {
    if (names.join() === st.metricNames.join()) return;
    st.metricNames = names.slice();
    const charts = $("charts"), values = $("metric-values");
    charts.textContent = "";
    values.textContent = "";
    st.charts = {};
    st.valueEls = {};
    names.forEach((name, i) => {
      const v = document.createElement("div");
      v.className = "value";
      v.dataset.metric = name;
      v.innerHTML = "<span></span><b>—</b>";
      v.firstChild.textContent = name + (RV.higherIsBetter(name) ? " ↑" : " ↓");
      values.append(v);
      st.valueEls[name] = v;
      const fig = document.createElement("figure");
      fig.className = "chart";
      fig.innerHTML = "<figcaption><span></span><span class='muted'></span></figcaption><canvas></canvas>";
      fig.querySelector("span").textContent = name;
      const canvas = fig.querySelector("canvas");
      canvas.dataset.metric = name;
      charts.append(fig);
      st.charts[name] = new RV.LineChart(canvas, [name], { cap: 3000 });
      st.charts[name].series[0].color = RV.palette[i % RV.palette.length];
      st.charts[name].caption = fig.querySelector(".muted");
    });
    table.setMetrics(names);
    st.chartsDirty = true;
    schedule();
  }

  function showValues(m) {
    const names = Object.keys(m);
    if (names.length) setMetricNames(names);
    for (const name of st.metricNames) {
      const el = st.valueEls[name];
      if (!el) continue;
      const v = m[name];
      el.dataset.value = RV.missing(v) ? "" : String(v);
      el.lastChild.textContent = RV.fmtNum(v);
    }
  }

  async function pollMetrics() {
    const r = await get("/api/metrics");
    if (r.ok && r.body && typeof r.body === "object") showValues(r.body);
  }

  function onMetrics(data) {
    showValues(data);
    for (const name of st.metricNames) {
      const v = data[name];
      st.charts[name].push([typeof v === "number" ? v : NaN]);
    }
    st.chartsDirty = true;
    schedule();
  }

  /* ===== Models ===== */

  async function loadModels() {
    const r = await get("/api/models");
    if (!r.ok || !r.body) return;
    const models = Array.isArray(r.body.models) ? r.body.models : [];
    const fams = r.body.families || {};
    st.models = models;
    renderChips(models, r.body.default, fams);
    const t0 = performance.now();
    if (st.bulk !== false) {
      const b = await get("/api/models/metrics");
      if (b.ok && b.body) {
        st.bulk = true;
        const list = Array.isArray(b.body) ? b.body : b.body.models || b.body.rows || [];
        table.setRows(list.map(x => ({ model: x.model || x.name, key: x.key, n: pick([x], ["n", "n_learned", "learns"]), metrics: x.metrics || {} })));
        /* A big answer (30,490 family keys) is polled less often, so that
         * reading it takes at most a twentieth of the page's time. */
        return 20 * (performance.now() - t0);
      }
      if (b.status === 404 || b.status === 405) st.bulk = false;
    }
    await perModel(models);
  }

  /* Fallback: one request per model, first all, then only those that learned. */
  async function perModel(models) {
    const known = new Set(models);
    for (const name of st.modelRows.keys()) if (!known.has(name)) st.modelRows.delete(name);
    const todo = models.slice(0, PER_MODEL_LIMIT).filter(n => !st.modelRows.has(n) || st.dirtyModels.has(n));
    st.dirtyModels.clear();
    let i = 0;
    const worker = async () => {
      while (i < todo.length) {
        const name = todo[i++];
        const r = await get("/api/model/" + encodeURIComponent(name) + "/metrics");
        if (r.ok && r.body) {
          const { n_learned, ...metrics } = r.body; /* a count, not a metric column */
          st.modelRows.set(name, { model: name, key: null, n: n_learned, metrics });
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    table.setRows(models.filter(n => st.modelRows.has(n)).map(n => st.modelRows.get(n)));
    $("models-note").textContent = models.length > PER_MODEL_LIMIT
      ? "metrics shown for the first " + RV.fmtCount(PER_MODEL_LIMIT) + " models" : "";
  }

  function renderChips(models, dflt, fams) {
    const box = $("models-list");
    box.textContent = "";
    for (const name of models.slice(0, 40)) {
      const chip = document.createElement("span");
      chip.className = "model-chip" + (name === dflt ? " default" : "");
      chip.textContent = name;
      const f = fams[name], notes = [];
      if (name === dflt) notes.push("default");
      if (f) notes.push("family by " + (f.by || "?") + (RV.missing(f.keys) ? "" : ", " + RV.fmtCount(f.keys) + " keys"));
      if (notes.length) { const em = document.createElement("em"); em.textContent = notes.join(" · "); chip.append(em); }
      box.append(chip);
    }
    if (models.length > 40) {
      const more = document.createElement("span");
      more.className = "muted";
      more.textContent = "and " + RV.fmtCount(models.length - 40) + " more";
      box.append(more);
    }
    if (!models.length) box.innerHTML = "<span class='muted'>no model uploaded yet</span>";
    document.body.dataset.models = String(models.length);
  }

  /* ===== Events ===== */

  function onEvent(kind, data) {
    st.eventCount++;
    st.eventQueue.push({ t: Date.now(), kind, data });
    if (st.eventQueue.length > EVENTS_KEPT) st.eventQueue.splice(0, st.eventQueue.length - EVENTS_KEPT);
    if (kind === "learn" && data && data.model) st.dirtyModels.add(data.model);
    schedule();
  }

  function valueText(kind, d) {
    const v = kind === "learn" ? d.ground_truth : d.prediction;
    if (v && typeof v === "object") { /* class -> probability: show the likeliest */
      let best = null;
      for (const k in v) if (best === null || v[k] > v[best]) best = k;
      return best === null ? "{}" : best + " (" + RV.fmtNum(v[best]) + ")";
    }
    return (kind === "learn" ? "truth " : "pred ") + (typeof v === "number" ? RV.fmtNum(v) : JSON.stringify(v));
  }

  /* New rows go on top and old ones fall off the bottom, so a frame costs
   * DOM work for the events that arrived since the last one, not for 100. */
  function flushEvents() {
    if (!st.eventQueue.length) return;
    const body = $("events").tBodies[0];
    for (const e of st.eventQueue) {
      const tr = body.insertRow(0), d = e.data || {};
      for (let c = 0; c < 6; c++) tr.insertCell();
      const cells = tr.cells, feats = d.features ? JSON.stringify(d.features) : "";
      tr.dataset.kind = e.kind;
      cells[0].textContent = RV.fmtTime(e.t);
      cells[1].textContent = e.kind;
      cells[1].className = "kind-" + e.kind;
      cells[2].textContent = d.model || "—";
      cells[3].textContent = d.id === undefined || d.id === null ? "" : String(d.id);
      cells[4].textContent = feats.length > 160 ? feats.slice(0, 160) + "…" : feats;
      cells[4].title = feats.slice(0, 2000);
      cells[5].textContent = valueText(e.kind, d);
    }
    st.eventQueue = [];
    while (body.rows.length > EVENTS_KEPT) body.deleteRow(-1);
  }

  /* ===== Streams ===== */

  function stream(path, handlers) {
    let delay = 0, es = null, opened = false;
    const open = () => {
      es = new EventSource(path);
      es.onopen = () => {
        delay = 0;
        if (!opened) { opened = true; countStreams(1); }
        if (!st.up) setUp(true); else { loadInit().catch(() => {}); pollMetrics().catch(() => {}); }
      };
      es.onerror = () => {
        if (opened) { opened = false; countStreams(-1); }
        if (es.readyState === EventSource.CLOSED) { /* failed for good: reopen ourselves */
          delay = Math.min(delay ? delay * 2 : 1000, 15000);
          setTimeout(open, delay);
        }
      };
      for (const name in handlers)
        es.addEventListener(name, ev => {
          let data;
          try { data = JSON.parse(ev.data); } catch (e) { return; }
          handlers[name](data, name);
        });
    };
    open();
  }

  let openStreams = 0;
  function countStreams(d) {
    openStreams += d;
    document.body.dataset.streams = String(openStreams);
  }

  /* ===== One frame ===== */

  function schedule() {
    if (!st.frame) st.frame = requestAnimationFrame(frame);
  }

  function frame() {
    st.frame = 0;
    flushEvents();
    if (st.chartsDirty) {
      st.chartsDirty = false;
      for (const name in st.charts) {
        const c = st.charts[name];
        c.draw();
        c.caption.textContent = RV.fmtCount(c.total) + " points";
      }
      st.rateChart.draw();
    }
  }

  /* ===== Start ===== */

  st.rateChart = new RV.LineChart($("rate-chart"), ["predict/s", "learn/s"], {
    cap: 900, xLabels: (first, last, n) => [n > 1 ? (n - 1) + " s ago" : "", "now"] });
  $("search").addEventListener("input", e => table.setQuery(e.target.value));
  $("worst").addEventListener("click", () => table.worstFirst());
  window.addEventListener("resize", () => { st.chartsDirty = true; schedule(); });
  document.body.dataset.streams = "0";
  document.body.dataset.conn = "down";
  stream("/api/stream/metrics", { message: onMetrics });
  stream("/api/stream/events", { predict: (d, k) => onEvent(k, d), learn: (d, k) => onEvent(k, d) });
  poll(loadInit, 10000);
  poll(pollHealth, 2000);
  poll(pollStats, 1000);
  poll(pollMetrics, 5000);
  poll(loadModels, 3000);
  setInterval(() => {
    $("events-rate").textContent = RV.fmtRate(st.eventCount);
    st.eventCount = 0;
    tickUptime();
  }, 1000);
  window.RVdash = { state: st, table };
})();
