import type { StepName } from '../../src/steps/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAcm, FakeApiGatewayDomains } from '../support/fake-cloud/index.js';
import { crashEachMutatingCall, expectReadOnlyRerun } from '../support/crash.js';
import { Harness, type RunOutput } from '../support/harness.js';
import { priorTo, upTo } from '../support/steps.js';

const PRIOR = priorTo('domain');
const STEPS_USED = upTo('domain');
const REGIONS = ['sa-east-1', 'us-west-1'] as const;

let h: Harness;
afterEach(() => h?.cleanup());

type Rec = Record<string, unknown>;
const rec = <N extends StepName = 'domain'>(region: string, step?: N) =>
  h.outputs(step ?? ('domain' as N), region);
const lines = (kind: string, region?: string) =>
  h.cloud.snapshot().filter((l) => l.startsWith(`apigateway/${region ?? ''}`) && l.includes(`/${kind}/`));
const failure = (r: RunOutput, region: string) =>
  r.events.find((e) => e.type === 'step-failed' && e.step === 'domain' && e.scope === region) as
    { error: { message: string; resolution?: string } } | undefined;

function expectOneOfEach(mode: 'regional' | 'private'): void {
  for (const region of REGIONS) {
    const api = String(rec(region, 'api').restApiId);
    const domains = lines('domain-name', region);
    expect(domains, `domains in ${region}`).toHaveLength(1);
    expect(domains[0]).toMatch(
      mode === 'regional' ? /\/api\.octank\.com\(REGIONAL\)$/ : /\/api\.octank\.com\+\w+\(PRIVATE\)$/,
    );
    const mappings = lines('base-path-mapping', region);
    expect(mappings, `mappings in ${region}`).toHaveLength(1);
    expect(mappings[0]).toMatch(new RegExp(`/\\(none\\)\\(${api}/prod\\)$`));
    expect(lines('domain-name-access-association', region)).toHaveLength(mode === 'private' ? 1 : 0);
    // The private domain is reached at the endpoint: the failover records alias its DNS name.
    if (mode === 'private') {
      const vpce = String(rec(region, 'endpoints').vpcEndpointId);
      expect(rec(region).endpointDnsName).toMatch(
        new RegExp(`^${vpce}-\\w+\\.execute-api\\.${region}\\.vpce\\.amazonaws\\.com$`),
      );
      expect(rec(region).endpointHostedZoneId).toMatch(/^Z[0-9A-Z]+$/);
    }
  }
}

async function upToDomain(config?: Rec): Promise<void> {
  h = new Harness();
  if (config) h.writeConfig(config);
  await h.ok(['up'], PRIOR);
  // Count mutating calls (for crashAfterMutating) from here: the domain step's only.
  h.cloud.revive();
}

