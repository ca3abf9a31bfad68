// Uses every export, method, overload and option of the @azure/web-pubsub 1.2.0 API.
// Compiled twice: "@azure/web-pubsub" maps to the official package (tsconfig.official.json)
// and to this package's index.d.ts (tsconfig.native.json). Never run, only type-checked.
import { createReadStream } from "node:fs";
import {
  AzureKeyCredential,
  WebPubSubServiceClient,
  odata,
  type ClientTokenResponse,
  type GenerateClientTokenOptions,
  type GroupAddConnectionOptions,
  type GroupAddUserOptions,
  type GroupAdminClientOptions,
  type GroupCloseAllConnectionsOptions,
  type GroupHasUserOptions,
  type GroupListConnectionsOptions,
  type GroupRemoveConnectionOptions,
  type GroupRemoveUserOptions,
  type GroupSendTextToAllOptions,
  type GroupSendToAllOptions,
  type HasConnectionOptions,
  type HubCloseAllConnectionsOptions,
  type HubCloseConnectionOptions,
  type HubCloseUserConnectionsOptions,
  type HubGrantPermissionOptions,
  type HubHasGroupOptions,
  type HubHasPermissionOptions,
  type HubHasUserOptions,
  type HubRemoveUserFromAllGroupsOptions,
  type HubRevokePermissionOptions,
  type HubSendTextToAllOptions,
  type HubSendTextToConnectionOptions,
  type HubSendTextToUserOptions,
  type HubSendToAllOptions,
  type HubSendToConnectionOptions,
  type HubSendToUserOptions,
  type JSONTypes,
  type Permission,
  type WebPubSubClientProtocol,
  type WebPubSubGroup,
  type WebPubSubGroupMember,
  type WebPubSubServiceClientLogOptions,
  type WebPubSubServiceClientOptions,
} from "@azure/web-pubsub";

const connectionString = "Endpoint=https://example.webpubsub.azure.com;AccessKey=key;Version=1.0;";

/** Every operation option at once, with `onResponse` typed from context only. */
function operationOptions() {
  const controller = new AbortController();
  return {
    abortSignal: controller.signal,
    requestOptions: {
      customHeaders: { "x-trace": "1" },
      timeout: 5_000,
      onUploadProgress: (p: { loadedBytes: number }) => void p.loadedBytes,
      onDownloadProgress: (p: { loadedBytes: number }) => void p.loadedBytes,
      shouldDeserialize: true,
      allowInsecureConnection: false,
    },
    tracingOptions: {},
    serializerOptions: { xml: { rootName: "r", includeRoot: false, xmlCharKey: "_" }, ignoreUnknownProperties: true },
    onResponse: (raw, flat, error) => {
      const status: number = raw.status;
      const header: string | undefined = raw.headers.get("x-ms-error-code");
      const has: boolean = raw.headers.has("content-type");
      const all: Record<string, string> = raw.headers.toJSON({ preserveCase: true });
      for (const [name, value] of raw.headers) void `${name}=${value}`;
      const text: string | null | undefined = raw.bodyAsText;
      const url: string = raw.request.url;
      const method: string = raw.request.method;
      const requestId: string = raw.request.requestId;
      const parsed: unknown = raw.parsedBody;
      const headers: { [key: string]: unknown } | undefined = raw.parsedHeaders;
      void [status, header, has, all, text, url, method, requestId, parsed, headers, flat, error];
    },
  } satisfies HubSendToAllOptions;
}

const logOptions: WebPubSubServiceClientLogOptions = {
  additionalAllowedHeaderNames: ["x-ms-request-id"],
  additionalAllowedQueryParameters: ["api-version"],
};

const clientOptions: WebPubSubServiceClientOptions = {
  reverseProxyEndpoint: "https://apim.example.com",
  loggingOptions: logOptions,
  allowInsecureConnection: true,
  retryOptions: { maxRetries: 2, retryDelayInMs: 100, maxRetryDelayInMs: 1_000 },
  proxyOptions: { host: "http://proxy", port: 8080, username: "u", password: "p" },
  userAgentOptions: { userAgentPrefix: "my-app/1.0" },
  redirectOptions: { maxRetries: 3, allowCrossOriginRedirects: false },
  telemetryOptions: { clientRequestIdHeaderName: "x-ms-client-request-id" },
  tlsOptions: { ca: Buffer.from("ca"), cert: "cert", key: [{ pem: "pem", passphrase: "x" }], passphrase: "x" },
  additionalPolicies: [
    {
      position: "perCall",
      policy: {
        name: "stamp",
        sendRequest: (request, next) => {
          request.headers.set("x-stamp", 1);
          return next(request);
        },
      },
    },
  ],
  httpClient: {
    sendRequest: async (request) => ({ request, status: 200, headers: request.headers, bodyAsText: "" }),
  },
};
const groupAdminOptions: GroupAdminClientOptions = { allowInsecureConnection: true };

