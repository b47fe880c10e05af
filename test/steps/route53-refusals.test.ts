import {
  type Change,
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { Readable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { changeBatchProblems } from '../../src/aws/route53.js';
import { FakeElbv2, FakeRoute53, FakeRoute53Health } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';

// What Route 53 refuses on the paths drctl writes, with its error names and words, and the error
// shape the real SDK v3 gives for them (measured below by feeding Route 53's XML to the SDK).

const NLB_DNS = 'internal-drctl-nlb-0123456789.elb.sa-east-1.amazonaws.com';
const SA_EAST_1_NLB_ZONE = 'ZTK26PT1VY4CU';
const HC = '0d9a1c52-64f4-4c0e-9d3a-5b3f0a1e2c11';

let h: Harness;
afterEach(() => h?.cleanup());

const r53 = () => new Route53Client({ region: 'us-east-1' });

async function zone(): Promise<string> {
  const z = await r53().send(
    new CreateHostedZoneCommand({ Name: 'example.org', CallerReference: 'refusals' }),
  );
  return z.HostedZone!.Id!;
}
const send = (zoneId: string, changes: Change[]) =>
  r53().send(
    new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: changes } }),
  );
const alias = (
  o: { dns?: string; zoneId?: string; healthCheckId?: string; setId?: string } = {},
): Change => ({
  Action: 'UPSERT',
  ResourceRecordSet: {
    Name: 'api.example.org',
    Type: 'A',
    SetIdentifier: o.setId ?? 'primary',
    Failover: 'PRIMARY',
    ...(o.healthCheckId ? { HealthCheckId: o.healthCheckId } : {}),
    AliasTarget: {
      HostedZoneId: o.zoneId ?? SA_EAST_1_NLB_ZONE,
      DNSName: o.dns ?? NLB_DNS,
      EvaluateTargetHealth: true,
    },
  },
});

/** What the real SDK throws for a Route 53 error body (its own deserializer, a canned HTTP answer). */
async function realSdkError(body: string): Promise<Record<string, unknown>> {
  const client = new Route53Client({
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
    requestHandler: {
      handle: () =>
        Promise.resolve({
          response: {
            statusCode: 400,
            headers: { 'content-type': 'text/xml' },
            body: Readable.from([Buffer.from(body)]),
          },
        }),
    },
  });
  try {
    await client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: 'Z1',
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: { Name: 'a.b', Type: 'A', TTL: 1, ResourceRecords: [{ Value: '1.1.1.1' }] },
            },
          ],
        },
      }),
    );
  } catch (e) {
    return e as Record<string, unknown>;
  }
  throw new Error('the canned answer did not fail');
}

const PROBLEM = `Tried to create an alias that targets ${NLB_DNS}., type A in zone ZXXXX, but that target was not found`;
let real: { standard: Record<string, unknown>; legacy: Record<string, unknown> };
beforeAll(async () => {
  // Route 53 answers InvalidChangeBatch in the standard error form now (aws/aws-sdk-kotlin#1433);
  // it used to send its own <InvalidChangeBatch> element.
  real = {
    standard: await realSdkError(
      `<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>InvalidChangeBatch</Code><Message>[${PROBLEM}]</Message></Error><RequestId>r1</RequestId></ErrorResponse>`,
    ),
    legacy: await realSdkError(
      `<?xml version="1.0"?>\n<InvalidChangeBatch xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Messages><Message>${PROBLEM}</Message></Messages><RequestId>r2</RequestId></InvalidChangeBatch>`,
    ),
  };
});

