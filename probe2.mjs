import net from "node:net";
import util from "node:util";
const { WebPubSubServiceClient } = await import(process.argv[2] || "@azure/web-pubsub");
const server = net.createServer((s) => { s.once("data", () => s.end(process.argv[3] || "GARBAGE\r\n\r\n")); s.on("error", () => {}); });
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const c = new WebPubSubServiceClient(`Endpoint=http://127.0.0.1:${server.address().port};AccessKey=${"a".repeat(43)}=;Version=1.0;`, "hub", { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } });
try { await c.sendToAll("hi", { contentType: "text/plain" }); } catch (e) {
  console.log(e.code, e.message, Object.keys(e), Object.getOwnPropertyDescriptor(e, "request"));
  console.log(util.inspect(e.request, { depth: 1 }));
  console.log(e.request?.headers?.toJSON());
}
server.close();
