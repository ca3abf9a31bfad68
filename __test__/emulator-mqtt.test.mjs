// The emulator's MQTT endpoint driven by clients nobody here wrote: the `mqtt` npm client (MQTT 3.1.1 and 5.0) with
// tokens from @azure/web-pubsub's getClientAccessToken({ clientProtocol: "mqtt" }), next to @azure/web-pubsub-client
// JSON clients and REST sends; raw `ws` for what no well-behaved client sends.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createRequire } from "node:module";
import { until } from "./helpers/until.mjs";

const require = createRequire(import.meta.url);
const { startEmulator } = require("../emulator.js");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");
const { WebPubSubClient } = require("@azure/web-pubsub-client");
const mqtt = require("mqtt");
const WebSocket = require("ws");

const HUB = "devices";
const BOTH = ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"];
let emulator;
let service;
const opened = [];

before(async () => {
  emulator = await startEmulator({ port: 0 });
  service = new WebPubSubServiceClient(emulator.connectionString, HUB, { allowInsecureConnection: true });
});

after(async () => {
  await Promise.all(opened.map((client) => client.endAsync(true).catch(() => {})));
  await emulator.close();
});

/** An `mqtt` client connected with an SDK token; received messages collect in `client.received`. */
async function connect(clientId, { roles = BOTH, version = 5, userId, options = {} } = {}) {
  const { url } = await service.getClientAccessToken({ clientProtocol: "mqtt", roles, userId });
  const client = await mqtt.connectAsync(url, {
    clientId,
    protocolVersion: version,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...options,
  });
  opened.push(client);
  client.received = [];
  client.on("message", (topic, payload, packet) => client.received.push({ topic, payload: payload.toString(), packet }));
  return client;
}

const until5s = (condition, what) => until(condition, what, 5_000);

test("MQTT 5 and 3.1.1 clients subscribe and publish to each other at every QoS", async () => {
  const v5 = await connect("sensor5");
  const v4 = await connect("sensor4", { version: 4 });
  const granted5 = await v5.subscribeAsync({ readings: { qos: 2 } });
  const granted4 = await v4.subscribeAsync({ readings: { qos: 1 } });
  assert.deepEqual(granted5.map((g) => [g.topic, g.qos]), [["readings", 2]]);
  assert.deepEqual(granted4.map((g) => [g.topic, g.qos]), [["readings", 1]]);
  for (const qos of [0, 1, 2]) {
    await v4.publishAsync("readings", `from 3.1.1 at ${qos}`, { qos });
    await v5.publishAsync("readings", `from 5 at ${qos}`, { qos, properties: { contentType: "text/plain" } });
  }
  await until5s(() => v5.received.length === 6 && v4.received.length === 6, "six messages each");
  // The received QoS is the smaller of the publication's and the subscription's.
  assert.deepEqual(
    v5.received.filter((m) => m.payload.startsWith("from 3.1.1")).map((m) => [m.payload, m.packet.qos]),
    [["from 3.1.1 at 0", 0], ["from 3.1.1 at 1", 1], ["from 3.1.1 at 2", 2]],
  );
  assert.deepEqual(
    v4.received.filter((m) => m.payload.startsWith("from 5")).map((m) => [m.payload, m.packet.qos]),
    [["from 5 at 0", 0], ["from 5 at 1", 1], ["from 5 at 2", 1]],
  );
  // A 3.1.1 publication has no content type: MQTT 5 receivers see it as binary.
  assert.equal(v5.received[0].packet.properties?.contentType, "application/octet-stream");
  assert.equal(v5.received.find((m) => m.payload === "from 5 at 1").packet.properties?.contentType, "text/plain");
  assert.equal(await service.connectionExists("sensor5"), true);
  assert.equal(await service.groupExists("readings"), true);
});

