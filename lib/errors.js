"use strict";
// RestError and AbortError: the user's own classes when @azure/core-rest-pipeline or
// @azure/abort-controller is installed (so `instanceof` works), else look-alikes with the same fields. The peers are
// loaded when the first error is made or checked.

const { optionalRequire, lazyClass } = require("./optional");

class OwnRestError extends Error {
  static REQUEST_SEND_ERROR = "REQUEST_SEND_ERROR";
  static PARSE_ERROR = "PARSE_ERROR";
  constructor(message, options = {}) {
    super(message);
    this.name = "RestError";
    this.code = options.code;
    this.statusCode = options.statusCode;
    Object.defineProperty(this, "request", { value: options.request, enumerable: false });
    Object.defineProperty(this, "response", { value: options.response, enumerable: false });
  }
}

class OwnAbortError extends Error {
  constructor(message) {
    super(message);
    this.name = "AbortError";
  }
}

const RestError = lazyClass(
  "RestError",
  () => optionalRequire("@azure/core-rest-pipeline")?.RestError ?? OwnRestError,
  { REQUEST_SEND_ERROR: OwnRestError.REQUEST_SEND_ERROR, PARSE_ERROR: OwnRestError.PARSE_ERROR },
);
const AbortError = lazyClass("AbortError", () => optionalRequire("@azure/abort-controller")?.AbortError ?? OwnAbortError);

/** core-rest-pipeline's rule: a RestError, or any Error named "RestError". */
function isRestError(e) {
  return e instanceof Error && e.name === "RestError";
}

module.exports = { RestError, AbortError, isRestError };
