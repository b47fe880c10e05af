import { APIGatewayClient, PutRestApiCommand } from '@aws-sdk/client-api-gateway';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeApiGateway } from '../support/fake-cloud/index.js';
import { crashEachMutatingCall, expectReadOnlyRerun } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { priorTo, upTo } from '../support/steps.js';

// config `api: {"openapi": ...}`: the team's own file, imported PRIVATE in both regions with its
// per-region values, and each way it is refused before anything is made.

const STEPS_USED = upTo('api');
const REGIONS = ['sa-east-1', 'us-west-1'] as const;
const SAMPLE = fileURLToPath(new URL('../../examples/orders-api.openapi.json', import.meta.url));
const SAMPLE_YAML = fileURLToPath(new URL('../../examples/orders-api.openapi.yaml', import.meta.url));
const sample = () => JSON.parse(readFileSync(SAMPLE, 'utf8'));
const fnArn = (region: string) => `arn:aws:lambda:${region}:111122223333:function:orders`;
const regionValues = Object.fromEntries(REGIONS.map((r) => [r, { ordersFunctionArn: fnArn(r) }]));

let h: Harness;
afterEach(() => h?.cleanup());

/** Write `doc` (an object, or text as is) beside the config and point `api` at it. */
function useFile(doc: unknown, api: Record<string, unknown> = {}, name = 'orders.json') {
  writeFileSync(join(h.dir, name), typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  h.writeConfig({ api: { openapi: name, regionValues, ...api } });
}

async function expectRefused(pattern: RegExp) {
  const r = await h.run(['up'], STEPS_USED);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(pattern);
  expect(h.cloud.snapshot()).toEqual([]);
  expect(h.state()).toBeUndefined();
  return r;
}

describe('api step with the team’s own OpenAPI file', () => {
  it('imports the sample file PRIVATE in both regions, each calling its own region’s Lambda function', async () => {
    h = new Harness();
    h.writeConfig({ api: { openapi: SAMPLE, regionValues } });
    await h.ok(['up'], STEPS_USED);
    const model = h.cloud.model(FakeApiGateway);
    for (const region of REGIONS) {
      const r = h.outputs('api', region);
      const api = model.region(region).restApis.get(r.restApiId)!;
      expect(api.name).toBe('drctl-api');
      expect(api.endpointTypes).toEqual(['PRIVATE']);
      expect(api.vpcEndpointIds).toEqual([h.outputs('endpoints', region).vpcEndpointId]);
      expect(api.description).toContain('(drctl:deployment=drctl)');
      const uri = `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${fnArn(region)}/invocations`;
      expect(api.methods.map((m) => [`${m.httpMethod} ${m.path}`, m.integrationUri]).sort()).toEqual([
        ['GET /health', undefined],
        ['GET /orders', uri],
        ['POST /orders', uri],
      ]);
      const health = api.definition.paths['/health'].get['x-amazon-apigateway-integration'];
      expect(JSON.parse(health.responses.default.responseTemplates['application/json'])).toEqual({
        status: 'ok',
        region,
      });
      expect(JSON.parse(api.policy!).Statement).toHaveLength(2);
      expect(model.region(region).stages.get(r.restApiId)!.get('prod')).toBeDefined();
    }
    const imports = h.cloud.calls.filter((c) => c.command === 'ImportRestApi');
    expect(imports.map((c) => (c.input as any).failOnWarnings)).toEqual([true, true]);
  });

  it('up again with the same file makes no mutating call', async () => {
    h = new Harness();
    useFile(sample());
    await h.ok(['up'], STEPS_USED);
    await expectReadOnlyRerun(h, ['up'], STEPS_USED);
  });

  it('a crash after each mutating call of the step, then up again, ends with one API and stage per region', async () => {
    await crashEachMutatingCall({
      prepare: async (x) => {
        h = x;
        useFile(sample());
        await x.ok(['up'], priorTo('api'));
      },
      args: ['step', 'api', '--region', 'sa-east-1'],
      deps: STEPS_USED,
      clean: (mutating) =>
        expect(mutating.map((c) => c.split(' ')[1])).toEqual([
          'ImportRestApi',
          'TagResource',
          'UpdateRestApi',
          'CreateDeployment',
        ]),
      crashedCode: 1,
      check: async (x, where) => {
        h = x;
        await x.ok(['up'], STEPS_USED);
        const snap = x.cloud.snapshot();
        expect(snap.filter((l) => l.includes('/restapi/')).length, where).toBe(2);
        expect(snap.filter((l) => l.includes('/stage/')).length, where).toBe(2);
        await expectReadOnlyRerun(x, ['up'], STEPS_USED, where);
        await x.ok(['down', '--yes'], STEPS_USED);
        expect(x.cloud.snapshot(), where).toEqual([]);
      },
    });
  });

  it('a change of the file shows in plan and up overwrites and redeploys both copies', async () => {
    h = new Harness();
    useFile(sample());
    await h.ok(['up'], STEPS_USED);
    const changed = sample();
    changed.paths['/orders/{id}'] = { get: changed.paths['/orders'].get };
    useFile(changed);
    const plan = await h.run(['plan'], STEPS_USED);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/api\.definitionSha: "[0-9a-f]{16}" -> "[0-9a-f]{16}"/);
    expect(plan.stdout).toMatch(
      /api +sa-east-1: update in place \(api\.definitionSha\), us-west-1: update in place \(api\.definitionSha\)/,
    );
    const before = h.cloud.calls.length;
    await h.ok(['up'], STEPS_USED);
    const mutating = h.cloud.calls
      .slice(before)
      .filter((c) => c.service === 'apigateway' && c.outcome === 'ok');
    expect(mutating.filter((c) => c.command === 'PutRestApi')).toHaveLength(2);
    expect(mutating.filter((c) => c.command === 'CreateDeployment')).toHaveLength(2);
    const model = h.cloud.model(FakeApiGateway);
    for (const region of REGIONS) {
      const api = model.region(region).restApis.get(h.outputs('api', region).restApiId)!;
      expect(api.methods.find((m) => m.path === '/orders/{id}')?.integrationUri).toContain(fnArn(region));
    }
  });

  it('a hand change in either region: up puts the file back there only, and redeploys there', async () => {
    h = new Harness();
    useFile(sample());
    await h.ok(['up'], STEPS_USED);
    const model = h.cloud.model(FakeApiGateway);
    const methods = (region: string) =>
      model
        .region(region)
        .restApis.get(h.outputs('api', region).restApiId)!
        .methods.map((m) => `${m.path} ${m.httpMethod}`)
        .sort();
    const asImported = methods(REGIONS[0]);
    for (const region of REGIONS) {
      // A route added in the console: PutRestApi merge, as the console's import does.
      const doc = { swagger: '2.0', info: { title: 'by hand' }, paths: { '/by-hand': { get: {} } } };
      await new APIGatewayClient({ region }).send(
        new PutRestApiCommand({
          restApiId: h.outputs('api', region).restApiId,
          mode: 'merge',
          body: new TextEncoder().encode(JSON.stringify(doc)),
        }),
      );
      expect(methods(region)).toContain('/by-hand GET');
      h.cloud.clock.advance(60_000);
      const before = h.cloud.calls.length;
      await h.ok(['up'], STEPS_USED);
      const done = h.cloud.calls.slice(before).filter((c) => c.outcome === 'ok');
      expect(done.filter((c) => c.command === 'PutRestApi').map((c) => c.region), region).toEqual([region]);
      expect(done.filter((c) => c.command === 'CreateDeployment').map((c) => c.region), region).toEqual([
        region,
      ]);
      expect(methods(region)).toEqual(asImported);
    }
    await expectReadOnlyRerun(h, ['up'], STEPS_USED);
  });

  it('a per-region value changed for one region: plan updates that region’s copy only, up redeploys it', async () => {
    h = new Harness();
    useFile(sample());
    await h.ok(['up'], STEPS_USED);
    const other = 'arn:aws:lambda:us-west-1:111122223333:function:orders-v2';
    useFile(sample(), { regionValues: { ...regionValues, 'us-west-1': { ordersFunctionArn: other } } });
    const plan = await h.run(['plan'], STEPS_USED);
    expect(plan.stdout).toMatch(
      /api +sa-east-1: no change, us-west-1: update in place \(api\.regionValues\.us-west-1\.ordersFunctionArn\)/,
    );
    const before = h.cloud.calls.length;
    await h.ok(['up'], STEPS_USED);
    const done = h.cloud.calls
      .slice(before)
      .filter((c) => c.command === 'CreateDeployment' && c.outcome === 'ok');
    expect(done.map((c) => c.region)).toEqual(['us-west-1']);
    const api = h.cloud
      .model(FakeApiGateway)
      .region('us-west-1')
      .restApis.get(h.outputs('api', 'us-west-1').restApiId)!;
    expect(api.methods.find((m) => m.path === '/orders')?.integrationUri).toContain(other);
  });

  it('refuses a file that is not JSON, naming the file, line and column', async () => {
    h = new Harness();
    useFile('{\n  "openapi": "3.0.1",\n  "paths": {,}\n}\n');
    await expectRefused(/orders\.json is not valid JSON at line 3, column 13/);
  });

  it('imports the YAML sample as the same API as the JSON one in both regions (its alias resolved)', async () => {
    const definitions = async (file: string) => {
      h = new Harness();
      h.writeConfig({ api: { openapi: file, regionValues } });
      await h.ok(['up'], STEPS_USED);
      const model = h.cloud.model(FakeApiGateway);
      const out = REGIONS.map((region) => {
        const api = model.region(region).restApis.get(h.outputs('api', region).restApiId)!;
        return { methods: api.methods, definition: api.definition };
      });
      h.cleanup();
      return out;
    };
    const fromYaml = await definitions(SAMPLE_YAML);
    const fromJson = await definitions(SAMPLE);
    expect(fromYaml).toEqual(fromJson);
    const uri = (region: string) =>
      `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${fnArn(region)}/invocations`;
    REGIONS.forEach((region, i) =>
      expect(fromYaml[i]!.methods.filter((m) => m.path === '/orders').map((m) => m.integrationUri)).toEqual([
        uri(region),
        uri(region),
      ]),
    );
  });

  it('reads a file without a .yaml name as YAML when it does not start with {', async () => {
    h = new Harness();
    useFile(readFileSync(SAMPLE_YAML, 'utf8'), {}, 'orders.openapi');
    await h.ok(['up'], STEPS_USED);
    expect(h.outputs('api', REGIONS[1]).restApiId).toBeDefined();
  });

  it('refuses a file that is not YAML, naming api.openapi, the file, line and column', async () => {
    h = new Harness();
    useFile('openapi: 3.0.1\npaths:\n  /x:\n    get: {a: 1\n  bad: x\n', {}, 'orders.yaml');
    const r = await expectRefused(/orders\.yaml is not valid YAML at line 5, column 3/);
    expect(r.stderr).toMatch(/api\.openapi/);
    expect(r.stderr).toMatch(/ {3}5 \| {3}bad: x\n {7}\| {3}\^/);
  });

  it('refuses a YAML file that is not a mapping, and one with a placeholder without a value', async () => {
    h = new Harness();
    useFile('- openapi\n- 3.0.1\n', {}, 'orders.yml');
    await expectRefused(/orders\.yml must hold one YAML mapping/);
    useFile(readFileSync(SAMPLE_YAML, 'utf8'), { regionValues: {} }, 'orders.yml');
    await expectRefused(/uses \$\{ordersFunctionArn\} with no value for sa-east-1/);
  });

  it('with the file gone, status, plan, drills, report and unlock run and down removes everything; up names api.openapi', async () => {
    h = new Harness();
    useFile(sample());
    await h.ok(['up'], STEPS_USED);
    rmSync(join(h.dir, 'orders.json'));
    for (const args of [['status'], ['plan'], ['drills'], ['report'], ['unlock']]) {
      const r = await h.run(args, STEPS_USED);
      expect(r.stderr, args[0]).not.toMatch(/orders\.json|api\.openapi/);
      expect(r.code, `${args[0]}: ${r.stderr}`).not.toBe(2);
    }
    const up = await h.run(['up'], STEPS_USED);
    expect(up.code).toBe(2);
    expect(up.stderr).toMatch(/api\.openapi: cannot read the OpenAPI file .*orders\.json/);
    const down = await h.run(['down', '--yes'], STEPS_USED);
    expect(down.code, down.stderr).toBe(0);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('refuses an integration that names another region without a per-region value', async () => {
    h = new Harness();
    const doc = sample();
    doc.paths['/orders'].post['x-amazon-apigateway-integration'].uri =
      `arn:aws:apigateway:sa-east-1:lambda:path/2015-03-31/functions/${fnArn('sa-east-1')}/invocations`;
    useFile(doc);
    await expectRefused(/paths\.\/orders\.post calls sa-east-1, but this copy is imported into us-west-1/);
  });

  it('refuses a placeholder with no value for a region, naming the region', async () => {
    h = new Harness();
    useFile(sample(), { regionValues: { 'sa-east-1': { ordersFunctionArn: fnArn('sa-east-1') } } });
    const r = await expectRefused(/uses \$\{ordersFunctionArn\} with no value for us-west-1/);
    expect(r.stderr).toContain('api.regionValues.us-west-1');
  });

  it('refuses a healthPath that is not a GET method of the file', async () => {
    h = new Harness();
    useFile(sample(), { healthPath: '/status' });
    await expectRefused(/api\.healthPath \/status is not a GET method in .*orders\.json/);
  });

  it('refuses an existing API by id that is not in the primary region', async () => {
    h = new Harness();
    h.writeConfig({ api: { restApiId: 'a1b2c3d4e5' } });
    await expectRefused(/no REST API a1b2c3d4e5 in the primary region/);
  });
});

describe('the fake’s ImportRestApi on a user’s file', () => {
  it('with failOnWarnings, a $ref to a missing model is refused and nothing is imported', async () => {
    h = new Harness();
    const doc = sample();
    delete doc.components.schemas.Orders;
    useFile(doc);
    const r = await h.run(['up'], STEPS_USED);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Unable to resolve model reference #\/components\/schemas\/Orders/);
    const model = h.cloud.model(FakeApiGateway);
    for (const region of REGIONS) expect(model.region(region).restApis.size).toBe(0);
  });

  it('the canary calls the file’s healthPath', async () => {
    h = new Harness();
    const doc = sample();
    doc.paths['/ping'] = doc.paths['/health'];
    useFile(doc, { healthPath: '/ping' });
    await h.ok(['up']);
    const canaries = h.cloud.calls.filter((c) => c.command === 'CreateCanary' && c.outcome === 'ok');
    expect(canaries.length).toBeGreaterThan(0);
    for (const c of canaries)
      expect((c.input as any).RunConfig.EnvironmentVariables.PROBE_PATH).toBe('/ping');
  });
});
