// Direct messages: send to one user (all of their connections) and to one connection.
import { setUp, eventually } from "./setup.mjs";

const { service, connect, tearDown } = await setUp("direct");
const aliceOnLaptop = await connect({ userId: "alice" });
const aliceOnPhone = await connect({ userId: "alice" });
const bob = await connect({ userId: "bob" });

await service.sendToUser("alice", "Hi Alice", { contentType: "text/plain" });
await eventually(() => aliceOnLaptop.messages.length === 1 && aliceOnPhone.messages.length === 1, "alice's messages");

const bobsConnection = await findConnection(service, "bob");
await service.sendToConnection(bobsConnection, { note: "just for this connection" });
await eventually(() => bob.messages.length === 1, "bob's message");

if (aliceOnLaptop.messages.length !== 1 || bob.messages[0] !== '{"note":"just for this connection"}') {
  throw new Error("a direct message went astray");
}
console.log("alice got:", aliceOnLaptop.messages[0], "| bob got:", bob.messages[0]);
await tearDown();

// A connection id is what the service told the app (e.g. in a `connected` event); here we look it up through a group.
async function findConnection(client, userId) {
  const group = client.group(`lookup-${userId}`);
  await group.addUser(userId);
  for await (const member of await group.listConnections()) {
    if (member.userId === userId) {
      await group.removeUser(userId);
      return member.connectionId;
    }
  }
  throw new Error(`no connection for ${userId}`);
}
