// Turns recorded requests and call outcomes into plain data that two clients can be compared on.
import crypto from "node:crypto";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function b64url(text) {
  return Buffer.from(text, "base64url");
}

/** Decodes an HS256 JWT, checks its signature with `key`, and keeps what must be equal between clients. */
export function jwtShape(token, key) {
  const [h, p, sig] = token.split(".");
  const header = JSON.parse(b64url(h).toString("utf8"));
  const claims = JSON.parse(b64url(p).toString("utf8"));
  const expected = crypto.createHmac("sha256", key).update(`${h}.${p}`).digest("base64url");
  const { iat, exp, ...rest } = claims;
  return {
    header,
    signatureValid: expected === sig,
    lifetime: typeof exp === "number" && typeof iat === "number" ? exp - iat : exp,
    iatIsRecent: typeof iat === "number" && Math.abs(iat - Date.now() / 1000) < 120,
    ...rest,
  };
}

function authShape(value, key) {
  if (value === undefined) return undefined;
  const m = /^Bearer (.+)$/.exec(value);
  if (!m) return { raw: value };
  if (key && m[1].split(".").length === 3) return jwtShape(m[1], key);
  return { bearer: m[1] };
}

/** The parts of a recorded request both clients must agree on. */
export function requestShape(req, key) {
  const h = req.headers;
  return {
    method: req.method,
    path: req.path,
    query: req.query,
    contentType: h["content-type"],
    // The one known wire difference: reqwest sends `Accept: */*` on requests without an Accept header,
    // and the SDK sends none on HEAD. Only that exact value on HEAD is folded away.
    accept: req.method === "HEAD" && h["accept"] === "*/*" ? undefined : h["accept"],
    body: req.body.length === 0 ? "" : req.body.toString("base64"),
    authorization: authShape(h["authorization"], key),
    userAgent: typeof h["user-agent"] === "string" && h["user-agent"].length > 0,
    clientRequestId: h["x-ms-client-request-id"] === undefined ? "absent" : UUID.test(h["x-ms-client-request-id"]),
  };
}

/** What a caller sees of an error: its class, name and the RestError fields. */
export function errorShape(e) {
  return {
    threw: true,
    name: e?.name,
    ctor: e?.constructor?.name,
    statusCode: e?.statusCode,
    code: e?.code,
    message: e?.message,
    request: e?.request && { method: e.request.method, url: e.request.url },
  };
}

const VOLATILE_HEADERS = new Set(["date", "connection", "keep-alive"]);

function dropVolatile(obj) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return obj;
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !VOLATILE_HEADERS.has(k.toLowerCase())));
}

/** The observable parts of the `onResponse(rawResponse, flatResponse)` arguments. */
export function onResponseShape(raw, flat) {
  const headers = dropVolatile(raw.headers.toJSON());
  const iterated = [];
  for (const [name, value] of raw.headers) if (!VOLATILE_HEADERS.has(name)) iterated.push([name, value]);
  return {
    status: raw.status,
    headers,
    iterated: iterated.sort(),
    contentType: raw.headers.get("Content-Type"),
    hasContentType: raw.headers.has("content-type"),
    bodyAsText: raw.bodyAsText,
    parsedBody: raw.parsedBody,
    requestMethod: raw.request?.method,
    requestUrl: raw.request?.url,
    flat: dropVolatile(flat),
  };
}

/** A client access token result, with the token decoded and its copy in `url` checked. */
export function accessTokenShape(result, key) {
  const { token, baseUrl, url } = result;
  return {
    baseUrl,
    urlMatches: url === `${baseUrl}?access_token=${token}`,
    token: key ? jwtShape(token, key) : token,
  };
}
