// report.mjs - turns the runs into the markdown report (targets with pass/fail, then every
// figure as median (min–max) over runs) and two SVG charts (target attainment, calls/s).

import { NATIVE, OFFICIAL, TRACING } from "./clients.mjs";
import { fmt, fmtRuns, median } from "./stats.mjs";
import { memoryTables } from "./memory.mjs";

const SCENARIO_NAMES = {
  a_send_json_c1: "a sendToAll small JSON, c=1",
  b_send_json_c64: "b sendToAll small JSON, c=64",
  c_send_1mib_bin_c8: "c sendToAll 1 MiB binary, c=8",
  d_client_token_loop: "d getClientAccessToken loop",
  e_group_add_conn_c64: "e group.addConnection, c=64",
};

function showValue(t, v) {
  if (v == null) return "not measured";
  return t.kind === "ratio" ? `${fmt(v)}×` : `${fmt(v)}${t.unit ?? ""}`;
}

function verdict(t) {
  return t.pass == null ? "n/a" : t.pass ? "**pass**" : "**MISS**";
}

function targetsTable(targets) {
  const rows = targets.map((t) => {
    const spread = t.values.length > 1 && t.range ? ` (${showValue(t, t.range[0])}–${showValue(t, t.range[1])})` : "";
    return `| ${t.what} | ${t.op === ">=" ? "≥" : "≤"} ${showValue(t, t.threshold)} | ${showValue(t, t.value)}${t.value == null ? "" : spread} | ${verdict(t)} |`;
  });
  return ["| target | need | measured (median of per-run figures) | |", "|---|---:|---:|:-:|", ...rows].join("\n");
}

/** What bounds the peak-RSS ratio from below: Node's own peak, against half the official SDK's
 *  smallest scenario peak. */
function rssFloor(runs) {
  const f = (label, k) => median(collect(runs, (r) => r.sdk[label]?.find((l) => l.scenario === "f_cold_import")?.[k]));
  const empty = f(OFFICIAL.label, "node_empty_peak_rss_mb");
  const peaks = Object.keys(SCENARIO_NAMES).map((s) => median(collect(runs, (r) => r.sdk[OFFICIAL.label]?.find((l) => l.scenario === s)?.peak_rss_mb)));
  const smallest = Math.min(...peaks.filter((p) => p != null));
  if (empty == null || !Number.isFinite(smallest)) return null;
  return `Peak RSS floor: a Node process that imports nothing peaks at ${fmt(empty)} MiB, one that only imports this package at ` +
    `${fmt(f(NATIVE.label, "import_peak_rss_mb"))} MiB; half of the official SDK's smallest scenario peak is ${fmt(smallest / 2)} MiB ` +
    `(lowest reachable worst-case ratio ${fmt(empty / smallest)}×).`;
}

function collect(runs, pick) {
  return runs.map(pick).map((x) => (typeof x === "number" ? x : null));
}

function sdkTable(runs, label) {
  const line = (run, s) => run.sdk[label]?.find((l) => l.scenario === s);
  const rows = Object.entries(SCENARIO_NAMES).map(([s, name]) => {
    const f = (k) => fmtRuns(collect(runs, (r) => line(r, s)?.[k]));
    const errors = runs.reduce((n, r) => n + (line(r, s)?.errors ?? 0), 0);
    return `| ${name} | ${f("ops_per_s")} | ${f("p50_ms")} | ${f("p99_ms")} | ${f("cpu_ms_per_op")} | ${f("peak_rss_mb")} | ${f("mb_per_s")} | ${errors} |`;
  });
  const imp = (k) => fmtRuns(collect(runs, (r) => line(r, "f_cold_import")?.[k]));
  const paced = (k) => fmtRuns(collect(runs, (r) => line(r, "g_paced_send_json")?.[k]));
  const pacedErrors = runs.reduce((n, r) => n + (line(r, "g_paced_send_json")?.errors ?? 0), 0);
  return [
    "| scenario | calls/s | p50 ms | p99 ms | CPU ms/call | peak RSS MiB | MB/s | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
    `| f cold import (in-process ms / process wall ms / empty node ms) | ${imp("import_ms_median")} / ${imp("proc_wall_ms_median")} / ${imp("node_empty_wall_ms_median")} | | | | ${imp("import_peak_rss_mb")} (empty node ${imp("node_empty_peak_rss_mb")}) | | |`,
    `| g sendToAll small JSON paced at ${paced("rate_per_s")}/s (RSS above an empty Node: peak / settled) | ${paced("ops_per_s")} | | | | ${paced("peak_rss_above_empty_mb")} / ${paced("settled_rss_above_empty_mb")} | | ${pacedErrors} |`,
  ].join("\n");
}

