"use strict";
// OpenTelemetry spans through @azure/core-tracing, when the user has it installed: each operation runs in a span
// named as 1.2.0 names it, and each HTTP attempt of a recording span gets a child `HTTP <METHOD>` client span, whose
// `traceparent` / `tracestate` headers go with the request, with the attributes and statuses core-rest-pipeline's
// tracing policy gives it. Without the peer an operation costs one check.

const { optionalRequire } = require("./optional");
const { failureError } = require("./call");
const { HttpHeaders } = require("./response");

const NAMESPACE = "Microsoft.WebPubSub";
/** Marks the options of an operation whose span records: its attempts get spans. */
const RECORDING = Symbol("web-pubsub-native.recordingSpan");

let tracing; // undefined: not looked up yet; null: no @azure/core-tracing
function tracingClient() {
  if (tracing === undefined) {
    const coreTracing = optionalRequire("@azure/core-tracing");
    tracing = coreTracing
      ? coreTracing.createTracingClient({
          namespace: NAMESPACE,
          packageName: "web-pubsub-native",
          packageVersion: require("../package.json").version,
        })
      : null;
  }
  return tracing;
}

/** `operation(options)`; like 1.2.0's async methods, it never throws, it rejects. */
function run(operation, options) {
  try {
    return operation(options);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * `operation(options)` inside the span `name`, as 1.2.0's `tracingClient.withSpan(name, options, ...)`: the operation
 * gets the options with the span's tracing context, and the span ends with its outcome. A span that does not record
 * (no instrumenter, or one that samples it out) is ended at once and the operation runs as without the peer: nothing
 * it would do is observable, and the call keeps its speed.
 */
function traced(name, options, operation) {
  const client = tracingClient();
  if (client === null) return run(operation, options);
  const { span, updatedOptions } = client.startSpan(name, options);
  if (!span.isRecording()) {
    span.end();
    return run(operation, options);
  }
  updatedOptions[RECORDING] = true;
  return inSpan(client, span, updatedOptions, operation);
}

async function inSpan(client, span, options, operation) {
  try {
    const context = options.tracingOptions.tracingContext;
    const result = await client.withContext(context, () => Promise.resolve(operation(options)));
    span.setStatus({ status: "success" });
    return result;
  } catch (error) {
    span.setStatus({ status: "error", error });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * The spans of one call's HTTP attempts, or null when the operation's span does not record. `onAttempt` is the
 * native call's trace callback; `answered(record)` / `failed(error)` end the attempt still open when the call ends.
 * Like the official policy, nothing here may throw into the request: a tracing failure only loses a span.
 */
function attemptSpans(options, redactor) {
  if (!options?.[RECORDING]) return null;
  const client = tracingClient();
  const parent = { tracingOptions: options.tracingOptions };
  let open;
  const end = (finish) => {
    const span = open;
    open = undefined;
    if (span === undefined) return;
    try {
      finish(span);
      span.end();
    } catch {
      // The instrumenter failed: the span is lost, the call goes on.
    }
  };
  const answered = (record) =>
    end((span) => {
      span.setAttribute("http.status_code", record.status);
      const serviceRequestId = new HttpHeaders(record.headers).get("x-ms-request-id");
      if (serviceRequestId) span.setAttribute("serviceRequestId", serviceRequestId);
      if (record.status >= 400) span.setStatus({ status: "error" });
    });
  const failed = (error) =>
    end((span) => {
      span.setStatus({ status: "error", error });
      if (error.statusCode) span.setAttribute("http.status_code", error.statusCode);
    });
  function start(event) {
    try {
      const { span, updatedOptions } = client.startSpan(`HTTP ${event.method}`, parent, {
        spanKind: "client",
        spanAttributes: {
          "http.url": redactor().url(event.url),
          "http.method": event.method,
          "http.user_agent": event.userAgent,
          requestId: event.requestId,
        },
      });
      if (!span.isRecording()) {
        span.end();
        return undefined;
      }
      open = span;
      const headers = client.createRequestHeaders(updatedOptions.tracingOptions.tracingContext);
      return Object.entries(headers).flat();
    } catch {
      return undefined;
    }
  }
  return {
    onAttempt(event) {
      if (event.kind === "start") return start(event);
      const ended = event.ended;
      if (ended.failure) failed(failureError(ended, options));
      else answered(ended);
      return undefined;
    },
    answered,
    failed,
  };
}

module.exports = { traced, attemptSpans };
