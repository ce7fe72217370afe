// Browser tests of the dashboard, in Debian's headless Chromium driven by
// playwright-core (no browser is ever downloaded).
//
//   1. against tests/browser/mock-server.js: learns sent through the API move
//      the page's metric values, chart point counts, event table and call
//      counts; the page reconnects by itself after the server restarts;
//   2. the model table with 30,490 family keys: virtualised (few rows in the
//      DOM), "worst first" puts the largest MAE on top, search narrows it;
//      100 events/s keep the page animating and the event table bounded;
//   3. against the real `rivulet serve` (build/opt/rivulet, or $RIVULET_BIN):
//      the same checks, a restart, and a screenshot ($SCREENSHOT, default
//      build/browser/dashboard.png). Skipped, saying why, when the binary has
//      no `serve` verb or does not serve the page yet.
//
// Run: make browser-test (npm ci, then node --test).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawn } = require("child_process");
const { chromium } = require("playwright-core");
const mock = require("./mock-server");

const ROOT = path.join(__dirname, "..", "..");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function openBrowser() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(CHROMIUM + " is missing: apt-get install -y --no-install-recommends chromium");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "rivulet-chromium-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1360, height: 1500 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return { ctx, close: async () => { await ctx.close(); fs.rmSync(profile, { recursive: true, force: true }); } };
}

function client(base) {
  const call = async (method, p, body, raw) => {
    const r = await fetch(base + p, { method, body: raw ? body : body === undefined ? undefined : JSON.stringify(body),
      headers: raw ? { "Content-Type": "text/plain" } : { "Content-Type": "application/json" } });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
    return { status: r.status, json, text };
  };
  return {
    get: p => call("GET", p),
    post: (p, b) => call("POST", p, b),
    upload: (p, text) => call("POST", p, text, true),
    learn: (x, y, extra) => call("POST", "/api/learn", Object.assign({ features: x, ground_truth: y }, extra)),
  };
}

// Page state the assertions read: values, chart points, rows.
async function snapshot(page) {
  return page.evaluate(() => {
    const num = sel => { const e = document.querySelector(sel); return e ? e.textContent : null; };
    const values = {}, points = {};
    document.querySelectorAll("#metric-values .value").forEach(v => (values[v.dataset.metric] = v.dataset.value));
    document.querySelectorAll("#charts canvas").forEach(c => (points[c.dataset.metric] = +c.dataset.points));
    const t = document.getElementById("model-table");
    return {
      values, points, learns: num("#learn-n"), pending: num("#pending"), flavor: num("#flavor"),
      events: [...document.querySelectorAll("#events tbody tr")].map(r => r.dataset.kind),
      tableTotal: +t.dataset.total, tableShown: +t.dataset.shown, domRows: t.querySelectorAll(".vrows .vrow").length,
      streams: +document.body.dataset.streams, conn: document.body.dataset.conn,
    };
  });
}

async function waitFor(page, pred, what, timeout = 15000) {
  const until = Date.now() + timeout;
  let last;
  while (Date.now() < until) {
    last = await snapshot(page);
    if (pred(last)) return last;
    await sleep(100);
  }
  assert.fail("timed out waiting for " + what + "; page state: " + JSON.stringify(last));
}

const live = s => s.streams === 2 && s.conn === "up";

// Sends n learns, then checks the page against the server's own numbers.
async function learnAndCheck(page, api, n, offset) {
  const before = await snapshot(page);
  for (let i = 0; i < n; i++) {
    const x = (offset + i) / 100; // small inputs: a plain LinearRegression stays stable
    const r = await api.learn({ x, z: (offset + i) % 3 }, 2 * x + 1);
    assert.equal(r.status, 201, r.text);
  }
  const want = (await api.get("/api/metrics")).json;
  const s = await waitFor(page, p => p.points.MAE === before.points.MAE + n && +p.values.MAE === want.MAE,
    n + " more MAE chart points and MAE = " + want.MAE);
  assert.equal(s.points.RMSE, before.points.RMSE + n);
  assert.equal(+s.values.RMSE, want.RMSE);
  assert.equal(+s.values.SMAPE, want.SMAPE);
  const learns = p => p.events.filter(k => k === "learn").length;
  const e = await waitFor(page, p => learns(p) >= Math.min(100, learns(before) + n),
    "learn events in the table");
  assert.equal(e.events[0], "learn");
  return s;
}