test("REST sends reach MQTT clients: groups on their topic, the rest on $webpubsub/server/messages at QoS 1", async () => {
  const client = await connect("restTarget", { userId: "alice" });
  await client.subscribeAsync({ alerts: { qos: 2 } });
  await service.sendToAll({ kind: "all" });
  await service.sendToUser("alice", "to alice", { contentType: "text/plain" });
  await service.sendToConnection("restTarget", new Uint8Array([1, 2, 3]).buffer, { contentType: "application/octet-stream" });
  await service.group("alerts").sendToAll("group alert", { contentType: "text/plain" });
  // A REST join acts as a subscription with default options.
  await service.group("ops").addConnection("restTarget");
  await service.group("ops").sendToAll({ op: 1 });
  await until5s(() => client.received.length === 5, "five messages");
  assert.deepEqual(
    client.received.map((m) => [m.topic, m.packet.qos, m.packet.properties?.contentType]),
    [
      ["$webpubsub/server/messages", 1, "application/json"],
      ["$webpubsub/server/messages", 1, "text/plain"],
      ["$webpubsub/server/messages", 1, "application/octet-stream"],
      ["alerts", 1, "text/plain"],
      ["ops", 1, "application/json"],
    ],
  );
  assert.equal(client.received[0].payload, '{"kind":"all"}');
  assert.deepEqual([...Buffer.from(client.received[2].packet.payload)], [1, 2, 3]);
});

test("MQTT and Web PubSub JSON clients in one group convert content types both ways", async () => {
  const device = await connect("bridge");
  await device.subscribeAsync("room");
  const { url } = await service.getClientAccessToken({ roles: BOTH });
  const web = new WebPubSubClient(url);
  // A raw WebSocket client in the group too (by its token): text frames for text and JSON, binary frames for bytes.
  const raw = new WebSocket((await service.getClientAccessToken({ groups: ["room"] })).url);
  const rawReceived = [];
  raw.on("message", (data, isBinary) => rawReceived.push(isBinary ? [...data] : data.toString()));
  await once(raw, "open");
  const webReceived = [];
  web.on("group-message", (e) => webReceived.push([e.message.dataType, e.message.data]));
  await web.start();
  await web.joinGroup("room");
  await device.publishAsync("room", JSON.stringify({ t: 21 }), { qos: 1, properties: { contentType: "application/json" } });
  await device.publishAsync("room", "plain", { qos: 1, properties: { contentType: "text/plain" } });
  await device.publishAsync("room", Buffer.from([9, 8]), { qos: 1 });
  await web.sendToGroup("room", "hello device", "text");
  await web.sendToGroup("room", { json: true }, "json");
  await until5s(() => webReceived.length === 5 && device.received.length === 5 && rawReceived.length === 5, "five messages each");
  web.stop();
  raw.close();
  assert.deepEqual(rawReceived.slice(0, 3), ['{"t":21}', "plain", [9, 8]]);
  assert.deepEqual(webReceived.slice(0, 2), [
    ["json", { t: 21 }],
    ["text", "plain"],
  ]);
  assert.equal(webReceived[2][0], "binary");
  assert.deepEqual([...new Uint8Array(webReceived[2][1])], [9, 8]);
  const fromWeb = device.received.slice(3).map((m) => [m.payload, m.packet.properties?.contentType, m.packet.qos]);
  assert.deepEqual(fromWeb, [
    ["hello device", "text/plain", 0],
    ['{"json":true}', "application/json", 0],
  ]);
});

test("permissions: subscribing and publishing need the roles, refused with MQTT 5 reason codes", async () => {
  const limited = await connect("limited", { roles: ["webpubsub.joinLeaveGroup.mine", "webpubsub.sendToGroup.mine"] });
  // mqtt.js rejects a SUBACK with any refusal, and hands over the packet.
  const refused = await limited
    .subscribeAsync({ mine: { qos: 1 }, other: { qos: 1 }, "wild/#": { qos: 0 }, "$share/g/t": { qos: 0 } })
    .catch((error) => error);
  assert.deepEqual(refused.packet.granted, [1, 0x87, 0xa2, 0x9e]);
  const listener = await connect("listener");
  await listener.subscribeAsync("other");
  await assert.rejects(limited.publishAsync("other", "nope", { qos: 1 }), /Not authorized|135/i);
  await limited.publishAsync("mine", "yes", { qos: 1 });
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(listener.received, []);
  // A grant by REST opens the group.
  await service.grantPermission("limited", "sendToGroup", { targetName: "other" });
  await limited.publishAsync("other", "granted", { qos: 1 });
  await until5s(() => listener.received.length === 1, "the granted publication");
});

