#!/usr/bin/env node
// sdk-bench.mjs - performance baseline for a Web PubSub *server* SDK that
// exports `WebPubSubServiceClient` (the official `@azure/web-pubsub`, or a
// drop-in replacement such as a napi-rs build).
//
// Usage:
//   node bench/sdk-bench.mjs [--sdk <specifier|path>] [--endpoint <url>]
//        [--duration <s>] [--warmup <s>] [--scenarios a,b,c,d,e,f,g] [--rate <calls/s>]
//        [--import-runs <n>] [--label <text>] [--instrumenter on]
//
//   --sdk        module to import (default "@azure/web-pubsub"). A bare
//                specifier is looked up in node_modules from the current
//                directory upwards (then from this file's directory); a path
//                ("./x", "/x", "file:...") may name a file or a package dir.
//                Package entry points are resolved like Node's ESM loader
//                ("exports" with conditions node/import/default, else "main").
//   --endpoint   HTTP target (default http://127.0.0.1:18080). Loopback only.
//   --duration   measured seconds per scenario (default 4)
//   --warmup     warm-up seconds per scenario before measuring (default 1)
//   --scenarios  subset of a..g (default a..f; g needs --rate)
//   --rate       calls per second of scenario g
//   --import-runs  runs of the cold-import probe (default 5, median reported)
//   --label      free text copied into every output line (default "")
//   --instrumenter on: register a recording tracing instrumenter through the
//                @azure/core-tracing the SDK resolves, before it is imported
//                (every span is made, given attributes and ended; its headers
//                are sent), to measure what tracing costs
//
// Scenarios (each runs in its own fresh child process, so peak RSS and JIT /
// heap state belong to that scenario alone):
//   a  sendToAll small JSON {hello:"world", n:i}, concurrency 1
//   b  sendToAll small JSON, concurrency 64 (64 in-flight promises)
//   c  sendToAll 1 MiB Uint8Array (application/octet-stream), concurrency 8
//   d  getClientAccessToken({userId, groups, roles}) in a tight await loop
//   e  group("g1").addConnection("conn-"+i), concurrency 64
//   f  cold import: fresh `node -e` processes importing the module
//   g  sendToAll small JSON paced at --rate calls/s (both SDKs at the same load): peak and settled resident
//      memory above an empty Node's
//
// Output: exactly one JSON line per scenario on stdout, every line with the
// same keys in the same order (null where a figure does not apply). Progress
// and diagnostics go to stderr. Exit code 1 if any scenario failed or saw
// request errors.
//
// Field meanings:
//   ops_per_s      successful operations / measured wall seconds (the window
//                  ends when the last in-flight operation settles)
//   p50_ms/p99_ms  per-operation latency (call -> promise settled); beyond
//                  100,000 calls, from a uniform random sample of 100,000
//   cpu_ms_per_op  process.cpuUsage() user+system delta over the window / ops
//                  (all threads of the Node process: main, libuv pool, GC)
//   cpu_util       that CPU time / wall time (1.0 = one core busy)
//   peak_rss_mb    getrusage maxRSS of the scenario's child process, MiB
//                  (covers import + warm-up + measurement)
//   mb_per_s       payload bytes / s / 1e6 (scenario c only)
//   target_requests requests the nginx target counted during the window (its
//                  stub_status page); fewer than `ops` is reported as an error
//   f: import_ms_* = time inside the fresh process from just before
//      `await import()` to just after; proc_wall_ms_median = spawn-to-exit
//      wall time of that process; node_empty_wall_ms_median = the same for a
//      process that imports nothing (so the difference is the import cost);
//      import_peak_rss_mb / node_empty_peak_rss_mb = maxRSS of those two
//      processes (medians): the floor under every scenario's peak RSS.
//
// Only Node built-ins are used.

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";

const SCHEMA = 1;
const HUB = "bench";
// 32 fixed bytes, base64: 44 characters. Any key works against the target.
const ACCESS_KEY = Buffer.alloc(32, 7).toString("base64");
const ONE_MIB = 1024 * 1024;