test("dashboard follows a mock server live and reconnects after a restart", async t => {
  let srv = await mock.start({});
  const base = "http://127.0.0.1:" + srv.port, api = client(base);
  const b = await openBrowser();
  t.after(async () => { await b.close(); await srv.close(); });
  assert.equal((await api.post("/api/init", { flavor: "regression" })).status, 201);
  assert.equal((await api.upload("/api/model/lin", "linear_model.LinearRegression()")).status, 201);
  const page = await b.ctx.newPage();
  const errors = [];
  page.on("pageerror", e => errors.push(String(e)));
  await page.goto(base + "/");
  await waitFor(page, s => live(s) && s.flavor === "regression", "streams open and the flavor shown");
  await learnAndCheck(page, api, 5, 0);
  await waitFor(page, s => s.learns === "5", "learn count 5 from /api/stats");
  await waitFor(page, s => s.tableTotal === 1, "the model in the table");
  assert.equal(await page.textContent("#model-table .vrows .vrow span:nth-child(2)"), "lin");
  assert.equal((await api.post("/api/predict", { features: { x: 1 }, id: "a" })).status, 201);
  await waitFor(page, s => s.pending === "1" && s.events[0] === "predict", "one pending prediction");
  assert.equal(await page.textContent("#db-path"), "/tmp/mock.db");

  await srv.close(); // the server goes away...
  await waitFor(page, s => s.conn === "down", "the page to notice the server is gone");
  srv = await mock.start({ port: srv.port }); // ...and comes back, empty
  await api.post("/api/init", { flavor: "regression" });
  await api.upload("/api/model/lin", "linear_model.LinearRegression()");
  await waitFor(page, live, "streams reopened", 30000);
  await learnAndCheck(page, api, 3, 100);
  assert.deepEqual(errors, []);
});

