// Client options and per-request behaviour, differential: the official @azure/web-pubsub 1.2.0 and ours run the
// same calls against the same scripted loopback server (delays, 503/429/408 answers with each retry header,
// connection resets, slow answers); request count, order, headers and what the caller sees must be equal.
// Also: onResponse for exists and error answers, abort and timeout, credentials (key rotation, a fake
// TokenCredential under concurrency), request logging through @azure/logger and its redaction, and errors with
// and without the optional @azure packages installed.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { startRecordingServer, defaultAnswer } from "./helpers/recording-server.mjs";
import { requestShape, errorShape, onResponseShape, jwtShape } from "./helpers/normalize.mjs";

const require = createRequire(import.meta.url);
const official = require("@azure/web-pubsub");
const ours = require("../index.js");
const { AzureLogger, setLogLevel } = require("@azure/logger");
const corePipeline = require("@azure/core-rest-pipeline");
const abortController = require("@azure/abort-controller");
const here = path.dirname(fileURLToPath(import.meta.url));
const OUR_VERSION = require("../package.json").version;

const KEY = "options-test-access-key-0123456789abcdef";
const HUB = "hub1";
const FAST = { maxRetries: 3, retryDelayInMs: 2, maxRetryDelayInMs: 10 };

const server = await startRecordingServer();
after(() => server.close());

function keyClient(sdk, options = {}, endpoint = server.url) {
  return new sdk.WebPubSubServiceClient(endpoint, new sdk.AzureKeyCredential(KEY), HUB, {
    allowInsecureConnection: true,
    retryOptions: FAST,
    ...options,
  });
}

/** Runs `run(client, seen)` with each SDK against the same script; returns what each produced. */
async function differential({ reply, client = (sdk) => keyClient(sdk), run }) {
  const results = {};
  for (const [name, sdk] of [
    ["official", official],
    ["ours", ours],
  ]) {
    server.reset();
    if (reply) server.reply(Array.isArray(reply) ? structuredClone(reply) : reply);
    const seen = [];
    const onResponse = (raw, flat) => seen.push(onResponseShape(raw, flat));
    let outcome;
    try {
      outcome = { value: await run(client(sdk), onResponse) };
    } catch (e) {
      outcome = errorShape(e);
    }
    const requests = server.requests.map((r) => requestShape(r, KEY));
    const requestIds = new Set(server.requests.map((r) => r.headers["x-ms-client-request-id"]));
    results[name] = { outcome, requests, seen, requestIdsPerCall: requestIds.size };
  }
  return results;
}

async function assertSame(spec) {
  const { official: theirs, ours: mine } = await differential(spec);
  assert.deepEqual(mine, theirs);
  return theirs;
}

const send = (c, onResponse) => c.sendToAll("hello", { onResponse });

// --- retries -------------------------------------------------------------------------------------------------

test("503 twice then success: three requests with one request id", async () => {
  const r = await assertSame({ reply: [{ status: 503 }, { status: 503 }, { status: 202 }], run: send });
  assert.equal(r.requests.length, 3);
  assert.equal(r.requestIdsPerCall, 1);
  assert.deepEqual(r.outcome, { value: { body: undefined } });
  assert.deepEqual(
    r.seen.map((s) => s.status),
    [202],
  );
});

for (const status of [408, 500, 502, 503, 504]) {
  test(`${status} is retried`, async () => {
    const r = await assertSame({ reply: [{ status }, { status: 202 }], run: send });
    assert.equal(r.requests.length, 2);
  });
}

// 429 is retried only when it says when (Retry-After and friends, below).
for (const status of [400, 401, 403, 409, 413, 429, 501, 505]) {
  test(`${status} is not retried and rejects with a RestError`, async () => {
    const r = await assertSame({
      reply: [{ status, body: { code: "Code", message: `status ${status}` } }, { status: 202 }],
      run: send,
    });
    assert.equal(r.requests.length, 1);
    assert.equal(r.outcome.statusCode, status);
    assert.equal(r.outcome.message, `status ${status}`);
    assert.equal(r.seen.length, 1);
  });
}

