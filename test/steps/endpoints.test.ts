import { DeleteVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeEc2Endpoints } from '../support/fake-cloud/index.js';
import { crashEachMutatingCall, expectReadOnlyRerun } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { priorTo, upTo } from '../support/steps.js';

const STEPS_USED = upTo('endpoints');
const PRIOR = priorTo('endpoints');

let h: Harness;
afterEach(() => h?.cleanup());

const count = (snap: string[], kind: string) => snap.filter((l) => l.includes(kind)).length;
const endpointEnis = (snap: string[]) =>
  snap.filter((l) => /network-interface\/eni-[0-9a-f]+\(vpce-/.test(l));

describe('endpoints step on the fake cloud', () => {
  it('up makes one available execute-api endpoint per region in that region’s own VPC, and records every ENI IP', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const snap = h.cloud.snapshot();
    expect(snap.filter((l) => l.includes('/vpc-endpoint/'))).toEqual([
      expect.stringMatching(/^ec2\/sa-east-1\/vpc-endpoint\/vpce-[0-9a-f]+\(available\)$/),
      expect.stringMatching(/^ec2\/us-west-1\/vpc-endpoint\/vpce-[0-9a-f]+\(available\)$/),
    ]);
    expect(endpointEnis(snap)).toHaveLength(4);
    const state = h.state()!;
    for (const region of ['sa-east-1', 'us-west-1']) {
      const rec = state.steps.endpoints![region]!;
      const vpc = state.steps.vpc![region]!.resources;
      expect(rec.status).toBe('ready');
      const r = h.outputs('endpoints', region);
      expect(r.networkInterfaceIds).toHaveLength(2);
      expect(r.privateIps).toHaveLength(2);
      expect(r.dnsNames[0]).toMatch(
        new RegExp(`^${r.vpcEndpointId}-[a-z0-9]+\\.execute-api\\.${region}\\.vpce\\.amazonaws\\.com$`),
      );
      expect(r.dnsNames).toHaveLength(3);
      const prefix = region === 'sa-east-1' ? '10.0.' : '172.16.';
      expect(r.privateIps.every((ip) => ip.startsWith(prefix))).toBe(true);
      // What AWS holds: the region's own VPC, both private subnets, the endpoint SG, private DNS on.
      const call = h.cloud.calls.find((c) => c.command === 'CreateVpcEndpoint' && c.region === region)!;
      expect(call.input).toMatchObject({
        VpcId: vpc.vpcId,
        SubnetIds: vpc.privateSubnetIds,
        SecurityGroupIds: [vpc.endpointSecurityGroupId],
        ServiceName: `com.amazonaws.${region}.execute-api`,
        PrivateDnsEnabled: true,
      });
    }
  });

  it('the endpoint waits in pending for the AWS delay before it is recorded ready', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    const t0 = h.cloud.clock.now();
    await h.ok(['step', 'endpoints', '--region', 'sa-east-1'], STEPS_USED);
    const tookMs = h.cloud.clock.now() - t0;
    expect(tookMs).toBeGreaterThanOrEqual(90_000);
    expect(tookMs).toBeLessThan(90_000 + 15_000); // detection lag stays small
    const polls = h.cloud.calls.filter((c) => c.command === 'DescribeVpcEndpoints' && c.t >= t0);
    expect(polls.length).toBeLessThanOrEqual(15);
  });

  it('running up again makes no mutating call and one read per region', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    await expectReadOnlyRerun(h, ['up'], STEPS_USED);
    const mine = h.cloud.calls.filter((c) => /VpcEndpoint|NetworkInterface/.test(c.command));
    expect(mine.map((c) => c.command)).toEqual(['DescribeVpcEndpoints', 'DescribeVpcEndpoints']);
  });

  it('down deletes the endpoints, waits until they are gone, and leaves the cloud empty', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()!.steps).toEqual({});
  });

  it('a crash right after each mutating call of the step, then up again, ends with exactly one endpoint per region', async () => {
    await crashEachMutatingCall({
      prepare: (x) => x.ok(['up'], PRIOR).then(() => undefined),
      args: ['step', 'endpoints', '--region', 'sa-east-1'],
      deps: STEPS_USED,
      clean: (mutating) => expect(mutating.length).toBe(1),
      crashedCode: 1,
      check: async (x, where) => {
        const snap = x.cloud.snapshot();
        expect(count(snap, '/vpc-endpoint/'), where).toBe(2);
        expect(endpointEnis(snap), where).toHaveLength(4);
        await x.ok(['down', '--yes'], STEPS_USED);
        expect(x.cloud.snapshot(), where).toEqual([]);
      },
    });
  });

  it('when the tag is not visible yet after a crash, the recorded ClientToken returns the same endpoint', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    h.cloud.revive();
    h.cloud.faults = { crashAfterMutating: 1 }; // CreateVpcEndpoint succeeded, its id never recorded
    await h.run(['--json', 'step', 'endpoints', '--region', 'sa-east-1'], STEPS_USED);
    h.cloud.revive();
    const rec = h.state()!.steps.endpoints!['sa-east-1']!.resources;
    expect(rec.clientToken).toMatch(/^drctl-/);
    expect(rec.vpcEndpointId).toBeUndefined();
    // Tags can lag a describe (docs/design/fake-cloud.md): hide them, so only the token can find the endpoint.
    const model = h.cloud.model(FakeEc2Endpoints);
    const created = h.cloud.calls.find((c) => c.command === 'CreateVpcEndpoint')!;
    const id = (h.cloud
      .snapshot()
      .find((l) => l.includes('/vpc-endpoint/'))!
      .match(/vpce-[0-9a-f]+/) ?? [])[0]!;
    const tags = model.endpoint('sa-east-1', id)!.tags;
    const saved = { ...tags };
    for (const k of Object.keys(tags)) delete tags[k];
    await h.ok(['step', 'endpoints', '--region', 'sa-east-1'], STEPS_USED);
    Object.assign(tags, saved);
    const creates = h.cloud.calls.filter((c) => c.command === 'CreateVpcEndpoint');
    expect(creates).toHaveLength(2);
    expect((creates[1]!.input as { ClientToken: string }).ClientToken).toBe(
      (created.input as { ClientToken: string }).ClientToken,
    );
    expect(count(h.cloud.snapshot(), '/vpc-endpoint/')).toBe(1);
    expect(h.state()!.steps.endpoints!['sa-east-1']!.resources.vpcEndpointId).toBe(id);
  });

  it('an endpoint deleted outside drctl is replaced by a new one on the next up', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const old = h.outputs('endpoints', 'sa-east-1').vpcEndpointId;
    const ec2 = new EC2Client({ region: 'sa-east-1' });
    await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [old] }));
    h.cloud.clock.advance(5 * 60_000);
    await h.ok(['up'], STEPS_USED);
    const now = h.outputs('endpoints', 'sa-east-1').vpcEndpointId;
    expect(now).not.toBe(old);
    expect(h.cloud.snapshot().filter((l) => l.includes('sa-east-1/vpc-endpoint/'))).toEqual([
      `ec2/sa-east-1/vpc-endpoint/${now}(available)`,
    ]);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('the vpc stack deletes only after the endpoint ENIs are released', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const r = await h.ok(['down', '--yes'], STEPS_USED);
    const done = (step: string, scope: string) =>
      r.events.find(
        (e) =>
          e.type === 'step-done' &&
          (e as { step: string }).step === step &&
          (e as { scope: string }).scope === scope,
      ) as { t: number } | undefined;
    expect(done('endpoints', 'sa-east-1')!.t).toBeLessThanOrEqual(done('vpc', 'sa-east-1')!.t);
    expect(h.cloud.snapshot()).toEqual([]);
  });
});
