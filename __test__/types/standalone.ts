// Our typings need nothing else installed: no @types/node, no DOM lib, no @azure/core-* packages.
// Resolved through this package's own name and its package.json "exports" (the "require" condition).
import {
  AbortError,
  AzureKeyCredential,
  RestError,
  isRestError,
  WebPubSubServiceClient,
  odata,
  type TokenCredential,
  type WebPubSubGroupMember,
} from "web-pubsub-native";

const credential: TokenCredential = {
  getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 60_000 }),
};

export async function standalone(): Promise<WebPubSubGroupMember[]> {
  const byKey = new WebPubSubServiceClient("https://example.webpubsub.azure.com", new AzureKeyCredential("k"), "hub");
  const byToken = new WebPubSubServiceClient("https://example.webpubsub.azure.com", credential, "hub");
  await byKey.sendToAll(new Uint8Array([1]), { filter: odata`userId ne ${"a"}` });
  await byToken.sendToAll("text", { contentType: "text/plain" });
  const members: WebPubSubGroupMember[] = [];
  for await (const member of await byKey.group("g").listConnections()) members.push(member);
  return members;
}

/** The error exports this package adds (the official package leaves them to @azure/core-rest-pipeline). */
export function classify(error: unknown): string {
  if (error instanceof AbortError) return "aborted";
  if (error instanceof RestError) return `${error.statusCode ?? RestError.REQUEST_SEND_ERROR}`;
  if (isRestError(error)) return error.code ?? "";
  return new RestError("unknown", { code: RestError.PARSE_ERROR, statusCode: 500 }).message;
}
