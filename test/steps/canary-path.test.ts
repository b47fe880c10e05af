import { ACMClient, RequestCertificateCommand } from '@aws-sdk/client-acm';
import {
  APIGatewayClient,
  DeleteBasePathMappingCommand,
  GetBasePathMappingsCommand,
} from '@aws-sdk/client-api-gateway';
import {
  DeleteListenerCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetHealthCheckCommand, Route53Client, UpdateHealthCheckCommand } from '@aws-sdk/client-route-53';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepName } from '../../src/steps/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAcm, FakeNetwork, FakeRoute53Health, FakeSynthetics } from '../support/fake-cloud/index.js';
import { STEPS } from '../../src/steps/index.js';
import { Harness, UP_TO_CHECK } from '../support/harness.js';

// Issue 11 item 4: the canary tests what clients use. It calls https://<host>.<domain>/health
// through its own region's NLB (SNI and Host the client name, the private CA trusted, verification
// on), so a broken listener, certificate, custom domain or mapping fails it, and through it the
// health check, although the API behind its VPC endpoint still answers.

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';

let h: Harness;
afterEach(() => h?.cleanup());

const rec = <N extends StepName>(step: N, scope: string) => h.outputs(step, scope);
const minutes = (n: number) => h.cloud.clock.advance(n * 60_000);
const runs = () => h.cloud.model(FakeSynthetics).find(PRIMARY, 'drctl-pri')!.runs;
const health = () =>
  h.cloud.model(FakeRoute53Health).healthOf(rec('health-check', 'global').primaryHealthCheckId);
const elb = () => new ElasticLoadBalancingV2Client({ region: PRIMARY });

async function upSettled(steps = UP_TO_CHECK): Promise<void> {
  h = new Harness();
  await h.ok(['up'], steps);
  minutes(5);
  expect(
    runs()
      .slice(-3)
      .map((r) => r.outcome),
  ).toEqual(['pass', 'pass', 'pass']);
  expect(health().healthy).toBe(true);
}

/**
 * After a fault: the next runs fail, and with 3 failed in a row the health check goes unhealthy
 * (Route 53's copy of the alarm has N and no M: docs/canary-and-alarm.md).
 */
function expectCanaryFailsOver(): void {
  const before = runs().length;
  minutes(4);
  const after = runs().slice(before);
  expect(after.length).toBeGreaterThanOrEqual(2);
  expect(after.every((r) => r.outcome === 'fail')).toBe(true);
  expect(health()).toMatchObject({ healthy: false });
  expect(health().reason).toMatch(/metric data: ALARM/);
}

/** The API behind the primary's endpoint still answers: the fault is on the client path only. */
function expectApiStillServesThroughItsEndpoint(): void {
  const api = rec('api', PRIMARY);
  expect(api.vpceInvokeUrl).toMatch(
    /^https:\/\/[a-z0-9]+-vpce-[0-9a-f]+\.execute-api\.sa-east-1\.amazonaws\.com\//,
  );
}

describe('the canary calls https://<host>.<domain>/health through its own NLB, as a client does', () => {
  it('a deleted NLB listener fails the canary and the health check', async () => {
    await upSettled();
    // Deleted by hand: another user of the account.
    await h.cloud.authorizer.asAdmin(() =>
      elb().send(new DeleteListenerCommand({ ListenerArn: rec('nlb', PRIMARY).listenerArn })),
    );
    expectCanaryFailsOver();
    expectApiStillServesThroughItsEndpoint();
  });

  it('a deleted base path mapping of the custom domain fails the canary', async () => {
    await upSettled();
    const apigw = new APIGatewayClient({ region: PRIMARY });
    const domainName = 'api.octank.com';
    // Deleted by hand: another user of the account.
    await h.cloud.authorizer.asAdmin(async () => {
      const mappings = await apigw.send(new GetBasePathMappingsCommand({ domainName }));
      for (const m of mappings.items ?? []) {
        await apigw.send(new DeleteBasePathMappingCommand({ domainName, basePath: m.basePath }));
      }
    });
    expectCanaryFailsOver();
  });

  it('a listener certificate for another name fails the canary (the TLS name check is on)', async () => {
    await upSettled();
    const acm = new ACMClient({ region: PRIMARY });
    // Another name's certificate put on the listener by hand: another user of the account.
    const other = await h.cloud.authorizer.asAdmin(() =>
      acm.send(
        new RequestCertificateCommand({
          DomainName: 'www.example.org',
          CertificateAuthorityArn: rec('ca', PRIMARY).certificateAuthorityArn!,
        }),
      ),
    );
    minutes(2);
    await h.cloud.authorizer.asAdmin(() =>
      elb().send(
        new ModifyListenerCommand({
          ListenerArn: rec('nlb', PRIMARY).listenerArn,
          Certificates: [{ CertificateArn: other.CertificateArn }],
        }),
      ),
    );
    expectCanaryFailsOver();
  });

  it('an expired listener certificate fails the canary', async () => {
    await upSettled();
    // A certificate ACM could not renew, past its NotAfter.
    const cert = h.cloud.model(FakeAcm).find(PRIMARY, rec('ca', PRIMARY).certificateArn)!;
    cert.renewalFailure = 'the CA does not grant acm.amazonaws.com the renewal permissions';
    cert.notAfter = h.cloud.clock.now();
    expectCanaryFailsOver();
  });

  it('a certificate from a CA the canary does not trust fails it (verification is on)', async () => {
    await upSettled();
    // The canary given the secondary's root CA only: the primary listener's chain is not trusted.
    const c = h.cloud.model(FakeSynthetics).find(PRIMARY, 'drctl-pri')!;
    expect(c.files['drctlprobe-ca.pem']).toBe(
      readFileSync(join(h.dir, '.drctl', 'ca', `${PRIMARY}.pem`), 'utf8'),
    );
    c.files = {
      ...c.files,
      'drctlprobe-ca.pem': readFileSync(join(h.dir, '.drctl', 'ca', `${SECONDARY}.pem`), 'utf8'),
    };
    expectCanaryFailsOver();
  });

  it('the canary stays pinned to its region: with the name failed over, it still calls the primary NLB and passes', async () => {
    await upSettled({ steps: [...STEPS] });
    const id = rec('health-check', 'global').primaryHealthCheckId;
    const r53 = new Route53Client({ region: 'us-east-1' });
    // Failed over by hand: another user of the account.
    await h.cloud.authorizer.asAdmin(async () => {
      const hc = await r53.send(new GetHealthCheckCommand({ HealthCheckId: id }));
      await r53.send(
        new UpdateHealthCheckCommand({
          HealthCheckId: id,
          HealthCheckVersion: hc.HealthCheck!.HealthCheckVersion,
          Inverted: true,
        }),
      );
    });
    minutes(3);
    // Clients in the secondary VPC now get the secondary NLB for the name...
    const net = h.cloud.model(FakeNetwork);
    const answer = net.resolve(SECONDARY, rec('vpc', SECONDARY).vpcId, 'api.octank.com');
    expect(answer.addresses[0]).toMatch(/^172\.16\./);
    // ...while the primary's canary keeps testing the primary.
    const c = h.cloud.model(FakeSynthetics).find(PRIMARY, 'drctl-pri')!;
    expect(c.EnvironmentVariables.PROBE_VIA).toBe(rec('nlb', PRIMARY).dnsName);
    expect(
      runs()
        .slice(-2)
        .map((r) => r.outcome),
    ).toEqual(['pass', 'pass']);
  });
});
