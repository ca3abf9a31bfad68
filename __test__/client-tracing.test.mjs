// Tracing through @azure/core-tracing, differential: with a recording instrumenter registered, the official
// @azure/web-pubsub 1.2.0 and ours run the same calls against the same scripted loopback server, and must make the
// same spans (names, kinds, attributes, statuses, errors, parents, end order) and send each attempt's own
// `traceparent` / `tracestate`, through retries, error answers, transport failures, abort and timeout.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { startRecordingServer } from "./helpers/recording-server.mjs";
import { errorShape } from "./helpers/normalize.mjs";
import { RecordingInstrumenter, parentContext } from "./helpers/recording-instrumenter.mjs";

const require = createRequire(import.meta.url);
const official = require("@azure/web-pubsub");
const ours = require("../index.js");
const { useInstrumenter } = require("@azure/core-tracing");

const KEY = "tracing-test-access-key-0123456789abcdef";
const HUB = "hub1";
const FAST = { maxRetries: 3, retryDelayInMs: 2, maxRetryDelayInMs: 10 };

const tracer = new RecordingInstrumenter();
useInstrumenter(tracer);
const server = await startRecordingServer();
after(async () => {
  useInstrumenter(undefined);
  await server.close();
});

function keyClient(sdk, options = {}) {
  return new sdk.WebPubSubServiceClient(server.url, new sdk.AzureKeyCredential(KEY), HUB, {
    allowInsecureConnection: true,
    retryOptions: FAST,
    ...options,
  });
}

/** A span as compared between the SDKs; the user agent and request id, each SDK's own, are checked on the wire. */
function spanShape(span, spans) {
  const attributes = { ...span.attributes };
  if ("http.user_agent" in attributes) attributes["http.user_agent"] = typeof attributes["http.user_agent"];
  if ("requestId" in attributes) attributes.requestId = typeof attributes.requestId;
  return {
    name: span.name,
    kind: span.kind,
    attributes,
    status: span.status,
    error: span.error && errorShape(span.error),
    parent: span.parent ? spans.indexOf(span.parent) : -1,
    endIndex: span.endIndex,
  };
}

/** Each request carries the headers of one HTTP span, whose request id and user agent are the request's. */
function assertWireMatchesSpans(spans, requests) {
  for (const request of requests) {
    const span = spans.find((s) => s.traceparent === request.headers.traceparent);
    assert.ok(span, `a span for the request's traceparent ${request.headers.traceparent}`);
    assert.equal(span.kind, "client");
    assert.equal(request.headers.tracestate, `test=${span.spanId}`);
    assert.equal(span.attributes.requestId, request.headers["x-ms-client-request-id"]);
    assert.equal(span.attributes["http.user_agent"], request.headers["user-agent"]);
  }
}

/** Runs `run(client)` with each SDK against the same script; returns the spans and wire headers each produced. */
async function traceBoth({ reply, client = keyClient, run, recording = true }) {
  const results = {};
  for (const [name, sdk] of [
    ["official", official],
    ["ours", ours],
  ]) {
    tracer.reset();
    tracer.recording = recording;
    server.reset();
    if (reply) server.reply(Array.isArray(reply) ? structuredClone(reply) : reply);
    let outcome;
    try {
      outcome = { value: await run(client(sdk)) };
    } catch (e) {
      outcome = errorShape(e);
    }
    if (recording) assertWireMatchesSpans(tracer.spans, server.requests);
    results[name] = {
      outcome,
      spans: tracer.spans.map((s) => spanShape(s, tracer.spans)),
      wire: server.requests.map((r) => [r.headers.traceparent !== undefined, r.headers.tracestate !== undefined]),
    };
  }
  return results;
}

async function assertSameTrace(spec) {
  const { official: theirs, ours: mine } = await traceBoth(spec);
  assert.deepEqual(mine, theirs);
  return theirs;
}

const names = (result) => result.spans.map((s) => s.name);