const SCENARIOS = {
  a: { name: "a_send_json_c1", concurrency: 1, kind: "send_json" },
  b: { name: "b_send_json_c64", concurrency: 64, kind: "send_json" },
  c: { name: "c_send_1mib_bin_c8", concurrency: 8, kind: "send_bin" },
  d: { name: "d_client_token_loop", concurrency: 1, kind: "token" },
  e: { name: "e_group_add_conn_c64", concurrency: 64, kind: "group_add" },
  f: { name: "f_cold_import", concurrency: null, kind: "import" },
  g: { name: "g_paced_send_json", concurrency: null, kind: "paced" },
};

// Fixed key order of every output line.
const KEYS = [
  "tool", "schema", "label", "sdk", "sdk_name", "sdk_version", "sdk_entry",
  "node", "scenario", "concurrency", "duration_s", "ops", "errors",
  "ops_per_s", "p50_ms", "p99_ms", "mean_ms", "cpu_ms_per_op", "cpu_util",
  "peak_rss_mb", "payload_bytes", "mb_per_s", "runs", "import_ms_median",
  "import_ms_min", "import_ms_max", "proc_wall_ms_median",
  "node_empty_wall_ms_median", "import_peak_rss_mb", "node_empty_peak_rss_mb",
  "target_requests", "rate_per_s", "peak_rss_above_empty_mb", "settled_rss_above_empty_mb", "error",
];

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const opts = {
    sdk: "@azure/web-pubsub",
    endpoint: "http://127.0.0.1:18080",
    duration: 4,
    warmup: 1,
    scenarios: "a,b,c,d,e,f",
    importRuns: 5,
    rate: null,
    emptyRss: null,
    instrumenter: null,
    label: "",
    child: null,
  };
  const map = {
    "--sdk": "sdk", "--endpoint": "endpoint", "--duration": "duration",
    "--warmup": "warmup", "--scenarios": "scenarios",
    "--import-runs": "importRuns", "--label": "label", "--child": "child",
    "--rate": "rate", "--empty-rss": "emptyRss", "--instrumenter": "instrumenter",
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) { v = a.slice(eq + 1); a = a.slice(0, eq); }
    if (a === "-h" || a === "--help") {
      const src = fs.readFileSync(fileURLToPath(import.meta.url), "utf8");
      const lines = src.split("\n").slice(1);
      const head = lines.slice(0, lines.findIndex((l) => !l.startsWith("//")));
      process.stdout.write(head.map((l) => l.replace(/^\/\/ ?/, "")).join("\n") + "\n");
      process.exit(0);
    }
    const key = map[a];
    if (!key) throw new Error(`unknown argument: ${a}`);
    if (v === undefined) {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      v = argv[++i];
    }
    opts[key] = v;
  }
  opts.duration = Number(opts.duration);
  opts.warmup = Number(opts.warmup);
  opts.importRuns = Number(opts.importRuns);
  if (!(opts.duration > 0) || !(opts.warmup >= 0) || !(opts.importRuns >= 1)) {
    throw new Error("--duration must be > 0, --warmup >= 0, --import-runs >= 1");
  }
  return opts;
}

// Refuse to send traffic anywhere but this machine's loopback.
function checkEndpoint(endpoint) {
  const u = new URL(endpoint);
  const h = u.hostname.replace(/^\[|\]$/g, "");
  const loopback = h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
  if (!loopback) throw new Error(`endpoint ${endpoint} is not a loopback address; refusing`);
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`unsupported protocol ${u.protocol}`);
  return u;
}

function connectionString(u) {
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  return `Endpoint=${u.protocol}//${u.hostname};Port=${port};AccessKey=${ACCESS_KEY};Version=1.0;`;
}

// ------------------------------------------------------- module resolution

const CONDITIONS = ["node-addons", "node", "import", "default"];