for (const [header, value] of [
  ["Retry-After", "0"],
  ["Retry-After", new Date(Date.now() - 5000).toUTCString()],
  ["retry-after-ms", "5"],
  ["x-ms-retry-after-ms", "5"],
]) {
  test(`429 with ${header}: ${value.length > 5 ? "a date" : value} is retried`, async () => {
    const r = await assertSame({ reply: [{ status: 429, headers: { [header]: value } }, { status: 202 }], run: send });
    assert.equal(r.requests.length, 2);
    assert.deepEqual(r.outcome, { value: { body: undefined } });
  });
}

test("Retry-After in seconds is waited for", async () => {
  for (const sdk of [official, ours]) {
    server.reset();
    server.reply([{ status: 503, headers: { "Retry-After": "1" } }, { status: 202 }]);
    const started = Date.now();
    await keyClient(sdk).sendToAll("x");
    assert.ok(Date.now() - started >= 900, "the client waited about a second");
  }
});

test("after the last try the error is the last answer's RestError", async () => {
  const answers = [500, 502, 503, 504].map((status) => ({ status, body: { code: `C${status}`, message: `m${status}` } }));
  const r = await assertSame({ reply: answers, run: send });
  assert.equal(r.requests.length, 4);
  assert.equal(r.outcome.statusCode, 504);
  assert.equal(r.outcome.message, "m504");
  assert.deepEqual(
    r.seen.map((s) => s.status),
    [504],
  );
});

test("maxRetries 0 sends once; default options retry 3 times", async () => {
  const once = await assertSame({ reply: () => ({ status: 503 }), client: (sdk) => keyClient(sdk, { retryOptions: { maxRetries: 0 } }), run: send });
  assert.equal(once.requests.length, 1);
  // Default back-off is 1s, 2s, ... with jitter: keep the answers fast by failing only once.
  const defaults = await assertSame({
    reply: [{ status: 503, headers: { "retry-after-ms": "1" } }, { status: 202 }],
    client: (sdk) => keyClient(sdk, { retryOptions: undefined }),
    run: send,
  });
  assert.equal(defaults.requests.length, 2);
});

test("connection reset is retried, then succeeds", async () => {
  const r = await assertSame({ reply: [{ destroy: true }, { destroy: true }, { status: 202 }], run: send });
  assert.equal(r.requests.length, 3);
  assert.deepEqual(r.outcome, { value: { body: undefined } });
});

test("connection reset on every try rejects with ECONNRESET after the retries", async () => {
  const r = await assertSame({ reply: () => ({ destroy: true }), run: send });
  assert.equal(r.requests.length, 4);
  assert.equal(r.outcome.name, "RestError");
  assert.equal(r.outcome.code, "ECONNRESET");
});

