// stats.mjs - medians over runs and number formatting for the report.

export function median(xs) {
  const v = xs.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function range(xs) {
  const v = xs.filter((x) => typeof x === "number" && Number.isFinite(x));
  return v.length ? [Math.min(...v), Math.max(...v)] : null;
}

/** Three significant digits, thousands separated. */
export function fmt(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

/** "median (min–max)" when there is more than one run. */
export function fmtRuns(xs) {
  const m = median(xs);
  const r = range(xs);
  if (m === null) return "–";
  return r && xs.length > 1 && r[0] !== r[1] ? `${fmt(m)} (${fmt(r[0])}–${fmt(r[1])})` : fmt(m);
}
