import {
  APIGatewayClient,
  CreateDeploymentCommand,
  GetRestApiCommand,
  GetStagesCommand,
  ImportRestApiCommand,
  PutRestApiCommand,
  paginateGetResources,
} from '@aws-sdk/client-api-gateway';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { iamPolicy, splitPolicy } from '../../src/iam/policy.js';
import { crashEachMutatingCall, mutatingOf } from '../support/crash.js';
import { FakeApiGateway } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';
import { priorTo, upTo } from '../support/steps.js';

// Config `api: {"restApiId": ...}` (issue 25): the team's PRIVATE API in the primary, seeded here
// by "someone else" (admin, not drctl's policy). The secondary gets a copy of its export; the
// team's API gets only drctl's endpoint and one policy statement, which `down` takes back.

const STEPS_USED = upTo('api');
const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';

let h: Harness;
afterEach(() => h?.cleanup());

const mock = (status: string) => ({
  type: 'mock',
  requestTemplates: { 'application/json': '{"statusCode": 200}' },
  responses: { default: { statusCode: '200', responseTemplates: { 'application/json': status } } },
});
const get = (status: string) => ({
  get: { responses: { '200': { description: 'ok' } }, 'x-amazon-apigateway-integration': mock(status) },
});
const teamPolicy = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'TeamInvoke',
      Effect: 'Allow',
      Principal: '*',
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/*',
    },
  ],
};
const body = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc));
const apigw = (region = PRIMARY) => new APIGatewayClient({ region });

/** The team's API: PRIVATE (unless `type` says), GET /health and /pets, deployed to prod. */
async function seedApi(x: Harness, type = 'PRIVATE'): Promise<string> {
  return x.cloud.authorizer.asAdmin(async () => {
    const api = await apigw().send(
      new ImportRestApiCommand({
        parameters: { endpointConfigurationTypes: type },
        body: body({
          openapi: '3.0.1',
          info: { title: 'team-orders', version: '1' },
          paths: { '/health': get('{"ok":true}'), '/pets': get('[]') },
          'x-amazon-apigateway-policy': teamPolicy,
        }),
      }),
    );
    await apigw().send(new CreateDeploymentCommand({ restApiId: api.id!, stageName: 'prod' }));
    x.cloud.clock.advance(10_000);
    return api.id!;
  });
}

/** The team changes its API by hand: a route added, deployed. */
async function addRoute(x: Harness, restApiId: string) {
  await x.cloud.authorizer.asAdmin(async () => {
    x.cloud.clock.advance(10_000);
    await apigw().send(
      new PutRestApiCommand({
        restApiId,
        mode: 'merge',
        body: body({
          openapi: '3.0.1',
          info: { title: 'team-orders', version: '2' },
          paths: { '/orders': get('[]') },
        }),
      }),
    );
    await apigw().send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
    x.cloud.clock.advance(10_000);
  });
}

/** The team's API as AWS describes it (what `down` must leave as it found it). */
async function teamApi(x: Harness, restApiId: string) {
  return x.cloud.authorizer.asAdmin(async () => {
    const api = await apigw().send(new GetRestApiCommand({ restApiId }));
    const resources = [];
    for await (const p of paginateGetResources({ client: apigw() }, { restApiId }))
      resources.push(...(p.items ?? []));
    const stages = (await apigw().send(new GetStagesCommand({ restApiId }))).item;
    return JSON.parse(
      JSON.stringify({ api, resources, stages }, (k, v) => (k === '$metadata' ? undefined : v)),
    );
  });
}

const methodsIn = (region: string, restApiId: string) =>
  h.cloud
    .model(FakeApiGateway)
    .region(region)
    .restApis.get(restApiId)!
    .methods.map((m) => `${m.httpMethod} ${m.path}`)
    .sort();

function useApi(restApiId: string, extra: Record<string, unknown> = {}) {
  h.writeConfig({ api: { restApiId, healthPath: '/health', ...extra } });
}

async function expectRefused(pattern: RegExp) {
  const before = h.cloud.snapshot();
  const r = await h.run(['up'], STEPS_USED);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(pattern);
  expect(h.cloud.snapshot()).toEqual(before);
  expect(h.state()).toBeUndefined();
}

