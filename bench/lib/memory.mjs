// memory.mjs - runs memory/memory-bench.mjs for the benchmark driver and renders its figures beside the bounds
// they check.

import path from "node:path";
import { fileURLToPath } from "node:url";
import { runJsonLines } from "./proc.mjs";

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "../memory/memory-bench.mjs");

/** The memory figures: this package's emulator (installed in `emulatorFrom`) and both SDKs' short-lived clients. */
export async function runMemoryBench({ connections, native, emulatorFrom }) {
  const argv = [SCRIPT, "--connections", String(connections)];
  if (native) argv.push("--native", native);
  const { code, lines } = await runJsonLines(process.execPath, argv, {
    env: emulatorFrom ? { BENCH_EMULATOR_FROM: emulatorFrom } : {},
    tag: "memory",
    timeoutMs: 600_000,
  });
  return code === 0 ? lines : [...lines, { part: "error", error: `memory-bench exited with ${code}` }];
}

/** The memory section of the report. */
export function memoryTables(lines) {
  if (!lines.length) return "Not measured.";
  const out = [];
  const error = lines.find((l) => l.part === "error");
  if (error) out.push(`**${error.error}**`, "");
  const broadcasts = lines.filter((l) => l.part === "broadcast");
  if (broadcasts.length) {
    out.push("One 1 MiB `sendToAll` to every client; the emulator's resident memory per connection (bound: ≤ 256 KiB at the peak, ≤ 16 KiB kept).", "");
    out.push("| clients | protocol | before | peak per connection | kept per connection (2 s later) |", "| ---: | --- | ---: | ---: | ---: |");
    for (const l of broadcasts) out.push(`| ${l.connections} | ${l.protocol} | ${l.before_mib} MiB | ${l.peak_per_conn_kib} KiB | ${l.kept_per_conn_kib} KiB |`);
    out.push("");
  }
  for (const l of lines.filter((x) => x.part === "burst")) {
    out.push(`A burst of ${l.broadcasts} broadcasts of 1 MiB at once to ${l.connections} clients: ${l.before_mib} MiB before, ${l.peak_mib} MiB at the peak, ${l.after_10s_mib} MiB 10 s after (bound: within 64 MiB of before).`, "");
  }
  for (const l of lines.filter((x) => x.part === "stalled")) {
    out.push(`${l.readers} clients that stop reading, sent ${l.message_kib} KiB messages (${l.sent_each} each) until closed as slow clients: ${l.closed} of ${l.readers} closed; memory grew by ${l.peak_growth_mib} MiB at the peak (bound: \`maxQueuedBytes\`, 16 MiB per client, plus what the sockets hold) and was ${l.after_10s_mib} MiB 10 s later (${l.before_mib} MiB before).`, "");
  }
  const shortLived = lines.filter((l) => l.part === "short_lived");
  if (shortLived.length) {
    out.push(`${shortLived[0].clients.toLocaleString("en")} \`WebPubSubServiceClient\` instances, ${shortLived[0].at_a_time} at a time, one \`sendToAll\` each and dropped, under a ${shortLived[0].fd_limit}-descriptor limit (this package: one shared pool, at most 256 requests in flight).`, "");
    out.push("| SDK | failed calls | most file descriptors | resident memory growth after GC |", "| --- | ---: | ---: | ---: |");
    for (const l of shortLived) out.push(l.error ? `| ${l.sdk} | ${l.error} | | |` : `| ${l.sdk} | ${l.failed} | ${l.max_fds} | ${l.rss_growth_mib} MiB |`);
    out.push("");
  }
  return out.join("\n");
}
