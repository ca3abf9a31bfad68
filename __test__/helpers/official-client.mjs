// An @azure/web-pubsub-client client started against a service, with fresh tokens for each (re)connection.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { WebPubSubClient } = require("@azure/web-pubsub-client");

/**
 * Starts a client whose tokens come from `service.getClientAccessToken(tokenOptions)`. Failed acks are not
 * retried, and short keep-alive timers keep the client's own timers from holding the process open after `stop()`.
 */
export async function startOfficialClient(service, tokenOptions = {}, protocol) {
  const credential = { getClientAccessUrl: async () => (await service.getClientAccessToken(tokenOptions)).url };
  const client = new WebPubSubClient(credential, {
    ...(protocol ? { protocol } : {}),
    messageRetryOptions: { maxRetries: 0 },
    keepAliveIntervalInMs: 500,
    keepAliveTimeoutInMs: 1500,
  });
  await client.start();
  return client;
}