describe('domain step (regional, the default) on the fake cloud', () => {
  it('up makes one REGIONAL domain per region with its certificate and a root mapping to prod', async () => {
    await upToDomain();
    await h.ok(['up'], STEPS_USED);
    expectOneOfEach('regional');
    const model = h.cloud.model(FakeApiGatewayDomains);
    for (const region of REGIONS) {
      const r = rec(region);
      expect(r).toMatchObject({ domainName: 'api.octank.com', mode: 'regional', basePath: '' });
      expect(r.regionalDomainName).toMatch(
        new RegExp(`^d-\\w+\\.execute-api\\.${region}\\.amazonaws\\.com$`),
      );
      expect(r.regionalHostedZoneId).toMatch(/^Z[0-9A-Z]+$/);
      // The ACM certificate of the region is in use by the domain now.
      const certificateArn = String(rec(region, 'ca').certificateArn);
      expect(h.cloud.dependents('acm-certificate', certificateArn, region)).toHaveLength(1);
    }
    expect(model.acceptPrivateCaCertificates.REGIONAL).toBe(true);
  });

  it('re-running up makes no mutating call and one read per domain and mapping', async () => {
    await upToDomain();
    await h.ok(['up'], STEPS_USED);
    await expectReadOnlyRerun(h, ['up'], STEPS_USED);
    const domainCalls = h.cloud.calls
      .filter((c) => /DomainName|BasePathMapping/.test(c.command))
      .map((c) => `${c.region} ${c.command}`)
      .sort();
    expect(domainCalls).toEqual([
      'sa-east-1 GetBasePathMappings',
      'sa-east-1 GetDomainName',
      'us-west-1 GetBasePathMappings',
      'us-west-1 GetDomainName',
    ]);
  });

  it('down removes the domain before the API and the certificate, leaving the cloud empty', async () => {
    await upToDomain();
    await h.ok(['up'], STEPS_USED);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()!.steps).toEqual({});
  });

  it('a crash after each mutating call of the step, then up again, ends with one domain and one mapping per region', async () => {
    await crashEachMutatingCall({
      prepare: async (x) => {
        await x.ok(['up'], PRIOR);
      },
      args: ['up'],
      deps: STEPS_USED,
      clean: (calls) =>
        expect([...new Set(calls.map((c) => c.split(' ')[1]))].sort()).toEqual([
          'CreateBasePathMapping',
          'CreateDomainName',
        ]),
      check: async (x, where) => {
        h = x;
        expectOneOfEach('regional');
        await x.ok(['down', '--yes'], STEPS_USED);
        expect(x.cloud.snapshot(), `after down, ${where}`).toEqual([]);
      },
    });
  });

  it('where AWS accepts the private-CA certificate for a REGIONAL domain, up succeeds with it', async () => {
    await upToDomain();
    h.cloud.model(FakeApiGatewayDomains).acceptPrivateCaCertificates.REGIONAL = true;
    await h.ok(['up'], STEPS_USED);
    expect(rec('sa-east-1', 'ca').certificateAuthorityArn).toMatch(/^arn:aws:acm-pca:/);
    expectOneOfEach('regional');
  });

  it('where AWS rejects the private-CA certificate, up fails saying so and how to give config certificateArn; with it, up succeeds', async () => {
    await upToDomain();
    h.cloud.model(FakeApiGatewayDomains).acceptPrivateCaCertificates.REGIONAL = false;
    const r = await h.run(['--json', 'up'], STEPS_USED);
    expect(r.code).toBe(1);
    for (const region of REGIONS) {
      const f = failure(r, region)!;
      expect(f.error.message).toContain('refused certificate');
      expect(f.error.message).toContain('private certificate authority');
      expect(f.error.resolution).toContain('AWS Private CA');
      expect(f.error.resolution).toContain('`certificateArn`');
      expect(f.error.resolution).toContain(region);
    }
    expect(lines('domain-name')).toEqual([]);

    // The person gives an imported certificate per region: the domain takes it, and the CA made
    // before is no longer used (down still deletes it).
    const acm = h.cloud.model(FakeAcm);
    const given = Object.fromEntries(
      REGIONS.map((region) => [
        region,
        acm.seed(region, { domainName: '*.octank.com', sans: ['api.octank.com'] }),
      ]),
    );
    h.writeConfig({ certificateArn: given });
    await h.ok(['up'], STEPS_USED);
    expectOneOfEach('regional');
    for (const region of REGIONS) {
      expect(rec(region, 'ca')).toMatchObject({
        certificateAuthorityArn: null,
        certificateArn: given[region],
      });
      expect(h.cloud.dependents('acm-certificate', given[region]!, region)).toHaveLength(1);
    }
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot().filter((l) => !l.startsWith('acm/'))).toEqual([]);
    expect(h.cloud.snapshot()).toHaveLength(2); // the two given certificates, never drctl's to delete
  });

  it('a REGIONAL domain name another AWS account holds stops up in that region with the cause and both ways out', async () => {
    await upToDomain();
    // Another account made api.octank.com in sa-east-1 (the workshop's name): this account cannot see it.
    h.cloud.model(FakeApiGatewayDomains).takenByAnotherAccount('api.octank.com', 'sa-east-1');
    const r = await h.run(['--json', 'up'], STEPS_USED);
    expect(r.code).toBe(1);
    const f = failure(r, 'sa-east-1')!;
    expect(f.error.message).toContain('custom domain api.octank.com is taken in sa-east-1');
    expect(f.error.message).toContain('unique per region across all AWS accounts');
    expect(f.error.message).toContain('BadRequestException: The domain name you provided already exists.');
    expect(f.error.resolution).toContain('`domain`');
    expect(f.error.resolution).toContain('"domainMode": "private"');
    expect(f.error).toMatchObject({ code: 'BadRequestException', resource: 'api.octank.com' });
    // The other region is free: its domain is made; nothing half-made is left in sa-east-1.
    expect(failure(r, 'us-west-1')).toBeUndefined();
    expect(lines('domain-name', 'sa-east-1')).toEqual([]);
    expect(lines('domain-name', 'us-west-1')).toHaveLength(1);

    // What a person reads: the step and region, the cause, and what to do.
    const plain = await h.run(['up'], STEPS_USED);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/domain.*sa-east-1.*custom domain api\.octank\.com is taken in sa-east-1/);
    expect(plain.stderr).toContain('what to do: Either use a domain of your own');

    expect(plain.stderr).toContain('run `drctl down` first');

    // Way out 1: a domain of our own (after `down`: certificate and zone follow the name).
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
    h.writeConfig({ domain: 'dr.example.com' });
    h.cloud.clock.advance(60_000);
    await h.ok(['up'], STEPS_USED);
    for (const region of REGIONS) {
      expect(rec(region)).toMatchObject({ domainName: 'api.dr.example.com', mode: 'regional' });
    }
  });

  it('with a taken REGIONAL name, domainMode private is the other way out', async () => {
    await upToDomain({ domainMode: 'private' });
    h.cloud.model(FakeApiGatewayDomains).takenByAnotherAccount('api.octank.com');
    await h.ok(['up'], STEPS_USED);
    expectOneOfEach('private');
  });

  it('a REGIONAL domain of the same name that is not ours stops up with what to do', async () => {
    await upToDomain();
    const certificateArn = String(rec('sa-east-1', 'ca').certificateArn);
    const { APIGatewayClient, CreateDomainNameCommand } = await import('@aws-sdk/client-api-gateway');
    await new APIGatewayClient({ region: 'sa-east-1' }).send(
      new CreateDomainNameCommand({
        domainName: 'api.octank.com',
        regionalCertificateArn: certificateArn,
        endpointConfiguration: { types: ['REGIONAL'] },
      }),
    );
    const r = await h.run(['--json', 'up'], STEPS_USED);
    expect(r.code).toBe(1);
    expect(failure(r, 'sa-east-1')!.error.message).toContain('was not made by drctl');
    expect(failure(r, 'us-west-1')).toBeUndefined();
  });
});

