import { ACMClient, DeleteCertificateCommand } from '@aws-sdk/client-acm';
import { DeleteVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DeleteTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { StepName } from '../../src/steps/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeEc2, FakeElbv2 } from '../support/fake-cloud/index.js';
import { crashEachMutatingCall, expectReadOnlyRerun } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { priorTo, upTo } from '../support/steps.js';

const STEPS_USED = {
  ...upTo('nlb'),
};
const PRIOR = priorTo('nlb');
const REGIONS = ['sa-east-1', 'us-west-1'] as const;

let h: Harness;
afterEach(() => h?.cleanup());

const count = (snap: string[], kind: string) => snap.filter((l) => l.includes(kind)).length;
const rec = <N extends StepName = 'nlb'>(region: string, step?: N) => h.outputs(step ?? ('nlb' as N), region);
const doneAt = (events: any[], step: string, scope: string) =>
  events.find((e) => e.type === 'step-done' && e.step === step && e.scope === scope)?.t as number;

describe('nlb step on the fake cloud', () => {
  it('up makes an internal NLB per region with every endpoint IP as a healthy target and a modern TLS listener', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const snap = h.cloud.snapshot();
    expect(snap.filter((l) => l.startsWith('elbv2/'))).toEqual([
      'elbv2/sa-east-1/listener/drctl-nlb-sa-east-1:443',
      'elbv2/sa-east-1/load-balancer/drctl-nlb-sa-east-1(active)',
      'elbv2/sa-east-1/target-group/drctl-tg-sa-east-1',
      'elbv2/us-west-1/listener/drctl-nlb-us-west-1:443',
      'elbv2/us-west-1/load-balancer/drctl-nlb-us-west-1(active)',
      'elbv2/us-west-1/target-group/drctl-tg-us-west-1',
    ]);
    const elb = h.cloud.model(FakeElbv2);
    for (const region of REGIONS) {
      const r = rec(region);
      const ips = rec(region, 'endpoints').privateIps;
      const vpc = rec(region, 'vpc');
      expect(ips).toHaveLength(2);
      expect(r.targetIps).toEqual(ips);
      const lb = elb.loadBalancers.get(r.loadBalancerArn)!;
      expect(lb.scheme).toBe('internal');
      expect([...lb.subnetIds].sort()).toEqual([...vpc.privateSubnetIds].sort());
      expect(r.dnsName).toMatch(
        new RegExp(`^internal-drctl-nlb-${region}-[0-9a-f]+\\.elb\\.${region}\\.amazonaws\\.com$`),
      );
      expect(r.loadBalancerName.length).toBeLessThanOrEqual(32);
      const tg = elb.targetGroups.get(r.targetGroupArn)!;
      expect(tg).toMatchObject({ protocol: 'TLS', port: 443, targetType: 'ip', vpcId: vpc.vpcId });
      expect(tg.healthCheck.protocol).toBe('TCP');
      expect([...tg.targets.values()].map((t) => `${t.id}:${t.port}`).sort()).toEqual(
        ips.map((ip) => `${ip}:443`).sort(),
      );
      const listener = elb.listeners.get(r.listenerArn)!;
      expect(listener).toMatchObject({
        protocol: 'TLS',
        port: 443,
        sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
        certificateArns: [rec(region, 'ca').certificateArn],
        targetGroupArn: r.targetGroupArn,
      });
      const eniDescriptions = h.cloud
        .model(FakeEc2)
        .liveEnis(region)
        .filter((e) => e.owner.startsWith('nlb/'))
        .map((e) => e.Description);
      expect(eniDescriptions).toEqual([
        `ELB net/drctl-nlb-${region}/${lb.id}`,
        `ELB net/drctl-nlb-${region}/${lb.id}`,
      ]);
    }
  });

  it('the load balancer starts as soon as the VPC exists and the step ends about one NLB plus one health-check delay later', async () => {
    h = new Harness();
    const r = await h.ok(['up'], STEPS_USED);
    for (const region of REGIONS) {
      const vpcDone = doneAt(r.events, 'vpc', region);
      const endpointsDone = doneAt(r.events, 'endpoints', region);
      const created = h.cloud.calls.find((c) => c.command === 'CreateLoadBalancer' && c.region === region)!;
      expect(created.t).toBeLessThan(endpointsDone);
      expect(created.t - vpcDone).toBeLessThan(1_000);
      const took = doneAt(r.events, 'nlb', region) - vpcDone;
      // provisioning 150 s, then the first health checks 120 s (docs/design/timings.md §6), plus detection lag;
      // waiting for the endpoint first would add its 90 s.
      expect(took).toBeGreaterThanOrEqual(270_000);
      expect(took).toBeLessThan(270_000 + 20_000);
    }
    const nlbCalls = h.cloud.calls.filter((c) => c.service === 'elasticloadbalancing');
    expect(nlbCalls.length).toBeLessThan(80);
  });

  it('running up again makes no mutating call and one read per recorded resource', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const r = await expectReadOnlyRerun(h, ['up'], STEPS_USED);
    const reads = h.cloud.calls.filter((c) => c.service === 'elasticloadbalancing').map((c) => c.command);
    expect(reads.sort()).toEqual([
      'DescribeListeners',
      'DescribeListeners',
      'DescribeLoadBalancers',
      'DescribeLoadBalancers',
      'DescribeTargetHealth',
      'DescribeTargetHealth',
    ]);
    const outcomes = r.events
      .filter((e: any) => e.type === 'step-done' && e.step === 'nlb')
      .map((e: any) => e.outcome);
    expect(outcomes).toEqual(['unchanged', 'unchanged']);
  });

  it('down deletes the load balancer, waits, then the target group, and with the earlier steps leaves the cloud empty', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    h.cloud.resetCalls();
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()!.steps).toEqual({});
    const elbMutations = h.cloud.mutatingCalls.filter(
      (c) => c.service === 'elasticloadbalancing' && c.region === 'sa-east-1',
    );
    expect(elbMutations.map((c) => c.command)).toEqual(['DeleteLoadBalancer', 'DeleteTargetGroup']);
    expect(elbMutations[1]!.t - elbMutations[0]!.t).toBeGreaterThanOrEqual(45_000);
  });

  it('a crash right after each mutating call of the step, then up again, ends with exactly one of each resource', async () => {
    await crashEachMutatingCall({
      prepare: (x) => x.ok(['up'], PRIOR).then(() => undefined),
      args: ['step', 'nlb', '--region', 'sa-east-1'],
      deps: STEPS_USED,
      clean: (mutating) =>
        expect(mutating.map((c) => c.split(' ')[1])).toEqual([
          'CreateLoadBalancer',
          'CreateTargetGroup',
          'RegisterTargets',
          'CreateListener',
        ]),
      crashedCode: 1,
      check: async (x, where) => {
        h = x;
        const snap = x.cloud.snapshot();
        expect(count(snap, '/load-balancer/'), where).toBe(2);
        expect(count(snap, '/target-group/'), where).toBe(2);
        expect(count(snap, '/listener/'), where).toBe(2);
        const tg = x.cloud.model(FakeElbv2).targetGroups.get(rec('sa-east-1').targetGroupArn)!;
        expect(tg.targets.size, where).toBe(2);
        await expectReadOnlyRerun(x, ['up'], STEPS_USED, where);
        await x.ok(['down', '--yes'], STEPS_USED);
        expect(x.cloud.snapshot(), where).toEqual([]);
      },
    });
  });

  it('when the endpoint is replaced, its new IPs are registered and the old ones drain away', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const oldIps = rec('sa-east-1', 'endpoints').privateIps;
    const ec2 = new EC2Client({ region: 'sa-east-1' });
    await ec2.send(
      new DeleteVpcEndpointsCommand({ VpcEndpointIds: [rec('sa-east-1', 'endpoints').vpcEndpointId] }),
    );
    h.cloud.clock.advance(5 * 60_000);
    await h.ok(['up'], STEPS_USED);
    const newIps = rec('sa-east-1', 'endpoints').privateIps;
    expect(newIps).not.toEqual(oldIps);
    expect(rec('sa-east-1').targetIps).toEqual(newIps);
    const tg = h.cloud.model(FakeElbv2).targetGroups.get(rec('sa-east-1').targetGroupArn)!;
    const live = [...tg.targets.values()].filter((t) => t.drainedAt === undefined).map((t) => t.id);
    expect(live.sort()).toEqual([...newIps].sort());
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('config tlsPolicy is used, and changing it later modifies the listener in place', async () => {
    h = new Harness();
    h.writeConfig({ tlsPolicy: 'ELBSecurityPolicy-TLS13-1-3-2021-06' });
    await h.ok(['up'], STEPS_USED);
    const elb = h.cloud.model(FakeElbv2);
    expect(elb.listeners.get(rec('us-west-1').listenerArn)!.sslPolicy).toBe(
      'ELBSecurityPolicy-TLS13-1-3-2021-06',
    );
    h.writeConfig({ tlsPolicy: 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06' });
    h.cloud.resetCalls();
    await h.ok(['up'], STEPS_USED);
    expect(h.cloud.mutatingCalls.map((c) => c.command)).toEqual(['ModifyListener', 'ModifyListener']);
    expect(elb.listeners.get(rec('us-west-1').listenerArn)!.sslPolicy).toBe(
      'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
    );
    expect(count(h.cloud.snapshot(), '/listener/')).toBe(2);
  });

  it('a post-quantum tlsPolicy of 2025-09 (AWS documents them for NLB TLS listeners) makes the listener', async () => {
    h = new Harness();
    h.writeConfig({ tlsPolicy: 'ELBSecurityPolicy-TLS13-1-3-PQ-2025-09' });
    await h.ok(['up'], STEPS_USED);
    const elb = h.cloud.model(FakeElbv2);
    for (const region of REGIONS)
      expect(elb.listeners.get(rec(region).listenerArn)!.sslPolicy).toBe(
        'ELBSecurityPolicy-TLS13-1-3-PQ-2025-09',
      );
  });

  it('an unknown tlsPolicy fails with the AWS error and names the listener', async () => {
    h = new Harness();
    // A made-up name is refused at config load now (test/cli/config-rules.test.ts); a documented
    // policy the region does not offer (the fake has no FIPS policies) still reaches AWS.
    h.writeConfig({ tlsPolicy: 'ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04' });
    const r = await h.run(['up'], STEPS_USED);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SSLPolicyNotFound');
  });

  it('targets the endpoint security group does not let in never turn healthy, and the error says why', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    const ec2 = h.cloud.model(FakeEc2).region('sa-east-1');
    ec2.securityGroups.get(rec('sa-east-1', 'vpc').endpointSecurityGroupId)!.ingress.length = 0;
    const r = await h.run(['step', 'nlb', '--region', 'sa-east-1'], STEPS_USED);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unhealthy \(Target\.Timeout\)/);
    expect(r.stderr).toMatch(/security group must allow TCP 443/);
  });

  it('the fake refuses to delete a target group a listener uses, and an ACM certificate a listener uses', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const elb = new ElasticLoadBalancingV2Client({ region: 'sa-east-1' });
    await expect(
      elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: rec('sa-east-1').targetGroupArn })),
    ).rejects.toMatchObject({ name: 'ResourceInUseException', Code: 'ResourceInUse' });
    const acm = new ACMClient({ region: 'sa-east-1' });
    await expect(
      acm.send(new DeleteCertificateCommand({ CertificateArn: rec('sa-east-1', 'ca').certificateArn })),
    ).rejects.toMatchObject({ name: 'ResourceInUseException' });
  });

  it('`drctl step nlb` names the missing input step when the endpoints were never made', async () => {
    h = new Harness();
    await h.ok(['up'], upTo('vpc', 'ca'));
    const r = await h.run(['step', 'nlb', '--region', 'us-west-1'], STEPS_USED);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('drctl step endpoints --region us-west-1');
  });
});