// An answer whose body breaks off after its head was read: the request reached the service, so it is not sent
// again (a retried sendToAll would be broadcast twice), and the error is the pipeline's body-read PARSE_ERROR.
for (const [what, head] of [
  ["202", "HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\nabc"],
  ["500", "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":"],
  ["chunked 500", "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":"],
]) {
  test(`a ${what} answer that breaks off mid-body is sent once and rejects with PARSE_ERROR`, async () => {
    const r = await assertSame({ reply: () => ({ raw: head }), run: send });
    assert.equal(r.requests.length, 1);
    assert.equal(r.outcome.code, "PARSE_ERROR");
    assert.equal(r.outcome.request, undefined);
  });
}

// Answers the HTTP parser rejects: Node's parser codes, not retried, with the request on the error. (A HEAD
// answer's Content-Length is not checked: no body follows it, and hyper does not read it.)
for (const [answer, code, methods = ["POST", "HEAD"]] of [
  ["GARBAGE garbage\r\n\r\n", "HPE_INVALID_CONSTANT"],
  ["HTTP/1.1 2x0 OK\r\n\r\n", "HPE_INVALID_STATUS"],
  ["HTTP/1.1 200 OK\r\nbad header\r\n\r\n", "HPE_INVALID_HEADER_TOKEN"],
  ["HTTP/1.1 202 Accepted\r\nContent-Length: abc\r\n\r\n", "HPE_INVALID_CONTENT_LENGTH", ["POST"]],
]) {
  for (const [op, method, run] of [
    ["sendToAll", "POST", send],
    ["userExists", "HEAD", (c, onResponse) => c.userExists("u", { onResponse })],
  ]) {
    if (!methods.includes(method)) continue;
    test(`${op}: an answer failing with ${code} is sent once`, async () => {
      const r = await assertSame({ reply: () => ({ raw: answer }), run });
      assert.equal(r.requests.length, 1);
      assert.equal(r.outcome.code, code);
      assert.ok(r.outcome.request.url.includes("/api/hubs/hub1/"));
    });
  }
}

test("a transport error's request holds the request as sent, without the token", async () => {
  server.reset();
  server.reply(() => ({ destroy: true }));
  const error = await keyClient(ours, { retryOptions: { maxRetries: 0 } })
    .sendToAll("hello")
    .then(() => assert.fail("resolved"), (e) => e);
  assert.equal(error.code, "ECONNRESET");
  assert.equal(error.request.method, "POST");
  assert.equal(error.request.headers.get("x-ms-client-request-id"), server.requests[0].headers["x-ms-client-request-id"]);
  assert.equal(error.request.headers.get("authorization"), "REDACTED");
  assert.ok(!JSON.stringify(error.request).includes(server.requests[0].headers.authorization.slice(7)));
});

test("nothing listening: ECONNREFUSED RestError, isRestError true for both", async () => {
  const closed = await startRecordingServer();
  const url = closed.url;
  await closed.close();
  for (const sdk of [official, ours]) {
    const error = await keyClient(sdk, {}, url)
      .sendToAll("x")
      .then(() => assert.fail("resolved"), (e) => e);
    assert.equal(error.name, "RestError");
    assert.equal(error.code, "ECONNREFUSED");
    assert.match(error.message, /ECONNREFUSED 127\.0\.0\.1:\d+/);
    assert.ok(corePipeline.isRestError(error));
    assert.ok(error instanceof corePipeline.RestError);
    assert.ok(sdk.isRestError ? sdk.isRestError(error) : true);
  }
});

test("unknown host: ENOTFOUND RestError", async () => {
  const seen = [];
  for (const sdk of [official, ours]) {
    const error = await keyClient(sdk, { retryOptions: { maxRetries: 0 } }, "http://no-such-host.invalid")
      .sendToAll("x")
      .then(() => assert.fail("resolved"), (e) => e);
    seen.push({ name: error.name, code: error.code, message: error.message, isRestError: corePipeline.isRestError(error) });
  }
  assert.deepEqual(seen[1], seen[0]);
  assert.equal(seen[0].code, "ENOTFOUND");
});

// --- onResponse ----------------------------------------------------------------------------------------------

test("onResponse is called once for a 404 exists answer", async () => {
  const r = await assertSame({
    reply: [{ status: 404, body: { code: "NotFound" } }],
    run: async (c, onResponse) => [await c.groupExists("g", { onResponse })],
  });
  assert.deepEqual(r.outcome, { value: [false] });
  assert.equal(r.seen.length, 1);
  assert.equal(r.seen[0].status, 404);
});

test("onResponse is called once for an error answer, before the rejection", async () => {
  const r = await assertSame({
    reply: [{ status: 403, headers: { "x-ms-error-code": "Forbidden" }, body: { code: "Forbidden", message: "no" } }],
    run: async (c, onResponse) => c.closeConnection("c1", { onResponse }),
  });
  assert.equal(r.seen.length, 1);
  assert.equal(r.seen[0].status, 403);
  assert.equal(r.outcome.statusCode, 403);
});

// --- abort, timeout, custom headers, tracing ------------------------------------------------------------------

test("a pre-aborted signal rejects before sending", async () => {
  const r = await assertSame({ run: (c) => c.sendToAll("x", { abortSignal: AbortSignal.abort() }) });
  assert.equal(r.requests.length, 0);
  assert.equal(r.outcome.name, "AbortError");
});

test("aborting in flight rejects with the official AbortError", async () => {
  const r = await assertSame({
    reply: [{ status: 202, delayMs: 400 }],
    run: (c) => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      return c.sendToAll("x", { abortSignal: ac.signal });
    },
  });
  assert.equal(r.requests.length, 1);
  assert.equal(r.outcome.name, "AbortError");
});

test("our AbortError is @azure/abort-controller's", async () => {
  const error = await keyClient(ours)
    .sendToAll("x", { abortSignal: AbortSignal.abort() })
    .catch((e) => e);
  assert.ok(error instanceof abortController.AbortError);
});

test("requestOptions.timeout on a slow answer rejects with the same AbortError", async () => {
  const r = await assertSame({
    reply: [{ status: 202, delayMs: 600 }],
    run: (c) => c.sendToAll("x", { requestOptions: { timeout: 100 } }),
  });
  assert.equal(r.requests.length, 1);
  assert.equal(r.outcome.name, "AbortError");
});

test("customHeaders are sent on every try; tracingOptions are accepted", async () => {
  const headersOf = [];
  for (const sdk of [official, ours]) {
    server.reset();
    server.reply([{ status: 503 }, { status: 202 }]);
    await keyClient(sdk).sendToAll("x", {
      requestOptions: { customHeaders: { "x-custom-one": "1", "X-Custom-Two": "two" } },
      tracingOptions: { tracingContext: undefined },
    });
    headersOf.push(server.requests.map((r) => [r.headers["x-custom-one"], r.headers["x-custom-two"]]));
  }
  assert.deepEqual(headersOf[1], headersOf[0]);
  assert.deepEqual(headersOf[0], [
    ["1", "two"],
    ["1", "two"],
  ]);
});

// --- endpoint options ----------------------------------------------------------------------------------------

test("reverseProxyEndpoint: sent to the proxy, signed for the endpoint", async () => {
  const r = await assertSame({
    client: (sdk) => keyClient(sdk, { reverseProxyEndpoint: server.url }, "http://contoso.webpubsub.azure.com"),
    run: send,
  });
  assert.equal(r.requests.length, 1);
  assert.equal(r.requests[0].authorization.aud, `http://contoso.webpubsub.azure.com/api/hubs/${HUB}/:send?api-version=2024-12-01`);
});

test("reverseProxyEndpoint keeps the endpoint's scheme: TLS to a plain HTTP proxy fails with EPROTO", async () => {
  const codes = [];
  for (const sdk of [official, ours]) {
    const client = keyClient(sdk, { reverseProxyEndpoint: server.url, retryOptions: { maxRetries: 0 } }, "https://contoso.webpubsub.azure.com");
    const error = await client.sendToAll("x").catch((e) => e);
    codes.push([error.name, error.code]);
  }
  assert.deepEqual(codes[1], codes[0]);
  assert.deepEqual(codes[0], ["RestError", "EPROTO"]);
});

test("allowInsecureConnection false refuses http with the official message", async () => {
  const r = await assertSame({ client: (sdk) => keyClient(sdk, { allowInsecureConnection: false }), run: send });
  assert.equal(r.requests.length, 0);
  assert.match(r.outcome.message, /allowInsecureConnection is false/);
});

test("User-Agent: the prefix first, then this package and version", async () => {
  const agents = [];
  for (const sdk of [official, ours]) {
    server.reset();
    await keyClient(sdk, { userAgentOptions: { userAgentPrefix: "my-app/2.0" } }).sendToAll("x");
    agents.push(server.requests[0].headers["user-agent"]);
  }
  assert.match(agents[0], /^my-app\/2\.0 azsdk-js-web-pubsub\/1\.2\.0 /);
  assert.ok(agents[1].startsWith(`my-app/2.0 web-pubsub-native/${OUR_VERSION} `), agents[1]);
});

test("proxyOptions: requests go through the proxy in absolute form", async () => {
  const r = await assertSame({
    client: (sdk) => keyClient(sdk, { proxyOptions: { host: server.url } }, "http://upstream.invalid:8123"),
    run: send,
  });
  assert.equal(r.requests.length, 1);
  assert.equal(server.requests[0].url, `http://upstream.invalid:8123/api/hubs/${HUB}/:send?api-version=2024-12-01`);
  assert.equal(server.requests[0].headers.host, "upstream.invalid:8123");
});

test("HTTP_PROXY from the environment, and NO_PROXY bypassing it", async () => {
  process.env.HTTP_PROXY = server.url;
  try {
    const r = await assertSame({ client: (sdk) => keyClient(sdk, {}, "http://upstream.invalid:8123"), run: send });
    assert.equal(r.requests.length, 1);
    assert.equal(server.requests[0].headers.host, "upstream.invalid:8123");
    // core-rest-pipeline reads NO_PROXY once per process, so only ours is checked here (a fresh client).
    process.env.NO_PROXY = "upstream.invalid";
    server.reset();
    const error = await keyClient(ours, { retryOptions: { maxRetries: 0 } }, "http://upstream.invalid:8123")
      .sendToAll("x")
      .catch((e) => e);
    assert.equal(error.code, "ENOTFOUND");
    assert.equal(server.requests.length, 0);
  } finally {
    delete process.env.HTTP_PROXY;
    delete process.env.NO_PROXY;
  }
});

// --- credentials ---------------------------------------------------------------------------------------------

test("AzureKeyCredential.update() signs the next request with the new key", async () => {
  const NEW_KEY = "rotated-access-key-0123456789abcdefghijk";
  const valid = [];
  for (const sdk of [official, ours]) {
    server.reset();
    const credential = new sdk.AzureKeyCredential(KEY);
    const client = new sdk.WebPubSubServiceClient(server.url, credential, HUB, { allowInsecureConnection: true });
    await client.sendToAll("before");
    credential.update(NEW_KEY);
    await client.sendToAll("after");
    const tokens = server.requests.map((r) => r.headers.authorization.slice("Bearer ".length));
    valid.push([jwtShape(tokens[0], KEY).signatureValid, jwtShape(tokens[1], NEW_KEY).signatureValid]);
  }
  assert.deepEqual(valid, [
    [true, true],
    [true, true],
  ]);
});

test("TokenCredential: one getToken for concurrent calls, a shared refresh, Bearer header", async () => {
  const fixtures = path.join(here, "..", "crates", "service-client", "tests", "fixtures");
  const requests = [];
  const tls = https.createServer(
    { cert: fs.readFileSync(path.join(fixtures, "localhost.cert.pem")), key: fs.readFileSync(path.join(fixtures, "localhost.key.pem")) },
    (req, res) => {
      req.resume();
      req.on("end", () => {
        requests.push(req.headers.authorization);
        res.writeHead(defaultAnswer({ method: req.method, path: req.url.split("?")[0] }).status);
        res.end();
      });
    },
  );
  // Every TCP connection, including those still in their TLS handshake, which closeAllConnections() does
  // not see: the native pool may finish opening a spare connection after the last call returns.
  const sockets = new Set();
  tls.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((resolve) => tls.listen(0, "127.0.0.1", resolve));
  process.env.NODE_EXTRA_CA_CERTS = path.join(fixtures, "test-ca.cert.pem");
  try {
    const scopes = [];
    let issued = 0;
    let next = () => ({ expiresOnTimestamp: Date.now() + 3600e3 });
    const credential = {
      async getToken(scope) {
        scopes.push(scope);
        await new Promise((r) => setTimeout(r, 30));
        issued += 1;
        return { token: `token-${issued}`, ...next() };
      },
    };
    const endpoint = `https://localhost:${tls.address().port}`;
    const client = new ours.WebPubSubServiceClient(endpoint, credential, HUB);
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.sendToAll(`m${i}`)));
    assert.equal(scopes.length, 1);
    assert.deepEqual(scopes[0], ["https://webpubsub.azure.com/.default"]);
    assert.equal(requests.length, 20);
    assert.ok(requests.every((h) => h === "Bearer token-1"));

    // Past refreshAfterTimestamp: the current token keeps being sent while one background refresh runs.
    next = () => ({ expiresOnTimestamp: Date.now() + 3600e3, refreshAfterTimestamp: Date.now() - 1 });
    const refreshing = new ours.WebPubSubServiceClient(endpoint, credential, HUB);
    await refreshing.sendToAll("first");
    next = () => ({ expiresOnTimestamp: Date.now() + 3600e3 });
    requests.length = 0;
    await Promise.all(Array.from({ length: 10 }, () => refreshing.sendToAll("x")));
    assert.deepEqual(new Set(requests), new Set(["Bearer token-2"]));
    await new Promise((r) => setTimeout(r, 100));
    await refreshing.sendToAll("after the refresh");
    assert.equal(requests.at(-1), "Bearer token-3");
    assert.equal(scopes.length, 3, "one token for the second client, one shared refresh");

    // An expired token: every concurrent call waits for one shared refresh.
    next = () => ({ expiresOnTimestamp: Date.now() - 1 });
    const expiring = new ours.WebPubSubServiceClient(endpoint, credential, HUB);
    await expiring.sendToAll("with an expired token");
    next = () => ({ expiresOnTimestamp: Date.now() + 3600e3 });
    requests.length = 0;
    await Promise.all(Array.from({ length: 10 }, () => expiring.sendToAll("x")));
    assert.equal(scopes.length, 5);
    assert.deepEqual(new Set(requests), new Set(["Bearer token-5"]));
  } finally {
    delete process.env.NODE_EXTRA_CA_CERTS;
    const closed = new Promise((resolve) => tls.close(resolve));
    for (const s of sockets) s.destroy();
    await closed;
  }
});

