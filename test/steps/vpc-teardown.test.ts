import '../support/fast-tmp.js';
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { afterEach, describe, expect, it } from 'vitest';
import { STEPS } from '../../src/steps/index.js';
import { Harness, lingeringLambdaEni } from '../support/harness.js';

// How a stack delete meets the network interfaces other services leave in its subnets (issue 14):
// CloudFormation deletes the subnets, security groups and VPC last; an ENI still there fails just
// those (DependencyViolation), the rest is gone; a second DeleteStack has only them left.

const FIRST_TWO = { steps: STEPS.slice(0, 2) };
const REGION = 'sa-east-1';
const MIN = 60_000;

let h: Harness;
afterEach(() => h?.cleanup());

const primaryNetwork = () =>
  h.cloud
    .snapshot()
    .filter((l) => l.startsWith(`ec2/${REGION}/`) && !l.includes('/key-pair/'))
    .map((l) => l.split('/')[2]);

describe('the fake: a stack delete blocked by a foreign ENI', () => {
  it('fails DELETE_FAILED on the subnet with only the VPC, subnets and security groups left; a second DeleteStack then deletes just those', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    const stackId = h.outputs('vpc', REGION).stackId;
    const before = new Set(primaryNetwork());
    for (const kind of ['instance', 'igw', 'route-table']) expect(before).toContain(kind);
    lingeringLambdaEni(h, REGION, 30 * MIN);
    const cfn = new CloudFormationClient({ region: REGION });
    const status = async () =>
      (await cfn.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks![0]!;

    await cfn.send(new DeleteStackCommand({ StackName: stackId }));
    h.cloud.clock.advance(10 * MIN);
    const failed = await status();
    expect(failed.StackStatus).toBe('DELETE_FAILED');
    expect(failed.StackStatusReason).toMatch(/PrivateSubnet/);
    // The instance, the gateway, the stack's endpoints with their ENIs and the route tables went before the subnets were tried.
    expect(new Set(primaryNetwork())).toEqual(
      new Set(['vpc', 'subnet', 'security-group', 'network-interface']),
    );
    expect(h.cloud.snapshot().filter((l) => l.startsWith(`ec2/${REGION}/network-interface`))).toEqual([
      expect.stringContaining('eni-0lambda(lambda:test)'),
    ]);

    // Still there: the retry fails the same way.
    await cfn.send(new DeleteStackCommand({ StackName: stackId }));
    h.cloud.clock.advance(MIN);
    expect((await status()).StackStatus).toBe('DELETE_FAILED');

    h.cloud.clock.advance(20 * MIN); // Lambda releases its ENI
    await cfn.send(new DeleteStackCommand({ StackName: stackId }));
    h.cloud.clock.advance(MIN);
    expect((await status()).StackStatus).toBe('DELETE_COMPLETE');
    expect(primaryNetwork()).toEqual([]);
  });
});

describe('drctl down and a lingering Lambda ENI', () => {
  it('sends DeleteStack before the ENI is released (the rest of the stack goes meanwhile), then deletes the subnets once it is', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    const releaseAt = lingeringLambdaEni(h, REGION, 20 * MIN);
    h.cloud.resetCalls();
    const r = await h.ok(['down', '--yes'], FIRST_TWO);
    expect(h.cloud.snapshot()).toEqual([]);
    const deletes = h.cloud.calls.filter((c) => c.command === 'DeleteStack' && c.region === REGION);
    expect(deletes).toHaveLength(2);
    expect(deletes[0]!.t).toBeLessThan(releaseAt);
    expect(deletes[1]!.t).toBeGreaterThanOrEqual(releaseAt);
    // The other region has no foreign ENI: one DeleteStack.
    expect(h.cloud.calls.filter((c) => c.command === 'DeleteStack' && c.region === 'us-west-1')).toHaveLength(
      1,
    );
    const said = r.events.filter(
      (e) =>
        e.type === 'log' && /waiting for those network interfaces/.test((e as { message: string }).message),
    ) as Array<{ level: string }>;
    expect(said.map((e) => e.level)).toEqual(['info']);
  });

  it('a down interrupted while the stack is DELETE_FAILED waits for the ENI before deleting again', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    const releaseAt = lingeringLambdaEni(h, REGION, 20 * MIN);
    const stackId = h.outputs('vpc', REGION).stackId;
    const cfn = new CloudFormationClient({ region: REGION });
    await cfn.send(new DeleteStackCommand({ StackName: stackId }));
    h.cloud.clock.advance(5 * MIN);
    h.cloud.resetCalls();
    await h.ok(['down', '--yes'], FIRST_TWO);
    expect(h.cloud.snapshot()).toEqual([]);
    const deletes = h.cloud.calls.filter((c) => c.command === 'DeleteStack' && c.region === REGION);
    expect(deletes.map((c) => c.t >= releaseAt)).toEqual([true]);
  });
});
