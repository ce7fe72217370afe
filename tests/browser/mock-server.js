// A stand-in for `rivulet serve`, for testing the dashboard only: it serves
// dashboard/ as the real server does (GET / and /static/NAME) and answers the
// JSON and SSE shapes of src/server/ (regression flavor; the "model" predicts
// the running mean of the targets it learned). It also has what the real
// server may not have yet, so the page's handling of it is tested:
// /api/models/metrics (every model's and family key's metrics), healthz
// fields uptime_s, db_path, db_bytes, kept, and families in /api/models.
//
//   node mock-server.js [--port P] [--keys N]    prints "listening P"
//   require('./mock-server').start({port, keys}) -> Promise<{port, close()}>
"use strict";
const http = require("http");
const fs = require("fs");
const path = require("path");

const DASH = path.join(__dirname, "..", "..", "dashboard");
const MIME = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml" };

function newMetrics() { return { n: 0, abs: 0, sq: 0, smape: 0 }; }
function addMetric(m, y, p) {
  m.n++; m.abs += Math.abs(y - p); m.sq += (y - p) ** 2;
  const d = Math.abs(y) + Math.abs(p);
  m.smape += d === 0 ? 0 : Math.abs(y - p) / d;
}
function metricJSON(m) {
  if (!m.n) return { MAE: 0, RMSE: 0, SMAPE: 0 };
  return { MAE: m.abs / m.n, RMSE: Math.sqrt(m.sq / m.n), SMAPE: 200 * m.smape / m.n };
}

function createState(keys) {
  const st = { flavor: null, models: new Map(), dflt: null, metrics: newMetrics(), kept: new Map(),
    stats: { predict: [], learn: [] }, started: Date.now(), family: null, counter: 0 };
  if (keys) { // a keyed family, as the M5 demo has: one row per key
    st.flavor = "regression";
    const rows = [];
    let seed = 7;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = 0; i < keys; i++) {
      const mae = 0.2 + 3 * rnd() ** 3;
      rows.push({ model: "m5", key: "ITEM_" + String(i).padStart(5, "0") + "_CA_1", n: 1 + Math.floor(rnd() * 1900),
        metrics: { MAE: mae, RMSE: mae * (1.1 + rnd() * 0.4), SMAPE: 40 + rnd() * 120 } });
    }
    st.family = rows;
    st.models.set("m5", { n: 0, sum: 0, metrics: newMetrics() });
    st.dflt = "m5";
  }
  return st;
}

function timing(list) {
  const n = list.length, sorted = list.slice().sort((a, b) => a - b);
  const mean = n ? list.reduce((a, b) => a + b, 0) / n : 0;
  const q = p => (n ? sorted[Math.min(n - 1, Math.floor(p * n))] : 0);
  return { n_calls: n, mean_duration: Math.round(mean), mean_duration_human: Math.round(mean) + "ns",
    ewm_duration: Math.round(mean), ewm_duration_human: Math.round(mean) + "ns",
    p50_duration: q(0.5), p50_duration_human: q(0.5) + "ns", p99_duration: q(0.99), p99_duration_human: q(0.99) + "ns" };
}

