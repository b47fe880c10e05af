import '../support/fast-tmp.js';
import {
  APIGatewayClient,
  CreateBasePathMappingCommand,
  CreateDeploymentCommand,
  CreateDomainNameAccessAssociationCommand,
  CreateDomainNameCommand,
  DeleteDomainNameAccessAssociationCommand,
  GetDomainNameCommand,
  UpdateDomainNameCommand,
  UpdateRestApiCommand,
} from '@aws-sdk/client-api-gateway';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { StepName } from '../../src/steps/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { probeResultSchema, type ProbeResult } from '../../src/assets/probe-function.js';
import { FakeApiGatewayDomains } from '../support/fake-cloud/index.js';
import { evaluatePolicy } from '../support/fake-cloud/resource-policy.js';
import { Harness } from '../support/harness.js';

// domainMode "private" end to end: PRIVATE custom domains with their policy and access
// association, failover records aliasing each region's execute-api endpoint (reached over the
// peering from the other VPC), no NLB; and the refusals API Gateway makes on that path, each with
// AWS's error name.

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';
const PRIVATE = { domainMode: 'private' };

let h: Harness;
afterEach(() => h?.cleanup());

const rec = <N extends StepName>(step: N, scope: string) => h.outputs(step, scope);
const apigw = (region: string) => new APIGatewayClient({ region });
const nlbLines = () => h.cloud.snapshot().filter((l) => l.startsWith('elbv2/'));

/** What a client in the secondary VPC gets for https://api.octank.com/health (the probe function). */
async function probe(via?: string): Promise<ProbeResult> {
  const r = await new LambdaClient({ region: SECONDARY }).send(
    new InvokeCommand({
      FunctionName: 'drctl-probe',
      Payload: new TextEncoder().encode(JSON.stringify(via ? { via } : {})),
    }),
  );
  return probeResultSchema.parse(JSON.parse(new TextDecoder().decode(r.Payload)));
}

/** Right after `up` the primary's canary has no data yet (the health check counts that as unhealthy). */
const settle = () => h.cloud.clock.advance(5 * 60_000);

async function upPrivate(): Promise<void> {
  h = new Harness();
  h.writeConfig(PRIVATE);
  await h.ok(['up']);
  settle();
}