function pickConditional(t) {
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    for (const x of t) { const r = pickConditional(x); if (r) return r; }
    return null;
  }
  if (t && typeof t === "object") {
    for (const [k, v] of Object.entries(t)) {
      if (CONDITIONS.includes(k)) { const r = pickConditional(v); if (r) return r; }
    }
  }
  return null;
}

function probeFile(p) {
  for (const c of [p, p + ".js", p + ".mjs", p + ".cjs", path.join(p, "index.js")]) {
    try { if (fs.statSync(c).isFile()) return c; } catch { /* next */ }
  }
  return null;
}

function resolvePackageDir(dir, subpath = ".") {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  let target = null;
  if (pkg.exports !== undefined && pkg.exports !== null) {
    let exp = pkg.exports;
    const hasDotKeys = exp && typeof exp === "object" && !Array.isArray(exp) &&
      Object.keys(exp).some((k) => k.startsWith("."));
    if (!hasDotKeys) exp = { ".": exp };
    target = pickConditional(exp[subpath]);
    if (!target) throw new Error(`${pkg.name}: no export for "${subpath}" under conditions ${CONDITIONS}`);
    target = path.join(dir, target);
  } else {
    const rel = subpath === "." ? (pkg.main || "index.js") : subpath;
    target = probeFile(path.join(dir, rel));
    if (!target) throw new Error(`${pkg.name}: cannot find entry ${rel}`);
  }
  return {
    url: pathToFileURL(target).href,
    name: pkg.name ?? null,
    version: pkg.version ?? null,
    entry: path.relative(dir, target).split(path.sep).join("/"),
  };
}

// Nearest enclosing package.json that names a package (skips the
// {"type": "commonjs"} markers that dual builds keep in dist/ subfolders).
function findPackageJsonUp(file) {
  for (let d = path.dirname(file); ; d = path.dirname(d)) {
    try {
      if (JSON.parse(fs.readFileSync(path.join(d, "package.json"), "utf8")).name) return d;
    } catch { /* none or unreadable here */ }
    if (path.dirname(d) === d) return null;
  }
}

function resolveSdk(spec) {
  if (spec.startsWith("file:") || spec.startsWith(".") || path.isAbsolute(spec)) {
    const abs = spec.startsWith("file:") ? fileURLToPath(spec) : path.resolve(spec);
    const st = fs.statSync(abs);
    if (st.isDirectory()) return resolvePackageDir(abs);
    const pdir = findPackageJsonUp(abs);
    let name = null, version = null;
    if (pdir) {
      try { ({ name = null, version = null } = JSON.parse(fs.readFileSync(path.join(pdir, "package.json"), "utf8"))); } catch { /* ignore */ }
    }
    return {
      url: pathToFileURL(abs).href, name, version,
      entry: pdir ? path.relative(pdir, abs).split(path.sep).join("/") : path.basename(abs),
    };
  }
  // Bare specifier: "name" or "@scope/name", optionally followed by a subpath.
  const parts = spec.split("/");
  const nameLen = spec.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, nameLen).join("/");
  const subpath = parts.length > nameLen ? "./" + parts.slice(nameLen).join("/") : ".";
  const starts = [process.cwd(), path.dirname(fileURLToPath(import.meta.url))];
  for (const start of starts) {
    for (let d = start; ; d = path.dirname(d)) {
      const cand = path.join(d, "node_modules", name);
      if (fs.existsSync(path.join(cand, "package.json"))) return resolvePackageDir(cand, subpath);
      if (path.dirname(d) === d) break;
    }
  }
  throw new Error(`cannot resolve ${spec} from ${process.cwd()} or the harness directory`);
}

/**
 * Registers, through the @azure/core-tracing that the SDK at `url` resolves, an instrumenter that does what a
 * real one does per span (a context, attributes, a status, an end, a traceparent) and keeps only counts.
 */
