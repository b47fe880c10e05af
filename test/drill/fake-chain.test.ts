import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
} from '@aws-sdk/client-cloudwatch';
import { EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import {
  GetHealthCheckCommand,
  GetHealthCheckStatusCommand,
  Route53Client,
  UpdateHealthCheckCommand,
} from '@aws-sdk/client-route-53';
import { afterEach, describe, expect, it } from 'vitest';
import { DELAYS, FakeNetwork, FakeRoute53Health, FakeSynthetics } from '../support/fake-cloud/index.js';
import type { StepName } from '../../src/steps/types.js';
import { Harness } from '../support/harness.js';

// The failover chain as the fake cloud models it, link by link, with the delay table's lags:
// a fault fails the canary's next runs, which publish SuccessPercent=0; with 2 of 3 failed, the
// alarm follows its data after 'alarm.react'; the Route 53 check evaluates the same data with its
// copy of the alarm (3 failed in a row: the copy has no DatapointsToAlarm) after 'r53.healthReact'
// (not the alarm state); the resolver's answer follows health once the cached answer's TTL runs out. An inverted
// check flips at once.

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';
const NAME = 'api.octank.com';

let h: Harness;
afterEach(() => h?.cleanup());

const rec = <N extends StepName>(step: N, scope: string) => h.outputs(step, scope);
const r53 = () => new Route53Client({ region: 'us-east-1' });
const healthCheck = async () => {
  const id = rec('health-check', 'global').primaryHealthCheckId;
  const r = await r53().send(new GetHealthCheckStatusCommand({ HealthCheckId: id }));
  return r.HealthCheckObservations![0]!.StatusReport!.Status!;
};
const alarm = async () => {
  const name = rec('canary', PRIMARY).alarmName as string;
  const r = await new CloudWatchClient({ region: PRIMARY }).send(
    new DescribeAlarmsCommand({ AlarmNames: [name] }),
  );
  return r.MetricAlarms![0]!.StateValue;
};
/** What the secondary VPC's resolver answers now: which region's NLB. */
const answer = () => {
  const a = h.cloud.model(FakeNetwork).resolve(SECONDARY, rec('vpc', SECONDARY).vpcId, NAME);
  return a.addresses[0]!.startsWith('10.0.') ? PRIMARY : SECONDARY;
};
const until = (t: number) => h.cloud.clock.advance(t - h.cloud.clock.now());

describe('the failover chain in the fake cloud', () => {
  it.each(['ignored', 'honoured'] as const)(
    'a real fault: canary run fails, alarm and health check follow its data with their lags, DNS after the TTL (Route 53 applying DatapointsToAlarm: %s)',
    async (applied) => {
      h = new Harness();
      h.cloud.model(FakeRoute53Health).datapointsToAlarm = applied;
      await h.ok(['up']);
      // Right after up the alarm has no data yet (INSUFFICIENT_DATA): let it settle.
      h.cloud.clock.advance(5 * 60_000);
      const syn = h.cloud.model(FakeSynthetics);
      const canaryRuns = () => syn.find(PRIMARY, 'drctl-pri')!.runs;
      expect(answer()).toBe(PRIMARY); // fills the resolver's cache now
      const cachedAt = h.cloud.clock.now();
      expect(await alarm()).toBe('OK');
      expect(await healthCheck()).toMatch(/^Success/);

      const sg = rec('vpc', PRIMARY).endpointSecurityGroupId;
      await new EC2Client({ region: PRIMARY }).send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: sg,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 443,
              ToPort: 443,
              IpRanges: [{ CidrIp: '10.0.0.0/16' }, { CidrIp: '172.16.0.0/16' }],
            },
          ],
        }),
      );
      const revokedAt = h.cloud.clock.now();
      const run = syn.find(PRIMARY, 'drctl-pri')!.nextRunAt!;
      expect(run).toBeGreaterThan(revokedAt);
      expect(run - revokedAt).toBeLessThanOrEqual(60_000);

      // The canary's next run fails and marks its metric.
      until(run);
      expect(canaryRuns().at(-1)).toMatchObject({ at: run, outcome: 'fail' });
      expect(
        canaryRuns()
          .filter((r) => r.at < revokedAt)
          .every((r) => r.outcome === 'pass'),
      ).toBe(true);
      const stats = await new CloudWatchClient({ region: PRIMARY }).send(
        new GetMetricStatisticsCommand({
          Namespace: 'CloudWatchSynthetics',
          MetricName: 'SuccessPercent',
          Dimensions: [{ Name: 'CanaryName', Value: 'drctl-pri' }],
          StartTime: new Date(run - 1_000),
          EndTime: new Date(run + 1_000),
          Period: 60,
          Statistics: ['Average'],
        }),
      );
      expect(stats.Datapoints!.map((d) => d.Average)).toEqual([0]);

      // One failed run is not enough: the alarm wants 2 of 3, Route 53's copy of it (no
      // DatapointsToAlarm) 3 in a row, or 2 of 3 if it applied the alarm's M.
      const second = run + 60_000;
      const decisive = applied === 'ignored' ? run + 120_000 : second;
      const hcLagMs = DELAYS['r53.healthReact'].typical * 1000;
      until(run + hcLagMs + 1_000);
      expect(await healthCheck()).toMatch(/^Success/);
      until(second);
      expect(canaryRuns().at(-1)).toMatchObject({ at: second, outcome: 'fail' });

      // The health check reads the data 'r53.healthReact' late; the alarm 'alarm.react' late on average.
      until(second + 20_000);
      expect(await alarm()).toBe('OK');
      until(decisive + hcLagMs - 1_000);
      expect(await healthCheck()).toMatch(/^Success/);
      until(decisive + hcLagMs + 1_000);
      expect(await healthCheck()).toMatch(/^Failure: metric data: ALARM/);
      until(second + 121_000);
      expect(await alarm()).toBe('ALARM');

      // Route 53 has moved long ago, yet the resolver answers from its cache until the TTL is out.
      const ttlMs = 60_000;
      if (h.cloud.clock.now() < cachedAt + ttlMs) {
        until(cachedAt + ttlMs - 1_000);
        expect(answer()).toBe(PRIMARY);
      }
      until(Math.max(h.cloud.clock.now(), cachedAt + ttlMs) + 1_000);
      expect(answer()).toBe(SECONDARY);
    },
  );

  it('Route 53 sees the NLB lose its targets nlb.targetReact after the security group changes', async () => {
    h = new Harness();
    await h.ok(['up']);
    const net = h.cloud.model(FakeNetwork);
    const lb = rec('nlb', PRIMARY).loadBalancerArn;
    expect(net.nlbHealthy(lb)).toBe(true);
    const sg = rec('vpc', PRIMARY).endpointSecurityGroupId;
    net.RevokeSecurityGroupIngress(PRIMARY, {
      GroupId: sg,
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      CidrIp: '10.0.0.0/16',
    } as never);
    expect(net.nlbHealthy(lb)).toBe(false);
    expect(net.nlbHealthSeenByRoute53(lb)).toBe(true);
    h.cloud.clock.advance(DELAYS['nlb.targetReact'].typical * 1000 + 1_000);
    expect(net.nlbHealthSeenByRoute53(lb)).toBe(false);
  });

  it('an inverted health check flips at once, and so does its reversal', async () => {
    h = new Harness();
    await h.ok(['up']);
    h.cloud.clock.advance(120_000);
    expect(await healthCheck()).toMatch(/^Success/);
    const id = rec('health-check', 'global').primaryHealthCheckId;
    const invert = async (Inverted: boolean) => {
      const hc = await r53().send(new GetHealthCheckCommand({ HealthCheckId: id }));
      await r53().send(
        new UpdateHealthCheckCommand({
          HealthCheckId: id,
          HealthCheckVersion: hc.HealthCheck!.HealthCheckVersion,
          Inverted,
        }),
      );
    };
    await invert(true);
    expect(await healthCheck()).toMatch(/^Failure: .*\(inverted\)/);
    await invert(false);
    expect(await healthCheck()).toMatch(/^Success/);
  });
});
