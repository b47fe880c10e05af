import '../support/fast-tmp.js';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  ListTagsForResourceCommand,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  DeleteHealthCheckCommand,
  GetHealthCheckCommand,
  GetTrafficPolicyCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.js';
import { HOLD_OFF, HOLD_ON, holdAlarm } from '../../src/config/traffic-hold.js';
import type { OutputsOf, StepName } from '../../src/steps/types.js';
import { crashEachMutatingCall } from '../support/crash.js';
import { FakeCloudWatch, FakeNetwork, FakeRoute53, FakeRoute53Health } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';
import { upTo } from '../support/steps.js';

// Issue 24: the traffic hold in the deployment (src/config/traffic-hold.ts). Per region R, a hold
// alarm in the other region, a CLOUDWATCH_METRIC check on it, and the CALCULATED check R's record
// uses, whose children are R's canary check (when R runs a canary) and R's hold check.

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';
const NAME = 'api.octank.com';
const WITH_CHECK = upTo('health-check', 'domain');

let h: Harness;
afterEach(() => h?.cleanup());

const r53 = () => new Route53Client({ region: 'us-east-1' });
const rec = <N extends StepName>(step: N, scope: string) => h.outputs(step, scope);
/** The config the last `up` built with. */
const config = () => configSchema.parse(h.state()!.applied!.config);
const getCheck = async (id: string) =>
  (await r53().send(new GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck!;
const answeredIn = (vpcRegion: string) => {
  const a = h.cloud.model(FakeNetwork).resolve(vpcRegion, rec('vpc', vpcRegion).vpcId, NAME);
  return a.addresses[0]!.startsWith('10.0.') ? PRIMARY : SECONDARY;
};
/** What the switch does (helper S3's command): one datapoint in the region traffic moves to. */
const hold = (awayFrom: string, value: number) =>
  h.cloud.authorizer.asAdmin(async () => {
    const a = holdAlarm(config(), awayFrom);
    await new CloudWatchClient({ region: a.region }).send(
      new PutMetricDataCommand({
        Namespace: a.Namespace,
        MetricData: [{ MetricName: a.MetricName, Dimensions: a.Dimensions, Value: value }],
      }),
    );
  });
/**
 * As an older drctl left a deployment: no hold. The hold's and the records' checks and the hold
 * alarms deleted (as an admin), and nothing of them in the state (`edit`: more of the state).
 */
async function withoutHold(
  out: OutputsOf<'health-check'>,
  edit: (state: {
    steps: Record<string, { global: { resources: Record<string, unknown> } }>;
  }) => void = () => {},
): Promise<void> {
  await h.cloud.authorizer.asAdmin(async () => {
    for (const ids of [out.recordHealthCheckIds!, out.holdHealthCheckIds!])
      for (const id of Object.values(ids))
        await r53().send(new DeleteHealthCheckCommand({ HealthCheckId: id }));
    for (const region of [PRIMARY, SECONDARY]) {
      const a = holdAlarm(config(), region);
      await new CloudWatchClient({ region: a.region }).send(
        new DeleteAlarmsCommand({ AlarmNames: [a.AlarmName] }),
      );
    }
  });
  const state = JSON.parse(readFileSync(h.statePath, 'utf8'));
  const r = state.steps['health-check'].global.resources;
  for (const k of [
    'holdAlarmNames',
    'holdHealthCheckIds',
    'holdCallerReferences',
    'recordHealthCheckIds',
    'recordCallerReferences',
  ])
    delete r[k];
  edit(state);
  writeFileSync(h.statePath, JSON.stringify(state));
}

const recordsAt = () =>
  h.cloud
    .model(FakeRoute53)
    .recordsOf(rec('hosted-zone', 'global').hostedZoneId)
    .filter((r) => r.Name === `${NAME}.` && r.Type === 'A');

describe('the traffic hold in the deployment', () => {
  it('up makes per region a hold alarm in the other region, a hold check on it and the calculated check its record uses', async () => {
    h = new Harness();
    await h.ok(['up']);
    const out = rec('health-check', 'global');
    const cw = h.cloud.model(FakeCloudWatch);
    for (const region of [PRIMARY, SECONDARY]) {
      const a = holdAlarm(config(), region);
      expect(a.region).toBe(region === PRIMARY ? SECONDARY : PRIMARY);
      const alarm = cw.alarm(a.region, a.AlarmName)!;
      expect(alarm, region).toMatchObject({
        Namespace: 'drctl',
        MetricName: 'TrafficHold',
        Dimensions: a.Dimensions,
      });
      const tags = await h.cloud.authorizer.asAdmin(() =>
        new CloudWatchClient({ region: a.region }).send(
          new ListTagsForResourceCommand({ ResourceARN: alarm.AlarmArn }),
        ),
      );
      expect(tags.Tags).toContainEqual({ Key: 'drctl:deployment', Value: 'drctl' });

      const holdId = out.holdHealthCheckIds![region]!;
      const holdCheck = await getCheck(holdId);
      expect(holdCheck.HealthCheckConfig).toMatchObject({
        Type: 'CLOUDWATCH_METRIC',
        AlarmIdentifier: { Name: a.AlarmName, Region: a.region },
        InsufficientDataHealthStatus: 'LastKnownStatus',
        Inverted: false,
      });
      expect(holdCheck.CallerReference).toBe(out.holdCallerReferences![region]);

      const canary = region === PRIMARY ? [out.primaryHealthCheckId] : [];
      const calc = await getCheck(out.recordHealthCheckIds![region]!);
      expect(calc.HealthCheckConfig).toMatchObject({
        Type: 'CALCULATED',
        ChildHealthChecks: [...canary, holdId],
        HealthThreshold: canary.length + 1,
        Inverted: false,
      });
      expect(calc.CallerReference).toBe(out.recordCallerReferences![region]);
    }
    // Both records route on their region's calculated check.
    const byRole = Object.fromEntries(recordsAt().map((r) => [r.Failover, r.HealthCheckId]));
    expect(byRole).toEqual({
      PRIMARY: out.recordHealthCheckIds![PRIMARY],
      SECONDARY: out.recordHealthCheckIds![SECONDARY],
    });
    // Every hold resource is recorded: status --refresh finds nothing the state lacks.
    expect(out.holdAlarmNames).toEqual({
      [PRIMARY]: holdAlarm(config(), PRIMARY).AlarmName,
      [SECONDARY]: holdAlarm(config(), SECONDARY).AlarmName,
    });
    const status = await h.run(['status', '--refresh']);
    expect(status.code, status.stdout).toBe(0);
    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('a hold written in the other region moves both VPCs away and outlasts up and the days after; HOLD_OFF releases it', async () => {
    h = new Harness();
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000);
    expect([answeredIn(PRIMARY), answeredIn(SECONDARY)]).toEqual([PRIMARY, PRIMARY]);
    await hold(PRIMARY, HOLD_ON);
    h.cloud.clock.advance(3 * 60_000);
    expect([answeredIn(PRIMARY), answeredIn(SECONDARY)]).toEqual([SECONDARY, SECONDARY]);

    h.cloud.resetCalls();
    await h.ok(['up']);
    // up never writes the hold's metric, and leaves the alarm and checks as they are.
    expect(h.cloud.calls.filter((c) => c.command === 'PutMetricData')).toEqual([]);
    expect(h.cloud.mutatingCalls).toEqual([]);
    h.cloud.clock.advance(3 * 24 * 3600_000);
    expect([answeredIn(PRIMARY), answeredIn(SECONDARY)]).toEqual([SECONDARY, SECONDARY]);
    const hc = h.cloud.model(FakeRoute53Health);
    const out = rec('health-check', 'global');
    expect(hc.healthOf(out.primaryHealthCheckId).healthy).toBe(true);
    expect(hc.healthOf(out.recordHealthCheckIds![PRIMARY]!).healthy).toBe(false);

    await hold(PRIMARY, HOLD_OFF);
    h.cloud.clock.advance(3 * 60_000);
    expect([answeredIn(PRIMARY), answeredIn(SECONDARY)]).toEqual([PRIMARY, PRIMARY]);
  });

  it('a deployment built before the hold: plan shows the update, up adds the hold and repoints the records', async () => {
    h = new Harness();
    await h.ok(['up']);
    const out = rec('health-check', 'global');
    // As an older drctl left it: records on the canary check, no hold, nothing recorded of it.
    const zone = rec('hosted-zone', 'global').hostedZoneId;
    await h.cloud.authorizer.asAdmin(async () => {
      const { ChangeResourceRecordSetsCommand } = await import('@aws-sdk/client-route-53');
      await r53().send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone,
          ChangeBatch: {
            Changes: recordsAt().map((r) => {
              const { HealthCheckId: _, ...rest } = r;
              const old = r.Failover === 'PRIMARY' ? { HealthCheckId: out.primaryHealthCheckId } : {};
              return {
                Action: 'UPSERT' as const,
                ResourceRecordSet: { ...rest, ...old } as ResourceRecordSet,
              };
            }),
          },
        }),
      );
    });
    await withoutHold(out);

    const plan = await h.run(['plan']);
    expect(plan.stdout).toMatch(/health-check[^\n]*update[^\n]*traffic hold/);
    expect(plan.stdout).toMatch(/traffic-policy[^\n]*update[^\n]*traffic hold/);

    await h.ok(['up']);
    const now = rec('health-check', 'global');
    expect(now.primaryHealthCheckId).toBe(out.primaryHealthCheckId);
    const byRole = Object.fromEntries(recordsAt().map((x) => [x.Failover, x.HealthCheckId]));
    expect(byRole).toEqual({
      PRIMARY: now.recordHealthCheckIds![PRIMARY],
      SECONDARY: now.recordHealthCheckIds![SECONDARY],
    });
    expect((await h.run(['plan'])).stdout).not.toMatch(/traffic hold \(new/);
  });

  it('a crash right after each mutating call of down, then down again, leaves nothing', async () => {
    const mutating = await crashEachMutatingCall({
      prepare: (x) => x.ok(['up'], WITH_CHECK).then(() => undefined),
      args: ['down', '--yes'],
      deps: WITH_CHECK,
      rerun: (x) => x.ok(['down', '--yes'], WITH_CHECK),
      check: (x, what) => expect(x.cloud.snapshot(), what).toEqual([]),
    });
    // Parents before children, the alarms after the checks that name them.
    const hc = mutating
      .filter((c) => / (DeleteHealthCheck|DeleteAlarms)$/.test(c))
      .map((c) => c.split(' ')[1]);
    // (then the canary step's own alarm in the primary)
    expect(hc).toEqual([
      ...Array(5).fill('DeleteHealthCheck'),
      'DeleteAlarms',
      'DeleteAlarms',
      'DeleteAlarms',
    ]);
  });
});

describe('the traffic hold in the traffic-policy routing mode', () => {
  /** The traffic policy document the instance at the name applies now. */
  const documentNow = async () => {
    const tp = rec('traffic-policy', 'global') as { trafficPolicyId: string; trafficPolicyVersion: number };
    const p = await r53().send(
      new GetTrafficPolicyCommand({ Id: tp.trafficPolicyId, Version: tp.trafficPolicyVersion }),
    );
    return JSON.parse(p.TrafficPolicy!.Document!) as {
      Rules: { failover: { Primary: { HealthCheck?: string }; Secondary: { HealthCheck?: string } } };
    };
  };
  const upInPolicyMode = async () => {
    h = new Harness();
    h.writeConfig({ routing: 'traffic-policy' });
    // Route 53 documents traffic flow for public zones; the fake accepts it on request
    // (docs/routing-modes.md), as the traffic-policy step's tests do.
    h.cloud.model(FakeRoute53).privateZoneTrafficPolicy = 'accept';
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000);
  };

  it("the policy uses each region's calculated check; a hold, failover and failback move both VPCs", async () => {
    await upInPolicyMode();
    const out = rec('health-check', 'global');
    expect((await documentNow()).Rules.failover).toMatchObject({
      Primary: { HealthCheck: out.recordHealthCheckIds![PRIMARY] },
      Secondary: { HealthCheck: out.recordHealthCheckIds![SECONDARY] },
    });
    expect(recordsAt()).toEqual([expect.objectContaining({ TrafficPolicyInstanceId: expect.any(String) })]);
    expect([answeredIn(PRIMARY), answeredIn(SECONDARY)]).toEqual([PRIMARY, PRIMARY]);
    await hold(PRIMARY, HOLD_ON);
    h.cloud.clock.advance(3 * 60_000);
    expect([answeredIn(PRIMARY), answeredIn(SECONDARY)]).toEqual([SECONDARY, SECONDARY]);
    await hold(PRIMARY, HOLD_OFF);
    h.cloud.clock.advance(3 * 60_000);
    expect([answeredIn(PRIMARY), answeredIn(SECONDARY)]).toEqual([PRIMARY, PRIMARY]);

    await h.ok(['--yes', 'failover', '--to', SECONDARY, '--reason', 'gray failure']);
    expect(h.state()!.switch).toMatchObject({ phase: 'held', to: SECONDARY, awayFrom: [PRIMARY] });
    expect([answeredIn(PRIMARY), answeredIn(SECONDARY)]).toEqual([SECONDARY, SECONDARY]);
    h.cloud.resetCalls();
    await h.ok(['up']);
    expect(h.cloud.mutatingCalls).toEqual([]);
    h.cloud.clock.advance(10 * 60_000);
    expect([answeredIn(PRIMARY), answeredIn(SECONDARY)]).toEqual([SECONDARY, SECONDARY]);
    await h.ok(['--yes', 'failback']);
    expect(h.state()!.switch).toBeUndefined();
    expect([answeredIn(PRIMARY), answeredIn(SECONDARY)]).toEqual([PRIMARY, PRIMARY]);
  });

  it('a traffic-policy deployment built before the hold converges with up: a new version on the calculated checks', async () => {
    await upInPolicyMode();
    const out = rec('health-check', 'global');
    const tp = rec('traffic-policy', 'global') as {
      trafficPolicyId: string;
      trafficPolicyVersion: number;
      trafficPolicyInstanceId: string;
    };
    // As an older drctl left it: the policy on the canary checks, no hold, nothing recorded of it.
    const { CreateTrafficPolicyVersionCommand, UpdateTrafficPolicyInstanceCommand } =
      await import('@aws-sdk/client-route-53');
    const doc = await documentNow();
    doc.Rules.failover.Primary.HealthCheck = out.primaryHealthCheckId;
    if (out.secondaryHealthCheckId) doc.Rules.failover.Secondary.HealthCheck = out.secondaryHealthCheckId;
    else delete doc.Rules.failover.Secondary.HealthCheck;
    let oldVersion = 0;
    await h.cloud.authorizer.asAdmin(async () => {
      const v = await r53().send(
        new CreateTrafficPolicyVersionCommand({ Id: tp.trafficPolicyId, Document: JSON.stringify(doc) }),
      );
      oldVersion = v.TrafficPolicy!.Version!;
      await r53().send(
        new UpdateTrafficPolicyInstanceCommand({
          Id: tp.trafficPolicyInstanceId,
          TTL: 60,
          TrafficPolicyId: tp.trafficPolicyId,
          TrafficPolicyVersion: oldVersion,
        }),
      );
    });
    await withoutHold(out, (state) => {
      state.steps['traffic-policy']!.global.resources.trafficPolicyVersion = oldVersion;
    });
    h.cloud.clock.advance(5 * 60_000);

    await h.ok(['up']);
    const now = rec('health-check', 'global');
    expect((await documentNow()).Rules.failover).toMatchObject({
      Primary: { HealthCheck: now.recordHealthCheckIds![PRIMARY] },
      Secondary: { HealthCheck: now.recordHealthCheckIds![SECONDARY] },
    });
    expect(rec('traffic-policy', 'global')).toMatchObject({ trafficPolicyVersion: oldVersion + 1 });
    h.cloud.clock.advance(5 * 60_000);
    expect([answeredIn(PRIMARY), answeredIn(SECONDARY)]).toEqual([PRIMARY, PRIMARY]);
    await hold(PRIMARY, HOLD_ON);
    h.cloud.clock.advance(3 * 60_000);
    expect([answeredIn(PRIMARY), answeredIn(SECONDARY)]).toEqual([SECONDARY, SECONDARY]);
  });
});

