import {
  type Change,
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeElbv2, FakeRoute53, FakeRoute53Health } from '../support/fake-cloud/index.js';
import { regionDistance } from '../support/fake-cloud/network.js';
import { Harness } from '../support/harness.js';

// The Route 53 rules the fake enforces for latency records, with Route 53's error names and
// words (sources in test/support/fake-cloud/README.md, Route 53, "ChangeResourceRecordSets").

const ZONES: Record<string, string> = { 'sa-east-1': 'ZTK26PT1VY4CU', 'us-west-1': 'Z24FKFUX50B4VW' };
const dns = (region: string) => `internal-drctl-nlb-0123456789.elb.${region}.amazonaws.com`;
const HC = {
  'sa-east-1': '0d9a1c52-64f4-4c0e-9d3a-5b3f0a1e2c11',
  'us-west-1': '1e8b2d63-75a5-4d1f-8e4a-6c4a1b2f3d22',
} as const;

let h: Harness;
let zoneId: string;
const r53 = () => new Route53Client({ region: 'us-east-1' });

beforeEach(async () => {
  h = new Harness();
  for (const region of Object.keys(ZONES)) {
    h.cloud.model(FakeElbv2).seedLoadBalancer(region, { name: 'drctl-nlb', dnsName: dns(region) });
  }
  for (const id of Object.values(HC)) h.cloud.model(FakeRoute53Health).seed(id);
  const z = await r53().send(new CreateHostedZoneCommand({ Name: 'example.org', CallerReference: 'lat' }));
  zoneId = z.HostedZone!.Id!;
});
afterEach(() => h.cleanup());

const latency = (
  region: 'sa-east-1' | 'us-west-1',
  o: Partial<ResourceRecordSet> = {},
): ResourceRecordSet => ({
  Name: 'api.example.org',
  Type: 'A',
  SetIdentifier: `drctl-${region}`,
  Region: region,
  HealthCheckId: HC[region],
  AliasTarget: { HostedZoneId: ZONES[region], DNSName: dns(region), EvaluateTargetHealth: true },
  ...o,
});
const failover = (role: 'PRIMARY' | 'SECONDARY', region: 'sa-east-1' | 'us-west-1'): ResourceRecordSet => ({
  Name: 'api.example.org',
  Type: 'A',
  SetIdentifier: `drctl-${role.toLowerCase()}`,
  Failover: role,
  ...(role === 'PRIMARY' ? { HealthCheckId: HC[region] } : {}),
  AliasTarget: { HostedZoneId: ZONES[region], DNSName: dns(region), EvaluateTargetHealth: true },
});
const send = (changes: Change[]) =>
  r53().send(
    new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: changes } }),
  );
const create = (...records: ResourceRecordSet[]) =>
  send(records.map((r) => ({ Action: 'CREATE' as const, ResourceRecordSet: r })));
