// Message TTL (`messageTtlSeconds` on REST sends, `ttlSeconds` on client sends): a message a client has not
// taken within its TTL is dropped, from a reliable connection's replay buffer while it recovers and from a
// slow reader's outbound queue; messages without a TTL, or with one that has not run out, still arrive.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { createRequire } from "node:module";
import { until } from "./helpers/until.mjs";

const require = createRequire(import.meta.url);
const { startEmulator } = require("../emulator.js");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");
const WebSocket = require("ws");

const HUB = "ttl";
let emulator;
let service;

before(async () => {
  // Room for the filler queued to readers that stopped reading (the default is 16 MiB).
  emulator = await startEmulator({ port: 0, maxQueuedBytes: 64 * 1024 * 1024 });
  service = new WebPubSubServiceClient(emulator.connectionString, HUB, { allowInsecureConnection: true });
});

after(async () => {
  await emulator.close();
});

const text = { contentType: "text/plain" };

async function reliableClient(url) {
  const socket = new WebSocket(url, "json.reliable.webpubsub.azure.v1");
  const messages = [];
  socket.on("message", (data) => messages.push(JSON.parse(data.toString())));
  await once(socket, "open");
  return { socket, messages };
}

async function recoverAfterExpiry(ttlSeconds) {
  const { url } = await service.getClientAccessToken({ userId: `reliable-${ttlSeconds}` });
  const first = await reliableClient(url);
  await until(() => first.messages.some((m) => m.event === "connected"));
  const { connectionId, reconnectionToken } = first.messages.find((m) => m.event === "connected");
  first.socket.terminate();

  await service.sendToConnection(connectionId, "with ttl", { ...text, messageTtlSeconds: ttlSeconds });
  await service.sendToConnection(connectionId, "without ttl", text);
  await sleep(2000);

  const resumed = await reliableClient(
    `${url}&awps_connection_id=${connectionId}&awps_reconnection_token=${encodeURIComponent(reconnectionToken)}`,
  );
  try {
    await until(() => resumed.messages.some((m) => m.data === "without ttl"));
    // Anything still to come was written before the last message: replay is in order.
    return resumed.messages.filter((m) => m.type === "message").map((m) => m.data);
  } finally {
    resumed.socket.close();
  }
}

test("a reliable client that recovers after a message's TTL ran out does not get it", async () => {
  assert.deepEqual(await recoverAfterExpiry(1), ["without ttl"]);
});

test("a reliable client that recovers within a message's TTL gets it", async () => {
  assert.deepEqual(await recoverAfterExpiry(300), ["with ttl", "without ttl"]);
});

test("a paused reader does not receive the messages that expired while it was not reading", async () => {
  const { url } = await service.getClientAccessToken({ userId: "slow" });
  const socket = new WebSocket(url);
  const received = [];
  socket.on("message", (data, isBinary) => received.push(isBinary ? `binary:${data.length}` : data.toString()));
  await once(socket, "open");
  socket._socket.pause();

  // More than the socket buffers on both ends hold, so what follows waits in the emulator's queue.
  const filler = Buffer.alloc(512 * 1024, 1);
  for (let i = 0; i < 64; i++) {
    await service.sendToUser("slow", filler);
  }
  for (let i = 0; i < 3; i++) {
    await service.sendToUser("slow", `expires ${i}`, { ...text, messageTtlSeconds: 1 });
  }
  await service.sendToUser("slow", "lives 300 s", { ...text, messageTtlSeconds: 300 });
  await service.sendToUser("slow", "never expires", text);
  await sleep(2000);

  socket._socket.resume();
  try {
    await until(() => received.includes("never expires"), "the last message");
    assert.equal(received.filter((m) => m === `binary:${filler.length}`).length, 64, "every filler arrives");
    assert.deepEqual(
      received.filter((m) => !m.startsWith("binary:")),
      ["lives 300 s", "never expires"],
    );
  } finally {
    socket.close();
  }
});

test("a client's ttlSeconds expires its group message for readers that are not reading", async () => {
  const publisher = await service.getClientAccessToken({ userId: "pub", roles: ["webpubsub.sendToGroup"] });
  const reader = await service.getClientAccessToken({ userId: "reader", groups: ["news"] });
  const readerSocket = new WebSocket(reader.url);
  const received = [];
  readerSocket.on("message", (data, isBinary) => received.push(isBinary ? "binary" : data.toString()));
  await once(readerSocket, "open");
  readerSocket._socket.pause();
  const publisherSocket = new WebSocket(publisher.url, "json.webpubsub.azure.v1");
  await once(publisherSocket, "open");
  try {
    const filler = Buffer.alloc(512 * 1024, 2);
    for (let i = 0; i < 64; i++) {
      await service.sendToUser("reader", filler);
    }
    const send = (data, ttlSeconds) =>
      publisherSocket.send(JSON.stringify({ type: "sendToGroup", group: "news", dataType: "text", data, ttlSeconds }));
    send("short-lived", 1);
    send("long-lived", 300);
    send("no ttl", undefined);
    await sleep(2000);
    readerSocket._socket.resume();
    await until(() => received.includes("no ttl"), "the last message");
    assert.deepEqual(
      received.filter((m) => m !== "binary"),
      ["long-lived", "no ttl"],
    );
  } finally {
    readerSocket.close();
    publisherSocket.close();
  }
});
