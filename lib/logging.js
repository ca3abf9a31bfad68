"use strict";
// Request/response logging in the `azure:web-pubsub` namespace, with the lines the official pipeline's
// logging policy writes (one "Request:" per attempt, "Response status code:" and "Headers:" per answer).
// Through @azure/logger when the user has it (so setLogLevel and an AzureLogger.log override apply);
// without it, AZURE_LOG_LEVEL=info|verbose writes the same lines to stderr. Header and query values not
// on the allow list are written as REDACTED; Authorization never reaches JS in the first place.

const { optionalRequire } = require("./optional");

const NAMESPACE = "azure:web-pubsub:info";
const REDACTED = "REDACTED";
// The headers and query parameters core-rest-pipeline logs by value.
const ALLOWED_HEADERS = [
  "x-ms-client-request-id",
  "x-ms-return-client-request-id",
  "x-ms-useragent",
  "x-ms-correlation-request-id",
  "x-ms-request-id",
  "client-request-id",
  "ms-cv",
  "return-client-request-id",
  "traceparent",
  "access-control-allow-credentials",
  "access-control-allow-headers",
  "access-control-allow-methods",
  "access-control-allow-origin",
  "access-control-expose-headers",
  "access-control-max-age",
  "access-control-request-headers",
  "access-control-request-method",
  "origin",
  "accept",
  "accept-encoding",
  "cache-control",
  "connection",
  "content-length",
  "content-type",
  "date",
  "etag",
  "expires",
  "if-match",
  "if-modified-since",
  "if-none-match",
  "if-unmodified-since",
  "last-modified",
  "pragma",
  "request-id",
  "retry-after",
  "server",
  "transfer-encoding",
  "user-agent",
  "www-authenticate",
];
const ALLOWED_QUERY = ["api-version"];
const INFO_LEVELS = new Set(["verbose", "info"]);

/** Where lines go: the user's @azure/logger, or stderr when AZURE_LOG_LEVEL asks; undefined when neither can log. */
function createSink() {
  const azureLogger = optionalRequire("@azure/logger");
  if (azureLogger) {
    const logger = azureLogger.createClientLogger("web-pubsub");
    return { enabled: () => logger.info.enabled, write: (line) => logger.info(line) };
  }
  const level = process.env.AZURE_LOG_LEVEL?.toLowerCase();
  if (!INFO_LEVELS.has(level)) return undefined;
  return { enabled: () => true, write: (line) => process.stderr.write(`${NAMESPACE} ${line}\n`) };
}

let sink;
function sharedSink() {
  sink ??= { value: createSink() };
  return sink.value;
}

/** Header and query redaction with the user's `loggingOptions` allow-list additions. */
class Redactor {
  #headers;
  #query;
  constructor(loggingOptions = {}) {
    const lower = (names) => names.map((n) => String(n).toLowerCase());
    this.#headers = new Set([...ALLOWED_HEADERS, ...lower(loggingOptions.additionalAllowedHeaderNames ?? [])]);
    this.#query = new Set([...ALLOWED_QUERY, ...lower(loggingOptions.additionalAllowedQueryParameters ?? [])]);
  }

  /** `[name, value, ...]` as an object, values not on the allow list replaced. */
  headers(flat) {
    const out = {};
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = flat[i].toLowerCase();
      out[name] = this.#headers.has(name) ? flat[i + 1] : REDACTED;
    }
    return out;
  }

  url(text) {
    const url = new URL(text);
    if (!url.search) return text;
    for (const [key] of url.searchParams) {
      if (!this.#query.has(key.toLowerCase())) url.searchParams.set(key, REDACTED);
    }
    return url.toString();
  }
}

/**
 * The logger of one client. `enabled()` is checked per call (the first check loads @azure/logger, when installed);
 * `onAttempt` receives the native attempt events; `redactor()` gives its redaction rules.
 */
function clientLog(options = {}) {
  const { loggingOptions, allowInsecureConnection: insecure } = options;
  let built; // built at the first use: most clients never log or trace
  const redactor = () => (built ??= new Redactor(loggingOptions));
  return {
    enabled: () => sharedSink()?.enabled() ?? false,
    /** The client's redaction rules, which its trace spans' `http.url` follows too. */
    redactor,
    onAttempt(event) {
      const out = sharedSink();
      const redact = redactor();
      if (event.kind === "request") {
        const headers = redact.headers(event.headers);
        const request = {
          url: redact.url(event.url),
          method: event.method,
          headers,
          timeout: 0,
          withCredentials: false,
          // Pipeline fields the official line carries, with the values they always have for this client.
          streamResponseStatusCodes: {},
          enableBrowserStreams: false,
          disableKeepAlive: false,
          requestId: headers["x-ms-client-request-id"],
          allowInsecureConnection: insecure,
          tracingOptions: { tracingContext: { _contextMap: {} } },
        };
        out.write(`Request: ${JSON.stringify(request, null, 2)}`);
      } else {
        out.write(`Response status code: ${event.status}`);
        out.write(`Headers: ${JSON.stringify(redact.headers(event.headers), null, 2)}`);
      }
    },
  };
}

module.exports = { clientLog };