function tracingTable(runs) {
  // A label run twice in one run shows the mean of its two lines.
  const lines = (run, label) => run.sdk[label]?.filter((l) => l.scenario === "b_send_json_c64") ?? [];
  const mean = (run, label, k) => {
    const values = lines(run, label).map((l) => l[k]).filter((v) => typeof v === "number");
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  };
  const rows = Object.values(TRACING).map((label) => {
    const f = (k) => fmtRuns(collect(runs, (r) => mean(r, label, k)));
    const errors = runs.reduce((n, r) => n + lines(r, label).reduce((m, l) => m + (l.errors ?? 0), 0), 0);
    return `| ${label.replace(/^tracing: /, "")} | ${f("ops_per_s")} | ${f("p50_ms")} | ${f("p99_ms")} | ${f("cpu_ms_per_op")} | ${errors} |`;
  });
  return ["| sendToAll small JSON c=64 | calls/s | p50 ms | p99 ms | CPU ms/call | errors |", "|---|---:|---:|---:|---:|---:|", ...rows].join("\n");
}

function rustTable(runs) {
  const clients = [
    ["rust-ceiling (tokio + reqwest, 1 thread)", (r) => r.rust],
    ["core-client (this package's Rust core, no Node, 1 thread)", (r) => r.core ?? []],
  ];
  const rows = clients.flatMap(([name, linesOf]) => [1, 64].map((c) => {
    const f = (k) => fmtRuns(collect(runs, (r) => linesOf(r).find((l) => l.concurrency === c)?.[k]));
    return `| ${name}, c=${c} | ${f("ops_per_s")} | ${f("p50_ms")} | ${f("p99_ms")} | ${f("cpu_ms_per_op")} | ${f("peak_rss_mb")} |`;
  }));
  return ["| client | calls/s | p50 ms | p99 ms | CPU ms/call | peak RSS MiB |", "|---|---:|---:|---:|---:|---:|", ...rows].join("\n");
}

function emulatorTables(runs) {
  const labels = [...new Set(runs.flatMap((r) => r.emulator.map((e) => e.label)))];
  if (labels.length === 0) return "(not run)";
  const phase = (run, label, p) => run.emulator.find((e) => e.label === label)?.lines.find((l) => l.phase === p);
  const held = labels.map((label) => {
    const f = (p, k) => fmtRuns(collect(runs, (r) => phase(r, label, p)?.[k]));
    const errors = runs.reduce((n, r) => n + (phase(r, label, "summary")?.errors ?? 0), 0);
    return `| ${label} | ${f("connect", "connected")} / ${f("connect", "connections_requested")} | ${f("connect", "connects_per_s")} | ${f("hold", "open")} | ${f("hold", "server_rss_mb_held")} | ${f("hold", "server_rss_kib_per_connection")} | ${f("summary", "server_peak_rss_mb")} | ${errors} |`;
  });
  const phases = ["broadcast_latency", "broadcast_throughput", "group_latency", "user_latency"];
  const sends = labels.flatMap((label) => phases.map((p) => {
    const f = (k) => fmtRuns(collect(runs, (r) => phase(r, label, p)?.[k]));
    const undelivered = runs.reduce((n, r) => n + (phase(r, label, p)?.undelivered ?? 0), 0);
    return `| ${label} | ${p} | ${f("receivers_per_message")} | ${f("window")} | ${f("p50_last_delivery_ms")} | ${f("p99_last_delivery_ms")} | ${f("deliveries_per_s")} | ${undelivered} |`;
  }));
  return [
    "| server-protocol | connected | connects/s | open after hold | server RSS MiB held | KiB per connection | server peak RSS MiB | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...held,
    "",
    "| server-protocol | phase | receivers/msg | in flight | p50 ms to last delivery | p99 ms | deliveries/s | undelivered |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
    ...sends,
  ].join("\n");
}

