// clients.mjs - the REST-client measurements of one run: bench/sdk-bench.mjs (scenarios a..f) for
// each SDK, the native ceiling bench/rust-ceiling (tokio + reqwest, one runtime thread) for the
// same small-JSON POST at c=1 and c=64, and this package's Rust core without Node
// (bench/core-client), all against the nginx target.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { firstErrorLine, runJsonLines } from "./proc.mjs";
import { SEND_URL, TARGET } from "./target.mjs";

const BENCH = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ROOT = path.dirname(BENCH);
export const RUST_DIR = path.join(BENCH, "rust-ceiling");
export const RELEASE = path.join(RUST_DIR, "target", "release");
const CORE_DIR = path.join(BENCH, "core-client");

/** The SDKs compared; `spec` is resolved by sdk-bench.mjs from the repository root. This
 *  package's spec is the directory of its packed-and-installed copy (see footprint.mjs). */
export const OFFICIAL = { label: "official-1.2.0", spec: "@azure/web-pubsub" };
export const NATIVE = { label: "native" };

/** The tracing step: sendToAll at c=64 by this package without @azure/core-tracing, with it and no instrumenter,
 *  and with a recording instrumenter, and by the official SDK with the same instrumenter (labels in `run.sdk`). */
export const TRACING = {
  none: "tracing: native, no @azure/core-tracing",
  idle: "tracing: native, @azure/core-tracing, no instrumenter",
  recording: "tracing: native, recording instrumenter",
  official: "tracing: official-1.2.0, recording instrumenter",
};

/** Runs the tracing step; `native` is this package's installed copy, which finds @azure/core-tracing only through
 *  NODE_PATH (the repository's node_modules). Without the peer and idle run twice, alternately, since the
 *  difference looked for is smaller than the drift between two runs on a noisy machine. */
export async function runTracing(native, common) {
  const send = { ...common, scenarios: "b" };
  const peer = { NODE_PATH: path.join(ROOT, "node_modules") };
  const lines = { [TRACING.none]: [], [TRACING.idle]: [] };
  for (let i = 0; i < 2; i++) {
    lines[TRACING.none].push(...(await runSdk({ ...native, label: TRACING.none }, send)));
    lines[TRACING.idle].push(...(await runSdk({ ...native, label: TRACING.idle }, { ...send, env: peer })));
  }
  lines[TRACING.recording] = await runSdk({ ...native, label: TRACING.recording }, { ...send, env: peer, instrumenter: true });
  lines[TRACING.official] = await runSdk({ ...OFFICIAL, label: TRACING.official }, { ...send, instrumenter: true });
  return lines;
}

/** Builds bench/rust-ceiling and bench/core-client (each its own workspace and target dir). */
export function buildRust() {
  for (const dir of [RUST_DIR, CORE_DIR]) {
    process.stderr.write(`# cargo build --release (bench/${path.basename(dir)})\n`);
    execFileSync("cargo", ["build", "--release", "--quiet", "--manifest-path", path.join(dir, "Cargo.toml"),
      "--target-dir", path.join(dir, "target")], { stdio: "inherit" });
  }
}

/** Section names of an ELF64 little-endian file (empty for anything else). */
function elfSectionNames(bytes) {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46 || bytes[4] !== 2 || bytes[5] !== 1) return [];
  const shoff = Number(bytes.readBigUInt64LE(0x28));
  const shentsize = bytes.readUInt16LE(0x3a);
  const shnum = bytes.readUInt16LE(0x3c);
  const shstrndx = bytes.readUInt16LE(0x3e);
  const header = (i) => shoff + i * shentsize;
  if (shstrndx >= shnum || header(shnum) > bytes.length) return [];
  const strtab = Number(bytes.readBigUInt64LE(header(shstrndx) + 0x18));
  const names = [];
  for (let i = 0; i < shnum; i++) {
    const at = strtab + bytes.readUInt32LE(header(i));
    names.push(bytes.toString("latin1", at, bytes.indexOf(0, at)));
  }
  return names;
}

/** A warning when the native binary has a `.debug_info` section: the release profile strips
 *  debug info, so this is most likely a `npm run build:debug` (unoptimized) binary. Null
 *  otherwise. */
export function debugBuildWarning(binary) {
  let bytes;
  try { bytes = fs.readFileSync(binary); } catch { return null; }
  if (!elfSectionNames(bytes).includes(".debug_info")) return null;
  const mib = (bytes.length / 2 ** 20).toFixed(0);
  return `${path.basename(binary)} (${mib} MiB) has debug info: it looks like a debug build ` +
    "(npm run build:debug), so this package's figures (speed and footprint) are not release figures; run `npm run build`.";
}

/** Null when this package loads and exports the client; otherwise why not. */
export function nativeUnavailable() {
  try {
    execFileSync(process.execPath, ["-e",
      "const m = require('./index.js'); if (typeof m.WebPubSubServiceClient !== 'function') throw new Error('no WebPubSubServiceClient export')"],
    { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    return null;
  } catch (err) {
    return firstErrorLine(String(err.stderr || err.message));
  }
}

/** `env` is added to the bench's environment; `instrumenter` registers a recording tracing instrumenter. */
export async function runSdk(sdk, { duration, warmup, importRuns, scenarios = "a,b,c,d,e,f", rate = null, instrumenter = false, env = {} }) {
  const args = [path.join(BENCH, "sdk-bench.mjs"), "--sdk", sdk.spec, "--endpoint", TARGET,
    "--duration", String(duration), "--warmup", String(warmup), "--import-runs", String(importRuns), "--label", sdk.label,
    "--scenarios", scenarios, ...(rate ? ["--rate", String(rate)] : []), ...(instrumenter ? ["--instrumenter", "on"] : [])];
  const shownEnv = Object.entries(env).map(([k, v]) => `${k}=${path.relative(ROOT, v) || "."} `).join("");
  process.stderr.write(`# ${shownEnv}node bench/sdk-bench.mjs ${args.slice(1).join(" ")}\n`);
  const { lines } = await runJsonLines(process.execPath, args, { cwd: ROOT, env, tag: sdk.label, timeoutMs: 600000 });
  return lines;
}

export async function runRustCeiling({ duration, warmup }) {
  const args = ["--url", SEND_URL, "--threads", "1", "--duration", String(duration), "--warmup", String(warmup), "--concurrency", "1,64"];
  process.stderr.write(`# rust-ceiling ${args.join(" ")}\n`);
  const { lines } = await runJsonLines(path.join(RELEASE, "rust-ceiling"), args, { tag: "rust-ceiling", timeoutMs: 120000 });
  return lines;
}

/** This package's Rust core (webpubsub-service-client) sending sendToAll at c=1 and c=64. */
export async function runCoreClient({ duration, warmup }) {
  const args = ["--endpoint", TARGET, "--duration", String(duration), "--warmup", String(warmup), "--concurrency", "1,64"];
  process.stderr.write(`# core-client ${args.join(" ")}\n`);
  const { lines } = await runJsonLines(path.join(CORE_DIR, "target", "release", "core-client"), args, { tag: "core-client", timeoutMs: 120000 });
  return lines;
}
