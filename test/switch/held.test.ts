import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { GetHealthCheckStatusCommand, Route53Client } from '@aws-sdk/client-route-53';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { switchBound } from '../../src/drill/bound.js';
import { HOLD_ON, holdAlarm } from '../../src/config/traffic-hold.js';
import type { SwitchRecord } from '../../src/state/switch-record.js';
import { FakeNetwork } from '../support/fake-cloud/index.js';
import { Harness, type RunOutput } from '../support/harness.js';

// A held incident switch (state.switch) is respected and shown by every other command: `plan`,
// `up`, `status`, `verify` show it first; `failover-test` is refused while it holds; `up` never
// undoes it and trips its hold again when it is not in force. The switch here is made the way
// `drctl failover --to us-west-1` makes it: the record in the state, then PutMetricData HOLD_ON in
// the region the hold alarm lives in (src/config/traffic-hold.ts).

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';
const config = defaultConfig();
const hold = holdAlarm(config, PRIMARY);

const SWITCH: SwitchRecord = {
  action: 'failover',
  awayFrom: [PRIMARY],
  to: SECONDARY,
  reason: 'gray failure in sa-east-1',
  principal: 'arn:aws:iam::123456789012:user/oncall',
  forced: false,
  phase: 'held',
  startedAt: '2026-01-01T00:00:00.000Z',
  heldSince: '2026-01-01T00:01:00.000Z',
  recoverySeconds: 42,
};

let h: Harness;
afterEach(() => h?.cleanup());

const cw = (region: string) => new CloudWatchClient({ region });

async function tripHold(): Promise<void> {
  await h.cloud.authorizer.asAdmin(() =>
    cw(hold.region).send(
      new PutMetricDataCommand({
        Namespace: hold.Namespace,
        MetricData: [{ MetricName: hold.MetricName, Dimensions: hold.Dimensions, Value: HOLD_ON }],
      }),
    ),
  );
}

async function alarmState(): Promise<string | undefined> {
  return h.cloud.authorizer.asAdmin(
    async () =>
      (await cw(hold.region).send(new DescribeAlarmsCommand({ AlarmNames: [hold.AlarmName] })))
        .MetricAlarms?.[0]?.StateValue,
  );
}

function recordSwitch(sw: SwitchRecord = SWITCH): void {
  const state = JSON.parse(readFileSync(h.statePath, 'utf8')) as Record<string, unknown>;
  writeFileSync(h.statePath, JSON.stringify({ ...state, switch: sw }, null, 2));
}

/** A complete up (it makes the hold alarms and checks), the switch recorded and its hold tripped. */
async function held(o: { trip?: boolean } = {}): Promise<void> {
  h = new Harness();
  await h.ok(['up']);
  recordSwitch();
  if (o.trip !== false) await tripHold();
  h.cloud.clock.advance(2 * 60_000);
}

const putMetricData = () => h.cloud.mutatingCalls.filter((c) => c.command === 'PutMetricData');
const checks = (r: RunOutput) =>
  (
    r.summary as {
      checks: Array<{ check: string; region?: string; status: string; text: string; fix?: string }>;
    }
  ).checks;