test("TokenCredential over http is refused with the official message", async () => {
  const credential = { getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 3600e3 }) };
  const r = await assertSame({
    client: (sdk) => new sdk.WebPubSubServiceClient(server.url, credential, HUB, { allowInsecureConnection: true }),
    run: send,
  });
  assert.equal(r.requests.length, 0);
  assert.equal(r.outcome.message, "Bearer token authentication is not permitted for non-TLS protected (non-https) URLs.");
});

// --- messages given as a function ------------------------------------------------------------------------------

const BODY_FACTORIES = {
  "a Node stream of Buffers and strings": () => Readable.from([Buffer.from("ab"), "cd"]),
  "a Buffer": () => Buffer.from("buf"),
  "a string": () => "str",
  "a Uint8Array": () => new Uint8Array([104, 105]),
  "a plain object": () => ({ a: 1 }),
  "a WHATWG ReadableStream": () => new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array([1])), c.close()) }),
  "a Promise": async () => Readable.from(["x"]),
};

for (const [what, factory] of Object.entries(BODY_FACTORIES)) {
  test(`a message function returning ${what} is sent, or refused, as the official client does`, async () => {
    const r = await assertSame({ run: (c) => c.sendToAll(factory) });
    assert.ok(r.requests.every((q) => q.contentType === "application/octet-stream"));
  });
}

