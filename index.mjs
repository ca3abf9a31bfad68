// ESM entry: re-exports the CommonJS implementation as named exports. Loaded with require rather than
// `import`, which would first run Node's CommonJS export scanner over index.js for nothing.
import { createRequire } from "node:module";

const cjs = createRequire(import.meta.url)("./index.js");

export const { WebPubSubServiceClient, AzureKeyCredential, odata, RestError, AbortError, isRestError } = cjs;
export default cjs;
