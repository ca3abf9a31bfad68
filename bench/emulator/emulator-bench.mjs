#!/usr/bin/env node
// emulator-bench.mjs - the emulator benchmark: for each server (this package's emulator, started
// through `web-pubsub-native/emulator` in its own Node process, and the fan-out ceiling, a bare
// tokio-tungstenite broadcast server) and each client protocol (json.webpubsub.azure.v1, raw),
// starts a fresh server, runs bench/rust-ceiling's ws-loadgen against it in a separate process
// and collects its JSON lines (connections held, server RSS, deliveries/s, time from REST call to
// the last client receiving each message). Loopback only; each step is bounded in time.
//
// Usage: node bench/emulator/emulator-bench.mjs [--connections 10000] [--protocols json,raw]
//        [--servers ceiling,emulator] [--messages 20] [--throughput-messages 60] [--quick]
//   servers: emulator (startEmulator in a Node process), emulator-viewed (the same with the live-trace
//   page open in Debian's chromium through playwright-core, or, without chromium, its feed read by an
//   SSE client; JSON protocol only), emulator-bin (the webpubsub-emulator binary from target/release,
//   passed --access-key on its command line), ceiling.
// (bench/run.mjs calls runEmulatorBench() with the same options.) Build the load generator first:
// cargo build --release --manifest-path bench/rust-ceiling/Cargo.toml

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runJsonLines, startServer } from "../lib/proc.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BENCH = path.dirname(HERE);
const RELEASE = path.join(BENCH, "rust-ceiling", "target", "release");
// 44 characters; the servers here are ours, started with this key.
const ACCESS_KEY = "QmVuY2htYXJrS2V5Rm9yTG9vcGJhY2tPbmx5VGVzdHM=";

/** `emulatorFrom`: a project directory with web-pubsub-native installed (default: this repo). */
export const EMULATOR_DEFAULTS = {
  emulatorFrom: null,
  connections: 10000,
  protocols: ["json", "raw"],
  servers: ["ceiling", "emulator"],
  messages: 20,
  throughputMessages: 60,
};

function startEmulatorProcess(o) {
  return startServer(process.execPath, [path.join(HERE, "start-emulator.mjs")], {
    env: { BENCH_ACCESS_KEY: ACCESS_KEY, ...(o.emulatorFrom ? { BENCH_EMULATOR_FROM: o.emulatorFrom } : {}) }, tag: "emulator",
  }).then((s) => ({ ...s, endpoint: s.info.endpoint, pid: s.info.pid, accessKey: s.info.access_key ?? ACCESS_KEY }));
}

const CHROMIUM = "/usr/bin/chromium";

/** The live-trace page open in chromium, or its feed read as server-sent events; `close()` ends it. */
async function openViewer(liveTraceUrl) {
  if (fs.existsSync(CHROMIUM)) {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
    });
    const page = await browser.newPage();
    await page.goto(liveTraceUrl);
    await page.waitForSelector("#status.live");
    return { kind: "chromium page", close: () => browser.close() };
  }
  const url = new URL(liveTraceUrl);
  const controller = new AbortController();
  const response = await fetch(`${url.origin}/livetrace/events${url.search}`, { signal: controller.signal });
  const reading = (async () => {
    for await (const chunk of response.body) void chunk;
  })().catch(() => {});
  return { kind: "SSE feed reader", close: async () => { controller.abort(); await reading; } };
}

