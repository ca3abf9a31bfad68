// proc.mjs - child processes for the benchmark driver: run a command to completion while
// collecting its JSON result lines, or start a long-lived server and read its first JSON line.

import { spawn } from "node:child_process";

/** Runs `cmd args`; resolves with its exit code and the JSON objects it printed on stdout.
 *  Non-JSON stdout lines and stderr are echoed to our stderr, prefixed with `tag`. */
export function runJsonLines(cmd, args, { cwd, env, tag = cmd, timeoutMs = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const lines = [];
    let buf = "";
    let timer = null;
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        process.stderr.write(`[${tag}] timed out after ${timeoutMs} ms; stopping it\n`);
        child.kill("SIGTERM");
      }, timeoutMs);
    }
    child.stdout.on("data", (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line.startsWith("{")) {
          try { lines.push(JSON.parse(line)); continue; } catch { /* echo below */ }
        }
        if (line) process.stderr.write(`[${tag}] ${line}\n`);
      }
    });
    child.stderr.on("data", (d) => {
      for (const l of String(d).split("\n")) if (l.trim()) process.stderr.write(`[${tag}] ${l}\n`);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      const rest = buf.trim();
      if (rest.startsWith("{")) { try { lines.push(JSON.parse(rest)); } catch { /* ignore */ } }
      resolve({ code: code ?? (signal ? 128 : 1), lines });
    });
  });
}

/** The default ready line: the first stdout line, parsed as JSON. */
const jsonLine = (line) => JSON.parse(line);

/** Starts a server process and resolves once `parseReady` turned one of its stdout lines into
 *  its address info (by default: the first line, as JSON), with `{ child, info, stop }`.
 *  `parseReady` returns null for lines to skip and throws for a bad first line. `stop()` ends
 *  exactly that process. */
export function startServer(cmd, args, { cwd, env, tag = cmd, readyTimeoutMs = 30000, parseReady = jsonLine } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let buf = "";
    let ready = false;
    const timer = setTimeout(() => {
      if (!ready) { child.kill("SIGKILL"); reject(new Error(`${tag} did not report its address within ${readyTimeoutMs} ms`)); }
    }, readyTimeoutMs);
    child.stderr.on("data", (d) => {
      for (const l of String(d).split("\n")) if (l.trim()) process.stderr.write(`[${tag}] ${l}\n`);
    });
    child.stdout.on("data", (d) => {
      if (ready) return;
      buf += d;
      let info = null;
      let nl;
      while (info === null && (nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try { info = parseReady(line); } catch {
          clearTimeout(timer);
          ready = true;
          child.kill("SIGKILL");
          reject(new Error(`${tag} printed no address line (got "${line.slice(0, 120)}")`));
          return;
        }
      }
      if (info === null) return;
      ready = true;
      clearTimeout(timer);
      child.stdout.resume();
      const exited = new Promise((r) => child.once("close", r));
      const stop = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.stdin.end();
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      };
      resolve({ child, info, stop });
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (!ready) { clearTimeout(timer); reject(new Error(`${tag} exited (${code}) before reporting its address`)); }
    });
  });
}

/** The line of a Node crash report that names the error ("Error: Cannot find module ..."). */
export function firstErrorLine(stderr) {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^[\w.]*Error\b/.test(l)) ?? lines[0] ?? "failed without a message";
}