describe('active-active: the hold never drains the last healthy region', () => {
  it("drain is refused (exit 3, even with --force) while the other region's canary alarm is in ALARM", async () => {
    h = new Harness();
    h.writeConfig({ topology: 'active-active' });
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000);
    // The primary really fails: its endpoint takes no 443, so its canary fails and alarms.
    const { FakeEc2 } = await import('../support/fake-cloud/index.js');
    const sg = rec('vpc', PRIMARY).endpointSecurityGroupId;
    h.cloud.model(FakeEc2).region(PRIMARY).securityGroups.get(sg)!.ingress = [];
    h.cloud.clock.advance(10 * 60_000);
    const alarm = rec('canary', PRIMARY).alarmName as string;
    const state = await h.cloud.authorizer.asAdmin(
      async () =>
        (
          await new CloudWatchClient({ region: PRIMARY }).send(
            new (await import('@aws-sdk/client-cloudwatch')).DescribeAlarmsCommand({ AlarmNames: [alarm] }),
          )
        ).MetricAlarms?.[0]?.StateValue,
    );
    expect(state).toBe('ALARM');
    h.cloud.resetCalls();
    for (const force of [[], ['--force']]) {
      const r = await h.run(['failover', '--drain', SECONDARY, '--reason', 'bad deploy', ...force, '--yes']);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stderr).toMatch(/refusing to switch: sa-east-1 is not healthy either/);
      expect(r.stderr).toMatch(/--force cannot help/);
    }
    expect(h.state()!.switch).toBeUndefined();
    // Nothing changed: the only calls that may change anything are the probe's Invokes (reads).
    expect(h.cloud.mutatingCalls.filter((c) => c.command !== 'Invoke')).toEqual([]);
    // Clients of the secondary's VPC are still answered by the secondary (latency, healthy).
    expect(answeredIn(SECONDARY)).toBe(SECONDARY);
  });
});
