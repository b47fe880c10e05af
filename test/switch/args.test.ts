import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { UsageError } from '../../src/errors/errors.js';
import { parseFailover, parseReason } from '../../src/switch/args.js';

const AP = defaultConfig();
const AA = { ...defaultConfig(), topology: 'active-active' as const };
const [P, S] = [AP.primary.region, AP.secondary.region];

function refusal(f: () => unknown): UsageError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error('no refusal');
}

describe('failover and failback flags (src/switch/args.ts)', () => {
  it('active-passive: --to names the region that answers; the hold is on the other', () => {
    expect(parseFailover(AP, { to: S, reason: 'INC-1' })).toEqual({
      action: 'failover',
      awayFrom: [P],
      to: S,
      reason: 'INC-1',
      force: false,
    });
    expect(parseFailover(AP, { to: 'primary', reason: 'x' })).toMatchObject({ awayFrom: [S], to: P });
  });

  it('active-active: --drain names the region that stops answering', () => {
    expect(parseFailover(AA, { drain: P, reason: 'x', force: true })).toEqual({
      action: 'drain',
      awayFrom: [P],
      to: S,
      reason: 'x',
      force: true,
    });
  });

  it('refuses the flag of the other topology, naming the right one', () => {
    const aa = refusal(() => parseFailover(AA, { to: S, reason: 'x' }));
    expect(aa.field).toBe('--drain');
    expect(aa.resolution).toMatch(/--drain <region>/);
    const ap = refusal(() => parseFailover(AP, { drain: P, reason: 'x' }));
    expect(ap.field).toBe('--to');
    expect(ap.resolution).toMatch(/--to <region>/);
  });

  it('refuses a missing or blank --reason on failover, and a blank one on failback', () => {
    for (const reason of [undefined, '', '   ']) {
      const e = refusal(() => parseFailover(AP, { to: S, reason }));
      expect(e.field).toBe('--reason');
      expect(e.resolution).toMatch(/--reason/);
    }
    expect(parseReason(undefined, false)).toBeUndefined();
    refusal(() => parseReason(' ', false));
  });

  it('refuses a region that is not one of the two, naming the flag', () => {
    const e = refusal(() => parseFailover(AP, { to: 'eu-west-1', reason: 'x' }));
    expect(e.message).toMatch(new RegExp(`${P} or ${S}, not "eu-west-1"`));
    expect(e.field).toBe('--to');
  });
});
