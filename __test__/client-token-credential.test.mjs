// A TokenCredential driving our client over HTTPS: the JS getToken is called from Rust with the Web PubSub
// scope, its token is sent as a bearer token and cached, its failure reaches the caller, and client access
// tokens come from :generateToken. The loopback server's certificate is trusted through NODE_EXTRA_CA_CERTS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { defaultAnswer } from "./helpers/recording-server.mjs";

const require = createRequire(import.meta.url);
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "crates", "service-client", "tests", "fixtures");
const HUB = "secure";
const SCOPE = "https://webpubsub.azure.com/.default";

let server;
let endpoint;
const requests = [];

before(async () => {
  server = https.createServer(
    { cert: fs.readFileSync(path.join(fixtures, "localhost.cert.pem")), key: fs.readFileSync(path.join(fixtures, "localhost.key.pem")) },
    (req, res) => {
      req.resume();
      req.on("end", () => {
        const q = req.url.indexOf("?");
        const record = { method: req.method, url: req.url, path: q < 0 ? req.url : req.url.slice(0, q), headers: req.headers };
        requests.push(record);
        const answer = defaultAnswer(record);
        const body = answer.body === undefined ? undefined : JSON.stringify(answer.body);
        res.writeHead(answer.status, body ? { "content-type": "application/json" } : {});
        res.end(body);
      });
    },
  );
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `https://localhost:${server.address().port}`;
  process.env.NODE_EXTRA_CA_CERTS = path.join(fixtures, "test-ca.cert.pem");
});

after(async () => {
  delete process.env.NODE_EXTRA_CA_CERTS;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function credential(getToken) {
  const calls = [];
  return {
    calls,
    getToken: async (scopes, options) => {
      calls.push(scopes);
      return getToken(scopes, options);
    },
  };
}

test("bearer tokens come from getToken, once for several calls", async () => {
  const { WebPubSubServiceClient } = require("../index.js");
  const cred = credential(async () => ({ token: "entra-token-1", expiresOnTimestamp: Date.now() + 3600_000 }));
  const client = new WebPubSubServiceClient(endpoint, cred, HUB);
  requests.length = 0;
  await client.sendToAll({ a: 1 });
  assert.equal(await client.groupExists("g"), true);
  assert.deepEqual(cred.calls.map((scopes) => [].concat(scopes)), [[SCOPE]]);
  assert.deepEqual(
    requests.map((r) => [r.method, r.path, r.headers.authorization]),
    [
      ["POST", `/api/hubs/${HUB}/:send`, "Bearer entra-token-1"],
      ["HEAD", `/api/hubs/${HUB}/groups/g`, "Bearer entra-token-1"],
    ],
  );
});

test("a failing getToken rejects the call with its message and sends nothing", async () => {
  const { WebPubSubServiceClient } = require("../index.js");
  const client = new WebPubSubServiceClient(
    endpoint,
    credential(async () => {
      throw new Error("no identity available");
    }),
    HUB,
    { retryOptions: { maxRetries: 0 } },
  );
  requests.length = 0;
  await assert.rejects(client.sendToAll("x"), /no identity available/);
  assert.equal(requests.length, 0);
});

test("getClientAccessToken with a token credential asks :generateToken", async () => {
  const { WebPubSubServiceClient } = require("../index.js");
  const client = new WebPubSubServiceClient(
    endpoint,
    credential(async () => ({ token: "entra-token-2", expiresOnTimestamp: Date.now() + 3600_000 })),
    HUB,
  );
  requests.length = 0;
  const token = await client.getClientAccessToken({ userId: "u1", groups: ["g1"], clientProtocol: "mqtt" });
  const base = `wss://localhost:${server.address().port}/clients/mqtt/hubs/${HUB}`;
  assert.deepEqual(token, { token: "service.issued.token", baseUrl: base, url: `${base}?access_token=service.issued.token` });
  assert.equal(requests.length, 1);
  assert.equal(requests[0].path, `/api/hubs/${HUB}/:generateToken`);
  assert.match(requests[0].url, /[?&]userId=u1(&|$)/);
  assert.match(requests[0].url, /[?&]clientType=mqtt(&|$)/);
  assert.equal(requests[0].headers.authorization, "Bearer entra-token-2");
});

test("traced, getClientAccessToken's :generateToken is an HTTP POST span of the operation, its query redacted", async () => {
  const { RecordingInstrumenter } = await import("./helpers/recording-instrumenter.mjs");
  const { useInstrumenter } = require("@azure/core-tracing");
  const { WebPubSubServiceClient } = require("../index.js");
  const tracer = new RecordingInstrumenter();
  useInstrumenter(tracer);
  try {
    const client = new WebPubSubServiceClient(
      endpoint,
      credential(async () => ({ token: "entra-token-3", expiresOnTimestamp: Date.now() + 3600_000 })),
      HUB,
    );
    requests.length = 0;
    await client.getClientAccessToken({ userId: "u1" });
    assert.deepEqual(
      tracer.spans.map((s) => [s.name, s.kind, s.parent?.name, s.status, s.attributes["http.status_code"], s.endIndex]),
      [
        ["WebPubSubServiceClient.getClientAccessToken", "internal", undefined, "success", undefined, 1],
        ["HTTP POST", "client", "WebPubSubServiceClient.getClientAccessToken", undefined, 200, 0],
      ],
    );
    assert.equal(
      tracer.spans[1].attributes["http.url"],
      `${endpoint}/api/hubs/${HUB}/:generateToken?api-version=2024-12-01&userId=REDACTED&minutesToExpire=REDACTED`,
    );
    assert.equal(requests[0].headers.traceparent, tracer.spans[1].traceparent);
  } finally {
    useInstrumenter(undefined);
  }
});
