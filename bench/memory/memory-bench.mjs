// memory-bench.mjs - the memory figures of the emulator's and the client's bounds, one JSON line each:
//
//   broadcast    one 1 MiB sendToAll to N connected clients (raw, JSON, reliable JSON that never acknowledges): the
//                emulator's resident memory at the peak and 2 s after everyone got it, per connection
//   burst        8 broadcasts of 1 MiB at once to 200 clients: resident memory before, at the peak and 10 s after
//   stalled      3 clients that stop reading get 512 KiB sendToUser messages until the emulator closes them as
//                slow clients (maxQueuedBytes, default 16 MiB): the peak growth, and resident memory 10 s after
//   short_lived  10,000 WebPubSubServiceClient instances, 100 at a time, one sendToAll each and dropped, under a
//                1,024 file descriptor limit, for each SDK: failed calls, most file descriptors open, resident memory
//                growth after garbage collection
//
// Usage: node bench/memory/memory-bench.mjs [--connections 1000] [--native <module>] [--official <module>]
// With BENCH_EMULATOR_FROM set to a project directory, the emulator installed there runs (see start-emulator.mjs).

import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const WebSocket = require("ws");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");

const { values: args } = parseArgs({ options: { connections: { type: "string" }, native: { type: "string" }, official: { type: "string" } } });
const CONNECTIONS = Number(args.connections ?? 1000);
const SDKS = [
  ["@azure/web-pubsub", args.official ?? "@azure/web-pubsub"],
  ["web-pubsub-native", args.native ?? path.resolve(HERE, "../../index.js")],
];
const MiB = 1024 * 1024;
const ACCESS_KEY = "memory-bench-access-key-0123456789abcdefghij";

const emit = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const residentMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

async function startEmulator() {
  const child = spawn(process.execPath, [path.join(HERE, "../emulator/start-emulator.mjs")], {
    env: { ...process.env, BENCH_ACCESS_KEY: ACCESS_KEY },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const [line] = await once(child.stdout, "data");
  const info = JSON.parse(String(line));
  const service = (hub) =>
    new WebPubSubServiceClient(`Endpoint=${info.endpoint};AccessKey=${info.access_key};Version=1.0;`, hub, { allowInsecureConnection: true });
  return { pid: info.pid, service, stop: async () => { child.stdin.end(); await once(child, "exit"); } };
}

/** Samples `pid`'s resident memory every 5 ms until `stop()`, which returns the highest. */
function sampler(pid) {
  let peak = residentMiB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, residentMiB(pid))), 5);
  return () => (clearInterval(timer), peak);
}

async function connect(url, protocol, count, onMessage) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const client = new WebSocket(url, protocol);
      client.on("message", onMessage);
      await once(client, "open");
      return client;
    }),
  );
}

async function broadcasts(emulator) {
  const service = emulator.service("broadcast");
  const { url } = await service.getClientAccessToken();
  for (const protocol of [undefined, "json.webpubsub.azure.v1", "json.reliable.webpubsub.azure.v1"]) {
    let received = 0;
    const clients = await connect(url, protocol, CONNECTIONS, (data) => (received += data.length >= MiB ? 1 : 0));
    await sleep(1000);
    const before = residentMiB(emulator.pid);
    const stop = sampler(emulator.pid);
    await service.sendToAll(new Uint8Array(MiB).fill(1), { contentType: "application/octet-stream" });
    while (received < CONNECTIONS) await sleep(10);
    const peak = stop();
    await sleep(2000);
    const kept = residentMiB(emulator.pid) - before;
    const perConnection = (mib) => +((mib * 1024) / CONNECTIONS).toFixed(1);
    emit({ part: "broadcast", protocol: protocol ?? "raw", connections: CONNECTIONS, before_mib: +before.toFixed(1), peak_per_conn_kib: perConnection(peak - before), kept_per_conn_kib: perConnection(kept) });

    for (const client of clients) client.terminate();
    await sleep(500);
  }
}

const BURST_CLIENTS = 200;

async function burst(emulator) {
  const service = emulator.service("burst");
  const { url } = await service.getClientAccessToken();
  let received = 0;
  const clients = await connect(url, undefined, BURST_CLIENTS, (data) => (received += data.length >= MiB ? 1 : 0));
  await sleep(1000);
  const before = residentMiB(emulator.pid);
  const stop = sampler(emulator.pid);
  await Promise.all(Array.from({ length: 8 }, () => service.sendToAll(new Uint8Array(MiB).fill(2), { contentType: "application/octet-stream" })));
  while (received < 8 * BURST_CLIENTS) await sleep(10);
  const peak = stop();
  await sleep(10_000);
  emit({ part: "burst", broadcasts: 8, connections: BURST_CLIENTS, before_mib: +before.toFixed(1), peak_mib: +peak.toFixed(1), after_10s_mib: +residentMiB(emulator.pid).toFixed(1) });
  for (const client of clients) client.terminate();
}

