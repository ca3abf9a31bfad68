// The command line: the emulator command, every service command against it, help, and one-line errors.
import { test, before, after } from "node:test";
import { once } from "node:events";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { createRequire } from "node:module";

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "cli.js");
const ACCESS_KEY = "TESTKEYTESTKEYTESTKEYTESTKEYTESTKEY0123456789";
const WebSocket = createRequire(import.meta.url)("ws");
let emulator;
let liveTraceUrl;
let connectionString;

function run(args, env = {}) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { env: { ...process.env, WEB_PUBSUB_CONNECTION_STRING: connectionString, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        assert.ok(!stdout.includes(ACCESS_KEY) && !stderr.includes(ACCESS_KEY), "the access key was printed");
        resolve({ code: error ? error.code : 0, stdout, stderr });
      },
    );
  });
}

function waitForLine(stream, pattern) {
  return new Promise((resolve, reject) => {
    let seen = "";
    const onData = (chunk) => {
      seen += chunk;
      const match = seen.match(pattern);
      if (match) {
        stream.off("data", onData);
        resolve(match);
      }
    };
    stream.on("data", onData);
    stream.once("end", () => reject(new Error(`stream ended before ${pattern}: ${seen}`)));
  });
}

before(async () => {
  emulator = spawn(process.execPath, [cli, "emulator", "--port", "0", "--host", "127.0.0.1", "--access-key", ACCESS_KEY]);
  emulator.stdout.setEncoding("utf8");
  [, connectionString, liveTraceUrl] = await waitForLine(
    emulator.stdout,
    /Connection string: (\S+)[\s\S]*Live trace: +(\S+)/,
  );
});

after(async () => {
  emulator.kill("SIGINT");
  await new Promise((resolve) => emulator.once("exit", resolve));
});

test("emulator prints a connection string with the given key and a client endpoint", () => {
  assert.match(connectionString, /^Endpoint=http:\/\/127\.0\.0\.1:\d+;AccessKey=TESTKEY/);
});

test("emulator prints a live-trace URL whose token opens the trace", async () => {
  const url = new URL(liveTraceUrl);
  assert.equal(url.pathname, "/");
  const inspect = await fetch(`${url.origin}/livetrace/inspect${url.search}`);
  assert.equal(inspect.status, 200);
  assert.ok(Array.isArray(await inspect.json()));
  assert.equal((await fetch(`${url.origin}/livetrace/inspect`)).status, 401);
});

test("--help lists every command, and each command has its own help", async () => {
  const { code, stdout } = await run(["--help"]);
  assert.equal(code, 0);
  for (const name of ["emulator", "token", "send", "exists", "close", "group", "listen"]) {
    assert.match(stdout, new RegExp(`^  ${name} `, "m"));
    const sub = await run([name, "--help"]);
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, new RegExp(`usage: web-pubsub-native ${name}`));
  }
});

test("token prints a client URL whose token carries the user, roles and groups", async () => {
  const { code, stdout } = await run(["token", "--hub", "chat", "--user", "ann", "--role", "webpubsub.joinLeaveGroup", "--group", "g1"]);
  assert.equal(code, 0);
  const url = new URL(stdout.trim());
  assert.equal(url.pathname, "/client/hubs/chat");
  const claims = JSON.parse(Buffer.from(url.searchParams.get("access_token").split(".")[1], "base64url"));
  assert.equal(claims.sub, "ann");
  assert.deepEqual(claims.role, ["webpubsub.joinLeaveGroup"]);
  assert.deepEqual(claims["webpubsub.group"], ["g1"]);
});