async function constructors(): Promise<WebPubSubServiceClient[]> {
  const key = new AzureKeyCredential("key");
  const current: string = key.key;
  key.update("rotated");
  void current;

  const tokenCredential = {
    async getToken(scopes: string | string[]) {
      void scopes;
      return { token: "t", expiresOnTimestamp: Date.now() + 60_000 };
    },
  };
  const nullCredential = { getToken: async () => null };

  return [
    new WebPubSubServiceClient(connectionString, "hub"),
    new WebPubSubServiceClient(connectionString, "hub", clientOptions),
    new WebPubSubServiceClient(connectionString, "hub", groupAdminOptions),
    new WebPubSubServiceClient("https://example.webpubsub.azure.com", key, "hub"),
    new WebPubSubServiceClient("https://example.webpubsub.azure.com", key, "hub", clientOptions),
    new WebPubSubServiceClient("https://example.webpubsub.azure.com", tokenCredential, "hub", {}),
    new WebPubSubServiceClient("https://example.webpubsub.azure.com", nullCredential, "hub"),
  ];
}

async function hub(client: WebPubSubServiceClient): Promise<void> {
  const hubName: string = client.hubName;
  const apiVersion: string = client.apiVersion;
  const endpoint: string = client.endpoint;
  void [hubName, apiVersion, endpoint];

  const base = operationOptions();
  const bytes = new Uint8Array([1, 2, 3]);
  const json: JSONTypes = { hello: "world" };

  // sendToAll: text, JSON and binary overloads.
  const textToAll: HubSendTextToAllOptions = { contentType: "text/plain", filter: "userId ne 'a'" };
  await client.sendToAll("hi", textToAll);
  await client.sendToAll("hi", { contentType: "text/plain", excludedConnections: ["c1"], messageTtlSeconds: 10 });
  await client.sendToAll(json);
  await client.sendToAll("a JSON string");
  await client.sendToAll(42, { ...base, excludedConnections: ["c1"] });
  await client.sendToAll(true);
  await client.sendToAll([1, "two"], { filter: odata`userId eq ${"o'brien"}` });
  const toAll: HubSendToAllOptions = { excludedConnections: ["c"], filter: "x", messageTtlSeconds: 0 };
  await client.sendToAll(bytes, toAll);
  await client.sendToAll(bytes.buffer);
  await client.sendToAll(new DataView(bytes.buffer));
  await client.sendToAll(Buffer.from("raw"));
  await client.sendToAll(new Blob(["raw"]));
  await client.sendToAll(() => createReadStream("file"));
  await client.sendToAll(null);

  // sendToUser: text, JSON and binary overloads.
  const textToUser: HubSendTextToUserOptions = {
    contentType: "text/plain",
    filter: "'g' in groups",
    messageTtlSeconds: 5,
  };
  await client.sendToUser("user", "hi", textToUser);
  await client.sendToUser("user", json, { filter: "x", messageTtlSeconds: 1, ...base });
  const toUser: HubSendToUserOptions = {};
  await client.sendToUser("user", bytes, toUser);
  await client.sendToUser("user", bytes, textToUser);
  await client.sendToUser("user", null);

  // sendToConnection: text, JSON and binary overloads.
  const textToConnection: HubSendTextToConnectionOptions = { contentType: "text/plain", messageTtlSeconds: 3 };
  await client.sendToConnection("conn", "hi", textToConnection);
  await client.sendToConnection("conn", { a: 1 }, { messageTtlSeconds: 3, ...base });
  const toConnection: HubSendToConnectionOptions = {};
  await client.sendToConnection("conn", bytes, toConnection);
  await client.sendToConnection("conn", bytes.buffer, textToConnection);
  await client.sendToConnection("conn", null);

  const hasConnection: HasConnectionOptions = base;
  const exists: boolean = await client.connectionExists("conn", hasConnection);
  await client.connectionExists("conn");

  const closeOne: HubCloseConnectionOptions = { reason: "bye", ...base };
  await client.closeConnection("conn", closeOne);
  await client.closeConnection("conn");
  const closeAll: HubCloseAllConnectionsOptions = { reason: "maintenance" };
  await client.closeAllConnections(closeAll);
  await client.closeAllConnections();
  const closeUser: HubCloseUserConnectionsOptions = { reason: "kicked" };
  await client.closeUserConnections("user", closeUser);
  await client.closeUserConnections("user");

  const removeUser: HubRemoveUserFromAllGroupsOptions = { reason: "unused but allowed" };
  await client.removeUserFromAllGroups("user", removeUser);
  await client.removeUserFromAllGroups("user");
  await client.removeConnectionFromAllGroups("conn", closeOne);
  await client.removeConnectionFromAllGroups("conn");

  const addTo: GroupAddConnectionOptions = base;
  await client.addConnectionsToGroups(["g1", "g2"], odata`userId eq ${"u"}`, addTo);
  await client.addConnectionsToGroups(["g1"], "userId eq 'u'");
  const removeFrom: GroupRemoveConnectionOptions = base;
  await client.removeConnectionsFromGroups(["g1"], "userId eq 'u'", removeFrom);
  await client.removeConnectionsFromGroups(["g1"], "userId eq 'u'");

  const hasGroup: HubHasGroupOptions = base;
  const groupExists: boolean = await client.groupExists("g", hasGroup);
  const hasUser: HubHasUserOptions = {};
  const userExists: boolean = await client.userExists("user", hasUser);
  void [exists, groupExists, userExists];

  const permissions: Permission[] = ["joinLeaveGroup", "sendToGroup"];
  const grant: HubGrantPermissionOptions = { targetName: "g", ...base };
  await client.grantPermission("conn", permissions[0]!, grant);
  await client.grantPermission("conn", "sendToGroup");
  const revoke: HubRevokePermissionOptions = { targetName: "g" };
  await client.revokePermission("conn", "joinLeaveGroup", revoke);
  await client.revokePermission("conn", "sendToGroup");
  const check: HubHasPermissionOptions = { targetName: "g" };
  const allowed: boolean = await client.hasPermission("conn", "sendToGroup", check);
  await client.hasPermission("conn", "joinLeaveGroup");
  void allowed;

  const protocols: WebPubSubClientProtocol[] = ["default", "mqtt", "socketio"];
  for (const clientProtocol of protocols) {
    const tokenOptions: GenerateClientTokenOptions = {
      userId: "user",
      roles: ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup.g"],
      expirationTimeInMinutes: 30,
      groups: ["g"],
      clientProtocol,
      ...base,
    };
    const token: ClientTokenResponse = await client.getClientAccessToken(tokenOptions);
    const parts: string[] = [token.token, token.baseUrl, token.url];
    void parts;
  }
  const { url } = await client.getClientAccessToken();
  void url;
}

