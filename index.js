"use strict";
// web-pubsub-native: a drop-in for @azure/web-pubsub 1.2.0. This file resolves the official call shapes
// (constructor forms, message kinds, options) and hands each operation to the native client.

const { NativeClient } = require("./binding.js");
const { AzureKeyCredential, isTokenCredential } = require("./lib/credential");
const { RestError, AbortError, isRestError } = require("./lib/errors");
const { odata } = require("./lib/odata");
const { payloadOf } = require("./lib/message");
const { invoke } = require("./lib/call");
const { interpret } = require("./lib/response");
const { pagedIterator } = require("./lib/paging");
const { clientLog } = require("./lib/logging");
const { traced, attemptSpans } = require("./lib/tracing");

const API_VERSION = "2024-12-01";

// How each operation's flattened result is made from the raw response (as the official client does).
const voidFlat = () => ({ body: undefined });
const parsedFlat = (raw) => raw.parsedBody;
function existsFlat(raw) {
  raw.parsedBody = raw.status === 200;
  return { body: raw.parsedBody };
}

/** Options the native client takes at construction, picked from the official client options. */
function nativeOptions(options) {
  return {
    allowInsecureConnection: options?.allowInsecureConnection,
    reverseProxyEndpoint: options?.reverseProxyEndpoint,
    userAgentPrefix: options?.userAgentOptions?.userAgentPrefix,
    maxRetries: options?.retryOptions?.maxRetries,
    retryDelayInMs: options?.retryOptions?.retryDelayInMs,
    maxRetryDelayInMs: options?.retryOptions?.maxRetryDelayInMs,
    proxy: options?.proxyOptions ? proxyUrl(options.proxyOptions) : undefined,
    extraCaPem: extraCaCertificates(),
    rejectUnauthorized: rejectUnauthorized(),
  };
}

let warnedUnauthorized = false;

/** Node's rule: NODE_TLS_REJECT_UNAUTHORIZED=0 turns certificate checks off, with a warning once per process. */
function rejectUnauthorized() {
  if (process.env.NODE_TLS_REJECT_UNAUTHORIZED !== "0") return true;
  if (!warnedUnauthorized) {
    warnedUnauthorized = true;
    process.emitWarning(
      "Setting the NODE_TLS_REJECT_UNAUTHORIZED environment variable to '0' makes TLS connections and HTTPS requests insecure by disabling certificate verification.",
    );
  }
  return false;
}

const extraCa = { file: undefined, pem: undefined };

/**
 * The certificates Node adds to its roots from NODE_EXTRA_CA_CERTS (Node, too, skips an unreadable file), read again
 * only when the variable names another file.
 */
function extraCaCertificates() {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (file !== extraCa.file) {
    extraCa.file = file;
    try {
      extraCa.pem = file ? require("node:fs").readFileSync(file) : undefined;
    } catch {
      extraCa.pem = undefined;
    }
  }
  return extraCa.pem;
}

function proxyUrl({ host, port, username, password }) {
  const url = new URL(host.includes("://") ? host : `http://${host}`);
  if (port) url.port = String(port);
  if (username) url.username = username;
  if (password) url.password = password;
  return url.toString();
}

/** The `(scopes) => Promise<{token, expiresOnMs, refreshAfterMs}>` callback the native client calls for bearer tokens. */
function tokenProvider(credential) {
  return async (scopes) => {
    const token = await credential.getToken(scopes, {});
    if (!token) throw new Error("Failed to retrieve an access token.");
    return { token: token.token, expiresOnMs: token.expiresOnTimestamp, refreshAfterMs: token.refreshAfterTimestamp };
  };
}

class WebPubSubServiceClient {
  #native;
  #credential;
  #lastKey;
  #usesTokenCredential = false;
  #log;
  #logging = false;

