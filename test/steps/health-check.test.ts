import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateHealthCheckCommand,
  DeleteHealthCheckCommand,
  GetHealthCheckCommand,
  GetHealthCheckStatusCommand,
  ListTagsForResourceCommand,
  Route53Client,
  UpdateHealthCheckCommand,
} from '@aws-sdk/client-route-53';
import { readFileSync, writeFileSync } from 'node:fs';
import type { StepName } from '../../src/steps/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeCloudWatch, FakeRoute53Health, FakeSynthetics } from '../support/fake-cloud/index.js';
import { crashEachMutatingCall, expectReadOnlyRerun } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { upTo } from '../support/steps.js';

const PRIOR = upTo('canary', 'domain');
const WITH_CHECK = upTo('health-check', 'domain');
const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';

let h: Harness;
afterEach(() => h?.cleanup());

const r53 = () => new Route53Client({ region: 'us-east-1' });
const rec = <N extends StepName>(step: N, scope: string) => h.outputs(step, scope);
const checks = () => h.cloud.snapshot().filter((l) => l.includes('/health-check/'));
const minutes = (n: number) => h.cloud.clock.advance(n * 60_000);
/**
 * Health checks of a deployment whose secondary runs no canary: the primary's canary check, and
 * per region a hold check and the CALCULATED check its record uses.
 */
const ALL_CHECKS = 5;
/**
 * Delete a canary check behind drctl, as a user can: Route 53 refuses while a CALCULATED check
 * names it as a child, so its region's record check goes first.
 */
const deleteBehind = async (id: string, region = PRIMARY) => {
  const parent = rec('health-check', 'global').recordHealthCheckIds![region]!;
  await r53().send(new DeleteHealthCheckCommand({ HealthCheckId: parent }));
  await r53().send(new DeleteHealthCheckCommand({ HealthCheckId: id }));
};
const status = async (id: string) => {
  const r = await r53().send(new GetHealthCheckStatusCommand({ HealthCheckId: id }));
  return r.HealthCheckObservations![0]!.StatusReport!.Status!;
};

