// How native calls live with Node: an in-flight call keeps the process running and an idle client
// does not; calls made on worker threads settle on their own thread; a worker terminated with calls
// in flight takes nothing down with it. Each case runs in its own Node process against a local
// HTTP server that counts and, where asked, holds requests.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { until } from "./helpers/until.mjs";

const PACKAGE = fileURLToPath(new URL("../index.js", import.meta.url));
const KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH";

/** A server answering 202; requests to hubs named `hold*` wait until `release()`. */
async function startServer({ delayMs = 0 } = {}) {
  const hits = new Map();
  const held = [];
  const sockets = { open: 0, peak: 0 };
  const server = http.createServer((req, res) => {
    const hub = req.url.split("/")[3];
    hits.set(hub, (hits.get(hub) ?? 0) + 1);
    req.resume();
    req.on("end", () => {
      const answer = () => res.writeHead(202).end();
      if (hub.startsWith("hold")) held.push(answer);
      else setTimeout(answer, delayMs);
    });
  });
  server.on("connection", (socket) => {
    sockets.peak = Math.max(sockets.peak, ++sockets.open);
    socket.on("close", () => sockets.open--);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const connectionString = `Endpoint=http://127.0.0.1:${server.address().port};AccessKey=${KEY};Version=1.0;`;
  return {
    connectionString,
    hits,
    sockets,
    heldCount: () => held.length,
    release: () => held.splice(0).forEach((answer) => answer()),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Runs `source` as an ES module in a fresh Node, under an open-file limit when `maxFiles` is set; resolves with its
 * exit code, stdout and stderr.
 */
function runNode(source, env, timeoutMs = 30_000, maxFiles = undefined) {
  return new Promise((resolve) => {
    const args = ["--expose-gc", "--input-type=module", "-e", source];
    const [command, argv] =
      maxFiles === undefined
        ? [process.execPath, args]
        : ["bash", ["-c", `ulimit -n ${maxFiles} && exec "$0" "$@"`, process.execPath, ...args]];
    const child = spawn(command, argv, {
      env: { ...process.env, ...env, WPN_PACKAGE: PACKAGE },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const CLIENT = `
import { createRequire } from "node:module";
const { WebPubSubServiceClient } = createRequire(import.meta.url)(process.env.WPN_PACKAGE);
const client = (hub) => new WebPubSubServiceClient(process.env.CONN, hub, { allowInsecureConnection: true });
`;

test("an in-flight call keeps Node running until it settles; then Node exits", async (t) => {
  const server = await startServer({ delayMs: 400 });
  t.after(() => server.close());
  const started = Date.now();
  const run = await runNode(
    `${CLIENT}
    client("slow").sendToAll("x").then(() => console.log("settled"));`,
    { CONN: server.connectionString },
  );
  assert.equal(run.signal, null, `killed: ${run.stderr}`);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), "settled");
  assert.equal(server.hits.get("slow"), 1);
  assert.ok(Date.now() - started < 20_000);
});

test("an idle client, used before, does not keep Node running", async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const run = await runNode(
    `${CLIENT}
    const c = client("idle");
    await Promise.all([c.sendToAll("a"), c.sendToAll("b")]);
    console.log("done");`,
    { CONN: server.connectionString },
    15_000,
  );
  assert.equal(run.signal, null, "Node did not exit after its last call settled");
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), "done");
});

test("calls from worker threads and the main thread each settle on their own thread", async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const run = await runNode(
    `${CLIENT}
    import { Worker } from "node:worker_threads";
    const send = async (hub, n) => {
      const c = client(hub);
      const results = await Promise.all(Array.from({ length: n }, (_, i) => c.sendToAll({ i })));
      return results.length;
    };
    const worker = (hub) => new Promise((resolve, reject) => {
      const w = new Worker(${JSON.stringify(CLIENT)} + "const { parentPort } = await import('node:worker_threads');" +
        "const c = client(" + JSON.stringify(hub) + ");" +
        "const r = await Promise.all(Array.from({ length: 300 }, (_, i) => c.sendToAll({ i })));" +
        "parentPort.postMessage(r.length);", { eval: true, env: process.env });
      w.once("message", resolve);
      w.once("error", reject);
    });
    const counts = await Promise.all([send("main", 300), worker("w1"), worker("w2")]);
    console.log(JSON.stringify(counts));`,
    { CONN: server.connectionString },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), [300, 300, 300]);
  assert.deepEqual(Object.fromEntries(server.hits), { main: 300, w1: 300, w2: 300 });
});

test("a worker terminated with calls in flight leaves the process and its other clients working", async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const script = `${CLIENT}
    import { Worker } from "node:worker_threads";
    const w = new Worker(${JSON.stringify(CLIENT)} +
      "const c = client('hold');" +
      "for (let i = 0; i < 32; i++) c.sendToAll({ i });" +
      "setInterval(() => {}, 1000);", { eval: true, env: process.env });
    await new Promise((resolve) => w.once("online", resolve));
    process.stdin.resume();
    await new Promise((resolve) => process.stdin.once("data", resolve));
    await w.terminate();
    console.log("terminated");
    process.stdin.once("data", async () => {
      await client("after").sendToAll("x");
      console.log("after");
      process.stdin.pause();
    });`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, CONN: server.connectionString, WPN_PACKAGE: PACKAGE },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const waitFor = (check, what) => until(check, what).catch((e) => assert.fail(`${e.message}; stderr: ${stderr}`));
  await waitFor(() => server.heldCount() === 32, "the worker's 32 requests reach the server");
  child.stdin.write("terminate\n");
  await waitFor(() => stdout.includes("terminated"), "the worker terminates");
  // Answers for the terminated worker's calls arrive after its environment is gone.
  server.release();
  await new Promise((r) => setTimeout(r, 200));
  child.stdin.write("go\n");
  const { code, signal } = await exited;
  assert.equal(signal, null, stderr);
  assert.equal(code, 0, stderr);
  assert.deepEqual(stdout.trim().split("\n"), ["terminated", "after"]);
  assert.equal(server.hits.get("after"), 1);
});

// Each instance used to build its own connection pool and TLS root store: 10,000 of them held thousands of sockets
// and over a GiB until collected, and under 1,024 file descriptors calls failed with "Too many open files".
test("10,000 short-lived clients making one call each at once share one bounded pool", async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const run = await runNode(
    `${CLIENT}
    import fs from "node:fs";
    const fds = () => fs.readdirSync("/proc/self/fd").length;
    await client("warm").sendToAll("x");
    const before = fds();
    const outcomes = await Promise.allSettled(Array.from({ length: 10000 }, (_, i) => client("many").sendToAll("x" + i)));
    const failures = outcomes.filter((o) => o.status === "rejected").map((o) => o.reason.message);
    console.log(JSON.stringify({ failed: failures.length, first: failures[0], before, after: fds() }));`,
    { CONN: server.connectionString },
    120_000,
    1024,
  );
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.equal(result.failed, 0, result.first);
  assert.equal(server.hits.get("many"), 10_000);
  // 256 requests in flight; a connection going back to the pool as the next request starts can make a few more.
  assert.ok(server.sockets.peak <= 300, `about 256 connections at most, saw ${server.sockets.peak}`);
  assert.ok(result.after <= result.before + 300, `file descriptors bounded by the pool: ${result.before} -> ${result.after}`);
});
