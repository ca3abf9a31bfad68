#!/usr/bin/env node
// run.mjs - `npm run bench`: one run of every benchmark of this package on this machine, side by
// side with the official @azure/web-pubsub 1.2.0 (from node_modules) and native ceilings:
//   1. installed footprint (npm pack + fresh installs, official from bench/locks);
//   2. per run: bench/sdk-bench.mjs scenarios a..f for the official SDK and this package against
//      the nginx target (bench/start-target.sh), g (both paced at the same rate), sendToAll c=64 with
//      and without @azure/core-tracing and a recording instrumenter, and bench/rust-ceiling (tokio + reqwest);
//   3. per run: the emulator benchmark (bench/emulator/emulator-bench.mjs): ws-loadgen against this
//      package's emulator and the fan-out ceiling;
//   4. the targets with pass/fail, every figure as median (min–max) of the runs, as markdown on
//      stdout and in bench/out/report.md, with bench/out/targets.svg, bench/out/throughput.svg and
//      the raw lines in bench/out/results.json.
// Exits 1 if any call failed, any message went undelivered, or any connection was lost.
//
// Usage: node bench/run.mjs [--runs 3] [--quick] [--duration 4] [--warmup 1] [--connections 10000]
//                           [--skip sdk,emulator,memory,footprint] [--out bench/out] [--binary FILE]
//   --quick   1 run, 2 s scenarios after 0.5 s warm-up, JSON protocol only in the emulator part.
//   --binary  the native addon to pack as the linux-x64-gnu package (default: the one
//             `npm run build` leaves at the repository root).
// This package is measured as `npm pack`ed and installed into a temporary project (the same
// install the footprint counts); the emulator part starts its emulator from that install too.
// Build this package first (`npm run build`); without it only the official SDK and the ceilings run.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildRust, debugBuildWarning, nativeUnavailable, NATIVE, OFFICIAL, runCoreClient, runRustCeiling, runSdk, runTracing } from "./lib/clients.mjs";
import { DEFAULT_BINARY, installNative, officialFootprint } from "./lib/footprint.mjs";
import { markdown, targetsSvg, throughputSvg } from "./lib/report.mjs";
import { firstErrorLine } from "./lib/proc.mjs";
import { ensureTarget } from "./lib/target.mjs";
import { evaluate } from "./lib/targets.mjs";
import { EMULATOR_BIN, runEmulatorBench } from "./emulator/emulator-bench.mjs";
import { runMemoryBench } from "./lib/memory.mjs";

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);

function parseArgs(argv) {
  const o = { runs: 3, duration: 4, warmup: 1, importRuns: 5, connections: 10000, skip: [], out: path.join(BENCH, "out"),
    protocols: ["json", "raw"], messages: 20, throughputMessages: 60, quick: false, binary: DEFAULT_BINARY };
  const explicit = new Set();
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i].split(/=(.*)/s);
    const value = () => inline ?? argv[++i];
    switch (k) {
      case "--quick": o.quick = true; break;
      case "--runs": o.runs = Number(value()); explicit.add("runs"); break;
      case "--duration": o.duration = Number(value()); explicit.add("duration"); break;
      case "--warmup": o.warmup = Number(value()); explicit.add("warmup"); break;
      case "--connections": o.connections = Number(value()); break;
      case "--skip": o.skip = value().split(","); break;
      case "--out": o.out = path.resolve(value()); break;
      case "--binary": o.binary = path.resolve(value()); break;
      case "-h": case "--help": {
        const head = fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(1);
        process.stdout.write(head.slice(0, head.findIndex((l) => !l.startsWith("//"))).map((l) => l.replace(/^\/\/ ?/, "")).join("\n") + "\n");
        process.exit(0);
      }
      default: throw new Error(`unknown argument ${k} (see --help)`);
    }
  }
  if (o.quick) {
    if (!explicit.has("runs")) o.runs = 1;
    if (!explicit.has("duration")) o.duration = 2;
    if (!explicit.has("warmup")) o.warmup = 0.5;
    Object.assign(o, { importRuns: 3, protocols: ["json"], messages: 10, throughputMessages: 30 });
  }
  if (!(o.runs >= 1) || !(o.duration > 0) || !(o.warmup >= 0) || !(o.connections >= 1)) {
    throw new Error("--runs ≥ 1, --duration > 0, --warmup ≥ 0, --connections ≥ 1");
  }
  return o;
}

