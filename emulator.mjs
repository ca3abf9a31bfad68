// ESM entry of web-pubsub-native/emulator: re-exports the CommonJS implementation.
import cjs from "./emulator.js";

export const { startEmulator } = cjs;
export default cjs;
