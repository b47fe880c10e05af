import type { Clock } from '../lib/clock.js';
import { AwsStepError } from '../errors/errors.js';
import { awsCode, isTransient } from './errors.js';
import type { Expectation } from './expected.js';

export interface PollOptions<T> {
  clock: Clock;
  /** What is being waited for, in AWS words: "endpoint vpce-123 available". */
  what: string;
  /** Reads the current state; returns `done` when finished. Throwing a non-transient error ends the wait. */
  check: () => Promise<{ done: true; value: T } | { done: false; status: string }>;
  timeoutMs: number;
  /** First delay between polls; grows by `factor` up to `maxDelayMs`. */
  minDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
  /**
   * When it usually finishes and when it finishes at worst most of the time, from the poll's start
   * (expected.ts): polls are sparse before the first, one lands just after each, and between the
   * two they come every maxDelayMs. After the second, the usual backoff.
   */
  expect?: Expectation;
  /** Extra predicate for errors that mean "not yet" here (e.g. peering NotFound in the accepter region). */
  retryOn?: (e: unknown) => boolean;
  onProgress?: (text: string, elapsedMs: number) => void;
  signal?: AbortSignal;
}

/**
 * Poll until done, with capped exponential backoff on the injected clock. We use this instead of
 * the SDK's waiters because those sleep on the wall clock (untestable in virtual time) and some are
 * wrong for our case (ACM's CertificateValidated never succeeds for private certs: docs/design/aws-behaviour.md §4).
 */
export async function pollUntil<T>(o: PollOptions<T>): Promise<T> {
  const start = o.clock.now();
  const minDelay = o.minDelayMs ?? 2_000;
  let delay = minDelay;
  const maxDelay = o.maxDelayMs ?? 15_000;
  const factor = o.factor ?? 1.5;
  let last = 'not checked yet';
  for (;;) {
    o.signal?.throwIfAborted();
    try {
      const r = await o.check();
      if (r.done) return r.value;
      last = r.status;
    } catch (e) {
      if (!(isTransient(e) || o.retryOn?.(e))) throw e;
      last = awsCode(e) ?? String(e);
    }
    const elapsed = o.clock.now() - start;
    o.onProgress?.(`${o.what}: ${last}`, elapsed);
    const expected = o.expect && expectedDelay(o.expect, elapsed, minDelay);
    const sleep = expected ?? delay;
    if (elapsed + sleep > o.timeoutMs) {
      throw new AwsStepError(
        `timed out after ${Math.round(elapsed / 1000)}s waiting for ${o.what} (last seen: ${last})`,
        {
          code: 'aws.timeout',
          resolution:
            'AWS may just be slow: run the same command again to keep waiting, or check the resource in the console.',
        },
      );
    }
    await o.clock.sleep(sleep, o.signal);
    if (expected === undefined) delay = Math.min(maxDelay, delay * factor);
  }
}

/** A read this long after the expected moment sees what happened at it. */
const JUST_AFTER_MS = 500;
/** The longest sleep between the typical and the slow moment. */
const WINDOW_MAX_DELAY_MS = 30_000;

/**
 * The next sleep of a wait with an expectation, or undefined once both expected moments are past
 * (then the usual backoff, from minDelay). Before the typical moment each sleep takes three
 * quarters of the time left: few reads while it is unlikely to be done, and one just after it.
 * From there on, the sleeps lengthen with the time since (as long as it, minDelay to 30 s): most
 * completions come soon after the typical moment and ever fewer later; one read lands just after
 * the slow moment.
 */
export function expectedDelay(e: Expectation, elapsedMs: number, minDelayMs: number): number | undefined {
  if (elapsedMs < e.typicalMs) {
    const gap = e.typicalMs - elapsedMs;
    return gap <= minDelayMs ? gap + JUST_AFTER_MS : Math.max(minDelayMs, gap * 0.75);
  }
  if (elapsedMs >= e.slowMs) return undefined;
  const sleep = Math.min(WINDOW_MAX_DELAY_MS, Math.max(minDelayMs, elapsedMs - e.typicalMs));
  return elapsedMs + sleep > e.slowMs ? e.slowMs - elapsedMs + JUST_AFTER_MS : sleep;
}

/**
 * Retry one call while it fails transiently (throttling, eventual consistency), with backoff on
 * the injected clock. The SDK already retries throttling a few times; this covers the longer
 * tails and the errors the SDK does not know are temporary.
 */
export async function retrying<T>(
  o: {
    clock: Clock;
    what: string;
    timeoutMs?: number;
    retryOn?: (e: unknown) => boolean;
    onProgress?: (text: string, elapsedMs: number) => void;
    signal?: AbortSignal;
  },
  call: () => Promise<T>,
): Promise<T> {
  return pollUntil<T>({
    clock: o.clock,
    what: o.what,
    timeoutMs: o.timeoutMs ?? 120_000,
    minDelayMs: 1_000,
    maxDelayMs: 10_000,
    retryOn: o.retryOn,
    onProgress: o.onProgress,
    signal: o.signal,
    check: async () => ({ done: true, value: await call() }),
  });
}
