// The emulator's MQTT endpoint with Python's paho-mqtt 2.x (MQTT 3.1.1 and 5.0 over WebSocket): connect with an SDK
// token, subscribe (one topic refused by the token's roles), publish at QoS 1, receive a REST send. Runs when
// `python3` with paho-mqtt is available (.ci/run installs it), and says so when it is not.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { startEmulator } = require("../emulator.js");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");

const SCRIPT = fileURLToPath(new URL("./fixtures/paho-mqtt-client.py", import.meta.url));
const probe = spawnSync("python3", ["-c", "import paho.mqtt.client"], { encoding: "utf8" });
const missing = probe.status === 0 ? false : "python3 with paho-mqtt is not installed";
const HUB = "paho";
let emulator;
let service;

before(async () => {
  emulator = await startEmulator({ port: 0 });
  service = new WebPubSubServiceClient(emulator.connectionString, HUB, { allowInsecureConnection: true });
});

after(() => emulator.close());

/** Runs the paho client; sends a REST message to it once it is ready; resolves with its JSON lines. */
async function runPaho(version, clientId) {
  const roles = ["webpubsub.joinLeaveGroup.pahotopic", "webpubsub.sendToGroup.pahotopic"];
  const url = new URL((await service.getClientAccessToken({ clientProtocol: "mqtt", roles })).url);
  const child = spawn("python3", [SCRIPT, url.hostname, url.port, `${url.pathname}${url.search}`, version, clientId]);
  const lines = [];
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  for await (const line of createInterface({ input: child.stdout })) {
    const event = JSON.parse(line);
    lines.push(event);
    if (event.event === "ready") await service.sendToConnection(clientId, "from the server", { contentType: "text/plain" });
  }
  const code = await new Promise((resolve) => (child.exitCode === null ? child.on("close", resolve) : resolve(child.exitCode)));
  assert.equal(code, 0, stderr);
  return lines;
}

for (const [version, refused] of [
  ["5", 0x87],
  ["311", 0x80],
]) {
  test(`paho-mqtt, MQTT ${version === "5" ? "5.0" : "3.1.1"}: connect, subscribe, publish, receive`, { skip: missing }, async () => {
    const lines = await runPaho(version, `paho${version}`);
    const messages = lines.filter((l) => l.event === "message").map(({ topic, payload, qos }) => [topic, payload, qos]);
    assert.deepEqual(lines[0], { event: "connected", rc: 0 });
    assert.deepEqual(lines[1], { event: "subscribed", codes: [1, refused] });
    assert.deepEqual(
      messages.sort(),
      [
        ["$webpubsub/server/messages", "from the server", 1],
        ["pahotopic", "from paho", 1],
      ].sort(),
    );
    assert.equal(lines.at(-1).event, "done");
  });
}
