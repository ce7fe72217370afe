// Takes docs/m5-dashboard.png: the dashboard while `rivulet m5 demo` forecasts
// and learns through the API. Run from the repo root after `make browser-test`
// (which installs playwright-core in tests/browser):
//
//   node tools/demo-screenshot.js [series]
//
// It starts the demo on a fixed loopback port, opens the page in Debian's
// headless Chromium as soon as the server answers, keeps it open through the
// forecast and learn stages, then saves the screenshot and stops the demo.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawn } = require("child_process");
const { chromium } = require(path.join(__dirname, "..", "tests", "browser", "node_modules", "playwright-core"));

const ROOT = path.join(__dirname, "..");
const PORT = 5123;
const sleep = ms => new Promise(r => setTimeout(r, ms));

(async () => {
  const series = process.argv[2] || "3000";
  const demo = spawn(path.join(ROOT, "build/opt/rivulet"),
    ["m5", "demo", "--series", series, "--port", String(PORT), "--out", path.join(os.tmpdir(), "m5-shot.csv")],
    { stdio: ["ignore", "pipe", "inherit"] });
  let log = "";
  demo.stdout.on("data", d => { log += d; process.stdout.write(d); });
  const deadline = Date.now() + 300000;
  while (!/\[4\/8\]/.test(log) || !/serving on/.test(log)) {
    if (Date.now() > deadline) throw new Error("the demo did not reach its deploy stage");
    await sleep(100);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "rivulet-chromium-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium", headless: true, viewport: { width: 1360, height: 1400 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await ctx.newPage();
  await page.goto(`http://127.0.0.1:${PORT}/`);
  while (!/\[8\/8\]/.test(log)) {
    if (Date.now() > deadline) throw new Error("the demo did not finish");
    await sleep(200);
  }
  await sleep(2500); // let the page draw the last events and a /api/stats poll
  await page.screenshot({ path: path.join(ROOT, "docs", "m5-dashboard.png"), fullPage: true });
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
  demo.kill("SIGINT");
  console.log("saved docs/m5-dashboard.png");
})().catch(e => { console.error(e); process.exit(1); });
