// The emulator's live trace from Node (`emu.trace()`, `emu.inspect()`) and over HTTP (the feed behind the page,
// which needs a live-trace token), driven by real clients: @azure/web-pubsub, @azure/web-pubsub-express, `ws`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createRequire } from "node:module";
import { until } from "./helpers/until.mjs";

const require = createRequire(import.meta.url);
const { startEmulator } = require("../emulator.js");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");
const { WebPubSubEventHandler } = require("@azure/web-pubsub-express");
const express = require("express");
const WebSocket = require("ws");

const HUB = "traced";
const ACCESS_KEY = "trace-test-key-0123456789-0123456789-abcdef";
let emulator;
let service;
let app;

before(async () => {
  const handler = new WebPubSubEventHandler(HUB, {
    handleUserEvent(req, res) {
      if (req.context.eventName === "fail") res.fail(500, "broken");
      else res.success(`echo ${req.data}`, "text");
    },
  });
  const server = express().use(handler.getMiddleware()).listen(0, "127.0.0.1");
  await once(server, "listening");
  app = server;
  emulator = await startEmulator({
    port: 0,
    accessKey: ACCESS_KEY,
    traceCapacity: 500,
    hubs: {
      [HUB]: {
        eventHandlers: [
          { urlTemplate: `http://127.0.0.1:${server.address().port}/api/webpubsub/hubs/{hub}/`, userEventPattern: "*" },
        ],
      },
    },
  });
  service = new WebPubSubServiceClient(emulator.connectionString, HUB, { allowInsecureConnection: true });
});

after(async () => {
  await emulator.close();
  app.close();
});

/** The next record of a follower that matches (a `for await` loop would close the follower on leaving). */
async function nextRecord(follower, matches) {
  for (;;) {
    const { done, value } = await follower.next();
    if (done) throw new Error("the trace ended");
    if (matches(value)) return value;
  }
}

async function jsonClient(tokenOptions) {
  const { url } = await service.getClientAccessToken(tokenOptions);
  const socket = new WebSocket(url, "json.webpubsub.azure.v1");
  const messages = [];
  socket.on("message", (data) => messages.push(JSON.parse(data.toString())));
  await once(socket, "open");
  await until(() => messages.some((m) => m.event === "connected"));
  const { connectionId } = messages.find((m) => m.event === "connected");
  return { socket, messages, connectionId };
}

