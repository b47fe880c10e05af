import '../support/fast-tmp.js';
import { describe, expect, it } from 'vitest';
import { EXPECTED } from '../../src/aws/expected.js';
import { pollUntil } from '../../src/aws/wait.js';
import { DELAYS } from '../support/fake-cloud/delays.js';
import { VirtualClock } from '../support/fake-cloud/clock.js';
import { Harness } from '../support/harness.js';
import { normalised } from '../support/normalise.js';

// pollUntil with an expectation (issue 14): sparse reads early, one just after the typical and
// the slow moment, lengthening sleeps in between. Virtual time: the reads' moments are exact.

describe('expected.ts', () => {
  it('holds the same typical and slow figures as the fake cloud delay table', () => {
    for (const [key, e] of Object.entries(EXPECTED)) {
      const row = DELAYS[key as keyof typeof DELAYS];
      expect(row, key).toBeDefined();
      expect([e.typicalMs, e.slowMs], key).toEqual([row.typical * 1000, row.slow * 1000]);
    }
  });
});

/** The moments (s since the start) at which a wait reads a resource that is done at `doneAtS`. */
async function readsUntil(doneAtS: number, expect?: { typicalMs: number; slowMs: number }) {
  const clock = new VirtualClock();
  const start = clock.now();
  const reads: number[] = [];
  await pollUntil({
    clock,
    what: 'stack',
    timeoutMs: 3_600_000,
    minDelayMs: 5_000,
    maxDelayMs: 10_000,
    expect,
    check: () => {
      const t = (clock.now() - start) / 1000;
      reads.push(t);
      return Promise.resolve(
        t >= doneAtS
          ? { done: true as const, value: t }
          : { done: false as const, status: 'CREATE_IN_PROGRESS' },
      );
    },
  });
  return reads;
}

describe('pollUntil with an expectation', () => {
  const stack = EXPECTED['stack.create']; // 170 s typical, 300 s slow

  it('sees a completion at the typical moment within a second, with fewer reads than the plain backoff', async () => {
    const withExpect = await readsUntil(170, stack);
    const plain = await readsUntil(170);
    expect(withExpect.at(-1)! - 170).toBeLessThanOrEqual(1);
    expect(withExpect.length).toBeLessThan(plain.length / 2);
    // Sparse before: no two reads within 10 s of each other in the first half.
    const early = withExpect.filter((t) => t < 85);
    expect(early.slice(1).every((t, i) => t - early[i]! >= 10)).toBe(true);
  });

  it('sees a completion at the slow moment within a second, and sleeps longer the later it gets (at most 30 s)', async () => {
    const reads = await readsUntil(300, stack);
    expect(reads.at(-1)! - 300).toBeLessThanOrEqual(1);
    const gaps = reads.slice(1).map((t, i) => t - reads[i]!);
    expect(Math.max(...gaps.filter((_, i) => reads[i]! >= 170))).toBeLessThanOrEqual(30);
    expect(reads.length).toBeLessThan((await readsUntil(300)).length);
  });

  it('in between, a read comes within the time since the typical moment (30 s at most)', async () => {
    for (const at of [175, 200, 260]) {
      const reads = await readsUntil(at, stack);
      expect(reads.at(-1)! - at, `done at ${at}`).toBeLessThanOrEqual(Math.min(30, at - 170) + 0.5);
    }
  });

  it('after the slow moment it falls back to the plain backoff (minDelay growing to maxDelay)', async () => {
    const reads = await readsUntil(400, stack);
    const late = reads.filter((t) => t > 300);
    const gaps = late.slice(1).map((t, i) => t - late[i]!);
    expect(gaps[0]).toBe(5);
    expect(Math.max(...gaps)).toBe(10);
  });
});

describe('the whole lifecycle with the slow delay column (every wait past its typical moment)', () => {
  it('up ends with the same resources as with typical delays, and down leaves an empty cloud', async () => {
    // One fake cloud at a time: each installs itself into the SDK clients.
    const typical = new Harness();
    let clean: string[];
    let typicalS: number;
    try {
      const t0 = typical.cloud.clock.now();
      await typical.ok(['up']);
      clean = normalised(typical.cloud.snapshot());
      typicalS = typical.cloud.clock.now() - t0;
    } finally {
      typical.cleanup();
    }
    const slow = new Harness();
    slow.cloud.profile = 'slow';
    try {
      const t0 = slow.cloud.clock.now();
      await slow.ok(['up']);
      expect(normalised(slow.cloud.snapshot())).toEqual(clean);
      expect(slow.cloud.clock.now() - t0).toBeGreaterThan(typicalS);
      await slow.ok(['down', '--yes']);
      expect(slow.cloud.snapshot()).toEqual([]);
      expect(slow.state()!.steps).toEqual({});
    } finally {
      slow.cleanup();
    }
  });
});
