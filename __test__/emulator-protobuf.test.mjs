// The protobuf subprotocols (`protobuf.webpubsub.azure.v1`, `protobuf.reliable.webpubsub.azure.v1`), spoken by
// clients built with protobufjs from the published message definitions (__test__/fixtures), by
// @azure/web-pubsub-client given a protocol object that speaks protobuf, and alongside JSON and raw clients.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { until } from "./helpers/until.mjs";

const require = createRequire(import.meta.url);
const { startEmulator } = require("../emulator.js");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");
const { WebPubSubClient } = require("@azure/web-pubsub-client");
const protobuf = require("protobufjs");
const WebSocket = require("ws");

const PROTOBUF = "protobuf.webpubsub.azure.v1";
const PROTOBUF_RELIABLE = "protobuf.reliable.webpubsub.azure.v1";
const HUB = "pb";
const ROLES = ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"];

const root = new protobuf.Root().loadSync(fileURLToPath(new URL("./fixtures/webpubsub-client.proto", import.meta.url)), {
  keepCase: true,
});
const Upstream = root.lookupType("azure.webpubsub.UpstreamMessage");
const Downstream = root.lookupType("azure.webpubsub.DownstreamMessage");
const Any = root.lookupType("google.protobuf.Any");
const Reading = root.lookupType("azure.webpubsub.Reading");

/** Events the app server received: { contentType, eventName, body }. */
const events = [];
let handlerServer;
let emulator;
let service;

before(async () => {
  handlerServer = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method === "OPTIONS") {
        res.writeHead(200, { "WebHook-Allowed-Origin": "*" }).end();
        return;
      }
      events.push({
        contentType: req.headers["content-type"],
        eventName: req.headers["ce-eventname"],
        body: Buffer.concat(chunks),
      });
      res.writeHead(200, { "Content-Type": "text/plain" }).end(`got ${Buffer.concat(chunks).length} bytes`);
    });
  });
  handlerServer.listen(0, "127.0.0.1");
  await once(handlerServer, "listening");
  const { port } = handlerServer.address();
  emulator = await startEmulator({
    port: 0,
    hubs: {
      [HUB]: { eventHandlers: [{ urlTemplate: `http://127.0.0.1:${port}/events`, userEventPattern: "*" }] },
    },
  });
  service = new WebPubSubServiceClient(emulator.connectionString, HUB, { allowInsecureConnection: true });
});

after(async () => {
  await emulator.close();
  handlerServer.close();
});

function decode(bytes) {
  return Downstream.toObject(Downstream.decode(bytes), { longs: Number, oneofs: true });
}

function encode(message) {
  return Upstream.encode(Upstream.fromObject(message)).finish();
}

function packReading(value) {
  return { type_url: "type.googleapis.com/azure.webpubsub.Reading", value: Reading.encode({ value }).finish() };
}

/** A protobuf client over `ws` that decodes everything it receives. */
async function protobufClient(tokenOptions, { protocol = PROTOBUF, url } = {}) {
  const accessUrl = url ?? (await service.getClientAccessToken(tokenOptions)).url;
  const socket = new WebSocket(accessUrl, protocol);
  const received = [];
  const textFrames = [];
  socket.on("message", (data, isBinary) => {
    if (isBinary) {
      received.push(decode(Buffer.from(data)));
    } else {
      textFrames.push(data.toString());
    }
  });
  await once(socket, "open");
  const client = {
    socket,
    received,
    textFrames,
    url: accessUrl,
    send: (message) => socket.send(encode(message)),
    /** The first received message (from `from` on) that matches, waiting for it. */
    async next(matches, from = 0) {
      await until(() => received.slice(from).some(matches));
      return received.slice(from).find(matches);
    },
  };
  return client;
}

const isAck = (ackId) => (m) => m.message === "ack_message" && m.ack_message.ack_id === ackId;
const isData = (m) => m.message === "data_message";

/** A raw or JSON-subprotocol `ws` client that buffers what it receives. */
async function wsClient(tokenOptions, protocol) {
  const { url } = await service.getClientAccessToken(tokenOptions);
  const socket = protocol ? new WebSocket(url, protocol) : new WebSocket(url);
  const received = [];
  socket.on("message", (data, isBinary) => received.push({ data: Buffer.from(data), isBinary }));
  await once(socket, "open");
  return { socket, received };
}

