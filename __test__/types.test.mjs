// The TypeScript fixtures in __test__/types compile: against the official @azure/web-pubsub typings (proving the
// fixtures are right), against our index.d.ts (proving ours accept the same code), with nothing else installed,
// and side by side with the official declarations. Also checks that our declarations carry their own docs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const typesDir = path.join(root, "__test__", "types");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

function compile(config, extraArgs) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsc, "-p", path.join(typesDir, config), "--pretty", "false", ...extraArgs],
      { cwd: root, timeout: 300_000 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

const configs = [
  ["tsconfig.official.json", [], "usage, negative and interop fixtures against the official 1.2.0 typings"],
  ["tsconfig.native.json", [], "the same fixtures against our index.d.ts"],
  ["tsconfig.standalone.json", [], "our typings alone: no @types/node, no DOM lib, no @azure/core-* packages"],
  ["tsconfig.compare.json", [], "our declarations next to the official ones: names, members, overloads"],
  ["tsconfig.compare.json", ["--exactOptionalPropertyTypes"], "the same, for projects with exact optional properties"],
];

for (const [config, extraArgs, what] of configs) {
  test(`tsc -p ${[config, ...extraArgs].join(" ")}: ${what}`, async () => {
    const { code, output } = await compile(config, extraArgs);
    assert.equal(code, 0, `tsc failed for ${config}:\n${output}`);
    assert.equal(output.trim(), "");
  });
}

test("the negative fixture expects errors (so a silently any-typed API cannot pass)", () => {
  const source = readFileSync(path.join(typesDir, "negative.ts"), "utf8");
  const expectations = source.split("\n").filter((line) => line.trim().startsWith("// @ts-expect-error"));
  assert.ok(expectations.length >= 30, `only ${expectations.length} @ts-expect-error lines`);
});

/** Runs of six words from JSDoc and line comments, lower-cased. */
function commentShingles(text) {
  const comments = [...text.matchAll(/\/\*\*([\s\S]*?)\*\//g), ...text.matchAll(/\/\/(.*)/g)].map((m) => m[1]);
  const shingles = new Set();
  for (const comment of comments) {
    const words = comment.toLowerCase().match(/[a-z0-9']+/g) ?? [];
    for (let i = 0; i + 6 <= words.length; i++) shingles.add(words.slice(i, i + 6).join(" "));
  }
  return shingles;
}

function declarationFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .filter((name) => name.endsWith(".d.ts"))
    .map((name) => path.join(dir, name));
}

test("index.d.ts documents the API in its own words (no six-word run of the official typings' comments)", () => {
  const official = new Set();
  for (const pkg of ["web-pubsub", "core-auth", "core-client", "core-rest-pipeline", "core-paging"]) {
    for (const file of declarationFiles(path.join(root, "node_modules", "@azure", pkg, "dist", "commonjs"))) {
      for (const shingle of commentShingles(readFileSync(file, "utf8"))) official.add(shingle);
    }
  }
  assert.ok(official.size > 1000, "the official typings were not found");
  const ours = commentShingles(readFileSync(path.join(root, "index.d.ts"), "utf8"));
  assert.deepEqual([...ours].filter((shingle) => official.has(shingle)), []);
});
