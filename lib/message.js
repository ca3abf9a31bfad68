"use strict";
// Decides how a message is sent: JSON text, plain text or bytes (the official SDK's rules).

const { RestError } = require("./errors");

const CONTENT_JSON = "application/json";
const CONTENT_TEXT = "text/plain";
const CONTENT_BINARY = "application/octet-stream";

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
  if (message.constructor?.name === "Blob") throw new RestError("Unrecognized body type");
  return new Uint8Array(message);
}

/**
 * Returns `{ contentType, body }` where body is a string, or a Promise of a Uint8Array for binary.
 * Throws TypeError for `text/plain` with a non-string, and whatever JSON.stringify throws.
 */
function payloadOf(message, options) {
  if (options?.contentType === CONTENT_TEXT) {
    if (typeof message !== "string") throw new TypeError("Message must be a string.");
    return { contentType: CONTENT_TEXT, body: message };
  }
  if (isBinary(message)) return { contentType: CONTENT_BINARY, body: bytesOf(message) };
  return { contentType: CONTENT_JSON, body: JSON.stringify(message) };
}

module.exports = { payloadOf };
