// Unit tests of the JS helpers behind index.js that need no native binding: response interpretation
// (RestError fields as the official pipeline builds them), paging, odata, message kinds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { interpret } = require("../lib/response.js");
const { pagedIterator } = require("../lib/paging.js");
const { odata } = require("../lib/odata.js");
const { payloadOf } = require("../lib/message.js");
const { RestError } = require("../lib/errors.js");
const official = require("@azure/web-pubsub");

const record = (status, ok, headers, bodyText, method = "POST") => ({
  status,
  ok,
  headers,
  bodyText,
  method,
  url: "http://127.0.0.1:1/api/hubs/h/:send?api-version=2024-12-01",
});

test("error status: code and message from the JSON body, details with errorCode", () => {
  const body = JSON.stringify({ code: "Error.BadRequest", message: "bad filter", target: "filter" });
  const { raw, flat, error } = interpret(
    record(400, false, ["x-ms-error-code", "Error.BadRequest", "content-type", "application/json"], body),
    () => ({}),
  );
  assert.ok(error instanceof RestError);
  assert.equal(error.name, "RestError");
  assert.equal(error.statusCode, 400);
  assert.equal(error.code, "Error.BadRequest");
  assert.equal(error.message, "bad filter");
  assert.deepEqual(flat, { errorCode: "Error.BadRequest", "content-type": "application/json", code: "Error.BadRequest", message: "bad filter", target: "filter" });
  assert.deepEqual(error.details, flat);
  assert.equal(error.response, raw);
  assert.equal(raw.request.url, "http://127.0.0.1:1/api/hubs/h/:send?api-version=2024-12-01");
  assert.equal(Object.keys(error).includes("response"), false);
});

test("error status with a non-JSON body and no content type is a PARSE_ERROR", () => {
  const { error } = interpret(record(500, false, [], "oops"), () => ({}));
  assert.equal(error.code, "PARSE_ERROR");
  assert.equal(error.statusCode, 500);
  assert.match(error.message, /^Error "SyntaxError: .*" occurred while parsing the response body - oops\.$/);
});

test("error status with an empty body: empty message, no code", () => {
  const { error } = interpret(record(400, false, [], undefined), () => ({}));
  assert.equal(error.message, "");
  assert.equal(error.code, undefined);
});

test("success: flat value from flatOf, headers readable and iterable", () => {
  const { raw, flat, error } = interpret(record(200, true, ["Content-Type", "application/json", "X-A", "1"], '{"value":[]}', "GET"), (r) => r.parsedBody);
  assert.equal(error, undefined);
  assert.deepEqual(flat, { value: [] });
  assert.equal(raw.headers.get("content-type"), "application/json");
  assert.equal(raw.headers.has("x-a"), true);
  assert.deepEqual([...raw.headers], [["content-type", "application/json"], ["x-a", "1"]]);
  assert.deepEqual(raw.headers.toJSON(), { "content-type": "application/json", "x-a": "1" });
});

test("HEAD answers have no bodyAsText", () => {
  const { raw } = interpret(record(404, true, [], undefined, "HEAD"), () => ({}));
  assert.equal(raw.bodyAsText, undefined);
});

test("paging follows nextLink, byPage yields pages, maxPageSize is refused", async () => {
  const calls = [];
  const pages = { first: { value: [1, 2], nextLink: "L2" }, L2: { value: [3], nextLink: undefined } };
  const fetchPage = async (link) => (calls.push(link), pages[link ?? "first"]);
  const items = [];
  for await (const i of pagedIterator(fetchPage)) items.push(i);
  assert.deepEqual(items, [1, 2, 3]);
  assert.deepEqual(calls, [undefined, "L2"]);
  const byPage = [];
  for await (const p of pagedIterator(fetchPage).byPage()) byPage.push(p);
  assert.deepEqual(byPage, [[1, 2], [3]]);
  assert.throws(() => pagedIterator(fetchPage).byPage({ maxPageSize: 1 }), /maxPageSize is not supported/);
});

test("odata escapes like the official tag", () => {
  const t = (f) => f`a eq ${"it's"} and b eq '${"x'y"}' and n eq ${3} and z eq ${undefined} or ${null}`;
  assert.equal(t(odata), t(official.odata));
  assert.equal(t(odata), "a eq 'it''s' and b eq 'x''y' and n eq 3 and z eq null or null");
});

test("message kinds", async () => {
  assert.deepEqual(payloadOf({ a: 1 }), { contentType: "application/json", body: '{"a":1}' });
  assert.deepEqual(payloadOf("s"), { contentType: "application/json", body: '"s"' });
  assert.deepEqual(payloadOf("s", { contentType: "text/plain" }), { contentType: "text/plain", body: "s" });
  assert.throws(() => payloadOf(1, { contentType: "text/plain" }), { name: "TypeError", message: "Message must be a string." });
  const ab = new Uint8Array([1, 2, 3]).buffer;
  const viewed = await payloadOf(ab).body();
  assert.equal(viewed.buffer, ab, "an ArrayBuffer is viewed, not copied");
  const buf = Buffer.from([5, 6, 7]);
  assert.equal(await payloadOf(buf).body(), buf);
  const sub = new Uint16Array([1, 2, 3]).subarray(1);
  const bytes = await payloadOf(sub).body();
  assert.equal(bytes.byteLength, 4);
  assert.equal(bytes.buffer, sub.buffer);
  await assert.rejects(payloadOf(new Blob([Buffer.from([9])])).body(), { name: "RestError", message: "Unrecognized body type" });
});
