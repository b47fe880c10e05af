import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { InterruptedError } from '../../src/errors/errors.js';
import { FakeEc2 } from '../support/fake-cloud/index.js';
import { crashAt, mutatingOf } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { answeredBy, holdWrites } from '../support/switch.js';

// The switch hardened (issue 24 follow-up): failback checks the region it hands back to, the
// switch's own bound, the crash matrix over failover and failback in both topologies, Ctrl-C at
// the question, a resumed switch other than the one asked for, and the static-stability warning.

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';

let h: Harness;
afterEach(() => h?.cleanup());

async function upOn(x: Harness, config?: Record<string, unknown>): Promise<void> {
  if (config) x.writeConfig(config);
  await x.ok(['up']);
  x.cloud.clock.advance(5 * 60_000); // the canary alarms have their first data by then
}

async function upAll(config?: Record<string, unknown>): Promise<void> {
  h = new Harness();
  await upOn(h, config);
}

const history = (x: Harness) =>
  readdirSync(join(x.dir, '.drctl', 'drills'))
    .filter((f) => f.endsWith('-switch.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(x.dir, '.drctl', 'drills', f), 'utf8')) as Record<string, any>);

function breakIngress(x: Harness, region: string): void {
  const sg = x.outputs('vpc', region).endpointSecurityGroupId;
  x.cloud.model(FakeEc2).region(region).securityGroups.get(sg)!.ingress = [];
}

describe('failback checks the region it hands traffic back to', () => {
  it('refuses a broken one (exit 3, the failover wording, nothing changed); --force releases; the question says it', async () => {
    await upAll();
    await h.ok(['failover', '--to', SECONDARY, '--reason', 'INC-1', '--yes']);
    breakIngress(h, PRIMARY);
    h.cloud.resetCalls();
    const r = await h.run(['failback', '--yes']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/refusing to fail back to sa-east-1: from inside .*, through the sa-east-1/);
    expect(r.stderr).toMatch(/--force/);
    expect(h.state()!.switch).toMatchObject({ phase: 'held', to: SECONDARY });
    expect(h.cloud.calls.filter((c) => c.command === 'PutMetricData')).toEqual([]);
    expect(holdWrites(h, PRIMARY)).toEqual([1]);

    const asked: string[] = [];
    const confirm = (q: string) => (asked.push(q), Promise.resolve('y'));
    const forced = await h.ok(['failback', '--force'], { confirm });
    expect(asked[0]).toMatch(/first checks sa-east-1 from inside its VPC/);
    expect(asked[0]).toMatch(/--force/);
    expect(forced.summary).toMatchObject({ command: 'failback', phase: 'released', forced: true });
    expect(h.state()!.switch).toBeUndefined();
    expect(holdWrites(h, PRIMARY)).toEqual([1, 0]);
  });
});

describe("the switch's bound", () => {
  it('the history entry, the --json result and the text say switchBound (hold period + Route 53 + TTL)', async () => {
    await upAll();
    const r = await h.ok(['failover', '--to', SECONDARY, '--reason', 'INC-2', '--yes']);
    // 60 s hold alarm period + 90 s Route 53 reaction + 60 s TTL (src/drill/bound.ts switchBound).
    expect(r.summary).toMatchObject({ boundSeconds: 210 });
    expect(history(h).at(-1)).toMatchObject({ boundSeconds: 210, timeoutSeconds: 420 });
    expect(
      history(h)
        .at(-1)!
        .bound.map((p: { what: string }) => p.what)
        .join(),
    ).toMatch(/hold alarm period/);
    const text = await h.run(['failback', '--yes']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout + text.stderr).toMatch(/back in \d+ s \(bound 210 s\)/);
  });
});

describe('Ctrl-C at the question', () => {
  for (const cmd of [['failover', '--to', SECONDARY, '--reason', 'x'], ['failback']]) {
    it(`${cmd[0]}: exit 130, nothing made`, async () => {
      await upAll();
      if (cmd[0] === 'failback') await h.ok(['failover', '--to', SECONDARY, '--reason', 'x', '--yes']);
      const before = JSON.stringify(h.state());
      h.cloud.resetCalls();
      const confirm = () =>
        Promise.reject(new InterruptedError('interrupted at the prompt; nothing was changed'));
      const r = await h.run(cmd, { confirm });
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toMatch(/nothing was changed/);
      expect(mutatingOf(h)).toEqual([]);
      expect(JSON.stringify(h.state())).toBe(before);
    });
  }
});

describe('a resumed switch other than the one asked for', () => {
  it('finishes the recorded one, then refuses the new one naming both (exit 2)', async () => {
    const args = ['failover', '--to', SECONDARY, '--reason', 'first', '--yes'];
    await upAll();
    h.cloud.resetCalls();
    // Crash right after the hold write (#1 is the target check's probe, #2 the write): the
    // switch is recorded as switching, and the write was made.
    await crashAt(h, 2, args);
    expect(holdWrites(h, PRIMARY)).toEqual([1]);
    expect(h.state()!.switch).toMatchObject({ phase: 'switching', to: SECONDARY });
    const r = await h.run(['failover', '--to', PRIMARY, '--reason', 'second', '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/finished the switch a stopped drctl left, failover to us-west-1/);
    expect(r.stderr).toMatch(/"first"/);
    expect(r.stderr).toMatch(/failover to sa-east-1/);
    expect(r.stderr).toMatch(/"second"/);
    expect(r.stderr).toMatch(/drctl failback/);
    expect(h.state()!.switch).toMatchObject({ phase: 'held', to: SECONDARY, reason: 'first' });
    // The crashed run never heard its write: the resumed one writes it once more, the same value.
    expect(holdWrites(h, PRIMARY)).toEqual([1, 1]);
    expect(holdWrites(h, SECONDARY)).toEqual([]);
    expect(await answeredBy(h, SECONDARY)).toBe(SECONDARY);
  });
});

describe('static stability words', () => {
  it('with the primary in us-east-1, failover prints one warning line naming what that means', async () => {
    await upAll({ ...defaultConfig(), primary: { ...defaultConfig().primary, region: 'us-east-1' } });
    const r = await h.run(['failover', '--to', SECONDARY, '--reason', 'x', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const lines = (r.stdout + r.stderr).split('\n').filter((l) => /^warning: .*us-east-1/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Route 53's API lives/);
    expect(lines[0]).toMatch(/What must be reachable/);
  });

  it('with an S3 state whose bucket is in the region traffic leaves, one warning line says so', async () => {
    h = new Harness();
    // The team made the bucket beforehand, in the primary region.
    await h.teamBucket('team-state', PRIMARY);
    const state = ['--state', 's3://team-state/team/prod.json'];
    await h.ok([...state, 'up']);
    h.cloud.clock.advance(5 * 60_000);
    const r = await h.run([...state, 'failover', '--to', SECONDARY, '--reason', 'x', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const lines = (r.stdout + r.stderr).split('\n').filter((l) => l.startsWith('warning: '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/S3 bucket is in sa-east-1, the region traffic leaves/);
    expect(lines[0]).toMatch(/keep the state in another region/);
    // Failing over the other way, traffic leaves us-west-1: the bucket is not there, no warning.
    await h.ok([...state, 'failback', '--yes']);
    const back = await h.run([...state, 'failover', '--to', PRIMARY, '--reason', 'y', '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout + back.stderr).not.toMatch(/What must be reachable/);
  }, 60_000);

  it('with the primary elsewhere and a local state: no warning', async () => {
    await upAll();
    const r = await h.run(['failover', '--to', SECONDARY, '--reason', 'x', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/What must be reachable/);
  });
});

describe('the region being left does not answer', () => {
  it("a drain whose drained region's Lambda is down is held, measured from the other VPC, and says so", async () => {
    await upAll({ topology: 'active-active' });
    // sa-east-1's Lambda (its probe) answers nothing but 503 from now on: the regional trouble
    // an operator drains it for.
    h.cloud.faults = { unavailableRegions: [PRIMARY], unavailableServices: ['lambda'] };
    const r = await h.run(['failover', '--drain', PRIMARY, '--reason', 'INC-9 Lambda down', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(
      /not measured from sa-east-1: its probe could not be invoked \(ServiceUnavailable\)/,
    );
    expect(h.state()!.switch).toMatchObject({ phase: 'held', to: SECONDARY, awayFrom: [PRIMARY] });
    expect(h.state()!.switch!.recoverySeconds).toEqual(expect.any(Number));
    expect(holdWrites(h, PRIMARY)).toEqual([1]);
    h.cloud.faults = {};
    expect(await answeredBy(h, PRIMARY)).toBe(SECONDARY);
    expect(await answeredBy(h, SECONDARY)).toBe(SECONDARY);
  }, 120_000);
});
