// MQTT clients and event handlers: @azure/web-pubsub-express's WebPubSubEventHandler receives the `connect`
// (with its `mqtt` part), `connected` and `disconnected` events of `mqtt` npm clients, recognises them as MQTT
// requests, and its answers decide the CONNACK: user, groups and roles on success, the MQTT code on failure.
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
const mqtt = require("mqtt");

const HUB = "iot";
const seen = [];
let app;
let emulator;
let service;

const handler = new WebPubSubEventHandler(HUB, {
  handleConnect(req, res) {
    seen.push({ kind: "connect", context: req.context, mqtt: req.mqtt, claims: req.claims });
    if (req.mqtt?.username === "banned") {
      res.failWith({ mqtt: { code: req.mqtt.protocolVersion === 5 ? 0x8a : 5, reason: "banned by server" } });
      return;
    }
    if (req.mqtt?.username === "intruder") {
      res.fail(401, "not you");
      return;
    }
    res.success({
      userId: `user-of-${req.context.connectionId}`,
      groups: ["handler-group"],
      roles: ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"],
      mqtt: { userProperties: [{ name: "welcome", value: "yes" }] },
    });
  },
  onConnected(req) {
    seen.push({ kind: "connected", context: req.context });
  },
  onDisconnected(req) {
    seen.push({ kind: "disconnected", context: req.context, reason: req.reason, mqtt: req.mqtt });
  },
  handleUserEvent(req, res) {
    seen.push({ kind: "user", context: req.context, data: req.data, dataType: req.dataType });
    if (req.context.eventName === "fail") {
      res.fail(400, "no");
      return;
    }
    res.success(`echo:${req.data}`, "text");
  },
});
/** The raw headers of user event requests, as the app server got them. */
const userEventHeaders = [];

