// The optional @azure peers are loaded only when first needed: importing the package loads none (it would cost as
// much as the official SDK's whole import), and each one's classes are still the ones the caller gets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const PACKAGE = fileURLToPath(new URL("../index.js", import.meta.url));

/** Runs `source` (CommonJS) in a fresh Node; returns what it printed as JSON. */
function run(source) {
  const child = spawnSync(process.execPath, ["-e", source], { env: { ...process.env, PKG: PACKAGE }, encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout);
}

const LOADED = `const loaded = () => Object.keys(require.cache).filter((k) => k.includes("@azure")).map((k) => k.split("@azure/")[1].split("/")[0]).filter((v, i, a) => a.indexOf(v) === i).sort();`;

test("importing the package loads no @azure package, from CommonJS or ESM", () => {
  assert.deepEqual(run(`${LOADED} require(process.env.PKG); console.log(JSON.stringify(loaded()));`), []);
  const esm = spawnSync(
    process.execPath,
    ["--input-type=module", "-e", `await import(${JSON.stringify(new URL("../index.mjs", import.meta.url).href)}); const { createRequire } = await import("node:module"); console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes("@azure"))));`],
    { encoding: "utf8" },
  );
  assert.equal(esm.status, 0, esm.stderr);
  assert.deepEqual(JSON.parse(esm.stdout), []);
});

test("each peer loads when first needed, and its classes are the ones callers get", () => {
  const result = run(`${LOADED}
    const { AzureKeyCredential, RestError, AbortError, WebPubSubServiceClient } = require(process.env.PKG);
    const steps = {};
    const credential = new AzureKeyCredential("key");
    steps.credential = loaded();
    const coreAuth = require("@azure/core-auth");
    class Rotating extends AzureKeyCredential {}
    const rotating = new Rotating("other");
    rotating.update("rotated");
    const client = new WebPubSubServiceClient("http://127.0.0.1:1", credential, "hub", { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } });
    steps.client = loaded();
    client.sendToAll("x").catch((error) => {
      steps.error = loaded();
      const pipeline = require("@azure/core-rest-pipeline");
      console.log(JSON.stringify({
        steps,
        credentialIsCoreAuth: credential instanceof coreAuth.AzureKeyCredential && credential instanceof AzureKeyCredential,
        coreAuthIsOurs: new coreAuth.AzureKeyCredential("k") instanceof AzureKeyCredential,
        subclass: rotating instanceof Rotating && rotating instanceof coreAuth.AzureKeyCredential && rotating.key === "rotated",
        notSubclass: credential instanceof Rotating,
        errorIsPipelines: error instanceof pipeline.RestError && error instanceof RestError && error.constructor.name === "RestError",
        code: error.code,
        constants: [RestError.REQUEST_SEND_ERROR, RestError.PARSE_ERROR],
        abort: new AbortError("stop") instanceof require("@azure/abort-controller").AbortError,
      }));
    });`);
  // core-auth brings its own dependencies (abort-controller, core-util); the pipeline and the logger wait for a call.
  assert.ok(result.steps.credential.includes("core-auth"));
  for (const later of ["core-rest-pipeline", "logger"]) {
    assert.ok(!result.steps.credential.includes(later), `${later} is not loaded by a credential`);
    assert.ok(!result.steps.client.includes(later), `${later} is not loaded by a new client`);
    assert.ok(result.steps.error.includes(later), `${later} is loaded by the first call and its error`);
  }
  assert.deepEqual(
    { ...result, steps: undefined },
    {
      steps: undefined,
      credentialIsCoreAuth: true,
      coreAuthIsOurs: true,
      subclass: true,
      notSubclass: false,
      errorIsPipelines: true,
      code: "ECONNREFUSED",
      constants: ["REQUEST_SEND_ERROR", "PARSE_ERROR"],
      abort: true,
    },
  );
});
