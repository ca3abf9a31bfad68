// The emulator's REST API driven by the OFFICIAL @azure/web-pubsub 1.2.0 (no WebSocket clients):
// every operation that does not need a live connection, plus lifecycle (two emulators, close frees the port).
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { createRequire } from "node:module";
import { startEmulator } from "../emulator.mjs";

const require = createRequire(import.meta.url);
const { WebPubSubServiceClient, odata } = require("@azure/web-pubsub");

function serviceClient(emulator, hub = "Chat") {
  return new WebPubSubServiceClient(emulator.connectionString, hub, { allowInsecureConnection: true });
}

async function rejectsWith(promise, statusCode, code) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.name, "RestError");
    assert.equal(error.statusCode, statusCode);
    if (code) assert.equal(error.code, code);
    return true;
  });
}

function canListen(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

test("startEmulator resolves a connection string for 127.0.0.1 on a free port", async () => {
  const emulator = await startEmulator({ port: 0 });
  try {
    assert.equal(emulator.host, "127.0.0.1");
    assert.ok(emulator.port > 0);
    assert.equal(emulator.endpoint, `http://127.0.0.1:${emulator.port}`);
    assert.match(emulator.connectionString, new RegExp(`^Endpoint=http://127\\.0\\.0\\.1:${emulator.port};AccessKey=[^;]{32,};Version=1\\.0;$`));
  } finally {
    await emulator.close();
  }
});

test("every REST operation without live connections answers like the service", async () => {
  const emulator = await startEmulator({ port: 0 });
  const client = serviceClient(emulator);
  const group = client.group("group 1/ä");
  try {
    // Sends reach nobody and are accepted.
    await client.sendToAll({ x: 1 });
    await client.sendToAll("text", { contentType: "text/plain" });
    await client.sendToAll(new Uint8Array([1, 2, 3]));
    await client.sendToAll("hi", { contentType: "text/plain", excludedConnections: ["a", "b"], filter: odata`userId ne ${"o'k"}`, messageTtlSeconds: 60 });
    await client.sendToUser("user/1 x", { x: 1 }, { filter: "userId eq 'user/1 x'" });
    await client.sendToConnection("nope", "hi", { contentType: "text/plain", messageTtlSeconds: 0 });
    await group.sendToAll({ x: 1 }, { excludedConnections: ["a"] });

    // Exists checks are false.
    assert.equal(await client.connectionExists("nope"), false);
    assert.equal(await client.userExists("user/1 x"), false);
    assert.equal(await client.groupExists("group 1/ä"), false);
    assert.equal(await client.hasPermission("nope", "joinLeaveGroup", { targetName: "g" }), false);

    // Closes and removals of unknown targets succeed.
    await client.closeConnection("nope", { reason: "bye" });
    await client.closeAllConnections({ reason: "bye", excludedConnections: ["a"] });
    await client.closeUserConnections("user/1 x");
    await group.closeAllConnections({ reason: "bye" });
    await client.removeConnectionFromAllGroups("nope");
    await client.removeUserFromAllGroups("user/1 x");
    await group.removeConnection("nope");
    await group.removeUser("user/1 x");
    await client.revokePermission("nope", "sendToGroup", { targetName: "g" });
    await client.addConnectionsToGroups(["g1", "g2"], "userId eq 'nobody'");
    await client.removeConnectionsFromGroups(["g1", "g2"], "userId eq 'nobody'");

    // The recorded errors.
    await rejectsWith(client.grantPermission("nope", "joinLeaveGroup", { targetName: "g" }), 404, "Info.Connection.NotExisted");
    await rejectsWith(group.addConnection("nope"), 404);
    await rejectsWith(group.addUser("user/1 x"), 404, "Warning.User.NotExisted");
    await rejectsWith(client.revokePermission("nope", "joinLeaveGroup"), 400, "Error.BadRequest");
    // Filter errors are validation problems (application/problem+json, as the service answers), which
    // the SDK does not parse: `code` stays unset and `message` is the raw body.
    const filterMessage =
      "Invalid syntax for 'invalid filter': Syntax error at position 14 in 'invalid filter'. (Parameter 'filter')";
    for (const [call, target] of [
      [() => client.sendToAll("x", { contentType: "text/plain", filter: "invalid filter" }), "filter"],
      [() => client.addConnectionsToGroups(["g1"], "invalid filter"), "Filter"],
    ]) {
      await assert.rejects(call(), (error) => {
        assert.equal(error.name, "RestError");
        assert.equal(error.statusCode, 400);
        assert.equal(error.response.headers.get("x-ms-error-code"), "Error.BadRequest");
        const body = JSON.parse(error.message);
        assert.deepEqual([body.code, body.target, body.message], ["Error.BadRequest", target, filterMessage]);
        return true;
      });
    }

    // Listing an empty group.
    const iterator = await group.listConnections({ maxPageSize: 2 });
    const members = [];
    for await (const member of iterator) members.push(member);
    assert.deepEqual(members, []);
  } finally {
    await emulator.close();
  }
});

test("client access tokens and health", async () => {
  const emulator = await startEmulator({ port: 0 });
  try {
    const client = serviceClient(emulator, "Chat");
    const { url, token } = await client.getClientAccessToken({ userId: "u1", roles: ["webpubsub.joinLeaveGroup"], groups: ["g1"] });
    assert.equal(url, `ws://127.0.0.1:${emulator.port}/client/hubs/Chat?access_token=${token}`);
    const health = await fetch(`${emulator.endpoint}/api/health?api-version=2024-12-01`, { method: "HEAD" });
    assert.equal(health.status, 200);
    const unsigned = await fetch(`${emulator.endpoint}/api/hubs/chat/:send?api-version=2024-12-01`, { method: "POST", body: "x" });
    assert.equal(unsigned.status, 401);
  } finally {
    await emulator.close();
  }
});

test("two emulators run side by side and close() frees the port", async () => {
  const first = await startEmulator({ port: 0, accessKey: "first-key-0123456789-0123456789-0123" });
  const second = await startEmulator({ port: 0 });
  assert.notEqual(first.port, second.port);
  await serviceClient(first).sendToAll({ x: 1 });
  await serviceClient(second).sendToAll({ x: 1 });
  // A client of the first emulator is refused by the second (different key).
  const wrongKey = new WebPubSubServiceClient(
    first.connectionString.replace(`:${first.port}`, `:${second.port}`),
    "Chat",
    { allowInsecureConnection: true },
  );
  await rejectsWith(wrongKey.sendToAll({ x: 1 }), 401);

  const port = first.port;
  await first.close();
  await first.close();
  assert.equal(await canListen(port), true);
  await second.close();
});

test("startEmulator rejects an invalid access key or a taken port", async () => {
  await assert.rejects(startEmulator({ port: 0, accessKey: "short" }), /access key/);
  const emulator = await startEmulator({ port: 0 });
  try {
    await assert.rejects(startEmulator({ port: emulator.port }), /cannot start the emulator/);
  } finally {
    await emulator.close();
  }
});
