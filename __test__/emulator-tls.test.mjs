// The emulator over HTTPS/WSS: with a certificate it generates (trusted by a child Node through
// NODE_EXTRA_CA_CERTS) a TokenCredential works end to end with the official server SDK and ours, and
// @azure/web-pubsub-client connects over wss; with a given certificate our client trusts its CA; the CLI's --tls.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { startEmulator } = require("../emulator.js");
const ours = require("../index.js");
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const fixtures = path.join(root, "crates", "service-client", "tests", "fixtures");

/** Runs an ES module script in a child Node with `env`; resolves with its last stdout line as JSON. */
async function runChild(script, env) {
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: root, env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const status = await new Promise((resolve) => child.on("close", resolve));
  assert.equal(status, 0, stderr);
  return JSON.parse(stdout.trim().split("\n").pop());
}

// A token shaped like an Entra access token for Web PubSub; the emulator checks only its audience and lifetime.
const ENTRA_CREDENTIAL = `{
  getTokenCalls: 0,
  async getToken(scopes) {
    this.getTokenCalls += 1;
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const token = [b64({ alg: "RS256", typ: "JWT" }), b64({ aud: "https://webpubsub.azure.com", iat: now, nbf: now, exp: now + 3600 }), "c2ln"].join(".");
    return { token, expiresOnTimestamp: (now + 3600) * 1000 };
  },
}`;

const END_TO_END = (endpoint, sdk) => `
  import { createRequire } from "node:module";
  const require = createRequire(process.cwd() + "/index.js");
  const { WebPubSubServiceClient } = require(${JSON.stringify(sdk)});
  const { WebPubSubClient } = require("@azure/web-pubsub-client");
  const credential = ${ENTRA_CREDENTIAL};
  const service = new WebPubSubServiceClient(${JSON.stringify(endpoint)}, credential, "tlshub");
  const { url } = await service.getClientAccessToken({ userId: "alice", roles: ["webpubsub.joinLeaveGroup"] });
  const client = new WebPubSubClient(url);
  const received = new Promise((resolve) => client.on("server-message", (e) => resolve(e.message.data)));
  await client.start();
  const userExists = await service.userExists("alice");
  await service.sendToUser("alice", { over: "wss" });
  const data = await received;
  client.stop();
  console.log(JSON.stringify({ url: url.split("?")[0], userExists, data, getTokenCalls: credential.getTokenCalls }));
  // The WebSocket close handshake is not what this test is about; do not wait for it.
  process.exit(0);
`;

