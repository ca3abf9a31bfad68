// Polling for a condition in tests, within a generous bound (never a timing assertion).

/** Resolves once `condition()` (or the promise it returns) holds; throws after `timeoutMs`, naming `what` was awaited. */
export async function until(condition, what = "condition", timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
