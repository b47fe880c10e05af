import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetHealthCheckCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { StepName } from '../../src/steps/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FakeCloudWatch,
  FakeRoute53Health,
  FakeSynthetics,
  createFakeCloud,
} from '../support/fake-cloud/index.js';
import type { MetricAlarmConfig, TreatMissingData } from '../support/fake-cloud/cloudwatch.js';
import type { ProbeOutcome } from '../support/fake-cloud/synthetics.js';
import { Harness } from '../support/harness.js';
import { upTo } from '../support/steps.js';

// Issue 11 item 3: the alarm must not fail the region over on one failed or late canary run. It
// alarms on SuccessPercent < 100 in M of the last N one-minute periods (canary.datapointsToAlarm
// of canary.evaluationPeriods, default 2 of 3); missing data stays missing, so a silent canary
// leaves the alarm INSUFFICIENT_DATA and the health check's InsufficientDataHealthStatus
// (Unhealthy) fails over.

const WITH_CHECK = upTo('health-check', 'domain');
const PRIMARY = 'sa-east-1';

let h: Harness;
afterEach(() => h?.cleanup());

const rec = <N extends StepName>(step: N, scope: string) => h.outputs(step, scope);
const minutes = (n: number) => h.cloud.clock.advance(n * 60_000);
const health = () =>
  h.cloud.model(FakeRoute53Health).healthOf(rec('health-check', 'global').primaryHealthCheckId);
const alarmState = async () => {
  const name = rec('canary', PRIMARY).alarmName as string;
  const r = await new CloudWatchClient({ region: PRIMARY }).send(
    new DescribeAlarmsCommand({ AlarmNames: [name] }),
  );
  return r.MetricAlarms![0]!;
};

/** Let exactly `runs` scheduled runs of the primary canary see `outcome`, then pass again. */
function runsSee(outcome: ProbeOutcome, runs: number): void {
  const syn = h.cloud.model(FakeSynthetics);
  const next = syn.find(PRIMARY, 'drctl-pri')!.nextRunAt!;
  h.cloud.clock.advance(next - h.cloud.clock.now() - 1_000);
  syn.setProbeOutcome(PRIMARY, outcome);
  h.cloud.clock.advance(1_000 + (runs - 1) * 60_000 + 1_000);
  syn.setProbeOutcome(PRIMARY, 'pass');
}

/** Whether the primary health check was ever unhealthy over the next `n` minutes (checked every 10 s). */
function everUnhealthy(n: number): boolean {
  let seen = false;
  for (let t = 0; t < n * 6; t++) {
    h.cloud.clock.advance(10_000);
    if (!health().healthy) seen = true;
  }
  return seen;
}

async function upSettled(config: Record<string, unknown> = {}): Promise<void> {
  h = new Harness();
  h.writeConfig(config);
  await h.ok(['up'], WITH_CHECK);
  minutes(6);
  expect(health().healthy).toBe(true);
  expect((await alarmState()).StateValue).toBe('OK');
}

