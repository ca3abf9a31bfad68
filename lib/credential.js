"use strict";
// AzureKeyCredential (the user's @azure/core-auth class when installed, loaded when the first one is made) and the
// TokenCredential test.

const { optionalRequire, lazyClass } = require("./optional");

class OwnAzureKeyCredential {
  #key;
  constructor(key) {
    if (!key) throw new Error("key must be a non-empty string");
    this.#key = key;
  }
  get key() {
    return this.#key;
  }
  update(newKey) {
    this.#key = newKey;
  }
}

const AzureKeyCredential = lazyClass(
  "AzureKeyCredential",
  () => optionalRequire("@azure/core-auth")?.AzureKeyCredential ?? OwnAzureKeyCredential,
);

/** The rule @azure/core-auth uses to tell a TokenCredential from other credentials. */
function isTokenCredential(credential) {
  return Boolean(
    credential &&
      typeof credential.getToken === "function" &&
      (credential.signRequest === undefined || credential.getToken.length > 0),
  );
}

module.exports = { AzureKeyCredential, isTokenCredential };