function start(opts = {}) {
  const st = createState(opts.keys || 0);
  const streams = { metrics: new Set(), events: new Set() };
  const sockets = new Set();

  const send = (res, status, body, type) => {
    const text = type ? body : JSON.stringify(body);
    res.writeHead(status, { "Content-Type": type || "application/json", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
  };
  /* event null: an unnamed message, as the metrics stream sends them */
  const announce = (set, event, data) => {
    const msg = (event ? "event: " + event + "\n" : "") + "data: " + JSON.stringify(data) + "\n\n";
    for (const res of set) res.write(msg);
  };
  const model = name => st.models.get(name || st.dflt);

  const routes = {
    "GET /api/init": (req, res) => st.flavor ? send(res, 200, { flavor: st.flavor, storage: "mock", version: "mock" })
      : send(res, 400, { message: "No flavor has been set." }),
    "POST /api/init": (req, res, b) => {
      if (!["regression", "binary", "multiclass"].includes(b.flavor))
        return send(res, 400, { message: "Allowed flavors are 'regression', 'binary', 'multiclass'." });
      Object.assign(st, createState(0), { flavor: b.flavor, started: st.started });
      send(res, 201, { flavor: st.flavor, storage: "mock", version: "mock" });
    },
    "GET /api/models": (req, res) => send(res, 200, { models: [...st.models.keys()].sort(), default: st.dflt,
      families: st.family ? { m5: { by: "id", keys: st.family.length } } : {} }),
    "GET /api/models/metrics": (req, res) => {
      const rows = [...st.models].filter(([n]) => !st.family || n !== "m5")
        .map(([n, m]) => ({ model: n, key: null, n: m.n, metrics: metricJSON(m.metrics) }));
      send(res, 200, { models: rows.concat(st.family || []) });
    },
    "GET /api/metrics": (req, res) => st.flavor ? send(res, 200, metricJSON(st.metrics))
      : send(res, 400, { message: "No flavor has been set." }),
    "GET /api/stats": (req, res) => send(res, 200, { predict: timing(st.stats.predict), learn: timing(st.stats.learn) }),
    "GET /healthz": (req, res) => send(res, 200, { status: "ok", uptime_s: (Date.now() - st.started) / 1000,
      db_path: "/tmp/mock.db", db_bytes: 1234567, kept: st.kept.size }),
    "GET /metrics": (req, res) => send(res, 200, "rivulet_kept_predictions " + st.kept.size + "\n", "text/plain"),
    "POST /api/predict": (req, res, b) => {
      const m = model(b.model);
      if (!m) return send(res, 400, { message: "No default model has been set." });
      const p = m.n ? m.sum / m.n : 0, name = b.model || st.dflt;
      st.stats.predict.push(800 + Math.round(Math.random() * 400));
      if (b.id !== undefined) st.kept.set(String(b.id), { name, features: b.features, p });
      announce(streams.events, "predict", { model: name, features: b.features, prediction: p, id: b.id });
      send(res, b.id !== undefined ? 201 : 200, { model: name, prediction: p });
    },
    "POST /api/learn": (req, res, b) => {
      let name = b.model || st.dflt, features = b.features, p;
      if (b.id !== undefined) {
        const k = st.kept.get(String(b.id));
        if (!k) return send(res, 400, { message: "No information stored for ID '" + b.id + "'." });
        st.kept.delete(String(b.id));
        ({ name, features, p } = k);
      }
      const m = st.models.get(name);
      if (!m) return send(res, 400, { message: "No default model has been set." });
      if (p === undefined) p = m.n ? m.sum / m.n : 0;
      addMetric(st.metrics, b.ground_truth, p);
      addMetric(m.metrics, b.ground_truth, p);
      m.n++; m.sum += b.ground_truth;
      st.stats.learn.push(3000 + Math.round(Math.random() * 2000));
      announce(streams.events, "learn", { model: name, features, prediction: p, ground_truth: b.ground_truth, id: b.id });
      announce(streams.metrics, null, metricJSON(st.metrics));
      send(res, 201, {});
    },
  };

  const server = http.createServer((req, res) => {
    const url = req.url.split("?")[0];
    let body = "";
    req.on("data", c => (body += c));
    req.on("end", () => {
      if (req.method === "GET" && (url === "/api/stream/metrics" || url === "/api/stream/events")) {
        res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
        res.write(": hello\n\n");
        const set = url.endsWith("metrics") ? streams.metrics : streams.events;
        set.add(res);
        res.on("close", () => set.delete(res));
        return;
      }
      if (req.method === "GET" && (url === "/" || url.startsWith("/static/"))) {
        const file = url === "/" ? "index.html" : url.slice(8);
        if (file.includes("/") || file.startsWith(".")) return send(res, 404, { message: "Not found." });
        return fs.readFile(path.join(DASH, file), (err, data) => err ? send(res, 404, { message: "Not found." })
          : (res.writeHead(200, { "Content-Type": MIME[path.extname(file)] || "application/octet-stream" }), res.end(data)));
      }
      const mm = /^\/api\/model\/([^/]+)(\/metrics)?$/.exec(url);
      if (mm && req.method === "GET" && mm[2]) {
        const m = st.models.get(mm[1]);
        return m ? send(res, 200, metricJSON(m.metrics)) : send(res, 404, { message: "No model named '" + mm[1] + "'." });
      }
      if (req.method === "POST" && (url === "/api/model" || (mm && !mm[2]))) {
        if (!st.flavor) return send(res, 400, { message: "No flavor has been set." });
        const name = mm ? mm[1] : "model-" + ++st.counter;
        st.models.set(name, { n: 0, sum: 0, metrics: newMetrics() });
        st.dflt = name;
        return send(res, 201, { name });
      }
      const route = routes[req.method + " " + url];
      if (!route) return send(res, 404, { message: "Not found." });
      let parsed = {};
      if (body) try { parsed = JSON.parse(body); } catch (e) { return send(res, 400, { message: "The body is not valid JSON." }); }
      route(req, res, parsed);
    });
  });
  server.on("connection", s => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  const keepalive = setInterval(() => {
    for (const set of Object.values(streams)) for (const res of set) res.write(": keep-alive\n\n");
  }, 5000);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port || 0, "127.0.0.1", () => resolve({
      port: server.address().port,
      close: () => new Promise(done => {
        clearInterval(keepalive);
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
    }));
  });
}

module.exports = { start };

if (require.main === module) {
  const arg = name => { const i = process.argv.indexOf("--" + name); return i > 0 ? +process.argv[i + 1] : 0; };
  start({ port: arg("port"), keys: arg("keys") }).then(s => console.log("listening " + s.port));
}
