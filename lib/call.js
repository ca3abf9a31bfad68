"use strict";
// Runs one native operation: honours an AbortSignal, and turns a native failure record into the error
// the official SDK throws.

const { CancelHandle } = require("../binding.js");
const { RestError, AbortError } = require("./errors");
const { failedRequest } = require("./response");

const ABORTED_BEFORE = "The operation was aborted. Request has already been canceled.";
const ABORTED_DURING = "The operation was aborted. Rejecting from abort signal callback while making request.";

function failureError(record, options) {
  const failure = record.failure;
  switch (failure.kind) {
    case "cancelled":
      return new AbortError(ABORTED_DURING);
    case "timedOut":
      return new AbortError(failure.message);
    case "transport":
      return new RestError(failure.message, {
        code: failure.code ?? RestError.REQUEST_SEND_ERROR,
        request: failedRequest(record, options),
      });
    case "invalidArgument":
      return new TypeError(failure.message);
    default:
      return new Error(failure.message);
  }
}

/** The record of an answer, or the error of a failure record. */
function settled(record, options) {
  if (record.failure) throw failureError(record, options);
  return record;
}

/**
 * Calls `native.invoke(op, body, cancel, wantHeaders)` and returns a Promise of its response record.
 * `body` is a string, or a function returning a Promise of a Uint8Array or string (binary messages; it
 * rejects for a Blob), called once the call is known not to be aborted already.
 * Not an async function: a call without an abort signal or a pending body then costs one promise
 * step on top of the native one. It may throw synchronously; its caller is async.
 */
function invoke(native, op, body, options, wantHeaders) {
  if (options?.abortSignal?.aborted) return Promise.reject(new AbortError(ABORTED_BEFORE));
  if (typeof body === "function") {
    return body().then((bytes) => send(native, op, bytes, options, wantHeaders));
  }
  return send(native, op, body, options, wantHeaders);
}

function send(native, op, body, options, wantHeaders) {
  const requestOptions = options?.requestOptions;
  if (requestOptions !== undefined) {
    op.timeout = requestOptions.timeout;
    op.customHeaders = requestOptions.customHeaders;
  }
  const signal = options?.abortSignal;
  if (!signal) return native.invoke(op, body ?? null, null, wantHeaders).then((record) => settled(record, options));
  return sendCancellable(native, op, body, signal, options, wantHeaders);
}

async function sendCancellable(native, op, body, signal, options, wantHeaders) {
  const handle = new CancelHandle();
  const onAbort = () => handle.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return settled(await native.invoke(op, body ?? null, handle, wantHeaders), options);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

module.exports = { invoke };