test("listen prints what send, group and close deliver; exists reflects the live connection", async () => {
  const listener = spawn(process.execPath, [cli, "listen", "--hub", "chat", "--user", "ann", "--group", "g1"], {
    env: { ...process.env, WEB_PUBSUB_CONNECTION_STRING: connectionString },
  });
  // Listened for now: the listener may have exited by the time the test gets to wait for it.
  const exited = once(listener, "exit");
  listener.stdout.setEncoding("utf8");
  const [, connectionId] = await waitForLine(listener.stdout, /connected as (\w+) \(user ann\)/);

  assert.equal((await run(["exists", "--hub", "chat", "--user", "ann"])).stdout.trim(), "true");
  assert.equal((await run(["exists", "--hub", "chat", "--connection", connectionId])).stdout.trim(), "true");
  assert.equal((await run(["exists", "--hub", "chat", "--group", "nobody-here"])).stdout.trim(), "false");

  const text = waitForLine(listener.stdout, /\[server\] text: hello ann/);
  assert.equal((await run(["send", "--hub", "chat", "--user", "ann", "--text", "hello ann"])).code, 0);
  await text;

  const json = waitForLine(listener.stdout, /\[group g1\] json: \{"n":1\}/);
  assert.equal((await run(["send", "--hub", "chat", "--group", "g1", "--json", '{"n":1}'])).code, 0);
  await json;

  // Stream fragments as they arrive, and the stream's end.
  const writerUrl = (await run(["token", "--hub", "chat", "--user", "w", "--role", "webpubsub.sendToGroup"])).stdout.trim();
  const writer = new WebSocket(writerUrl, "json.webpubsub.azure.v1");
  await once(writer, "open");
  const fragment = waitForLine(listener.stdout, /\[group g1 from w\] stream s1 #1 text: tok/);
  const ended = waitForLine(listener.stdout, /\[group g1 from w\] stream s1 #2 ended$/m);
  writer.send(JSON.stringify({ type: "sendToGroup", group: "g1", stream: { streamId: "s1" } }));
  writer.send(JSON.stringify({ type: "streamData", streamId: "s1", streamSequenceId: 1, dataType: "text", data: "tok" }));
  writer.send(JSON.stringify({ type: "streamEnd", streamId: "s1" }));
  await fragment;
  await ended;
  writer.close();

  assert.equal((await run(["group", "add", "--hub", "chat", "--group", "g2", "--connection", connectionId])).stdout.trim(), "added");
  assert.equal((await run(["exists", "--hub", "chat", "--group", "g2"])).stdout.trim(), "true");
  assert.equal((await run(["group", "remove", "--hub", "chat", "--group", "g2", "--user", "ann"])).stdout.trim(), "removed");
  assert.equal((await run(["exists", "--hub", "chat", "--group", "g2"])).stdout.trim(), "false");

  const closed = waitForLine(listener.stdout, /disconnected: bye/);
  assert.equal((await run(["close", "--hub", "chat", "--connection", connectionId, "--reason", "bye"])).code, 0);
  await closed;
  await exited;
});

test("errors are one line on stderr with a non-zero exit", async () => {
  const cases = [
    [["nope"], /unknown command 'nope'/],
    [["send", "--hub", "chat", "--all"], /give exactly one of --text, --json, --file/],
    [["send", "--hub", "chat", "--all", "--json", "{"], /--json is not valid JSON/],
    [["exists", "--user", "x"], /--hub is required/],
    [["send", "--hub", "chat", "--bogus"], /Unknown option '--bogus'/],
  ];
  for (const [args, pattern] of cases) {
    const { code, stderr } = await run(args);
    assert.notEqual(code, 0, args.join(" "));
    assert.match(stderr, pattern);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
  const unreachable = await run(["exists", "--hub", "chat", "--user", "x"], {
    WEB_PUBSUB_CONNECTION_STRING: `Endpoint=http://127.0.0.1:1;AccessKey=${ACCESS_KEY};Version=1.0;`,
  });
  assert.equal(unreachable.code, 1);
  assert.equal(unreachable.stderr.trim().split("\n").length, 1);
});

test("emulator --event-handler delivers connected events to the handler", async () => {
  const http = await import("node:http");
  const { default: WebSocket } = await import("ws");
  const events = [];
  const handler = http.createServer((req, res) => {
    if (req.method === "OPTIONS") {
      res.writeHead(200, { "WebHook-Allowed-Origin": "*" }).end();
      return;
    }
    events.push({ path: req.url, type: req.headers["ce-type"], user: req.headers["ce-userid"] });
    res.writeHead(204).end();
  });
  await new Promise((resolve) => handler.listen(0, "127.0.0.1", resolve));
  const spec = `hub=chat;url=http://127.0.0.1:${handler.address().port}/events/{event};events=connected`;
  const withHandler = spawn(process.execPath, [cli, "emulator", "--port", "0", "--host", "127.0.0.1", "--event-handler", spec]);
  withHandler.stdout.setEncoding("utf8");
  try {
    const [, cs] = await waitForLine(withHandler.stdout, /Connection string: (\S+)/);
    const url = (await run(["token", "--hub", "chat", "--user", "zed"], { WEB_PUBSUB_CONNECTION_STRING: cs })).stdout.trim();
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const end = Date.now() + 5000;
    while (events.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    socket.close();
    assert.deepEqual(events, [{ path: "/events/connected", type: "azure.webpubsub.sys.connected", user: "zed" }]);
  } finally {
    withHandler.kill("SIGINT");
    await new Promise((resolve) => withHandler.once("exit", resolve));
    handler.close();
  }
});