test("every operation: an operation span with one HTTP span per request, carried by its traceparent", async () => {
  const r = await assertSameTrace({
    run: async (c) => {
      const g = c.group("g1");
      const results = [];
      results.push(await c.sendToAll("hello"));
      results.push(await c.sendToUser("u1", { a: 1 }));
      results.push(await c.sendToConnection("c1", new Uint8Array([1, 2]).buffer, { contentType: "application/octet-stream" }));
      results.push(await c.connectionExists("c1"));
      results.push(await c.closeConnection("c1", { reason: "r" }));
      results.push(await c.closeAllConnections());
      results.push(await c.closeUserConnections("u1"));
      results.push(await c.removeUserFromAllGroups("u1"));
      results.push(await c.removeConnectionFromAllGroups("c1"));
      results.push(await c.addConnectionsToGroups(["g1"], "userId eq 'u1'"));
      results.push(await c.removeConnectionsFromGroups(["g1"], "userId eq 'u1'"));
      results.push(await c.groupExists("g1"));
      results.push(await c.userExists("u1"));
      results.push(await c.grantPermission("c1", "joinLeaveGroup", { targetName: "g1" }));
      results.push(await c.revokePermission("c1", "sendToGroup"));
      results.push(await c.hasPermission("c1", "joinLeaveGroup"));
      results.push(typeof (await c.getClientAccessToken({ userId: "u1" })).token);
      results.push(await g.addConnection("c1"));
      results.push(await g.removeConnection("c1"));
      results.push(await g.closeAllConnections());
      results.push(await g.addUser("u1"));
      results.push(await g.removeUser("u1"));
      results.push(await g.sendToAll("hi"));
      const connections = [];
      for await (const connection of await g.listConnections()) connections.push(connection);
      results.push(connections);
      return results.map((v) => (v === undefined ? null : v));
    },
  });
  assert.equal(r.spans.filter((s) => s.kind === "client").length, 23);
  assert.ok(r.wire.every(([parent, state]) => parent && state));
  assert.deepEqual(names(r).slice(0, 2), ["WebPubSubServiceClient.sendToAll", "HTTP POST"]);
});

test("retried answers: one HTTP span per attempt with its status and the service's request id", async () => {
  const r = await assertSameTrace({
    reply: [
      { status: 503, headers: { "x-ms-request-id": "first" } },
      { status: 500 },
      { status: 429, headers: { "retry-after": "0" } },
      { status: 202, headers: { "x-ms-request-id": "last" } },
    ],
    run: (c) => c.sendToAll("hello"),
  });
  assert.deepEqual(names(r), ["WebPubSubServiceClient.sendToAll", "HTTP POST", "HTTP POST", "HTTP POST", "HTTP POST"]);
  assert.deepEqual(
    r.spans.slice(1).map((s) => [s.attributes["http.status_code"], s.attributes.serviceRequestId, s.status]),
    [
      [503, "first", "error"],
      [500, undefined, "error"],
      [429, undefined, "error"],
      [202, "last", undefined],
    ],
  );
});

test("a failure after retries: each attempt's span and the operation's carry the error", async () => {
  const r = await assertSameTrace({ reply: () => ({ destroy: true }), run: (c) => c.sendToAll("hello") });
  assert.equal(r.spans.length, 5);
  assert.ok(r.spans.every((s) => s.status === "error" && s.error.code === "ECONNRESET"));
  await assertSameTrace({ reply: () => ({ status: 500 }), run: (c) => c.connectionExists("c1") });
});

test("error answers: 404 of an exists check is an HTTP error but a successful operation; 400 fails both", async () => {
  const exists = await assertSameTrace({ reply: [{ status: 404 }], run: (c) => c.userExists("nobody") });
  assert.deepEqual(
    exists.spans.map((s) => s.status),
    ["success", "error"],
  );
  const refused = await assertSameTrace({
    reply: [{ status: 400, body: { code: "InvalidRequest", message: "bad" } }],
    run: (c) => c.sendToAll("x"),
  });
  assert.equal(refused.spans[0].error.statusCode, 400);
  await assertSameTrace({ reply: [{ status: 404 }], run: (c) => c.group("g").addConnection("missing") });
});

