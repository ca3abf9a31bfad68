// Differential test: every operation and option of the @azure/web-pubsub 1.2.0 surface runs through the
// official SDK and through ours against the same scripted server; requests and outcomes must be equal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { startRecordingServer } from "./helpers/recording-server.mjs";
import { requestShape, errorShape, onResponseShape, accessTokenShape } from "./helpers/normalize.mjs";

const require = createRequire(import.meta.url);
const official = require("@azure/web-pubsub");
const ours = require("../index.js");

const KEY = "differential-test-access-key-0123456789";
const HUB = "Chat_1";
const FAST_RETRY = { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 };

function keyClient(sdk, server, options = {}) {
  return new sdk.WebPubSubServiceClient(server.url, new sdk.AzureKeyCredential(KEY), HUB, {
    allowInsecureConnection: true,
    retryOptions: FAST_RETRY,
    ...options,
  });
}

const serviceError = (status, code, message) => () => ({
  status,
  headers: { "x-ms-error-code": code },
  body: { code, message, target: "Request", details: null, inner: null },
});

const circular = {};
circular.self = circular;

const page1 = (server) => ({
  status: 200,
  body: {
    value: [
      { connectionId: "c1", userId: "u1" },
      { connectionId: "c2", userId: null },
    ],
    nextLink: `${server.url}/api/hubs/${HUB}/groups/g%201/connections?maxpagesize=2&continuationToken=c1&api-version=2024-12-01`,
  },
});
const page2 = { status: 200, body: { value: [{ connectionId: "c3" }] } };

const allItems = async (iterable) => {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
};

/**
 * Each case: `run(client, ctx)` returns what the caller gets (normalized by `shape` when given);
 * `reply` scripts the server (a function of (request, server) or a list of answers);
 * `client(sdk, server)` overrides the default endpoint + AzureKeyCredential client.
 */
