import { DeleteVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { StepName } from '../../src/steps/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FakeCloudWatch,
  FakeEc2,
  FakeEc2Endpoints,
  FakeNetwork,
  FakeRoute53Health,
  FakeSynthetics,
} from '../support/fake-cloud/index.js';
import { Harness, UP_TO_CHECK } from '../support/harness.js';

// Issue 11 item 6: the canary's way out of its private subnets must survive one Availability Zone.
// It publishes to S3 through a gateway endpoint on the private route table and to CloudWatch
// through a `monitoring` interface endpoint in both private subnets; a NAT gateway (one, in one AZ)
// is optional (config natGateway, off by default). A canary with no way out publishes nothing.

const PRIMARY = 'sa-east-1';

let h: Harness;
afterEach(() => h?.cleanup());

const rec = <N extends StepName>(step: N, scope: string) => h.outputs(step, scope);
const minutes = (n: number) => h.cloud.clock.advance(n * 60_000);
const canary = () => h.cloud.model(FakeSynthetics).find(PRIMARY, 'drctl-pri')!;
const health = () =>
  h.cloud.model(FakeRoute53Health).healthOf(rec('health-check', 'global').primaryHealthCheckId);
/** The runs since `from`, and whether each published (pass/fail) or not (silent). */
const runsSince = (from: number) =>
  canary()
    .runs.filter((r) => r.at > from)
    .map((r) => r.outcome);
const metricCount = (from: number) =>
  h.cloud
    .model(FakeCloudWatch)
    .datapoints(
      PRIMARY,
      'CloudWatchSynthetics',
      'SuccessPercent',
      [{ Name: 'CanaryName', Value: 'drctl-pri' }],
      from,
      h.cloud.clock.now() + 1,
    ).length;

async function upSettled(config: Record<string, unknown> = {}): Promise<void> {
  h = new Harness();
  h.writeConfig(config);
  await h.ok(['up'], UP_TO_CHECK);
  minutes(5);
  expect(runsSince(0).slice(-3)).toEqual(['pass', 'pass', 'pass']);
  expect(health().healthy).toBe(true);
}

function everUnhealthy(n: number): boolean {
  let seen = false;
  for (let t = 0; t < n * 6; t++) {
    h.cloud.clock.advance(10_000);
    if (!health().healthy) seen = true;
  }
  return seen;
}

