// Invocations: @azure/web-pubsub-client 1.1's invokeEvent() against the emulator, answered by an app server running
// @azure/web-pubsub-express; the raw `invoke` / `cancelInvocation` frames of the JSON protocol over `ws`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { createRequire } from "node:module";
import { until } from "./helpers/until.mjs";
import { startOfficialClient } from "./helpers/official-client.mjs";

const require = createRequire(import.meta.url);
const { startEmulator } = require("../emulator.js");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");
const { WebPubSubJsonProtocol } = require("@azure/web-pubsub-client");
const { WebPubSubEventHandler } = require("@azure/web-pubsub-express");
const express = require("express");
const WebSocket = require("ws");

const HUB = "invokes";
let app;
let emulator;
let service;

before(async () => {
  const handler = new WebPubSubEventHandler(HUB, {
    async handleUserEvent(req, res) {
      const { eventName } = req.context;
      if (eventName === "echo") {
        res.success(req.dataType === "json" ? JSON.stringify(req.data) : req.data, req.dataType);
      } else if (eventName === "answer") {
        res.success(JSON.stringify({ answer: 42, asked: req.data }), "json");
      } else if (eventName === "nothing") {
        res.success();
      } else if (eventName === "refuse") {
        res.fail(400, "not today");
      } else if (eventName.startsWith("delay")) {
        await sleep(Number(req.data));
        res.success(`after ${req.data} ms`, "text");
      } else {
        res.success();
      }
    },
  });
  const server = express().use(handler.getMiddleware()).listen(0, "127.0.0.1");
  await once(server, "listening");
  app = server;
  emulator = await startEmulator({
    port: 0,
    hubs: {
      [HUB]: {
        eventHandlers: [
          {
            urlTemplate: `http://127.0.0.1:${server.address().port}/api/webpubsub/hubs/{hub}/`,
            userEventPattern: "echo,answer,nothing,refuse,delay1,delay2,delay3,delay4,delay5",
          },
        ],
      },
    },
  });
  service = new WebPubSubServiceClient(emulator.connectionString, HUB, { allowInsecureConnection: true });
});

after(async () => {
  await emulator.close();
  app.close();
});

function startClient(protocol) {
  return startOfficialClient(service, { userId: "caller" }, protocol);
}

for (const [name, protocol] of [["reliable JSON", undefined], ["JSON", WebPubSubJsonProtocol()]]) {
  test(`invokeEvent gets the handler's answer as text, JSON and binary (${name})`, async () => {
    const client = await startClient(protocol);
    try {
      const text = await client.invokeEvent("echo", "hello", "text");
      assert.deepEqual([text.dataType, text.data], ["text", "hello"]);
      const json = await client.invokeEvent("answer", { q: "life" }, "json");
      assert.deepEqual([json.dataType, json.data], ["json", { answer: 42, asked: { q: "life" } }]);
      const binary = await client.invokeEvent("echo", new Uint8Array([1, 2, 3]).buffer, "binary");
      assert.equal(binary.dataType, "binary");
      assert.deepEqual([...new Uint8Array(binary.data)], [1, 2, 3]);
      const empty = await client.invokeEvent("nothing", "x", "text");
      assert.equal(empty.data, undefined);
      assert.match(text.invocationId, /\S/);
    } finally {
      client.stop();
    }
  });
}

test("handler failures and unhandled events reject with InvocationError, and the connection stays open", async () => {
  const client = await startClient();
  let disconnected = false;
  client.on("disconnected", () => (disconnected = true));
  try {
    await assert.rejects(client.invokeEvent("refuse", "x", "text"), (error) => {
      assert.equal(error.name, "InvocationError");
      assert.equal(error.errorDetail.name, "InternalServerError");
      assert.equal(error.errorDetail.message, "The event handler failed to handle event 'refuse'.");
      return true;
    });
    await assert.rejects(client.invokeEvent("unknown", "x", "text"), (error) => {
      assert.equal(error.errorDetail.message, "No event handler is configured for event 'unknown'.");
      return true;
    });
    assert.equal((await client.invokeEvent("echo", "still here", "text")).data, "still here");
    assert.equal(disconnected, false);
  } finally {
    client.stop();
  }
});

test("concurrent invocations are answered in any order, each to its caller", async () => {
  const client = await startClient();
  try {
    const order = [];
    const delays = [400, 50, 250, 10, 150];
    const answers = await Promise.all(
      delays.map((ms, i) => client.invokeEvent(`delay${i + 1}`, String(ms), "text").then((r) => (order.push(i), r.data))),
    );
    assert.deepEqual(answers, delays.map((ms) => `after ${ms} ms`));
    assert.notDeepEqual(order, [0, 1, 2, 3, 4], "answers arrive as the handler answers, not in request order");
  } finally {
    client.stop();
  }
});

test("an aborted invocation rejects, its late answer is dropped, and later invocations work", async () => {
  const client = await startClient();
  try {
    const controller = new AbortController();
    const slow = client.invokeEvent("delay1", "600", "text", { abortSignal: controller.signal });
    await sleep(100);
    controller.abort();
    await assert.rejects(slow);
    assert.equal((await client.invokeEvent("echo", "next", "text")).data, "next");
    await sleep(700);
    assert.equal((await client.invokeEvent("echo", "after the late answer", "text")).data, "after the late answer");
  } finally {
    client.stop();
  }
});

test("raw frames: invokeResponse, cancelInvocation drops the late answer, a duplicate id is refused", async () => {
  const { url } = await service.getClientAccessToken({ userId: "raw" });
  const socket = new WebSocket(url, "json.webpubsub.azure.v1");
  const frames = [];
  socket.on("message", (data) => frames.push(JSON.parse(data.toString())));
  await once(socket, "open");
  try {
    const responses = () => frames.filter((f) => f.type === "invokeResponse");
    socket.send(JSON.stringify({ type: "invoke", invocationId: "slow", target: "event", event: "delay1", dataType: "text", data: "300" }));
    socket.send(JSON.stringify({ type: "invoke", invocationId: "slow", target: "event", event: "echo", dataType: "text", data: "x" }));
    socket.send(JSON.stringify({ type: "cancelInvocation", invocationId: "slow" }));
    socket.send(JSON.stringify({ type: "invoke", invocationId: "fast", event: "echo", dataType: "text", data: "quick" }));
    await until(() => responses().length === 2, "two invokeResponse frames");
    await sleep(500);
    assert.deepEqual(responses(), [
      {
        type: "invokeResponse",
        invocationId: "slow",
        success: false,
        error: { name: "InternalServerError", message: "An invocation with this invocationId is already in progress." },
      },
      { type: "invokeResponse", invocationId: "fast", success: true, dataType: "text", data: "quick" },
    ]);
    socket.send(JSON.stringify({ type: "invoke", invocationId: "t", target: "method", event: "echo" }));
    const [code] = await once(socket, "close");
    assert.equal(code, 1007, "an unsupported target is not a valid message");
  } finally {
    socket.close();
  }
});
