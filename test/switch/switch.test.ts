import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Route53Client, UpdateHealthCheckCommand } from '@aws-sdk/client-route-53';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/lib/clock.js';
import { FakeEc2 } from '../support/fake-cloud/index.js';
import { crashAt, mutatingOf } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { answeredBy, holdWrites } from '../support/switch.js';

// drctl failover / failback on the fake cloud (src/switch/): the state, the hold writes and what
// the person sees, and what a client inside each VPC is answered (the probe there), through the
// hold in the deployment (the health-check step's hold alarms and calculated checks).

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';

let h: Harness;
afterEach(() => h?.cleanup());

async function upAll(config?: Record<string, unknown>): Promise<void> {
  h = new Harness();
  if (config) h.writeConfig(config);
  await h.ok(['up']);
  h.cloud.clock.advance(5 * 60_000); // the canary alarms have their first data by then
}

const history = () =>
  readdirSync(join(h.dir, '.drctl', 'drills'))
    .filter((f) => f.endsWith('-switch.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(h.dir, '.drctl', 'drills', f), 'utf8')) as Record<string, any>);

describe('drctl failover / failback (active-passive)', () => {
  it('failover --to the secondary: recorded before the write, the hold tripped in the secondary, then failback releases it', async () => {
    await upAll();
    const r = await h.ok(['failover', '--to', SECONDARY, '--reason', 'INC-7 5xx', '--yes']);
    const sw = h.state()!.switch!;
    expect(sw).toMatchObject({
      action: 'failover',
      awayFrom: [PRIMARY],
      to: SECONDARY,
      reason: 'INC-7 5xx',
      forced: false,
      phase: 'held',
    });
    expect(sw.principal).toMatch(/^arn:aws:/);
    expect(sw.heldSince).toBeDefined();
    // The hold away from the primary lives in the secondary: one write there, none in the primary.
    expect(holdWrites(h, PRIMARY)).toEqual([1]);
    expect(holdWrites(h, SECONDARY)).toEqual([]);
    const calls = h.cloud.calls.filter((c) => c.command === 'PutMetricData');
    expect(calls.map((c) => c.region)).toEqual([SECONDARY]);
    expect(r.summary).toMatchObject({ ok: true, command: 'failover', to: SECONDARY, phase: 'held' });
    // Measured: the first change to the client in the secondary VPC answered by the secondary.
    expect((r.summary as { recoverySeconds: unknown }).recoverySeconds).toEqual(expect.any(Number));
    expect(await answeredBy(h, SECONDARY)).toBe(SECONDARY);
    // Held, not a drill: time passes (no new datapoint) and `up` runs; clients stay with the secondary.
    h.cloud.clock.advance(30 * 60_000);
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000);
    expect(await answeredBy(h, SECONDARY)).toBe(SECONDARY);
    expect(h.state()!.switch).toMatchObject({ phase: 'held' });
    expect(history().at(-1)).toMatchObject({
      kind: 'switch',
      mode: 'switch',
      switch: { action: 'failover', reason: 'INC-7 5xx', to: SECONDARY, awayFrom: [PRIMARY] },
    });

    const back = await h.ok(['failback', '--reason', 'fixed', '--yes']);
    expect(h.state()!.switch).toBeUndefined();
    expect(holdWrites(h, PRIMARY)).toEqual([1, 0]);
    expect(back.summary).toMatchObject({ ok: true, command: 'failback', phase: 'released' });
    expect((back.summary as { recoverySeconds: unknown }).recoverySeconds).toEqual(expect.any(Number));
    expect(await answeredBy(h, SECONDARY)).toBe(PRIMARY);
    expect(history().at(-1)).toMatchObject({
      kind: 'switch',
      switch: { action: 'failback', reason: 'fixed' },
    });
  });

  it('the switch entries read back: `drills` lists them and `report` renders with them', async () => {
    await upAll();
    await h.ok(['failover', '--to', SECONDARY, '--reason', 'INC-9', '--yes']);
    await h.ok(['failback', '--yes']);
    const drills = await h.run(['drills']);
    expect(drills.code).toBe(0);
    expect(drills.stdout.match(/switch/g)?.length).toBe(2);
    expect(drills.stdout + drills.stderr).not.toMatch(/unreadable/);
    const report = await h.run(['report', '--format', 'md']);
    expect(report.code, report.stderr).toBe(0);
  });

  it('failover --to the primary holds traffic away from the secondary (in the primary)', async () => {
    await upAll();
    await h.ok(['failover', '--to', 'primary', '--reason', 'maintenance in us-west-1', '--yes']);
    expect(h.state()!.switch).toMatchObject({ awayFrom: [SECONDARY], to: PRIMARY, phase: 'held' });
    expect(holdWrites(h, SECONDARY)).toEqual([1]);
    expect(await answeredBy(h, SECONDARY)).toBe(PRIMARY);
  });

  it('refuses a broken target (its endpoint takes no 443) with exit 3 naming it; --force switches anyway', async () => {
    await upAll();
    // The secondary's endpoint security group loses its 443 ingress: clients sent there get nothing.
    const sg = h.outputs('vpc', SECONDARY).endpointSecurityGroupId;
    const group = h.cloud.model(FakeEc2).region(SECONDARY).securityGroups.get(sg)!;
    group.ingress = [];
    h.cloud.resetCalls();
    const r = await h.run(['failover', '--to', SECONDARY, '--reason', 'x', '--yes']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/refusing to switch to us-west-1: from inside us-west-1, through the us-west-1/);
    expect(r.stderr).toMatch(/--force/);
    expect(h.state()!.switch).toBeUndefined();
    expect(h.cloud.calls.filter((c) => c.command === 'PutMetricData')).toEqual([]);

    const forced = await h.ok(['failover', '--to', SECONDARY, '--reason', 'x', '--force', '--yes']);
    expect(h.state()!.switch).toMatchObject({ forced: true, phase: 'held' });
    expect(forced.summary).toMatchObject({ forced: true });
    expect(holdWrites(h, PRIMARY)).toEqual([1]);
  });

  it('refuses a second switch while one holds, naming it; changes nothing', async () => {
    await upAll();
    await h.ok(['failover', '--to', SECONDARY, '--reason', 'first', '--yes']);
    const before = JSON.stringify(h.state()!.switch);
    const r = await h.run(['failover', '--to', PRIMARY, '--reason', 'second', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already held: failover to us-west-1/);
    expect(r.stderr).toMatch(/"first"/);
    expect(r.stderr).toMatch(/drctl failback/);
    expect(JSON.stringify(h.state()!.switch)).toBe(before);
    expect(holdWrites(h, SECONDARY)).toEqual([]);
  });

  it('--reason missing is exit 2 naming --reason, before anything is read or changed', async () => {
    await upAll();
    h.cloud.resetCalls();
    const r = await h.run(['failover', '--to', SECONDARY, '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--reason/);
    expect(h.cloud.calls).toEqual([]);
    expect(h.state()!.switch).toBeUndefined();
  });

  it('before a complete up it is exit 2 naming the step, in its own words', async () => {
    h = new Harness();
    const r = await h.run(['failover', '--to', SECONDARY, '--reason', 'x', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the switch needs a complete `up`: step keypairs/);
    expect(r.stderr).not.toMatch(/failover-test/);
  });

  it('failback with nothing held is exit 2', async () => {
    await upAll();
    const r = await h.run(['failback', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no switch is held/);
  });

  it('without a terminal and without --yes it asks for --yes and changes nothing', async () => {
    await upAll();
    const r = await h.run(['failover', '--to', SECONDARY, '--reason', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes/);
    expect(h.state()!.switch).toBeUndefined();
  });

  it('a crash after each mutating call around the hold write: the next failover converges to held', async () => {
    const args = ['failover', '--to', SECONDARY, '--reason', 'x', '--yes'];
    await upAll();
    h.cloud.resetCalls();
    await h.ok(args);
    const order = mutatingOf(h);
    const write = order.indexOf(`${SECONDARY} PutMetricData`) + 1;
    expect(write, order.join(', ')).toBeGreaterThan(0);
    h.cleanup();
    // Before the write (the target check's probe), the write itself, and the first measuring probe.
    for (const n of [write - 1, write, write + 1].filter((x) => x > 0)) {
      await upAll();
      const crashed = await crashAt(h, n, args);
      const where = `crash after #${n} ${order[n - 1]}`;
      expect(crashed.code, where).not.toBe(0);
      // Recorded before the write: a hold written is never a hold unrecorded.
      if (n >= write) expect(h.state()!.switch, where).toMatchObject({ phase: 'switching', to: SECONDARY });
      const r = await h.ok(args);
      expect(h.state()!.switch, where).toMatchObject({ phase: 'held', to: SECONDARY, awayFrom: [PRIMARY] });
      if (n >= write) expect(r.summary?.resumed, where).toMatch(/^finished failover to us-west-1/);
      expect(holdWrites(h, PRIMARY).length, where).toBeGreaterThan(0);
      expect(new Set(holdWrites(h, PRIMARY)), where).toEqual(new Set([1]));
      expect(await answeredBy(h, SECONDARY), where).toBe(SECONDARY);
      h.cleanup();
    }
  });

  it('Ctrl-C while measuring: exit 130, the switch recorded as switching; the next failover finishes it', async () => {
    await upAll();
    const stop = new AbortController();
    const clock = h.cloud.clock;
    // Ctrl-C at the first wait after the hold is written (drctl is measuring).
    const ctrlC: Clock = {
      now: () => clock.now(),
      sleep: (ms, signal) => {
        if (h.cloud.calls.some((c) => c.command === 'PutMetricData')) stop.abort(new Error('SIGINT'));
        return clock.sleep(ms, signal);
      },
    };
    const args = ['failover', '--to', SECONDARY, '--reason', 'x', '--yes'];
    const r = await h.run(args, { signal: stop.signal, clock: ctrlC });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted: the switch is recorded in the state \(phase switching\)/);
    expect(h.state()!.switch).toMatchObject({ phase: 'switching' });
    await h.ok(args);
    expect(h.state()!.switch).toMatchObject({ phase: 'held' });
    expect(await answeredBy(h, SECONDARY)).toBe(SECONDARY);
  });

  it('a crash after the release was written (phase releasing): the next failback finishes it', async () => {
    await upAll();
    await h.ok(['failover', '--to', SECONDARY, '--reason', 'x', '--yes']);
    h.cloud.resetCalls();
    // #1 is the check of the region handed back (its probe, an Invoke); #2 the release.
    await crashAt(h, 2, ['failback', '--yes']);
    expect(h.state()!.switch).toMatchObject({ phase: 'releasing' });
    expect(holdWrites(h, PRIMARY)).toEqual([1, 0]);
    const r = await h.run(['failback', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stderr + r.stdout).toMatch(/finishing the failback a stopped drctl left/);
    expect(h.state()!.switch).toBeUndefined();
    expect(holdWrites(h, PRIMARY).at(-1)).toBe(0);
    expect(await answeredBy(h, SECONDARY)).toBe(PRIMARY);
  });
});

describe('drctl failover --drain (active-active)', () => {
  it('never drains the last healthy region: refused (exit 3) even with --force', async () => {
    await upAll({ topology: 'active-active' });
    // The primary's canary check unhealthy: draining the secondary would leave no healthy region,
    // and Route 53 answers as if all were healthy when none is.
    const id = h.outputs('health-check', 'global').primaryHealthCheckId;
    await new Route53Client({ region: 'us-east-1' }).send(
      new UpdateHealthCheckCommand({ HealthCheckId: id, Inverted: true }),
    );
    h.cloud.clock.advance(60_000);
    for (const force of [[], ['--force']]) {
      const r = await h.run(['failover', '--drain', SECONDARY, '--reason', 'x', ...force, '--yes']);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/sa-east-1 is not healthy either/);
      expect(r.stderr).toMatch(/--force cannot help/);
    }
    expect(h.state()!.switch).toBeUndefined();
    expect(holdWrites(h, SECONDARY)).toEqual([]);
  });

  it('drains a region (the hold written in the other), refuses --to, and fails back', async () => {
    await upAll({ topology: 'active-active' });
    const wrong = await h.run(['failover', '--to', SECONDARY, '--reason', 'x', '--yes']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--drain/);
    await h.ok(['failover', '--drain', SECONDARY, '--reason', 'bad deploy', '--yes']);
    expect(h.state()!.switch).toMatchObject({ action: 'drain', awayFrom: [SECONDARY], to: PRIMARY });
    expect(holdWrites(h, SECONDARY)).toEqual([1]);
    expect(h.cloud.calls.filter((c) => c.command === 'PutMetricData').map((c) => c.region)).toEqual([
      PRIMARY,
    ]);
    // Clients of both VPCs answered by the primary while the secondary is drained.
    expect([await answeredBy(h, PRIMARY), await answeredBy(h, SECONDARY)]).toEqual([PRIMARY, PRIMARY]);
    await h.ok(['failback', '--yes']);
    expect(holdWrites(h, SECONDARY)).toEqual([1, 0]);
    expect([await answeredBy(h, PRIMARY), await answeredBy(h, SECONDARY)]).toEqual([PRIMARY, SECONDARY]);
    expect(h.state()!.switch).toBeUndefined();
  });
});
