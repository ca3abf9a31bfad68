// ESM entry: re-exports the CommonJS implementation as named exports.
import cjs from "./index.js";

export const { WebPubSubServiceClient, AzureKeyCredential, odata, RestError, AbortError, isRestError } = cjs;
export default cjs;
