#!/usr/bin/env node
// The `web-pubsub-native` command line: the emulator, and the service operations people otherwise script.
"use strict";

const { parseArgs } = require("node:util");
const fs = require("node:fs");

const DEFAULT_CONNECTION_STRING =
  "Endpoint=http://localhost:8080;AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;Version=1.0;";

const COMMON = {
  "connection-string": { type: "string" },
  hub: { type: "string", short: "h" },
  help: { type: "boolean" },
};
const TARGET = {
  all: { type: "boolean" },
  group: { type: "string", short: "g" },
  user: { type: "string", short: "u" },
  connection: { type: "string", short: "c" },
};

const COMMANDS = {
  emulator: {
    usage:
      "emulator [--port 8080] [--host localhost] [--access-key KEY] [--settings FILE]\n" +
      "         [--event-handler 'hub=NAME;url=TEMPLATE[;events=connect,connected,disconnected][;user=PATTERN][;presence=joined,left]']...\n" +
      "         [--tls [--cert PEM_FILE --key PEM_FILE]] [--allow-unvalidated-entra-tokens] [--trace-capacity 2000]",
    about: "Run a local Web PubSub emulator until Ctrl-C.",
    options: {
      port: { type: "string", short: "p" },
      host: { type: "string" },
      "access-key": { type: "string" },
      settings: { type: "string" },
      "event-handler": { type: "string", multiple: true },
      tls: { type: "boolean" },
      cert: { type: "string" },
      key: { type: "string" },
      "allow-unvalidated-entra-tokens": { type: "boolean" },
      "trace-capacity": { type: "string" },
      help: COMMON.help,
    },
    run: runEmulator,
  },
  token: {
    usage: "token --hub HUB [--user ID] [--role ROLE]... [--group NAME]... [--expires MINUTES] [--protocol default|mqtt|socketio]",
    about: "Print a client access URL (with its token) for a hub.",
    options: {
      ...COMMON,
      user: TARGET.user,
      role: { type: "string", multiple: true },
      group: { type: "string", multiple: true },
      expires: { type: "string" },
      protocol: { type: "string" },
    },
    run: runToken,
  },
  send: {
    usage: "send --hub HUB (--all | --group G | --user U | --connection C) (--text T | --json J | --file PATH)",
    about: "Send a message: text, JSON, or a file's bytes as binary.",
    options: { ...COMMON, ...TARGET, text: { type: "string" }, json: { type: "string" }, file: { type: "string" } },
    run: runSend,
  },
  exists: {
    usage: "exists --hub HUB (--group G | --user U | --connection C)",
    about: "Print whether a group, user or connection has live connections (exit 0 either way).",
    options: { ...COMMON, ...TARGET },
    run: runExists,
  },
  close: {
    usage: "close --hub HUB (--all | --group G | --user U | --connection C) [--reason TEXT]",
    about: "Close connections.",
    options: { ...COMMON, ...TARGET, reason: { type: "string" } },
    run: runClose,
  },
  group: {
    usage: "group add|remove --hub HUB --group G (--user U | --connection C)",
    about: "Add a user or connection to a group, or remove it.",
    options: { ...COMMON, group: TARGET.group, user: TARGET.user, connection: TARGET.connection },
    positionals: true,
    run: runGroup,
  },
  listen: {
    usage: "listen --hub HUB [--user ID] [--group NAME]...",
    about: "Connect as a client (JSON subprotocol) and print every message that arrives, until Ctrl-C.",
    options: { ...COMMON, user: TARGET.user, group: { type: "string", multiple: true } },
    run: runListen,
  },
};

class UsageError extends Error {}