describe("the canary's way out survives one Availability Zone", () => {
  it('the VPC stack has an S3 gateway endpoint on the private route table and a monitoring interface endpoint in both private subnets, and no NAT gateway', async () => {
    await upSettled();
    const vpc = rec('vpc', PRIMARY);
    const eps = h.cloud
      .model(FakeEc2Endpoints)
      .endpointsIn(PRIMARY)
      .filter((e) => e.VpcId === vpc.vpcId);
    const s3 = eps.find((e) => e.ServiceName === `com.amazonaws.${PRIMARY}.s3`)!;
    const mon = eps.find((e) => e.ServiceName === `com.amazonaws.${PRIMARY}.monitoring`)!;
    expect([s3.type, s3.RouteTableIds]).toEqual(['Gateway', [vpc.privateRouteTableId]]);
    expect([mon.type, mon.PrivateDnsEnabled, [...mon.SubnetIds].sort()]).toEqual([
      'Interface',
      true,
      [...vpc.privateSubnetIds].sort(),
    ]);
    // Its own security group: the drill's outage (revoking the API endpoint's 443) leaves it alone.
    expect(mon.SecurityGroupIds).not.toContain(vpc.endpointSecurityGroupId);
    expect(vpc).toMatchObject({ s3EndpointId: s3.VpcEndpointId, monitoringEndpointId: mon.VpcEndpointId });
    expect(vpc.natGatewayId).toBeUndefined();
    const r = h.cloud.model(FakeEc2).region(PRIMARY);
    expect([...r.others.values()].filter((o) => o.kind === 'nat')).toEqual([]);
    const table = r.routeTables.get(vpc.privateRouteTableId!)!;
    expect(table.routes.map((x) => x.DestinationCidrBlock)).not.toContain('0.0.0.0/0');
  });

  it('with one AZ failed, the canary still publishes and passes, and the region does not fail over', async () => {
    await upSettled();
    const at = h.cloud.clock.now();
    h.cloud.model(FakeNetwork).failAz(`${PRIMARY}a`);
    expect(everUnhealthy(10)).toBe(false);
    const runs = runsSince(at);
    expect(runs.length).toBeGreaterThanOrEqual(9);
    expect(runs.every((o) => o === 'pass')).toBe(true);
    expect(metricCount(at)).toBe(runs.length);
  });

  it('the same with the other AZ failed', async () => {
    await upSettled();
    const at = h.cloud.clock.now();
    h.cloud.model(FakeNetwork).failAz(`${PRIMARY}b`);
    expect(everUnhealthy(10)).toBe(false);
    expect(runsSince(at).every((o) => o === 'pass')).toBe(true);
  });

  it('with natGateway: true the private subnets get a NAT route; its AZ failing still leaves the canary its endpoints', async () => {
    await upSettled({ natGateway: true });
    const vpc = rec('vpc', PRIMARY);
    expect(vpc.natGatewayId).toMatch(/^nat-/);
    const table = h.cloud.model(FakeEc2).region(PRIMARY).routeTables.get(vpc.privateRouteTableId!)!;
    expect(table.routes.find((x) => x.DestinationCidrBlock === '0.0.0.0/0')?.NatGatewayId).toBe(
      vpc.natGatewayId,
    );
    const at = h.cloud.clock.now();
    h.cloud.model(FakeNetwork).failAz(`${PRIMARY}a`); // the public subnet's AZ, where the NAT is
    expect(everUnhealthy(10)).toBe(false);
    expect(runsSince(at).every((o) => o === 'pass')).toBe(true);
  });

  it('natGateway can be turned on and off on an existing deployment (a stack update)', async () => {
    await upSettled();
    h.writeConfig({ natGateway: true });
    await h.ok(['up'], UP_TO_CHECK);
    expect(rec('vpc', PRIMARY).natGatewayId).toMatch(/^nat-/);
    h.writeConfig({ natGateway: false });
    await h.ok(['up'], UP_TO_CHECK);
    expect(rec('vpc', PRIMARY).natGatewayId).toBeUndefined();
    expect(
      [...h.cloud.model(FakeEc2).region(PRIMARY).others.values()].filter((o) => o.kind === 'nat'),
    ).toEqual([]);
    minutes(3);
    expect(runsSince(h.cloud.clock.now() - 3 * 60_000).every((o) => o === 'pass')).toBe(true);
  });

  it('a canary with no way out (its monitoring endpoint deleted) publishes nothing, and the health check fails over on the missing data', async () => {
    await upSettled();
    const at = h.cloud.clock.now();
    await new EC2Client({ region: PRIMARY }).send(
      new DeleteVpcEndpointsCommand({ VpcEndpointIds: [rec('vpc', PRIMARY).monitoringEndpointId!] }),
    );
    minutes(12);
    const runs = runsSince(at + 2 * 60_000);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((o) => o === 'silent')).toBe(true);
    expect(metricCount(at + 2 * 60_000)).toBe(0);
    expect(health()).toEqual({
      healthy: false,
      reason: 'insufficient data, InsufficientDataHealthStatus Unhealthy',
    });
  });

  it('with both AZs failed the canary cannot run at all: silent', async () => {
    await upSettled();
    const net = h.cloud.model(FakeNetwork);
    const at = h.cloud.clock.now();
    net.failAz(`${PRIMARY}a`);
    net.failAz(`${PRIMARY}b`);
    minutes(3);
    expect(runsSince(at).every((o) => o === 'silent')).toBe(true);
  });
});