describe('a held switch', () => {
  it('refuses failover-test (exit 2), naming the switch and drctl failback, and changes nothing', async () => {
    await held();
    const snapshot = h.cloud.snapshot();
    const stateText = readFileSync(h.statePath, 'utf8');
    h.cloud.resetCalls();
    const r = await h.run(['failover-test']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/failover-test is refused while an incident switch holds traffic/);
    expect(r.stderr).toMatch(/failover to us-west-1 \(away from sa-east-1\)/);
    expect(r.stderr).toMatch(/gray failure in sa-east-1/);
    expect(r.stderr).toMatch(/drctl failback/);
    expect(h.cloud.mutatingCalls).toEqual([]);
    expect(h.cloud.snapshot()).toEqual(snapshot);
    expect(readFileSync(h.statePath, 'utf8')).toBe(stateText);
    expect(await alarmState()).toBe('ALARM');
  });

  it('is shown first by status, and by plan with "up keeps it"', async () => {
    await held();
    const status = await h.run(['status']);
    expect(status.code).toBe(0);
    const first = status.stdout.split('\n')[0]!;
    expect(first).toMatch(/^held: failover to us-west-1 \(away from sa-east-1\) since 2026-01-01T00:01:00/);
    expect(status.stdout).toMatch(/by arn:aws:iam::123456789012:user\/oncall/);
    const json = await h.run(['--json', 'status']);
    expect(json.summary!.switch).toEqual(SWITCH);
    const plan = await h.run(['plan']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(
      /held: failover to us-west-1 .*clients go to us-west-1 \(up keeps it; `drctl failback` releases it\)/s,
    );
  });

  it('status --refresh reads the hold: in force, it agrees (exit 0); --json carries switch and hold', async () => {
    await held();
    h.cloud.clock.advance(3 * 60_000);
    const r = await h.run(['status', '--refresh']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/DRIFT/);
    const json = await h.run(['--json', 'status', '--refresh']);
    expect(json.code).toBe(0);
    expect(json.summary!.switch).toEqual(SWITCH);
    const hold = json.summary!.hold as {
      readings: Array<{ awayFrom: string; holding: boolean; alarm: string }>;
      disagreements: unknown[];
    };
    expect(hold.disagreements).toEqual([]);
    expect(hold.readings.find((x) => x.awayFrom === PRIMARY)).toMatchObject({ holding: true, alarm: 'ALARM' });
    expect(hold.readings.find((x) => x.awayFrom === SECONDARY)).toMatchObject({ holding: false });
  });

  it('status --refresh says a recorded switch is not in force, with the fix (exit 2)', async () => {
    await held({ trip: false });
    const r = await h.run(['status', '--refresh']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toMatch(/^held: failover to us-west-1/m);
    expect(r.stdout).toMatch(
      /DRIFT: the switch holds traffic away from sa-east-1, but the hold is not in force \(hold check \S+: Success/,
    );
    expect(r.stdout).toMatch(/fix: Run `drctl up`: it keeps the switch and trips the hold again/);
    expect(r.stdout).toMatch(/status --refresh: drift found \(exit 2\)/);
    const json = await h.run(['--json', 'status', '--refresh']);
    expect(json.code).toBe(2);
    expect((json.summary!.hold as { disagreements: unknown[] }).disagreements).toEqual([
      expect.objectContaining({ kind: 'not-in-force', awayFrom: PRIMARY }),
    ]);
    // Reading it changed nothing.
    expect(putMetricData()).toEqual([]);
  });

  it('status --refresh says a hold in the cloud the state does not record, with the fix (exit 2)', async () => {
    h = new Harness();
    await h.ok(['up']);
    await tripHold();
    h.cloud.clock.advance(5 * 60_000);
    const r = await h.run(['status', '--refresh']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toMatch(
      /DRIFT: traffic is held away from sa-east-1 \(hold check \S+: Failure.*\), and the state records no switch/,
    );
    expect(r.stdout).toMatch(/fix: Release it: `aws cloudwatch put-metric-data --region us-west-1 .*--value 0`/);
    const json = await h.run(['--json', 'status', '--refresh']);
    expect(json.summary!.switch).toBeUndefined();
    expect((json.summary!.hold as { disagreements: unknown[] }).disagreements).toEqual([
      expect.objectContaining({ kind: 'not-recorded', awayFrom: PRIMARY }),
    ]);
  });

  it('verify shows it first, ok while the hold check is unhealthy', async () => {
    await held();
    h.cloud.clock.advance(3 * 60_000);
    const r = await h.run(['--json', 'verify']);
    const lines = checks(r);
    expect(lines[0]).toMatchObject({ check: 'switch', status: 'ok' });
    expect(lines[0]!.text).toMatch(/^held: failover to us-west-1/);
    expect(lines.filter((l) => l.check === 'switch' && l.status !== 'ok')).toEqual([]);
    expect(lines.find((l) => l.check === 'switch' && l.region === PRIMARY)!.text).toMatch(
      /traffic is held away from sa-east-1 \(hold check \S+: Failure.*alarm drctl-drctl-hold-sa-east-1 in us-west-1: ALARM\)/,
    );
  });

  it('verify fails when the hold is not in force (fix: drctl up), and up trips it again, keeping the switch', async () => {
    await held({ trip: false });
    expect(await alarmState()).not.toBe('ALARM');
    const v = await h.run(['--json', 'verify']);
    expect(v.code).toBe(3);
    const bad = checks(v).filter((l) => l.status === 'fail' && l.check === 'switch');
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ region: PRIMARY });
    expect(bad[0]!.text).toMatch(
      /holds traffic away from sa-east-1, but the hold is not in force \(hold check \S+: Success.*\): clients may be answered by sa-east-1/,
    );
    expect(bad[0]!.fix).toMatch(/Run `drctl up`/);

    h.cloud.resetCalls();
    const up = await h.run(['up']);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(up.stdout).toMatch(/held: failover to us-west-1/);
    expect(up.stdout).toMatch(
      /hold away from sa-east-1 was not in force .* tripped it again with PutMetricData in us-west-1/s,
    );
    const puts = putMetricData();
    expect(puts).toHaveLength(1);
    expect(puts[0]!.region).toBe(SECONDARY);
    expect(puts[0]!.input).toMatchObject({
      Namespace: 'drctl',
      MetricData: [{ MetricName: 'TrafficHold', Value: HOLD_ON }],
    });
    expect(h.state()!.switch).toEqual(SWITCH);
    h.cloud.clock.advance(3 * 60_000);
    expect(await alarmState()).toBe('ALARM');
    const again = await h.run(['--json', 'verify']);
    expect(checks(again).filter((l) => l.check === 'switch' && l.status !== 'ok')).toEqual([]);
  });

  it('up with the hold in force leaves it alone: no PutMetricData, the switch kept', async () => {
    await held();
    h.cloud.clock.advance(3 * 60_000);
    h.cloud.resetCalls();
    const up = await h.run(['--json', 'up']);
    expect(up.code, up.stderr).toBe(0);
    expect(putMetricData()).toEqual([]);
    expect(up.summary!.holdTrippedAgain).toBeUndefined();
    expect(h.state()!.switch).toEqual(SWITCH);
    expect(await alarmState()).toBe('ALARM');
  });

  it('verify fails a hold tripped in the cloud that the state records no switch for', async () => {
    h = new Harness();
    await h.ok(['up']);
    await tripHold();
    h.cloud.clock.advance(5 * 60_000);
    const v = await h.run(['--json', 'verify']);
    expect(v.code).toBe(3);
    const bad = checks(v).find((l) => l.check === 'switch' && l.status === 'fail')!;
    expect(bad.text).toMatch(
      /traffic is held away from sa-east-1 \(hold check \S+: Failure.*\), and the state records no switch/,
    );
    expect(bad.fix).toMatch(/put-metric-data --region us-west-1 .*AwayFrom=sa-east-1 --value 0/);
  });
});

describe('a switch made with drctl failover survives up', () => {
  const NAME = 'api.octank.com';
  /** Which region's NLB the resolver of `vpcOf`'s VPC answers the name with now. */
  const answeredBy = (vpcOf: string) => {
    const a = h.cloud.model(FakeNetwork).resolve(vpcOf, h.outputs('vpc', vpcOf).vpcId, NAME);
    return a.addresses[0]!.startsWith('10.0.') ? PRIMARY : SECONDARY;
  };
  const holdCheck = async () => {
    const id = (h.outputs('health-check', 'global') as { holdHealthCheckIds: Record<string, string> })
      .holdHealthCheckIds[PRIMARY]!;
    return h.cloud.authorizer.asAdmin(async () => {
      const r = await new Route53Client({ region: 'us-east-1' }).send(
        new GetHealthCheckStatusCommand({ HealthCheckId: id }),
      );
      return r.HealthCheckObservations![0]!.StatusReport!.Status!;
    });
  };

  it.each([
    ['as it was', false],
    ['with its hold alarm deleted behind drctl (up remakes it; the hold check kept holding)', true],
  ])(
    '%s: clients of both VPCs stay on us-west-1, the hold check unhealthy, the switch kept',
    async (_, deleted) => {
      h = new Harness();
      await h.ok(['up']);
      h.cloud.clock.advance(5 * 60_000);
      await h.ok(['--yes', 'failover', '--to', SECONDARY, '--reason', 'gray failure']);
      const sw = h.state()!.switch!;
      expect(sw).toMatchObject({ phase: 'held', to: SECONDARY, awayFrom: [PRIMARY] });
      h.cloud.clock.advance(10 * 60_000);
      if (deleted)
        await h.cloud.authorizer.asAdmin(() =>
          cw(hold.region).send(new DeleteAlarmsCommand({ AlarmNames: [hold.AlarmName] })),
        );
      h.cloud.resetCalls();
      const up = await h.run(['--json', 'up']);
      expect(up.code, up.stderr + up.stdout).toBe(0);
      expect(putMetricData()).toEqual([]);
      expect(up.summary!.holdTrippedAgain).toBeUndefined();
      expect(h.state()!.switch).toEqual(sw);
      h.cloud.clock.advance(5 * 60_000);
      expect(await holdCheck()).toMatch(/^Failure/);
      expect(answeredBy(PRIMARY)).toBe(SECONDARY);
      expect(answeredBy(SECONDARY)).toBe(SECONDARY);
      const v = await h.run(['--json', 'verify']);
      expect(checks(v)[0]).toMatchObject({ check: 'switch', status: 'ok' });
      expect(checks(v).filter((l) => l.check === 'switch' && l.status !== 'ok')).toEqual([]);
    },
  );
});

describe('a switch in drills and the report', () => {
  it('drills lists it (who, why, how long); the report shows it held at the top and in its table', async () => {
    h = new Harness();
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000);
    const sw = await h.ok(['--yes', 'failover', '--to', SECONDARY, '--reason', 'gray failure']);
    // Within its physical bound (what the bench compares it with): hold period, Route 53, TTL.
    const took = Number(sw.summary!.recoverySeconds);
    expect(took).toBeGreaterThan(0);
    expect(took).toBeLessThanOrEqual(switchBound(config).seconds);
    const drills = await h.run(['drills']);
    expect(drills.code).toBe(0);
    expect(drills.stdout).toMatch(
      /switch {2}PASS {5}failover to us-west-1: recovery \d+ s \(bound \d+ s\), by arn:\S+, reason "gray failure"/,
    );
    const json = await h.run(['--json', 'drills']);
    expect((json.summary!.drills as Array<Record<string, unknown>>)[0]).toMatchObject({
      kind: 'switch',
      switch: { action: 'failover', to: SECONDARY, awayFrom: [PRIMARY], reason: 'gray failure' },
    });
    const r = await h.run(['report', '--format', 'md', '--out', 'report.md']);
    expect(r.code, r.stderr).toBe(0);
    const md = readFileSync(`${h.dir}/report.md`, 'utf8');
    const top = md.indexOf('## Incident switch held');
    expect(top).toBeGreaterThan(0);
    expect(top).toBeLessThan(md.indexOf('## Readiness'));
    expect(md).toMatch(/\*\*held: failover to us-west-1 \(away from sa-east-1\).*reason "gray failure"/);
    expect(md).toMatch(/## Incident switches[\s\S]*\| failover \| sa-east-1 \| us-west-1 \| pass \|/);
    // Not a drill: the drill sections do not count it; on the timeline of all drills it is marked.
    expect(md).toMatch(/No drill has run yet/);
    expect(md).toMatch(/Incident switches on the same axis: failover to us-west-1 at \d{4}-/);
  });
});
