// The runtime surface next to the official @azure/web-pubsub 1.2.0: the same exports with the same kinds, the same
// client and group methods, and agreement between index.d.ts and what index.js / index.mjs really export.
// Only constructs clients; nothing is sent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";
import ts from "typescript";

const require = createRequire(import.meta.url);
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const official = require("@azure/web-pubsub");
const connectionString = `Endpoint=https://example.webpubsub.azure.com;AccessKey=${"k".repeat(44)};Version=1.0;`;

function loadOurs() {
  return require(root);
}

/** Names of the function-valued members reachable from `object`, below Object.prototype. */
function methodNames(object) {
  const names = new Set();
  for (let proto = object; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (name !== "constructor" && typeof descriptor.value === "function") names.add(name);
    }
  }
  return [...names].sort();
}

/** Exports of index.d.ts, split into values (classes, functions, consts) and type-only names. */
function declaredExports() {
  const file = path.join(root, "index.d.ts");
  const program = ts.createProgram([file], { noEmit: true, types: [], lib: ["lib.es2022.d.ts"] });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(file));
  assert.ok(moduleSymbol, "index.d.ts is not a module");
  const values = [];
  const types = [];
  for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    (target.flags & ts.SymbolFlags.Value ? values : types).push(symbol.name);
  }
  return { values: values.sort(), types: types.sort() };
}

test("every export of @azure/web-pubsub exists with the same typeof", () => {
  const ours = loadOurs();
  for (const [name, value] of Object.entries(official)) {
    assert.ok(name in ours, `missing export ${name}`);
    assert.equal(typeof ours[name], typeof value, `export ${name}`);
  }
});

test("index.d.ts declares exactly the values index.js exports; its other exports are type-only", () => {
  const ours = loadOurs();
  const { values, types } = declaredExports();
  assert.deepEqual(Object.keys(ours).sort(), values, "runtime exports of index.js vs value exports of index.d.ts");
  for (const name of Object.keys(official)) assert.ok(values.includes(name), `index.d.ts does not declare ${name}`);
  for (const name of types) {
    assert.equal(ours[name], undefined, `${name} is type-only in index.d.ts but exists at runtime`);
  }
  for (const name of ["WebPubSubGroup", "WebPubSubServiceClientOptions", "ClientTokenResponse", "JSONTypes"]) {
    assert.ok(types.includes(name), `${name} is not a type export of index.d.ts`);
  }
});

test("the error exports beyond the official ones behave as declared", () => {
  const { RestError, AbortError, isRestError } = loadOurs();
  const error = new RestError("boom", { code: "Code", statusCode: 418 });
  assert.ok(error instanceof Error && error instanceof RestError);
  assert.deepEqual([error.message, error.code, error.statusCode], ["boom", "Code", 418]);
  assert.equal(typeof RestError.REQUEST_SEND_ERROR, "string");
  assert.equal(typeof RestError.PARSE_ERROR, "string");
  assert.equal(isRestError(error), true);
  assert.equal(isRestError(new Error("plain")), false);
  const aborted = new AbortError("stop");
  assert.ok(aborted instanceof Error && aborted instanceof AbortError);
  assert.equal(aborted.name, "AbortError");
});

test("index.mjs exports the same values as index.js", async () => {
  const ours = loadOurs();
  const esm = await import(path.join(root, "index.mjs"));
  for (const name of Object.keys(ours)) assert.equal(esm[name], ours[name], `ESM export ${name}`);
});

test("WebPubSubServiceClient has every method of the official prototype, on its prototype", () => {
  const { WebPubSubServiceClient } = loadOurs();
  const expected = methodNames(official.WebPubSubServiceClient.prototype);
  assert.ok(expected.length >= 18, `only ${expected.length} official methods found`);
  for (const name of expected) {
    assert.equal(typeof WebPubSubServiceClient.prototype[name], "function", `WebPubSubServiceClient.prototype.${name}`);
  }
});

test("clients built from a connection string match: properties, methods, group()", () => {
  const ours = loadOurs();
  const theirs = new official.WebPubSubServiceClient(connectionString, "chat");
  const client = new ours.WebPubSubServiceClient(connectionString, "chat");
  assert.ok(client instanceof ours.WebPubSubServiceClient);
  for (const name of ["hubName", "apiVersion", "endpoint"]) assert.equal(client[name], theirs[name], `client.${name}`);
  for (const name of methodNames(theirs)) assert.equal(typeof client[name], "function", `client.${name}`);

  const theirGroup = theirs.group("room");
  const group = client.group("room");
  const groupMethods = methodNames(theirGroup);
  assert.ok(groupMethods.length >= 7, `only ${groupMethods.length} official group methods found`);
  for (const name of groupMethods) assert.equal(typeof group[name], "function", `group.${name}`);
  for (const name of ["groupName", "hubName", "apiVersion"]) {
    assert.equal(group[name], theirGroup[name], `group.${name}`);
  }
  // index.d.ts promises a string; the official group leaves it undefined, so either is accepted.
  assert.ok([theirGroup.endpoint, theirs.endpoint].includes(group.endpoint), `group.endpoint is ${group.endpoint}`);
});

test("clients built from an endpoint and a credential expose the same properties", () => {
  const ours = loadOurs();
  const endpoint = "https://example.webpubsub.azure.com";
  const tokenCredential = { getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 60_000 }) };
  for (const [theirCredential, ourCredential] of [
    [new official.AzureKeyCredential("key"), new ours.AzureKeyCredential("key")],
    [tokenCredential, tokenCredential],
  ]) {
    const theirs = new official.WebPubSubServiceClient(endpoint, theirCredential, "chat");
    const client = new ours.WebPubSubServiceClient(endpoint, ourCredential, "chat");
    for (const name of ["hubName", "apiVersion", "endpoint"]) {
      assert.equal(client[name], theirs[name], `client.${name}`);
    }
  }
});

test("AzureKeyCredential: key getter, update and the empty-key error", () => {
  const { AzureKeyCredential } = loadOurs();
  for (const name of methodNames(official.AzureKeyCredential.prototype)) {
    assert.equal(typeof AzureKeyCredential.prototype[name], "function", `AzureKeyCredential.prototype.${name}`);
  }
  const credential = new AzureKeyCredential("first");
  assert.equal(credential.key, "first");
  credential.update("second");
  assert.equal(credential.key, "second");
  assert.throws(() => new official.AzureKeyCredential(""));
  assert.throws(() => new AzureKeyCredential(""));
});
