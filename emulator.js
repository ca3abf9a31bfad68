"use strict";
// web-pubsub-native/emulator: start the Rust Web PubSub emulator inside this Node process.

const { NativeEmulator } = require("./binding.js");

/**
 * Starts an emulator and resolves once it is listening.
 * @param {import("./emulator").EmulatorOptions} [options]
 */
async function startEmulator(options = {}) {
  const { tls } = options;
  const native = await NativeEmulator.start({
    port: options.port,
    host: options.host ?? "127.0.0.1",
    accessKey: options.accessKey,
    eventHandlerSettings: settingsDocument(options),
    eventHandlerSpecs: options.eventHandlers,
    tls: Boolean(tls),
    tlsCertificatePem: typeof tls === "object" ? pemText(tls.cert) : undefined,
    tlsKeyPem: typeof tls === "object" ? pemText(tls.key) : undefined,
    allowUnvalidatedEntraTokens: options.allowUnvalidatedEntraTokens,
    traceCapacity: options.traceCapacity,
    maxQueuedBytes: options.maxQueuedBytes,
    writeTimeoutMs: options.writeTimeoutMs,
    maxConnections: options.maxConnections,
  });
  // The emulator serves from the addon's own threads. Like a listening http.Server, it keeps Node's event loop
  // alive until close(); this timer is what Node sees.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let closing;
  return {
    connectionString: native.connectionString,
    endpoint: native.endpoint,
    port: native.port,
    host: native.host,
    certificate: native.certificate ?? undefined,
    liveTraceUrl: native.liveTraceUrl,
    trace(traceOptions = {}) {
      return follow(native, traceOptions);
    },
    async inspect(hub) {
      const hubs = JSON.parse(await native.inspect(hub));
      return hub === undefined ? hubs : hubs[0];
    },
    close() {
      clearInterval(keepAlive);
      closing ??= native.close();
      return closing;
    },
  };
}

/**
 * The live trace as an async iterator of records (and `{ missed }` gaps for a follower that fell behind), from
 * the records kept now on. `close()` (or leaving a `for await` loop) ends it; it also ends with the emulator.
 */
function follow(native, { categories, hub } = {}) {
  if (categories !== undefined && !Array.isArray(categories)) {
    throw new TypeError("categories must be an array of 'connectivity', 'messaging' or 'http'");
  }
  const subscription = native.trace(categories?.join(","), hub);
  const next = async () => {
    const text = await (await subscription).next();
    return text === null ? { done: true, value: undefined } : { done: false, value: JSON.parse(text) };
  };
  const close = async () => {
    (await subscription).close();
    return { done: true, value: undefined };
  };
  return { next, return: close, close, [Symbol.asyncIterator]() { return this; } };
}

/** The JSON settings document: the `settingsFile` as written, or `{ hubs }`; both when given would be ambiguous. */
function settingsDocument(options) {
  if (options.settingsFile !== undefined && options.hubs !== undefined) {
    throw new TypeError("give either settingsFile or hubs, not both");
  }
  if (options.settingsFile !== undefined) return require("node:fs").readFileSync(options.settingsFile, "utf8");
  return options.hubs === undefined ? undefined : JSON.stringify({ hubs: options.hubs });
}

/** PEM given as text or bytes (e.g. `fs.readFileSync(path)`). */
function pemText(pem) {
  if (pem === undefined || typeof pem === "string") return pem;
  return Buffer.from(pem).toString("utf8");
}

module.exports = { startEmulator };
