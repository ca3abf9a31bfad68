// The live-trace page in a real browser (Debian's chromium driven by playwright-core): rows appear as clients
// connect and messages flow; category toggles, keyword and column filters, pause, clear, the detail pane, CSV
// export, and the page's test client talking to a `ws` client. WRITE_SCREENSHOTS=1 refreshes docs/live-trace.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { once } from "node:events";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { until } from "./helpers/until.mjs";

const require = createRequire(import.meta.url);
const { startEmulator } = require("../emulator.js");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");
const WebSocket = require("ws");

const CHROMIUM = "/usr/bin/chromium";
const browserMissing = !fs.existsSync(CHROMIUM) && `${CHROMIUM} is not installed (.ci/run installs it)`;

let emulator;
let service;
let browser;
let page;

before(async () => {
  if (browserMissing) return;
  const { chromium } = require("playwright-core");
  emulator = await startEmulator({ port: 0 });
  service = new WebPubSubServiceClient(emulator.connectionString, "chat", { allowInsecureConnection: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1500, height: 800 } });
  await page.goto(emulator.liveTraceUrl);
  await page.waitForSelector("#status.live");
});

after(async () => {
  await browser?.close();
  await emulator?.close();
});

/** The page's visible rows as { event: ..., ... } keyed by column class. */
function rows() {
  return page.$$eval("#rows tr:not(.spacer)", (trs) =>
    trs.map((tr) => Object.fromEntries([...tr.children].map((td) => [td.className, td.textContent]))),
  );
}

async function rawClient(options) {
  const { url } = await service.getClientAccessToken(options);
  const socket = new WebSocket(url, "json.webpubsub.azure.v1");
  const messages = [];
  socket.on("message", (data) => messages.push(JSON.parse(data.toString())));
  await once(socket, "open");
  return { socket, messages };
}

test("rows appear as clients connect and messages flow; the detail pane shows a REST call, secrets redacted", { skip: browserMissing }, async () => {
  const client = await rawClient({ userId: "watcher", groups: ["news"] });
  try {
    await until(async () => (await rows()).some((r) => r.event === "ConnectionStarted" && r.userId === "watcher"), "ConnectionStarted row");
    await service.group("news").sendToAll("extra, extra", { contentType: "text/plain" });
    await until(async () => (await rows()).some((r) => r.event === "GroupMessageSent" && r.recipients === "1"), "GroupMessageSent row");
    await until(async () => (await rows()).some((r) => r.event === "RestApiCall" && r.statusCode === "202"), "RestApiCall row");

    await page.click("#rows tr:has(td.event:text-is('RestApiCall'))");
    const detail = await page.textContent("#detail");
    assert.match(detail, /"authorization",\s*"REDACTED"/);
    assert.match(detail, /extra, extra/);
    assert.doesNotMatch(detail, /eyJ/);

  } finally {
    client.socket.close();
  }
});

test("category toggles, keyword and column filters, pause and clear", { skip: browserMissing }, async () => {
  await service.sendToAll("filter me", { contentType: "text/plain" });
  await until(async () => (await rows()).some((r) => r.event === "BroadcastMessageSent"), "BroadcastMessageSent row");

  await page.uncheck("input.category[value=http]");
  assert.ok((await rows()).every((r) => r.category !== "http"), "HTTP rows hidden");
  await page.check("input.category[value=http]");

  await page.fill("#keyword", "broadcast");
  assert.ok((await rows()).length > 0);
  assert.ok((await rows()).every((r) => Object.values(r).some((v) => v.toLowerCase().includes("broadcast"))));
  await page.fill("#keyword", "");

  await page.fill("input[data-column=event]", "RestApi");
  assert.ok((await rows()).every((r) => r.event === "RestApiCall"));
  await page.fill("input[data-column=event]", "");

  await page.click("#pause");
  const frozen = (await rows()).length;
  await service.sendToAll("while paused", { contentType: "text/plain" });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await rows()).length, frozen, "no new rows while paused");
  await page.click("#pause");
  await until(async () => (await rows()).length > frozen, "captured rows shown after resuming");

  await page.click("#clear");
  assert.equal((await rows()).length, 0);
});

test("CSV export holds the rows shown", { skip: browserMissing }, async () => {
  await service.sendToUser("csv-user", "for the export", { contentType: "text/plain" });
  await until(async () => (await rows()).some((r) => r.event === "UserMessageSent"), "UserMessageSent row");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
  assert.equal(download.suggestedFilename(), "live-trace.csv");
  const csv = fs.readFileSync(await download.path(), "utf8");
  const [header, ...lines] = csv.trimEnd().split("\n");
  assert.match(header, /^Time,Level,Category,Event,Message/);
  assert.equal(lines.length, (await rows()).length);
  assert.ok(lines.some((line) => line.includes("UserMessageSent")));
});

test("the page's test client joins a group, sends to it and receives from a ws client", { skip: browserMissing }, async () => {
  const peer = await rawClient({ userId: "peer", groups: ["lobby"], roles: ["webpubsub.sendToGroup"] });
  try {
    await page.fill("#c-hub", "chat");
    await page.fill("#c-user", "page-user");
    await page.click("#c-connect");
    await page.waitForSelector("#c-join:not([disabled])");
    await page.fill("#c-group", "lobby");
    await page.click("#c-join");
    await until(async () => (await page.textContent("#received")).includes('"ackId":1,"success":true'), "join ack");
    await until(async () => (await rows()).some((r) => r.event === "GroupJoined" && r.userId === "page-user"), "GroupJoined row");

    await page.fill("#c-text", "hello from the page");
    await page.click("#c-send");
    await until(() => peer.messages.some((m) => m.data === "hello from the page"), "the ws client got the page's message");
    const fromPage = peer.messages.find((m) => m.data === "hello from the page");
    assert.deepEqual([fromPage.group, fromPage.fromUserId], ["lobby", "page-user"]);

    peer.socket.send(JSON.stringify({ type: "sendToGroup", group: "lobby", dataType: "text", data: "hello back" }));
    await until(async () => (await page.textContent("#received")).includes("hello back"), "the page got the reply");
    await page.click("#rows tr:has(td.event:text-is('GroupMessageSent'))");
    if (process.env.WRITE_SCREENSHOTS === "1") {
      const file = fileURLToPath(new URL("../docs/live-trace.png", import.meta.url));
      fs.mkdirSync(new URL("../docs/", import.meta.url), { recursive: true });
      await page.screenshot({ path: file });
    }
    await page.click("#c-disconnect");
    await page.waitForSelector("#c-connect:not([disabled])");
  } finally {
    peer.socket.close();
  }
});