const cases = [
  // constructor forms
  {
    name: "connection string with Port",
    client: (sdk, s) =>
      new sdk.WebPubSubServiceClient(`Endpoint=http://127.0.0.1;Port=${s.port};AccessKey=${KEY};Version=1.0;`, HUB, {
        allowInsecureConnection: true,
      }),
    run: async (c) => {
      await c.sendToAll({ hello: "world" });
      return { endpoint: c.endpoint, hubName: c.hubName, apiVersion: c.apiVersion };
    },
  },
  {
    name: "connection string with endpoint carrying the port",
    client: (sdk, s) =>
      new sdk.WebPubSubServiceClient(`Endpoint=${s.url};AccessKey=${KEY};Version=1.0;`, HUB, { allowInsecureConnection: true }),
    run: async (c) => {
      await c.sendToAll("x");
      return c.endpoint;
    },
  },
  {
    name: "endpoint + AzureKeyCredential",
    run: async (c) => {
      await c.sendToUser("user 1", 42);
      return { endpoint: c.endpoint, hubName: c.hubName, apiVersion: c.apiVersion };
    },
  },
  {
    name: "key rotation through AzureKeyCredential.update",
    client: (sdk, s) => {
      const cred = new sdk.AzureKeyCredential("old-key-that-is-rotated");
      const c = new sdk.WebPubSubServiceClient(s.url, cred, HUB, { allowInsecureConnection: true });
      c.__cred = cred;
      return c;
    },
    run: async (c) => {
      c.__cred.update(KEY);
      await c.sendToAll({ rotated: true });
    },
  },
  { name: "reverseProxyEndpoint replaces the host after signing", client: (sdk, s) =>
      new sdk.WebPubSubServiceClient("http://service.invalid", new sdk.AzureKeyCredential(KEY), HUB, {
        allowInsecureConnection: true,
        reverseProxyEndpoint: s.url,
      }),
    run: (c) => c.sendToAll({ via: "proxy" }),
  },
  // message kinds
  { name: "sendToAll JSON object", run: (c) => c.sendToAll({ a: 1, b: [true, null], s: "é" }) },
  { name: "sendToAll number", run: (c) => c.sendToAll(3.5) },
  { name: "sendToAll string is JSON", run: (c) => c.sendToAll("hello") },
  { name: "sendToAll string as text/plain", run: (c) => c.sendToAll("hello wörld", { contentType: "text/plain" }) },
  { name: "sendToAll ArrayBuffer", run: (c) => c.sendToAll(new Uint8Array([1, 2, 3, 255]).buffer) },
  { name: "sendToAll Uint8Array view", run: (c) => c.sendToAll(new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 4)) },
  { name: "sendToAll Buffer", run: (c) => c.sendToAll(Buffer.from("binary\u0000data")) },
  { name: "sendToAll Blob", run: (c) => c.sendToAll(new Blob([Buffer.from([0, 1, 2])])) },
  { name: "sendToAll null", run: (c) => c.sendToAll(null) },
  { name: "sendToAll boolean", run: (c) => c.sendToAll(false) },
  {
    name: "sendToAll filter, excludedConnections, messageTtlSeconds",
    run: (c) =>
      c.sendToAll({ x: 1 }, { filter: "userId ne 'o''k' and 'g 1' in groups", excludedConnections: ["a", "b c"], messageTtlSeconds: 10 }),
  },
  { name: "sendToUser with filter and ttl", run: (c) => c.sendToUser("user/1 x", "t", { contentType: "text/plain", filter: "userId eq 'x'", messageTtlSeconds: 0 }) },
  { name: "sendToConnection with ttl", run: (c) => c.sendToConnection("conn 1", { m: 1 }, { messageTtlSeconds: 300 }) },
  { name: "sendToConnection Uint8Array", run: (c) => c.sendToConnection("c", new Uint8Array([1, 2])) },
  { name: "group sendToAll with excluded and filter", run: (c) => c.group("g 1").sendToAll({ y: 2 }, { excludedConnections: ["e"], filter: "userId eq 'u'", messageTtlSeconds: 5 }) },
  { name: "group sendToAll text", run: (c) => c.group("g").sendToAll("plain", { contentType: "text/plain" }) },
  // exists checks
  { name: "connectionExists 200", run: (c) => c.connectionExists("c 1") },
  { name: "connectionExists 404 -> false", reply: serviceError(404, "Warning.Connection.NotExisted", "not found"), run: (c) => c.connectionExists("c") },
  { name: "groupExists 404 -> false", reply: () => ({ status: 404 }), run: (c) => c.groupExists("g/1") },
  { name: "userExists 200", run: (c) => c.userExists("u@x") },
  { name: "userExists 500 throws", reply: () => ({ status: 500 }), run: (c) => c.userExists("u") },
  { name: "hasPermission with targetName", run: (c) => c.hasPermission("c", "joinLeaveGroup", { targetName: "g 1" }) },
  { name: "hasPermission 404 -> false", reply: () => ({ status: 404 }), run: (c) => c.hasPermission("c", "sendToGroup") },
  // closes
  { name: "closeConnection with reason", run: (c) => c.closeConnection("c 1", { reason: "bye now" }) },
  { name: "closeConnection without reason", run: (c) => c.closeConnection("c") },
  { name: "closeAllConnections with excluded and reason", run: (c) => c.closeAllConnections({ excludedConnections: ["x", "y"], reason: "maintenance" }) },
  { name: "closeUserConnections", run: (c) => c.closeUserConnections("u 1", { excludedConnections: ["x"], reason: "r" }) },
  { name: "group closeAllConnections", run: (c) => c.group("g").closeAllConnections({ excludedConnections: ["x"], reason: "r" }) },
  // groups
  { name: "group addConnection", run: (c) => c.group("g 1").addConnection("c/1") },
  { name: "group addConnection 404", reply: serviceError(404, "Error.Connection.NotExisted", "Connection `c` is not found."), run: (c) => c.group("g").addConnection("c") },
  { name: "group removeConnection", run: (c) => c.group("g").removeConnection("c") },
  { name: "group addUser", run: (c) => c.group("g").addUser("u 1") },
  { name: "group removeUser", run: (c) => c.group("g").removeUser("u 1") },
  { name: "removeUserFromAllGroups", run: (c) => c.removeUserFromAllGroups("u") },
  { name: "removeConnectionFromAllGroups", run: (c) => c.removeConnectionFromAllGroups("c") },
  {
    name: "group members",
    run: async (c) => {
      const g = c.group("g 1");
      return { groupName: g.groupName, hubName: g.hubName, apiVersion: g.apiVersion };
    },
  },
  {
    name: "listConnections for-await follows nextLink",
    reply: (r, s) => (r.url.includes("continuationToken") ? page2 : page1(s)),
    run: async (c) => allItems(await c.group("g 1").listConnections({ maxPageSize: 2, top: 3 })),
  },
  ...[
    ["a path", `/api/hubs/${HUB}/groups/g%201/connections?maxpagesize=2&continuationToken=c1&api-version=2024-12-01`],
    ["a path without api-version", `/api/hubs/${HUB}/groups/g%201/connections?continuationToken=c1`],
    ["a path without a leading slash", `api/hubs/${HUB}/groups/g%201/connections?continuationToken=c1`],
    ["a query only", "?continuationToken=c1"],
    ["an absolute link with another api-version", (s) => `${s.url}/api/hubs/${HUB}/groups/g%201/connections?api-version=2020-01-01&continuationToken=c1`],
  ].map(([what, link]) => ({
    name: `listConnections follows a nextLink: ${what}`,
    reply: (r, s) => {
      if (r.url.includes("continuationToken")) return page2;
      const nextLink = typeof link === "function" ? link(s) : link;
      return { ...page1(s), body: { ...page1(s).body, nextLink } };
    },
    run: async (c) => allItems(await c.group("g 1").listConnections()),
  })),
  {
    name: "listConnections byPage",
    reply: (r, s) => (r.url.includes("continuationToken") ? page2 : page1(s)),
    run: async (c) => allItems((await c.group("g 1").listConnections()).byPage()),
  },
  {
    name: "listConnections returns a Promise",
    run: async (c) => {
      const p = c.group("g").listConnections();
      const isPromise = p instanceof Promise;
      const it = await p;
      return { isPromise, keys: Object.keys(it), asyncIterable: typeof it[Symbol.asyncIterator] };
    },
  },
  {
    name: "listConnections byPage maxPageSize throws",
    run: async (c) => (await c.group("g").listConnections()).byPage({ maxPageSize: 1 }),
  },
  {
    name: "addConnectionsToGroups with odata filter",
    run: (c) => c.addConnectionsToGroups(["g1", "g 2"], official.odata`userId eq ${"vic's"} or userId eq ${null}`),
  },
  { name: "removeConnectionsFromGroups", run: (c) => c.removeConnectionsFromGroups(["g1"], "userId eq 'a'") },
  // permissions
  { name: "grantPermission with targetName", run: (c) => c.grantPermission("c 1", "sendToGroup", { targetName: "g 1" }) },
  { name: "grantPermission without targetName", run: (c) => c.grantPermission("c", "joinLeaveGroup") },
  { name: "revokePermission with targetName", run: (c) => c.revokePermission("c", "joinLeaveGroup", { targetName: "g" }) },
  { name: "grantPermission unknown permission is sent as is", run: (c) => c.grantPermission("c", "bogus") },
  // client access tokens (key: minted locally, no request)
  { name: "getClientAccessToken default", run: (c) => c.getClientAccessToken(), shape: (r) => accessTokenShape(r, KEY) },
  {
    name: "getClientAccessToken userId roles groups expiry",
    run: (c) => c.getClientAccessToken({ userId: "u 1", roles: ["webpubsub.joinLeaveGroup.g1", "webpubsub.sendToGroup"], groups: ["g1"], expirationTimeInMinutes: 7 }),
    shape: (r) => accessTokenShape(r, KEY),
  },
  { name: "getClientAccessToken mqtt", run: (c) => c.getClientAccessToken({ clientProtocol: "mqtt" }), shape: (r) => accessTokenShape(r, KEY) },
  { name: "getClientAccessToken socketio", run: (c) => c.getClientAccessToken({ clientProtocol: "socketio", userId: "s" }), shape: (r) => accessTokenShape(r, KEY) },
  {
    name: "getClientAccessToken from a connection string client",
    client: (sdk, s) =>
      new sdk.WebPubSubServiceClient(`Endpoint=${s.url};AccessKey=${KEY};Version=1.0;`, HUB, { allowInsecureConnection: true }),
    run: (c) => c.getClientAccessToken({ userId: "cs", roles: ["r"] }),
    shape: (r) => accessTokenShape(r, KEY),
  },
  { name: "getClientAccessToken default protocol", run: (c) => c.getClientAccessToken({ clientProtocol: "default" }), shape: (r) => accessTokenShape(r, KEY) },
  // error answers
  { name: "400 JSON body + x-ms-error-code", reply: serviceError(400, "Error.BadRequest", "Invalid filter"), run: (c) => c.sendToAll({ a: 1 }, { filter: "bad(" }) },
  { name: "400 header code only", reply: () => ({ status: 400, headers: { "x-ms-error-code": "Hdr" }, body: { message: "m" } }), run: (c) => c.sendToAll(1) },
  { name: "400 empty body", reply: () => ({ status: 400 }), run: (c) => c.closeConnection("c") },
  { name: "500 text body (retried)", reply: () => ({ status: 500, body: "oops" }), run: (c) => c.sendToAll("x") },
  { name: "500 text/plain body", reply: () => ({ status: 500, headers: { "content-type": "text/plain" }, body: "plain failure" }), run: (c) => c.removeUserFromAllGroups("u") },
  { name: "503 then success", reply: [{ status: 503 }, { status: 202 }], run: (c) => c.sendToAll("retry me") },
  { name: "unexpected 2xx is an error", reply: () => ({ status: 200 }), run: (c) => c.sendToAll(1) },
  // onResponse
  {
    name: "onResponse on success",
    run: async (c, ctx) => {
      await c.sendToAll("x", { onResponse: ctx.onResponse });
      return ctx.seen;
    },
  },
  {
    name: "onResponse request and headers objects",
    run: async (c) => {
      let seen;
      await c.sendToAll("x", {
        requestOptions: { timeout: 5000 },
        onResponse: (raw) => {
          const r = raw.request;
          const methods = (h) => ["get", "has", "set", "delete", "toJSON"].map((m) => typeof h[m]).concat(typeof h[Symbol.iterator]);
          raw.headers.set("X-Added", "1");
          const added = [raw.headers.get("x-added"), raw.headers.toJSON({ preserveCase: true })["X-Added"]];
          raw.headers.delete("x-added");
          seen = {
            method: r.method,
            url: r.url,
            timeout: r.timeout,
            withCredentials: r.withCredentials,
            requestIdIsHeader: r.requestId === r.headers.get("x-ms-client-request-id"),
            contentType: r.headers.get("Content-Type"),
            accept: r.headers.toJSON().accept,
            authorization: /^Bearer /.test(r.headers.get("authorization")),
            requestMethods: methods(r.headers),
            responseMethods: methods(raw.headers),
            added,
            deleted: raw.headers.has("x-added"),
          };
        },
      });
      return seen;
    },
  },
  {
    name: "onResponse on exists 404",
    reply: serviceError(404, "Warning.User.NotExisted", "User `u` is not found."),
    run: async (c, ctx) => [await c.userExists("u", { onResponse: ctx.onResponse }), ctx.seen],
  },
  {
    name: "onResponse on error",
    reply: serviceError(400, "Error.BadRequest", "nope"),
    run: async (c, ctx) => {
      const out = await c.grantPermission("c", "sendToGroup", { onResponse: ctx.onResponse }).catch(errorShape);
      return [out, ctx.seen];
    },
  },
  {
    name: "onResponse on list page",
    reply: () => page2,
    run: async (c, ctx) => [await allItems(await c.group("g").listConnections({ onResponse: ctx.onResponse })), ctx.seen],
  },
  // cancellation and transport
  {
    name: "pre-aborted signal",
    run: (c) => c.sendToAll("x", { abortSignal: AbortSignal.abort() }),
  },
  {
    name: "abort in flight",
    reply: () => ({ status: 202, delayMs: 2000 }),
    run: (c) => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      return c.sendToAll("x", { abortSignal: ac.signal });
    },
  },
  {
    name: "requestOptions.customHeaders are sent",
    run: async (c, ctx) => {
      await c.sendToAll("x", { requestOptions: { customHeaders: { "x-custom": "v1" } }, onResponse: (raw) => ctx.seen.push(raw.request.headers.get("x-custom")) });
      return ctx.seen;
    },
  },
  { name: "socket destroyed (retried)", reply: () => ({ destroy: true }), run: (c) => c.sendToAll("x") },
  // bad input
  { name: "text/plain with a non-string", run: (c) => c.sendToAll(1, { contentType: "text/plain" }) },
  { name: "circular JSON", run: (c) => c.sendToAll(circular) },
  { name: "invalid connection string (no key)", client: (sdk) => new sdk.WebPubSubServiceClient("Endpoint=https://x.example", HUB), run: () => null },
  { name: "invalid connection string (no endpoint)", client: (sdk) => new sdk.WebPubSubServiceClient("AccessKey=abc", HUB), run: () => null },
  {
    name: "http:// without allowInsecureConnection",
    client: (sdk, s) => new sdk.WebPubSubServiceClient(s.url, new sdk.AzureKeyCredential(KEY), HUB),
    run: (c) => c.sendToAll("x"),
  },
  {
    name: "token credential over http is refused",
    client: (sdk, s) =>
      new sdk.WebPubSubServiceClient(s.url, { getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 3600e3 }) }, HUB, {
        allowInsecureConnection: true,
      }),
    run: (c) => c.sendToAll("x"),
  },
  { name: "hub name starting with a digit is sent", client: (sdk, s) => keyClient(sdk, s).constructor && new sdk.WebPubSubServiceClient(s.url, new sdk.AzureKeyCredential(KEY), "1hub", { allowInsecureConnection: true }), run: (c) => c.sendToAll("x") },
  { name: "empty group name is sent", run: (c) => c.group("").sendToAll("x") },
  { name: "messageTtlSeconds out of range is sent", run: (c) => c.sendToAll("x", { messageTtlSeconds: 301 }) },
  { name: "odata escaping", run: () => [official, ours].map((m) => m.odata`a eq ${"it's"} and b eq '${"x'y"}' and n eq ${3} and z eq ${undefined}`) },
];

