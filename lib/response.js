"use strict";
// Builds what callers see of an HTTP answer: the `onResponse(rawResponse, flatResponse)` arguments and
// the RestError for an unexpected status, following the official pipeline's parsing rules.

const { RestError } = require("./errors");

/**
 * Case-insensitive headers with the official `HttpHeaders` methods, over a `[name, value, ...]` list.
 * Names given to the constructor are kept in lower case (as Node reports received headers); names
 * given to `set` keep their case for `toJSON({ preserveCase: true })` and iteration.
 */
class HttpHeaders {
  #map = new Map();
  constructor(flat = []) {
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const key = flat[i].toLowerCase();
      const prev = this.#map.get(key);
      const value = prev === undefined ? flat[i + 1] : `${prev.value}, ${flat[i + 1]}`;
      this.#map.set(key, { name: key, value });
    }
  }
  get(name) {
    return this.#map.get(name.toLowerCase())?.value;
  }
  has(name) {
    return this.#map.has(name.toLowerCase());
  }
  set(name, value) {
    this.#map.set(name.toLowerCase(), { name, value: String(value).trim() });
  }
  delete(name) {
    this.#map.delete(name.toLowerCase());
  }
  toJSON(options = {}) {
    const out = {};
    for (const [key, { name, value }] of this.#map) out[options.preserveCase ? name : key] = value;
    return out;
  }
  toString() {
    return JSON.stringify(this.toJSON({ preserveCase: true }));
  }
  *[Symbol.iterator]() {
    for (const { name, value } of this.#map.values()) yield [name, value];
  }
}

/** The request a response answers, with the fields of the pipeline's `PipelineRequest`. */
function requestOf(record, options) {
  const headers = new HttpHeaders(record.requestHeaders);
  return {
    url: record.url,
    method: record.method,
    headers,
    timeout: options?.requestOptions?.timeout ?? 0,
    withCredentials: false,
    requestId: headers.get("x-ms-client-request-id"),
  };
}

const JSON_CONTENT = ["application/json", "text/json"];

/** The body parsed as the pipeline does: JSON unless a non-JSON content type says otherwise. */
function parseBody(raw) {
  const text = raw.bodyAsText;
  if (!text) return { parsed: undefined };
  const contentType = raw.headers.get("content-type") || "";
  const parts = contentType ? contentType.split(";").map((p) => p.toLowerCase()) : [];
  if (parts.length > 0 && !parts.some((p) => JSON_CONTENT.includes(p))) return { parsed: undefined };
  try {
    return { parsed: JSON.parse(text) };
  } catch (err) {
    return { parseError: err };
  }
}

/** Header object of an error answer, with `x-ms-error-code` renamed to `errorCode`. */
function errorHeaders(headers) {
  const out = {};
  for (const [name, value] of headers) out[name === "x-ms-error-code" ? "errorCode" : name] = value;
  return out;
}

/** A request with its Authorization value REDACTED, so an error that is logged or serialized holds no token. */
function redacted(request) {
  const headers = new HttpHeaders();
  for (const [name, value] of request.headers) headers.set(name, name.toLowerCase() === "authorization" ? "REDACTED" : value);
  return { ...request, headers };
}

/** The `request` and `response` a RestError carries: `response` is the object `onResponse` sees. */
function errorContext(raw) {
  return { request: redacted(raw.request), response: raw };
}

/** The request of a failure record that carries one (redacted), else undefined. */
function failedRequest(record, options) {
  return record.url == null ? undefined : redacted(requestOf(record, options));
}

/**
 * Turns a native response record into `{ raw, flat, error? }`. `record.ok` says whether the operation
 * accepts the status (decided in Rust); `flatOf(raw)` builds the flattened success value; `options` are
 * the call's options (for `requestOptions.timeout`).
 */
function interpret(record, flatOf, options) {
  const raw = {
    status: record.status,
    headers: new HttpHeaders(record.headers),
    request: requestOf(record, options),
    bodyAsText: record.method === "HEAD" ? undefined : (record.bodyText ?? ""),
  };
  const { parsed, parseError } = parseBody(raw);
  if (parseError) {
    const error = new RestError(`Error "${parseError}" occurred while parsing the response body - ${raw.bodyAsText}.`, {
      code: parseError.code || RestError.PARSE_ERROR,
      statusCode: raw.status,
      ...errorContext(raw),
    });
    return { raw, flat: undefined, error };
  }
  raw.parsedBody = parsed;
  if (record.ok) return { raw, flat: flatOf(raw) };

  const error = new RestError(raw.bodyAsText, { statusCode: raw.status, ...errorContext(raw) });
  try {
    if (parsed) {
      const inner = parsed.error || parsed;
      error.code = inner.code;
      if (inner.message) error.message = inner.message;
    }
    raw.parsedHeaders = errorHeaders(raw.headers);
  } catch (e) {
    error.message = `Error "${e.message}" occurred in deserializing the responseBody - "${raw.bodyAsText}" for the default response.`;
  }
  const flat = { ...raw.parsedHeaders, ...(parsed && typeof parsed === "object" ? parsed : {}) };
  error.details = flat;
  return { raw, flat, error };
}

module.exports = { interpret, failedRequest, HttpHeaders };
