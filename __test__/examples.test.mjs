// The README's demo and every example run against the embedded emulator and exit 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const examples = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "examples");
const env = { ...process.env };
delete env.WEB_PUBSUB_CONNECTION_STRING;

function run(file) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(examples, file)], { env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const scripts = readdirSync(examples).filter((f) => f.endsWith(".mjs") && !["setup.mjs", "demo.mjs"].includes(f));

for (const file of scripts) {
  test(`example ${file} runs against the emulator`, async () => {
    const { code, stdout, stderr } = await run(file);
    assert.equal(code, 0, `${file} failed:\n${stdout}\n${stderr}`);
  });
}

test("the demo reports every message at the right clients", async () => {
  const { stdout } = await run("demo.mjs");
  assert.match(stdout, /every message reached exactly the right clients/);
  assert.doesNotMatch(stdout, /BAD/);
});