test("a caller's tracing context is the operation span's parent", async () => {
  const r = await assertSameTrace({
    run: (c) => c.sendToAll("hello", { tracingOptions: { tracingContext: parentContext(tracer) } }),
  });
  assert.deepEqual(
    r.spans.map((s) => [s.name, s.parent]),
    [
      ["user.parent", -1],
      ["WebPubSubServiceClient.sendToAll", 0],
      ["HTTP POST", 1],
    ],
  );
});

test("paging: the page requests are spans of the listing operation, which ends when the iterator is made", async () => {
  const r = await assertSameTrace({
    reply: (req) =>
      req.url.includes("page=2")
        ? { status: 200, body: { value: [{ connectionId: "c2" }] } }
        : { status: 200, body: { value: [{ connectionId: "c1" }], nextLink: `${server.url}/api/hubs/${HUB}/groups/g/connections?page=2&api-version=2024-12-01` } },
    run: async (c) => {
      const seen = [];
      for await (const connection of await c.group("g").listConnections()) seen.push(connection.connectionId);
      return seen;
    },
  });
  assert.deepEqual(
    r.spans.map((s) => [s.name, s.parent, s.endIndex]),
    [
      ["WebPubSubGroupClient.listConnections", -1, 0],
      ["HTTP GET", 0, 1],
      ["HTTP GET", 0, 2],
    ],
  );
  assert.match(r.spans[2].attributes["http.url"], /page=REDACTED/);
});

test("abort and timeout end the open attempt's span with the error", async () => {
  const aborted = await assertSameTrace({
    reply: [{ status: 202, delayMs: 400 }],
    run: (c) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      return c.sendToAll("x", { abortSignal: controller.signal });
    },
  });
  assert.equal(aborted.spans[1].error.name, "AbortError");
  const timedOut = await assertSameTrace({
    reply: [{ status: 202, delayMs: 400 }],
    run: (c) => c.sendToAll("x", { requestOptions: { timeout: 50 } }),
  });
  assert.equal(timedOut.spans[1].status, "error");
});

test("refusals: an insecure connection fails its HTTP span; bearer over http fails before any attempt", async () => {
  const insecure = await assertSameTrace({
    client: (sdk) => keyClient(sdk, { allowInsecureConnection: false }),
    run: (c) => c.sendToAll("x"),
  });
  assert.deepEqual(names(insecure), ["WebPubSubServiceClient.sendToAll", "HTTP POST"]);
  assert.equal(insecure.wire.length, 0);
  const credential = { getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const bearer = await assertSameTrace({
    client: (sdk) => new sdk.WebPubSubServiceClient(server.url, credential, HUB, { retryOptions: FAST }),
    run: (c) => c.sendToAll("x"),
  });
  assert.deepEqual(
    bearer.spans.map((s) => [s.name, s.status]),
    [["WebPubSubServiceClient.sendToAll", "error"]],
  );
});

test("spans that do not record send no trace headers, and neither does the default instrumenter", async () => {
  const { official: theirs, ours: mine } = await traceBoth({ recording: false, run: (c) => c.sendToAll("x") });
  assert.deepEqual(mine.wire, [[false, false]]);
  assert.deepEqual(mine.wire, theirs.wire);
  assert.deepEqual(mine.outcome, theirs.outcome);
  useInstrumenter(undefined);
  try {
    for (const sdk of [official, ours]) {
      server.reset();
      await keyClient(sdk).sendToAll("x");
      assert.equal(server.requests[0].headers.traceparent, undefined);
    }
  } finally {
    useInstrumenter(tracer);
  }
});