async function group(client: WebPubSubServiceClient): Promise<void> {
  const group: WebPubSubGroup = client.group("room");
  const names: string[] = [group.groupName, group.hubName, group.apiVersion, group.endpoint];
  void names;
  const base = operationOptions();

  const addConnection: GroupAddConnectionOptions = base;
  await group.addConnection("conn", addConnection);
  await group.addConnection("conn");
  const removeConnection: GroupRemoveConnectionOptions = {};
  await group.removeConnection("conn", removeConnection);
  await group.removeConnection("conn");
  const closeAll: GroupCloseAllConnectionsOptions = { reason: "closing", ...base };
  await group.closeAllConnections(closeAll);
  await group.closeAllConnections();
  const addUser: GroupAddUserOptions = base;
  await group.addUser("user", addUser);
  await group.addUser("user");
  const removeUser: GroupRemoveUserOptions = {};
  await group.removeUser("user", removeUser);
  await group.removeUser("user");
  const hasUser: GroupHasUserOptions = base;
  void hasUser;

  const text: GroupSendTextToAllOptions = { contentType: "text/plain", excludedConnections: ["c"], filter: "x" };
  await group.sendToAll("hi", text);
  await group.sendToAll("hi", { contentType: "text/plain", messageTtlSeconds: 60 });
  const json: GroupSendToAllOptions = { excludedConnections: ["c"], filter: "x", messageTtlSeconds: 1, ...base };
  await group.sendToAll({ a: [1, 2] }, json);
  await group.sendToAll(7);
  await group.sendToAll(new Uint8Array(4), json);
  await group.sendToAll(new ArrayBuffer(4));
  await group.sendToAll(null);

  const listOptions: GroupListConnectionsOptions = { maxPageSize: 10, top: 25, continuationToken: "t", ...base };
  const members = await group.listConnections(listOptions);
  for await (const member of members) {
    const id: string = member.connectionId;
    const user: string | undefined = member.userId;
    void [id, user];
  }
  const first: IteratorResult<WebPubSubGroupMember> = await members.next();
  if (!first.done) void first.value.connectionId;
  for await (const page of (await group.listConnections()).byPage({ maxPageSize: 5 })) {
    const pageMembers: WebPubSubGroupMember[] = page;
    void pageMembers;
  }
  for await (const page of (await group.listConnections()).byPage({ continuationToken: "next" })) void page.length;
  for await (const page of members[Symbol.asyncIterator]().byPage()) void page;
}

function filters(): string[] {
  const name = "o'brien";
  const nothing = null;
  const length = 3;
  return [
    odata`userId eq ${name}`,
    odata`userId eq ${nothing} or length(userId) gt ${length}`,
    odata`'${"group"}' in groups`,
    odata`no values`,
  ];
}

export { constructors, hub, group, filters };
