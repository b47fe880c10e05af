import {
  APIGatewayClient,
  CreateDeploymentCommand,
  DeleteStageCommand,
  UpdateRestApiCommand,
  GetRestApiCommand,
  GetExportCommand,
  GetStagesCommand,
  paginateGetResources,
} from '@aws-sdk/client-api-gateway';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { iamPolicy, splitPolicy } from '../../src/iam/policy.js';
import { crashEachMutatingCall, mutatingOf } from '../support/crash.js';
import { FakeApiGateway } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';
import { priorTo, upTo } from '../support/steps.js';
import { mergePaths, seedTeamApi, teamGet, teamPolicy as teamPolicyOf } from '../support/team-api.js';
import { teamEndpoint, teamEndpointVpc } from '../support/team-network.js';

// Config `api: {"restApiId": ...}` (issue 25): the team's PRIVATE API in the primary, seeded here
// by "someone else" (admin, not drctl's policy). The secondary gets a copy of its export; the
// team's API gets only drctl's endpoint and one policy statement, which `down` takes back.

const STEPS_USED = upTo('api');
const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';

let h: Harness;
afterEach(() => h?.cleanup());

const get = teamGet;
const teamPolicy = teamPolicyOf();

/** The team's policy admitting only calls through their own endpoint `vpce`. */
const onlyThrough = (vpce: string) => ({
  Version: '2012-10-17',
  Statement: [{ ...teamPolicy.Statement[0], Condition: { StringEquals: { 'aws:SourceVpce': vpce } } }],
});
const apigw = (region = PRIMARY) => new APIGatewayClient({ region });

/** The team's API: PRIVATE (unless `type` says), GET /health and /pets, deployed to prod. */
async function seedApi(x: Harness, type = 'PRIVATE', policy: unknown = teamPolicy): Promise<string> {
  const id = await seedTeamApi(x.cloud, PRIMARY, {
    paths: { '/health': get('{"ok":true}'), '/pets': get('[]') },
    policy,
    type,
  });
  x.cloud.clock.advance(10_000);
  return id;
}

const fn = (region: string) => `arn:aws:lambda:${region}:123456789012:function:orders`;
const authFn = (region: string) => `arn:aws:lambda:${region}:123456789012:function:auth`;
const lambdaUri = (region: string, arn: string) =>
  `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`;

/** The team's API with GET /orders on its Lambda in the primary, behind a Lambda authorizer. */
async function seedLambdaApi(x: Harness, orders?: Record<string, unknown>): Promise<string> {
  const lambda = {
    get: {
      responses: { '200': { description: 'ok' } },
      security: [{ team: [] }],
      'x-amazon-apigateway-integration': {
        type: 'aws_proxy',
        httpMethod: 'POST',
        uri: lambdaUri(PRIMARY, fn(PRIMARY)),
        credentials: 'arn:aws:iam::210987654321:role/team-invoke',
      },
    },
  };
  const authorizer = {
    type: 'apiKey',
    name: 'Authorization',
    in: 'header',
    'x-amazon-apigateway-authtype': 'custom',
    'x-amazon-apigateway-authorizer': { type: 'token', authorizerUri: lambdaUri(PRIMARY, authFn(PRIMARY)) },
  };
  const id = await seedTeamApi(x.cloud, PRIMARY, {
    paths: { '/health': get('{"ok":true}'), ...(orders ?? { '/orders': lambda }) },
    extra: { components: { securitySchemes: { team: authorizer } } },
  });
  x.cloud.clock.advance(10_000);
  return id;
}