describe('api step with an existing API of the team’s (api.restApiId)', () => {
  it('copies the primary’s API into the secondary and admits drctl’s endpoint in the primary', async () => {
    h = new Harness();
    const id = await seedApi(h);
    useApi(id);
    h.cloud.resetCalls();
    const up = await h.ok(['up'], STEPS_USED);
    // The statement takes effect on the team's next deployment, which drctl leaves to them.
    expect(up.stdout + up.stderr).toMatch(
      new RegExp(
        `takes effect only when stage prod is deployed again: .*create-deployment --rest-api-id ${id} `,
      ),
    );
    expect(h.outputs('api', PRIMARY).restApiId).toBe(id);
    const copy = h.outputs('api', SECONDARY);
    expect(copy.restApiId).not.toBe(id);
    const model = h.cloud.model(FakeApiGateway);
    const copied = model.region(SECONDARY).restApis.get(copy.restApiId)!;
    expect(copied.name).toBe('drctl-api');
    expect(copied.endpointTypes).toEqual(['PRIVATE']);
    expect(copied.vpcEndpointIds).toEqual([h.outputs('endpoints', SECONDARY).vpcEndpointId]);
    expect(methodsIn(SECONDARY, copy.restApiId)).toEqual(['GET /health', 'GET /pets']);
    expect(model.region(SECONDARY).stages.get(copy.restApiId)!.get('prod')).toBeDefined();
    const team = model.region(PRIMARY).restApis.get(id)!;
    const vpce = h.outputs('endpoints', PRIMARY).vpcEndpointId;
    expect(team.vpcEndpointIds).toEqual([vpce]);
    const sids = JSON.parse(team.policy!).Statement.map((s: { Sid: string }) => s.Sid);
    expect(sids).toEqual(['TeamInvoke', 'drctlAdmitdrctl']);
    // Nothing of the team's API was rewritten or redeployed.
    expect(
      h.cloud.calls.filter((c) => c.region === PRIMARY && /PutRestApi|CreateDeployment/.test(c.command)),
    ).toEqual([]);
  });

  it('the primary’s definition changed between two ups: plan says up checks, up updates the copy', async () => {
    h = new Harness();
    const id = await seedApi(h);
    useApi(id);
    await h.ok(['up'], STEPS_USED);
    await addRoute(h, id);
    const plan = await h.run(['plan'], STEPS_USED);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/api us-west-1: plan cannot know .*; up checks/);
    h.cloud.resetCalls();
    await h.ok(['up'], STEPS_USED);
    const copy = h.outputs('api', SECONDARY).restApiId;
    expect(methodsIn(SECONDARY, copy)).toEqual(['GET /health', 'GET /orders', 'GET /pets']);
    const calls = h.cloud.calls.filter((c) => c.region === SECONDARY).map((c) => c.command);
    expect(calls).toContain('PutRestApi');
    expect(calls).toContain('CreateDeployment');
  });

  it('plan --refresh shows the copy behind the primary, up makes it follow, then no change', async () => {
    h = new Harness();
    const id = await seedApi(h);
    useApi(id);
    await h.ok(['up'], STEPS_USED);
    const config = loadConfig({ cwd: h.dir }).config;
    const refresh = async () => {
      // Only the --read-only policy: plan --refresh needs no more, and changes nothing.
      h.cloud.authorizer.policies = splitPolicy(
        iamPolicy(config, { account: h.cloud.account, readOnly: true }),
      );
      h.cloud.resetCalls();
      const before = h.cloud.snapshot();
      const r = await h.run(['plan', '--refresh'], STEPS_USED);
      expect(r.code, r.stderr).toBe(0);
      expect(h.cloud.mutatingCalls).toEqual([]);
      expect(h.cloud.authorizer.refusals).toEqual([]);
      expect(h.cloud.snapshot()).toEqual(before);
      expect(h.cloud.calls.some((c) => c.command === 'GetCallerIdentity')).toBe(true);
      return r.stdout;
    };
    expect(await refresh()).toMatch(/api us-west-1: no change \(the copy equals the primary's stage prod\)/);
    await addRoute(h, id);
    const behind = await refresh();
    expect(behind).toContain("api us-west-1: update (the primary's API changed since the last up)");
    expect(behind).toMatch(/api\s+sa-east-1: no change, us-west-1: update in place \(the primary's API/);
    expect(behind).toMatch(/plan: 0 to create, 1 to update in place, 0 to replace, 0 to delete/);
    const json = await h.run(['--json', 'plan', '--refresh'], STEPS_USED);
    expect(json.summary).toMatchObject({
      refreshed: { copyBehind: true },
      counts: { update: 1 },
    });
    // Plain plan stays offline, and says how to find out.
    h.cloud.resetCalls();
    const offline = await h.run(['plan'], STEPS_USED);
    expect(offline.stdout).toContain("run `drctl plan --refresh` to compare with the primary's API");
    expect(h.cloud.calls).toEqual([]);

    h.cloud.authorizer.policies = h.cloud.authorizer.drctlPolicy(config);
    // Asked at a terminal, up names the change and asks before it makes it.
    const asked: string[] = [];
    const no = await h.run(
      ['up'],
      { ...STEPS_USED, isTTY: true, confirm: (q: string) => (asked.push(q), Promise.resolve('no')) },
      { autoYes: false },
    );
    expect(no.code).toBe(2);
    expect(no.stdout + no.stderr).toMatch(
      /up will apply the change above: 0 to create, 1 to update in place/,
    );
    expect(asked).toEqual([expect.stringMatching(/^Apply these changes in account/)]);
    h.cloud.resetCalls();
    const up = await h.ok(['up'], STEPS_USED);
    // up says what plan --refresh said, then does it.
    expect(up.stdout + up.stderr).toContain(
      "api us-west-1: update (the primary's API changed since the last up)",
    );
    const copy = h.outputs('api', SECONDARY).restApiId;
    expect(methodsIn(SECONDARY, copy)).toEqual(['GET /health', 'GET /orders', 'GET /pets']);
    expect(mutatingOf(h)).toEqual(
      expect.arrayContaining([`${SECONDARY} PutRestApi`, `${SECONDARY} CreateDeployment`]),
    );
    expect(await refresh()).toMatch(/api us-west-1: no change \(the copy equals the primary's stage prod\)/);
    expect(await refresh()).toMatch(/plan: no changes/);
  });

  it('down leaves the team’s API exactly as it was before drctl', async () => {
    h = new Harness();
    const id = await seedApi(h);
    const before = await teamApi(h, id);
    useApi(id);
    await h.ok(['up'], STEPS_USED);
    expect(await teamApi(h, id)).not.toEqual(before);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(await teamApi(h, id)).toEqual(before);
    expect(h.cloud.model(FakeApiGateway).region(SECONDARY).restApis.size).toBe(0);
  });

  it('refuses an id that is not in the primary region', async () => {
    h = new Harness();
    await seedApi(h);
    useApi('zzzzzzzzzz');
    await expectRefused(/no REST API zzzzzzzzzz in the primary region sa-east-1/);
  });

  it('refuses an API that is not PRIVATE', async () => {
    h = new Harness();
    const id = await seedApi(h, 'REGIONAL');
    useApi(id);
    await expectRefused(/REST API \w+ in sa-east-1 is REGIONAL, not PRIVATE/);
  });

  it('refuses a healthPath that is not a GET method of the API', async () => {
    h = new Harness();
    const id = await seedApi(h);
    useApi(id, { healthPath: '/status' });
    await expectRefused(/api\.healthPath \/status is not a GET method of REST API/);
  });

  it('a crash after each mutating call of up, then up again, ends with one copy and the endpoint admitted', async () => {
    let id = '';
    await crashEachMutatingCall({
      prepare: async (x) => {
        h = x;
        id = await seedApi(x);
        useApi(id);
        await x.ok(['up'], priorTo('api'));
      },
      args: ['up'],
      deps: STEPS_USED,
      check: (x, where) => {
        const model = x.cloud.model(FakeApiGateway);
        expect(model.region(SECONDARY).restApis.size, where).toBe(1);
        const team = model.region(PRIMARY).restApis.get(id)!;
        expect(team.vpcEndpointIds, where).toEqual([x.outputs('endpoints', PRIMARY).vpcEndpointId]);
        expect(JSON.parse(team.policy!).Statement, where).toHaveLength(2);
      },
    });
  });
});