async function main(argv) {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "help") {
    printHelp();
    return;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command '${name}' (see --help)`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: Boolean(command.positionals), strict: true });
  } catch (e) {
    throw new UsageError(`${e.message.split("\n")[0]} (usage: web-pubsub-native ${command.usage})`);
  }
  if (parsed.values.help) {
    console.log(`usage: web-pubsub-native ${command.usage}\n\n${command.about}`);
    return;
  }
  await command.run(parsed.values, parsed.positionals);
}

function printHelp() {
  console.log("usage: web-pubsub-native <command> [options]\n\ncommands:");
  for (const [name, c] of Object.entries(COMMANDS)) console.log(`  ${name.padEnd(9)} ${c.about}`);
  console.log(
    "\nService commands read the connection string from --connection-string or WEB_PUBSUB_CONNECTION_STRING,\n" +
      "and default to the local emulator's. Run `web-pubsub-native <command> --help` for its options.",
  );
}

function serviceClient(values) {
  if (!values.hub) throw new UsageError("--hub is required");
  const { WebPubSubServiceClient } = require("./index.js");
  const connectionString = values["connection-string"] ?? process.env.WEB_PUBSUB_CONNECTION_STRING ?? DEFAULT_CONNECTION_STRING;
  const insecure = /endpoint=http:\/\//i.test(connectionString);
  return new WebPubSubServiceClient(connectionString, values.hub, { allowInsecureConnection: insecure });
}

function oneTarget(values, allowed) {
  const given = allowed.filter((k) => values[k] !== undefined);
  if (given.length !== 1) throw new UsageError(`give exactly one of ${allowed.map((k) => `--${k}`).join(", ")}`);
  return given[0];
}

async function runEmulator(values) {
  const { startEmulator } = require("./emulator.js");
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port '${values.port}'`);
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError("give both --cert and --key, or neither");
  if (values.cert !== undefined && !values.tls) throw new UsageError("--cert and --key need --tls");
  const tls = values.cert === undefined ? Boolean(values.tls) : { cert: readPem(values.cert), key: readPem(values.key) };
  const traceCapacity = values["trace-capacity"] === undefined ? undefined : Number(values["trace-capacity"]);
  if (traceCapacity !== undefined && !(Number.isInteger(traceCapacity) && traceCapacity >= 1 && traceCapacity < 2 ** 32)) {
    throw new UsageError(`invalid --trace-capacity '${values["trace-capacity"]}'`);
  }
  const emu = await startEmulator({
    port,
    host: values.host ?? "localhost",
    accessKey: values["access-key"],
    settingsFile: values.settings,
    eventHandlers: values["event-handler"],
    tls,
    allowUnvalidatedEntraTokens: values["allow-unvalidated-entra-tokens"],
    traceCapacity,
  });
  const clientEndpoint = emu.endpoint.replace(/^http/, "ws");
  console.log(`Web PubSub emulator listening on ${emu.endpoint}`);
  if (emu.certificate && values.cert === undefined) {
    console.log("Self-signed certificate (trust it, e.g. save it and set NODE_EXTRA_CA_CERTS to the file):");
    console.log(emu.certificate.trimEnd());
  }
  console.log(`Connection string: ${emu.connectionString}`);
  console.log(`Client endpoint:   ${clientEndpoint}/client/hubs/{hub}`);
  console.log(`Live trace:        ${emu.liveTraceUrl}`);
  console.log("Press Ctrl-C to stop.");
  await new Promise((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await emu.close();
}

function readPem(file) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read '${file}': ${e.code ?? e.message}`);
  }
}

async function runToken(values) {
  const client = serviceClient(values);
  const expires = values.expires === undefined ? undefined : Number(values.expires);
  if (expires !== undefined && !(Number.isInteger(expires) && expires > 0)) {
    throw new UsageError(`invalid --expires '${values.expires}'`);
  }
  const token = await client.getClientAccessToken({
    userId: values.user,
    roles: values.role,
    groups: values.group,
    expirationTimeInMinutes: expires,
    clientProtocol: values.protocol,
  });
  console.log(token.url);
}

async function runSend(values) {
  const client = serviceClient(values);
  const target = oneTarget(values, ["all", "group", "user", "connection"]);
  const kind = oneTarget(values, ["text", "json", "file"]);
  let message;
  let options = {};
  if (kind === "text") {
    message = values.text;
    options = { contentType: "text/plain" };
  } else if (kind === "json") {
    try {
      message = JSON.parse(values.json);
    } catch {
      throw new UsageError("--json is not valid JSON");
    }
  } else {
    message = fs.readFileSync(values.file);
  }
  if (target === "all") await client.sendToAll(message, options);
  else if (target === "group") await client.group(values.group).sendToAll(message, options);
  else if (target === "user") await client.sendToUser(values.user, message, options);
  else await client.sendToConnection(values.connection, message, options);
  console.log("sent");
}

async function runExists(values) {
  const client = serviceClient(values);
  const target = oneTarget(values, ["group", "user", "connection"]);
  const exists =
    target === "group"
      ? await client.groupExists(values.group)
      : target === "user"
        ? await client.userExists(values.user)
        : await client.connectionExists(values.connection);
  console.log(String(exists));
}

async function runClose(values) {
  const client = serviceClient(values);
  const target = oneTarget(values, ["all", "group", "user", "connection"]);
  const options = values.reason === undefined ? {} : { reason: values.reason };
  if (target === "all") await client.closeAllConnections(options);
  else if (target === "group") await client.group(values.group).closeAllConnections(options);
  else if (target === "user") await client.closeUserConnections(values.user, options);
  else await client.closeConnection(values.connection, options);
  console.log("closed");
}

async function runGroup(values, positionals) {
  const [action, ...extra] = positionals;
  if (!["add", "remove"].includes(action) || extra.length) throw new UsageError("say `group add` or `group remove`");
  if (!values.group) throw new UsageError("--group is required");
  const group = serviceClient(values).group(values.group);
  const target = oneTarget(values, ["user", "connection"]);
  if (target === "user") await (action === "add" ? group.addUser(values.user) : group.removeUser(values.user));
  else await (action === "add" ? group.addConnection(values.connection) : group.removeConnection(values.connection));
  console.log(action === "add" ? "added" : "removed");
}

async function runListen(values) {
  const client = serviceClient(values);
  const { url } = await client.getClientAccessToken({ userId: values.user, groups: values.group });
  const socket = new WebSocket(url, "json.webpubsub.azure.v1");
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", () => reject(new Error("could not connect to the service")), { once: true });
  });
  socket.addEventListener("message", (event) => console.log(describeMessage(JSON.parse(event.data))));
  const closed = new Promise((resolve) => socket.addEventListener("close", (e) => resolve(e.code), { once: true }));
  const stop = () => socket.close(1000);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await closed;
}

function describeMessage(m) {
  if (m.type === "system") {
    return m.event === "connected" ? `connected as ${m.connectionId}${m.userId ? ` (user ${m.userId})` : ""}` : `disconnected: ${m.message ?? ""}`;
  }
  if (m.type !== "message") return JSON.stringify(m);
  const from = m.from === "group" ? `group ${m.group}${m.fromUserId ? ` from ${m.fromUserId}` : ""}` : "server";
  const data = m.dataType === "json" ? JSON.stringify(m.data) : m.data;
  if (m.stream) return `[${from}] stream ${m.stream.streamId} #${m.stream.streamSequenceId}${describeStreamEnd(m.stream)}${data ? ` ${m.dataType}: ${data}` : ""}`;
  return `[${from}] ${m.dataType}: ${data}`;
}

function describeStreamEnd(stream) {
  if (!stream.endOfStream) return "";
  return stream.error ? ` ended with ${stream.error.name}: ${stream.error.message}` : " ended";
}

// `listen` needs a WebSocket client: built into Node 22, behind a flag on Node 20.
if (process.argv[2] === "listen" && typeof WebSocket === "undefined" && !process.execArgv.includes("--experimental-websocket")) {
  const { status } = require("node:child_process").spawnSync(
    process.execPath,
    ["--experimental-websocket", "--no-warnings", __filename, ...process.argv.slice(2)],
    { stdio: "inherit" },
  );
  process.exit(status ?? 1);
}

main(process.argv.slice(2)).catch((error) => {
  const message = error instanceof UsageError ? error.message : oneLine(error);
  console.error(`web-pubsub-native: ${message}`);
  process.exit(error instanceof UsageError ? 2 : 1);
});

function oneLine(error) {
  if (error && error.name === "RestError" && error.statusCode) {
    return `the service answered ${error.statusCode}${error.code ? ` ${error.code}` : ""}`;
  }
  return String(error && error.message ? error.message : error).split("\n")[0];
}
