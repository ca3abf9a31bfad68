// Event handlers: the emulator delivers client events to an Express app running @azure/web-pubsub-express's
// WebPubSubEventHandler, as the service does. Clients are @azure/web-pubsub-client and raw `ws`, tokens come
// from @azure/web-pubsub. Group presence events (`azure.webpubsub.gp.joined` / `left`) reach the express package's
// onGroupJoined / onGroupLeft.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createHmac } from "node:crypto";
import { createRequire } from "node:module";
import { until } from "./helpers/until.mjs";

const require = createRequire(import.meta.url);
const { startEmulator } = require("../emulator.js");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");
const { WebPubSubClient, WebPubSubJsonProtocol, WebPubSubJsonReliableProtocol } = require("@azure/web-pubsub-client");
const { WebPubSubEventHandler } = require("@azure/web-pubsub-express");
const express = require("express");
const WebSocket = require("ws");

const HUB = "chat";
const ROLES = ["webpubsub.joinLeaveGroup"];

/** Everything the app server received, in arrival order: { kind, connectionId, userId, signature, ... }. */
const seen = [];
let app;
let emulator;
let service;

function record(kind, context, extra = {}) {
  seen.push({
    kind,
    connectionId: context.connectionId,
    userId: context.userId,
    signature: context.signature,
    ...extra,
  });
}

const handler = new WebPubSubEventHandler(HUB, {
  handleConnect(req, res) {
    record("connect", req.context, { claims: req.claims, query: req.query, subprotocols: req.subprotocols });
    if (req.context.userId === "intruder") {
      res.fail(401, "not you");
      return;
    }
    res.setState("count", 0);
    if (req.query.assign) {
      res.success({ userId: "assigned-user", groups: ["assigned-group"] });
      return;
    }
    res.success();
  },
  onConnected(req) {
    record("connected", req.context);
  },
  onDisconnected(req) {
    record("disconnected", req.context, { reason: req.reason });
  },
  onGroupJoined(req) {
    record("joined", req.context, { group: req.group, eventName: req.context.eventName });
  },
  onGroupLeft(req) {
    record("left", req.context, { group: req.group, eventName: req.context.eventName });
  },
  handleUserEvent(req, res) {
    const { eventName } = req.context;
    record("user", req.context, { eventName, data: req.data, dataType: req.dataType });
    switch (eventName) {
      case "echo":
        res.success(req.dataType === "json" ? JSON.stringify(req.data) : req.data, req.dataType);
        return;
      case "count": {
        const count = req.context.states.count + 1;
        res.setState("count", count);
        res.success(String(count), "text");
        return;
      }
      case "fail":
        res.fail(400, "refused");
        return;
      case "message":
        if (req.data === "fail") {
          res.fail(400, "refused");
        } else {
          res.success(`echo:${req.data}`, "text");
        }
        return;
      default:
        res.success();
    }
  },
});

/** Starts the Express app; resolves with its port. */
async function startApp() {
  const server = express();
  server.use(handler.getMiddleware());
  const listener = server.listen(0, "127.0.0.1");
  await once(listener, "listening");
  return listener;
}

