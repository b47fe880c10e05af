import {
  APIGatewayClient,
  CreateBasePathMappingCommand,
  GetBasePathMappingsCommand,
  GetStageCommand,
  PutRestApiCommand,
  UpdateRestApiCommand,
  UpdateStageCommand,
} from '@aws-sdk/client-api-gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAcm } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';

// `drctl verify` compares the two regions' APIs: each kind of drift, made in one region with the
// SDK as a person would, fails verify naming its path and both values; one `drctl up` afterwards
// brings the secondary back and verify passes. One `up` before and one after: drifts accumulate.

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';
const DAY_MS = 86_400_000;

let h: Harness;
const apiId = (region: string) => h.outputs('api', region).restApiId;
const apigw = (region: string) => new APIGatewayClient({ region });
const body = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc));
const swagger = (extra: Record<string, unknown>) => ({
  swagger: '2.0',
  info: { title: 'drift' },
  ...extra,
});
const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' } };
/** A change by hand to drctl's API in `region`: `extra` merged into its definition. */
const mergeInto = (region: string, extra: Record<string, unknown>) =>
  apigw(region).send(
    new PutRestApiCommand({ restApiId: apiId(region), mode: 'merge', body: body(swagger(extra)) }),
  );

async function driftLines() {
  h.cloud.clock.advance(5 * 60_000);
  return h.verifyLines('api-drift');
}

async function expectDrift(text: string, fix: RegExp = /drctl up/): Promise<void> {
  const lines = await driftLines();
  const found = lines.find((l) => l.status === 'fail' && l.text === text);
  expect(found, JSON.stringify(lines, null, 1)).toBeDefined();
  expect(found!.fix).toMatch(fix);
}

beforeAll(async () => {
  h = new Harness();
  await h.ok(['up']);
}, 120_000);
afterAll(() => h?.cleanup());