describe('the canary alarm (M of N) and the health check (its copy: N) never fail over on one blip', () => {
  it('the alarm is SuccessPercent < 100 on 2 of 3 one-minute periods, missing data left missing', async () => {
    await upSettled();
    const out = rec('canary', PRIMARY);
    expect(await alarmState()).toMatchObject({
      Namespace: 'CloudWatchSynthetics',
      MetricName: 'SuccessPercent',
      Dimensions: [{ Name: 'CanaryName', Value: out.canaryName }],
      Statistic: 'Average',
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Threshold: 100,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'missing',
    });
    const id = rec('health-check', 'global').primaryHealthCheckId;
    const hc = (
      await new Route53Client({ region: 'us-east-1' }).send(new GetHealthCheckCommand({ HealthCheckId: id }))
    ).HealthCheck!;
    expect(hc.HealthCheckConfig!.InsufficientDataHealthStatus).toBe('Unhealthy');
    expect(hc.CloudWatchAlarmConfiguration).toMatchObject({
      MetricName: 'SuccessPercent',
      Statistic: 'Average',
      EvaluationPeriods: 3,
      Threshold: 100,
      ComparisonOperator: 'LessThanThreshold',
    });
  });

  it('the CloudWatch alarm goes to ALARM on 2 of 3 failed runs; the health check, from its copy without DatapointsToAlarm (the default), only on 3 of 3', async () => {
    await upSettled();
    runsSee('fail', 1);
    expect(everUnhealthy(6)).toBe(false);
    expect((await alarmState()).StateValue).toBe('OK');

    runsSee('fail', 2);
    let alarmed = false;
    let unhealthy = false;
    for (let t = 0; t < 18; t++) {
      minutes(1 / 6);
      if ((await alarmState()).StateValue === 'ALARM') alarmed = true;
      if (!health().healthy) unhealthy = true;
    }
    expect(alarmed).toBe(true);
    expect(unhealthy).toBe(false);

    runsSee('fail', 3);
    expect(everUnhealthy(3)).toBe(true);
    minutes(4);
    expect(health().healthy).toBe(true);
  });

  describe.each(['ignored', 'honoured'] as const)(
    'with Route 53 applying DatapointsToAlarm: %s',
    (applied) => {
      const failsOverOn = applied === 'honoured' ? 2 : 3;
      const use = async (config: Record<string, unknown> = {}) => {
        await upSettled(config);
        h.cloud.model(FakeRoute53Health).datapointsToAlarm = applied;
      };

      it(`one failed run does not fail the region over; ${failsOverOn} failed runs in a row do, and it comes back`, async () => {
        await use();
        runsSee('fail', 1);
        expect(everUnhealthy(6)).toBe(false);
        runsSee('fail', failsOverOn - 1);
        expect(everUnhealthy(6)).toBe(false);
        runsSee('fail', failsOverOn);
        expect(everUnhealthy(3)).toBe(true);
        minutes(4);
        expect(health().healthy).toBe(true);
      });

      it('two failed runs that are not within 3 periods of each other do not fail over', async () => {
        await use();
        runsSee('fail', 1);
        minutes(3);
        runsSee('fail', 1);
        expect(everUnhealthy(6)).toBe(false);
      });

      it('a late datapoint (one run that publishes nothing) and one failed run do not fail over', async () => {
        await use();
        runsSee('silent', 1);
        runsSee('fail', 1);
        expect(everUnhealthy(6)).toBe(false);
      });

      it('canary.evaluationPeriods 1 (and datapointsToAlarm 1) fails over on one run', async () => {
        await use({ canary: { evaluationPeriods: 1, datapointsToAlarm: 1 } });
        expect(await alarmState()).toMatchObject({ EvaluationPeriods: 1, DatapointsToAlarm: 1 });
        runsSee('fail', 1);
        expect(everUnhealthy(3)).toBe(true);
      });
    },
  );

  it('a canary that stops publishing: the alarm goes INSUFFICIENT_DATA and the health check Unhealthy via InsufficientDataHealthStatus', async () => {
    await upSettled();
    h.cloud.model(FakeSynthetics).setProbeOutcome(PRIMARY, 'silent');
    minutes(10);
    expect((await alarmState()).StateValue).toBe('INSUFFICIENT_DATA');
    expect(health()).toEqual({
      healthy: false,
      reason: 'insufficient data, InsufficientDataHealthStatus Unhealthy',
    });
  });

  it('a health check made for an older alarm (Failed >= 1) gets Route 53 to copy the current alarm on up', async () => {
    await upSettled();
    const id = rec('health-check', 'global').primaryHealthCheckId;
    const r53 = h.cloud.model(FakeRoute53Health);
    // What an older drctl left: Route 53's copy of a Failed/Sum alarm.
    const stale = (r53 as unknown as { checks: Map<string, { alarm: MetricAlarmConfig }> }).checks.get(id)!;
    stale.alarm = { ...stale.alarm, MetricName: 'Failed', Statistic: 'Sum', EvaluationPeriods: 1 };
    await h.ok(['up'], WITH_CHECK);
    const hc = (
      await new Route53Client({ region: 'us-east-1' }).send(new GetHealthCheckCommand({ HealthCheckId: id }))
    ).HealthCheck!;
    expect(hc.CloudWatchAlarmConfiguration).toMatchObject({
      MetricName: 'SuccessPercent',
      EvaluationPeriods: 3,
    });
  });

  it('canary.datapointsToAlarm above canary.evaluationPeriods is refused with exit 2, naming the field', async () => {
    h = new Harness();
    h.writeConfig({ canary: { evaluationPeriods: 2, datapointsToAlarm: 3 } });
    const r = await h.run(['up']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/canary\.datapointsToAlarm/);
    expect(h.cloud.snapshot()).toEqual([]);
  });
});

describe('the fake CloudWatch evaluates M of N with missing data as the CloudWatch docs tables do', () => {
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html:
  // the 5 most recent periods, oldest first; 0 not breaching, X breaching, - missing.
  const TREATS: TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];
  const table = (m: number, rows: Array<[string, string[]]>) => {
    const cloud = createFakeCloud();
    try {
      const cw = cloud.model(FakeCloudWatch);
      const start = cloud.clock.now();
      for (const [r, [points, states]] of rows.entries()) {
        for (const [i, treat] of TREATS.entries()) {
          const want = states[i]!;
          if (want === 'retain') continue;
          const dims = [{ Name: 'CanaryName', Value: `row${r}-${treat}` }];
          [...points.replace(/ /g, '')].forEach((p, k) => {
            if (p !== '-') cw.publish('r', 'N', 'M', dims, p === 'X' ? 10 : 0, start + k * 60_000 + 30_000);
          });
          const cfg: MetricAlarmConfig = {
            Namespace: 'N',
            MetricName: 'M',
            Dimensions: dims,
            Statistic: 'Average',
            Period: 60,
            EvaluationPeriods: 3,
            DatapointsToAlarm: m,
            Threshold: 5,
            ComparisonOperator: 'GreaterThanThreshold',
            TreatMissingData: treat,
          };
          const got = cw.evaluate('r', cfg, start + 5 * 60_000).state;
          expect(`${m} of 3, ${points}, ${treat}: ${got}`).toBe(`${m} of 3, ${points}, ${treat}: ${want}`);
        }
      }
    } finally {
      cloud.uninstall();
    }
  };

  it('3 of 3', () => {
    table(3, [
      ['0 - X - X', ['OK', 'OK', 'OK', 'OK']],
      ['0 - - - -', ['OK', 'OK', 'OK', 'OK']],
      ['- - - - -', ['INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK']],
      ['0 X X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
      ['- - X - -', ['ALARM', 'retain', 'ALARM', 'OK']],
    ]);
  });

  it('2 of 3', () => {
    table(2, [
      ['0 - X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
      ['0 0 X 0 X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
      ['0 - X - -', ['OK', 'OK', 'ALARM', 'OK']],
      ['- - - - 0', ['OK', 'OK', 'ALARM', 'OK']],
      ['- - - X -', ['ALARM', 'retain', 'ALARM', 'OK']],
    ]);
  });
});
