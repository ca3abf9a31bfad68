// The emulator's typings: options, the live trace's follower and records, inspection snapshots.
import {
  startEmulator,
  type HubSnapshot,
  type TraceGap,
  type TraceRecord,
} from "web-pubsub-native/emulator";

export async function followJoins(): Promise<string[]> {
  const emu = await startEmulator({ port: 0, traceCapacity: 100 });
  const joined: string[] = [];
  const trace = emu.trace({ categories: ["connectivity", "messaging"], hub: "chat" });
  for await (const item of trace) {
    if ("missed" in item) {
      const gap: TraceGap = item;
      joined.push(`missed ${gap.missed}`);
      continue;
    }
    const record: TraceRecord = item;
    if (record.event === "GroupJoined" && record.group !== undefined) joined.push(record.group);
    if (record.detail?.response?.bodyBytes === 0) break;
  }
  await trace.close();
  const hubs: HubSnapshot[] = await emu.inspect();
  const chat: HubSnapshot | undefined = await emu.inspect("chat");
  const url: string = emu.liveTraceUrl;
  await emu.close();
  return [...joined, url, String(hubs.length), chat?.connections[0]?.subprotocol ?? "raw"];
}

// @ts-expect-error categories are the three live-trace categories
startEmulator().then((emu) => emu.trace({ categories: ["everything"] }));
