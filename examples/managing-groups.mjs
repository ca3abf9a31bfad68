// Managing groups: add users and connections to groups, send to a group, filter, and remove them again.
import { odata } from "web-pubsub-native";
import { setUp, eventually } from "./setup.mjs";

const { service, connect, tearDown } = await setUp("groups");
const admin = await connect({ userId: "admin" });
const guest = await connect({ userId: "guest" });
const room = service.group("admins");

await room.addUser("admin");
console.log("group exists:", await service.groupExists("admins"));
await room.sendToAll("admins only", { contentType: "text/plain" });
await eventually(() => admin.messages.length === 1, "the group message");

await service.addConnectionsToGroups(["everyone"], odata`userId ne ${"nobody"}`);
await service.group("everyone").sendToAll("to all in 'everyone'", { contentType: "text/plain" });
await eventually(() => admin.messages.length === 2 && guest.messages.length === 1, "the second group message");

await room.removeUser("admin");
console.log("group exists after removing its only user:", await service.groupExists("admins"));
if (guest.messages.includes("admins only")) throw new Error("the guest saw the admins' message");
await tearDown();