test("TokenCredential end to end over https and @azure/web-pubsub-client over wss, official SDK and ours", async () => {
  const emulator = await startEmulator({ port: 0, tls: true, allowUnvalidatedEntraTokens: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wps-tls-"));
  try {
    assert.match(emulator.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(emulator.certificate, /^-----BEGIN CERTIFICATE-----/);
    assert.match(emulator.connectionString, /^Endpoint=https:\/\//);
    const caFile = path.join(dir, "emulator.pem");
    fs.writeFileSync(caFile, emulator.certificate);
    const results = [];
    for (const sdk of ["@azure/web-pubsub", "./index.js"]) {
      results.push(await runChild(END_TO_END(emulator.endpoint, sdk), { NODE_EXTRA_CA_CERTS: caFile }));
    }
    assert.deepEqual(results[1], results[0]);
    assert.deepEqual(results[0], {
      url: `wss://127.0.0.1:${emulator.port}/client/hubs/tlshub`,
      userExists: true,
      data: { over: "wss" },
      getTokenCalls: 1,
    });
  } finally {
    await emulator.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const GENERATED_URLS = (endpoint, sdk) => `
  import { createRequire } from "node:module";
  const require = createRequire(process.cwd() + "/index.js");
  const { WebPubSubServiceClient } = require(${JSON.stringify(sdk)});
  const credential = ${ENTRA_CREDENTIAL};
  const service = new WebPubSubServiceClient(${JSON.stringify(endpoint)}, credential, "tlshub");
  const audience = (url) => JSON.parse(Buffer.from(new URL(url).searchParams.get("access_token").split(".")[1], "base64url")).aud;
  const defaultToken = await service.getClientAccessToken({ userId: "u" });
  const mqttToken = await service.getClientAccessToken({ userId: "u", clientProtocol: "mqtt" });
  const pages = [];
  for await (const page of (await service.group("paged").listConnections({ maxPageSize: 1 })).byPage()) pages.push(page.length);
  const members = [];
  for await (const member of await service.group("paged").listConnections({ maxPageSize: 2 })) members.push(member.userId);
  console.log(JSON.stringify({ audiences: [audience(defaultToken.url), audience(mqttToken.url)], pages, members: members.sort() }));
`;

test("every URL the emulator generates over TLS is https: token audiences and nextLink pages, both SDKs", async () => {
  const emulator = await startEmulator({ port: 0, tls: true, allowUnvalidatedEntraTokens: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wps-tls-"));
  const WebSocket = require("ws");
  const sockets = [];
  try {
    const keyed = new ours.WebPubSubServiceClient(emulator.connectionString, "tlshub");
    const caFile = path.join(dir, "emulator.pem");
    fs.writeFileSync(caFile, emulator.certificate);
    process.env.NODE_EXTRA_CA_CERTS = caFile;
    for (const user of ["a", "b", "c"]) {
      const { url } = await keyed.getClientAccessToken({ userId: user, groups: ["paged"] });
      const socket = new WebSocket(url, { ca: emulator.certificate });
      sockets.push(socket);
      await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    }
    const results = [];
    for (const sdk of ["@azure/web-pubsub", "./index.js"]) {
      results.push(await runChild(GENERATED_URLS(emulator.endpoint, sdk), { NODE_EXTRA_CA_CERTS: caFile }));
    }
    assert.deepEqual(results[1], results[0]);
    assert.deepEqual(results[0], {
      audiences: [
        `https://127.0.0.1:${emulator.port}/client/hubs/tlshub`,
        `https://127.0.0.1:${emulator.port}/clients/mqtt/hubs/tlshub`,
      ],
      pages: [1, 1, 1],
      members: ["a", "b", "c"],
    });
    assert.match(emulator.liveTraceUrl, new RegExp(`^https://127\\.0\\.0\\.1:${emulator.port}/\\?access_token=`));
  } finally {
    delete process.env.NODE_EXTRA_CA_CERTS;
    for (const socket of sockets) socket.terminate();
    await emulator.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a client token whose audience names the wrong scheme is refused with 401, over wss and over ws", async () => {
  const { createHmac } = await import("node:crypto");
  const WebSocket = require("ws");
  const KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH";
  const sign = (aud) => {
    const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const body = `${part({ alg: "HS256", typ: "JWT" })}.${part({ aud, exp: Math.floor(Date.now() / 1000) + 600 })}`;
    return `${body}.${createHmac("sha256", KEY).update(body).digest("base64url")}`;
  };
  const connect = (url, options) =>
    new Promise((resolve) => {
      const socket = new WebSocket(url, options);
      socket.once("open", () => {
        socket.terminate();
        resolve("open");
      });
      socket.once("unexpected-response", (_, response) => resolve(response.statusCode));
      socket.once("error", () => {});
    });
  const secure = await startEmulator({ port: 0, tls: true });
  const plain = await startEmulator({ port: 0 });
  try {
    const wss = `wss://127.0.0.1:${secure.port}/client/hubs/hub`;
    const ws = `ws://127.0.0.1:${plain.port}/client/hubs/hub`;
    const tls = { ca: secure.certificate };
    assert.equal(await connect(`${wss}?access_token=${sign(`http://127.0.0.1:${secure.port}/client/hubs/hub`)}`, tls), 401);
    assert.equal(await connect(`${wss}?access_token=${sign(`https://127.0.0.1:${secure.port}/client/hubs/hub`)}`, tls), "open");
    assert.equal(await connect(`${ws}?access_token=${sign(`https://127.0.0.1:${plain.port}/client/hubs/hub`)}`), 401);
    assert.equal(await connect(`${ws}?access_token=${sign(`http://127.0.0.1:${plain.port}/client/hubs/hub`)}`), "open");
    // Behind a TLS-terminating proxy the proxy's X-Forwarded-Proto decides.
    const proxied = { headers: { "X-Forwarded-Proto": "https" } };
    assert.equal(await connect(`${ws}?access_token=${sign(`https://proxy.example/client/hubs/hub`)}`, proxied), "open");
  } finally {
    await secure.close();
    await plain.close();
  }
});

test("without NODE_EXTRA_CA_CERTS the generated certificate is not trusted", async () => {
  const emulator = await startEmulator({ port: 0, tls: true });
  try {
    const client = ours.WebPubSubServiceClient;
    const service = new client(emulator.connectionString, "hub", { retryOptions: { maxRetries: 0 } });
    const error = await service.sendToAll("x").catch((e) => e);
    assert.equal(error.name, "RestError");
    assert.equal(error.code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  } finally {
    await emulator.close();
  }
});

// Node's https, and so the official SDK, accepts any certificate when NODE_TLS_REJECT_UNAUTHORIZED is "0" (and warns).
test("NODE_TLS_REJECT_UNAUTHORIZED=0 accepts the generated certificate, official SDK and ours, with Node's warning", async () => {
  const emulator = await startEmulator({ port: 0, tls: true });
  try {
    const script = (sdk) => `
      import { createRequire } from "node:module";
      const require = createRequire(process.cwd() + "/index.js");
      const { WebPubSubServiceClient } = require(${JSON.stringify(sdk)});
      const warnings = [];
      process.on("warning", (w) => warnings.push(w.message));
      const service = new WebPubSubServiceClient(${JSON.stringify(emulator.connectionString)}, "insecure", { retryOptions: { maxRetries: 0 } });
      await service.sendToAll("x");
      const exists = await service.groupExists("none");
      await new Promise((resolve) => setImmediate(resolve));
      console.log(JSON.stringify({ exists, warnings: warnings.filter((m) => m.includes("NODE_TLS_REJECT_UNAUTHORIZED")) }));`;
    const env = { NODE_TLS_REJECT_UNAUTHORIZED: "0", NODE_EXTRA_CA_CERTS: "" };
    const official = await runChild(script("@azure/web-pubsub"), env);
    assert.equal(official.exists, false);
    assert.equal(official.warnings.length, 1);
    assert.deepEqual(await runChild(script("./index.js"), env), official);
  } finally {
    await emulator.close();
  }
});

test("a given certificate is served; Entra tokens are refused unless allowed", async () => {
  const cert = fs.readFileSync(path.join(fixtures, "localhost.cert.pem"), "utf8");
  const key = fs.readFileSync(path.join(fixtures, "localhost.key.pem"));
  const strict = await startEmulator({ port: 0, host: "localhost", tls: { cert, key } });
  process.env.NODE_EXTRA_CA_CERTS = path.join(fixtures, "test-ca.cert.pem");
  try {
    assert.equal(strict.certificate, cert);
    assert.match(strict.endpoint, /^https:\/\/localhost:\d+$/);
    const keyed = new ours.WebPubSubServiceClient(strict.connectionString, "hub");
    await keyed.sendToAll({ hello: "tls" });
    assert.equal(await keyed.groupExists("nobody"), false);

    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const token = [b64({ alg: "RS256" }), b64({ aud: "https://webpubsub.azure.com", exp: now + 3600 }), "c2ln"].join(".");
    const credential = { getToken: async () => ({ token, expiresOnTimestamp: (now + 3600) * 1000 }) };
    const bearer = new ours.WebPubSubServiceClient(strict.endpoint, credential, "hub", { retryOptions: { maxRetries: 0 } });
    const refused = await bearer.sendToAll("x").catch((e) => e);
    assert.equal(refused.statusCode, 401);
  } finally {
    delete process.env.NODE_EXTRA_CA_CERTS;
    await strict.close();
  }
});

test("tls needs both cert and key", async () => {
  await assert.rejects(startEmulator({ port: 0, tls: { cert: "x" } }), /both cert and key/);
  await assert.rejects(startEmulator({ port: 0, tls: { cert: "not pem", key: "not pem" } }), /invalid certificate PEM/);
});

test("CLI: emulator --tls prints the https endpoint and the certificate", async () => {
  const child = spawn(process.execPath, [path.join(root, "cli.js"), "emulator", "--port", "0", "--tls", "--allow-unvalidated-entra-tokens"], {
    cwd: root,
  });
  let stdout = "";
  child.stdout.on("data", (d) => (stdout += d));
  try {
    await new Promise((resolve, reject) => {
      child.stdout.on("data", () => stdout.includes("Press Ctrl-C") && resolve());
      child.on("exit", (code) => reject(new Error(`exited with ${code}`)));
    });
    assert.match(stdout, /listening on https:\/\/localhost:\d+/);
    assert.match(stdout, /wss:\/\/localhost:\d+\/client\/hubs\/\{hub\}/);
    assert.match(stdout, /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/);
  } finally {
    child.kill("SIGINT");
    await new Promise((resolve) => child.on("close", resolve));
  }
});
