// Broadcasting: send JSON, text and binary messages to every client of a hub.
import { setUp, eventually } from "./setup.mjs";

const { service, connect, tearDown } = await setUp("broadcasting");
const first = await connect();
const second = await connect();

await service.sendToAll({ greeting: "Hello everyone" });
await service.sendToAll("Hi there!", { contentType: "text/plain" });
await service.sendToAll(new Uint8Array([1, 2, 3, 4]));

for (const client of [first, second]) {
  await eventually(() => client.messages.length === 3, "three broadcasts");
}
console.log("every client received:", first.messages.join(" | "));
await tearDown();