async function runCase(sdk, server, c) {
  server.reset();
  if (c.reply) {
    server.reply(typeof c.reply === "function" ? (r) => c.reply(r, server) : structuredClone(c.reply));
  }
  const ctx = { seen: [] };
  ctx.onResponse = (raw, flat) => ctx.seen.push(onResponseShape(raw, flat));
  let outcome;
  try {
    const client = c.client ? c.client(sdk, server) : keyClient(sdk, server);
    const value = await c.run(client, ctx);
    outcome = { value: c.shape ? c.shape(value) : value };
  } catch (e) {
    outcome = errorShape(e);
  }
  return { outcome, requests: server.requests.map((r) => requestShape(r, KEY)) };
}

const server = await startRecordingServer();
test.after(() => server.close());

test("exports every name the official package exports", () => {
  for (const name of Object.keys(official)) assert.ok(name in ours, `missing export ${name}`);
});

test("WebPubSubServiceClient and group have every official method", () => {
  const s = { url: "http://127.0.0.1:1", port: 1 };
  const theirs = keyClient(official, s);
  const mine = keyClient(ours, s);
  const methods = (o) => Object.getOwnPropertyNames(Object.getPrototypeOf(o)).filter((n) => n !== "constructor").sort();
  for (const m of methods(theirs)) assert.equal(typeof mine[m], "function", `client.${m}`);
  for (const m of methods(theirs.group("g"))) assert.equal(typeof mine.group("g")[m], "function", `group.${m}`);
});

for (const c of cases) {
  test(c.name, async () => {
    const expected = await runCase(official, server, c);
    const actual = await runCase(ours, server, c);
    assert.deepStrictEqual(actual, expected);
  });
}