test("connection refusals: token, client id, protocol level, keep-alive", async () => {
  const { url } = await service.getClientAccessToken({ clientProtocol: "mqtt" });
  // A token for the other endpoint is refused before the upgrade.
  const { url: wrongAudience } = await service.getClientAccessToken();
  const mqttUrl = new URL(url);
  mqttUrl.searchParams.set("access_token", new URL(wrongAudience).searchParams.get("access_token"));
  const refusedUpgrade = new WebSocket(mqttUrl.toString(), "mqtt");
  const [, response] = await once(refusedUpgrade, "unexpected-response");
  assert.equal(response.statusCode, 401);
  refusedUpgrade.on("error", () => {});
  refusedUpgrade.terminate();
  await assert.rejects(mqtt.connectAsync(mqttUrl.toString(), { reconnectPeriod: 0 }, false), /Couldn't connect/);
  await assert.rejects(
    mqtt.connectAsync(url, { clientId: "bad-id!", protocolVersion: 5, reconnectPeriod: 0 }),
    /Client Identifier not valid|133/i,
  );
  await assert.rejects(
    mqtt.connectAsync(url, { clientId: "bad-id!", protocolVersion: 4, reconnectPeriod: 0 }),
    /Identifier rejected/i,
  );
  // MQTT 3.1 (level 3): the 3.1.1 refusal "unacceptable protocol version".
  const raw = new WebSocket(url, "mqtt");
  await once(raw, "open");
  const name = Buffer.from("MQIsdp");
  const body = Buffer.concat([Buffer.from([0, name.length]), name, Buffer.from([3, 2, 0, 60, 0, 1, 0x61])]);
  raw.send(Buffer.concat([Buffer.from([0x10, body.length]), body]));
  const [answer] = await once(raw, "message");
  assert.deepEqual([...answer], [0x20, 2, 0, 1]);
  await once(raw, "close");
  // MQTT 3.1.1 with keep-alive 0 (never) is closed; MQTT 5 gets a Server Keep Alive.
  const lazy = new WebSocket(url, "mqtt");
  await once(lazy, "open");
  lazy.send(Buffer.from([0x10, 17, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 0, 0, 5, 0x6c, 0x61, 0x7a, 0x79, 0x34]));
  const [code, why] = await once(lazy, "close");
  assert.deepEqual([code, why.toString()], [1008, "The MQTT 3.1.1 keep-alive must be 1 to 180 seconds."]);
  const v5 = await mqtt.connectAsync(url, { clientId: "lazy5", protocolVersion: 5, keepalive: 0, reconnectPeriod: 0 });
  opened.push(v5);
  assert.equal(v5.connackPacket?.properties?.serverKeepAlive, 180);
  // An empty MQTT 5 client id is assigned one.
  const anonymous = await mqtt.connectAsync(url, { clientId: "", protocolVersion: 5, reconnectPeriod: 0, clean: true });
  opened.push(anonymous);
  const assigned = anonymous.connackPacket?.properties?.assignedClientIdentifier;
  assert.match(assigned, /^[0-9a-f]{32}$/);
  assert.equal(await service.connectionExists(assigned), true);
});

test("the service ends connections with a DISCONNECT reason: closeConnection, a takeover, a QoS 2 flood", async () => {
  const closed = await connect("toClose");
  const disconnect = once(closed, "disconnect");
  await service.closeConnection("toClose", { reason: "maintenance" });
  const [packet] = await disconnect;
  assert.equal(packet.reasonCode, 0x98);
  assert.equal(packet.properties?.reasonString, "maintenance");

  const first = await connect("twin");
  const takenOver = once(first, "disconnect");
  const second = await connect("twin");
  assert.equal((await takenOver)[0].reasonCode, 0x8e);
  assert.equal(await service.connectionExists("twin"), true);
  await second.subscribeAsync("twins");
  await service.group("twins").sendToAll("still here", { contentType: "text/plain" });
  await until5s(() => second.received.length === 1, "the new connection's message");

  // QoS 2 publications without PUBREL, past the receive maximum the CONNACK announced.
  const { url } = await service.getClientAccessToken({ clientProtocol: "mqtt", roles: BOTH });
  const raw = new WebSocket(url, "mqtt");
  await once(raw, "open");
  const connectPacket = Buffer.from([0x10, 18, 0, 4, 0x4d, 0x51, 0x54, 0x54, 5, 2, 0, 60, 0, 0, 5, 0x66, 0x6c, 0x6f, 0x6f, 0x64]);
  raw.send(connectPacket);
  const [connack] = await once(raw, "message");
  assert.equal(connack[0], 0x20);
  assert.equal(connack[3], 0);
  const frames = [];
  raw.on("message", (data) => frames.push(Buffer.from(data)));
  const topic = Buffer.from("flood");
  for (let pkid = 1; pkid <= 101; pkid++) {
    const body = Buffer.concat([Buffer.from([0, topic.length]), topic, Buffer.from([pkid >> 8, pkid & 0xff, 0]), Buffer.from("x")]);
    raw.send(Buffer.concat([Buffer.from([0x34, body.length]), body]));
  }
  await once(raw, "close");
  const last = frames.at(-1);
  assert.equal(last[0], 0xe0, "a DISCONNECT packet");
  assert.equal(last[2], 0x93, "receive maximum exceeded");
  // Everyone else is unaffected.
  await service.group("twins").sendToAll("after the flood", { contentType: "text/plain" });
  await until5s(() => second.received.length === 2, "a message after the flood");
});

test("a last will reaches its topic when the connection drops, not after a normal DISCONNECT; its limits", async () => {
  const watcher = await connect("watcher");
  await watcher.subscribeAsync({ status: { qos: 1 } });
  const will = (payload) => ({ topic: "status", payload: Buffer.from(payload), qos: 1, retain: false, properties: { contentType: "text/plain" } });
  const dropped = await connect("dropper", { options: { will: will("dropper offline") } });
  dropped.stream.destroy();
  const polite = await connect("polite", { options: { will: will("polite offline") } });
  await polite.endAsync();
  await until5s(() => watcher.received.length === 1, "the dropped client's will");
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(
    watcher.received.map((m) => [m.payload, m.packet.qos, m.packet.properties?.contentType]),
    [["dropper offline", 1, "text/plain"]],
  );
  // A will the client may not send is not sent.
  const mute = await connect("mute", { roles: [], options: { will: will("mute offline") } });
  mute.stream.destroy();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(watcher.received.length, 1);
  const { url } = await service.getClientAccessToken({ clientProtocol: "mqtt", roles: BOTH });
  await assert.rejects(
    mqtt.connectAsync(url, { clientId: "longwill", protocolVersion: 5, reconnectPeriod: 0, will: { ...will("x"), topic: "t".repeat(1025) } }),
    /Topic Name invalid/i,
  );
  await assert.rejects(
    mqtt.connectAsync(url, { clientId: "bigwill", protocolVersion: 5, reconnectPeriod: 0, will: will("x".repeat(2001)) }),
    /Packet too large/i,
  );
});

test("a session without clean start outlives its connection: messages wait, subscriptions stay, the next CONNECT resumes it", async () => {
  for (const version of [5, 4]) {
    const id = `keeper${version}`;
    const options = { clean: false, ...(version === 5 ? { properties: { sessionExpiryInterval: 20 } } : {}) };
    const first = await connect(id, { version, options });
    await first.subscribeAsync({ news: { qos: 1 } });
    first.stream.destroy();
    await until5s(async () => (await service.group("news").sendToAll("while away", { contentType: "text/plain" }), true), "a send");
    assert.equal(await service.connectionExists(id), true, "the session lives on");
    const second = await connect(id, { version, options });
    assert.equal(second.connackPacket?.sessionPresent, true);
    await until5s(() => second.received.length === 1, "the message sent while away");
    assert.deepEqual([second.received[0].topic, second.received[0].payload, second.received[0].packet.qos], ["news", "while away", 1]);
    // The subscription is the session's: no SUBSCRIBE needed.
    await service.group("news").sendToAll("after", { contentType: "text/plain" });
    await until5s(() => second.received.length === 2, "a message after the resume");
    await second.endAsync();
  }
  // A clean start discards the session; a short expiry ends it.
  const fresh = await connect("keeper5", { options: { clean: true } });
  assert.equal(fresh.connackPacket?.sessionPresent, false);
  await fresh.endAsync();
  const brief = await connect("brief", { options: { clean: false, properties: { sessionExpiryInterval: 1 } } });
  brief.stream.destroy();
  await until5s(async () => (await service.connectionExists("brief")) === false, "the session to expire");
});

test("unacknowledged QoS 1 publications are sent again, with DUP, to the resumed session", async () => {
  const { url } = await service.getClientAccessToken({ clientProtocol: "mqtt", roles: BOTH });
  const id = Buffer.from("rawkeep");
  const connectPacket = Buffer.concat([Buffer.from([0x10, 12 + id.length, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0, 0, 60, 0, id.length]), id]);
  const open = async () => {
    const ws = new WebSocket(url, "mqtt");
    const frames = [];
    ws.on("message", (data) => frames.push(Buffer.from(data)));
    await once(ws, "open");
    ws.send(connectPacket);
    await until5s(() => frames.length >= 1, "CONNACK");
    return { ws, frames };
  };
  const first = await open();
  assert.deepEqual([...first.frames[0]], [0x20, 2, 0, 0]);
  const topic = Buffer.from("redo");
  first.ws.send(Buffer.concat([Buffer.from([0x82, 2 + 2 + topic.length + 1, 0, 1, 0, topic.length]), topic, Buffer.from([1])]));
  await until5s(() => first.frames.length >= 2, "SUBACK");
  await service.group("redo").sendToAll("unacked", { contentType: "text/plain" });
  await until5s(() => first.frames.length >= 3, "the PUBLISH");
  assert.equal(first.frames[2][0], 0x32, "PUBLISH at QoS 1");
  first.ws.terminate();
  const second = await open();
  assert.deepEqual([...second.frames[0].subarray(0, 4)], [0x20, 2, 1, 0], "CONNACK with the session present");
  await until5s(() => second.frames.length >= 2 || second.frames[0].length > 4, "the PUBLISH again");
  const again = second.frames[0].length > 4 ? second.frames[0].subarray(4) : second.frames[1];
  assert.equal(again[0], 0x3a, "PUBLISH at QoS 1 with DUP");
  assert.ok(again.includes(Buffer.from("unacked")));
  second.ws.send(Buffer.from([0xe0, 0]));
  await once(second.ws, "close");
});

test("resuming a session that is still connected takes it over; a delayed will waits for the session", async () => {
  const first = await connect("twice", { options: { clean: false, properties: { sessionExpiryInterval: 10 } } });
  const taken = once(first, "disconnect");
  const second = await connect("twice", { options: { clean: false, properties: { sessionExpiryInterval: 10 } } });
  assert.equal((await taken)[0].reasonCode, 0x8e);
  assert.equal(second.connackPacket?.sessionPresent, true);
  await second.endAsync();

  const watcher = await connect("watcher2");
  await watcher.subscribeAsync({ presence: { qos: 1 } });
  const will = { topic: "presence", payload: Buffer.from("gone"), qos: 1, retain: false, properties: { willDelayInterval: 1 } };
  const delayed = await connect("delayed", { options: { clean: false, will, properties: { sessionExpiryInterval: 10 } } });
  const dropped = Date.now();
  delayed.stream.destroy();
  await until5s(() => watcher.received.length === 1, "the delayed will");
  assert.ok(Date.now() - dropped >= 900, "the will waited for its delay");
  assert.equal(watcher.received[0].payload, "gone");
});

/** A raw MQTT 3.1.1 connection over `ws`; its packets parsed by mqtt-packet (the `mqtt` client's parser) as they come. */
async function rawClient(clientId, { clean = true, version = 4 } = {}) {
  const mqttPacket = require("mqtt-packet");
  const { url } = await service.getClientAccessToken({ clientProtocol: "mqtt", roles: BOTH });
  const ws = new WebSocket(url, "mqtt");
  const packets = [];
  const parser = mqttPacket.parser({ protocolVersion: version });
  parser.on("packet", (packet) => packets.push(packet));
  ws.on("message", (data) => parser.parse(Buffer.from(data)));
  await once(ws, "open");
  const send = (packet) => ws.send(mqttPacket.generate(packet, { protocolVersion: version }));
  send({ cmd: "connect", protocolId: "MQTT", protocolVersion: version, clean, clientId, keepalive: 60 });
  await until5s(() => packets.length === 1, "CONNACK");
  return { ws, packets, send };
}

test("bounds: at most 100 unacknowledged publications in flight; a session away too long is closed", async () => {
  const client = await rawClient("slowacker");
  client.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "burst", qos: 1 }] });
  await until5s(() => client.packets.length === 2, "SUBACK");
  for (let i = 0; i < 150; i++) await service.group("burst").sendToAll(`m${i}`, { contentType: "text/plain" });
  const publishes = () => client.packets.filter((p) => p.cmd === "publish");
  await until5s(() => publishes().length === 100, "the first 100");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(publishes().length, 100, "no more until acknowledged");
  for (const p of publishes().slice(0, 10)) client.send({ cmd: "puback", messageId: p.messageId });
  await until5s(() => publishes().length === 110, "ten more after ten acknowledgements");
  assert.deepEqual(publishes().map((p) => p.payload.toString()).slice(98, 110), Array.from({ length: 12 }, (_, i) => `m${98 + i}`));
  client.ws.terminate();

  // A session waiting for its client holds what the connection's queue holds (1,000 messages), then is closed.
  const away = await rawClient("away", { clean: false });
  away.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "flood2", qos: 1 }] });
  await until5s(() => away.packets.length === 2, "SUBACK");
  away.ws.terminate();
  await until5s(async () => (await service.connectionExists("away")) === true, "the session kept");
  for (let i = 0; i < 1100 && (await service.connectionExists("away")); i++) {
    await service.group("flood2").sendToAll("x", { contentType: "text/plain" });
  }
  await until5s(async () => (await service.connectionExists("away")) === false, "the session closed");
});

