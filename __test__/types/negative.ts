// Calls that must NOT type-check, against the official typings and against ours alike.
// Each `@ts-expect-error` fails the build if its line compiles, so `any`-typed declarations are caught.
import {
  AzureKeyCredential,
  WebPubSubServiceClient,
  odata,
  type ClientTokenResponse,
  type WebPubSubGroupMember,
} from "@azure/web-pubsub";

const connectionString = "Endpoint=https://example.webpubsub.azure.com;AccessKey=key;Version=1.0;";

async function wrongCalls(client: WebPubSubServiceClient, member: WebPubSubGroupMember): Promise<void> {
  // @ts-expect-error the hub name is required
  new WebPubSubServiceClient(connectionString);
  // @ts-expect-error a bare { key } is neither an AzureKeyCredential nor a TokenCredential
  new WebPubSubServiceClient("https://example.webpubsub.azure.com", { key: "k" }, "hub");
  // @ts-expect-error getToken must resolve to an AccessToken or null
  new WebPubSubServiceClient("https://example.webpubsub.azure.com", { getToken: async () => "token" }, "hub");
  // @ts-expect-error retry counts are numbers
  new WebPubSubServiceClient(connectionString, "hub", { retryOptions: { maxRetries: "3" } });
  // @ts-expect-error the key is required
  new AzureKeyCredential();

  const key = new AzureKeyCredential("k");
  // @ts-expect-error the key is read-only; use update()
  key.key = "other";
  // @ts-expect-error the hub name is read-only
  client.hubName = "other";

  // @ts-expect-error only text/plain selects the text overload
  await client.sendToAll("hi", { contentType: "text/html" });
  // @ts-expect-error undefined is not a message
  await client.sendToAll(undefined);
  // @ts-expect-error the TTL is a number of seconds
  await client.sendToAll({ a: 1 }, { messageTtlSeconds: "10" });
  // @ts-expect-error excluded connections are a list
  await client.sendToAll({ a: 1 }, { excludedConnections: "c1" });
  // @ts-expect-error sending to a user cannot exclude connections
  await client.sendToUser("user", "hi", { excludedConnections: ["c1"] });
  // @ts-expect-error sending to a connection takes no filter
  await client.sendToConnection("conn", { a: 1 }, { filter: "userId eq 'a'" });
  // @ts-expect-error closing takes a reason string
  await client.closeConnection("conn", { reason: 5 });
  // @ts-expect-error groups are a list
  await client.addConnectionsToGroups("g1", "userId eq 'a'");
  // @ts-expect-error the filter is required
  await client.removeConnectionsFromGroups(["g1"]);
  // @ts-expect-error unknown permission
  await client.grantPermission("conn", "admin");
  // @ts-expect-error connectionExists resolves to a boolean
  const notString: string = await client.connectionExists("conn");
  // @ts-expect-error unknown client protocol
  await client.getClientAccessToken({ clientProtocol: "grpc" });
  // @ts-expect-error roles are a list
  await client.getClientAccessToken({ roles: "webpubsub.sendToGroup" });
  // @ts-expect-error the abort signal needs `aborted` and listeners
  await client.closeAllConnections({ abortSignal: {} });
  // @ts-expect-error the request timeout is in milliseconds
  await client.userExists("user", { requestOptions: { timeout: "1s" } });
  await client.groupExists("g", {
    onResponse: (raw) => {
      // @ts-expect-error the status is a number
      const status: string = raw.status;
      void status;
    },
  });

  const group = client.group("g");
  // @ts-expect-error the group name is read-only
  group.groupName = "other";
  // @ts-expect-error groups have no sendToUser
  await group.sendToUser("user", "hi");
  // @ts-expect-error text options take no close reason
  await group.sendToAll("hi", { contentType: "text/plain", reason: "x" });
  // @ts-expect-error listConnections resolves to the iterator; it must be awaited first
  for await (const m of group.listConnections()) void m;
  const members = await group.listConnections({ maxPageSize: 2 });
  // @ts-expect-error byPage settings are continuationToken and maxPageSize
  members.byPage({ pageSize: 5 });
  // @ts-expect-error top is a number
  await group.listConnections({ top: "10" });

  // @ts-expect-error connection ids are strings
  const id: number = member.connectionId;
  // @ts-expect-error a token response has a baseUrl
  const token: ClientTokenResponse = { token: "t", url: "u" };
  // @ts-expect-error odata is a template tag
  odata("userId eq 'a'");
  void [notString, id, token];
}

export { wrongCalls };
