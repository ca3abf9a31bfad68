"use strict";
// Decides how a message is sent: JSON text, plain text or bytes (the official SDK's rules).

const { RestError } = require("./errors");

const CONTENT_JSON = "application/json";
const CONTENT_TEXT = "text/plain";
const CONTENT_BINARY = "application/octet-stream";
// core-rest-pipeline's message for a body its Node transport cannot send.
const UNRECOGNIZED_BODY = "Unrecognized body type";

function isBinary(message) {
  return (
    typeof message === "object" &&
    message !== null &&
    (message instanceof ArrayBuffer ||
      ArrayBuffer.isView(message) ||
      message.constructor?.name === "ArrayBuffer" ||
      message.constructor?.name === "Blob")
  );
}

/**
 * Bytes as a Uint8Array view of the caller's memory (no copy). A Blob is taken for binary but, as in
 * the official client, its transport cannot send it: the call fails without a request.
 */
async function bytesOf(message) {
  if (message instanceof Uint8Array) return message;
  if (ArrayBuffer.isView(message)) return new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
  if (message.constructor?.name === "Blob") throw new RestError(UNRECOGNIZED_BODY);
  return new Uint8Array(message);
}

/**
 * A message given as a function: called for the body as the official Node transport does. A Node stream
 * is read to its end (one read serves every retry; the official client calls the function per attempt);
 * a string or bytes are sent as they are; anything else fails without a request, as it does there.
 */
async function bodyOfFactory(factory) {
  const body = factory();
  if (typeof body === "string") return body;
  if (typeof body?.pipe === "function" && typeof body.on === "function") return readStream(body);
  if (isBinary(body)) return bytesOf(body);
  throw new RestError(UNRECOGNIZED_BODY);
}

/** All of a Node stream's data as one Uint8Array; a stream error rejects (the official client crashes). */
function readStream(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    stream.on("data", (chunk) => chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
    stream.once("error", reject);
    stream.once("end", () => {
      try {
        resolve(Buffer.concat(chunks));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/**
 * Returns `{ contentType, body }` where body is a string, or for binary a function that makes it (a Promise
 * of a Uint8Array or string), called only when the request is about to be sent.
 * Throws TypeError for `text/plain` with a non-string, and whatever JSON.stringify throws.
 */
function payloadOf(message, options) {
  if (options?.contentType === CONTENT_TEXT) {
    if (typeof message !== "string") throw new TypeError("Message must be a string.");
    return { contentType: CONTENT_TEXT, body: message };
  }
  if (typeof message === "function") return { contentType: CONTENT_BINARY, body: () => bodyOfFactory(message) };
  if (isBinary(message)) return { contentType: CONTENT_BINARY, body: () => bytesOf(message) };
  return { contentType: CONTENT_JSON, body: JSON.stringify(message) };
}

module.exports = { payloadOf };