function footprintTable(fp) {
  const row = (name, f) => f?.error ? `| ${name} | ${f.error} | | | |` :
    `| ${name} | ${f?.packages ?? "–"} | ${f ? fmt(f.node_modules_kib) : "–"} (${f?.du_sh ?? "–"}) | ${f?.files ?? "–"} | ${f ? fmt(f.install_s) : "–"} |`;
  return [
    "| package | packages | node_modules KiB (du -sh) | files | install s |",
    "|---|---:|---:|---:|---:|",
    row("@azure/web-pubsub 1.2.0 (pinned lock)", fp.official),
    row("web-pubsub-native (npm pack + linux-x64-gnu platform package)", fp.native),
    "",
    identityImports(fp.native?.identity),
  ].join("\n");
}

/** Cold import of both SDKs in one install that also has @azure/identity (and so this package's optional peers). */
function identityImports(identity) {
  if (!identity) return "Cold import with @azure/identity installed: not measured.";
  if (identity.error) return `Cold import with @azure/identity installed: ${identity.error}`;
  return [
    "Cold import (median of 5 fresh processes) in one install of both SDKs with `@azure/identity@4`:",
    "",
    "| package | import ms |",
    "|---|---:|",
    `| @azure/web-pubsub 1.2.0 | ${fmt(identity.official_import_ms)} |`,
    `| web-pubsub-native | ${fmt(identity.native_import_ms)} |`,
  ].join("\n");
}

export function markdown({ targets, runs, footprint, memory = [], failures, meta }) {
  const out = [];
  out.push(`# web-pubsub-native benchmark`, "");
  out.push(`${meta.date}; ${meta.runs} run(s), each SDK scenario ${meta.duration} s after ${meta.warmup} s warm-up; ` +
    `${meta.machine}. Figures are medians of the runs (min–max in brackets); target ratios are computed within each run, then the median is taken.`, "");
  if (meta.notes.length) out.push(...meta.notes.map((n) => `> ${n}`), "");
  if (failures.length) {
    out.push("## CORRECTNESS FAILURES", "", ...failures.map((f) => `- ${f}`), "");
  }
  out.push("## Targets", "", targetsTable(targets), "");
  const floor = rssFloor(runs);
  if (floor) out.push(floor, "");
  out.push(`## REST client: \`${OFFICIAL.label}\``, "", sdkTable(runs, OFFICIAL.label), "");
  if (runs.some((r) => r.sdk[NATIVE.label])) out.push(`## REST client: \`${NATIVE.label}\` (this package)`, "", sdkTable(runs, NATIVE.label), "");
  if (runs.some((r) => r.sdk[TRACING.none])) out.push("## Tracing through @azure/core-tracing", "", tracingTable(runs), "");
  out.push("## Native ceiling and Rust core (same POST, same target)", "", rustTable(runs), "");
  out.push("## Emulator and fan-out ceiling", "", emulatorTables(runs), "");
  out.push("## Memory under load (last step, one run)", "", memoryTables(memory), "");
  out.push("## Installed footprint", "", footprintTable(footprint), "");
  return out.join("\n");
}

// ---------------------------------------------------------------- SVG

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Each target as a bar of log10(measured ÷ required), oriented so that right of the centre
 *  line means met: green bars reach right, red bars left. */
