// start-emulator.mjs - runs this package's emulator in its own Node process for
// emulator-bench.mjs: `startEmulator({ port: 0, accessKey })` from `web-pubsub-native/emulator`,
// then one JSON line on stdout {"endpoint", "pid", "access_key", "live_trace_url"} (the pipe goes to the bench
// driver only) and serves until SIGTERM/SIGINT or stdin closes.
// The access key comes from the BENCH_ACCESS_KEY environment variable. With BENCH_EMULATOR_FROM
// set to a project directory, the package installed there is used instead of this repository.

import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const from = process.env.BENCH_EMULATOR_FROM;
const { startEmulator } = from
  ? await import(pathToFileURL(createRequire(path.join(from, "package.json")).resolve("web-pubsub-native/emulator")).href)
  : await import("web-pubsub-native/emulator");

const accessKey = process.env.BENCH_ACCESS_KEY;
if (!accessKey) throw new Error("BENCH_ACCESS_KEY is not set");

const emulator = await startEmulator({ host: "127.0.0.1", port: 0, accessKey });
const key = /AccessKey=([^;]+)/i.exec(emulator.connectionString)?.[1] ?? accessKey;
const info = { endpoint: emulator.endpoint.replace(/\/$/, ""), pid: process.pid, access_key: key, live_trace_url: emulator.liveTraceUrl };
process.stdout.write(JSON.stringify(info) + "\n");

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await emulator.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
process.stdin.on("end", shutdown);
process.stdin.resume();