describe('domain step (domainMode private) on the fake cloud', () => {
  const PRIVATE = { domainMode: 'private' };

  it('up makes one PRIVATE domain per region, for our endpoint only, mapped to prod and associated with the endpoint', async () => {
    await upToDomain(PRIVATE);
    const r = await h.ok(['up'], STEPS_USED);
    expectOneOfEach('private');
    for (const region of REGIONS) {
      const d = rec(region);
      const vpce = String(rec(region, 'endpoints').vpcEndpointId);
      expect(d).toMatchObject({ domainName: 'api.octank.com', mode: 'private', basePath: '' });
      expect(d.domainNameArn).toBe(
        `arn:aws:apigateway:${region}:${h.cloud.account}:/domainnames/api.octank.com+${String(d.domainNameId)}`,
      );
      expect(d.accessAssociationArn).toContain(`/vpcesource/${vpce}`);
      const get = h.cloud.calls.find((c) => c.command === 'CreateDomainName' && c.region === region)!;
      const policy = JSON.parse((get.input as { policy: string }).policy) as {
        Statement: Array<{ Effect: string; Condition?: unknown }>;
      };
      expect(policy.Statement.find((s) => s.Effect === 'Deny')!.Condition).toEqual({
        StringNotEquals: { 'aws:SourceVpce': vpce },
      });
    }
    const infos = r.events.flatMap((e) => (e.type === 'log' && e.level === 'info' ? [e.message] : []));
    expect(infos.filter((m) => m.includes('about 15 minutes'))).toHaveLength(2);
  });

  it('re-running up makes no mutating call', async () => {
    await upToDomain(PRIVATE);
    await h.ok(['up'], STEPS_USED);
    await expectReadOnlyRerun(h, ['up'], STEPS_USED);
    const domainCalls = h.cloud.calls
      .filter((c) => /DomainName|BasePathMapping/.test(c.command))
      .map((c) => c.command);
    expect(domainCalls.sort()).toEqual([
      'GetBasePathMappings',
      'GetBasePathMappings',
      'GetDomainName',
      'GetDomainName',
      'GetDomainNameAccessAssociations',
      'GetDomainNameAccessAssociations',
    ]);
  });

  it('down deletes the association, then the domain, and leaves the cloud empty', async () => {
    await upToDomain(PRIVATE);
    await h.ok(['up'], STEPS_USED);
    h.cloud.resetCalls();
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
    const order = h.cloud.mutatingCalls
      .filter((c) => c.region === 'sa-east-1' && /DomainName/.test(c.command))
      .map((c) => c.command);
    expect(order).toEqual(['DeleteDomainNameAccessAssociation', 'DeleteDomainName']);
  });

  it('a crash after each mutating call of the step, then up again, never leaves a second private domain', async () => {
    await crashEachMutatingCall({
      prepare: async (x) => {
        x.writeConfig(PRIVATE);
        await x.ok(['up'], PRIOR);
      },
      args: ['up'],
      deps: STEPS_USED,
      clean: (calls) =>
        expect([...new Set(calls.map((c) => c.split(' ')[1]))].sort()).toEqual([
          'CreateBasePathMapping',
          'CreateDomainName',
          'CreateDomainNameAccessAssociation',
        ]),
      check: async (x, where) => {
        h = x;
        expectOneOfEach('private');
        await x.ok(['down', '--yes'], STEPS_USED);
        expect(x.cloud.snapshot(), `after down, ${where}`).toEqual([]);
      },
    });
  });

  it('a 5xx after AWS applied each mutating call of the step: the same up looks before it creates, one of each', async () => {
    await upToDomain(PRIVATE);
    h.cloud.resetCalls();
    await h.ok(['up'], STEPS_USED);
    const calls = h.cloud.mutatingCalls.length;
    h.cleanup();
    for (let n = 1; n <= calls; n++) {
      await upToDomain(PRIVATE);
      h.cloud.faults = { failAfterApplyingMutating: n };
      const r = await h.run(['--json', 'up'], STEPS_USED);
      h.cloud.faults = {};
      if (r.code !== 0) {
        h.cloud.clock.advance(60_000);
        await h.ok(['up'], STEPS_USED);
      }
      expectOneOfEach('private');
      await h.ok(['down', '--yes'], STEPS_USED);
      expect(h.cloud.snapshot(), `after down, 5xx at call ${n}`).toEqual([]);
      h.cleanup();
    }
  });

  it('where AWS rejects the private-CA certificate for a PRIVATE domain, up says so and names config certificateArn', async () => {
    await upToDomain(PRIVATE);
    h.cloud.model(FakeApiGatewayDomains).acceptPrivateCaCertificates.PRIVATE = false;
    const r = await h.run(['--json', 'up'], STEPS_USED);
    expect(r.code).toBe(1);
    const f = failure(r, 'us-west-1')!;
    expect(f.error.message).toContain('PRIVATE custom domain api.octank.com');
    expect(f.error.resolution).toContain('`certificateArn`');
    expect(lines('domain-name')).toEqual([]);
  });

  it('switching domainMode from private to regional replaces the domain', async () => {
    await upToDomain(PRIVATE);
    await h.ok(['up'], STEPS_USED);
    h.writeConfig({});
    // Domain-name changes are limited to one per 30 s per account and region.
    h.cloud.clock.advance(60_000);
    await h.ok(['up'], STEPS_USED);
    expectOneOfEach('regional');
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('switching domainMode from regional to private is refused before any mutating call (exit 2, naming domainMode)', async () => {
    await upToDomain();
    await h.ok(['up'], STEPS_USED);
    h.writeConfig(PRIVATE);
    h.cloud.resetCalls();
    for (const args of [['up'], ['step', 'domain']]) {
      const r = await h.run(args, STEPS_USED);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/domainMode: cannot switch from "regional" to "private" in place/);
    }
    expect(h.cloud.mutatingCalls).toEqual([]);
    expectOneOfEach('regional');
  });
});
