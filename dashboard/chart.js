/* A small line chart on <canvas>, for series that grow by one point at a time.
 *
 * Each series keeps its last `cap` points in a ring buffer (Float64Array), so
 * memory is bounded however long the page stays open. push() only records;
 * draw() is called at most once per animation frame by the owner. When there
 * are more points than pixel columns, each column draws the min and max of its
 * points (a classic decimation that keeps spikes visible), so a frame costs
 * O(width) canvas calls, not O(points).
 *
 * The canvas carries data-points (points held for the first series) and
 * data-total (points ever pushed), which the browser test reads.
 */
"use strict";
window.RV = window.RV || {};

RV.LineChart = class {
  constructor(canvas, names, opts) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.cap = (opts && opts.cap) || 3000;
    this.series = names.map((name, i) => ({
      name, color: RV.palette[i % RV.palette.length], buf: new Float64Array(this.cap),
    }));
    this.n = 0;        /* points held (<= cap) */
    this.head = 0;     /* next write position */
    this.total = 0;    /* points ever pushed */
    this.legend = names.length > 1;
    /* x-axis end labels, from the first and last point numbers */
    this.xLabels = (opts && opts.xLabels) || ((first, last) => [RV.fmtCount(first), RV.fmtCount(last)]);
    this.update();
  }

  clear() { this.n = 0; this.head = 0; this.total = 0; this.update(); }

  /* values: one number per series (NaN for a gap). */
  push(values) {
    for (let s = 0; s < this.series.length; s++) {
      const v = values[s];
      this.series[s].buf[this.head] = typeof v === "number" ? v : NaN;
    }
    this.head = (this.head + 1) % this.cap;
    if (this.n < this.cap) this.n++;
    this.total++;
    this.update();
  }

  update() {
    this.canvas.dataset.points = String(this.n);
    this.canvas.dataset.total = String(this.total);
  }

  at(s, i) { /* i-th held point, oldest first */
    return this.series[s].buf[(this.head - this.n + i + this.cap) % this.cap];
  }

  last(s) { return this.n ? this.at(s, this.n - 1) : NaN; }

  range() {
    let lo = Infinity, hi = -Infinity;
    for (let s = 0; s < this.series.length; s++)
      for (let i = 0; i < this.n; i++) {
        const v = this.at(s, i);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    if (lo === Infinity) return [0, 1];
    if (lo === hi) { const d = Math.abs(lo) * 0.1 || 1; return [lo - d, hi + d]; }
    const pad = (hi - lo) * 0.06;
    return [lo >= 0 && lo - pad < 0 ? 0 : lo - pad, hi + pad];
  }

  resize() {
    const dpr = window.devicePixelRatio || 1, r = this.canvas.getBoundingClientRect();
    const w = Math.max(50, Math.round(r.width * dpr)), h = Math.max(50, Math.round(r.height * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) { this.canvas.width = w; this.canvas.height = h; }
    return dpr;
  }

  draw() {
    const dpr = this.resize(), ctx = this.ctx, W = this.canvas.width, H = this.canvas.height;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.scale(dpr, dpr);
    const w = W / dpr, h = H / dpr, left = 58, right = 8, top = 8, bottom = 18;
    const pw = w - left - right, ph = h - top - bottom;
    const [lo, hi] = this.range();
    const y = v => top + ph - (v - lo) / (hi - lo) * ph;
    this.axes(ctx, lo, hi, y, left, top, pw, ph);
    if (this.n === 0) {
      ctx.fillStyle = "#8a98a8"; ctx.font = "12px system-ui, sans-serif";
      ctx.fillText("waiting for data…", left + 8, top + ph / 2);
      return;
    }
    for (let s = 0; s < this.series.length; s++) this.line(ctx, s, y, left, pw);
    if (this.legend) this.drawLegend(ctx, left, top);
  }

  axes(ctx, lo, hi, y, left, top, pw, ph) {
    ctx.strokeStyle = "#263241"; ctx.fillStyle = "#8a98a8"; ctx.lineWidth = 1;
    ctx.font = "11px ui-monospace, monospace"; ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (let k = 0; k <= 3; k++) {
      const v = lo + (hi - lo) * k / 3, yy = Math.round(y(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(left + pw, yy); ctx.stroke();
      ctx.fillText(RV.fmtAxis(v), left - 6, yy);
    }
    ctx.textAlign = "left"; ctx.textBaseline = "alphabetic";
    const [a, b] = this.n ? this.xLabels(this.total - this.n + 1, this.total, this.n) : ["", ""];
    ctx.fillText(a, left, top + ph + 14);
    ctx.textAlign = "right";
    ctx.fillText(b, left + pw, top + ph + 14);
    ctx.textAlign = "left";
  }

  line(ctx, s, y, left, pw) {
    const n = this.n, color = this.series[s].color;
    ctx.strokeStyle = color; ctx.lineWidth = 1.6; ctx.lineJoin = "round";
    ctx.beginPath();
    let pen = false;
    const cols = Math.floor(pw);
    if (n <= cols) {
      for (let i = 0; i < n; i++) {
        const v = this.at(s, i), x = left + (n === 1 ? pw : i / (n - 1) * pw);
        if (!isFinite(v)) { pen = false; continue; }
        if (pen) ctx.lineTo(x, y(v)); else ctx.moveTo(x, y(v));
        pen = true;
      }
    } else {
      for (let c = 0; c < cols; c++) {
        const i0 = Math.floor(c * n / cols), i1 = Math.floor((c + 1) * n / cols);
        let mn = Infinity, mx = -Infinity;
        for (let i = i0; i < i1; i++) { const v = this.at(s, i); if (v < mn) mn = v; if (v > mx) mx = v; }
        if (mn === Infinity) { pen = false; continue; }
        const x = left + c + 0.5;
        if (pen) ctx.lineTo(x, y(mx)); else ctx.moveTo(x, y(mx));
        ctx.lineTo(x, y(mn));
        pen = true;
      }
    }
    ctx.stroke();
    const v = this.last(s);
    if (isFinite(v)) { ctx.fillStyle = color; ctx.beginPath(); ctx.arc(left + pw, y(v), 2.6, 0, 7); ctx.fill(); }
  }

  drawLegend(ctx, left, top) {
    ctx.font = "11px system-ui, sans-serif";
    let x = left + 8;
    for (const s of this.series) {
      ctx.fillStyle = s.color; ctx.fillRect(x, top + 4, 10, 3);
      ctx.fillStyle = "#dce3ea"; ctx.fillText(s.name, x + 14, top + 10);
      x += 24 + ctx.measureText(s.name).width;
    }
  }
};
