"use strict";
// listConnections: an async iterator over pages fetched one native call at a time, following nextLink.

/**
 * `fetchPage(nextLink | undefined)` resolves to `{ value, nextLink }`. Returns the iterator shape
 * of the official SDK: `next()`, `[Symbol.asyncIterator]()` and `byPage()`.
 */
function pagedIterator(fetchPage) {
  async function* pages(continuationToken) {
    let link = continuationToken;
    if (!link) {
      const page = await fetchPage(undefined);
      link = page.nextLink;
      yield page.value ?? [];
    }
    while (link) {
      const page = await fetchPage(link);
      link = page.nextLink;
      yield page.value ?? [];
    }
  }
  async function* items() {
    for await (const page of pages(undefined)) yield* page;
  }
  const all = items();
  return {
    next() {
      return all.next();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
    byPage(settings) {
      if (settings?.maxPageSize) throw new Error("maxPageSize is not supported by this operation.");
      return pages(settings?.continuationToken);
    },
  };
}

module.exports = { pagedIterator };
