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

/** The record of an answer, or the error of a failure record; either ends the attempt's span. */
function settled(record, options, spans) {
  if (record.failure) {
    const error = failureError(record, options);
    spans?.failed(error);
    throw error;
  }
  spans?.answered(record);
  return record;
}

/**
 * Calls `native.invoke(op, body, cancel, wantHeaders, trace)` and returns a Promise of its response record.
 * `body` is a string, or a function returning a Promise of a Uint8Array or string (binary messages; it
 * rejects for a Blob), called once the call is known not to be aborted already. `spans` (lib/tracing.js),
 * when not null, opens a span per attempt; the call's end ends the last one.
 * Not an async function: a call without an abort signal or a pending body then costs one promise
 * step on top of the native one. It may throw synchronously; its caller is async.
 */
function invoke(native, op, body, options, wantHeaders, spans = null) {
  if (options?.abortSignal?.aborted) return Promise.reject(new AbortError(ABORTED_BEFORE));
  if (typeof body === "function") {
    return body().then((bytes) => send(native, op, bytes, options, wantHeaders, spans));
  }
  return send(native, op, body, options, wantHeaders, spans);
}

function send(native, op, body, options, wantHeaders, spans) {
  const requestOptions = options?.requestOptions;
  if (requestOptions !== undefined) {
    op.timeout = requestOptions.timeout;
    op.customHeaders = requestOptions.customHeaders;
  }
  const signal = options?.abortSignal;
  if (!signal && spans === null) {
    return native.invoke(op, body ?? null, null, wantHeaders).then((record) => settled(record, options));
  }
  return sendObserved(native, op, body, signal, options, wantHeaders, spans);
}

/** A call with an abort signal or attempt spans (the span's status wants the answer's headers). */
async function sendObserved(native, op, body, signal, options, wantHeaders, spans) {
  const handle = signal ? new CancelHandle() : null;
  const onAbort = () => handle.cancel();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const trace = spans?.onAttempt;
    const record = await native.invoke(op, body ?? null, handle, wantHeaders || spans !== null, trace);
    return settled(record, options, spans);
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

module.exports = { invoke, failureError };