function useRecordingInstrumenter(url) {
  const { useInstrumenter } = createRequire(url)("@azure/core-tracing");
  class Context {
    constructor(values = new Map()) { this.values = values; }
    getValue(key) { return this.values.get(key); }
    setValue(key, value) { return new Context(new Map(this.values).set(key, value)); }
    deleteValue(key) { const values = new Map(this.values); values.delete(key); return new Context(values); }
  }
  const SPAN = Symbol("span");
  let spans = 0;
  useInstrumenter({
    startSpan(name, options) {
      const context = options.tracingContext ?? new Context();
      const span = {
        id: (++spans).toString(16).padStart(16, "0"), attributes: { ...options.spanAttributes }, status: undefined, ended: false,
        setAttribute(k, v) { this.attributes[k] = v; }, setStatus(s) { this.status = s; }, end() { this.ended = true; },
        isRecording: () => true, recordException() {}, addEvent() {},
      };
      return { span, tracingContext: context.setValue(SPAN, span) };
    },
    withContext: (_context, callback, ...args) => callback(...args),
    parseTraceparentHeader: () => undefined,
    createRequestHeaders(context) {
      const span = context?.getValue(SPAN);
      return span ? { traceparent: `00-${"0".repeat(16)}${span.id}-${span.id}-01` } : {};
    },
  });
}

async function loadClientClass(url) {
  const mod = await import(url);
  const C = mod.WebPubSubServiceClient ?? mod.default?.WebPubSubServiceClient;
  if (typeof C !== "function") throw new Error("module does not export WebPubSubServiceClient");
  return C;
}

// ------------------------------------------------------------ statistics

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const r = (x, d) => (x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(d)));

function baseLine(opts, sdkInfo, sc) {
  const o = Object.fromEntries(KEYS.map((k) => [k, null]));
  Object.assign(o, {
    tool: "sdk-bench", schema: SCHEMA, label: opts.label, sdk: opts.sdk,
    sdk_name: sdkInfo?.name ?? null, sdk_version: sdkInfo?.version ?? null,
    sdk_entry: sdkInfo?.entry ?? null, node: process.version,
    scenario: sc.name, concurrency: sc.concurrency, errors: 0,
  });
  return o;
}

function emit(o) {
  const ordered = {};
  for (const k of KEYS) ordered[k] = o[k] === undefined ? null : o[k];
  process.stdout.write(JSON.stringify(ordered) + "\n");
}

// ------------------------------------------------------------- the child

// Latencies kept per scenario: all of them up to this count, then a uniform random sample of
// this size (reservoir sampling), so a client doing 150,000 calls/s is not charged the memory
// of an ever-growing array in its peak RSS.
const LATENCY_SAMPLES = 100000;

class LatencySample {
  constructor(capacity) {
    this.values = new Float64Array(capacity);
    this.count = 0;
    this.sum = 0;
  }
  push(x) {
    const n = this.count++;
    this.sum += x;
    if (n < this.values.length) this.values[n] = x;
    else {
      const j = Math.floor(Math.random() * (n + 1));
      if (j < this.values.length) this.values[j] = x;
    }
  }
  mean() {
    return this.count ? this.sum / this.count : 0;
  }
  sorted() {
    this.sortedValues ??= this.values.slice(0, Math.min(this.count, this.values.length)).sort();
    return this.sortedValues;
  }
}

// Requests the nginx target has served so far (its stub_status page), or null when the target
// has no such page.
function targetRequests(u) {
  return new Promise((resolve) => {
    const req = http.get(new URL("/nginx-status", u), (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { body += d; });
      res.on("end", () => {
        const m = /\n\s*\d+\s+\d+\s+(\d+)/.exec(body);
        resolve(res.statusCode === 200 && m ? Number(m[1]) : null);
      });
    });
    req.on("error", () => resolve(null));
  });
}

// Runs `op(i)` from `concurrency` workers until `ms` elapse; each worker
// starts a new operation only before the deadline, and the window closes when
// the last one settles.
/**
 * Scenario g: `op` started at `opts.rate` calls per second (open loop, every 10 ms) for the measured window, after a
 * warm-up at the same rate; resident memory sampled every 20 ms, and again 2 s after the last call settled (after a
 * GC). Both figures are above `opts.emptyRss`, an empty Node's resident memory measured by the parent.
 */