test("a message function that throws rejects with its error and sends nothing", async () => {
  const r = await assertSame({
    run: (c) =>
      c.sendToAll(() => {
        throw new Error("factory failed");
      }),
  });
  assert.equal(r.requests.length, 0);
  assert.equal(r.outcome.message, "factory failed");
});

test("an aborted call does not call the message function", async () => {
  let calls = 0;
  const factory = () => (calls++, Readable.from(["x"]));
  const r = await assertSame({ run: (c) => c.sendToAll(factory, { abortSignal: AbortSignal.abort() }) });
  assert.equal(r.outcome.name, "AbortError");
  assert.equal(calls, 0);
});

test("a stream that fails rejects the call with its error and sends nothing", async () => {
  // The official client leaves the stream's error unhandled, which ends the Node process.
  server.reset();
  const failing = () => new Readable({ read() { this.destroy(new Error("stream broke")); } });
  await assert.rejects(keyClient(ours).sendToAll(failing), { message: "stream broke" });
  assert.equal(server.requests.length, 0);
});

test("a retried call sends the stream's bytes again", async () => {
  // The official client calls the function again for each attempt; this package reads it once.
  server.reset();
  server.reply([{ status: 503 }, { status: 202 }]);
  let calls = 0;
  await keyClient(ours).sendToAll(() => (calls++, Readable.from(["once", " read"])));
  assert.deepEqual(server.requests.map((q) => q.body.toString()), ["once read", "once read"]);
  assert.equal(calls, 1);
});

