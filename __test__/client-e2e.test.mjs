// End to end: this package's client against this package's emulator, with real WebSocket clients
// (raw frames and the json.webpubsub.azure.v1 subprotocol) checking what each send delivers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createRequire } from "node:module";
import { until } from "./helpers/until.mjs";

const require = createRequire(import.meta.url);
const { startEmulator } = require("../emulator.js");
const { WebPubSubServiceClient, RestError } = require("../index.js");
const WebSocket = require("ws");

const HUB = "e2e";
const JSON_PROTOCOL = "json.webpubsub.azure.v1";
let emulator;
let service;

before(async () => {
  emulator = await startEmulator({ port: 0 });
  service = new WebPubSubServiceClient(emulator.connectionString, HUB, { allowInsecureConnection: true });
});

after(async () => {
  await emulator.close();
});

/**
 * A connected WebSocket client with a token from our client. JSON-protocol clients record parsed
 * frames (the `connected` system event gives the connection id); raw clients record `[isBinary, data]`.
 */
async function connect(tokenOptions = {}, protocol) {
  const { url } = await service.getClientAccessToken(tokenOptions);
  const socket = protocol ? new WebSocket(url, protocol) : new WebSocket(url);
  const frames = [];
  socket.on("message", (data, isBinary) => {
    if (protocol) frames.push(JSON.parse(data.toString()));
    else frames.push([isBinary, isBinary ? [...data] : data.toString()]);
  });
  await once(socket, "open");
  let connectionId;
  if (protocol) {
    await until(() => frames.some((f) => f.event === "connected"), "connected event");
    connectionId = frames.find((f) => f.event === "connected").connectionId;
    frames.length = 0;
  }
  return { socket, frames, connectionId, close: () => socket.close() };
}

const messages = (frames) => frames.filter((f) => f.type === "message");

test("raw clients receive JSON, text and binary sends exactly", async () => {
  const raw = await connect({ userId: "raw-user" });
  try {
    await service.sendToAll({ a: 1, s: "é" });
    await service.sendToAll("plain", { contentType: "text/plain" });
    await service.sendToAll(new Uint8Array([0, 1, 255]));
    await service.sendToAll(new Uint8Array([7, 8]).buffer);
    await until(() => raw.frames.length === 4, "four raw frames");
    assert.deepEqual(raw.frames, [
      [false, '{"a":1,"s":"é"}'],
      [false, "plain"],
      [true, [0, 1, 255]],
      [true, [7, 8]],
    ]);
  } finally {
    raw.close();
  }
});

test("json subprotocol clients receive each kind from all, group, user and connection", async () => {
  const alice = await connect({ userId: "alice", groups: ["room"] }, JSON_PROTOCOL);
  const bob = await connect({ userId: "bob" }, JSON_PROTOCOL);
  try {
    await service.sendToAll({ to: "all" });
    await service.group("room").sendToAll("to room", { contentType: "text/plain" });
    await service.sendToUser("bob", new Uint8Array([1, 2, 3]));
    await service.sendToConnection(alice.connectionId, 42);
    await until(() => messages(alice.frames).length === 3 && messages(bob.frames).length === 2, "deliveries");
    assert.deepEqual(messages(alice.frames), [
      { type: "message", from: "server", dataType: "json", data: { to: "all" } },
      // A REST send to a group reaches members as group data without a sending user.
      { type: "message", from: "group", group: "room", fromUserId: null, dataType: "text", data: "to room" },
      { type: "message", from: "server", dataType: "json", data: 42 },
    ]);
    assert.deepEqual(messages(bob.frames), [
      { type: "message", from: "server", dataType: "json", data: { to: "all" } },
      { type: "message", from: "server", dataType: "binary", data: Buffer.from([1, 2, 3]).toString("base64") },
    ]);
  } finally {
    alice.close();
    bob.close();
  }
});

test("excluded connections and filters select who receives", async () => {
  const a = await connect({ userId: "fa", groups: ["g1"] }, JSON_PROTOCOL);
  const b = await connect({ userId: "fb", groups: ["g1"] }, JSON_PROTOCOL);
  try {
    await service.sendToAll("not to a", { contentType: "text/plain", excludedConnections: [a.connectionId] });
    await service.group("g1").sendToAll("only fa", { contentType: "text/plain", filter: "userId eq 'fa'" });
    await service.sendToAll("end", { contentType: "text/plain" });
    await until(() => messages(a.frames).length === 2 && messages(b.frames).length === 2, "deliveries");
    assert.deepEqual(messages(a.frames).map((m) => m.data), ["only fa", "end"]);
    assert.deepEqual(messages(b.frames).map((m) => m.data), ["not to a", "end"]);
  } finally {
    a.close();
    b.close();
  }
});

test("exists, group membership, listing, permissions and close round trips", async () => {
  const c = await connect({ userId: "carol" }, JSON_PROTOCOL);
  try {
    const id = c.connectionId;
    assert.equal(await service.connectionExists(id), true);
    assert.equal(await service.connectionExists("no-such-connection"), false);
    assert.equal(await service.userExists("carol"), true);
    assert.equal(await service.userExists("nobody"), false);
    assert.equal(await service.groupExists("club"), false);

    await service.group("club").addConnection(id);
    assert.equal(await service.groupExists("club"), true);
    const members = [];
    for await (const member of await service.group("club").listConnections()) members.push(member);
    assert.deepEqual(members.map((m) => [m.connectionId, m.userId]), [[id, "carol"]]);
    await service.group("club").removeConnection(id);
    assert.equal(await service.groupExists("club"), false);

    await service.group("club2").addUser("carol");
    assert.equal(await service.groupExists("club2"), true);
    await service.removeUserFromAllGroups("carol");
    assert.equal(await service.groupExists("club2"), false);

    assert.equal(await service.hasPermission(id, "sendToGroup", { targetName: "club" }), false);
    await service.grantPermission(id, "sendToGroup", { targetName: "club" });
    assert.equal(await service.hasPermission(id, "sendToGroup", { targetName: "club" }), true);
    await service.revokePermission(id, "sendToGroup", { targetName: "club" });
    assert.equal(await service.hasPermission(id, "sendToGroup", { targetName: "club" }), false);

    const closed = once(c.socket, "close");
    await service.closeConnection(id, { reason: "bye" });
    await closed;
    assert.equal(await service.connectionExists(id), false);
  } finally {
    c.close();
  }
});

test("an invalid filter is a RestError 400 carrying the service's error code", async () => {
  await assert.rejects(service.sendToAll("x", { filter: "invalid filter" }), (error) => {
    assert.ok(error instanceof RestError);
    assert.equal(error.name, "RestError");
    assert.equal(error.statusCode, 400);
    assert.equal(error.response.headers.get("x-ms-error-code"), "Error.BadRequest");
    // A problem+json body is not parsed (as in the official client): the message is the body.
    const body = JSON.parse(error.message);
    assert.equal(body.code, "Error.BadRequest");
    assert.equal(body.target, "filter");
    return true;
  });
});

test("a missing connection is a RestError 404 with the service's code", async () => {
  await assert.rejects(service.grantPermission("nope", "joinLeaveGroup", { targetName: "g" }), (error) => {
    assert.equal(error.name, "RestError");
    assert.equal(error.statusCode, 404);
    assert.equal(error.code, "Info.Connection.NotExisted");
    return true;
  });
});
