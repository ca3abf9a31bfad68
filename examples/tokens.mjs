// Client access tokens: a URL a WebSocket client connects with, carrying user id, roles, groups and lifetime.
import { setUp, eventually } from "./setup.mjs";

const { service, connect, tearDown } = await setUp("tokens");
const token = await service.getClientAccessToken({
  userId: "carol",
  roles: ["webpubsub.joinLeaveGroup.lobby", "webpubsub.sendToGroup.lobby"],
  groups: ["lobby"],
  expirationTimeInMinutes: 5,
});
const claims = JSON.parse(Buffer.from(token.token.split(".")[1], "base64url").toString());
console.log("client URL:", token.baseUrl, "| claims:", Object.keys(claims).join(", "));

const carol = await connect({ userId: "carol", groups: ["lobby"] });
await service.group("lobby").sendToAll("welcome to the lobby", { contentType: "text/plain" });
await eventually(() => carol.messages.length === 1, "the lobby message");
console.log("carol, who joined the lobby through her token, got:", carol.messages[0]);
await tearDown();
