import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { holdAlarm } from '../../src/config/traffic-hold.js';
import { crashEachMutatingCall } from '../support/crash.js';
import type { Harness } from '../support/harness.js';
import { answeredBy, holdWrites } from '../support/switch.js';

// The crash matrix over the switch (test/support/crash.ts): a crash right after each mutating call
// of `failover` and of `failback`, in both topologies; the next run of the same command converges
// (state.switch, the hold metric, what clients in each VPC are answered), writes the hold again
// only when the crashed run never heard its write, and leaves nothing unrecorded (crashAt checks).

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';

interface Case {
  topology: 'active-passive' | 'active-active';
  switchArgs: string[];
  awayFrom: string;
  to: string;
  /** The VPCs with a probe: a client in each. */
  vpcs: string[];
}

const CASES: Case[] = [
  {
    topology: 'active-passive',
    switchArgs: ['failover', '--to', SECONDARY, '--reason', 'x', '--yes'],
    awayFrom: PRIMARY,
    to: SECONDARY,
    vpcs: [SECONDARY],
  },
  {
    topology: 'active-active',
    switchArgs: ['failover', '--drain', SECONDARY, '--reason', 'x', '--yes'],
    awayFrom: SECONDARY,
    to: PRIMARY,
    vpcs: [PRIMARY, SECONDARY],
  },
];

async function up(h: Harness, c: Case): Promise<void> {
  if (c.topology === 'active-active') h.writeConfig({ topology: 'active-active' });
  await h.ok(['up']);
  h.cloud.clock.advance(5 * 60_000);
}

/** 1-based index of the hold write among the clean run's mutating calls. */
const writeAt = (mutating: string[], region: string) => mutating.indexOf(`${region} PutMetricData`) + 1;

describe('crash matrix over the switch', () => {
  for (const c of CASES) {
    it(`${c.switchArgs.slice(0, 3).join(' ')} (${c.topology}): each crash, then the same command converges to held`, async () => {
      const writeRegion = holdAlarm(defaultConfig(), c.awayFrom).region;
      let write = 0;
      const mutating = await crashEachMutatingCall({
        prepare: (h) => up(h, c),
        args: c.switchArgs,
        clean: (m) => {
          write = writeAt(m, writeRegion);
          expect(write, m.join(', ')).toBeGreaterThan(0);
          expect(m.filter((x) => x.endsWith('PutMetricData'))).toHaveLength(1);
        },
        afterCrash: (h, where) => {
          const n = Number(/#(\d+)/.exec(where)![1]);
          // Recorded before the write: a hold written is never a hold unrecorded.
          if (n >= write) expect(h.state()!.switch, where).toMatchObject({ phase: 'switching', to: c.to });
          else expect(h.state()!.switch, where).toBeUndefined();
        },
        rerun: (h) => h.ok(c.switchArgs),
        check: async (h, where, n) => {
          expect(h.state()!.switch, where).toMatchObject({ phase: 'held', to: c.to, awayFrom: [c.awayFrom] });
          // Written again only when the crashed run never heard its write (the crash right after it).
          expect(holdWrites(h, c.awayFrom), where).toEqual(n === write ? [1, 1] : [1]);
          expect(holdWrites(h, c.to), where).toEqual([]);
          for (const v of c.vpcs) expect(await answeredBy(h, v), `${where}: client in ${v}`).toBe(c.to);
        },
      });
      expect(mutating.length).toBeGreaterThan(write);
    });

    it(`failback after ${c.switchArgs.slice(0, 3).join(' ')} (${c.topology}): each crash, then failback converges to released`, async () => {
      const writeRegion = holdAlarm(defaultConfig(), c.awayFrom).region;
      let write = 0;
      await crashEachMutatingCall({
        prepare: async (h) => {
          await up(h, c);
          await h.ok(c.switchArgs);
        },
        args: ['failback', '--yes'],
        clean: (m) => {
          write = writeAt(m, writeRegion);
          expect(write, m.join(', ')).toBeGreaterThan(0);
          expect(m.filter((x) => x.endsWith('PutMetricData'))).toHaveLength(1);
        },
        afterCrash: (h, where) => {
          const n = Number(/#(\d+)/.exec(where)![1]);
          expect(h.state()!.switch, where).toMatchObject({ phase: n >= write ? 'releasing' : 'held' });
        },
        rerun: (h) => h.ok(['failback', '--yes']),
        check: async (h, where, n) => {
          expect(h.state()!.switch, where).toBeUndefined();
          expect(holdWrites(h, c.awayFrom), where).toEqual(n === write ? [1, 0, 0] : [1, 0]);
          for (const v of c.vpcs) {
            const home = c.topology === 'active-active' ? v : PRIMARY;
            expect(await answeredBy(h, v), `${where}: client in ${v}`).toBe(home);
          }
        },
      });
    });
  }
});
