// Shared set-up of the examples: a service client on the local emulator (or on WEB_PUBSUB_CONNECTION_STRING),
// and a raw WebSocket client that records what it receives.
import { WebPubSubServiceClient } from "web-pubsub-native";
import { startEmulator } from "web-pubsub-native/emulator";
import WebSocket from "ws";

export async function setUp(hub) {
  const external = process.env.WEB_PUBSUB_CONNECTION_STRING;
  const emulator = external ? null : await startEmulator({ port: 0 });
  const connectionString = external ?? emulator.connectionString;
  const service = new WebPubSubServiceClient(connectionString, hub, {
    allowInsecureConnection: /Endpoint=http:\/\//i.test(connectionString),
  });
  const sockets = [];

  /** Connects a raw WebSocket client; `messages` collects every frame it receives, as text. */
  async function connect(tokenOptions = {}) {
    const { url } = await service.getClientAccessToken(tokenOptions);
    const socket = new WebSocket(url);
    const messages = [];
    socket.on("message", (data, isBinary) => messages.push(isBinary ? `<${data.length} bytes>` : data.toString()));
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    sockets.push(socket);
    return { socket, messages };
  }

  async function tearDown() {
    for (const socket of sockets) socket.close();
    await emulator?.close();
  }

  return { service, connect, tearDown };
}

/** Waits until `condition()` holds, or fails after `ms`. */
export async function eventually(condition, what, ms = 5000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