describe('the SDK and InvalidChangeBatch', () => {
  it('the real SDK names the standard answer InvalidChangeBatch and the old one Unknown; drctl reads both', () => {
    expect(real.standard).toMatchObject({
      name: 'InvalidChangeBatch',
      Code: 'InvalidChangeBatch',
      message: `[${PROBLEM}]`,
      messages: [],
      $fault: 'client',
    });
    expect(real.legacy).toMatchObject({
      name: 'Unknown',
      message: 'UnknownError',
      Messages: { Message: PROBLEM },
    });
    expect(changeBatchProblems(real.standard)).toEqual([PROBLEM]);
    expect(changeBatchProblems(real.legacy)).toEqual([PROBLEM]);
    expect(changeBatchProblems({ name: 'InvalidInput', message: '[x]', $metadata: {} })).toBeUndefined();
  });

  it.each(['standard', 'legacy'] as const)(
    'the fake throws InvalidChangeBatch in the SDK’s %s shape',
    async (form) => {
      h = new Harness();
      h.cloud.model(FakeRoute53).invalidChangeBatchForm = form;
      const id = await zone();
      const e = (await send(id, [alias()]).catch((x: unknown) => x)) as Record<string, unknown>;
      const keys =
        form === 'standard' ? ['name', 'Code', 'messages', '$fault'] : ['name', 'message', '$fault'];
      for (const k of keys) expect(e[k], k).toEqual(real[form][k]);
      expect((e.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(400);
      expect(changeBatchProblems(e)).toEqual([
        `Tried to create an alias that targets ${NLB_DNS}., type A in zone ${SA_EAST_1_NLB_ZONE}, but that target was not found`,
      ]);
    },
  );
});

describe('fake Route 53 refuses what Route 53 refuses', () => {
  it('an alias to a load balancer that does not exist: InvalidChangeBatch, "but that target was not found"', async () => {
    h = new Harness();
    const id = await zone();
    await expect(send(id, [alias()])).rejects.toMatchObject({
      name: 'InvalidChangeBatch',
      message: `[Tried to create an alias that targets ${NLB_DNS}., type A in zone ${SA_EAST_1_NLB_ZONE}, but that target was not found]`,
    });
    expect(h.cloud.model(FakeRoute53).recordsOf(id)).toHaveLength(2); // SOA and NS only
    h.cloud.model(FakeElbv2).seedLoadBalancer('sa-east-1', { name: 'drctl-nlb', dnsName: NLB_DNS });
    await send(id, [alias()]);
    expect(h.cloud.model(FakeRoute53).recordsOf(id)).toHaveLength(3);
  });

  it('an alias whose HostedZoneId is not the load balancer’s canonical zone: "does not lie within the target zone"', async () => {
    h = new Harness();
    const id = await zone();
    h.cloud.model(FakeElbv2).seedLoadBalancer('sa-east-1', { name: 'drctl-nlb', dnsName: NLB_DNS });
    // us-west-1's NLB zone, or the private zone's own id: both wrong for an sa-east-1 NLB.
    for (const wrong of ['Z24FKFUX50B4VW', id.replace('/hostedzone/', '')]) {
      const e = (await send(id, [alias({ zoneId: wrong })]).catch((x: unknown) => x)) as Error;
      expect(e.name).toBe('InvalidChangeBatch');
      expect(
        changeBatchProblems(e)!.some((m) =>
          /does not lie within the target zone|target was not found/.test(m),
        ),
      ).toBe(true);
      expect(e.message).toContain(`type A in zone ${wrong}`);
    }
    const e = (await send(id, [alias({ zoneId: 'Z24FKFUX50B4VW' })]).catch((x: unknown) => x)) as Error;
    expect(e.message).toContain('but the alias target name does not lie within the target zone');
  });

  it('a HealthCheckId that does not exist: NoSuchHealthCheck', async () => {
    h = new Harness();
    const id = await zone();
    h.cloud.model(FakeElbv2).seedLoadBalancer('sa-east-1', { name: 'drctl-nlb', dnsName: NLB_DNS });
    await expect(send(id, [alias({ healthCheckId: HC })])).rejects.toMatchObject({
      name: 'NoSuchHealthCheck',
      $metadata: { httpStatusCode: 404 },
    });
    h.cloud.model(FakeRoute53Health).seed(HC);
    await send(id, [alias({ healthCheckId: HC })]);
  });

  it('failover and latency records without a SetIdentifier: InvalidInput "Missing field \'SetIdentifier\'"', async () => {
    h = new Harness();
    const id = await zone();
    const noId = (extra: Record<string, string>): Change => ({
      Action: 'UPSERT',
      ResourceRecordSet: {
        Name: 'x.example.org',
        Type: 'A',
        TTL: 60,
        ResourceRecords: [{ Value: '10.0.0.1' }],
        ...extra,
      },
    });
    const extras: Array<Record<string, string>> = [{ Failover: 'PRIMARY' }, { Region: 'sa-east-1' }];
    for (const extra of extras) {
      await expect(send(id, [noId(extra)])).rejects.toMatchObject({
        name: 'InvalidInput',
        message:
          "Invalid request: Missing field 'SetIdentifier' in Change with [Action=UPSERT, Name=x.example.org., Type=A, SetIdentifier=null]",
      });
    }
    await send(id, [
      {
        ...noId({ Region: 'sa-east-1' }),
        ResourceRecordSet: { ...noId({ Region: 'sa-east-1' }).ResourceRecordSet!, SetIdentifier: 'sa' },
      },
    ]);
  });

  it('a record whose load balancer and health check are gone can still be deleted', async () => {
    h = new Harness();
    const id = await zone();
    const { arn } = h.cloud
      .model(FakeElbv2)
      .seedLoadBalancer('sa-east-1', { name: 'drctl-nlb', dnsName: NLB_DNS });
    h.cloud.model(FakeRoute53Health).seed(HC);
    await send(id, [alias({ healthCheckId: HC })]);
    h.cloud.model(FakeElbv2).removeSeeded(arn);
    h.cloud.model(FakeRoute53Health).forget(HC);
    await send(id, [{ ...alias({ healthCheckId: HC }), Action: 'DELETE' }]);
    expect(h.cloud.model(FakeRoute53).recordsOf(id)).toHaveLength(2);
  });
});
