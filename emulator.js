"use strict";
// web-pubsub-native/emulator: start the Rust Web PubSub emulator inside this Node process.

const { NativeEmulator } = require("./binding.js");

/**
 * Starts an emulator and resolves once it is listening.
 * @param {{ port?: number, host?: string, accessKey?: string }} [options]
 */
async function startEmulator(options = {}) {
  const native = await NativeEmulator.start({
    port: options.port,
    host: options.host ?? "127.0.0.1",
    accessKey: options.accessKey,
  });
  let closing;
  return {
    connectionString: native.connectionString,
    endpoint: native.endpoint,
    port: native.port,
    host: native.host,
    close() {
      closing ??= native.close();
      return closing;
    },
  };
}

module.exports = { startEmulator };