function emulatorUnavailable() {
  try {
    execFileSync(process.execPath, ["--input-type=module", "-e",
      "const m = await import('web-pubsub-native/emulator'); if (typeof m.startEmulator !== 'function') throw new Error('no startEmulator export')"],
    { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    return null;
  } catch (err) {
    return firstErrorLine(String(err.stderr || err.message));
  }
}

function machine() {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Linux ${os.release()}`;
}

function failuresOf(runs, footprint, nativeOk) {
  const f = [];
  runs.forEach((run, i) => {
    const at = `run ${i + 1}`;
    for (const [label, lines] of Object.entries(run.sdk)) {
      if (lines.length === 0) f.push(`${at} ${label}: sdk-bench printed no results`);
      for (const l of lines) if (l.error || l.errors) f.push(`${at} ${label} ${l.scenario}: ${l.error ?? `${l.errors} errors`}`);
    }
    if (run.rust.length === 0 && !run.skippedSdk) f.push(`${at} rust-ceiling printed no results`);
    for (const l of run.rust) if (l.error || l.errors) f.push(`${at} rust-ceiling c=${l.concurrency}: ${l.error ?? `${l.errors} errors`}`);
    if (run.core.length === 0 && !run.skippedSdk) f.push(`${at} core-client printed no results`);
    for (const l of run.core) if (l.error || l.errors) f.push(`${at} core-client c=${l.concurrency}: ${l.error ?? `${l.errors} errors`}`);
    for (const e of run.emulator) if (e.error) f.push(`${at} ${e.label}: ${e.error}`);
  });
  if (footprint.official?.error) f.push(`official footprint: ${footprint.official.error}`);
  if (nativeOk && footprint.native?.error) f.push(`native footprint: ${footprint.native.error}`);
  return f;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const notes = [`Load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(" / ")} (1/5/15 min).`];
  buildRust();
  const nativeWhyNot = nativeUnavailable();
  if (nativeWhyNot) notes.push(`This package is not measured: \`require('./index.js')\` failed (${nativeWhyNot}); run \`npm run build\` first.`);
  const debugWarning = nativeWhyNot ? null : debugBuildWarning(o.binary);
  if (debugWarning) {
    notes.push(`**Warning:** ${debugWarning}`);
    process.stderr.write(`# WARNING: ${debugWarning}\n`);
  }
  const emulatorWhyNot = o.skip.includes("emulator") ? null : emulatorUnavailable();
  let emulatorServer = "emulator";
  if (emulatorWhyNot && fs.existsSync(EMULATOR_BIN)) {
    emulatorServer = "emulator-bin";
    notes.push(`\`web-pubsub-native/emulator\` did not load (${emulatorWhyNot}); the emulator was measured as its Rust binary (target/release/webpubsub-emulator), without Node around it.`);
  } else if (emulatorWhyNot) {
    emulatorServer = null;
    notes.push(`The emulator is not measured: importing \`web-pubsub-native/emulator\` failed (${emulatorWhyNot}) and target/release/webpubsub-emulator is not built.`);
  }

  const footprint = {};
  if (!o.skip.includes("footprint")) {
    process.stderr.write("# footprint: npm ci @azure/web-pubsub 1.2.0 (bench/locks)\n");
    try { footprint.official = officialFootprint(); } catch (err) { footprint.official = { error: err.message }; }
  }
  // This package is measured as packed and installed, so rebuilds in the tree during the run
  // do not change what is measured.
  let installed = null;
  if (!nativeWhyNot) {
    process.stderr.write(`# npm pack + install web-pubsub-native with ${path.relative(ROOT, o.binary)}\n`);
    try {
      installed = installNative(o.binary);
      footprint.native = installed.footprint;
    } catch (err) {
      footprint.native = { error: err.message };
    }
  }
  const native = installed ? { ...NATIVE, spec: installed.packageDir } : null;

  if (installed) notes.push(`Native binary: \`${path.relative(ROOT, o.binary)}\` (${(fs.statSync(o.binary).size / 2 ** 20).toFixed(1)} MiB), packed and installed with this package.`);
  const stopTarget = o.skip.includes("sdk") ? async () => {} : await ensureTarget();
  const onSignal = async () => {
    await stopTarget();
    installed?.cleanup();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const runs = [];
  let memory = [];
  try {
    for (let k = 1; k <= o.runs; k++) {
      process.stderr.write(`# ===== run ${k} of ${o.runs}\n`);
      const run = { sdk: {}, rust: [], core: [], emulator: [], skippedSdk: o.skip.includes("sdk") };
      if (!run.skippedSdk) {
        const common = { duration: o.duration, warmup: o.warmup, importRuns: o.importRuns };
        run.sdk[OFFICIAL.label] = await runSdk(OFFICIAL, common);
        if (native) run.sdk[NATIVE.label] = await runSdk(native, common);
        // Equal load: both SDKs paced at half the official SDK's sustainable c=64 rate of this run.
        const sustainable = run.sdk[OFFICIAL.label].find((l) => l.scenario === "b_send_json_c64")?.ops_per_s;
        if (sustainable > 0) {
          const paced = { ...common, scenarios: "g", rate: Math.round(sustainable / 2) };
          run.sdk[OFFICIAL.label].push(...(await runSdk(OFFICIAL, paced)));
          if (native) run.sdk[NATIVE.label].push(...(await runSdk(native, paced)));
        }
        if (native) Object.assign(run.sdk, await runTracing(native, common));
        run.rust = await runRustCeiling(common);
        run.core = await runCoreClient(common);
      }
      if (!o.skip.includes("emulator")) {
        run.emulator = await runEmulatorBench({
          connections: o.connections, protocols: o.protocols, messages: o.messages, throughputMessages: o.throughputMessages,
          servers: emulatorServer === "emulator" ? ["ceiling", "emulator", "emulator-viewed"]
            : emulatorServer ? ["ceiling", emulatorServer] : ["ceiling"],
          emulatorFrom: installed?.projectDir ?? null,
        });
      }
      runs.push(run);
    }
    if (!o.skip.includes("memory") && native && emulatorServer === "emulator") {
      process.stderr.write("# memory: broadcasts, stalled readers, short-lived clients\n");
      memory = await runMemoryBench({ connections: Math.min(o.connections, 1000), native: native.spec, emulatorFrom: installed.projectDir });
    }
  } finally {
    await stopTarget();
    installed?.cleanup();
  }

  const targets = evaluate(runs, footprint, { connections: o.connections });
  const failures = failuresOf(runs, footprint, !nativeWhyNot);
  notes.push(`Load average at end: ${os.loadavg().map((x) => x.toFixed(2)).join(" / ")}; wall time ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
  const meta = { date: new Date().toISOString(), runs: o.runs, duration: o.duration, warmup: o.warmup, machine: machine(), notes };
  for (const l of memory) if (l.part === "error" || l.error) failures.push(`memory ${l.part}: ${l.error}`);
  const report = markdown({ targets, runs, footprint, memory, failures, meta });
  fs.mkdirSync(o.out, { recursive: true });
  fs.writeFileSync(path.join(o.out, "report.md"), report);
  fs.writeFileSync(path.join(o.out, "targets.svg"), targetsSvg(targets));
  fs.writeFileSync(path.join(o.out, "throughput.svg"), throughputSvg(runs));
  fs.writeFileSync(path.join(o.out, "results.json"), JSON.stringify({ meta, options: o, footprint, runs, memory, targets, failures }, null, 1));
  process.stdout.write(report + "\n");
  process.stderr.write(`# wrote ${path.relative(process.cwd(), o.out) || "."}/{report.md,targets.svg,throughput.svg,results.json}\n`);
  if (failures.length) {
    process.stderr.write(`\nCORRECTNESS FAILURES (${failures.length}):\n${failures.map((x) => `  - ${x}`).join("\n")}\n`);
    process.exitCode = 1;
  }
}

await main();
