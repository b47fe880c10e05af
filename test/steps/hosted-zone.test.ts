import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  DeleteHostedZoneCommand,
  DisassociateVPCFromHostedZoneCommand,
  GetHostedZoneCommand,
  ListTagsForResourceCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeRoute53 } from '../support/fake-cloud/index.js';
import { crashEachMutatingCall, expectReadOnlyRerun } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { priorTo, upTo } from '../support/steps.js';

const STEPS_USED = upTo('hosted-zone');
const PRIOR = priorTo('hosted-zone');
const ZONE_MUTATIONS = /^(CreateHostedZone|ChangeTagsForResource|AssociateVPCWithHostedZone)$/;

let h: Harness;
afterEach(() => h?.cleanup());

const r53 = () => new Route53Client({ region: 'us-east-1' });
const zones = (snap: string[]) => snap.filter((l) => l.startsWith('route53/global/hosted-zone/'));
const vpcId = (x: Harness, region: string) => x.outputs('vpc', region).vpcId;
const zoneRec = (x: Harness) => x.outputs('hosted-zone', 'global');

async function expectOneCompleteZone(x: Harness, why = '') {
  const snap = x.cloud.snapshot();
  expect(zones(snap), why).toEqual([
    expect.stringMatching(/^route53\/global\/hosted-zone\/Z[0-9A-F]+\(octank\.com\.\)$/),
  ]);
  expect(
    snap.filter((l) => l.startsWith('route53/global/record/')),
    why,
  ).toEqual([]);
  const id = zoneRec(x).hostedZoneId;
  // The test looks, not drctl (it reads tags with ListTagsForResources): another user's reads.
  const { z, tags } = await x.cloud.authorizer.asAdmin(async () => ({
    z: await r53().send(new GetHostedZoneCommand({ Id: id })),
    tags: await r53().send(new ListTagsForResourceCommand({ ResourceType: 'hostedzone', ResourceId: id })),
  }));
  expect(z.HostedZone!.Config!.PrivateZone, why).toBe(true);
  expect(z.VPCs, why).toEqual([
    { VPCRegion: 'sa-east-1', VPCId: vpcId(x, 'sa-east-1') },
    { VPCRegion: 'us-west-1', VPCId: vpcId(x, 'us-west-1') },
  ]);
  expect(tags.ResourceTagSet!.Tags, why).toContainEqual({ Key: 'drctl:deployment', Value: 'drctl' });
}

