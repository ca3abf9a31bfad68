// Polling for a condition in tests, within a generous bound (never a timing assertion).

/** Resolves once `condition()` holds; throws after 10 s, naming `what` was awaited. */
export async function until(condition, what = "condition") {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
