// A loopback HTTP server for tests: records every request and answers from a script.
//
// const server = await startRecordingServer();
// server.reply((req) => ({ status: 202 }));        // or server.reply([{...}, {...}]) for a queue
// ... point a client at server.url ...
// server.requests  -> [{ method, url, path, query: [[k, v], ...], headers, body: Buffer }]
// await server.close();
//
// An answer is { status, headers?, body? (string | Buffer | object -> JSON), delayMs?, destroy?, raw? }.
// `destroy: true` closes the socket without answering; `raw` (bytes) is written to the socket as the whole answer,
// which then closes. Without a script, `defaultAnswer` gives each
// Web PubSub operation its success status.
import http from "node:http";

/** The status the service answers on success for a request, by method and path. */
export function defaultAnswer(req) {
  const { method, path } = req;
  if (method === "HEAD") return { status: 200 };
  if (path.endsWith("/:send")) return { status: 202 };
  if (path.endsWith("/:generateToken")) return { status: 200, body: { token: "service.issued.token" } };
  if (method === "GET" && path.endsWith("/connections")) return { status: 200, body: { value: [] } };
  if (method === "PUT" || path.endsWith("/:addToGroups") || path.endsWith("/:removeFromGroups")) {
    return { status: 200 };
  }
  return { status: 204 };
}

function splitQuery(url) {
  const q = url.indexOf("?");
  if (q < 0) return [];
  return url
    .slice(q + 1)
    .split("&")
    .filter((p) => p.length > 0)
    .map((p) => {
      const eq = p.indexOf("=");
      return eq < 0 ? [p, ""] : [p.slice(0, eq), p.slice(eq + 1)];
    });
}

export async function startRecordingServer() {
  const requests = [];
  let script = null;
  const sockets = new Set();

  function nextAnswer(record) {
    if (typeof script === "function") return script(record) ?? defaultAnswer(record);
    if (Array.isArray(script) && script.length > 0) return script.shift();
    return defaultAnswer(record);
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const q = req.url.indexOf("?");
      const record = {
        method: req.method,
        url: req.url,
        path: q < 0 ? req.url : req.url.slice(0, q),
        query: splitQuery(req.url),
        headers: { ...req.headers },
        body: Buffer.concat(chunks),
      };
      requests.push(record);
      const answer = await nextAnswer(record);
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      if (answer.destroy) {
        req.socket.destroy();
        return;
      }
      if (answer.raw !== undefined) {
        req.socket.end(answer.raw);
        return;
      }
      let body = answer.body;
      const headers = { ...(answer.headers ?? {}) };
      if (body !== undefined && typeof body === "object" && !Buffer.isBuffer(body)) {
        body = JSON.stringify(body);
        if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
          headers["content-type"] = "application/json; charset=utf-8";
        }
      }
      res.writeHead(answer.status, headers);
      res.end(body === undefined || req.method === "HEAD" ? undefined : body);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    /** Sets the script: a function `(request) => answer` or an array of answers used in order. */
    reply(next) {
      script = next;
    },
    /** Forgets recorded requests and the script. */
    reset() {
      requests.length = 0;
      script = null;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
