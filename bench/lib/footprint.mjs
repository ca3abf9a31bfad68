// footprint.mjs - what `npm install` puts on disk: the official @azure/web-pubsub 1.2.0 from the
// pinned lockfile in bench/locks, and this package packed with `npm pack` plus its locally built
// linux-x64-gnu binary packed as the platform package (which is not published yet), each
// installed into a fresh temporary project. The native install is also what the benchmark runs.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const BENCH = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ROOT = path.dirname(BENCH);
export const BINARY = "web-pubsub-native.linux-x64-gnu.node";
export const DEFAULT_BINARY = path.join(ROOT, BINARY);

function npm(args, cwd) {
  return execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"],
  });
}

function measure(dir) {
  const lock = JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8"));
  const packages = Object.entries(lock.packages)
    .filter(([k]) => k.startsWith("node_modules/"))
    .map(([k, p]) => `${k.replace(/^.*node_modules\//, "")}@${p.version}`)
    .sort();
  const du = (flag) => execFileSync("du", [flag, "node_modules"], { cwd: dir, encoding: "utf8" }).split("\t")[0];
  const files = execFileSync("find", ["node_modules", "-type", "f"], { cwd: dir, encoding: "utf8" })
    .split("\n").filter(Boolean).length;
  return { packages: packages.length, package_list: packages, node_modules_kib: Number(du("-sk")), du_sh: du("-sh"), files };
}

function scratch(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `wpn-bench-${name}-`));
}

export function officialFootprint() {
  const dir = scratch("official");
  try {
    const lockdir = path.join(BENCH, "locks", "web-pubsub-1.2.0");
    for (const f of ["package.json", "package-lock.json"]) fs.copyFileSync(path.join(lockdir, f), path.join(dir, f));
    const t0 = Date.now();
    npm(["ci"], dir);
    return { tool: "npm-footprint", sdk: "official-1.2.0", install_s: (Date.now() - t0) / 1000, ...measure(dir) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Median milliseconds, over `runs` fresh Node processes in `cwd`, that `require(specifier)` takes. */
function coldImportMs(cwd, specifier, runs = 5) {
  const source = `const t0 = performance.now(); require(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t0));`;
  const times = Array.from({ length: runs }, () => Number(execFileSync(process.execPath, ["-e", source], { cwd, encoding: "utf8" })))
    .sort((a, b) => a - b);
  return Math.round(times[Math.floor(runs / 2)] * 100) / 100;
}

/** Cold import of both SDKs installed side by side with @azure/identity, as most users who sign in with Entra ID
 *  have them: identity brings core-rest-pipeline, core-auth, logger and abort-controller, this package's optional
 *  peers. `tarballs` are this package's packs. */
function importsWithIdentity(tarballs) {
  const project = scratch("identity");
  try {
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "identity-probe", private: true }));
    npm(["install", ...tarballs, "@azure/web-pubsub@1.2.0", "@azure/identity@4"], project);
    return {
      official_import_ms: coldImportMs(project, "@azure/web-pubsub"),
      native_import_ms: coldImportMs(project, "web-pubsub-native"),
    };
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
}

/** Packs this package (and `binary` as its linux-x64-gnu platform package) and installs both
 *  into a fresh project. Returns `{ packageDir, projectDir, footprint, cleanup }`: the benchmark
 *  runs this installed copy, so a rebuild in the working tree during the run cannot change what
 *  is measured. */
export function installNative(binary) {
  if (!fs.existsSync(binary)) throw new Error(`${binary} not found (npm run build)`);
  const packs = scratch("packs");
  const project = scratch("native");
  const cleanup = () => {
    fs.rmSync(packs, { recursive: true, force: true });
    fs.rmSync(project, { recursive: true, force: true });
  };
  try {
    const main = npm(["pack", "--pack-destination", packs], ROOT).trim().split("\n").pop();
    const platformDir = path.join(packs, "platform");
    fs.cpSync(path.join(ROOT, "npm", "linux-x64-gnu"), platformDir, { recursive: true });
    fs.copyFileSync(binary, path.join(platformDir, BINARY));
    const platform = npm(["pack", "--pack-destination", packs], platformDir).trim().split("\n").pop();
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "footprint-probe", private: true }));
    const t0 = Date.now();
    npm(["install", path.join(packs, main), path.join(packs, platform)], project);
    const install_s = (Date.now() - t0) / 1000;
    execFileSync(process.execPath, ["-e", "require('web-pubsub-native'); require('web-pubsub-native/emulator')"], { cwd: project, stdio: "inherit" });
    let identity;
    try {
      identity = importsWithIdentity([path.join(packs, main), path.join(packs, platform)]);
    } catch (err) {
      identity = { error: err.message };
    }
    const footprint = {
      tool: "npm-footprint", sdk: "native", install_s, identity,
      tarball_kib: Math.round(fs.statSync(path.join(packs, main)).size / 1024),
      platform_tarball_kib: Math.round(fs.statSync(path.join(packs, platform)).size / 1024),
      ...measure(project),
    };
    return { packageDir: path.join(project, "node_modules", "web-pubsub-native"), projectDir: project, footprint, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
