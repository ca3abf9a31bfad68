// The emulator's WebSocket endpoint driven by the official packages: tokens from @azure/web-pubsub's
// getClientAccessToken, clients from @azure/web-pubsub-client (reliable and plain JSON protocols) and raw `ws`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createRequire } from "node:module";
import { until } from "./helpers/until.mjs";

const require = createRequire(import.meta.url);
const { startEmulator } = require("../emulator.js");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");
const { WebPubSubClient, WebPubSubJsonProtocol } = require("@azure/web-pubsub-client");
const WebSocket = require("ws");

const HUB = "chat";
let emulator;
let service;

before(async () => {
  emulator = await startEmulator({ port: 0 });
  service = new WebPubSubServiceClient(emulator.connectionString, HUB, { allowInsecureConnection: true });
});

after(async () => {
  await emulator.close();
});

/** Resolves with the first event of `name` that matches, or rejects after a generous bound. */
function nextEvent(client, name, matches = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} event`)), 10_000);
    const handler = (event) => {
      if (matches(event)) {
        clearTimeout(timer);
        client.off(name, handler);
        resolve(event);
      }
    };
    client.on(name, handler);
  });
}

/**
 * An official client with fresh tokens for each (re)connection, started. Failed acks are not retried, and
 * short keep-alive timers keep the client's own timers from holding the process open after `stop()`.
 */
async function startClient(tokenOptions, clientOptions = {}) {
  const credential = { getClientAccessUrl: async () => (await service.getClientAccessToken(tokenOptions)).url };
  const client = new WebPubSubClient(credential, {
    messageRetryOptions: { maxRetries: 0 },
    keepAliveIntervalInMs: 500,
    keepAliveTimeoutInMs: 1500,
    ...clientOptions,
  });
  const connected = nextEvent(client, "connected");
  await client.start();
  return { client, connected: await connected };
}

/** A raw `ws` client that buffers what it receives. */
async function rawClient(query = "") {
  const { url } = await service.getClientAccessToken({ userId: "raw" });
  const socket = new WebSocket(url + query);
  const received = [];
  socket.on("message", (data, isBinary) => received.push({ data: Buffer.from(data), isBinary }));
  await once(socket, "open");
  return { socket, received };
}

test("the reliable client gets connected, joins, publishes and receives group and server messages", async () => {
  const roles = ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"];
  const { client, connected } = await startClient({ userId: "alice", roles });
  try {
    assert.match(connected.connectionId, /^[0-9a-f]{32}$/);
    assert.equal(connected.userId, "alice");
    assert.equal(await service.connectionExists(connected.connectionId), true);

    await client.joinGroup("room");
    const groupMessage = nextEvent(client, "group-message");
    const ack = await client.sendToGroup("room", { hello: "world" }, "json");
    assert.equal(ack.isDuplicated, false);
    const { message } = await groupMessage;
    assert.equal(message.group, "room");
    assert.equal(message.fromUserId, "alice");
    assert.equal(message.dataType, "json");
    assert.deepEqual(message.data, { hello: "world" });
    assert.equal(message.sequenceId, 1);

    const serverMessages = [];
    client.on("server-message", (e) => serverMessages.push(e.message));
    await service.sendToAll({ n: 1 });
    await service.sendToAll("plain", { contentType: "text/plain" });
    await service.sendToUser("alice", Buffer.from([1, 2, 3]));
    await until(() => serverMessages.length === 3);
    assert.deepEqual(
      serverMessages.map((m) => [m.dataType, m.sequenceId]),
      [["json", 2], ["text", 3], ["binary", 4]],
    );
    assert.deepEqual(serverMessages[0].data, { n: 1 });
    assert.equal(serverMessages[1].data, "plain");
    assert.deepEqual([...new Uint8Array(serverMessages[2].data)], [1, 2, 3]);
  } finally {
    client.stop();
  }
});

test("the JSON protocol client sees permission and event errors as failed acks", async () => {
  const { client } = await startClient({ userId: "bob" }, { protocol: WebPubSubJsonProtocol() });
  try {
    await assert.rejects(client.joinGroup("room"), (error) => {
      assert.equal(error.errorDetail.name, "Forbidden");
      assert.equal(error.errorDetail.message, "The client does not have permission to join group 'room'.");
      return true;
    });
    await assert.rejects(client.sendToGroup("room", "hi", "text"), (error) => error.errorDetail.name === "Forbidden");
    await assert.rejects(client.sendEvent("chat", "hi", "text"), (error) => {
      assert.equal(error.errorDetail.name, "InternalServerError");
      return true;
    });

    const serverMessage = nextEvent(client, "server-message");
    await service.sendToAll("after errors", { contentType: "text/plain" });
    const { message } = await serverMessage;
    assert.equal(message.data, "after errors");
    assert.equal(message.sequenceId, undefined);
  } finally {
    client.stop();
  }
});

test("a REST close reaches the client with its reason", async () => {
  const { client, connected } = await startClient({}, { protocol: WebPubSubJsonProtocol(), autoReconnect: false });
  const disconnected = nextEvent(client, "disconnected");
  const stopped = nextEvent(client, "stopped");
  await service.closeConnection(connected.connectionId, { reason: "maintenance" });
  const event = await disconnected;
  assert.equal(event.connectionId, connected.connectionId);
  assert.equal(event.message.message, "maintenance");
  await stopped;
  assert.equal(await service.connectionExists(connected.connectionId), false);
});

test("raw clients receive plain frames and can publish in sendToGroup mode", async () => {
  const receiver = await rawClient();
  try {
    await service.sendToAll({ a: 1 });
    await service.sendToAll("text", { contentType: "text/plain" });
    await service.sendToAll(Buffer.from([9, 8]));
    await until(() => receiver.received.length === 3);
    assert.deepEqual(
      receiver.received.map(({ data, isBinary }) => [isBinary, isBinary ? [...data] : data.toString()]),
      [[false, '{"a":1}'], [false, "text"], [true, [9, 8]]],
    );
  } finally {
    receiver.socket.close();
  }

  const { client } = await startClient({ userId: "listener", roles: ["webpubsub.joinLeaveGroup"] });
  const { url } = await service.getClientAccessToken({ userId: "pub", roles: ["webpubsub.sendToGroup.news"] });
  const publisher = new WebSocket(`${url}&webpubsub_mode=sendToGroup&group=news`);
  // Listen before awaiting anything else: the socket may open while the client joins.
  const publisherOpen = once(publisher, "open");
  try {
    await client.joinGroup("news");
    await publisherOpen;
    const groupMessage = nextEvent(client, "group-message");
    publisher.send("breaking");
    const { message } = await groupMessage;
    assert.deepEqual([message.group, message.fromUserId, message.dataType, message.data], ["news", "pub", "text", "breaking"]);
  } finally {
    publisher.close();
    client.stop();
  }

  const { url: badUrl } = await service.getClientAccessToken();
  const refused = new WebSocket(`${badUrl}&webpubsub_mode=nope`);
  refused.on("error", () => {});
  const [, response] = await once(refused, "unexpected-response");
  assert.equal(response.statusCode, 400);
  refused.terminate();
});

test("the official client stays connected across keep-alive intervals", async () => {
  const { client, connected } = await startClient(
    { userId: "steady" },
    { keepAliveIntervalInMs: 200, keepAliveTimeoutInMs: 900 },
  );
  let disconnects = 0;
  let connects = 0;
  client.on("disconnected", () => disconnects++);
  client.on("connected", () => connects++);
  try {
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    assert.equal(disconnects, 0);
    assert.equal(connects, 0);
    const serverMessage = nextEvent(client, "server-message");
    await service.sendToConnection(connected.connectionId, "still here", { contentType: "text/plain" });
    assert.equal((await serverMessage).message.data, "still here");
  } finally {
    client.stop();
  }
});