async function startViewedEmulator(o) {
  const server = await startEmulatorProcess(o);
  try {
    const viewer = await openViewer(server.info.live_trace_url);
    process.stderr.write(`# live-trace viewer: ${viewer.kind}\n`);
    return { ...server, stop: async () => { await viewer.close(); await server.stop(); } };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

function startCeilingProcess() {
  return startServer(path.join(RELEASE, "fanout-ceiling"), ["--exit-with-stdin", "true"], { tag: "fanout-ceiling" })
    .then((s) => ({ ...s, endpoint: `http://${s.info.listening}`, pid: s.info.pid, accessKey: ACCESS_KEY }));
}

// The emulator's Rust binary (cargo build --release -p webpubsub-emulator) prints a banner with
// the connection string; the endpoint is read from it and the key is the one passed in.
export const EMULATOR_BIN = path.join(path.dirname(BENCH), "target", "release", "webpubsub-emulator");

function startEmulatorBinary() {
  const parseReady = (line) => {
    const m = /Endpoint=(http:\/\/[^;]+);/.exec(line);
    return m ? { endpoint: m[1] } : null;
  };
  return startServer(EMULATOR_BIN, ["--host", "127.0.0.1", "--port", "0", "--access-key", ACCESS_KEY], {
    tag: "emulator-bin", parseReady,
  }).then((s) => ({ ...s, endpoint: s.info.endpoint, pid: s.child.pid, accessKey: ACCESS_KEY }));
}

const STARTERS = {
  emulator: startEmulatorProcess,
  "emulator-viewed": startViewedEmulator,
  "emulator-bin": startEmulatorBinary,
  ceiling: startCeilingProcess,
};

/** One server × protocol measurement; always resolves with a result object. */
async function measure(serverKind, protocol, o) {
  const label = `${serverKind}-${protocol}`;
  const result = { tool: "emulator-bench", label, server: serverKind, protocol, lines: [], error: null };
  let server;
  try {
    server = await STARTERS[serverKind](o);
  } catch (err) {
    result.error = `could not start ${serverKind}: ${err.message}`;
    return result;
  }
  try {
    const args = [
      "--endpoint", server.endpoint, "--protocol", protocol, "--connections", String(o.connections),
      "--server-pid", String(server.pid), "--messages", String(o.messages),
      "--throughput-messages", String(o.throughputMessages), "--label", label, "--threads", "2",
    ];
    process.stderr.write(`# ws-loadgen ${args.join(" ")}\n`);
    const { code, lines } = await runJsonLines(path.join(RELEASE, "ws-loadgen"), args, {
      env: { BENCH_ACCESS_KEY: server.accessKey }, tag: label, timeoutMs: 240000,
    });
    result.lines = lines;
    const summary = lines.find((l) => l.phase === "summary");
    if (!summary) result.error = `ws-loadgen exited ${code} without a summary`;
    else if (code !== 0 || summary.errors) result.error = `${summary.errors} errors; first: ${summary.first_error ?? "see phase lines"}`;
    if (server.child.exitCode !== null) result.error ??= `${serverKind} exited during the run (${server.child.exitCode})`;
  } finally {
    await server.stop();
  }
  return result;
}

// Each process needs one descriptor per socket plus a few hundred of its own. Node and the Rust
// binaries raise their soft limit to the hard one at start; the hard limit must be high enough.
const FD_HEADROOM = 512;

function hardFileLimit() {
  const line = fs.readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
  const hard = line?.trim().split(/\s+/)[4];
  return hard === "unlimited" ? Infinity : Number(hard);
}

export async function runEmulatorBench(options = {}) {
  const o = { ...EMULATOR_DEFAULTS, ...options };
  const results = [];
  const limit = hardFileLimit();
  if (limit < o.connections + FD_HEADROOM) {
    const error = `open-file hard limit ${limit} is below ${o.connections + FD_HEADROOM}; raise it (ulimit -Hn) or use --connections`;
    return o.servers.flatMap((server) => o.protocols.map((protocol) =>
      ({ tool: "emulator-bench", label: `${server}-${protocol}`, server, protocol, lines: [], error })));
  }
  for (const serverKind of o.servers) {
    for (const protocol of o.protocols) {
      if (serverKind === "emulator-viewed" && protocol !== "json") continue;
      process.stderr.write(`# emulator bench: ${serverKind} / ${protocol} / ${o.connections} connections\n`);
      results.push(await measure(serverKind, protocol, o));
    }
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--quick") { Object.assign(o, { connections: 2000, messages: 10, throughputMessages: 20 }); continue; }
    const v = argv[++i];
    if (k === "--connections") o.connections = Number(v);
    else if (k === "--protocols") o.protocols = v.split(",");
    else if (k === "--servers") o.servers = v.split(",");
    else if (k === "--messages") o.messages = Number(v);
    else if (k === "--throughput-messages") o.throughputMessages = Number(v);
    else { console.error(`unknown argument ${k}`); process.exit(2); }
  }
  const results = await runEmulatorBench(o);
  for (const r of results) for (const l of r.lines) console.log(JSON.stringify(l));
  const failed = results.filter((r) => r.error);
  for (const r of failed) console.error(`FAILED ${r.label}: ${r.error}`);
  process.exitCode = failed.length ? 1 : 0;
}
