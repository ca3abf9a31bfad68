// The npm package as users get it: `npm pack`, installed into a fresh project under its own name and as the
// `@azure/web-pubsub` alias, then used from CommonJS, ESM and TypeScript against the embedded emulator.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const platformDir = path.join(root, "npm", "linux-x64-gnu");
const binaryName = "web-pubsub-native.linux-x64-gnu.node";
const supported = process.platform === "linux" && process.arch === "x64";
let work;
let project;

const npm = (args, cwd) =>
  execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const node = (args, cwd) => execFileSync(process.execPath, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

before(() => {
  if (!supported) return;
  work = fs.mkdtempSync(path.join(os.tmpdir(), "wpn-package-"));
  // The platform package carries the binary that `npm run build` left at the root.
  const staged = path.join(work, "platform");
  fs.cpSync(platformDir, staged, { recursive: true });
  fs.copyFileSync(path.join(root, binaryName), path.join(staged, binaryName));
  const mainTarball = npm(["pack", root, "--pack-destination", work], work).trim().split("\n").pop();
  const platformTarball = npm(["pack", staged, "--pack-destination", work], work).trim().split("\n").pop();

  project = path.join(work, "app");
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "app", private: true }));
  npm(
    [
      "install",
      path.join(work, mainTarball),
      `@azure/web-pubsub@file:${path.join(work, mainTarball)}`,
      path.join(work, platformTarball),
    ],
    project,
  );
});

after(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const script = (specifier) => `
  const { WebPubSubServiceClient } = require(${JSON.stringify(specifier)});
  const { startEmulator } = require(${JSON.stringify(`${specifier}/emulator`)});
  (async () => {
    const emu = await startEmulator({ port: 0 });
    const client = new WebPubSubServiceClient(emu.connectionString, "hub", { allowInsecureConnection: true });
    const { url } = await client.getClientAccessToken({ userId: "u" });
    const socket = new WebSocket(url);
    const received = new Promise((resolve) => socket.addEventListener("message", (e) => resolve(e.data)));
    await new Promise((resolve) => socket.addEventListener("open", resolve));
    await client.sendToUser("u", { from: ${JSON.stringify(specifier)} });
    console.log(await received);
    socket.close();
    await emu.close();
  })().catch((e) => { console.error(e); process.exit(1); });
`;

const websocketFlag = typeof WebSocket === "undefined" ? ["--experimental-websocket", "--no-warnings"] : [];

test("the installed tree has at most three packages", { skip: !supported }, () => {
  const lock = JSON.parse(fs.readFileSync(path.join(project, "package-lock.json"), "utf8"));
  const installed = new Set(
    Object.entries(lock.packages)
      .filter(([key]) => key.startsWith("node_modules/"))
      .map(([, entry]) => `${entry.name ?? ""}@${entry.version}`),
  );
  assert.ok(installed.size <= 3, `installed: ${[...installed].join(", ")}`);
});

for (const specifier of ["web-pubsub-native", "@azure/web-pubsub"]) {
  test(`CommonJS through ${specifier} sends a message that a client receives`, { skip: !supported }, () => {
    fs.writeFileSync(path.join(project, "check.cjs"), script(specifier));
    assert.equal(node([...websocketFlag, "check.cjs"], project).trim(), JSON.stringify({ from: specifier }));
  });

  test(`ESM through ${specifier} exposes the same named exports`, { skip: !supported }, () => {
    fs.writeFileSync(
      path.join(project, "check.mjs"),
      `import { WebPubSubServiceClient, AzureKeyCredential, odata } from ${JSON.stringify(specifier)};
       import { startEmulator } from ${JSON.stringify(`${specifier}/emulator`)};
       import * as cjs from ${JSON.stringify(specifier)};
       const emu = await startEmulator({ port: 0 });
       const client = new WebPubSubServiceClient(emu.connectionString, "hub", { allowInsecureConnection: true });
       console.log(typeof cjs.WebPubSubServiceClient, typeof AzureKeyCredential, await client.groupExists("g"), odata\`userId eq \${"o'k"}\`);
       await emu.close();`,
    );
    assert.equal(node(["check.mjs"], project).trim(), "function function false userId eq 'o''k'");
  });
}

test("TypeScript type-checks the whole 1.2.0 API against the installed types, under both names", { skip: !supported }, () => {
  const usage = fs.readFileSync(path.join(root, "__test__", "types", "usage.ts"), "utf8");
  fs.writeFileSync(path.join(project, "official-name.ts"), usage);
  fs.writeFileSync(path.join(project, "own-name.ts"), usage.replaceAll('"@azure/web-pubsub"', '"web-pubsub-native"'));
  fs.writeFileSync(
    path.join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        skipLibCheck: false,
        typeRoots: [path.join(root, "node_modules", "@types")],
        types: ["node"],
      },
      files: ["official-name.ts", "own-name.ts"],
    }),
  );
  node([path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], project);
});
