import { APIGatewayClient, CreateDeploymentCommand, ImportRestApiCommand } from '@aws-sdk/client-api-gateway';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeApiGateway } from '../support/fake-cloud/index.js';
import { crashEachMutatingCall, expectReadOnlyRerun } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { priorTo, upTo } from '../support/steps.js';

const STEPS_USED = upTo('api');
const PRIOR = priorTo('api');
const REGIONS = ['sa-east-1', 'us-west-1'] as const;

let h: Harness;
afterEach(() => h?.cleanup());

const count = (snap: string[], kind: string) => snap.filter((l) => l.includes(kind)).length;
const rec = (region: string) => h.outputs('api', region);
const vpceOf = (region: string) => h.outputs('endpoints', region).vpcEndpointId;

describe('api step on the fake cloud', () => {
  it('up imports one PRIVATE PetStore API per region, reachable only through that region’s endpoint, deployed to prod', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const snap = h.cloud.snapshot();
    expect(count(snap, '/restapi/')).toBe(2);
    expect(count(snap, '/stage/')).toBe(2);
    const model = h.cloud.model(FakeApiGateway);
    for (const region of REGIONS) {
      const r = rec(region);
      const vpce = vpceOf(region);
      expect(r.name).toBe('drctl-petstore');
      expect(r.invokeUrl).toBe(`https://${r.restApiId}.execute-api.${region}.amazonaws.com/prod`);
      expect(r.vpceInvokeUrl).toBe(`https://${r.restApiId}-${vpce}.execute-api.${region}.amazonaws.com/prod`);
      const api = model.region(region).restApis.get(r.restApiId)!;
      expect(api.endpointTypes).toEqual(['PRIVATE']);
      expect(api.vpcEndpointIds).toEqual([vpce]);
      expect(api.tags).toMatchObject({
        'drctl:deployment': 'drctl',
        'drctl:step': 'api',
        'drctl:region': region,
      });
      const policy = JSON.parse(api.policy!);
      expect(policy.Statement).toContainEqual({
        Effect: 'Deny',
        Principal: '*',
        Action: 'execute-api:Invoke',
        Resource: `arn:aws:execute-api:${region}:${h.cloud.account}:${r.restApiId}/*`,
        Condition: { StringNotEquals: { 'aws:SourceVpce': vpce } },
      });
      expect(policy.Statement.filter((s: any) => s.Effect === 'Allow')).toHaveLength(1);
      // The PetStore methods, plus /health answering with the region.
      expect(api.methods.map((m) => `${m.httpMethod} ${m.path}`).sort()).toEqual([
        'GET /',
        'GET /health',
        'GET /pets',
        'GET /pets/{petId}',
        'OPTIONS /pets',
        'OPTIONS /pets/{petId}',
        'POST /pets',
      ]);
      const health = api.definition.paths['/health'].get['x-amazon-apigateway-integration'];
      expect(health.type).toBe('mock');
      expect(JSON.parse(health.responses.default.responseTemplates['application/json'])).toEqual({
        status: 'ok',
        region,
      });
      expect(Object.keys(api.definition.definitions)).toEqual(
        expect.arrayContaining(['Pets', 'Pet', 'NewPet', 'PetType', 'NewPetResponse', 'Empty']),
      );
      expect(model.region(region).stages.get(r.restApiId)!.get('prod')).toBeDefined();
    }
    const imports = h.cloud.calls.filter((c) => c.command === 'ImportRestApi');
    expect(imports.map((c) => (c.input as any).parameters)).toEqual([
      { endpointConfigurationTypes: 'PRIVATE' },
      { endpointConfigurationTypes: 'PRIVATE' },
    ]);
  });

  it('running up again makes no mutating call and one read per recorded resource', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const r = await expectReadOnlyRerun(h, ['up'], STEPS_USED);
    const apiCalls = h.cloud.calls.filter((c) => c.service === 'apigateway').map((c) => c.command);
    // Plus, in the secondary, the reads comparing its API and stage with the primary's (a route
    // or stage setting changed by hand in one region: issue 25).
    const drift = ['GetResources', 'GetAuthorizers', 'GetModels'].flatMap((c) => [c, c]);
    expect(apiCalls.sort()).toEqual(
      [...drift, 'GetStage', 'GetRestApi', 'GetRestApi', 'GetStage', 'GetStage'].sort(),
    );
    const outcomes = r.events
      .filter((e) => e.type === 'step-done' && (e as any).step === 'api')
      .map((e) => (e as any).outcome);
    expect(outcomes).toEqual(['unchanged', 'unchanged']);
  });

  it('down deletes both APIs and, with the earlier steps, leaves the cloud empty', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()!.steps).toEqual({});
  });

  it('a crash right after each mutating call of the step, then up again, ends with exactly one API and stage per region', async () => {
    await crashEachMutatingCall({
      prepare: (x) => x.ok(['up'], PRIOR).then(() => undefined),
      args: ['step', 'api', '--region', 'sa-east-1'],
      deps: STEPS_USED,
      clean: (mutating) =>
        expect(mutating.map((c) => c.split(' ')[1])).toEqual([
          'ImportRestApi',
          'TagResource',
          'CreateDeployment',
        ]),
      crashedCode: 1,
      check: async (x, where) => {
        h = x;
        const snap = x.cloud.snapshot();
        expect(count(snap, '/restapi/'), where).toBe(2);
        expect(count(snap, '/stage/'), where).toBe(2);
        const api = x.cloud
          .model(FakeApiGateway)
          .region('sa-east-1')
          .restApis.get(rec('sa-east-1').restApiId)!;
        expect(api.tags['drctl:deployment'], where).toBe('drctl');
        await expectReadOnlyRerun(x, ['up'], STEPS_USED, where);
        await x.ok(['down', '--yes'], STEPS_USED);
        expect(x.cloud.snapshot(), where).toEqual([]);
      },
    });
  });

  for (const as of ['server-error', 'connection-reset'] as const) {
    it(`an import answered with a ${as === 'server-error' ? '500' : 'dropped connection'} after it was applied is adopted, not repeated: one API per region`, async () => {
      h = new Harness();
      await h.ok(['up'], PRIOR);
      h.cloud.revive(); // counts mutating calls from here: the first is an ImportRestApi
      h.cloud.faults = { failAfterApplyingMutating: 1, failAfterApplyingAs: as };
      await h.ok(['up'], STEPS_USED);
      const imports = h.cloud.calls.filter((c) => c.command === 'ImportRestApi');
      expect(imports.map((c) => c.outcome).sort()).toEqual([
        as === 'server-error' ? 'InternalFailure' : 'Error',
        'ok',
      ]);
      expect(count(h.cloud.snapshot(), '/restapi/')).toBe(2);
      for (const region of REGIONS) {
        const model = h.cloud.model(FakeApiGateway).region(region);
        expect([...model.restApis.keys()]).toEqual([rec(region).restApiId]);
      }
    });
  }

  it('down after a crash right after ImportRestApi still deletes the untagged API it made', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    h.cloud.revive();
    h.cloud.faults = { crashAfterMutating: 1 };
    await h.run(['--json', 'step', 'api', '--region', 'sa-east-1'], STEPS_USED);
    h.cloud.revive();
    expect(count(h.cloud.snapshot(), '/restapi/')).toBe(1);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('an API of the same name that is not ours is left alone and a new one is imported beside it', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    const apigw = new APIGatewayClient({ region: 'sa-east-1' });
    const foreign = await apigw.send(
      new ImportRestApiCommand({
        body: new TextEncoder().encode(
          JSON.stringify({ swagger: '2.0', info: { title: 'drctl-petstore' }, paths: {} }),
        ),
      }),
    );
    h.cloud.clock.advance(10_000);
    await h.ok(['up'], STEPS_USED);
    expect(rec('sa-east-1').restApiId).not.toBe(foreign.id);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([`apigateway/sa-east-1/restapi/${foreign.id}(drctl-petstore)`]);
  });

  it('a resource policy or endpoint association changed outside drctl is put back and redeployed', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const api = h.cloud.model(FakeApiGateway).region('us-west-1').restApis.get(rec('us-west-1').restApiId)!;
    api.policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: '*' }],
    });
    api.vpcEndpointIds = ['vpce-0000000000000bad'];
    h.cloud.clock.advance(60_000);
    h.cloud.resetCalls();
    await h.ok(['up'], STEPS_USED);
    expect(h.cloud.mutatingCalls.map((c) => c.command)).toEqual(['UpdateRestApi', 'CreateDeployment']);
    const vpce = vpceOf('us-west-1');
    expect(api.vpcEndpointIds).toEqual([vpce]);
    expect(api.policy).toContain(vpce);
    expect(api.policy).toContain('StringNotEquals');
  });

  it('the fake refuses to deploy a PRIVATE API that has no resource policy, as API Gateway does', async () => {
    h = new Harness();
    const apigw = new APIGatewayClient({ region: 'sa-east-1' });
    const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' } };
    const imported = await apigw.send(
      new ImportRestApiCommand({
        parameters: { endpointConfigurationTypes: 'PRIVATE' },
        body: new TextEncoder().encode(
          JSON.stringify({
            swagger: '2.0',
            info: { title: 'bare' },
            paths: { '/': { get: { 'x-amazon-apigateway-integration': mock } } },
          }),
        ),
      }),
    );
    await expect(
      apigw.send(new CreateDeploymentCommand({ restApiId: imported.id, stageName: 'prod' })),
    ).rejects.toMatchObject({
      name: 'BadRequestException',
      message: expect.stringMatching(/resource policy/),
    });
  });

  it('`drctl step api --region us-west-1` works alone once its inputs exist', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    h.cloud.resetCalls();
    await h.ok(['step', 'api', '--region', 'us-west-1'], STEPS_USED);
    expect(new Set(h.cloud.calls.filter((c) => c.service === 'apigateway').map((c) => c.region))).toEqual(
      new Set(['us-west-1']),
    );
    expect(h.state()!.steps.api!['us-west-1']!.status).toBe('ready');
    expect(h.state()!.steps.api!['sa-east-1']).toBeUndefined();
  });

  it('`drctl step api --region us-west-1` names the missing step when its inputs do not exist, and changes nothing', async () => {
    h = new Harness();
    await h.ok(['up'], priorTo('endpoints', 'api'));
    h.cloud.resetCalls();
    const r = await h.run(['step', 'api', '--region', 'us-west-1'], STEPS_USED);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('needs step endpoints in us-west-1');
    expect(r.stderr).toContain('drctl step endpoints --region us-west-1');
    expect(h.cloud.calls).toEqual([]);
  });
});