// --- logging -------------------------------------------------------------------------------------------------

/** Runs `run` with @azure/logger at `level`, returning the azure:web-pubsub lines written. */
async function captureLog(level, run) {
  const lines = [];
  const original = AzureLogger.log;
  AzureLogger.log = (...args) => lines.push(args.join(" "));
  setLogLevel(level);
  try {
    await run();
    // Our attempt events reach JS through their own queue; let it drain.
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    setLogLevel();
    AzureLogger.log = original;
  }
  return lines.filter((l) => l.startsWith("azure:web-pubsub:"));
}

// What legitimately differs: the User-Agent value, request ids and dates (compared as present), and the
// transport's own headers (Node's http adds accept-encoding and, on retries, content-length; dropped).
const VOLATILE = new Set(["user-agent", "x-ms-client-request-id", "date", "keep-alive"]);
const TRANSPORT = new Set(["accept-encoding", "content-length", "transfer-encoding", "connection"]);

function normalizeLine(line) {
  const m = /^(azure:web-pubsub:\w+) (Request|Headers): ([\s\S]*)$/.exec(line);
  if (!m) return line;
  const value = JSON.parse(m[3]);
  const headers = m[2] === "Request" ? value.headers : value;
  for (const name of Object.keys(headers)) {
    if (VOLATILE.has(name)) headers[name] = typeof headers[name];
    if (TRANSPORT.has(name)) delete headers[name];
  }
  if (m[2] === "Request") {
    value.requestId = typeof value.requestId;
    value.headers = Object.fromEntries(Object.entries(headers).sort());
    return { kind: `${m[1]} Request`, ...value };
  }
  return { kind: `${m[1]} Headers`, ...Object.fromEntries(Object.entries(headers).sort()) };
}

