// ESM entry of web-pubsub-native/emulator: re-exports the CommonJS implementation.
import { createRequire } from "node:module";

const cjs = createRequire(import.meta.url)("./emulator.js");

export const { startEmulator } = cjs;
export default cjs;