describe('verify: drift between the regions APIs', () => {
  it('passes when both regions hold the same definition', async () => {
    const lines = await driftLines();
    expect(lines.map((l) => l.status)).toEqual(['ok']);
  });

  it('a method added in the secondary only', async () => {
    await mergeInto(SECONDARY, { paths: { '/extra': { get: { 'x-amazon-apigateway-integration': mock } } } });
    await expectDrift('/extra GET: (none) | method (primary | secondary)');
    await expectDrift('/extra: (none) | resource (primary | secondary)');
    // The definition drctl imports is the reference: the secondary is the one that moved.
    await expectDrift(
      `secondary ${SECONDARY}: its API is not what drctl's definition made`,
      /secondary's API \(us-west-1\).*drctl up/,
    );
    const lines = await driftLines();
    expect(lines.some((l) => l.text.startsWith(`primary ${PRIMARY}:`))).toBe(false);
  });

  it("an integration's timeout changed in the secondary", async () => {
    h.cloud.clock.advance(5_000);
    const integration = {
      type: 'http',
      httpMethod: 'GET',
      uri: `http://petstore.execute-api.${SECONDARY}.amazonaws.com/petstore/pets/{petId}`,
      timeoutInMillis: 5000,
    };
    await mergeInto(SECONDARY, {
      paths: { '/pets/{petId}': { get: { 'x-amazon-apigateway-integration': integration } } },
    });
    await expectDrift('/pets/{petId} GET integration timeoutInMillis: 29000 | 5000 (primary | secondary)');
  });

  it('an authorizer and a model added in the secondary', async () => {
    h.cloud.clock.advance(5_000);
    await mergeInto(SECONDARY, {
      securityDefinitions: {
        tokens: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          'x-amazon-apigateway-authorizer': {
            type: 'token',
            authorizerUri: `arn:aws:apigateway:${SECONDARY}:lambda:path/2015-03-31/functions/arn:aws:lambda:${SECONDARY}:123456789012:function:auth/invocations`,
          },
        },
      },
      definitions: { Extra: { type: 'object' } },
    });
    await expectDrift('authorizer tokens type: (none) | TOKEN (primary | secondary)');
    await expectDrift(
      'authorizer tokens authorizerUri: (none) | arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/arn:aws:lambda:{region}:{account}:function:auth/invocations (primary | secondary)',
    );
    await expectDrift('model Extra schema: (none) | {"type":"object"} (primary | secondary)');
  });

  it('stage variables, tracing and method settings changed by hand', async () => {
    await apigw(SECONDARY).send(
      new UpdateStageCommand({
        restApiId: apiId(SECONDARY),
        stageName: 'prod',
        patchOperations: [
          { op: 'replace', path: '/variables/color', value: 'blue' },
          { op: 'replace', path: '/tracingEnabled', value: 'true' },
          // Only in the secondary: a method setting of its own, a field of the shared one.
          { op: 'replace', path: '/~1pets/GET/metrics/enabled', value: 'true' },
          { op: 'replace', path: '/*/*/logging/dataTrace', value: 'true' },
        ],
      }),
    );
    // Tuned in the primary, not followed in the secondary.
    await apigw(PRIMARY).send(
      new UpdateStageCommand({
        restApiId: apiId(PRIMARY),
        stageName: 'prod',
        patchOperations: [{ op: 'replace', path: '/*/*/throttling/rateLimit', value: '100' }],
      }),
    );
    await expectDrift(
      'stage prod variable color: (none) | blue (primary | secondary)',
      /drctl up.*update-stage/,
    );
    await expectDrift(
      'stage prod tracingEnabled: false | true (primary | secondary)',
      /path=\/tracingEnabled,value=false/,
    );
    await expectDrift(
      'stage prod method */* throttlingRateLimit: 100 | (none) (primary | secondary)',
      /path=\/\*\/\*\/throttling\/rateLimit,value=100/,
    );
    await expectDrift(
      'stage prod method /pets/GET metricsEnabled: (none) | true (primary | secondary)',
      /op=remove,path=\/~1pets\/GET`/,
    );
    await expectDrift(
      'stage prod method */* dataTraceEnabled: (none) | true (primary | secondary)',
      /op=remove,path=\/\*\/\*`, then set the primary's settings of \*\/\* again/,
    );
  });

  it("the secondary's resource policy edited (endpoint ids aside)", async () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' },
      ],
    };
    await apigw(SECONDARY).send(
      new UpdateRestApiCommand({
        restApiId: apiId(SECONDARY),
        patchOperations: [{ op: 'replace', path: '/policy', value: JSON.stringify(policy) }],
      }),
    );
    const lines = await driftLines();
    expect(lines.some((l) => l.status === 'fail' && l.text.startsWith('resource policy: '))).toBe(true);
  });

  it("a base path mapping added to the secondary's custom domain", async () => {
    const domain = h.outputs('domain', SECONDARY);
    h.cloud.clock.advance(31_000);
    await apigw(SECONDARY).send(
      new CreateBasePathMappingCommand({
        domainName: domain.domainName,
        domainNameId: domain.domainNameId,
        basePath: 'v2',
        restApiId: apiId(SECONDARY),
        stage: 'prod',
      }),
    );
    await expectDrift(
      `custom domain ${domain.domainName} base path 'v2': (none) | {api} stage prod (primary | secondary)`,
      /drctl up.*removes the base path mappings drctl did not make/,
    );
    // `up` (next test) removes it: drctl makes only the root mapping on its domain.
  });

  it('after `drctl up` the secondary is the primary again and verify passes', async () => {
    h.cloud.clock.advance(60_000);
    const since = h.cloud.calls.length;
    const up = await h.ok(['up']);
    const lines = await driftLines();
    expect(lines.map((l) => `${l.status} ${l.text}`)).toEqual([expect.stringMatching(/^ok /)]);
    // Only the region that moved gets drctl's definition back.
    const puts = h.cloud.calls.slice(since).filter((c) => c.command === 'PutRestApi');
    expect(puts.map((c) => c.region)).toEqual([SECONDARY]);
    // The hand-made mapping is gone, said in a line; the root mapping stays.
    const domain = h.outputs('domain', SECONDARY);
    const mapped = await apigw(SECONDARY).send(
      new GetBasePathMappingsCommand({ domainName: domain.domainName, domainNameId: domain.domainNameId }),
    );
    expect(mapped.items?.map((m) => m.basePath)).toEqual(['(none)']);
    const said = up.events.filter((e) => e.type === 'log' && /base path mapping 'v2'/.test(e.message));
    expect(said).toHaveLength(1);
    // The secondary's stage is the primary's: its own method settings removed, not only patched.
    const stage = (region: string) =>
      apigw(region).send(new GetStageCommand({ restApiId: apiId(region), stageName: 'prod' }));
    const [ps, ss] = await Promise.all([stage(PRIMARY), stage(SECONDARY)]);
    expect(ss.methodSettings).toEqual(ps.methodSettings);
    expect(ss.methodSettings).toEqual({ '*/*': { throttlingRateLimit: 100 } });
  }, 120_000);

  it('a hand change in the primary: `up` puts the definition back there, not in the secondary', async () => {
    h.cloud.clock.advance(60_000);
    await mergeInto(PRIMARY, { paths: { '/by-hand': { get: { 'x-amazon-apigateway-integration': mock } } } });
    const primaryMoved = /primary's API \(sa-east-1\).*drctl up/;
    await expectDrift(`primary ${PRIMARY}: its API is not what drctl's definition made`, primaryMoved);
    await expectDrift('/by-hand GET: method | (none) (primary | secondary)', primaryMoved);
    const lines = await driftLines();
    expect(lines.find((l) => l.text.startsWith('/by-hand GET'))?.region).toBe(PRIMARY);
    expect(lines.some((l) => l.text.startsWith(`secondary ${SECONDARY}:`))).toBe(false);

    h.cloud.clock.advance(60_000);
    const since = h.cloud.calls.length;
    await h.ok(['up']);
    const after = h.cloud.calls.slice(since);
    expect(after.filter((c) => c.command === 'PutRestApi').map((c) => c.region)).toEqual([PRIMARY]);
    expect(after.filter((c) => c.command === 'CreateDeployment').map((c) => c.region)).toEqual([PRIMARY]);
    expect((await driftLines()).map((l) => `${l.status} ${l.text}`)).toEqual([expect.stringMatching(/^ok /)]);
  }, 120_000);

  it('certificates that expire far apart, or one soon', async () => {
    const acm = h.cloud.model(FakeAcm);
    const cert = acm.find(SECONDARY, h.outputs('ca', SECONDARY).certificateArn)!;
    const before = cert.notAfter;
    cert.notAfter = h.cloud.clock.now() + 100 * DAY_MS;
    const lines = await driftLines();
    expect(lines.find((l) => /^certificate expiry: in \d+ \| in 99 days/.test(l.text))?.status).toBe('warn');
    cert.notAfter = before;
  });
});