describe('hosted-zone step on the fake cloud', () => {
  it('up makes one tagged private zone on the primary VPC, then associates the secondary VPC', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    await expectOneCompleteZone(h);
    const rec = zoneRec(h);
    expect(rec.callerReference).toMatch(/^drctl\/drctl\//);
    expect(rec.vpcs).toEqual([
      { region: 'sa-east-1', vpcId: vpcId(h, 'sa-east-1') },
      { region: 'us-west-1', vpcId: vpcId(h, 'us-west-1') },
    ]);
    const mine = h.cloud.mutatingCalls.filter((c) => c.service === 'route53');
    expect(mine.map((c) => c.command)).toEqual([
      'CreateHostedZone',
      'ChangeTagsForResource',
      'AssociateVPCWithHostedZone',
    ]);
    expect(mine[0]!.input).toMatchObject({
      Name: 'octank.com',
      VPC: { VPCRegion: 'sa-east-1', VPCId: vpcId(h, 'sa-east-1') },
      HostedZoneConfig: { PrivateZone: true },
    });
    // It waited for the zone and the association to be INSYNC.
    expect(h.cloud.calls.filter((c) => c.command === 'GetChange').length).toBeGreaterThanOrEqual(2);
  });

  it('running up again makes no mutating call and one read', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    await expectReadOnlyRerun(h, ['up'], STEPS_USED);
    expect(h.cloud.calls.filter((c) => c.service === 'route53').map((c) => c.command)).toEqual([
      'GetHostedZone',
    ]);
  });

  it('down disassociates the secondary VPC, deletes the zone and leaves the cloud empty', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    h.cloud.resetCalls();
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.mutatingCalls.filter((c) => c.service === 'route53').map((c) => c.command)).toEqual([
      'DisassociateVPCFromHostedZone',
      'DeleteHostedZone',
    ]);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()!.steps).toEqual({});
  });

  it('a crash after each mutating call of the step, then up again, ends with exactly one complete zone', async () => {
    await crashEachMutatingCall({
      prepare: (x) => x.ok(['up'], PRIOR).then(() => undefined),
      args: ['up'],
      deps: STEPS_USED,
      clean: (mutating) => {
        expect(mutating.every((c) => ZONE_MUTATIONS.test(c.split(' ')[1]!))).toBe(true);
        expect(mutating.length).toBe(3);
      },
      check: async (x, where) => {
        await expectOneCompleteZone(x, where);
        // One create in all: the re-run adopted the zone the crashed run made.
        expect(x.cloud.calls.filter((c) => c.command === 'CreateHostedZone')).toHaveLength(1);
        await x.ok(['down', '--yes'], STEPS_USED);
        expect(x.cloud.snapshot(), `down after ${where}`).toEqual([]);
      },
    });
  });

  it('a recorded caller reference whose zone was deleted by hand gets a new reference instead of failing', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const before = zoneRec(h);
    // Deleted by hand: another user's calls.
    await h.cloud.authorizer.asAdmin(async () => {
      await r53().send(
        new DisassociateVPCFromHostedZoneCommand({
          HostedZoneId: before.hostedZoneId,
          VPC: { VPCRegion: 'us-west-1', VPCId: vpcId(h, 'us-west-1') },
        }),
      );
      await r53().send(new DeleteHostedZoneCommand({ Id: before.hostedZoneId }));
    });
    await h.ok(['up'], STEPS_USED);
    const after = zoneRec(h);
    expect(after.hostedZoneId).not.toBe(before.hostedZoneId);
    expect(after.callerReference).not.toBe(before.callerReference);
    expect(h.cloud.calls.filter((c) => c.command === 'CreateHostedZone').map((c) => c.outcome)).toEqual([
      'ok',
      'HostedZoneAlreadyExists',
      'ok',
    ]);
    await expectOneCompleteZone(h);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('a VPC already on another private zone of the same name is an error that names the VPC and that zone', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    // Someone else's zone, made and later deleted by another user.
    const other = await h.cloud.authorizer.asAdmin(() =>
      r53().send(
        new CreateHostedZoneCommand({
          Name: 'octank.com',
          CallerReference: 'someone-else',
          VPC: { VPCRegion: 'us-west-1', VPCId: vpcId(h, 'us-west-1') },
        }),
      ),
    );
    const otherId = other.HostedZone!.Id!.replace('/hostedzone/', '');
    const r = await h.run(['up'], STEPS_USED);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(vpcId(h, 'us-west-1'));
    expect(r.stderr).toContain(otherId);
    await h.cloud.authorizer.asAdmin(() => r53().send(new DeleteHostedZoneCommand({ Id: otherId })));
    await h.ok(['up'], STEPS_USED);
    await expectOneCompleteZone(h);
  });

  it('down deletes failover records drctl left in the zone, and refuses (naming them) records it did not make', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const id = zoneRec(h).hostedZoneId;
    const record = (setId: string, failover: 'PRIMARY' | 'SECONDARY') => ({
      Action: 'CREATE' as const,
      ResourceRecordSet: {
        Name: 'api.octank.com',
        Type: 'A' as const,
        SetIdentifier: setId,
        Failover: failover,
        TTL: 60,
        ResourceRecords: [{ Value: failover === 'PRIMARY' ? '10.0.1.10' : '172.16.1.10' }],
      },
    });
    await r53().send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: id,
        ChangeBatch: {
          Changes: [record('drctl-primary', 'PRIMARY'), record('drctl-secondary', 'SECONDARY')],
        },
      }),
    );
    await r53().send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: id,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: 'db.octank.com',
                Type: 'A',
                TTL: 300,
                ResourceRecords: [{ Value: '10.0.2.2' }],
              },
            },
          ],
        },
      }),
    );
    const r = await h.run(['down', '--yes'], STEPS_USED);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('db.octank.com.');
    expect(r.stderr).not.toContain('drctl-primary');
    expect(
      h.cloud
        .model(FakeRoute53)
        .recordsOf(id)
        .map((x) => x.Name),
    ).toEqual(['octank.com.', 'octank.com.', 'db.octank.com.']);
    await r53().send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: id,
        ChangeBatch: {
          Changes: [
            {
              Action: 'DELETE',
              ResourceRecordSet: {
                Name: 'db.octank.com',
                Type: 'A',
                TTL: 300,
                ResourceRecords: [{ Value: '10.0.2.2' }],
              },
            },
          ],
        },
      }),
    );
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });
});

describe('fake Route 53 zones', () => {
  it('never accepts a caller reference twice, keeps the last VPC, and refuses to delete a zone with records', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    const vpc = { VPCRegion: 'sa-east-1' as const, VPCId: vpcId(h, 'sa-east-1') };
    const z = await r53().send(
      new CreateHostedZoneCommand({ Name: 'example.org', CallerReference: 'ref-1', VPC: vpc }),
    );
    const id = z.HostedZone!.Id!;
    expect(z.ChangeInfo!.Status).toBe('PENDING');
    await expect(
      r53().send(new DisassociateVPCFromHostedZoneCommand({ HostedZoneId: id, VPC: vpc })),
    ).rejects.toMatchObject({ name: 'LastVPCAssociation' });
    await r53().send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: id,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: 'x.example.org',
                Type: 'A',
                TTL: 60,
                ResourceRecords: [{ Value: '10.0.0.9' }],
              },
            },
          ],
        },
      }),
    );
    await expect(r53().send(new DeleteHostedZoneCommand({ Id: id }))).rejects.toMatchObject({
      name: 'HostedZoneNotEmpty',
    });
    await expect(
      r53().send(new CreateHostedZoneCommand({ Name: 'example.org', CallerReference: 'ref-1', VPC: vpc })),
    ).rejects.toMatchObject({ name: 'HostedZoneAlreadyExists', $metadata: { httpStatusCode: 409 } });
    await expect(
      r53().send(
        new CreateHostedZoneCommand({
          Name: 'example.net',
          CallerReference: 'ref-2',
          HostedZoneConfig: { PrivateZone: true },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidInput' });
  });
});
