// targets.mjs - the "Speed" targets: each one reads a figure from one run (a ratio of this
// package to the official SDK or a ceiling measured in that same run), and the report shows the
// median of those per-run figures against the threshold.

import { median, range } from "./stats.mjs";
import { NATIVE, OFFICIAL, TRACING } from "./clients.mjs";

const sdk = (run, label, scenario) => run.sdk[label]?.find((l) => l.scenario === scenario && !l.error) ?? null;
const rust = (run, c) => run.rust.find((l) => l.concurrency === c && !l.error) ?? null;
// "emulator-json" also matches the emulator's Rust binary ("emulator-bin-json") when that was
// measured instead of the Node entry point.
const loadgen = (run, label, phase) =>
  run.emulator.find((r) => r.label === label || r.label === label.replace(/^emulator-/, "emulator-bin-"))
    ?.lines.find((l) => l.phase === phase) ?? null;
/** The mean of `field` over a label's lines of `scenario` (a step may run a scenario more than once). */
function meanOf(run, label, scenario, field) {
  const values = (run.sdk[label] ?? []).filter((l) => l.scenario === scenario && !l.error).map((l) => l[field]);
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}
const ratio = (a, b) => (a == null || b == null || !(b > 0) ? null : a / b);

function sdkRatio(scenario, field) {
  return (run) => ratio(sdk(run, NATIVE.label, scenario)?.[field], sdk(run, OFFICIAL.label, scenario)?.[field]);
}

const CLIENT_SCENARIOS = ["a_send_json_c1", "b_send_json_c64", "c_send_1mib_bin_c8", "d_client_token_loop", "e_group_add_conn_c64"];

/** kind "ratio": value is × (shown as such); "abs": value in `unit`. `footprint` targets read the
 *  one footprint measurement instead of runs. */