test("model table: 30,490 keys, virtualised, worst first, search; 100 events/s stay smooth", async t => {
  const srv = await mock.start({ keys: 30490 });
  const base = "http://127.0.0.1:" + srv.port, api = client(base);
  const b = await openBrowser();
  t.after(async () => { await b.close(); await srv.close(); });
  const page = await b.ctx.newPage();
  await page.goto(base + "/");
  // the rows are drawn on the next animation frame after the total is set
  let s = await waitFor(page, p => p.tableTotal === 30490 && p.domRows > 0 && live(p), "30,490 rows");
  assert.ok(s.domRows > 0 && s.domRows < 60, "only the rows in view are in the DOM: " + s.domRows);
  assert.match(await page.textContent("#models-list"), /family by id, 30,490 keys/);

  const rows = (await api.get("/api/models/metrics")).json.models;
  const worst = rows.reduce((a, r) => (r.metrics.MAE > a.metrics.MAE ? r : a));
  await page.click("#worst");
  await page.waitForFunction(k => {
    const r = document.querySelector("#model-table .vrows .vrow");
    return r && r.dataset.key === k;
  }, worst.key, { timeout: 5000 });
  assert.equal(await page.getAttribute("#model-table", "data-sort"), "m:MAE:desc");
  await page.fill("#search", worst.key.slice(0, 10));
  s = await waitFor(page, p => p.tableShown === 1, "search narrows to one key");
  await page.fill("#search", "");
  await page.evaluate(() => { document.querySelector("#model-table .vbody").scrollTop = 26 * 20000; });
  await page.waitForFunction(() => +document.querySelector("#model-table .vrows .vrow span").textContent.replace(/,/g, "") > 19000);

  // 100 events per second for 3 s, while counting animation frames.
  await page.evaluate(() => {
    window.__frames = 0;
    const tick = () => { window.__frames++; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
  await api.upload("/api/model/lin", "linear_model.LinearRegression()");
  const t0 = Date.now();
  for (let i = 0; i < 300; i++) {
    await api.learn({ x: i }, i % 17, { model: "lin" });
    const due = t0 + (i + 1) * 10 - Date.now();
    if (due > 0) await sleep(due);
  }
  const secs = (Date.now() - t0) / 1000;
  const fps = (await page.evaluate(() => window.__frames)) / secs;
  s = await waitFor(page, p => p.points.MAE === 300, "300 chart points");
  assert.equal(s.events.length, 100, "the event table keeps the last 100");
  // 60 frames/s on an idle machine; the bound is low because CI's two cores
  // are shared, but a page that re-rendered everything per event would freeze.
  t.diagnostic("frames per second during 100 events/s: " + fps.toFixed(1));
  assert.ok(fps > 10, "the page kept animating during the burst: " + fps.toFixed(1) + " frames/s");
});

// ===== The real server =====

const BIN = process.env.RIVULET_BIN || path.join(ROOT, "build", "opt", "rivulet");

async function startServe(dir, port) {
  const portFile = path.join(dir, "port");
  fs.rmSync(portFile, { force: true });
  const child = spawn(BIN, ["serve", "--host", "127.0.0.1", "--port", String(port || 0), "--port-file", portFile,
    "--db", path.join(dir, "rivulet.db")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", d => (stderr += d));
  let exited = null;
  child.on("exit", code => (exited = code));
  for (let i = 0; i < 100 && exited === null; i++) {
    if (fs.existsSync(portFile) && fs.readFileSync(portFile, "utf8").trim())
      return { child, port: +fs.readFileSync(portFile, "utf8").trim() };
    await sleep(100);
  }
  child.kill("SIGKILL");
  return { error: "`rivulet serve` did not start (exit " + exited + "): " + stderr.trim().split("\n")[0] };
}

async function stopServe(s) {
  if (!s || !s.child || s.child.exitCode !== null) return;
  const done = new Promise(r => s.child.once("exit", r));
  s.child.kill("SIGTERM");
  await Promise.race([done, sleep(5000)]);
  if (s.child.exitCode === null) s.child.kill("SIGKILL");
}

// A noisy linear stream with predictions kept by id and their ground truth
// sent 5 events later: the metrics fall as the model learns, which makes the
// charts worth a look. `pace` spaces requests (ms) so rates show live.
async function demoTraffic(api, model, from, to, pace) {
  const rnd = i => { let x = Math.sin(i * 12.9898 + 78.233) * 43758.5453; return x - Math.floor(x); };
  const point = i => {
    const x = { temp: 10 + 20 * rnd(3 * i), hour: Math.floor(24 * rnd(3 * i + 1)), promo: rnd(3 * i + 2) < 0.3 ? 1 : 0 };
    return { x, y: 5 + 0.8 * x.temp - 0.1 * x.hour + 6 * x.promo + 2 * (rnd(7 * i + 5) - 0.5) };
  };
  for (let i = from; i < to; i++) {
    await api.post("/api/predict", { features: point(i).x, id: "d" + i, model });
    if (i >= 5) await api.post("/api/learn", { id: "d" + (i - 5), ground_truth: point(i - 5).y });
    if (pace) await sleep(pace);
    else if (i % 40 === 0) await sleep(60);
  }
}

test("dashboard on the real `rivulet serve`", async t => {
  if (!fs.existsSync(BIN)) return t.skip(BIN + " is not built (make): real-server dashboard test SKIPPED");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rivulet-dash-"));
  let srv = await startServe(dir);
  if (srv.error) { fs.rmSync(dir, { recursive: true, force: true }); return t.skip(srv.error + ": real-server dashboard test SKIPPED"); }
  const base = "http://127.0.0.1:" + srv.port, api = client(base);
  t.after(async () => { await stopServe(srv); fs.rmSync(dir, { recursive: true, force: true }); });
  const home = await fetch(base + "/");
  if (home.status !== 200 || !/text\/html/.test(home.headers.get("content-type") || ""))
    return t.skip("`rivulet serve` does not serve the dashboard at GET / yet (" + home.status
      + "): it should answer / and /static/* with rv_dashboard_find; real-server dashboard test SKIPPED");
  assert.equal((await api.post("/api/init", { flavor: "regression" })).status, 201);
  const up = await api.upload("/api/model/lin", "linear_model.LinearRegression()");
  assert.equal(up.status, 201, up.text);
  const b = await openBrowser();
  t.after(() => b.close());
  const page = await b.ctx.newPage();
  const errors = [];
  page.on("pageerror", e => errors.push(String(e)));
  await page.goto(base + "/");
  await waitFor(page, s => live(s) && s.flavor === "regression", "streams open and the flavor shown");
  await learnAndCheck(page, api, 5, 0);
  await waitFor(page, s => s.learns === "5" && s.tableTotal === 1, "5 learns counted and the model listed");

  await stopServe(srv); // restart on the same port and database: the page reconnects
  await waitFor(page, s => s.conn === "down" || s.streams < 2, "the page to notice the restart");
  srv = await startServe(dir, srv.port);
  assert.ok(!srv.error, srv.error);
  await waitFor(page, live, "streams reopened", 30000);
  await learnAndCheck(page, api, 3, 100);

  // A second model that scales its inputs, then traffic for the screenshot,
  // taken while requests still flow so that rates and events are live.
  const scaled = await api.upload("/api/model/scaled", "preprocessing.StandardScaler() | linear_model.LinearRegression()");
  const demo = scaled.status === 201 ? "scaled" : "lin";
  await demoTraffic(api, demo, 0, 600, 0);
  const tail = demoTraffic(api, demo, 600, 700, 30);
  await waitFor(page, s => s.points.MAE >= 8 + 595 && s.tableTotal === (demo === "lin" ? 1 : 2), "demo traffic on the charts");
  await sleep(2200);
  const shot = process.env.SCREENSHOT || path.join(ROOT, "build", "browser", "dashboard.png");
  fs.mkdirSync(path.dirname(shot), { recursive: true });
  await page.screenshot({ path: shot, fullPage: true });
  await tail;
  assert.deepEqual(errors, []);
});
