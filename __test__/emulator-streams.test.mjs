// Group streams: @azure/web-pubsub-client 1.1's openGroupStream() writers and onGroupStream() subscribers against the
// emulator, and the raw JSON frames (start, streamData, streamEnd, acks, nacks, keepalives, streamClosed) over `ws`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { createRequire } from "node:module";
import { until } from "./helpers/until.mjs";
import { startOfficialClient } from "./helpers/official-client.mjs";

const require = createRequire(import.meta.url);
const { startEmulator } = require("../emulator.js");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");
const { WebPubSubJsonProtocol } = require("@azure/web-pubsub-client");
const WebSocket = require("ws");

const HUB = "streams";
const WRITER_ROLES = ["webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"];
let emulator;
let service;
const clients = [];

before(async () => {
  emulator = await startEmulator({ port: 0 });
  service = new WebPubSubServiceClient(emulator.connectionString, HUB, { allowInsecureConnection: true });
});

after(async () => {
  for (const client of clients) client.stop();
  await emulator.close();
});

async function startClient({ userId, roles = [], groups = [], protocol } = {}) {
  const client = await startOfficialClient(service, { userId, roles, groups }, protocol);
  clients.push(client);
  return client;
}

/** Collects every inbound stream a client sees: { streamId, items: [data], done, error }. */
function collectStreams(client, options) {
  const streams = new Map();
  client.onGroupStream(async (stream) => {
    const entry = { streamId: stream.streamId, group: stream.groupName, items: [], ids: [], done: false, error: undefined };
    streams.set(stream.streamId, entry);
    try {
      for await (const message of stream) {
        entry.items.push(message.data);
        entry.ids.push(message.stream.streamSequenceId);
      }
      entry.done = true;
    } catch (error) {
      entry.error = error;
    }
  }, options);
  return streams;
}

test("a stream reaches a JSON and a reliable subscriber in order, and ends for both", async () => {
  const json = await startClient({ userId: "sub-json", groups: ["live"], protocol: WebPubSubJsonProtocol() });
  const reliable = await startClient({ userId: "sub-reliable", groups: ["live"] });
  const seenJson = collectStreams(json);
  const seenReliable = collectStreams(reliable);
  const writer = await startClient({ userId: "writer", roles: WRITER_ROLES });
  const stream = await writer.openGroupStream("live", { streamId: "tokens-1" });
  for (const token of ["Once", " upon", " a", " time"]) await stream.write(token, "text");
  await stream.write({ done: true }, "json");
  await stream.end();
  for (const seen of [seenJson, seenReliable]) {
    await until(() => seen.get("tokens-1")?.done, "the stream ended for the subscriber");
    assert.deepEqual(seen.get("tokens-1").items, ["Once", " upon", " a", " time", { done: true }]);
    assert.deepEqual(seen.get("tokens-1").ids, [1, 2, 3, 4, 5]);
  }
});

test("interleaved streams stay apart, and a late joiner gets the later fragments with their ids", async () => {
  const early = await startClient({ userId: "early", groups: ["mix"] });
  const seenEarly = collectStreams(early);
  const writer = await startClient({ userId: "mixer", roles: WRITER_ROLES });
  const a = await writer.openGroupStream("mix", { streamId: "a" });
  const b = await writer.openGroupStream("mix", { streamId: "b" });
  await a.write("a1", "text");
  await b.write("b1", "text");
  await a.write("a2", "text");
  const late = await startClient({ userId: "late", groups: ["mix"] });
  const seenLate = collectStreams(late);
  await b.write("b2", "text");
  await a.write("a3", "text");
  await a.end();
  await b.end();
  await until(() => seenEarly.get("a")?.done && seenEarly.get("b")?.done, "both streams ended");
  assert.deepEqual(seenEarly.get("a").items, ["a1", "a2", "a3"]);
  assert.deepEqual(seenEarly.get("b").items, ["b1", "b2"]);
  await until(() => seenLate.get("a")?.done && seenLate.get("b")?.done, "both streams ended for the late joiner");
  assert.deepEqual([seenLate.get("a").items, seenLate.get("a").ids], [["a3"], [3]]);
  assert.deepEqual([seenLate.get("b").items, seenLate.get("b").ids], [["b2"], [2]]);
});