test("a protobuf client is connected, joins, leaves, pings and gets acks in its own protocol", async () => {
  const client = await protobufClient({ userId: "ann", roles: ROLES });
  try {
    assert.equal(client.socket.protocol, PROTOBUF);
    const connected = await client.next((m) => m.message === "system_message");
    const info = connected.system_message.connected_message;
    assert.match(info.connection_id, /^[0-9a-f]{32}$/);
    assert.equal(info.user_id, "ann");
    assert.equal(info.reconnection_token, undefined, "no reconnection token on the plain protocol");
    assert.equal(await service.connectionExists(info.connection_id), true);

    client.send({ join_group_message: { group: "room", ack_id: 1 } });
    assert.deepEqual((await client.next(isAck(1))).ack_message, { ack_id: 1, success: true });
    assert.equal(await service.groupExists("room"), true);

    client.send({ join_group_message: { group: "room", ack_id: 1 } });
    const duplicate = await client.next((m) => isAck(1)(m) && !m.ack_message.success);
    assert.equal(duplicate.ack_message.error.name, "Duplicate");
    assert.equal(duplicate.ack_message.error.message, "Message with ack-id: 1 has been processed");

    const before = client.received.length;
    client.send({ ping_message: {} });
    await client.next((m) => m.message === "pong_message", before);

    client.send({ leave_group_message: { group: "room", ack_id: 2 } });
    assert.equal((await client.next(isAck(2))).ack_message.success, true);
    assert.equal(await service.groupExists("room"), false);
  } finally {
    client.socket.close();
  }
});

test("a protobuf client without roles gets Forbidden acks and keeps its connection", async () => {
  const client = await protobufClient({ userId: "nobody" });
  try {
    client.send({ join_group_message: { group: "room", ack_id: 5 } });
    const refused = await client.next(isAck(5));
    // proto3 leaves `success: false` off the wire.
    assert.deepEqual(refused.ack_message, {
      ack_id: 5,
      error: { name: "Forbidden", message: "The client does not have permission to join group 'room'." },
    });
    client.send({ send_to_group_message: { group: "room", ack_id: 6, data: { text_data: "x" } } });
    assert.equal((await client.next(isAck(6))).ack_message.error.name, "Forbidden");
    const from = client.received.length;
    await service.sendToAll("still here", { contentType: "text/plain" });
    const message = await client.next(isData, from);
    assert.deepEqual(message.data_message, { from: "server", data: { text_data: "still here", data: "text_data" } });
  } finally {
    client.socket.close();
  }
});