/**
 * The official client writes response header values unredacted (its sanitizer sees the header object at the top
 * level, not under a `headers` key); ours redacts them like request headers. Fold that one known difference.
 */
function redactResponseHeaders(line) {
  if (typeof line !== "object" || !line.kind.endsWith(" Headers")) return line;
  const allowed = new Set(["kind", "date", "keep-alive", "content-type", "content-length", "retry-after"]);
  return Object.fromEntries(Object.entries(line).map(([k, v]) => [k, allowed.has(k) ? v : "REDACTED"]));
}

test("logging: the same lines as the official client, with secrets and unlisted values REDACTED", async () => {
  const logs = [];
  for (const sdk of [official, ours]) {
    server.reset();
    server.reply([{ status: 503, headers: { "x-secret-header": "s3cret", "retry-after-ms": "1" } }, { status: 202 }]);
    const client = keyClient(sdk, {
      loggingOptions: { additionalAllowedHeaderNames: ["x-allowed"], additionalAllowedQueryParameters: ["filter"] },
    });
    logs.push(
      await captureLog("info", async () => {
        await client.sendToAll("x", {
          filter: "userId eq 'u1'",
          requestOptions: { customHeaders: { "x-allowed": "visible", "x-hidden": "hidden-value" } },
        });
        await client.sendToUser("u1", "x", { filter: "a eq 'b'" });
      }),
    );
  }
  const [theirs, mine] = logs;
  assert.ok(theirs.length >= 8, theirs.join("\n"));
  assert.deepEqual(mine.map(normalizeLine), theirs.map(normalizeLine).map(redactResponseHeaders));
  const text = mine.join("\n");
  assert.ok(!text.includes(KEY));
  assert.ok(!/Bearer /.test(text), "no token in the log");
  assert.ok(text.includes('"authorization": "REDACTED"'));
  assert.ok(text.includes('"x-hidden": "REDACTED"') && text.includes('"x-allowed": "visible"'));
  assert.ok(!text.includes("s3cret") && !text.includes("hidden-value"));
  assert.ok(text.includes('"x-secret-header": "REDACTED"'));
});

test("logging off: no lines from our client", async () => {
  const lines = await captureLog(undefined, () => keyClient(ours).sendToAll("x"));
  assert.deepEqual(lines, []);
  const warning = await captureLog("warning", () => keyClient(ours).sendToAll("x"));
  assert.deepEqual(warning, []);
});

test("logging of a connection failure: the Request lines only, as the official client", async () => {
  const logs = [];
  for (const sdk of [official, ours]) {
    server.reset();
    server.reply([{ destroy: true }, { status: 202 }]);
    logs.push(await captureLog("verbose", () => keyClient(sdk).sendToAll("x")));
  }
  assert.deepEqual(
    logs[0].map((l) => l.split(" ")[1]),
    ["Request:", "Request:", "Response", "Headers:"],
  );
  assert.deepEqual(logs[1].map(normalizeLine), logs[0].map(normalizeLine));
});

// --- errors never carry tokens --------------------------------------------------------------------------------