async function paced(op, opts) {
  const rate = Number(opts.rate);
  if (!(rate > 0)) throw new Error("scenario g needs --rate > 0");
  const empty = Number(opts.emptyRss) || 0;
  await op(0);
  const rssMb = () => process.memoryUsage().rss / ONE_MIB;
  let ok = 0, errors = 0, firstError = null, n = 0, peak = 0;
  const inFlight = new Set();
  const drive = (ms) => new Promise((resolve) => {
    const t0 = performance.now();
    const tick = setInterval(() => {
      const elapsed = performance.now() - t0;
      const due = Math.min(Math.floor((elapsed / 1000) * rate), Math.floor((ms / 1000) * rate));
      while (n < due) {
        const call = op(n++).then(() => ok++, (err) => { errors++; firstError ??= err; });
        inFlight.add(call);
        call.finally(() => inFlight.delete(call));
      }
      if (elapsed >= ms) { clearInterval(tick); resolve(); }
    }, 10);
  });
  await drive(opts.warmup * 1000);
  await Promise.all(inFlight);
  n = 0; ok = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 20);
  const t0 = performance.now();
  await drive(opts.duration * 1000);
  await Promise.all(inFlight);
  const secs = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  await new Promise((r) => setTimeout(r, 2000));
  if (typeof globalThis.gc === "function") globalThis.gc();
  await new Promise((r) => setTimeout(r, 100));
  return {
    duration_s: r(secs, 3),
    ops: ok,
    errors,
    ops_per_s: r(ok / secs, 1),
    rate_per_s: r(rate, 1),
    peak_rss_mb: r(peak, 1),
    peak_rss_above_empty_mb: r(peak - empty, 1),
    settled_rss_above_empty_mb: r(rssMb() - empty, 1),
    ...(errors ? { error: `${errors} failed calls; first: ${String(firstError?.message ?? firstError).slice(0, 300)}` } : {}),
  };
}

async function runPool(op, concurrency, ms, lat) {
  let next = 0, ok = 0, errors = 0, firstError = null;
  const t0 = performance.now();
  const deadline = t0 + ms;
  async function worker() {
    for (;;) {
      const s = performance.now();
      if (s >= deadline) return;
      const n = next++;
      try {
        await op(n);
        const e = performance.now();
        ok++;
        if (lat) lat.push(e - s);
      } catch (err) {
        errors++;
        if (!firstError) firstError = err;
      }
    }
  }
  const workers = [];
  for (let w = 0; w < concurrency; w++) workers.push(worker());
  await Promise.all(workers);
  return { ok, errors, firstError, elapsedMs: performance.now() - t0 };
}