test("data keeps its type from protobuf to protobuf, JSON and raw clients, and back", async () => {
  const publisher = await protobufClient({ userId: "pub", roles: ROLES });
  const subscriber = await protobufClient({ userId: "sub", groups: ["mix"] });
  const json = await wsClient({ userId: "json", groups: ["mix"], roles: ROLES }, "json.webpubsub.azure.v1");
  const raw = await wsClient({ userId: "raw", groups: ["mix"] });
  try {
    const packed = packReading(42);
    const sends = [
      { text_data: "hé" },
      { binary_data: Buffer.from([1, 2, 3]) },
      { protobuf_data: packed },
      { json_data: '{"a":[1,2]}' },
    ];
    for (const [i, data] of sends.entries()) {
      const metadata = i === 0 ? { Trace: "t1" } : {};
      publisher.send({ send_to_group_message: { group: "mix", ack_id: 10 + i, data, metadata } });
      assert.equal((await publisher.next(isAck(10 + i))).ack_message.success, true);
    }
    await until(() => subscriber.received.filter(isData).length === 4);
    await until(() => json.received.filter((f) => JSON.parse(f.data).type === "message").length === 4);
    await until(() => raw.received.length === 4);

    const protobufData = subscriber.received.filter(isData).map((m) => m.data_message);
    for (const message of protobufData) {
      assert.equal(message.from, "group");
      assert.equal(message.group, "mix");
      assert.equal(message.sequence_id, undefined);
    }
    assert.equal(protobufData[0].data.text_data, "hé");
    assert.deepEqual(protobufData[0].metadata, { trace: "t1" });
    assert.deepEqual([...protobufData[1].data.binary_data], [1, 2, 3]);
    const any = protobufData[2].data.protobuf_data;
    assert.equal(any.type_url, packed.type_url);
    assert.equal(Reading.decode(any.value).value, 42);
    assert.equal(protobufData[3].data.json_data, '{"a":[1,2]}');

    const anyBytes = Buffer.from(Any.encode(packed).finish());
    const jsonMessages = json.received.map((f) => JSON.parse(f.data)).filter((m) => m.type === "message");
    assert.deepEqual(jsonMessages, [
      { type: "message", from: "group", group: "mix", fromUserId: "pub", dataType: "text", data: "hé", metadata: { trace: "t1" } },
      { type: "message", from: "group", group: "mix", fromUserId: "pub", dataType: "binary", data: "AQID" },
      { type: "message", from: "group", group: "mix", fromUserId: "pub", dataType: "protobuf", data: anyBytes.toString("base64") },
      { type: "message", from: "group", group: "mix", fromUserId: "pub", dataType: "json", data: { a: [1, 2] } },
    ]);

    assert.deepEqual(
      raw.received.map((f) => [f.isBinary, f.isBinary ? f.data.toString("hex") : f.data.toString()]),
      [
        [false, "hé"],
        [true, "010203"],
        [true, anyBytes.toString("hex")],
        [false, '{"a":[1,2]}'],
      ],
    );

    // JSON and REST senders reach the protobuf client too.
    const from = subscriber.received.length;
    json.socket.send(JSON.stringify({ type: "sendToGroup", group: "mix", dataType: "json", data: { b: true } }));
    const base64Any = Buffer.from(Any.encode(packReading(5)).finish()).toString("base64");
    json.socket.send(JSON.stringify({ type: "sendToGroup", group: "mix", dataType: "protobuf", data: base64Any }));
    // The REST send goes after the two client messages arrived: they travel by different paths.
    await until(() => subscriber.received.slice(from).filter(isData).length === 2);
    await service.group("mix").sendToAll(Buffer.from([9]));
    await until(() => subscriber.received.slice(from).filter(isData).length === 3);
    const [fromJson, fromJsonProtobuf, fromRest] = subscriber.received
      .slice(from)
      .filter(isData)
      .map((m) => m.data_message);
    assert.deepEqual(fromJson.data, { json_data: '{"b":true}', data: "json_data" });
    assert.equal(Reading.decode(fromJsonProtobuf.data.protobuf_data.value).value, 5);
    assert.equal(fromRest.group, "mix");
    assert.deepEqual([...fromRest.data.binary_data], [9]);
  } finally {
    for (const socket of [publisher.socket, subscriber.socket, json.socket, raw.socket]) socket.close();
  }
});

