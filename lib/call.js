"use strict";
// Runs one native operation: honours an AbortSignal, and turns a native failure record into the error
// the official SDK throws.

const { CancelHandle } = require("../binding.js");
const { RestError, AbortError } = require("./errors");

const ABORTED_BEFORE = "The operation was aborted. Request has already been canceled.";
const ABORTED_DURING = "The operation was aborted. Rejecting from abort signal callback while making request.";

function failureError(failure) {
  switch (failure.kind) {
    case "cancelled":
      return new AbortError(ABORTED_DURING);
    case "timedOut":
      return new AbortError(failure.message);
    case "transport":
      return new RestError(failure.message, { code: failure.code ?? RestError.REQUEST_SEND_ERROR });
    case "invalidArgument":
      return new TypeError(failure.message);
    default:
      return new Error(failure.message);
  }
}

/**
 * Calls `native.invoke(op, body, cancel, wantHeaders)` and returns its response record.
 * `body` is a string, a Uint8Array, or a Promise of one (binary messages; it rejects for a Blob).
 */
async function invoke(native, op, body, options, wantHeaders) {
  const signal = options?.abortSignal;
  if (signal?.aborted) throw new AbortError(ABORTED_BEFORE);
  if (body && typeof body.then === "function") body = await body;
  const requestOptions = options?.requestOptions;
  if (requestOptions !== undefined) {
    op.timeout = requestOptions.timeout;
    op.customHeaders = requestOptions.customHeaders;
  }
  let handle = null;
  let onAbort;
  if (signal) {
    handle = new CancelHandle();
    onAbort = () => handle.cancel();
    signal.addEventListener("abort", onAbort, { once: true });
  }
  let record;
  try {
    record = await native.invoke(op, body ?? null, handle, wantHeaders);
  } finally {
    if (signal) signal.removeEventListener("abort", onAbort);
  }
  if (record.failure) throw failureError(record.failure);
  return record;
}

module.exports = { invoke };