/** The team changes its API by hand: a route added, deployed. */
async function addRoute(x: Harness, restApiId: string) {
  x.cloud.clock.advance(10_000);
  await mergePaths(x.cloud, PRIMARY, restApiId, { '/orders': get('[]') });
  x.cloud.clock.advance(10_000);
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

/** verify's lines about the team's API admitting drctl's endpoint. */
const admitLines = () => h.verifyLines('api-admits', STEPS_USED);

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

/** The team's VPCs, their own endpoint in the primary, their API admitting only it; the config using them. */
async function ownEndpointSetup() {
  const theirs = await teamEndpointVpc(h, PRIMARY, '10.20.0.0/16');
  const other = await teamEndpointVpc(h, SECONDARY, '10.30.0.0/16');
  const net = {
    vpcId: theirs.vpcId,
    subnets: theirs.subnets,
    endpointId: await teamEndpoint(h, PRIMARY, theirs),
  };
  h.cloud.clock.advance(5 * 60_000);
  const id = await seedApi(h, 'PRIVATE', onlyThrough(net.endpointId));
  h.writeConfig({
    api: { restApiId: id, healthPath: '/health' },
    primary: {
      region: PRIMARY,
      vpcCidr: '10.20.0.0/16',
      vpcId: net.vpcId,
      subnetIds: net.subnets,
      endpointId: net.endpointId,
    },
    secondary: { region: SECONDARY, vpcCidr: '10.30.0.0/16', vpcId: other.vpcId, subnetIds: other.subnets },
    peering: 'existing',
  });
  return { id, net };
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

  it('plan --refresh before the copy is made says up makes it; with the team’s stage prod gone, says so', async () => {
    h = new Harness();
    const id = await seedApi(h);
    useApi(id);
    const first = await h.run(['plan', '--refresh'], STEPS_USED);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(
      "api us-west-1: no copy made yet: up makes it from the primary's stage prod",
    );
    expect(first.stdout).not.toContain('run `drctl plan --refresh`');
    await h.ok(['up'], STEPS_USED);
    await h.cloud.authorizer.asAdmin(() =>
      apigw().send(new DeleteStageCommand({ restApiId: id, stageName: 'prod' })),
    );
    const gone = await h.run(['plan', '--refresh'], STEPS_USED);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toContain("api us-west-1: the primary's stage prod is gone: nothing to copy");
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

  it('without api.deploy, verify fails naming create-deployment until the team deploys', async () => {
    h = new Harness();
    const id = await seedApi(h, 'PRIVATE', onlyThrough('vpce-0aaaaaaaaaaaaaaa0'));
    useApi(id);
    await h.ok(['up'], STEPS_USED);
    const vpce = h.outputs('endpoints', PRIMARY).vpcEndpointId;
    const invoke = () =>
      h.cloud
        .model(FakeApiGateway)
        .invoke(PRIMARY, { restApiId: id, stage: 'prod', path: '/health', vpceId: vpce });
    // The statement is in the policy but not deployed: the primary refuses drctl's endpoint.
    expect(invoke().status).toBe(403);
    const before = await admitLines();
    expect(before).toHaveLength(1);
    expect(before[0]!.status).toBe('fail');
    expect(before[0]!.text).toContain(`primary REST API ${id} admits drctl's endpoint ${vpce}`);
    expect(before[0]!.fix).toContain(
      `aws apigateway create-deployment --rest-api-id ${id} --stage-name prod --region ${PRIMARY}`,
    );
    const status = await h.run(['status', '--refresh'], STEPS_USED);
    expect(status.stdout).toContain(`NOT IN EFFECT: primary REST API ${id} admits drctl's endpoint ${vpce}`);
    await h.cloud.authorizer.asAdmin(() =>
      apigw().send(new CreateDeploymentCommand({ restApiId: id, stageName: 'prod' })),
    );
    expect(invoke().status).toBe(200);
    expect((await h.run(['status', '--refresh'], STEPS_USED)).stdout).not.toContain('NOT IN EFFECT');
    expect((await admitLines()).map((l) => l.status)).toEqual(['ok']);
  });

  it('with api.deploy true, up deploys stage prod and verify passes right after', async () => {
    h = new Harness();
    const id = await seedApi(h);
    useApi(id, { deploy: true });
    const up = await h.ok(['up'], STEPS_USED);
    expect(up.stdout + up.stderr).toMatch(
      /deploying stage prod \(api\.deploy\): this ships its current definition/,
    );
    const vpce = h.outputs('endpoints', PRIMARY).vpcEndpointId;
    const answer = h.cloud
      .model(FakeApiGateway)
      .invoke(PRIMARY, { restApiId: id, stage: 'prod', path: '/health', vpceId: vpce });
    expect(answer.status).toBe(200);
    const lines = await admitLines();
    expect(
      lines.map((l) => l.status),
      JSON.stringify(lines),
    ).toEqual(['ok']);
    // A second up finds the statement in effect: no other deployment.
    h.cloud.resetCalls();
    await h.ok(['up'], STEPS_USED);
    expect(h.cloud.calls.filter((c) => c.region === PRIMARY && c.command === 'CreateDeployment')).toEqual([]);
    // down still takes back exactly drctl's statement.
    await h.ok(['down', '--yes'], STEPS_USED);
    const sids = JSON.parse(
      h.cloud.model(FakeApiGateway).region(PRIMARY).restApis.get(id)!.policy!,
    ).Statement.map((st: { Sid: string }) => st.Sid);
    expect(sids).toEqual(['TeamInvoke']);
  });

  it('drctl’s endpoint is the team’s own and their deployed policy admits it: no statement added', async () => {
    h = new Harness();
    const { id, net } = await ownEndpointSetup();
    const before = h.cloud.model(FakeApiGateway).region(PRIMARY).restApis.get(id)!.policy;
    const up = await h.ok(['up'], STEPS_USED);
    expect(h.outputs('endpoints', PRIMARY).vpcEndpointId).toBe(net.endpointId);
    expect(up.stdout + up.stderr).not.toMatch(/takes effect only when/);
    expect(h.cloud.model(FakeApiGateway).region(PRIMARY).restApis.get(id)!.policy).toBe(before);
    expect((await admitLines()).map((l) => l.status)).toEqual(['ok']);
  });

  it('the team’s own endpoint, admitted by the deployed policy but no longer by the current one: statement added', async () => {
    h = new Harness();
    const { id, net } = await ownEndpointSetup();
    // The team narrowed their policy to another endpoint and has not deployed it yet: the next
    // deployment would refuse their endpoint, so drctl's statement is still needed.
    await h.cloud.authorizer.asAdmin(() =>
      apigw().send(
        new UpdateRestApiCommand({
          restApiId: id,
          patchOperations: [
            { op: 'replace', path: '/policy', value: JSON.stringify(onlyThrough('vpce-0bbbbbbbbbbbbbbb0')) },
          ],
        }),
      ),
    );
    await h.ok(['up'], STEPS_USED);
    const sids = JSON.parse(
      h.cloud.model(FakeApiGateway).region(PRIMARY).restApis.get(id)!.policy!,
    ).Statement.map((st: { Sid?: string }) => st.Sid);
    expect(sids).toEqual(['TeamInvoke', 'drctlAdmitdrctl']);
    expect(net.endpointId).toMatch(/^vpce-/);
  });

  it('refuses up when a Deny of the team’s policy (AWS’s own example) refuses drctl’s new endpoint', async () => {
    h = new Harness();
    // AWS's private-API example: Allow + Deny StringNotEquals aws:SourceVpce [their endpoints];
    // real exports spell the key "aws:sourceVpce" (condition keys are case-insensitive).
    const policy = {
      Version: '2012-10-17',
      Statement: [
        teamPolicy.Statement[0],
        {
          Sid: 'OnlyOurEndpoint',
          Effect: 'Deny',
          Principal: '*',
          Action: 'execute-api:Invoke',
          Resource: 'execute-api:/*',
          Condition: { StringNotEquals: { 'aws:sourceVpce': ['vpce-0aaaaaaaaaaaaaaa0'] } },
        },
      ],
    };
    const id = await seedApi(h, 'PRIVATE', policy);
    useApi(id);
    await expectRefused(
      /api\.restApiId: the policy of REST API \w+ in sa-east-1 denies the endpoint drctl makes/,
    );
    const r = await h.run(['up'], STEPS_USED);
    expect(r.stderr).toContain('Sid OnlyOurEndpoint');
    expect(r.stderr).toMatch(/primary\.endpointId/);
  });

  it('verify fails when a Deny the team deployed after up refuses drctl’s endpoint', async () => {
    h = new Harness();
    const id = await seedApi(h);
    useApi(id, { deploy: true });
    await h.ok(['up'], STEPS_USED);
    expect((await admitLines()).map((l) => l.status)).toEqual(['ok']);
    const live = h.cloud.model(FakeApiGateway).region(PRIMARY).restApis.get(id)!.policy!;
    const doc = JSON.parse(live);
    doc.Statement.push({
      Sid: 'OnlyOurEndpoint',
      Effect: 'Deny',
      Principal: '*',
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/*',
      Condition: { StringNotEquals: { 'aws:SourceVpce': 'vpce-0aaaaaaaaaaaaaaa0' } },
    });
    await h.cloud.authorizer.asAdmin(async () => {
      await apigw().send(
        new UpdateRestApiCommand({
          restApiId: id,
          patchOperations: [{ op: 'replace', path: '/policy', value: JSON.stringify(doc) }],
        }),
      );
      h.cloud.clock.advance(10_000);
      await apigw().send(new CreateDeploymentCommand({ restApiId: id, stageName: 'prod' }));
    });
    const vpce = h.outputs('endpoints', PRIMARY).vpcEndpointId;
    expect(
      h.cloud
        .model(FakeApiGateway)
        .invoke(PRIMARY, { restApiId: id, stage: 'prod', path: '/health', vpceId: vpce }).status,
    ).toBe(403);
    expect((await admitLines()).map((l) => l.status)).toEqual(['fail']);
  });

  it('verify says `drctl up` when the team removed drctl’s statement from the current policy', async () => {
    h = new Harness();
    const id = await seedApi(h, 'PRIVATE', onlyThrough('vpce-0aaaaaaaaaaaaaaa0'));
    useApi(id);
    await h.ok(['up'], STEPS_USED);
    await h.cloud.authorizer.asAdmin(() =>
      apigw().send(
        new UpdateRestApiCommand({
          restApiId: id,
          patchOperations: [
            { op: 'replace', path: '/policy', value: JSON.stringify(onlyThrough('vpce-0aaaaaaaaaaaaaaa0')) },
          ],
        }),
      ),
    );
    const lines = await admitLines();
    expect(lines.map((l) => l.status)).toEqual(['fail']);
    expect(lines[0]!.fix).toMatch(/no longer in its policy: run `drctl up`/);
  });

  it('a canary on stage prod: api.deploy is refused, and the advice says the deployment goes to the canary', async () => {
    h = new Harness();
    const id = await seedApi(h, 'PRIVATE', onlyThrough('vpce-0aaaaaaaaaaaaaaa0'));
    await h.cloud.authorizer.asAdmin(async () => {
      await apigw().send(
        new CreateDeploymentCommand({
          restApiId: id,
          stageName: 'prod',
          canarySettings: { percentTraffic: 10 },
        }),
      );
      h.cloud.clock.advance(10_000);
    });
    useApi(id, { deploy: true });
    await expectRefused(/stage prod of REST API \w+ in sa-east-1 has a canary/);
    expect((await h.run(['up'], STEPS_USED)).stderr).toMatch(/Promote or remove the canary/);
    useApi(id);
    const up = await h.ok(['up'], STEPS_USED);
    expect(up.stdout + up.stderr).toMatch(/this deploys to the canary/);
    const lines = await admitLines();
    expect(lines.map((l) => l.status)).toEqual(['fail']);
    expect(lines[0]!.fix).toMatch(/this deploys to the canary/);
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

  it('refuses an integration that calls the primary region, naming api.secondaryValues', async () => {
    h = new Harness();
    const id = await seedLambdaApi(h);
    useApi(id);
    await expectRefused(
      new RegExp(
        `api\\.secondaryValues: the uri of GET /orders \\(REST API ${id}\\) names sa-east-1,\n` +
          `so the copy in us-west-1 would call sa-east-1:\n  arn:aws:apigateway:sa-east-1:lambda:path/.*${fn(PRIMARY)}/invocations`,
      ),
    );
    const r = await h.run(['up'], STEPS_USED);
    const [from, to] = [lambdaUri(PRIMARY, fn(PRIMARY)), lambdaUri(SECONDARY, fn(SECONDARY))];
    expect(r.stderr).toContain(`"${from}":\n      "${to}"`);
  });

  it('refuses an authorizer that calls the primary region', async () => {
    h = new Harness();
    const id = await seedLambdaApi(h, { '/orders': get('[]') });
    useApi(id);
    await expectRefused(/api\.secondaryValues: the authorizerUri of authorizer team \(REST API/);
  });

  it('with api.secondaryValues the copy calls the secondary’s Lambda, and verify sees no drift', async () => {
    h = new Harness();
    const id = await seedLambdaApi(h);
    const mapped = Object.fromEntries(
      // Named otherwise in the secondary: region masks alone would not hide the difference.
      [fn, authFn].map((f) => [lambdaUri(PRIMARY, f(PRIMARY)), lambdaUri(SECONDARY, `${f(SECONDARY)}-dr`)]),
    );
    useApi(id, { secondaryValues: { ...mapped } });
    await h.ok(['up'], STEPS_USED);
    const copy = h.outputs('api', SECONDARY).restApiId;
    const model = h.cloud.model(FakeApiGateway).region(SECONDARY).restApis.get(copy)!;
    const orders = model.methods.find((m) => m.path === '/orders')!;
    expect(JSON.stringify(orders)).toContain(lambdaUri(SECONDARY, `${fn(SECONDARY)}-dr`));
    expect(JSON.stringify(orders)).not.toContain(PRIMARY);
    // The export names each integration's cacheNamespace (by default its resource's id, which
    // differs per API): the copy is imported with the primary's, so verify sees none differ.
    const namespace = (region: string, restApiId: string) =>
      h.cloud.authorizer.asAdmin(async () => {
        const out = await apigw(region).send(
          new GetExportCommand({
            restApiId,
            stageName: 'prod',
            exportType: 'oas30',
            parameters: { extensions: 'apigateway' },
          }),
        );
        const doc = JSON.parse(new TextDecoder().decode(out.body));
        return doc.paths['/orders'].get['x-amazon-apigateway-integration'].cacheNamespace as string;
      });
    const primaryNamespace = await namespace(PRIMARY, id);
    expect(primaryNamespace).toMatch(/^\w{10}$/);
    expect(await namespace(SECONDARY, copy)).toBe(primaryNamespace);
    const drift = await h.verifyLines('api-drift', STEPS_USED);
    expect(
      drift.map((l) => `${l.status} ${l.text}`),
      JSON.stringify(drift, null, 1),
    ).toEqual([expect.stringMatching(/^ok /)]);
    // A change of the mapping is an update of the secondary's copy.
    useApi(id, {
      secondaryValues: {
        ...mapped,
        [lambdaUri(PRIMARY, fn(PRIMARY))]: lambdaUri(SECONDARY, `${fn(SECONDARY)}2`),
      },
    });
    const plan = await h.run(['plan'], STEPS_USED);
    expect(plan.stdout).toMatch(/api\.secondaryValues/);
    expect(plan.stdout).toMatch(/us-west-1: update in place \(api\.secondaryValues\./);
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
