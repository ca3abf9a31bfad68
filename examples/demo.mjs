// The main demo: start the embedded emulator (or use WEB_PUBSUB_CONNECTION_STRING), connect two clients,
// and show messages sent by this package's WebPubSubServiceClient arriving where they should.
//
//   npm run demo
import { WebPubSubServiceClient } from "web-pubsub-native";
import { startEmulator } from "web-pubsub-native/emulator";
import { WebPubSubClient } from "@azure/web-pubsub-client";
import WebSocket from "ws";

const HUB = "demo";
const GROUP = "room";

const external = process.env.WEB_PUBSUB_CONNECTION_STRING;
const emulator = external ? null : await startEmulator({ port: 0 });
const connectionString = external ?? emulator.connectionString;
console.log(emulator ? `emulator listening at ${emulator.endpoint}` : "using WEB_PUBSUB_CONNECTION_STRING");

const service = new WebPubSubServiceClient(connectionString, HUB, {
  allowInsecureConnection: connectionString.includes("Endpoint=http://"),
});

// alice: the official client library with the JSON subprotocol, allowed to join groups herself.
const received = { alice: [], bob: [] };
const alice = new WebPubSubClient({
  getClientAccessUrl: async () =>
    (await service.getClientAccessToken({ userId: "alice", roles: ["webpubsub.joinLeaveGroup"] })).url,
});
alice.on("server-message", (e) => received.alice.push(`server: ${format(e.message.data)}`));
alice.on("group-message", (e) => received.alice.push(`group ${e.message.group}: ${format(e.message.data)}`));
await alice.start();
await alice.joinGroup(GROUP);

// bob: a plain WebSocket with no subprotocol; he gets the payloads as they are.
const bobUrl = (await service.getClientAccessToken({ userId: "bob" })).url;
const bob = new WebSocket(bobUrl);
bob.on("message", (data, isBinary) => received.bob.push(isBinary ? `binary ${data.length} bytes` : data.toString()));
await new Promise((resolve, reject) => {
  bob.once("open", resolve);
  bob.once("error", reject);
});

await service.group(GROUP).addUser("bob");
let bobConnection;
// In @azure/web-pubsub 1.2.0 listConnections() returns a promise of the iterator, hence the await.
for await (const member of await service.group(GROUP).listConnections()) {
  if (member.userId === "bob") bobConnection = member.connectionId;
}

const steps = [
  ["sendToAll JSON", () => service.sendToAll({ hello: "everyone" }), { alice: 1, bob: 1 }],
  ["group().sendToAll text", () => service.group(GROUP).sendToAll("hi room", { contentType: "text/plain" }), { alice: 1, bob: 1 }],
  ["sendToUser alice", () => service.sendToUser("alice", { secret: "for alice" }), { alice: 1, bob: 0 }],
  ["sendToConnection bob (binary)", () => service.sendToConnection(bobConnection, new Uint8Array([1, 2, 3])), { alice: 0, bob: 1 }],
];

let failed = false;
for (const [name, send, expected] of steps) {
  const before = { alice: received.alice.length, bob: received.bob.length };
  await send();
  await waitFor(() => Object.keys(expected).every((who) => received[who].length >= before[who] + expected[who]));
  await new Promise((r) => setTimeout(r, 100)); // let any wrongly routed copy arrive too
  console.log(`\n${name}`);
  for (const who of ["alice", "bob"]) {
    const got = received[who].slice(before[who]);
    const ok = got.length === expected[who];
    failed ||= !ok;
    console.log(`  ${ok ? "ok " : "BAD"} ${who}: ${got.length ? got.join(" | ") : "(nothing)"}`);
  }
}

alice.stop();
bob.close();
await emulator?.close();
console.log(failed ? "\nsome messages went astray" : "\nevery message reached exactly the right clients");
process.exit(failed ? 1 : 0);

function format(data) {
  if (data instanceof ArrayBuffer) return `binary ${data.byteLength} bytes`;
  return typeof data === "string" ? data : JSON.stringify(data);
}

async function waitFor(condition, ms = 5000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