test("a text frame or an undecodable frame closes a protobuf connection with 1003 or 1007", async () => {
  const textSender = await protobufClient({});
  textSender.socket.send("not protobuf");
  const [textCode] = await once(textSender.socket, "close");
  assert.equal(textCode, 1003);

  const garbageSender = await protobufClient({});
  garbageSender.socket.send(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  const [garbageCode, reason] = await once(garbageSender.socket, "close");
  assert.equal(garbageCode, 1007);
  assert.equal(reason.toString(), "The client message is not a valid protobuf protocol message.");
});

test("protobuf events reach the event handler as application/x-protobuf, and its answer comes back first", async () => {
  const client = await protobufClient({ userId: "eve" });
  try {
    const packed = packReading(7);
    events.length = 0;
    client.send({ event_message: { event: "reading", data: { protobuf_data: packed }, ack_id: 1 } });
    const ackIndex = () => client.received.findIndex(isAck(1));
    await until(() => ackIndex() >= 0);
    assert.equal(client.received[ackIndex()].ack_message.success, true);
    const reply = client.received.slice(0, ackIndex()).filter(isData).at(-1);
    assert.deepEqual(reply.data_message.data.text_data, `got ${Any.encode(packed).finish().length} bytes`);
    assert.equal(events.length, 1);
    assert.equal(events[0].contentType, "application/x-protobuf");
    assert.equal(events[0].eventName, "reading");
    const any = Any.decode(events[0].body);
    assert.equal(any.type_url, packed.type_url);
    assert.equal(Reading.decode(any.value).value, 7);

    client.send({ event_message: { event: "note", data: { text_data: "hi" }, ack_id: 2 } });
    await client.next(isAck(2));
    assert.equal(events[1].contentType, "text/plain");
    assert.equal(events[1].body.toString(), "hi");
  } finally {
    client.socket.close();
  }
});

test("a protobuf invocation gets the handler's answer in an invoke_response_message", async () => {
  const client = await protobufClient({ userId: "inv" });
  try {
    client.send({ invoke_event_message: { event: "reading", invocation_id: "i-1", data: { text_data: "abc" } } });
    const response = await client.next((m) => m.message === "invoke_response_message");
    assert.deepEqual(response.invoke_response_message, {
      invocation_id: "i-1",
      success: true,
      data: { text_data: "got 3 bytes", data: "text_data" },
    });
  } finally {
    client.socket.close();
  }
});

test("a protobuf writer streams to a protobuf subscriber: acks, fragments with stream info, the end with the writer's error", async () => {
  const writer = await protobufClient({ userId: "pw", roles: ROLES });
  const subscriber = await protobufClient({ userId: "ps", groups: ["pstream"] });
  try {
    writer.send({ send_to_group_message: { group: "pstream", stream: { stream_id: "p1" } } });
    const ack = await writer.next((m) => m.message === "stream_ack_message");
    assert.deepEqual(ack.stream_ack_message, { stream_id: "p1", expected_sequence_id: 1 });
    writer.send({ stream_data_message: { stream_id: "p1", stream_sequence_id: 1, data: { text_data: "frag" } } });
    await writer.next((m) => m.message === "stream_ack_message" && m.stream_ack_message.expected_sequence_id === 2);
    writer.send({ stream_end_message: { stream_id: "p1", error: { message: "stopped", user_error_code: "S1" } } });
    const closed = await writer.next((m) => m.message === "stream_closed_message");
    assert.deepEqual(closed.stream_closed_message, { stream_id: "p1" });
    await until(() => subscriber.received.filter(isData).length === 2);
    const [fragment, end] = subscriber.received.filter(isData).map((m) => m.data_message);
    assert.deepEqual([fragment.data.text_data, fragment.stream], ["frag", { stream_id: "p1", stream_sequence_id: 1 }]);
    assert.deepEqual(end.stream, {
      stream_id: "p1",
      stream_sequence_id: 2,
      end_of_stream: true,
      error: { name: "UserError", message: "stopped", user_error_code: "S1" },
    });
  } finally {
    writer.socket.close();
    subscriber.socket.close();
  }
});

test("the reliable protobuf protocol numbers messages and replays the unacknowledged ones after recovery", async () => {
  const client = await protobufClient({ userId: "rel" }, { protocol: PROTOBUF_RELIABLE });
  const connected = (await client.next((m) => m.message === "system_message")).system_message.connected_message;
  assert.ok(connected.reconnection_token, "a reconnection token on the reliable protocol");
  await service.sendToUser("rel", "one", { contentType: "text/plain" });
  await service.sendToUser("rel", "two", { contentType: "text/plain" });
  await until(() => client.received.filter(isData).length === 2);
  assert.deepEqual(
    client.received.filter(isData).map((m) => [m.data_message.sequence_id, m.data_message.data.text_data]),
    [[1, "one"], [2, "two"]],
  );
  client.send({ sequence_ack_message: { sequence_id: 1 } });
  client.socket.terminate();
  await service.sendToUser("rel", "three", { contentType: "text/plain" });

  const recoveryUrl =
    `${client.url}&awps_connection_id=${connected.connection_id}` +
    `&awps_reconnection_token=${encodeURIComponent(connected.reconnection_token)}`;
  const resumed = await protobufClient(undefined, { protocol: PROTOBUF_RELIABLE, url: recoveryUrl });
  try {
    await until(() => resumed.received.filter(isData).length === 2);
    assert.deepEqual(
      resumed.received.filter(isData).map((m) => [m.data_message.sequence_id, m.data_message.data.text_data]),
      [[2, "two"], [3, "three"]],
    );
    assert.equal(await service.connectionExists(connected.connection_id), true);
  } finally {
    resumed.socket.close();
  }
});

/** A @azure/web-pubsub-client protocol object that speaks the protobuf subprotocols. */
function protobufProtocol(reliable) {
  const dataOf = (dataType, data) => {
    switch (dataType) {
      case "text":
        return { text_data: data };
      case "json":
        return { json_data: JSON.stringify(data) };
      case "binary":
        return { binary_data: Buffer.from(data) };
      default:
        return { protobuf_data: Any.decode(Buffer.from(data)) };
    }
  };
  const fromData = (data) => {
    switch (data.data) {
      case "text_data":
        return { dataType: "text", data: data.text_data };
      case "json_data":
        return { dataType: "json", data: JSON.parse(data.json_data) };
      case "binary_data":
        return { dataType: "binary", data: new Uint8Array(data.binary_data).buffer };
      default:
        return { dataType: "protobuf", data: new Uint8Array(Any.encode(data.protobuf_data).finish()).buffer };
    }
  };
  return {
    name: reliable ? PROTOBUF_RELIABLE : PROTOBUF,
    isReliableSubProtocol: reliable,
    parseMessages(input) {
      const message = decode(Buffer.from(input));
      switch (message.message) {
        case "ack_message":
          return { kind: "ack", ackId: message.ack_message.ack_id, success: message.ack_message.success, error: message.ack_message.error };
        case "pong_message":
          return { kind: "pong" };
        case "system_message": {
          const system = message.system_message;
          if (system.message === "connected_message") {
            const { connection_id, user_id, reconnection_token } = system.connected_message;
            return { kind: "connected", connectionId: connection_id, userId: user_id, reconnectionToken: reconnection_token };
          }
          return { kind: "disconnected", message: system.disconnected_message.reason };
        }
        case "data_message": {
          const m = message.data_message;
          const common = { ...fromData(m.data), sequenceId: m.sequence_id };
          return m.from === "group"
            ? { kind: "groupData", group: m.group, fromUserId: undefined, ...common }
            : { kind: "serverData", ...common };
        }
        default:
          return null;
      }
    },
    writeMessage(message) {
      switch (message.kind) {
        case "joinGroup":
          return encode({ join_group_message: { group: message.group, ack_id: message.ackId } });
        case "leaveGroup":
          return encode({ leave_group_message: { group: message.group, ack_id: message.ackId } });
        case "sendToGroup":
          return encode({
            send_to_group_message: {
              group: message.group,
              ack_id: message.ackId,
              no_echo: message.noEcho,
              data: dataOf(message.dataType, message.data),
            },
          });
        case "sendEvent":
          return encode({ event_message: { event: message.event, ack_id: message.ackId, data: dataOf(message.dataType, message.data) } });
        case "sequenceAck":
          return encode({ sequence_ack_message: { sequence_id: message.sequenceId } });
        case "ping":
          return encode({ ping_message: {} });
        default:
          throw new Error(`unsupported message kind ${message.kind}`);
      }
    },
  };
}

test("@azure/web-pubsub-client works over the reliable protobuf protocol", async () => {
  const credential = {
    getClientAccessUrl: async () => (await service.getClientAccessToken({ userId: "sdk", roles: ROLES })).url,
  };
  const client = new WebPubSubClient(credential, {
    protocol: protobufProtocol(true),
    messageRetryOptions: { maxRetries: 0 },
    keepAliveIntervalInMs: 500,
    keepAliveTimeoutInMs: 1500,
  });
  const groupMessages = [];
  const serverMessages = [];
  client.on("group-message", (e) => groupMessages.push(e.message));
  client.on("server-message", (e) => serverMessages.push(e.message));
  const connected = new Promise((resolve) => client.on("connected", resolve));
  await client.start();
  try {
    const { connectionId, userId } = await connected;
    assert.equal(userId, "sdk");
    await client.joinGroup("sdk-room");
    await client.sendToGroup("sdk-room", "text over protobuf", "text");
    await client.sendToGroup("sdk-room", { n: 1 }, "json");
    await client.sendToGroup("sdk-room", new Uint8Array([5, 6]).buffer, "binary");
    await service.sendToConnection(connectionId, "direct", { contentType: "text/plain" });
    await until(() => groupMessages.length === 3 && serverMessages.length === 1);
    assert.deepEqual(
      groupMessages.map((m) => [m.group, m.dataType, m.sequenceId]),
      [["sdk-room", "text", 1], ["sdk-room", "json", 2], ["sdk-room", "binary", 3]],
    );
    assert.equal(groupMessages[0].data, "text over protobuf");
    assert.deepEqual(groupMessages[1].data, { n: 1 });
    assert.deepEqual([...new Uint8Array(groupMessages[2].data)], [5, 6]);
    assert.equal(serverMessages[0].data, "direct");
  } finally {
    client.stop();
  }
});
