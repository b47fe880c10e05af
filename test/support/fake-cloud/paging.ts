import type { FakeCloud } from './cloud.js';
import { awsError } from './errors.js';

/**
 * How the fake pages list and Describe* answers, one helper for every service.
 *
 * Every AWS list call may answer with fewer items than asked for and a token for the rest; callers
 * that read only the first page miss resources once an account holds more than one page. The test
 * mode `cloud.pageSize = 1` (or FAKE_CLOUD_PAGE_SIZE=1 for a whole vitest run) makes every list
 * call the fake models answer at most one item a page, so any first-page-only read shows up.
 */
export interface PageRule<T> {
  /** Tokens name the command they came from: a token from another list is refused. */
  command: string;
  /** AWS's page size when the caller asks for none. */
  defaultSize: number;
  /** The most AWS returns in one page, whatever the caller asks for. */
  maxSize?: number;
  /** A stable identity of an item, so a page boundary survives items deleted between two calls. */
  key: (item: T) => string;
  /**
   * EC2 cuts the page first and applies Filters to it afterwards, so a page may hold fewer items
   * than asked for, even none, and still carry a NextToken
   * (https://github.com/aws/aws-sdk-js/issues/940, https://github.com/boto/boto3/issues/2888).
   */
  keep?: (item: T) => boolean;
  /** The error AWS gives for a token it did not issue (default InvalidNextToken). */
  badToken?: { name: string; status?: number };
}

/** The page size a call gets: what it asked for (or AWS's default), capped by AWS and by the test mode. */
export function pageSize(
  cloud: Pick<FakeCloud, 'pageSize'>,
  requested: number | string | undefined,
  defaultSize: number,
  maxSize = Infinity,
): number {
  const asked = requested === undefined || requested === null ? defaultSize : Number(requested);
  const size = Math.min(asked > 0 ? asked : defaultSize, maxSize, cloud.pageSize ?? Infinity);
  return Math.max(1, size);
}

interface Cursor {
  c: string;
  /** Key of the last item of the previous page. */
  k: string;
  /** Its index then: where to go on if that item has since gone. */
  i: number;
}

function encode(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decode<T>(token: string, rule: PageRule<T>): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
    if (c.c === rule.command && typeof c.k === 'string' && typeof c.i === 'number') return c;
  } catch {
    // fall through to AWS's refusal
  }
  const bad = rule.badToken ?? { name: 'InvalidNextToken' };
  throw awsError(bad.name, `The pagination token '${token}' is invalid.`, bad.status ?? 400);
}

/**
 * One page of `all` (already selected and in AWS's order) after the token, and the token for the
 * next page when there is one. The token is opaque to callers, like AWS's.
 */
export function page<T>(
  cloud: Pick<FakeCloud, 'pageSize'>,
  all: T[],
  req: { token?: string | null; limit?: number | string },
  rule: PageRule<T>,
): { items: T[]; next: string | undefined } {
  const key = rule.key;
  let start = 0;
  if (req.token) {
    const cur = decode(req.token, rule);
    const at = all.findIndex((x) => key(x) === cur.k);
    start = at >= 0 ? at + 1 : Math.min(cur.i, all.length);
  }
  const size = pageSize(cloud, req.limit, rule.defaultSize, rule.maxSize);
  const slice = all.slice(start, start + size);
  const last = slice[slice.length - 1];
  const next =
    start + size < all.length && last !== undefined
      ? encode({ c: rule.command, k: key(last), i: start + slice.length - 1 })
      : undefined;
  const keep = rule.keep;
  return { items: keep ? slice.filter(keep) : slice, next };
}
