/* A virtualised, sortable, searchable table for many rows (the M5 family has
 * 30,490 keys).
 *
 * Only the rows in view (plus a few above and below) exist in the DOM: a
 * spacer as tall as all rows gives the scroll bar its size, and a pool of
 * row elements is moved and refilled on scroll. Sorting and filtering work
 * on an index array, so 30,490 rows sort in a few milliseconds. Cells whose
 * metric is in the worst tenth of all rows are marked, and "worst first"
 * sorts by the flavor's first metric with its bad end on top (descending for
 * errors such as MAE, ascending for scores such as Accuracy).
 *
 * Rows: {model, key (family key or null), n (learns, optional), metrics: {NAME: number}}.
 * The container carries data-total (rows) and data-shown (rows matching the
 * search), and data-sort ("MAE:desc"), which the browser test reads.
 */
"use strict";
window.RV = window.RV || {};

RV.VirtualTable = class {
  constructor(el, opts) {
    this.el = el;
    this.rowH = (opts && opts.rowHeight) || 26;
    this.onChange = (opts && opts.onChange) || (() => {});
    this.rows = [];
    this.view = [];        /* indices of rows matching the filter, in sort order */
    this.metrics = [];
    this.hasKeys = false;
    this.query = "";
    this.sort = { col: "model", dir: 1 };
    this.bad = {};         /* metric -> threshold of the worst tenth */
    this.head = document.createElement("div");
    this.head.className = "vrow vhead";
    this.body = document.createElement("div");
    this.body.className = "vbody";
    this.spacer = document.createElement("div");
    this.spacer.className = "vspacer";
    this.pane = document.createElement("div");
    this.pane.className = "vrows";
    this.body.append(this.spacer, this.pane);
    el.append(this.head, this.body);
    this.body.addEventListener("scroll", () => this.schedule(), { passive: true });
    this.head.addEventListener("click", e => {
      const col = e.target.dataset && e.target.dataset.col;
      if (col) this.sortBy(col, this.sort.col === col ? -this.sort.dir : this.defaultDir(col));
    });
    this.frame = 0;
  }

  columns() {
    const cols = [{ id: "rank", label: "#", num: true }, { id: "model", label: "model" }];
    if (this.hasKeys) cols.push({ id: "key", label: "key" });
    if (this.hasCounts) cols.push({ id: "n", label: "learns", num: true });
    for (const m of this.metrics) cols.push({ id: "m:" + m, label: m, num: true, metric: m });
    return cols;
  }

  defaultDir(col) {
    if (!col.startsWith("m:")) return col === "n" ? -1 : 1;
    return RV.higherIsBetter(col.slice(2)) ? 1 : -1; /* worst on top */
  }

  setMetrics(names) {
    if (names.join() === this.metrics.join()) return;
    this.metrics = names.slice();
    this.layoutDirty = true;
    this.schedule();
  }

  setRows(rows) {
    this.rows = rows;
    const keys = rows.some(r => r.key !== undefined && r.key !== null);
    if (keys !== this.hasKeys) { this.hasKeys = keys; this.layoutDirty = true; }
    const counts = rows.some(r => typeof r.n === "number");
    if (counts !== this.hasCounts) { this.hasCounts = counts; this.layoutDirty = true; }
    this.thresholds();
    this.refilter();
  }

  thresholds() {
    this.bad = {};
    if (this.rows.length < 10) return;
    for (const m of this.metrics) {
      const vals = [];
      for (const r of this.rows) { const v = r.metrics && r.metrics[m]; if (typeof v === "number" && isFinite(v)) vals.push(v); }
      if (vals.length < 10) continue;
      vals.sort((a, b) => a - b);
      const hib = RV.higherIsBetter(m);
      this.bad[m] = { hib, t: hib ? vals[Math.floor(vals.length * 0.1)] : vals[Math.ceil(vals.length * 0.9) - 1] };
    }
  }

  setQuery(q) { this.query = q.trim().toLowerCase(); this.refilter(); }

  sortBy(col, dir) { this.sort = { col, dir }; this.layoutDirty = true; this.refilter(); }

  worstFirst() {
    if (!this.metrics.length) return;
    const col = "m:" + this.metrics[0];
    this.sortBy(col, this.defaultDir(col));
    this.body.scrollTop = 0;
  }

  value(r, col) {
    if (col === "model") return r.model;
    if (col === "key") return r.key === undefined || r.key === null ? "" : String(r.key);
    if (col === "n") return r.n;
    const v = r.metrics && r.metrics[col.slice(2)];
    return typeof v === "number" ? v : undefined;
  }

  refilter() {
    const q = this.query, rows = this.rows;
    const view = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (!q || r.model.toLowerCase().includes(q) || (r.key !== undefined && r.key !== null && String(r.key).toLowerCase().includes(q)))
        view.push(i);
    }
    const { col, dir } = this.sort;
    if (col !== "rank") {
      const vals = rows.map(r => this.value(r, col));
      view.sort((a, b) => {
        const x = vals[a], y = vals[b];
        const xm = x === undefined || x === null || (typeof x === "number" && isNaN(x));
        const ym = y === undefined || y === null || (typeof y === "number" && isNaN(y));
        if (xm || ym) return xm === ym ? a - b : xm ? 1 : -1; /* missing last */
        if (x < y) return -dir;
        if (x > y) return dir;
        return a - b;
      });
    }
    this.view = view;
    this.el.dataset.total = String(rows.length);
    this.el.dataset.shown = String(view.length);
    this.el.dataset.sort = col + ":" + (dir > 0 ? "asc" : "desc");
    this.onChange(this);
    this.schedule();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  layout() {
    const cols = this.columns();
    const tpl = cols.map(c => c.id === "rank" ? "56px" : c.id === "model" ? "minmax(120px, 1.4fr)"
      : c.id === "key" ? "minmax(140px, 1.6fr)" : "minmax(80px, 1fr)").join(" ");
    this.template = tpl;
    this.head.style.gridTemplateColumns = tpl;
    this.head.textContent = "";
    for (const c of cols) {
      const s = document.createElement("span");
      s.dataset.col = c.id;
      if (c.num) s.className = "num";
      const sorted = this.sort.col === c.id;
      if (sorted) s.classList.add("sorted");
      s.textContent = c.label + (sorted ? (this.sort.dir > 0 ? " ▲" : " ▼") : "");
      this.head.append(s);
    }
    this.pane.textContent = "";
    this.layoutDirty = false;
  }

  render() {
    if (this.layoutDirty) this.layout();
    const cols = this.columns(), n = this.view.length, rh = this.rowH;
    this.spacer.style.height = n * rh + "px";
    this.body.style.height = Math.min(390, Math.max(n, 2) * rh + 4) + "px"; /* no empty box for a few rows */
    const first = Math.max(0, Math.floor(this.body.scrollTop / rh) - 4);
    const count = Math.min(n - first, Math.ceil(390 / rh) + 8);
    while (this.pane.children.length < count) {
      const row = document.createElement("div");
      row.className = "vrow";
      row.style.gridTemplateColumns = this.template;
      for (const c of cols) { const s = document.createElement("span"); if (c.num) s.className = "num"; row.append(s); }
      this.pane.append(row);
    }
    while (this.pane.children.length > Math.max(count, 0)) this.pane.lastChild.remove();
    this.pane.style.transform = "translateY(" + first * rh + "px)";
    for (let k = 0; k < count; k++) this.fill(this.pane.children[k], cols, first + k);
    if (n === 0 && !this.empty) {
      this.empty = document.createElement("div");
      this.empty.className = "vempty";
      this.body.append(this.empty);
    }
    if (this.empty) {
      this.empty.hidden = n !== 0;
      this.empty.textContent = this.rows.length ? "no model matches the search" : "no models yet";
    }
  }

  fill(row, cols, pos) {
    const r = this.rows[this.view[pos]];
    row.dataset.model = r.model;
    if (r.key !== undefined && r.key !== null) row.dataset.key = r.key; else delete row.dataset.key;
    for (let c = 0; c < cols.length; c++) {
      const cell = row.children[c], col = cols[c];
      let text;
      if (col.id === "rank") text = RV.fmtCount(pos + 1);
      else if (col.id === "model" || col.id === "key") text = this.value(r, col.id);
      else if (col.id === "n") text = RV.fmtCount(r.n);
      else text = RV.fmtNum(this.value(r, col.id));
      if (cell.textContent !== text) cell.textContent = text;
      if (col.metric) {
        const b = this.bad[col.metric], v = this.value(r, col.id);
        const isBad = !!b && v !== undefined && (b.hib ? v <= b.t : v >= b.t);
        cell.style.color = isBad ? "var(--bad)" : "";
      }
    }
  }
};