function makeOp(kind, client) {
  switch (kind) {
    case "send_json":
      return (i) => client.sendToAll({ hello: "world", n: i });
    case "send_bin": {
      const payload = new Uint8Array(ONE_MIB);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 2654435761) >>> 24;
      return () => client.sendToAll(payload);
    }
    case "token": {
      const opts = { userId: "u1", groups: ["a", "b"], roles: ["webpubsub.sendToGroup"] };
      return () => client.getClientAccessToken(opts);
    }
    case "group_add":
      return (i) => client.group("g1").addConnection("conn-" + i);
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

async function childMain(opts) {
  const sc = SCENARIOS[opts.child];
  const out = baseLine(opts, null, sc);
  try {
    const u = checkEndpoint(opts.endpoint);
    const info = resolveSdk(opts.sdk);
    Object.assign(out, { sdk_name: info.name, sdk_version: info.version, sdk_entry: info.entry });
    if (opts.instrumenter === "on") useRecordingInstrumenter(info.url);
    const C = await loadClientClass(info.url);
    const clientOptions = u.protocol === "http:" ? { allowInsecureConnection: true } : {};
    const client = new C(connectionString(u), HUB, clientOptions);
    if (sc.kind === "paced") {
      Object.assign(out, await paced(makeOp("send_json", client), opts));
      emit(out);
      process.exitCode = out.error ? 1 : 0;
      return;
    }
    const op = makeOp(sc.kind, client);

    // Sanity: one call must succeed before anything is timed.
    await op(0);
    if (opts.warmup > 0) {
      const w = await runPool(op, sc.concurrency, opts.warmup * 1000, null);
      if (w.errors) throw w.firstError;
    }
    if (typeof globalThis.gc === "function") globalThis.gc();

    const lat = new LatencySample(LATENCY_SAMPLES);
    const requests0 = await targetRequests(u);
    const cpu0 = process.cpuUsage();
    const res = await runPool(op, sc.concurrency, opts.duration * 1000, lat);
    const cpu = process.cpuUsage(cpu0);
    const requests1 = await targetRequests(u);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const secs = res.elapsedMs / 1000;
    const mean = lat.mean();
    Object.assign(out, {
      duration_s: r(secs, 3),
      ops: res.ok,
      errors: res.errors,
      ops_per_s: r(res.ok / secs, 1),
      p50_ms: r(percentile(lat.sorted(), 50), 4),
      p99_ms: r(percentile(lat.sorted(), 99), 4),
      mean_ms: r(mean, 4),
      cpu_ms_per_op: res.ok ? r(cpuMs / res.ok, 5) : null,
      cpu_util: r(cpuMs / res.elapsedMs, 3),
      peak_rss_mb: r(process.resourceUsage().maxRSS / 1024, 1),
    });
    if (sc.kind === "send_bin") {
      out.payload_bytes = ONE_MIB;
      out.mb_per_s = r((res.ok * ONE_MIB) / secs / 1e6, 1);
    } else if (sc.kind === "send_json") {
      out.payload_bytes = Buffer.byteLength(JSON.stringify({ hello: "world", n: 0 }));
    }
    if (res.errors) out.error = `${res.errors} failed calls; first: ${String(res.firstError?.message ?? res.firstError).slice(0, 300)}`;
    // Every successful REST call must have reached the target (the status read itself counts one).
    if (sc.kind !== "token" && requests0 !== null && requests1 !== null) {
      out.target_requests = requests1 - requests0 - 1;
      if (out.target_requests < res.ok) {
        out.error ??= `${res.ok} calls succeeded but the target counted only ${out.target_requests} requests`;
      }
    }
  } catch (err) {
    out.error = String(err?.stack ?? err).split("\n").slice(0, 3).join(" | ").slice(0, 500);
  }
  emit(out);
  process.exitCode = out.error ? 1 : 0;
}

// ------------------------------------------------------------ the parent

function runChild(id, opts) {
  return new Promise((resolve) => {
    const args = [
      "--expose-gc", fileURLToPath(import.meta.url), "--child", id,
      "--sdk", opts.sdk, "--endpoint", opts.endpoint,
      "--duration", String(opts.duration), "--warmup", String(opts.warmup),
      "--label", opts.label,
      ...(opts.rate ? ["--rate", String(opts.rate), "--empty-rss", String(emptyNodeRss())] : []),
      ...(opts.instrumenter ? ["--instrumenter", opts.instrumenter] : []),
    ];
    const ch = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let buf = "";
    ch.stdout.on("data", (d) => { buf += d; });
    ch.on("close", (code) => resolve({ code, line: buf.trim().split("\n").filter(Boolean).pop() ?? "" }));
  });
}

function coldImport(opts, sdkInfo, sc) {
  const out = baseLine(opts, sdkInfo, sc);
  const code =
    "const t0 = performance.now();" +
    `const m = await import(${JSON.stringify(sdkInfo.url)});` +
    "const t1 = performance.now();" +
    "const C = m.WebPubSubServiceClient ?? m.default?.WebPubSubServiceClient;" +
    "if (typeof C !== 'function') process.exit(3);" +
    "process.stdout.write(JSON.stringify({ import_ms: t1 - t0, rss_mb: process.resourceUsage().maxRSS / 1024 }));";
  const wall = (args) => {
    const t = process.hrtime.bigint();
    const res = spawnSync(process.execPath, args, { encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (res.status !== 0) throw new Error(`cold import probe exited ${res.status}: ${(res.stderr || "").slice(0, 300)}`);
    return { ms, stdout: res.stdout };
  };
  const imports = [], walls = [], empties = [], importRss = [], emptyRss = [];
  const emptyCode = "await 0; process.stdout.write(JSON.stringify({ rss_mb: process.resourceUsage().maxRSS / 1024 }));";
  for (let k = 0; k < opts.importRuns; k++) {
    const w = wall(["--input-type=module", "-e", code]);
    const probe = JSON.parse(w.stdout);
    imports.push(probe.import_ms);
    importRss.push(probe.rss_mb);
    walls.push(w.ms);
    const e = wall(["--input-type=module", "-e", emptyCode]);
    empties.push(e.ms);
    emptyRss.push(JSON.parse(e.stdout).rss_mb);
  }
  Object.assign(out, {
    runs: opts.importRuns,
    import_ms_median: r(median(imports), 2),
    import_ms_min: r(Math.min(...imports), 2),
    import_ms_max: r(Math.max(...imports), 2),
    proc_wall_ms_median: r(median(walls), 2),
    node_empty_wall_ms_median: r(median(empties), 2),
    import_peak_rss_mb: r(median(importRss), 1),
    node_empty_peak_rss_mb: r(median(emptyRss), 1),
  });
  return out;
}

/** An empty Node's resident memory in MiB (after a GC), the floor scenario g measures above. */
function emptyNodeRss() {
  const child = spawnSync(process.execPath, ["--expose-gc", "-e", "global.gc(); setTimeout(() => process.stdout.write(String(process.memoryUsage().rss / 1048576)), 100)"], { encoding: "utf8" });
  return Number(child.stdout);
}

async function parentMain(opts) {
  checkEndpoint(opts.endpoint);
  const ids = String(opts.scenarios).split(",").map((s) => s.trim()).filter(Boolean);
  for (const id of ids) if (!SCENARIOS[id]) throw new Error(`unknown scenario "${id}" (use a..g)`);
  let sdkInfo = null;
  try { sdkInfo = resolveSdk(opts.sdk); } catch (err) {
    for (const id of ids) emit({ ...baseLine(opts, null, SCENARIOS[id]), error: String(err.message) });
    process.exitCode = 1;
    return;
  }
  process.stderr.write(`# sdk-bench: ${sdkInfo.name}@${sdkInfo.version} (${sdkInfo.entry}) node ${process.version}` +
    ` endpoint ${opts.endpoint} duration ${opts.duration}s warmup ${opts.warmup}s\n`);
  let failed = false;
  for (const id of ids) {
    const sc = SCENARIOS[id];
    process.stderr.write(`# scenario ${sc.name} ...\n`);
    if (sc.kind === "import") {
      let out;
      try { out = coldImport(opts, sdkInfo, sc); } catch (err) {
        out = { ...baseLine(opts, sdkInfo, sc), error: String(err.message) };
      }
      if (out.error) failed = true;
      emit(out);
      continue;
    }
    const { code, line } = await runChild(id, opts);
    let parsed = null;
    try { parsed = JSON.parse(line); } catch { /* fall through */ }
    if (!parsed) {
      parsed = { ...baseLine(opts, sdkInfo, sc), error: `child exited ${code} without a result line` };
    }
    if (code !== 0 || parsed.error) failed = true;
    emit(parsed);
  }
  process.exitCode = failed ? 1 : 0;
}

const opts = parseArgs(process.argv.slice(2));
if (opts.child) {
  if (!SCENARIOS[opts.child] || SCENARIOS[opts.child].kind === "import") {
    throw new Error(`bad --child ${opts.child}`);
  }
  await childMain(opts);
} else {
  await parentMain(opts);
}