const refusal = async (p: Promise<unknown>) => {
  const e = (await p.then(
    () => undefined,
    (x: unknown) => x,
  )) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e && { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
};
const apiRecords = () =>
  h.cloud
    .model(FakeRoute53)
    .recordsOf(zoneId)
    .filter((r) => r.Type === 'A');

describe('Route 53 latency records in the fake, as AWS enforces them', () => {
  it('accepts one latency record per region, each with a SetIdentifier, a Region and an existing health check', async () => {
    await create(latency('sa-east-1'), latency('us-west-1'));
    expect(apiRecords().map((r) => [r.SetIdentifier, r.Region, r.HealthCheckId])).toEqual([
      ['drctl-sa-east-1', 'sa-east-1', HC['sa-east-1']],
      ['drctl-us-west-1', 'us-west-1', HC['us-west-1']],
    ]);
  });

  it('a latency record without SetIdentifier is InvalidInput "Missing field \'SetIdentifier\'"', async () => {
    const e = await refusal(create(latency('sa-east-1', { SetIdentifier: undefined })));
    expect(e).toMatchObject({ name: 'InvalidInput', status: 400 });
    expect(e!.message).toMatch(
      /^Invalid request: Missing field 'SetIdentifier' in Change with \[Action=CREATE/,
    );
    expect(apiRecords()).toEqual([]);
  });

  it('Region and Failover on one record is InvalidInput "Expected exactly one of [...] but found more than one"', async () => {
    const e = await refusal(create(latency('sa-east-1', { Failover: 'PRIMARY' })));
    expect(e).toMatchObject({ name: 'InvalidInput' });
    expect(e!.message).toContain(
      'Expected exactly one of [Weight, Region, Failover, GeoLocation, or MultiValueAnswer], but found more than one',
    );
  });

  it('a second latency record for the same region, name and type is InvalidChangeBatch, and nothing of the batch is applied', async () => {
    const e = await refusal(create(latency('sa-east-1'), latency('sa-east-1', { SetIdentifier: 'other' })));
    expect(e).toMatchObject({ name: 'InvalidChangeBatch', status: 400 });
    expect(e!.message).toContain(
      'RRSet with DNS name api.example.org., type A, SetIdentifier other, and Region Name=sa-east-1 cannot be created because a latency RRSet with the same name, type and region already exists.',
    );
    expect(apiRecords()).toEqual([]);
  });

  it('a health check id that does not exist is NoSuchHealthCheck (404)', async () => {
    const e = await refusal(
      create(latency('sa-east-1', { HealthCheckId: '99999999-9999-4999-a999-999999999999' })),
    );
    expect(e).toMatchObject({ name: 'NoSuchHealthCheck', status: 404 });
  });

  it('latency records beside failover records of the same name and type are InvalidChangeBatch', async () => {
    await create(failover('PRIMARY', 'sa-east-1'), failover('SECONDARY', 'us-west-1'));
    const e = await refusal(create(latency('sa-east-1'), latency('us-west-1')));
    expect(e).toMatchObject({ name: 'InvalidChangeBatch' });
    expect(e!.message).toContain(
      'RRSet with DNS name api.example.org., type A cannot be created as other RRSets exist with the same name and type.',
    );
    expect(apiRecords().map((r) => r.SetIdentifier)).toEqual(['drctl-primary', 'drctl-secondary']);
  });

  it('one batch that deletes the failover pair and creates the latency pair is applied at once: no version of the zone lacks the name', async () => {
    await create(failover('PRIMARY', 'sa-east-1'), failover('SECONDARY', 'us-west-1'));
    await send([
      { Action: 'DELETE', ResourceRecordSet: failover('PRIMARY', 'sa-east-1') },
      { Action: 'DELETE', ResourceRecordSet: failover('SECONDARY', 'us-west-1') },
      { Action: 'CREATE', ResourceRecordSet: latency('sa-east-1') },
      { Action: 'CREATE', ResourceRecordSet: latency('us-west-1') },
    ]);
    const versions = h.cloud
      .model(FakeRoute53)
      .recordHistory(zoneId)
      .map((v) => v.records.filter((r) => r.Type === 'A').map((r) => r.SetIdentifier));
    expect(versions).toEqual([
      [],
      ['drctl-primary', 'drctl-secondary'],
      ['drctl-sa-east-1', 'drctl-us-west-1'],
    ]);
  });

  it('a Region that is not an AWS region is InvalidInput', async () => {
    const e = await refusal(create(latency('sa-east-1', { Region: 'mars-1' as never })));
    expect(e).toMatchObject({ name: 'InvalidInput' });
  });

  it('the stand-in for latency between regions: its own region nearest, then the same geography', () => {
    expect(regionDistance('us-west-1', 'us-west-1')).toBe(0);
    expect(regionDistance('us-west-1', 'us-east-1')).toBeLessThan(regionDistance('us-west-1', 'sa-east-1'));
  });
});