async function stalledReaders(emulator) {
  const service = emulator.service("stalled");
  const readers = await Promise.all(
    [0, 1, 2].map(async (i) => {
      const { url } = await service.getClientAccessToken({ userId: `stalled-${i}` });
      const [client] = await connect(url, undefined, 1, () => {});
      client._socket.pause();
      return client;
    }),
  );
  const before = residentMiB(emulator.pid);
  const stop = sampler(emulator.pid);
  const message = new Uint8Array(512 * 1024).fill(3);
  let sent = 0;
  const open = async () => (await Promise.all([0, 1, 2].map((i) => service.userExists(`stalled-${i}`)))).filter(Boolean).length;
  const started = Date.now();
  while ((await open()) > 0 && Date.now() - started < 60_000) {
    await Promise.all([0, 1, 2].map((i) => service.sendToUser(`stalled-${i}`, message, { contentType: "application/octet-stream" })));
    sent += 1;
  }
  const peak = stop();
  const stillOpen = await open();
  await sleep(10_000);
  emit({ part: "stalled", readers: 3, message_kib: 512, sent_each: sent, closed: 3 - stillOpen, before_mib: +before.toFixed(1), peak_growth_mib: +(peak - before).toFixed(1), after_10s_mib: +residentMiB(emulator.pid).toFixed(1) });
  for (const client of readers) client.terminate();
}

const SHORT_LIVED = `
import fs from "node:fs";
import { createRequire } from "node:module";
const { WebPubSubServiceClient } = createRequire(import.meta.url)(process.env.SDK);
const fds = () => fs.readdirSync("/proc/self/fd").length;
const rss = () => process.memoryUsage().rss / 2 ** 20;
const make = () => new WebPubSubServiceClient(process.env.CONN, "hub", { allowInsecureConnection: true });
await make().sendToAll("warm-up", { contentType: "text/plain" });
global.gc(); await new Promise((r) => setTimeout(r, 200));
const before = rss();
let maxFds = fds();
const watch = setInterval(() => (maxFds = Math.max(maxFds, fds())), 5);
const outcomes = [];
for (let i = 0; i < 10000; i += 100) {
  outcomes.push(...(await Promise.allSettled(Array.from({ length: 100 }, (_, j) => make().sendToAll("m" + (i + j), { contentType: "text/plain" })))));
}
clearInterval(watch);
global.gc(); await new Promise((r) => setTimeout(r, 1000)); global.gc(); await new Promise((r) => setTimeout(r, 500));
const failed = outcomes.filter((o) => o.status === "rejected");
console.log(JSON.stringify({ failed: failed.length, first_error: failed[0]?.reason?.message, max_fds: maxFds, rss_growth_mib: +(rss() - before).toFixed(1) }));
`;

async function shortLivedClients() {
  const server = spawn(process.execPath, ["-e", `require("http").createServer((q, s) => { q.resume(); q.on("end", () => { s.statusCode = 202; s.end(); }); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); })`], { stdio: ["ignore", "pipe", "inherit"] });
  const [port] = await once(server.stdout, "data");
  const conn = `Endpoint=http://127.0.0.1:${Number(String(port))};AccessKey=${ACCESS_KEY};Version=1.0;`;
  try {
    for (const [label, sdk] of SDKS) {
      const child = spawn("bash", ["-c", 'ulimit -n 1024 && exec "$0" --expose-gc --input-type=module -e "$1"', process.execPath, SHORT_LIVED], {
        env: { ...process.env, SDK: sdk, CONN: conn },
        stdio: ["ignore", "pipe", "inherit"],
        cwd: path.resolve(HERE, "../.."),
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      const [code] = await once(child, "exit");
      const result = code === 0 ? JSON.parse(out.trim().split("\n").at(-1)) : { error: `exited with ${code}` };
      emit({ part: "short_lived", sdk: label, clients: 10000, at_a_time: 100, fd_limit: 1024, ...result });
    }
  } finally {
    server.kill();
  }
}

const emulator = await startEmulator();
try {
  await broadcasts(emulator);
  await burst(emulator);
  await stalledReaders(emulator);
} finally {
  await emulator.stop();
}
await shortLivedClients();