  constructor(endpointOrConnectionString, credsOrHubName, hubNameOrOpts, opts) {
    this.apiVersion = API_VERSION;
    const options = typeof credsOrHubName === "object" ? opts : hubNameOrOpts;
    this.#log = clientLog(options);
    if (typeof credsOrHubName === "object") {
      this.hubName = hubNameOrOpts;
      this.#credential = credsOrHubName;
      if (isTokenCredential(credsOrHubName)) {
        this.#usesTokenCredential = true;
        this.#native = NativeClient.withTokenProvider(
          endpointOrConnectionString,
          this.hubName,
          tokenProvider(credsOrHubName),
          nativeOptions(options),
        );
      } else {
        this.#lastKey = credsOrHubName.key;
        this.#native = NativeClient.withKey(endpointOrConnectionString, this.#lastKey, this.hubName, nativeOptions(options));
      }
      this.endpoint = endpointOrConnectionString;
    } else {
      this.hubName = credsOrHubName;
      try {
        this.#native = NativeClient.fromConnectionString(endpointOrConnectionString, this.hubName, nativeOptions(options));
      } catch (e) {
        throw new TypeError(e.message);
      }
      this.endpoint = this.#native.endpoint;
    }
  }

  /** The native client, with the key credential's current key given to it if it was rotated. */
  #client() {
    const credential = this.#credential;
    if (credential && this.#lastKey !== undefined && credential.key !== this.#lastKey) {
      this.#lastKey = credential.key;
      this.#native.setKey(this.#lastKey);
    }
    return this.#native;
  }

  /** Runs `op`, calls `onResponse`, and returns the flattened result or throws the RestError. */
  async _run(op, body, options, flatOf = voidFlat) {
    const onResponse = options?.onResponse;
    const wantHeaders = onResponse !== undefined || flatOf === parsedFlat;
    if (this.#log.enabled()) {
      op.log = true;
      if (!this.#logging) {
        this.#native.observeAttempts(this.#log.onAttempt);
        this.#logging = true;
      }
    }
    const spans = attemptSpans(options, this.#log.redactor);
    const record = await invoke(this.#client(), op, body, options, wantHeaders, spans);
    // The hot path: a success nobody inspects builds no response objects.
    if (record.ok && !wantHeaders && flatOf === voidFlat) return { body: undefined };
    const { raw, flat, error } = interpret(record, flatOf, options);
    if (onResponse) onResponse(raw, flat);
    if (error) throw error;
    return flat;
  }

  async _send(op, message, options) {
    const { contentType, body } = payloadOf(message, options);
    op.contentType = contentType;
    if (options !== undefined) {
      op.excluded = options.excludedConnections;
      op.filter = options.filter;
      op.messageTtlSeconds = options.messageTtlSeconds;
    }
    return this._run(op, body, options);
  }

  async _exists(op, options) {
    return (await this._run(op, null, options, existsFlat)).body;
  }

  _close(op, options = {}) {
    // 1.2.0 reads `excluded` here, not the documented `excludedConnections`, which it ignores.
    op.excluded = options.excluded;
    op.reason = options.reason;
    return this._run(op, null, options);
  }

  group(groupName) {
    return new WebPubSubGroup(this, groupName);
  }

  sendToAll(message, options) {
    return traced("WebPubSubServiceClient.sendToAll", options, (options) =>
      this._send({ kind: "sendToAll" }, message, options),
    );
  }

  sendToUser(username, message, options) {
    return traced("WebPubSubServiceClient.sendToUser", options, (options) =>
      this._send({ kind: "sendToUser", user: username }, message, options),
    );
  }

  sendToConnection(connectionId, message, options) {
    return traced("WebPubSubServiceClient.sendToConnection", options, (options) =>
      this._send({ kind: "sendToConnection", connection: connectionId }, message, options),
    );
  }

  connectionExists(connectionId, options) {
    return traced("WebPubSubServiceClient.connectionExists", options, (options) =>
      this._exists({ kind: "connectionExists", connection: connectionId }, options),
    );
  }

  closeConnection(connectionId, options = {}) {
    return traced("WebPubSubServiceClient.closeConnection", options, (options) =>
      this._close({ kind: "closeConnection", connection: connectionId }, options),
    );
  }

  closeAllConnections(options = {}) {
    return traced("WebPubSubServiceClient.closeAllConnections", options, (options) =>
      this._close({ kind: "closeAllConnections" }, options),
    );
  }

  closeUserConnections(userId, options = {}) {
    return traced("WebPubSubServiceClient.closeUserConnections", options, (options) =>
      this._close({ kind: "closeUserConnections", user: userId }, options),
    );
  }

  removeUserFromAllGroups(userId, options = {}) {
    return traced("WebPubSubServiceClient.removeUserFromAllGroups", options, (options) =>
      this._run({ kind: "removeUserFromAllGroups", user: userId }, null, options),
    );
  }

  removeConnectionFromAllGroups(connectionId, options = {}) {
    return traced("WebPubSubServiceClient.removeConnectionFromAllGroups", options, (options) =>
      this._run({ kind: "removeConnectionFromAllGroups", connection: connectionId }, null, options),
    );
  }

  addConnectionsToGroups(groups, filter, options = {}) {
    return traced("WebPubSubServiceClient.addConnectionsToGroups", options, (options) =>
      this._run({ kind: "addConnectionsToGroups", groups, filter }, null, options),
    );
  }

  removeConnectionsFromGroups(groups, filter, options = {}) {
    return traced("WebPubSubServiceClient.removeConnectionsFromGroups", options, (options) =>
      this._run({ kind: "removeConnectionsFromGroups", groups, filter }, null, options),
    );
  }

  groupExists(groupName, options) {
    return traced("WebPubSubServiceClient.groupExists", options, (options) =>
      this._exists({ kind: "groupExists", group: groupName }, options),
    );
  }

  userExists(username, options) {
    return traced("WebPubSubServiceClient.userExists", options, (options) =>
      this._exists({ kind: "userExists", user: username }, options),
    );
  }

  grantPermission(connectionId, permission, options = {}) {
    return traced("WebPubSubServiceClient.grantPermission", options, (options) => {
      const op = { kind: "grantPermission", connection: connectionId, permission, targetName: options.targetName };
      return this._run(op, null, options);
    });
  }

  revokePermission(connectionId, permission, options = {}) {
    return traced("WebPubSubServiceClient.revokePermission", options, (options) => {
      const op = { kind: "revokePermission", connection: connectionId, permission, targetName: options.targetName };
      return this._run(op, null, options);
    });
  }

  hasPermission(connectionId, permission, options = {}) {
    return traced("WebPubSubServiceClient.hasPermission", options, (options) => {
      const op = { kind: "checkPermission", connection: connectionId, permission, targetName: options.targetName };
      return this._exists(op, options);
    });
  }

  getClientAccessToken(options = {}) {
    return traced("WebPubSubServiceClient.getClientAccessToken", options, async (options) => {
      const request = {
        userId: options.userId,
        roles: options.roles,
        groups: options.groups,
        expirationTimeInMinutes: options.expirationTimeInMinutes,
        clientProtocol: options.clientProtocol,
      };
      const native = this.#client();
      if (!this.#usesTokenCredential) return native.clientAccessToken(request);
      const flat = await this._run({ kind: "generateClientToken", ...request }, null, options, parsedFlat);
      return native.clientAccessUrls(flat.token, request.clientProtocol);
    });
  }
}

class WebPubSubGroup {
  #hub;

  constructor(hub, groupName) {
    this.#hub = hub;
    this.apiVersion = API_VERSION;
    this.groupName = groupName;
    this.hubName = hub.hubName;
  }

  addConnection(connectionId, options = {}) {
    return traced("WebPubSubGroupClient.addConnection", options, async (options) => {
      const op = { kind: "addConnectionToGroup", group: this.groupName, connection: connectionId };
      await this.#hub._run(op, null, options);
    });
  }

  removeConnection(connectionId, options = {}) {
    return traced("WebPubSubGroupClient.removeConnection", options, (options) => {
      const op = { kind: "removeConnectionFromGroup", group: this.groupName, connection: connectionId };
      return this.#hub._run(op, null, options);
    });
  }

  closeAllConnections(options = {}) {
    return traced("WebPubSubGroupClient.closeAllConnections", options, (options) =>
      this.#hub._close({ kind: "closeGroupConnections", group: this.groupName }, options),
    );
  }

  addUser(username, options = {}) {
    return traced("WebPubSubGroupClient.addUser", options, (options) =>
      this.#hub._run({ kind: "addUserToGroup", group: this.groupName, user: username }, null, options),
    );
  }

  removeUser(username, options = {}) {
    return traced("WebPubSubGroupClient.removeUser", options, (options) =>
      this.#hub._run({ kind: "removeUserFromGroup", group: this.groupName, user: username }, null, options),
    );
  }

  sendToAll(message, options) {
    return traced("WebPubSubGroupClient.sendToAll", options, (options) =>
      this.#hub._send({ kind: "sendToGroup", group: this.groupName }, message, options),
    );
  }

  /** Resolves to the paged iterator, as 1.2.0 does (it returns a Promise). */
  listConnections(options = {}) {
    return traced("WebPubSubGroupClient.listConnections", options, async (options) => {
      const hub = this.#hub;
      const group = this.groupName;
      return pagedIterator(async (nextLink) => {
        const op = nextLink
          ? { kind: "listConnectionsNext", group, nextLink }
          : { kind: "listConnectionsInGroup", group, maxPageSize: options.maxPageSize, top: options.top };
        const flat = await hub._run(op, null, options, parsedFlat);
        return flat ?? {};
      });
    });
  }
}

exports.WebPubSubServiceClient = WebPubSubServiceClient;
exports.AzureKeyCredential = AzureKeyCredential;
exports.odata = odata;
exports.RestError = RestError;
exports.AbortError = AbortError;
exports.isRestError = isRestError;