export const TARGETS = [
  { id: "send_c64_vs_official", what: "sendToAll small JSON c=64 calls/s vs official", op: ">=", threshold: 20, kind: "ratio",
    perRun: sdkRatio("b_send_json_c64", "ops_per_s") },
  { id: "send_c64_vs_rust", what: "sendToAll small JSON c=64 calls/s vs Rust ceiling (tokio+reqwest, 1 thread)", op: ">=", threshold: 0.5, kind: "ratio",
    perRun: (run) => ratio(sdk(run, NATIVE.label, "b_send_json_c64")?.ops_per_s, rust(run, 64)?.ops_per_s) },
  { id: "p50_c1", what: "sendToAll c=1 p50 latency vs official", op: "<=", threshold: 0.2, kind: "ratio",
    perRun: sdkRatio("a_send_json_c1", "p50_ms") },
  { id: "cpu_c64", what: "CPU per sendToAll at c=64 vs official", op: "<=", threshold: 0.05, kind: "ratio",
    perRun: sdkRatio("b_send_json_c64", "cpu_ms_per_op") },
  { id: "token", what: "getClientAccessToken/s vs official", op: ">=", threshold: 50, kind: "ratio",
    perRun: sdkRatio("d_client_token_loop", "ops_per_s") },
  { id: "binary_1mib", what: "sendToAll 1 MiB binary c=8 MB/s vs official", op: ">=", threshold: 1.5, kind: "ratio",
    perRun: sdkRatio("c_send_1mib_bin_c8", "mb_per_s") },
  { id: "import", what: "cold import time vs official", op: "<=", threshold: 0.2, kind: "ratio",
    perRun: sdkRatio("f_cold_import", "import_ms_median") },
  { id: "import_identity", what: "cold import in an install with @azure/identity vs official", op: "<=", threshold: 0.2, kind: "ratio",
    footprint: (fp) => ratio(fp.native?.identity?.native_import_ms, fp.native?.identity?.official_import_ms) },
  { id: "paced_rss", what: "peak RSS above an empty Node at equal load (half the official c=64 rate) vs official", op: "<=", threshold: 1 / 3, kind: "ratio",
    perRun: sdkRatio("g_paced_send_json", "peak_rss_above_empty_mb") },
  { id: "tracing_idle", what: "CPU per sendToAll c=64 with @azure/core-tracing installed and no instrumenter vs without it", op: "<=",
    threshold: 1.05, kind: "ratio",
    perRun: (run) => ratio(meanOf(run, TRACING.idle, "b_send_json_c64", "cpu_ms_per_op"), meanOf(run, TRACING.none, "b_send_json_c64", "cpu_ms_per_op")) },
  { id: "install_size", what: "installed size (du -sk node_modules) vs official", op: "<=", threshold: 0.5, kind: "ratio",
    footprint: (fp) => ratio(fp.native?.node_modules_kib, fp.official?.node_modules_kib) },
  { id: "install_packages", what: "installed packages", op: "<=", threshold: 3, kind: "abs", unit: "",
    footprint: (fp) => fp.native?.packages ?? null },
  // Over the scenarios both SDKs completed; a failed scenario is reported as a correctness failure.
  { id: "peak_rss", what: "peak RSS in client scenarios vs official (worst of a–e)", op: "<=", threshold: 0.5, kind: "ratio",
    perRun: (run) => {
      const rs = CLIENT_SCENARIOS.map((s) => ratio(sdk(run, NATIVE.label, s)?.peak_rss_mb, sdk(run, OFFICIAL.label, s)?.peak_rss_mb))
        .filter((r) => r != null);
      return rs.length ? Math.max(...rs) : null;
    } },
  { id: "emu_held", what: "emulator: JSON connections held", op: ">=", threshold: 10000, kind: "abs", unit: "",
    thresholdFrom: (ctx) => ctx.connections,
    perRun: (run) => {
      const h = loadgen(run, "emulator-json", "hold");
      return h ? (h.dropped ? 0 : h.open) : null;
    } },
  { id: "emu_rss", what: "emulator RSS holding those JSON connections", op: "<=", threshold: 300, kind: "abs", unit: " MiB",
    perRun: (run) => loadgen(run, "emulator-json", "hold")?.server_rss_mb_held ?? null },
  { id: "emu_p99", what: "emulator: broadcast to all JSON clients, p99 REST call → last delivery", op: "<=", threshold: 250, kind: "abs", unit: " ms",
    perRun: (run) => loadgen(run, "emulator-json", "broadcast_latency")?.p99_last_delivery_ms ?? null },
  { id: "emu_fanout", what: "emulator broadcast deliveries/s vs fan-out ceiling (JSON)", op: ">=", threshold: 0.5, kind: "ratio",
    perRun: (run) => ratio(loadgen(run, "emulator-json", "broadcast_throughput")?.deliveries_per_s,
      loadgen(run, "ceiling-json", "broadcast_throughput")?.deliveries_per_s) },
  { id: "emu_viewed_p99", what: "emulator with the live-trace page open: broadcast p99 REST call → last delivery", op: "<=", threshold: 250,
    kind: "abs", unit: " ms", perRun: (run) => loadgen(run, "emulator-viewed-json", "broadcast_latency")?.p99_last_delivery_ms ?? null },
  { id: "emu_viewed_fanout", what: "emulator with the live-trace page open: deliveries/s vs fan-out ceiling (JSON)", op: ">=", threshold: 0.5,
    kind: "ratio", perRun: (run) => ratio(loadgen(run, "emulator-viewed-json", "broadcast_throughput")?.deliveries_per_s,
      loadgen(run, "ceiling-json", "broadcast_throughput")?.deliveries_per_s) },
];

/** [{ ...target, values (per run), value (median), range, pass (null = not measured) }];
 *  `ctx.connections` is the emulator run's connection count. */
export function evaluate(runs, footprint, ctx) {
  return TARGETS.map((target) => {
    const t = target.thresholdFrom ? { ...target, threshold: target.thresholdFrom(ctx) } : target;
    const values = t.footprint ? [t.footprint(footprint)] : runs.map(t.perRun);
    const value = median(values);
    const pass = value == null ? null : t.op === ">=" ? value >= t.threshold : value <= t.threshold;
    return { ...t, values, value, range: range(values), pass };
  });
}