test("emu.trace() shows connections, joins, messages with their recipient counts, and REST calls", async () => {
  const follower = emulator.trace({ hub: HUB });
  try {
    const alice = await jsonClient({ userId: "alice", roles: ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"] });
    const started = await nextRecord(follower, (r) => r.event === "ConnectionStarted" && r.connectionId === alice.connectionId);
    assert.equal(started.category, "connectivity");
    assert.equal(started.userId, "alice");
    assert.equal(started.subprotocol, "json.webpubsub.azure.v1");
    assert.equal(started.ip, "127.0.0.1");

    alice.socket.send(JSON.stringify({ type: "joinGroup", group: "room", ackId: 1 }));
    const joined = await nextRecord(follower, (r) => r.event === "GroupJoined");
    assert.deepEqual([joined.connectionId, joined.group], [alice.connectionId, "room"]);

    const bob = await jsonClient({ userId: "bob", groups: ["room"] });
    alice.socket.send(JSON.stringify({ type: "sendToGroup", group: "room", dataType: "text", data: "hello", ackId: 2 }));
    const sent = await nextRecord(follower, (r) => r.event === "GroupMessageSent" && r.connectionId === alice.connectionId);
    assert.deepEqual(
      [sent.category, sent.group, sent.recipients, sent.contentType, sent.size],
      ["messaging", "room", 2, "text/plain", 5],
    );

    await service.sendToAll({ n: 1 }, { filter: "userId eq 'bob'" });
    const broadcast = await nextRecord(follower, (r) => r.event === "BroadcastMessageSent");
    assert.deepEqual([broadcast.recipients, broadcast.contentType], [1, "application/json"]);
    const call = await nextRecord(follower, (r) => r.event === "RestApiCall");
    assert.equal(call.category, "http");
    assert.equal(call.method, "POST");
    assert.equal(call.statusCode, 202);
    assert.equal(call.route, "/api/hubs/{hub}/{action}");
    assert.match(call.url, /^\/api\/hubs\/traced\/:send\?/);
    assert.equal(call.detail.request.body, '{"n":1}');
    assert.deepEqual(
      call.detail.request.headers.find(([name]) => name === "authorization"),
      ["authorization", "REDACTED"],
    );

    await service.closeConnection(bob.connectionId, { reason: "bye" });
    const ended = await nextRecord(follower, (r) => r.event === "ConnectionEnded" && r.connectionId === bob.connectionId);
    assert.equal(ended.exception, "bye");
    alice.socket.terminate();
    const aborted = await nextRecord(follower, (r) => r.connectionId === alice.connectionId && r.event.startsWith("Connection") && r.event !== "ConnectionStarted");
    assert.equal(aborted.event, "ConnectionAborted");
  } finally {
    await follower.close();
  }
});

test("one broadcast to many connections is one record", async () => {
  const clients = await Promise.all(
    Array.from({ length: 20 }, (_, i) => jsonClient({ userId: `many-${i}`, groups: ["many"] })),
  );
  const follower = emulator.trace({ categories: ["messaging"], hub: HUB });
  try {
    await service.group("many").sendToAll("to everyone", { contentType: "text/plain" });
    const sent = await nextRecord(follower, (r) => r.event === "GroupMessageSent" && r.size === 11);
    assert.equal(sent.recipients, 20);
    await until(() => clients.every((c) => c.messages.some((m) => m.data === "to everyone")));
    const kept = [];
    const recent = emulator.trace({ categories: ["messaging"], hub: HUB });
    // The records kept now come first; stop at a marker sent after them.
    await service.sendToAll("marker", { contentType: "text/plain" });
    for await (const record of recent) {
      kept.push(record);
      if (record.size === 6) break;
    }
    assert.equal(kept.filter((r) => r.size === 11).length, 1);
  } finally {
    await follower.close();
    for (const c of clients) c.socket.close();
  }
});

test("event-handler calls are traced with their status, retries and a redacted signature", async () => {
  const follower = emulator.trace({ categories: ["http"], hub: HUB });
  const client = await jsonClient({ userId: "eve" });
  try {
    client.socket.send(JSON.stringify({ type: "event", event: "ping", dataType: "text", data: "x", ackId: 1 }));
    const ok = await nextRecord(follower, (r) => r.event === "EventHandlerCall");
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.route, "ping");
    assert.equal(ok.connectionId, client.connectionId);
    assert.equal(ok.detail.response.body, "echo x");
    const headers = Object.fromEntries(ok.detail.request.headers);
    assert.equal(headers["ce-signature"], "REDACTED");
    assert.equal(headers["ce-eventname"], "ping");
    assert.match(ok.message, /0 retries/);

    client.socket.send(JSON.stringify({ type: "event", event: "fail", dataType: "text", data: "x", ackId: 2 }));
    const failed = await nextRecord(follower, (r) => r.event === "EventHandlerCall" && r.route === "fail");
    assert.equal(failed.level, "Warning");
    assert.equal(failed.statusCode, 500);
    assert.match(failed.message, /3 retries/);
  } finally {
    await follower.close();
    client.socket.close();
  }
});

test("emu.inspect() lists connections with user, subprotocol, roles and groups, and groups and users", async () => {
  const raw = await service.getClientAccessToken({ userId: "insp", groups: ["a", "b"], roles: ["webpubsub.sendToGroup.a"] });
  const socket = new WebSocket(raw.url);
  await once(socket, "open");
  try {
    const hub = await emulator.inspect("TRACED");
    const mine = hub.connections.find((c) => c.userId === "insp");
    assert.deepEqual(
      { subprotocol: mine.subprotocol, roles: mine.roles, groups: mine.groups },
      { subprotocol: null, roles: ["webpubsub.sendToGroup.a"], groups: ["a", "b"] },
    );
    assert.deepEqual(hub.groups.a, [mine.connectionId]);
    assert.deepEqual(hub.users.insp, [mine.connectionId]);
    assert.equal(await emulator.inspect("never-used"), undefined);
    assert.ok((await emulator.inspect()).some((h) => h.name === HUB));
  } finally {
    socket.close();
  }
});

test("the feed and the inspection API refuse requests without a valid live-trace token", async () => {
  const tokenOf = (url) => new URL(url).searchParams.get("access_token");
  const good = tokenOf(emulator.liveTraceUrl);
  const inspect = (query, headers) => fetch(`${emulator.endpoint}/livetrace/inspect${query}`, { headers });
  assert.equal((await inspect("")).status, 401);
  assert.equal((await inspect("?access_token=not-a-token")).status, 401);
  assert.equal((await inspect(`?access_token=${good}`)).status, 200);
  assert.equal((await inspect("", { Authorization: `Bearer ${good}` })).status, 200);

  // Signed with another key, for another audience, or expired.
  const { SigningKeyProbe } = await signers();
  assert.equal((await inspect(`?access_token=${SigningKeyProbe.withKey("another-key-0123456789-0123456789-abcdef")}`)).status, 401);
  assert.equal((await inspect(`?access_token=${SigningKeyProbe.withAudience(`${emulator.endpoint}/api`)}`)).status, 401);
  assert.equal((await inspect(`?access_token=${SigningKeyProbe.expired()}`)).status, 401);

  const events = await fetch(`${emulator.endpoint}/livetrace/events`);
  assert.equal(events.status, 401);
  const page = await fetch(`${emulator.endpoint}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("referrer-policy"), "no-referrer");
  assert.doesNotMatch(await page.text(), /eyJ/, "the page itself holds no token");
});

test("the feed streams records as server-sent events, in batches", async () => {
  const token = new URL(emulator.liveTraceUrl).searchParams.get("access_token");
  const controller = new AbortController();
  const response = await fetch(`${emulator.endpoint}/livetrace/events?access_token=${token}&category=messaging`, {
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type"), /^text\/event-stream/);
  const reader = response.body.getReader();
  await service.sendToUser("nobody", "sse marker", { contentType: "text/plain" });
  let text = "";
  while (!text.includes('"size":10')) {
    const { value } = await reader.read();
    text += Buffer.from(value).toString();
  }
  controller.abort();
  // Each `records` event is a JSON array of the records that were ready together.
  const events = text.split("\n\n").filter((e) => e.startsWith("event: records"));
  const records = events.flatMap((e) => JSON.parse(e.split("\ndata: ")[1]));
  assert.ok(records.every((r) => r.category === "messaging"));
  assert.ok(records.some((r) => r.event === "UserMessageSent" && r.recipients === 0));
  assert.doesNotMatch(text, new RegExp(ACCESS_KEY));
});

/** Live-trace tokens made here with node's crypto, to probe the emulator's checks. */
async function signers() {
  const { createHmac } = await import("node:crypto");
  const sign = (key, claims) => {
    const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const body = `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}`;
    return `${body}.${createHmac("sha256", key).update(body).digest("base64url")}`;
  };
  const now = Math.floor(Date.now() / 1000);
  const audience = `${emulator.endpoint}/livetrace`;
  return {
    SigningKeyProbe: {
      withKey: (key) => sign(key, { aud: audience, exp: now + 600 }),
      withAudience: (aud) => sign(ACCESS_KEY, { aud, exp: now + 600 }),
      expired: () => sign(ACCESS_KEY, { aud: audience, exp: now - 3600 }),
    },
  };
}
