// target.mjs - the nginx stand-in for the Web PubSub REST endpoint (bench/nginx.conf), started
// by bench/start-target.sh and stopped at the end only if this run started it.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runJsonLines } from "./proc.mjs";

const BENCH = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const TARGET = "http://127.0.0.1:18080";
export const SEND_URL = `${TARGET}/api/hubs/bench/:send?api-version=2024-01-01`;

function prefix() {
  return process.env.BENCH_NGINX_PREFIX || "/tmp/bench-nginx";
}

function running() {
  try {
    const pid = fs.readFileSync(path.join(prefix(), "nginx.pid"), "utf8").trim();
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "nginx";
  } catch {
    return false;
  }
}

function postStatus() {
  return new Promise((resolve) => {
    const req = http.request(SEND_URL, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", () => resolve(null));
    req.end('{"hello":"world","n":1}');
  });
}

/** Ensures the target answers; returns a function that stops it if we started it. */
export async function ensureTarget() {
  let started = false;
  if (!running()) {
    const { code } = await runJsonLines(path.join(BENCH, "start-target.sh"), [], { tag: "target" });
    if (code !== 0) throw new Error("bench/start-target.sh failed");
    started = true;
  }
  const status = await postStatus();
  if (status !== 202) throw new Error(`target check failed: POST ${SEND_URL} answered ${status}`);
  return async () => {
    if (started) await runJsonLines(path.join(BENCH, "stop-target.sh"), [], { tag: "target" });
  };
}