before(async () => {
  app = await startApp();
  const urlTemplate = `http://127.0.0.1:${app.address().port}/api/webpubsub/hubs/{hub}/`;
  emulator = await startEmulator({
    port: 0,
    hubs: {
      [HUB]: {
        eventHandlers: [
          {
            urlTemplate,
            userEventPattern: "*",
            systemEvents: ["connect", "connected", "disconnected"],
            groupPresenceEvents: { eventNames: ["joined", "left"], groupFilters: ["g*"] },
          },
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

/** Resolves with the next event of `name` on an official client (not an EventEmitter), within a generous bound. */
function nextEvent(client, name) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} event`)), 10_000);
    const handler = (event) => {
      clearTimeout(timer);
      client.off(name, handler);
      resolve(event);
    };
    client.on(name, handler);
  });
}

/** The first recorded event that matches, waiting a generous bound for it. */
async function seenEvent(matches) {
  await until(() => seen.some(matches));
  return seen.find(matches);
}

/** A started official client (JSON protocol unless given) with a fresh token; `query` is appended to its URL. */
async function startClient(tokenOptions, { query = "", protocol = WebPubSubJsonProtocol() } = {}) {
  const credential = {
    getClientAccessUrl: async () => (await service.getClientAccessToken(tokenOptions)).url + query,
  };
  const client = new WebPubSubClient(credential, {
    protocol,
    messageRetryOptions: { maxRetries: 0 },
    keepAliveIntervalInMs: 500,
    keepAliveTimeoutInMs: 1500,
  });
  const connected = nextEvent(client, "connected");
  await client.start();
  const event = await connected;
  return { client, connectionId: event.connectionId, userId: event.userId };
}

function accessKeyOf(connectionString) {
  return /AccessKey=([^;]+)/.exec(connectionString)[1];
}

function expectedSignature(key, connectionId) {
  return `sha256=${createHmac("sha256", key).update(connectionId).digest("hex")}`;
}

test("connect, connected, user events and disconnected reach the handler with the connection's identity", async () => {
  const { client, connectionId, userId } = await startClient({ userId: "alice", roles: ROLES });
  assert.equal(userId, "alice");
  const connect = await seenEvent((e) => e.kind === "connect" && e.connectionId === connectionId);
  assert.equal(connect.userId, "alice");
  assert.deepEqual(connect.claims.sub, ["alice"]);
  assert.deepEqual(connect.claims.role, ROLES);
  assert.equal(connect.query.access_token, undefined);
  assert.deepEqual(connect.subprotocols, ["json.webpubsub.azure.v1"]);
  const connected = await seenEvent((e) => e.kind === "connected" && e.connectionId === connectionId);
  assert.equal(connected.userId, "alice");

  await client.sendEvent("note", { a: 1 }, "json");
  await client.sendEvent("note", "plain text", "text");
  await client.sendEvent("note", new Uint8Array([1, 2, 3]).buffer, "binary");
  const notes = seen.filter((e) => e.kind === "user" && e.connectionId === connectionId && e.eventName === "note");
  assert.deepEqual(
    notes.map((e) => [e.dataType, e.userId]),
    [["json", "alice"], ["text", "alice"], ["binary", "alice"]],
  );
  assert.deepEqual(notes[0].data, { a: 1 });
  assert.equal(notes[1].data, "plain text");
  assert.deepEqual([...new Uint8Array(notes[2].data)], [1, 2, 3]);

  client.stop();
  const disconnected = await seenEvent((e) => e.kind === "disconnected" && e.connectionId === connectionId);
  assert.equal(disconnected.userId, "alice");
});

test("ce-signature is the HMAC of the connection id with the emulator's access key", async () => {
  const { client, connectionId } = await startClient({ userId: "signer" });
  try {
    const connect = await seenEvent((e) => e.kind === "connect" && e.connectionId === connectionId);
    const key = accessKeyOf(emulator.connectionString);
    assert.equal(connect.signature, expectedSignature(key, connectionId));
    assert.notEqual(connect.signature, expectedSignature(`${key}x`, connectionId));
    const connected = await seenEvent((e) => e.kind === "connected" && e.connectionId === connectionId);
    assert.equal(connected.signature, connect.signature);
  } finally {
    client.stop();
  }
});

test("a user event's response reaches the client before the ack, in its data type", async () => {
  const { client } = await startClient({ userId: "echoer" });
  try {
    const replies = [];
    client.on("server-message", (e) => replies.push(e.message));
    await client.sendEvent("echo", { x: [1, 2] }, "json");
    assert.equal(replies.length, 1, "the reply arrives before the ack");
    await client.sendEvent("echo", "hello", "text");
    await client.sendEvent("echo", new Uint8Array([9, 8]).buffer, "binary");
    assert.deepEqual(
      replies.map((m) => m.dataType),
      ["json", "text", "binary"],
    );
    assert.deepEqual(replies[0].data, { x: [1, 2] });
    assert.equal(replies[1].data, "hello");
    assert.deepEqual([...new Uint8Array(replies[2].data)], [9, 8]);
  } finally {
    client.stop();
  }
});

test("state set by connect and by user events comes back with the next event", async () => {
  const { client } = await startClient({ userId: "counter" }, { protocol: WebPubSubJsonReliableProtocol() });
  try {
    const replies = [];
    client.on("server-message", (e) => replies.push(e.message.data));
    await client.sendEvent("count", "", "text");
    await client.sendEvent("count", "", "text");
    await client.sendEvent("count", "", "text");
    assert.deepEqual(replies, ["1", "2", "3"]);
  } finally {
    client.stop();
  }
});

test("a failing user event gets an InternalServerError ack", async () => {
  const { client } = await startClient({ userId: "failer" });
  try {
    await assert.rejects(client.sendEvent("fail", "x", "text"), (error) => {
      assert.equal(error.errorDetail.name, "InternalServerError");
      return true;
    });
    await client.sendEvent("echo", "still connected", "text");
  } finally {
    client.stop();
  }
});

test("a connect handler's userId and groups take effect", async () => {
  const { client, connectionId, userId } = await startClient({ userId: "someone" }, { query: "&assign=1" });
  try {
    assert.equal(userId, "assigned-user");
    assert.equal(await service.userExists("assigned-user"), true);
    assert.equal(await service.groupExists("assigned-group"), true);
    const toUser = nextEvent(client, "server-message");
    await service.sendToUser("assigned-user", "to the user", { contentType: "text/plain" });
    assert.equal((await toUser).message.data, "to the user");
    const toGroup = nextEvent(client, "group-message");
    await service.group("assigned-group").sendToAll("to the group", { contentType: "text/plain" });
    const { message } = await toGroup;
    assert.equal(message.group, "assigned-group");
    assert.equal(message.data, "to the group");
    const later = await seenEvent((e) => e.kind === "connected" && e.connectionId === connectionId);
    assert.equal(later.userId, "assigned-user");
  } finally {
    client.stop();
  }
});

test("a connect handler's rejection keeps the client out with its status", async () => {
  const { url } = await service.getClientAccessToken({ userId: "intruder" });
  const socket = new WebSocket(url);
  socket.on("error", () => {});
  const [, response] = await once(socket, "unexpected-response");
  assert.equal(response.statusCode, 401);
  socket.terminate();
  const connect = await seenEvent((e) => e.kind === "connect" && e.userId === "intruder");
  assert.equal(await service.connectionExists(connect.connectionId), false);
  // Give a wrongly sent notification time to arrive before checking that none did.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(
    seen.some((e) => e.kind !== "connect" && e.connectionId === connect.connectionId),
    false,
  );
});

test("a raw client's frames are the user event 'message' and the reply comes back as a frame", async () => {
  const { url } = await service.getClientAccessToken({ userId: "raw-user" });
  const socket = new WebSocket(url);
  await once(socket, "open");
  const reply = once(socket, "message");
  socket.send("hi there");
  const [data, isBinary] = await reply;
  assert.equal(isBinary, false);
  assert.equal(data.toString(), "echo:hi there");
  const event = await seenEvent((e) => e.kind === "user" && e.userId === "raw-user");
  assert.equal(event.eventName, "message");
  assert.equal(event.dataType, "text");
  assert.equal(event.data, "hi there");

  const closed = once(socket, "close");
  socket.send("fail");
  const [code] = await closed;
  assert.equal(code, 1011);
});

test("group presence events reach onGroupJoined / onGroupLeft for client and REST group changes, filtered by group", async () => {
  const { client, connectionId } = await startClient({ userId: "member", roles: ROLES });
  try {
    const membership = () =>
      seen
        .filter((e) => (e.kind === "joined" || e.kind === "left") && e.connectionId === connectionId)
        .map((e) => [e.kind, e.eventName, e.group, e.userId]);
    await client.joinGroup("g1");
    await client.joinGroup("other");
    await client.leaveGroup("g1");
    await service.group("g2").addConnection(connectionId);
    await service.group("g2").removeConnection(connectionId);
    await until(() => membership().length === 4);
    assert.deepEqual(membership(), [
      ["joined", "joined", "g1", "member"],
      ["left", "left", "g1", "member"],
      ["joined", "joined", "g2", "member"],
      ["left", "left", "g2", "member"],
    ]);
    assert.ok(!seen.some((e) => e.group === "other"), "the group filter g* leaves out 'other'");
  } finally {
    client.stop();
  }
});

test("joined and left as system events are refused with a pointer to groupPresenceEvents", async () => {
  await assert.rejects(
    startEmulator({ port: 0, hubs: { chat: { eventHandlers: [{ urlTemplate: "http://a/", systemEvents: ["joined"] }] } } }),
    /'joined' is a group presence event: list it in groupPresenceEvents.eventNames/,
  );
});

test("invalid handler settings are refused at start", async () => {
  await assert.rejects(
    startEmulator({ port: 0, hubs: { chat: { eventHandlers: [{ urlTemplate: "http://{event}.example/" }] } } }),
    /placeholders are not allowed in the host/,
  );
});
