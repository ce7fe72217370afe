/* Number, duration and size formatting shared by the dashboard's scripts.
 * Missing values (undefined, null, NaN) always print as an em dash, so a
 * field the server does not send shows as "—" rather than as "undefined". */
"use strict";
window.RV = window.RV || {};

RV.missing = function (v) {
  return v === undefined || v === null || (typeof v === "number" && !isFinite(v));
};

/* Four significant digits, thousands separated; tiny and huge in e-notation. */
RV.fmtNum = function (v) {
  if (RV.missing(v)) return "—";
  if (typeof v !== "number") return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e9)) return v.toExponential(3);
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  return v.toLocaleString("en-US", { maximumSignificantDigits: 4 });
};

/* Short tick labels: 3 significant digits, e-notation outside [1e-3, 1e5). */
RV.fmtAxis = function (v) {
  if (RV.missing(v)) return "";
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a < 1e-3 || a >= 1e5) return v.toExponential(1);
  return String(+v.toPrecision(3));
};

RV.fmtCount = function (v) {
  return RV.missing(v) ? "—" : Math.round(v).toLocaleString("en-US");
};

RV.fmtRate = function (v) {
  if (RV.missing(v)) return "—";
  return v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(1);
};

/* Nanoseconds as "812ns", "41.2µs", "3.07ms", "1.20s". */
RV.fmtNs = function (ns) {
  if (RV.missing(ns)) return "—";
  if (ns < 1e3) return Math.round(ns) + "ns";
  if (ns < 1e6) return (ns / 1e3).toPrecision(3) + "µs";
  if (ns < 1e9) return (ns / 1e6).toPrecision(3) + "ms";
  return (ns / 1e9).toPrecision(3) + "s";
};

RV.fmtBytes = function (b) {
  if (RV.missing(b)) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return (i === 0 ? b : b.toFixed(1)) + " " + units[i];
};

RV.fmtDuration = function (s) {
  if (RV.missing(s)) return "—";
  s = Math.max(0, Math.floor(s));
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  const parts = [];
  if (d) parts.push(d + "d");
  if (d || h) parts.push(h + "h");
  if (d || h || m) parts.push(m + "m");
  parts.push((s % 60) + "s");
  return parts.join(" ");
};

RV.fmtTime = function (ms) {
  const t = new Date(ms);
  const p = (n, w) => String(n).padStart(w || 2, "0");
  return p(t.getHours()) + ":" + p(t.getMinutes()) + ":" + p(t.getSeconds()) + "." + p(t.getMilliseconds(), 3);
};

/* Metrics where a larger value is better; every other metric is an error. */
RV.higherIsBetter = function (name) {
  return /accuracy|precision|recall|f1|r2|auc/i.test(name);
};

RV.palette = ["#4fb3ff", "#3ecf8e", "#f5b942", "#ff6b6b", "#c38bff", "#5ce1e6", "#ff9f5a", "#a3d977"];