test("RestError: shape, class, and no token in message, request or serialization", async () => {
  server.reset();
  server.reply([{ status: 400, body: { code: "InvalidRequest", message: "bad" } }]);
  let seenAuthorization;
  const error = await keyClient(ours)
    .sendToAll("x", { onResponse: (raw) => (seenAuthorization = raw.request.headers.get("authorization")) })
    .catch((e) => e);
  assert.ok(error instanceof corePipeline.RestError);
  assert.ok(corePipeline.isRestError(error));
  assert.equal(error.statusCode, 400);
  assert.equal(error.code, "InvalidRequest");
  // onResponse sees what was sent, as the official client shows it; the error does not keep the token.
  assert.match(seenAuthorization, /^Bearer ey/);
  assert.equal(error.request.headers.get("authorization"), "REDACTED");
  // error.response is the very object onResponse saw (as in the official client), so it keeps the request as sent.
  assert.equal(error.response.status, 400);
  const util = require("node:util");
  for (const text of [error.message, JSON.stringify(error), util.inspect(error, { depth: 6 })]) {
    assert.ok(!text.includes(seenAuthorization.slice(7)));
  }
});

/** Runs `script` in a child Node where @azure/logger, @azure/core-rest-pipeline and @azure/abort-controller cannot be loaded. */
async function withoutAzurePackages(script, env = {}) {
  const block = [
    "const Module = require('node:module');",
    "const resolve = Module._resolveFilename;",
    "const blocked = ['@azure/logger', '@azure/core-rest-pipeline', '@azure/abort-controller', '@azure/core-auth'];",
    "Module._resolveFilename = function (request, ...rest) {",
    "  if (blocked.includes(request)) { const e = new Error(`Cannot find module '${request}'`); e.code = 'MODULE_NOT_FOUND'; throw e; }",
    "  return resolve.call(this, request, ...rest);",
    "};",
  ].join("\n");
  // Asynchronous: the child talks to this process's recording server.
  const child = spawn(process.execPath, ["-e", `${block}\n${script}`], { cwd: path.join(here, ".."), env: { ...process.env, ...env } });
  const result = { stdout: "", stderr: "" };
  child.stdout.on("data", (d) => (result.stdout += d));
  child.stderr.on("data", (d) => (result.stderr += d));
  result.status = await new Promise((resolve) => child.on("close", resolve));
  assert.equal(result.status, 0, result.stderr);
  return result;
}

test("without the optional @azure packages: own RestError/AbortError, AZURE_LOG_LEVEL logs to stderr", async () => {
  const script = `
    const { WebPubSubServiceClient, AzureKeyCredential, isRestError } = require("./index.js");
    (async () => {
      const client = new WebPubSubServiceClient(${JSON.stringify(server.url)}, new AzureKeyCredential(${JSON.stringify(KEY)}), "hub1", {
        allowInsecureConnection: true, retryOptions: { maxRetries: 0 } });
      const e = await client.sendToAll("x").catch((e) => e);
      const a = await client.sendToAll("x", { abortSignal: AbortSignal.abort() }).catch((e) => e);
      await new Promise((r) => setTimeout(r, 20));
      console.log(JSON.stringify({ name: e.name, statusCode: e.statusCode, isRestError: isRestError(e), abort: a.name, abortMessage: a.message }));
    })();
  `;
  server.reset();
  server.reply(() => ({ status: 409, body: { code: "Conflict", message: "taken" } }));
  const result = await withoutAzurePackages(script, { AZURE_LOG_LEVEL: "info" });
  const out = JSON.parse(result.stdout.trim().split("\n").pop());
  assert.deepEqual(out, {
    name: "RestError",
    statusCode: 409,
    isRestError: true,
    abort: "AbortError",
    abortMessage: "The operation was aborted. Request has already been canceled.",
  });
  const lines = result.stderr.split("\n").filter((l) => l.startsWith("azure:web-pubsub:info "));
  assert.deepEqual(
    lines.map((l) => l.slice("azure:web-pubsub:info ".length).split(":")[0]),
    ["Request", "Response status code", "Headers"],
  );
  assert.ok(result.stderr.includes('"authorization": "REDACTED"'));
  assert.ok(!/Bearer /.test(result.stderr));

  const quiet = await withoutAzurePackages(script, { AZURE_LOG_LEVEL: "warning" });
  assert.equal(quiet.stderr.includes("azure:web-pubsub"), false);
});