test("bad input: a malformed or oversize packet ends the connection with its reason code; others go on", async () => {
  const bystander = await connect("bystander");
  await bystander.subscribeAsync("calm");
  for (const [bytes, code] of [
    [Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff]), 0x81],
    [Buffer.from([0x30, 0x80, 0x80, 0x80, 0x01]), 0x95],
  ]) {
    const client = await rawClient(`bad${code}`, { version: 5 });
    client.ws.send(bytes);
    await once(client.ws, "close");
    const disconnect = client.packets.find((p) => p.cmd === "disconnect");
    assert.equal(disconnect?.reasonCode, code);
  }
  await service.group("calm").sendToAll("still fine", { contentType: "text/plain" });
  await until5s(() => bystander.received.length === 1, "the bystander's message");
});

test("over wss: MQTT 3.1.1 and 5.0 clients with TLS, REST sends from this package's client over HTTPS", async () => {
  const fs = require("node:fs");
  const os = require("node:os");
  const path = require("node:path");
  const secure = await startEmulator({ port: 0, tls: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wps-mqtt-tls-"));
  const caFile = path.join(dir, "ca.pem");
  fs.writeFileSync(caFile, secure.certificate);
  process.env.NODE_EXTRA_CA_CERTS = caFile;
  try {
    const ours = require("../index.js");
    const rest = new ours.WebPubSubServiceClient(secure.connectionString, HUB);
    const { url } = await rest.getClientAccessToken({ clientProtocol: "mqtt", roles: BOTH });
    assert.match(url, /^wss:\/\/.*\/clients\/mqtt\/hubs\//);
    for (const protocolVersion of [4, 5]) {
      const client = await mqtt.connectAsync(url, { clientId: `tls${protocolVersion}`, protocolVersion, ca: secure.certificate, reconnectPeriod: 0 });
      const received = [];
      client.on("message", (topic, payload) => received.push([topic, payload.toString()]));
      await client.subscribeAsync({ secure: { qos: 1 } });
      await rest.group("secure").sendToAll(`over tls ${protocolVersion}`, { contentType: "text/plain" });
      await until5s(() => received.length === 1, "the message over TLS");
      assert.deepEqual(received, [["secure", `over tls ${protocolVersion}`]]);
      await client.endAsync();
    }
    // Without trusting the certificate, the handshake fails.
    await assert.rejects(mqtt.connectAsync(url, { clientId: "untrusting", reconnectPeriod: 0 }, false));
  } finally {
    delete process.env.NODE_EXTRA_CA_CERTS;
    await secure.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("MQTT 5: subscription identifiers and message expiry reach subscribers; retain and topic aliases are refused", async () => {
  const subscriber = await connect("subid");
  await subscriber.subscribeAsync({ tagged: { qos: 1 } }, { properties: { subscriptionIdentifier: 7 } });
  const publisher = await connect("expiring");
  await publisher.publishAsync("tagged", "soon gone", { qos: 1, properties: { messageExpiryInterval: 60, userProperties: { k: "v" } } });
  await until5s(() => subscriber.received.length === 1, "the tagged message");
  const { properties } = subscriber.received[0].packet;
  assert.deepEqual([properties.subscriptionIdentifier, { ...properties.userProperties }], [7, { k: "v" }]);
  assert.ok(properties.messageExpiryInterval > 0 && properties.messageExpiryInterval <= 60);
  const retaining = await connect("retaining");
  const disconnect = once(retaining, "disconnect");
  retaining.publish("tagged", "x", { qos: 0, retain: true });
  assert.equal((await disconnect)[0].reasonCode, 0x9a);
  // mqtt.js itself refuses a topic alias the CONNACK did not allow: sent raw.
  const aliasing = await rawClient("aliasing", { version: 5 });
  aliasing.send({ cmd: "publish", topic: "tagged", payload: "x", qos: 0, properties: { topicAlias: 1 } });
  await once(aliasing.ws, "close");
  assert.equal(aliasing.packets.find((p) => p.cmd === "disconnect")?.reasonCode, 0x94);
});

test("tokens in the Authorization header, and from :generateToken?clientType=mqtt over TLS", async () => {
  const { token } = await service.getClientAccessToken({ clientProtocol: "mqtt", roles: BOTH });
  const bare = `ws://127.0.0.1:${emulator.port}/clients/mqtt/hubs/${HUB}`;
  const client = await mqtt.connectAsync(bare, {
    clientId: "headerToken",
    protocolVersion: 5,
    reconnectPeriod: 0,
    wsOptions: { headers: { Authorization: `Bearer ${token}` } },
  });
  assert.equal(await service.connectionExists("headerToken"), true);
  await client.endAsync();

  const secure = await startEmulator({ port: 0, tls: true, allowUnvalidatedEntraTokens: true });
  try {
    // A TokenCredential makes the SDK ask the service (:generateToken) instead of signing.
    const credential = {
      async getToken() {
        const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
        const now = Math.floor(Date.now() / 1000);
        const token = [b64({ alg: "RS256", typ: "JWT" }), b64({ aud: "https://webpubsub.azure.com", iat: now, nbf: now, exp: now + 3600 }), "c2ln"].join(".");
        return { token, expiresOnTimestamp: (now + 3600) * 1000 };
      },
    };
    const fs = require("node:fs");
    const os = require("node:os");
    const path = require("node:path");
    const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "wps-mqtt-gen-")), "ca.pem");
    fs.writeFileSync(caFile, secure.certificate);
    process.env.NODE_EXTRA_CA_CERTS = caFile;
    const ours = require("../index.js");
    const rest = new ours.WebPubSubServiceClient(`https://127.0.0.1:${secure.port}`, credential, HUB);
    delete process.env.NODE_EXTRA_CA_CERTS;
    const { url } = await rest.getClientAccessToken({ clientProtocol: "mqtt", userId: "generated" });
    const generated = await mqtt.connectAsync(url, { clientId: "generated1", protocolVersion: 4, ca: secure.certificate, reconnectPeriod: 0 });
    assert.equal(await rest.userExists("generated"), true);
    await generated.endAsync();
  } finally {
    await secure.close();
  }
});

test("a large message reaches MQTT 3.1.1 and 5.0 subscribers whole, at its QoS", async () => {
  const big = Buffer.alloc(300 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const clients = [await connect("big5"), await connect("big4", { version: 4 })];
  for (const client of clients) await client.subscribeAsync({ large: { qos: 1 } });
  await service.group("large").sendToAll(big.buffer.slice(big.byteOffset, big.byteOffset + big.length), { contentType: "application/octet-stream" });
  await clients[0].publishAsync("large", big, { qos: 2 });
  await until5s(() => clients.every((c) => c.received.length === 2), "two large messages each");
  for (const client of clients) {
    for (const message of client.received) assert.ok(Buffer.from(message.packet.payload).equals(big));
    assert.deepEqual(client.received.map((m) => m.packet.qos), [1, 1]);
  }
});