before(async () => {
  const server = express();
  server.use((req, _res, next) => {
    if (req.headers["ce-type"]?.startsWith("azure.webpubsub.user.")) userEventHeaders.push(req.headers);
    next();
  });
  server.use(handler.getMiddleware());
  app = server.listen(0, "127.0.0.1");
  await once(app, "listening");
  emulator = await startEmulator({
    port: 0,
    hubs: {
      [HUB]: {
        eventHandlers: [
          {
            urlTemplate: `http://127.0.0.1:${app.address().port}/api/webpubsub/hubs/{hub}/`,
            userEventPattern: "*",
            systemEvents: ["connect", "connected", "disconnected"],
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

async function tokenUrl() {
  return (await service.getClientAccessToken({ clientProtocol: "mqtt" })).url;
}

test("connect carries the MQTT CONNECT; the handler's user, groups, roles and CONNACK properties apply", async () => {
  const url = await tokenUrl();
  const client = await mqtt.connectAsync(url, {
    clientId: "meter1",
    protocolVersion: 5,
    username: "meter",
    password: Buffer.from("secret"),
    properties: { userProperties: { site: "north" } },
    reconnectPeriod: 0,
  });
  assert.deepEqual({ ...client.connackPacket?.properties?.userProperties }, { welcome: "yes" });
  // The handler's roles and group apply: a message to its group comes back.
  const received = [];
  client.on("message", (topic, payload) => received.push([topic, payload.toString()]));
  await client.publishAsync("handler-group", "hello", { qos: 1 });
  await until(() => received.length === 1, "the message to the handler's group");
  assert.deepEqual(received, [["handler-group", "hello"]]);
  assert.equal(await service.userExists("user-of-meter1"), true);
  await client.endAsync();
  await until(() => seen.some((e) => e.kind === "disconnected" && e.context.connectionId === "meter1"), "disconnected");

  const events = seen.filter((e) => e.context.connectionId === "meter1");
  assert.deepEqual(
    events.map((e) => e.kind),
    ["connect", "connected", "disconnected"],
  );
  const [connect, connected, disconnected] = events;
  assert.equal(connect.context.clientProtocol, "mqtt");
  assert.match(connect.context.mqtt.physicalConnectionId, /^[0-9a-f]{32}$/);
  assert.equal(connect.context.mqtt.sessionId, undefined);
  assert.deepEqual(connect.mqtt, {
    protocolVersion: 5,
    cleanStart: true,
    username: "meter",
    password: Buffer.from("secret").toString("base64"),
    userProperties: [{ name: "site", value: "north" }],
  });
  assert.equal(connected.context.userId, "user-of-meter1");
  assert.match(connected.context.mqtt.sessionId, /^[0-9a-f]{32}$/);
  assert.equal(connected.context.mqtt.physicalConnectionId, connect.context.mqtt.physicalConnectionId);
  assert.deepEqual(disconnected.mqtt, { initiatedByClient: true, disconnectPacket: { code: 0, userProperties: [] } });
});

test("a handler's refusal becomes the CONNACK code of the client's version", async () => {
  const url = await tokenUrl();
  await assert.rejects(
    mqtt.connectAsync(url, { clientId: "b5", protocolVersion: 5, username: "banned", reconnectPeriod: 0 }),
    /Banned/i,
  );
  await assert.rejects(
    mqtt.connectAsync(url, { clientId: "b4", protocolVersion: 4, username: "banned", reconnectPeriod: 0 }),
    /Not authorized/i,
  );
  // fail(401): web-pubsub-express turns it into "not authorized" for the client's version.
  await assert.rejects(
    mqtt.connectAsync(url, { clientId: "i5", protocolVersion: 5, username: "intruder", reconnectPeriod: 0 }),
    /Not authorized/i,
  );
  assert.equal(await service.connectionExists("b5"), false);
  // Refused clients get no other event.
  assert.deepEqual(
    seen.filter((e) => ["b5", "b4", "i5"].includes(e.context.connectionId)).map((e) => e.kind),
    ["connect", "connect", "connect"],
  );
});

test("disconnected tells a service-side close and a lost transport apart", async () => {
  const url = await tokenUrl();
  const closed = await mqtt.connectAsync(url, { clientId: "closed5", protocolVersion: 5, reconnectPeriod: 0 });
  await service.closeConnection("closed5", { reason: "maintenance" });
  const lost = await mqtt.connectAsync(url, { clientId: "lost4", protocolVersion: 4, reconnectPeriod: 0 });
  lost.stream.destroy();
  const last = (id) => seen.find((e) => e.kind === "disconnected" && e.context.connectionId === id);
  await until(() => last("closed5") && last("lost4"), "both disconnected events");
  assert.deepEqual([last("closed5").reason, last("closed5").mqtt], ["maintenance", { initiatedByClient: false, disconnectPacket: { code: 0x98, userProperties: null } }]);
  assert.deepEqual(last("lost4").mqtt, { initiatedByClient: false, disconnectPacket: null });
  closed.end(true);
});

test("publications to $webpubsub/server/events/{event} are user events; the answer comes back on …/succeeded or …/failed", async () => {
  const url = await tokenUrl();
  const client = await mqtt.connectAsync(url, { clientId: "asker", protocolVersion: 5, reconnectPeriod: 0 });
  const answers = [];
  client.on("message", (topic, payload, packet) => answers.push({ topic, payload: payload.toString(), packet }));
  const request = (event, body) =>
    client.publishAsync(`$webpubsub/server/events/${event}`, body, {
      qos: 1,
      properties: { contentType: "text/plain", correlationData: Buffer.from(`id-${event}`), userProperties: { trace: "t1" } },
    });
  await request("echo", "ping");
  await request("fail", "x");
  await until(() => answers.length === 2, "two answers");
  const [ok, failed] = answers;
  assert.deepEqual([ok.topic, ok.payload, ok.packet.qos], ["$webpubsub/server/events/echo/succeeded", "echo:ping", 1]);
  assert.equal(Buffer.from(ok.packet.properties.correlationData).toString(), "id-echo");
  assert.match(ok.packet.properties.contentType, /^text\/plain/);
  assert.equal(ok.packet.properties.userProperties["azure-status-code"], "200");
  assert.deepEqual([failed.topic, failed.payload], ["$webpubsub/server/events/fail/failed", "no"]);
  assert.equal(failed.packet.properties.userProperties["azure-status-code"], "400");
  assert.equal(Buffer.from(failed.packet.properties.correlationData).toString(), "id-fail");
  // The request: payload, content type and user properties as `mqtt-` headers; the express package sees text.
  const echo = seen.find((e) => e.kind === "user" && e.context.eventName === "echo");
  assert.deepEqual([echo.data, echo.dataType, echo.context.clientProtocol], ["ping", "text", "mqtt"]);
  const headers = userEventHeaders.find((h) => h["ce-eventname"] === "echo");
  assert.equal(headers["mqtt-trace"], "t1");
  assert.equal(headers["content-type"], "text/plain");
  assert.equal(headers["ce-source"], `/hubs/${HUB}/client/asker/${headers["ce-physicalconnectionid"]}`);
  await client.endAsync();
});

test("a resumed session raises connect again but not connected; disconnected comes when the session ends", async () => {
  const url = await tokenUrl();
  const options = { clientId: "session1", protocolVersion: 5, clean: false, reconnectPeriod: 0, properties: { sessionExpiryInterval: 10 } };
  const first = await mqtt.connectAsync(url, options);
  first.stream.destroy();
  await until(() => seen.filter((e) => e.context.connectionId === "session1").length === 2, "connect and connected");
  const second = await mqtt.connectAsync(url, options);
  assert.equal(second.connackPacket?.sessionPresent, true);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(seen.some((e) => e.kind === "disconnected" && e.context.connectionId === "session1"), false);
  // A DISCONNECT with session expiry 0 ends the session.
  await second.endAsync(false, { reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
  await until(() => seen.some((e) => e.kind === "disconnected" && e.context.connectionId === "session1"), "disconnected");
  const events = seen.filter((e) => e.context.connectionId === "session1");
  assert.deepEqual(
    events.map((e) => e.kind),
    ["connect", "connected", "connect", "disconnected"],
  );
  assert.equal(events[1].context.mqtt.sessionId, events[3].context.mqtt.sessionId);
  assert.equal(await service.connectionExists("session1"), false);
});