test("a writer's abort reaches subscribers as UserError with its message and code, and the live trace shows why", async () => {
  const trace = emulator.trace({ categories: ["messaging"], hub: HUB });
  const subscriber = await startClient({ userId: "watcher", groups: ["abort"] });
  const seen = collectStreams(subscriber);
  const writer = await startClient({ userId: "aborter", roles: WRITER_ROLES });
  const stream = await writer.openGroupStream("abort", { streamId: "doomed" });
  await stream.write("partial", "text");
  await stream.abort({ message: "model crashed", userErrorCode: "E42" });
  await until(() => seen.get("doomed")?.error, "the subscriber saw the error");
  const { items, error } = seen.get("doomed");
  assert.deepEqual(items, ["partial"]);
  assert.deepEqual({ name: error.name, message: error.message, userErrorCode: error.userErrorCode }, {
    name: "UserError",
    message: "model crashed",
    userErrorCode: "E42",
  });
  const events = [];
  for (;;) {
    const { value } = await trace.next();
    if (value.streamId !== "doomed") continue;
    events.push([value.event, value.message]);
    if (value.event === "StreamEnded") break;
  }
  await trace.close();
  assert.deepEqual(events, [
    ["StreamStarted", "The client opened a group stream."],
    ["GroupMessageSent", "The client sent a message to group 'abort'."],
    ["GroupMessageSent", "The client sent a message to group 'abort'."],
    ["StreamEnded", "The group stream ended with UserError: model crashed"],
  ]);
});

test("a writer without send permission is refused with Forbidden and keeps its connection", async () => {
  const writer = await startClient({ userId: "nosend" });
  let disconnected = false;
  writer.on("disconnected", () => (disconnected = true));
  await assert.rejects(writer.openGroupStream("locked", { streamId: "x" }), (error) => {
    assert.equal(error.name, "Forbidden");
    assert.equal(error.message, "The client does not have permission to send to group 'locked'.");
    return true;
  });
  await writer.sendEvent("still-here", "x", "text", { fireAndForget: true });
  assert.equal(disconnected, false);
});

test("an idle stream is closed with IdleTimeout for the writer and its subscribers", async () => {
  const subscriber = await startClient({ userId: "idle-watcher", groups: ["idle"] });
  const seen = collectStreams(subscriber);
  const writer = await startClient({ userId: "idler", roles: WRITER_ROLES });
  const stream = await writer.openGroupStream("idle", { streamId: "sleepy", idleTimeoutInMs: 400 });
  const writerErrors = [];
  stream.onError((error) => writerErrors.push(error));
  await stream.write("one", "text");
  await until(() => seen.get("sleepy")?.error, "the subscriber saw IdleTimeout");
  assert.equal(seen.get("sleepy").error.name, "IdleTimeout");
  await until(() => writerErrors.length > 0, "the writer saw IdleTimeout");
  assert.equal(writerErrors[0].name, "IdleTimeout");
  await assert.rejects(stream.write("too late", "text"));
});

test("a writer whose connection ends closes its streams with an error to subscribers", async () => {
  const subscriber = await startClient({ userId: "orphan-watcher", groups: ["orphan"] });
  const seen = collectStreams(subscriber);
  const writer = await startClient({ userId: "leaver", roles: WRITER_ROLES, protocol: WebPubSubJsonProtocol() });
  const stream = await writer.openGroupStream("orphan", { streamId: "left-behind" });
  await stream.write("before", "text");
  writer.stop();
  await until(() => seen.get("left-behind")?.error, "the subscriber saw the writer leave");
  assert.equal(seen.get("left-behind").error.name, "WriterDisconnected");
  assert.deepEqual(seen.get("left-behind").items, ["before"]);
});

test("a reliable writer survives a dropped socket: every fragment reaches the subscriber once, in order", async () => {
  const subscriber = await startClient({ userId: "steady", groups: ["flaky"] });
  const seen = collectStreams(subscriber);
  const writer = await startClient({ userId: "flaky-writer", roles: WRITER_ROLES });
  const stream = await writer.openGroupStream("flaky", { streamId: "survivor" });
  const writes = [];
  for (let i = 1; i <= 40; i++) {
    writes.push(stream.write(`f${i}`, "text"));
    if (i === 15) writer._wsClient._socket.terminate();
  }
  await Promise.all(writes);
  await stream.end();
  await until(() => seen.get("survivor")?.done, "the stream ended after recovery");
  assert.deepEqual(seen.get("survivor").items, Array.from({ length: 40 }, (_, i) => `f${i + 1}`));
  assert.deepEqual(seen.get("survivor").ids, Array.from({ length: 40 }, (_, i) => i + 1));
});