describe('domainMode private: up, the path clients take, down', () => {
  it("up makes no NLB and points the failover records at each region's execute-api endpoint", async () => {
    h = new Harness();
    h.writeConfig(PRIVATE);
    const r = await h.ok(['--json', 'up']);
    settle();
    expect(nlbLines()).toEqual([]);
    const skipped = r.events.filter((e) => e.type === 'step-skipped') as Array<{
      step: string;
      reason: string;
    }>;
    expect(skipped.map((e) => e.step)).toEqual(['nlb', 'nlb']);
    expect(skipped[0]!.reason).toMatch(/not used: domainMode private/);
    expect(h.state()!.steps.nlb).toBeUndefined();

    const zoneId = rec('hosted-zone', 'global').hostedZoneId;
    const { ResourceRecordSets } = await new Route53Client({ region: 'us-east-1' }).send(
      new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }),
    );
    const failover = (ResourceRecordSets ?? []).filter((x) => x.Failover);
    for (const [role, region] of [
      ['PRIMARY', PRIMARY],
      ['SECONDARY', SECONDARY],
    ] as const) {
      const d = rec('domain', region);
      const vpce = rec('endpoints', region).vpcEndpointId;
      expect(d.endpointDnsName).toMatch(
        new RegExp(`^${vpce}-\\w+\\.execute-api\\.${region}\\.vpce\\.amazonaws\\.com$`),
      );
      const record = failover.find((x) => x.Failover === role)!;
      expect(record.AliasTarget).toEqual({
        DNSName: d.endpointDnsName,
        HostedZoneId: d.endpointHostedZoneId,
        EvaluateTargetHealth: false,
      });
    }

    // A client in the secondary VPC reaches the primary's endpoint over the peering, through
    // the private custom domain, and is served by the primary.
    const p = await probe();
    expect(p).toMatchObject({ status: 200, region: PRIMARY });
    expect(p.address).toMatch(/^10\.0\./);
    // And the secondary answers at its own endpoint's name.
    expect(await probe(rec('domain', SECONDARY).endpointDnsName as string)).toMatchObject({
      status: 200,
      region: SECONDARY,
    });

    const plan = await h.run(['plan']);
    expect(plan.stdout).toMatch(/nlb +sa-east-1: not used \(domainMode private: .*\), us-west-1: not used/);
  });

  it("up returns only once the name answers through each region's endpoint (about 15 min of provisioning), saying why it waits", async () => {
    h = new Harness();
    h.writeConfig(PRIVATE);
    const r = await h.ok(['up']);
    // No settling: right after up, a client inside the VPC is served in both regions.
    for (const region of [PRIMARY, SECONDARY]) {
      expect(await probe(rec('domain', region).endpointDnsName as string)).toMatchObject({
        status: 200,
        region,
      });
    }
    const waits = r.events.filter((e) => e.type === 'step-progress' && e.step === 'private-domain') as Array<{
      text: string;
      elapsedMs: number;
    }>;
    expect(waits[0]!.text).toMatch(/private custom domain provisioning, about 15 min/);
    // It waited for the name, not for a status: the association is ~15 min old when it answers.
    expect(waits.at(-1)!.elapsedMs).toBeGreaterThan(5 * 60_000);
    // verify right after up: the path is whole.
    h.cloud.clock.advance(5 * 60_000);
    const v = await h.run(['verify']);
    expect(v.stdout + v.stderr).not.toMatch(/still provisioning/);
  });

  it('down leaves an empty cloud', async () => {
    await upPrivate();
    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()!.steps).toEqual({});
  });

  it('switching regional -> private in place is refused (exit 2, naming domainMode) with no mutating call; down then up is the way', async () => {
    h = new Harness();
    await h.ok(['up']);
    expect(nlbLines().length).toBeGreaterThan(0);
    const before = h.cloud.snapshot();
    h.writeConfig(PRIVATE);
    h.cloud.clock.advance(60_000);
    const plan = await h.run(['plan']);
    expect(plan.stdout).toMatch(/domain +sa-east-1: replace: down, then up \(domainMode\)/);
    h.cloud.resetCalls();
    const r = await h.run(['up']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/domainMode: cannot switch from "regional" to "private" in place/);
    expect(r.stderr).toMatch(/drctl down`, then `drctl up`/);
    expect(h.cloud.mutatingCalls).toEqual([]);
    expect(h.cloud.snapshot()).toEqual(before);

    // The way out: down, then up with the new mode (new endpoints, never used for a public domain).
    await h.ok(['down', '--yes']);
    await h.ok(['up']);
    expect(nlbLines()).toEqual([]);
    expect(await probe()).toMatchObject({ status: 200, region: PRIMARY });
  });

  it('switching private -> regional works in place; back to private is then refused (the endpoints served the public domain)', async () => {
    await upPrivate();
    h.writeConfig({});
    h.cloud.clock.advance(60_000);
    await h.ok(['up']);
    settle();
    expect(nlbLines().filter((l) => l.includes('/load-balancer/'))).toHaveLength(2);
    expect(await probe()).toMatchObject({ status: 200, region: PRIMARY });

    h.writeConfig(PRIVATE);
    h.cloud.resetCalls();
    const r = await h.run(['up']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/domainMode: cannot switch/);
    expect(h.cloud.mutatingCalls).toEqual([]);
    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('down after a switch to private that has not run up yet still deletes the NLBs', async () => {
    h = new Harness();
    await h.ok(['up']);
    h.writeConfig(PRIVATE);
    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('routing traffic-policy with domainMode private is refused before anything is made (exit 2, naming routing)', async () => {
    h = new Harness();
    h.writeConfig({ ...PRIVATE, routing: 'traffic-policy' });
    const r = await h.run(['up']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/routing: traffic-policy cannot route to an execute-api endpoint/);
    expect(h.cloud.mutatingCalls).toEqual([]);
  });
});

describe('API Gateway refuses what AWS refuses on the private path', () => {
  it('a private custom domain whose policy denies the endpoint: the probe gets 403 AccessDeniedException, the drill refuses; up puts the policy back', async () => {
    await upPrivate();
    const d = rec('domain', PRIMARY);
    const vpce = rec('endpoints', PRIMARY).vpcEndpointId;
    h.cloud.clock.advance(60_000);
    await apigw(PRIMARY).send(
      new UpdateDomainNameCommand({
        domainName: d.domainName,
        domainNameId: d.domainNameId,
        patchOperations: [
          {
            op: 'replace',
            path: '/policy',
            value: JSON.stringify({
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: '*',
                  Action: 'execute-api:Invoke',
                  Resource: ['execute-api:/*'],
                },
                {
                  Effect: 'Deny',
                  Principal: '*',
                  Action: 'execute-api:Invoke',
                  Resource: ['execute-api:/*'],
                  Condition: { StringEquals: { 'aws:SourceVpce': vpce } },
                },
              ],
            }),
          },
        ],
      }),
    );
    // At the primary's own endpoint: the canary goes through the domain too, fails, and DNS moves on.
    const p = await probe(rec('domain', PRIMARY).endpointDnsName);
    expect(p.status).toBe(403);
    expect(p.body).toContain('User: anonymous is not authorized to perform: execute-api:Invoke');
    expect(p.body).toContain('/domainnames/api.octank.com+');
    expect(p.body).toContain('with an explicit deny');
    const domains = h.cloud.model(FakeApiGatewayDomains);
    expect(
      domains.request(PRIMARY, { host: 'api.octank.com', vpceId: vpce, path: '/health' }).errorType,
    ).toBe('AccessDeniedException');

    h.cloud.clock.advance(5 * 60_000);
    const drill = await h.run(['failover-test', '--mode', 'invert']);
    expect(drill.code).toBe(2);
    // The primary's canary fails through the denied domain: nothing healthy to fail over from.
    expect(drill.stderr).toMatch(/refusing to inject: the primary is not healthy/);

    // up compares the policy it holds (parsed, not as text) with ours, and puts ours back.
    h.cloud.clock.advance(60_000);
    await h.ok(['up']);
    settle();
    expect(await probe()).toMatchObject({ status: 200, region: PRIMARY });
  });

  it('a private API whose resource policy allows nothing: 403 AccessDeniedException; up puts the policy back', async () => {
    await upPrivate();
    const restApiId = rec('api', PRIMARY).restApiId;
    await apigw(PRIMARY).send(
      new UpdateRestApiCommand({
        restApiId,
        patchOperations: [
          {
            op: 'replace',
            path: '/policy',
            value: JSON.stringify({
              Version: '2012-10-17',
              // Only the Deny of other endpoints is left: our endpoint is not denied, but nothing allows it.
              Statement: [
                {
                  Effect: 'Deny',
                  Principal: '*',
                  Action: 'execute-api:Invoke',
                  Resource: 'execute-api:/*',
                  Condition: {
                    StringNotEquals: { 'aws:SourceVpce': rec('endpoints', PRIMARY).vpcEndpointId },
                  },
                },
              ],
            }),
          },
        ],
      }),
    );
    // A policy is in force once deployed (docs/design/aws-behaviour.md §5): the hand edit deployed too.
    await apigw(PRIMARY).send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
    // At the primary's own endpoint (the canary fails too now, and DNS will move to the secondary).
    const p = await probe(rec('domain', PRIMARY).endpointDnsName);
    expect(p.status).toBe(403);
    expect(p.body).toContain(
      `on resource: arn:aws:execute-api:${PRIMARY}:${h.cloud.account}:${restApiId}/prod/GET/health`,
    );
    expect(p.body).toContain('because no resource-based policy allows the execute-api:Invoke action');

    // up reads the policy back parsed, Conditions included, sees it is not ours, and puts ours back.
    await h.ok(['up']);
    expect(await probe(rec('domain', PRIMARY).endpointDnsName as string)).toMatchObject({
      status: 200,
      region: PRIMARY,
    });
  });

  it('an endpoint without an access association to the private domain gets 403 ForbiddenException; up associates it again', async () => {
    await upPrivate();
    await apigw(PRIMARY).send(
      new DeleteDomainNameAccessAssociationCommand({
        domainNameAccessAssociationArn: rec('domain', PRIMARY).accessAssociationArn,
      }),
    );
    const vpce = rec('endpoints', PRIMARY).vpcEndpointId;
    const answer = h.cloud
      .model(FakeApiGatewayDomains)
      .request(PRIMARY, { host: 'api.octank.com', vpceId: vpce, path: '/health' });
    expect(answer).toMatchObject({ status: 403, errorType: 'ForbiddenException' });
    // The client sees it too: with no association, the endpoint shows no certificate for the name.
    expect(await probe(rec('domain', PRIMARY).endpointDnsName as string)).toMatchObject({
      error: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });

    await h.ok(['up']);
    settle();
    expect(await probe()).toMatchObject({ status: 200, region: PRIMARY });
  });

  it('a private domain is unusable until AVAILABLE: mapping refused with BadRequestException, invocations 403 ForbiddenException', async () => {
    await upPrivate();
    const certificateArn = rec('ca', PRIMARY).certificateArn;
    const vpce = rec('endpoints', PRIMARY).vpcEndpointId;
    const restApiId = rec('api', PRIMARY).restApiId;
    // A test of the fake's API Gateway: another user of the account makes the second domain.
    await h.cloud.authorizer.asAdmin(async () => {
      h.cloud.clock.advance(60_000);
      const client = apigw(PRIMARY);
      const d = await client.send(
        new CreateDomainNameCommand({
          domainName: 'other.octank.com',
          certificateArn,
          endpointConfiguration: { types: ['PRIVATE'] },
          policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' },
            ],
          }),
        }),
      );
      expect(d.domainNameStatus).toBe('PENDING');
      await client.send(
        new CreateDomainNameAccessAssociationCommand({
          domainNameArn: d.domainNameArn,
          accessAssociationSourceType: 'VPCE',
          accessAssociationSource: vpce,
        }),
      );
      await expect(
        client.send(
          new CreateBasePathMappingCommand({
            domainName: 'other.octank.com',
            domainNameId: d.domainNameId,
            restApiId,
            stage: 'prod',
          }),
        ),
      ).rejects.toMatchObject({
        name: 'BadRequestException',
        message: expect.stringMatching(/not available yet/),
      });
      const model = h.cloud.model(FakeApiGatewayDomains);
      expect(
        model.request(PRIMARY, { host: 'other.octank.com', vpceId: vpce, path: '/health' }),
      ).toMatchObject({
        status: 403,
        errorType: 'ForbiddenException',
      });

      h.cloud.clock.advance(10 * 60_000);
      await client.send(
        new CreateBasePathMappingCommand({
          domainName: 'other.octank.com',
          domainNameId: d.domainNameId,
          restApiId,
          stage: 'prod',
        }),
      );
      // AVAILABLE and mapped, yet AWS takes about 15 minutes to provision it and to ready the association.
      expect(
        (
          await client.send(
            new GetDomainNameCommand({ domainName: 'other.octank.com', domainNameId: d.domainNameId }),
          )
        ).domainNameStatus,
      ).toBe('AVAILABLE');
      expect(
        model.request(PRIMARY, { host: 'other.octank.com', vpceId: vpce, path: '/health' }),
      ).toMatchObject({
        status: 403,
        errorType: 'ForbiddenException',
      });
      h.cloud.clock.advance(6 * 60_000);
      expect(
        model.request(PRIMARY, { host: 'other.octank.com', vpceId: vpce, path: '/health' }),
      ).toMatchObject({
        status: 200,
      });
    });
  });

  it('an access association is ready about 15 minutes after it is made, though the domain reads AVAILABLE', async () => {
    await upPrivate();
    const d = rec('domain', PRIMARY);
    const vpce = rec('endpoints', PRIMARY).vpcEndpointId;
    await apigw(PRIMARY).send(
      new DeleteDomainNameAccessAssociationCommand({
        domainNameAccessAssociationArn: d.accessAssociationArn,
      }),
    );
    await apigw(PRIMARY).send(
      new CreateDomainNameAccessAssociationCommand({
        domainNameArn: d.domainNameArn,
        accessAssociationSourceType: 'VPCE',
        accessAssociationSource: vpce,
      }),
    );
    const model = h.cloud.model(FakeApiGatewayDomains);
    const ask = () => model.request(PRIMARY, { host: 'api.octank.com', vpceId: vpce, path: '/health' });
    h.cloud.clock.advance(14 * 60_000);
    expect(ask()).toMatchObject({ status: 403, errorType: 'ForbiddenException' });
    h.cloud.clock.advance(60_000);
    expect(ask()).toMatchObject({ status: 200 });
  });

  it('an endpoint that served a public (REGIONAL) custom domain never serves a private one of the name', async () => {
    h = new Harness();
    await h.ok(['up']);
    settle();
    const vpce = rec('endpoints', PRIMARY).vpcEndpointId;
    const model = h.cloud.model(FakeApiGatewayDomains);
    expect(model.request(PRIMARY, { host: 'api.octank.com', vpceId: vpce, path: '/health' })).toMatchObject({
      status: 200,
    });
    expect(model.servedPublic.has(`${PRIMARY}|${vpce}`)).toBe(true);
  });
});

describe('up waits for the private custom domain to answer, and says so when it still does not', () => {
  it('past its timeout up ends with exit 1, "still provisioning" and the way out; verify says still provisioning; a later up finishes', async () => {
    h = new Harness();
    h.writeConfig(PRIVATE);
    h.cloud.delayOverrides = { 'apigw.accessAssociationReady': 120 * 60 };
    const r = await h.run(['up']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /private-domain global: the private custom domain api\.octank\.com is still provisioning/,
    );
    expect(r.stderr).toMatch(/run `drctl up` again later/);
    expect(r.stdout).toMatch(
      /everything is made .*, but api\.octank\.com is still provisioning; run `drctl up` again later/,
    );
    // Every step is done; only the name does not answer yet.
    expect(Object.values(h.state()!.steps.domain!).every((x) => x.status === 'ready')).toBe(true);

    const v = await h.run(['verify']);
    expect(v.stdout).toMatch(/still provisioning/);
    expect(v.stdout).not.toMatch(/✖ probe/);

    // Run again, still too early: the same ending, in the --json summary too.
    const json = await h.run(['--json', 'up']);
    expect(json.code).toBe(1);
    expect(json.summary).toMatchObject({
      ok: false,
      exitCode: 1,
      privateDomain: { answering: false, message: expect.stringMatching(/still provisioning/) },
    });

    h.cloud.clock.advance(35 * 60_000);
    await h.ok(['up']);
    expect(await probe(rec('domain', SECONDARY).endpointDnsName as string)).toMatchObject({ status: 200 });
  });
});

describe('resource policies are evaluated as IAM does (the fake cloud)', () => {
  const base = 'arn:aws:execute-api:sa-east-1:111122223333:a1b2c3d4e5';
  const req = (vpce?: string) => ({
    action: 'execute-api:Invoke',
    resource: `${base}/prod/GET/health`,
    shorthandBase: base,
    context: { 'aws:SourceVpce': vpce },
  });
  const allowAll = {
    Effect: 'Allow',
    Principal: '*',
    Action: 'execute-api:Invoke',
    Resource: 'execute-api:/*',
  };
  const policy = (...Statement: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement });

  it('an explicit Deny wins over an Allow; with no Allow the request is denied', () => {
    const denyOurs = {
      ...allowAll,
      Effect: 'Deny',
      Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } },
    };
    expect(evaluatePolicy(policy(allowAll, denyOurs), req('vpce-1'))).toBe('explicit-deny');
    expect(evaluatePolicy(policy(allowAll, denyOurs), req('vpce-2'))).toBe('allow');
    expect(evaluatePolicy(policy(denyOurs), req('vpce-2'))).toBe('implicit-deny');
    expect(evaluatePolicy(undefined, req('vpce-1'))).toBe('implicit-deny');
  });

  it('compares aws:SourceVpce, not the policy text: an endpoint id that merely contains ours is another endpoint', () => {
    const onlyOurs = {
      ...allowAll,
      Effect: 'Deny',
      Condition: { StringNotEquals: { 'aws:SourceVpce': 'vpce-0abc1' } },
    };
    // The text holds "vpce-0abc" (as a prefix of vpce-0abc1), yet vpce-0abc is denied.
    expect(evaluatePolicy(policy(allowAll, onlyOurs), req('vpce-0abc'))).toBe('explicit-deny');
    expect(evaluatePolicy(policy(allowAll, onlyOurs), req('vpce-0abc1'))).toBe('allow');
    // Key names are case-insensitive, values of one key are ORed, a missing key fails a positive operator.
    const either = { ...allowAll, Condition: { StringEquals: { 'AWS:SOURCEVPCE': ['vpce-1', 'vpce-2'] } } };
    expect(evaluatePolicy(policy(either), req('vpce-2'))).toBe('allow');
    expect(evaluatePolicy(policy(either), req(undefined))).toBe('implicit-deny');
  });

  it('Resource and Action wildcards and the execute-api:/* shorthand', () => {
    const getOnly = { ...allowAll, Action: 'execute-api:*', Resource: 'execute-api:/prod/GET/*' };
    expect(evaluatePolicy(policy(getOnly), req('vpce-1'))).toBe('allow');
    expect(evaluatePolicy(policy({ ...getOnly, Resource: 'execute-api:/dev/*' }), req('vpce-1'))).toBe(
      'implicit-deny',
    );
    expect(evaluatePolicy(policy({ ...allowAll, Resource: `${base}/*` }), req('vpce-1'))).toBe('allow');
    expect(
      evaluatePolicy(policy({ ...allowAll, Principal: { AWS: 'arn:aws:iam::1:root' } }), req('vpce-1')),
    ).toBe('implicit-deny');
  });
});
