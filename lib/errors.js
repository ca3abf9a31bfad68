"use strict";
// RestError and AbortError: the user's own classes when @azure/core-rest-pipeline or
// @azure/abort-controller is installed (so `instanceof` works), else look-alikes with the same fields.

const { optionalRequire } = require("./optional");

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

const RestError = optionalRequire("@azure/core-rest-pipeline")?.RestError ?? OwnRestError;
const AbortError = optionalRequire("@azure/abort-controller")?.AbortError ?? OwnAbortError;

function isRestError(e) {
  return e instanceof RestError || (e instanceof Error && e.name === "RestError");
}

module.exports = { RestError, AbortError, isRestError, OwnRestError, OwnAbortError };