test("raw frames: acks, duplicates, nacks, keepalives, StreamNotFound, refused starts", async () => {
  const { url } = await service.getClientAccessToken({ userId: "raw", roles: WRITER_ROLES });
  const socket = new WebSocket(url, "json.webpubsub.azure.v1");
  const frames = [];
  socket.on("message", (data) => frames.push(JSON.parse(data.toString())));
  await once(socket, "open");
  const sub = await service.getClientAccessToken({ userId: "raw-sub", groups: ["rawg"] });
  const subscriber = new WebSocket(sub.url, "json.webpubsub.azure.v1");
  const received = [];
  subscriber.on("message", (data) => received.push(JSON.parse(data.toString())));
  await once(subscriber, "open");
  const send = (message) => socket.send(JSON.stringify(message));
  const next = async (count) => {
    await until(() => frames.filter((f) => f.type !== "system").length >= count, `${count} stream replies`);
    return frames.filter((f) => f.type !== "system")[count - 1];
  };
  try {
    send({ type: "sendToGroup", group: "rawg", stream: { streamId: "r" } });
    assert.deepEqual(await next(1), { type: "streamAck", streamId: "r", expectedSequenceId: 1 });
    send({ type: "streamData", streamId: "r", streamSequenceId: 1, dataType: "text", data: "one" });
    assert.deepEqual(await next(2), { type: "streamAck", streamId: "r", expectedSequenceId: 2 });
    send({ type: "streamData", streamId: "r", streamSequenceId: 1, dataType: "text", data: "one again" });
    assert.deepEqual(await next(3), { type: "streamAck", streamId: "r", expectedSequenceId: 2 });
    send({ type: "streamData", streamId: "r", streamSequenceId: 4, dataType: "text", data: "four" });
    const nack = await next(4);
    assert.deepEqual([nack.type, nack.name, nack.expectedSequenceId], ["streamNack", "InvalidSequenceId", 2]);
    send({ type: "streamData", streamId: "r" });
    send({ type: "streamData", streamId: "r", streamSequenceId: 2, dataType: "json", data: [2] });
    assert.deepEqual(await next(5), { type: "streamAck", streamId: "r", expectedSequenceId: 3 }, "the keepalive got no answer");
    send({ type: "streamData", streamId: "ghost", streamSequenceId: 1, dataType: "text", data: "x" });
    const notFound = await next(6);
    assert.deepEqual([notFound.type, notFound.streamId, notFound.error.name], ["streamClosed", "ghost", "StreamNotFound"]);
    send({ type: "sendToGroup", group: "rawg", stream: { streamId: "r" } });
    const duplicate = await next(7);
    assert.deepEqual([duplicate.type, duplicate.error.name], ["streamClosed", "DuplicateStream"]);
    send({ type: "sendToGroup", group: "rawg", stream: { streamId: "" } });
    assert.equal((await next(8)).error.name, "InvalidStreamId");
    send({ type: "streamEnd", streamId: "r" });
    assert.deepEqual(await next(9), { type: "streamClosed", streamId: "r" });
    send({ type: "sendToGroup", group: "rawg", stream: { streamId: "r" } });
    assert.deepEqual(await next(10), { type: "streamAck", streamId: "r", expectedSequenceId: 1 }, "an ended id can be used again");

    await until(() => received.filter((m) => m.type === "message").length === 3, "the subscriber's three messages");
    const messages = received.filter((m) => m.type === "message");
    assert.deepEqual(
      messages.map((m) => [m.dataType, m.data, m.stream]),
      [
        ["text", "one", { streamId: "r", streamSequenceId: 1 }],
        ["json", [2], { streamId: "r", streamSequenceId: 2 }],
        ["text", "", { streamId: "r", streamSequenceId: 3, endOfStream: true }],
      ],
    );
    await sleep(100);
    assert.equal(socket.readyState, WebSocket.OPEN, "refusals keep the connection open");
  } finally {
    socket.close();
    subscriber.close();
  }
});
