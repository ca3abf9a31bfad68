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
