/**
 * Reading every page of an AWS list. Any list or Describe* call may answer with part of the
 * result and a token for the rest, and EC2 applies Filters after cutting a page, so a page can be
 * empty while more follow (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#api-pagination).
 * Where the SDK has a paginator (`paginateDescribeRouteTables`, ...) the caller passes it here with
 * the factory's client (`{ client }`), so our retries apply to every page; `pages` below is the
 * loop for the lists the SDK has none for (Route 53's record, zone and traffic-policy lists).
 */

/** Every item of every page, in order. */
export async function collect<P, T>(
  pages: AsyncIterable<P>,
  items: (page: P) => readonly T[] | undefined,
): Promise<T[]> {
  const out: T[] = [];
  for await (const p of pages) out.push(...(items(p) ?? []));
  return out;
}

/** The first item of any page that matches, reading no further pages than needed. */
export async function findInPages<P, T>(
  pages: AsyncIterable<P>,
  items: (page: P) => readonly T[] | undefined,
  match: (item: T) => boolean,
): Promise<T | undefined> {
  for await (const p of pages) {
    const hit = (items(p) ?? []).find(match);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/**
 * Pages of a list the SDK has no paginator for: `fetch` sends one request from a marker (none for
 * the first), `next` reads the marker for the following page from an answer (undefined: the last).
 * A marker that comes back unchanged ends the walk instead of looping on it.
 */
export async function* pages<P, M>(
  fetch: (marker: M | undefined) => Promise<P>,
  next: (page: P) => M | undefined,
): AsyncGenerator<P, void, undefined> {
  let marker: M | undefined;
  let seen: string | undefined;
  for (;;) {
    const p = await fetch(marker);
    yield p;
    marker = next(p);
    if (marker === undefined) return;
    const key = JSON.stringify(marker);
    if (key === seen) return;
    seen = key;
  }
}

/**
 * The items from the start of a sorted list while `match` holds (a list read from a starting
 * name, such as Route 53's records or zones by name, runs on past the name): stops at the first
 * item that does not match, reading no further pages.
 */
export async function leadingInPages<P, T>(
  pages: AsyncIterable<P>,
  items: (page: P) => readonly T[] | undefined,
  match: (item: T) => boolean,
): Promise<T[]> {
  const out: T[] = [];
  for await (const p of pages) {
    for (const item of items(p) ?? []) {
      if (!match(item)) return out;
      out.push(item);
    }
  }
  return out;
}