export function targetsSvg(targets) {
  const rows = targets.filter((t) => t.value != null);
  const W = 980, left = 470, mid = left + 240, half = 230, rowH = 26, top = 40;
  const H = top + rows.length * rowH + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">Targets: measured ÷ required (log scale; right of the line = met)</text>`,
  ];
  const scale = (x) => Math.max(-half, Math.min(half, (Math.log10(x) / 2) * half));
  rows.forEach((t, i) => {
    const attain = t.op === ">=" ? t.value / t.threshold : t.threshold / Math.max(t.value, 1e-9);
    const w = scale(attain);
    const y = top + i * rowH;
    parts.push(`<text x="10" y="${y + 16}">${esc(t.what)}</text>`);
    parts.push(`<rect x="${w >= 0 ? mid : mid + w}" y="${y + 4}" width="${Math.max(Math.abs(w), 1)}" height="${rowH - 8}" fill="${t.pass ? "#2e8b57" : "#c0392b"}"/>`);
    parts.push(`<text x="${w >= 0 ? mid + w + 4 : mid + 4}" y="${y + 16}">${esc(`${showValue(t, t.value)} (need ${t.op === ">=" ? "≥" : "≤"} ${showValue(t, t.threshold)})`)}</text>`);
  });
  const axisY = top + rows.length * rowH + 4;
  parts.push(`<line x1="${mid}" y1="${top}" x2="${mid}" y2="${axisY}" stroke="black"/>`);
  for (const [x, label] of [[0.01, "÷100"], [0.1, "÷10"], [1, "target"], [10, "×10"], [100, "×100"]]) {
    parts.push(`<text x="${mid + scale(x)}" y="${axisY + 16}" text-anchor="middle" fill="#555">${label}</text>`);
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/** The line of a c=1 / c=64 native client that matches small-JSON scenario `s`. */
const SMALL_JSON_CONCURRENCY = { a_send_json_c1: 1, b_send_json_c64: 64 };
function smallJson(lines, s) {
  const c = SMALL_JSON_CONCURRENCY[s];
  return c === undefined ? undefined : lines.find((l) => l.concurrency === c);
}

/** Calls/s per REST scenario for the official SDK, this package and (for small JSON) the native
 *  ceiling and this package's Rust core, log scale. */
export function throughputSvg(runs) {
  const series = [
    { name: OFFICIAL.label, color: "#7f8c8d", get: (r, s) => r.sdk[OFFICIAL.label]?.find((l) => l.scenario === s)?.ops_per_s },
    { name: NATIVE.label, color: "#2980b9", get: (r, s) => r.sdk[NATIVE.label]?.find((l) => l.scenario === s)?.ops_per_s },
    { name: "rust-ceiling", color: "#e67e22", get: (r, s) => smallJson(r.rust, s)?.ops_per_s },
    { name: "Rust core, no Node", color: "#8e44ad", get: (r, s) => smallJson(r.core ?? [], s)?.ops_per_s },
  ];
  const scenarios = Object.keys(SCENARIO_NAMES);
  const W = 980, left = 260, plot = 560, barH = 12, groupH = series.length * barH + 14, top = 44;
  const H = top + scenarios.length * groupH + 40;
  const lo = 1, hi = 6; // 10 .. 1,000,000 calls/s
  const x = (v) => left + Math.max(0, Math.min(1, (Math.log10(v) - lo) / (hi - lo))) * plot;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">Calls per second (median of runs, log scale)</text>`,
  ];
  series.forEach((s, i) => {
    parts.push(`<rect x="${left + i * 170}" y="30" width="10" height="10" fill="${s.color}"/><text x="${left + i * 170 + 14}" y="39">${esc(s.name)}</text>`);
  });
  scenarios.forEach((sc, g) => {
    const y0 = top + g * groupH;
    parts.push(`<text x="10" y="${y0 + barH * 2}">${esc(SCENARIO_NAMES[sc])}</text>`);
    series.forEach((s, i) => {
      const v = median(runs.map((r) => s.get(r, sc)));
      if (v == null) return;
      const y = y0 + i * barH;
      parts.push(`<rect x="${left}" y="${y}" width="${x(v) - left}" height="${barH - 2}" fill="${s.color}"/>`);
      parts.push(`<text x="${x(v) + 4}" y="${y + barH - 3}" font-size="10">${esc(fmt(v))}</text>`);
    });
  });
  const axisY = top + scenarios.length * groupH + 4;
  for (let e = lo; e <= hi; e++) {
    parts.push(`<line x1="${x(10 ** e)}" y1="${top - 4}" x2="${x(10 ** e)}" y2="${axisY}" stroke="#ddd"/>`);
    parts.push(`<text x="${x(10 ** e)}" y="${axisY + 14}" text-anchor="middle" fill="#555">${(10 ** e).toLocaleString("en-US")}</text>`);
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