describe('health-check step on the fake cloud', () => {
  it("up makes one CLOUDWATCH_METRIC check on the primary canary's alarm: check, alarm and canary point at each other", async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CHECK);
    expect(checks()).toHaveLength(ALL_CHECKS);
    const id = rec('health-check', 'global').primaryHealthCheckId;
    const canary = rec('canary', PRIMARY);
    const hc = (await r53().send(new GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck!;
    expect(hc.HealthCheckConfig).toMatchObject({
      Type: 'CLOUDWATCH_METRIC',
      AlarmIdentifier: { Name: canary.alarmName, Region: PRIMARY },
      InsufficientDataHealthStatus: 'Unhealthy',
    });
    expect(hc.CallerReference).toMatch(/^drctl-drctl-primary-/);
    // Route 53's copy of the alarm is on the canary's own metric.
    expect(hc.CloudWatchAlarmConfiguration).toMatchObject({
      Namespace: 'CloudWatchSynthetics',
      MetricName: 'SuccessPercent',
      Dimensions: [{ Name: 'CanaryName', Value: canary.canaryName }],
      Statistic: 'Average',
      Period: 60,
    });
    const alarm = h.cloud.model(FakeCloudWatch).alarm(PRIMARY, canary.alarmName!)!;
    expect(alarm.Dimensions).toEqual([{ Name: 'CanaryName', Value: canary.canaryName }]);
    expect(h.cloud.model(FakeSynthetics).find(PRIMARY, canary.canaryName!)!.state).toBe('RUNNING');
    const tags = await r53().send(
      new ListTagsForResourceCommand({ ResourceType: 'healthcheck', ResourceId: id }),
    );
    expect(tags.ResourceTagSet!.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'drctl:deployment', Value: 'drctl' },
        { Key: 'drctl:step', Value: 'health-check' },
        { Key: 'Name', Value: 'drctl-primary-canary' },
      ]),
    );
    expect(rec('health-check', 'global').secondaryHealthCheckId).toBeUndefined();
  });

  it("the check follows the canary's data, not SetAlarmState; a silent canary is unhealthy; Inverted flips it at once", async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CHECK);
    // From here on the fake's model is tested, not drctl's permissions: the alarm forced and the
    // check inverted by hand are another user's calls.
    await h.cloud.authorizer.asAdmin(async () => {
      const id = rec('health-check', 'global').primaryHealthCheckId;
      const alarmName = rec('canary', PRIMARY).alarmName as string;
      minutes(4);
      expect(await status(id)).toMatch(/^Success/);

      // Forcing the alarm does not fail the check over (Route 53 reads the metric data, not the alarm state: dns-failover-determining-health-of-endpoints.html).
      await new CloudWatchClient({ region: PRIMARY }).send(
        new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'ALARM', StateReason: 'drill' }),
      );
      expect(await status(id)).toMatch(/^Success/);

      const syn = h.cloud.model(FakeSynthetics);
      syn.setProbeOutcome(PRIMARY, 'fail');
      // N (3) failed runs in a row, then Route 53's lag.
      minutes(4);
      expect(await status(id)).toMatch(/^Failure/);
      // Missing data stays missing: the failed runs count until the evaluation range holds none.
      syn.setProbeOutcome(PRIMARY, 'silent');
      minutes(6);
      expect(await status(id)).toMatch(/^Failure: insufficient data, InsufficientDataHealthStatus Unhealthy/);
      syn.setProbeOutcome(PRIMARY, 'pass');
      minutes(3);
      expect(await status(id)).toMatch(/^Success/);

      const hc = (await r53().send(new GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck!;
      await r53().send(
        new UpdateHealthCheckCommand({
          HealthCheckId: id,
          HealthCheckVersion: hc.HealthCheckVersion,
          Inverted: true,
        }),
      );
      expect(await status(id)).toMatch(/^Failure/);
    });
  });

  it('running up again makes no mutating call and one read per health check', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CHECK);
    await expectReadOnlyRerun(h, ['up'], WITH_CHECK);
    expect(h.cloud.calls.filter((c) => c.service === 'route53').map((c) => c.command)).toEqual(
      Array(ALL_CHECKS).fill('GetHealthCheck'),
    );
  });

  it('a crash right after each mutating call of the step, then up, ends with exactly one tagged health check', async () => {
    await crashEachMutatingCall({
      prepare: (x) => x.ok(['up'], PRIOR).then(() => undefined),
      args: ['up'],
      deps: WITH_CHECK,
      clean: (mutating) =>
        expect(mutating.map((c) => c.split(' ')[1])).toEqual([
          'CreateHealthCheck',
          'ChangeTagsForResource',
          // per region: the hold alarm, the hold check, the record check
          ...['PutMetricAlarm', 'CreateHealthCheck', 'ChangeTagsForResource'],
          ...['CreateHealthCheck', 'ChangeTagsForResource'],
          ...['PutMetricAlarm', 'CreateHealthCheck', 'ChangeTagsForResource'],
          ...['CreateHealthCheck', 'ChangeTagsForResource'],
        ]),
      crashedCode: 1,
      check: async (x, what) => {
        h = x;
        expect(checks(), what).toHaveLength(ALL_CHECKS);
        const id = x.outputs('health-check', 'global').primaryHealthCheckId;
        expect(checks().join(' '), what).toContain(id);
        const tags = await r53().send(
          new ListTagsForResourceCommand({ ResourceType: 'healthcheck', ResourceId: id }),
        );
        expect(tags.ResourceTagSet!.Tags, what).toContainEqual({ Key: 'drctl:deployment', Value: 'drctl' });
        await x.ok(['down', '--yes'], WITH_CHECK);
        expect(x.cloud.snapshot(), what).toEqual([]);
      },
    });
  });

  it('a recorded check deleted behind drctl is made anew with a fresh CallerReference', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CHECK);
    const first = rec('health-check', 'global');
    await deleteBehind(first.primaryHealthCheckId);
    h.cloud.clock.advance(1_000);
    const r = await h.ok(['up'], WITH_CHECK);
    expect(
      r.events.some((e) => e.type === 'log' && /is gone; creating a new one/.test((e as any).message)),
    ).toBe(true);
    const second = rec('health-check', 'global');
    expect(checks()).toHaveLength(ALL_CHECKS);
    expect(second.primaryHealthCheckId).not.toBe(first.primaryHealthCheckId);
    expect(second.primaryCallerReference).not.toBe(first.primaryCallerReference);
  });

  it('a crash after CreateHealthCheck whose check is then deleted: the used CallerReference is replaced, not retried forever', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    h.cloud.revive();
    h.cloud.faults = { crashAfterMutating: 1 };
    expect((await h.run(['--json', 'up'], WITH_CHECK)).code).toBe(1);
    h.cloud.revive();
    const ref = rec('health-check', 'global').primaryCallerReference as string;
    const orphan = checks()[0]!.split('/').pop()!;
    await r53().send(new DeleteHealthCheckCommand({ HealthCheckId: orphan }));
    h.cloud.clock.advance(1_000);
    await h.ok(['up'], WITH_CHECK);
    expect(checks()).toHaveLength(ALL_CHECKS);
    expect(rec('health-check', 'global').primaryCallerReference).not.toBe(ref);
    const creates = h.cloud.calls.filter((c) => c.command === 'CreateHealthCheck').map((c) => c.outcome);
    // The primary canary check's two tries, then the hold and record checks' one each.
    expect(creates.slice(-ALL_CHECKS - 1, -ALL_CHECKS + 1)).toEqual(['HealthCheckAlreadyExists', 'ok']);
    await h.ok(['down', '--yes'], WITH_CHECK);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('status --refresh names a health check gone from AWS', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CHECK);
    const id = rec('health-check', 'global').primaryHealthCheckId;
    await deleteBehind(id);
    const r = await h.run(['status', '--refresh'], WITH_CHECK);
    expect(r.stdout).toContain(`DRIFT: gone from AWS: health check ${id} (primary)`);
  });

  it('with canary.secondary, a second check watches the secondary canary', async () => {
    h = new Harness();
    h.writeConfig({ canary: { secondary: true } });
    await h.ok(['up'], WITH_CHECK);
    expect(checks()).toHaveLength(ALL_CHECKS + 1);
    const out = rec('health-check', 'global');
    const hc = (await r53().send(new GetHealthCheckCommand({ HealthCheckId: out.secondaryHealthCheckId })))
      .HealthCheck!;
    expect(hc.HealthCheckConfig!.AlarmIdentifier).toEqual({
      Name: rec('canary', SECONDARY).alarmName,
      Region: SECONDARY,
    });
    expect(hc.CloudWatchAlarmConfiguration!.Dimensions).toEqual([{ Name: 'CanaryName', Value: 'drctl-sec' }]);

    h.writeConfig({ canary: { secondary: false } });
    await h.ok(['up'], WITH_CHECK);
    expect(checks()).toHaveLength(ALL_CHECKS);
    expect(rec('health-check', 'global').secondaryHealthCheckId).toBeUndefined();
    await h.ok(['down', '--yes'], WITH_CHECK);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('up reverts a check left inverted by an interrupted drill', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CHECK);
    const id = rec('health-check', 'global').primaryHealthCheckId;
    await r53().send(new UpdateHealthCheckCommand({ HealthCheckId: id, Inverted: true }));
    const r = await h.ok(['up'], WITH_CHECK);
    expect(r.events.some((e) => e.type === 'log' && /left inverted/.test((e as any).message))).toBe(true);
    minutes(3);
    expect(h.cloud.model(FakeRoute53Health).healthOf(id).healthy).toBe(true);
  });

  it('an UpdateHealthCheck AWS applied but answered 500 is not resent blindly: up re-reads the check and finds it done', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CHECK);
    const id = rec('health-check', 'global').primaryHealthCheckId;
    await r53().send(new UpdateHealthCheckCommand({ HealthCheckId: id, Inverted: true }));
    const version = async () =>
      (await r53().send(new GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck!;
    const before = (await version()).HealthCheckVersion!;
    h.cloud.revive(); // counts mutating calls from here: the first is the revert
    h.cloud.resetCalls();
    h.cloud.faults = { failAfterApplyingMutating: 1 };
    const r = await h.run(['--json', 'up'], WITH_CHECK);
    expect(r.code, r.stderr).toBe(0);
    // Sent once: a resend with the version it read would meet HealthCheckVersionMismatch.
    const updates = h.cloud.calls.filter((c) => c.command === 'UpdateHealthCheck');
    expect(updates.map((c) => c.outcome)).toEqual(['InternalFailure']);
    const hc = await version();
    expect(hc.HealthCheckConfig?.Inverted).toBe(false);
    expect(hc.HealthCheckVersion).toBe(before + 1);
    expect(h.state()!.steps['health-check']!.global!.status).toBe('ready');
    expect(checks()).toHaveLength(ALL_CHECKS);
  });

  it('with the state record lost, up adopts the check this deployment made instead of making a second', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CHECK);
    const id = rec('health-check', 'global').primaryHealthCheckId;
    const state = JSON.parse(readFileSync(h.statePath, 'utf8'));
    delete state.steps['health-check'];
    writeFileSync(h.statePath, JSON.stringify(state));
    await h.ok(['up'], WITH_CHECK);
    expect(checks()).toHaveLength(ALL_CHECKS);
    expect(rec('health-check', 'global').primaryHealthCheckId).toBe(id);
  });

  it('the fake Route 53 scopes CallerReference as AWS does and refuses alarms a health check cannot use', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CHECK);
    // A test of the fake Route 53, not of drctl's permissions: another user of the account calls.
    await h.cloud.authorizer.asAdmin(async () => {
      const out = rec('health-check', 'global');
      const alarmName = rec('canary', PRIMARY).alarmName as string;
      const cfg = {
        Type: 'CLOUDWATCH_METRIC' as const,
        AlarmIdentifier: { Name: alarmName, Region: PRIMARY as never },
        InsufficientDataHealthStatus: 'Unhealthy' as const,
        Inverted: false,
      };
      const create = async (CallerReference: string, HealthCheckConfig: any) => {
        try {
          return (await r53().send(new CreateHealthCheckCommand({ CallerReference, HealthCheckConfig })))
            .HealthCheck!.Id;
        } catch (e) {
          return (e as Error).name;
        }
      };
      expect(await create(out.primaryCallerReference!, cfg)).toBe(out.primaryHealthCheckId);
      expect(await create(out.primaryCallerReference!, { ...cfg, Inverted: true })).toBe(
        'HealthCheckAlreadyExists',
      );
      expect(await create('x1', { ...cfg, AlarmIdentifier: { Name: 'nope', Region: PRIMARY } })).toBe(
        'InvalidInput',
      );
      await new CloudWatchClient({ region: PRIMARY }).send(
        new PutMetricAlarmCommand({
          AlarmName: 'p99',
          Namespace: 'CloudWatchSynthetics',
          MetricName: 'Duration',
          ExtendedStatistic: 'p99',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1000,
          ComparisonOperator: 'GreaterThanThreshold',
        }),
      );
      expect(await create('x2', { ...cfg, AlarmIdentifier: { Name: 'p99', Region: PRIMARY } })).toBe(
        'InvalidInput',
      );
      expect(checks()).toHaveLength(ALL_CHECKS);
    });
  });
});
