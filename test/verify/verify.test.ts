import { ACMPCAClient, DeletePermissionCommand } from '@aws-sdk/client-acm-pca';
import { DeleteRouteCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DeleteListenerCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { StopCanaryCommand, SyntheticsClient } from '@aws-sdk/client-synthetics';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAcm, FakeEc2, FakeLambda, FakeSynthetics } from '../support/fake-cloud/index.js';
import { Harness, type RunOutput } from '../support/harness.js';

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';
const DAY_MS = 86_400_000;

interface Line {
  check: string;
  region?: string;
  status: 'ok' | 'warn' | 'fail' | 'error';
  text: string;
  fix?: string;
}
interface Result {
  ready: boolean;
  exitCode: number;
  checks: Line[];
  counts: Record<string, number>;
}

let h: Harness;
afterEach(() => h?.cleanup());

const rec = (step: string, scope: string) => h.state()!.steps[step]![scope]!.resources as Record<string, any>;
const resultOf = (r: RunOutput) => r.summary as unknown as Result;
const failing = (r: RunOutput) =>
  resultOf(r)
    .checks.filter((l) => l.status === 'fail')
    .map((l) => `${l.check}${l.region ? ` ${l.region}` : ''}`);

/** A complete `up`, a few minutes on: the canary has data by then. */
async function upReady(config?: Record<string, unknown>): Promise<void> {
  h = new Harness();
  if (config) h.writeConfig(config);
  await h.ok(['up']);
  h.cloud.clock.advance(5 * 60_000);
}

async function verify(): Promise<RunOutput> {
  return h.run(['--json', 'verify']);
}

describe('drctl verify', () => {
  it('with domainMode private (no NLB): ready, probing each region at its execute-api endpoint', async () => {
    await upReady({ domainMode: 'private' });
    const r = await verify();
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const res = resultOf(r);
    expect(res.checks.filter((l) => l.status !== 'ok')).toEqual([]);
    const text = (check: string, region?: string) =>
      res.checks.find((l) => l.check === check && (!region || l.region === region))!.text;
    expect(text('probe', SECONDARY)).toMatch(/through the us-west-1 endpoint: 200 from us-west-1/);
    expect(text('dns')).toMatch(/PRIMARY api\.octank\.com -> sa-east-1 endpoint with health check/);
    expect(text('listener', PRIMARY)).toMatch(/no NLB with domainMode private/);
  });

  it('is ready (exit 0) after up, makes no change, and keeps its result beside the state', async () => {
    await upReady();
    const snapshot = h.cloud.snapshot();
    const stateText = readFileSync(h.statePath, 'utf8');
    h.cloud.resetCalls();
    const started = h.cloud.clock.now();
    const r = await verify();
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const res = resultOf(r);
    expect(res.ready).toBe(true);
    expect(res.checks.filter((l) => l.status !== 'ok')).toEqual([]);
    // Every check ran, both regions where it is per region.
    const names = new Set(res.checks.map((l) => `${l.check}${l.region ? ` ${l.region}` : ''}`));
    for (const c of ['probe', 'certificate', 'ca-renewal', 'listener'])
      for (const region of [PRIMARY, SECONDARY]) expect(names).toContain(`${c} ${region}`);
    for (const c of [
      'state',
      'config',
      'resources',
      'health-check',
      `alarm ${PRIMARY}`,
      'dns',
      'peering',
      `targets ${SECONDARY}`,
    ])
      expect(names).toContain(c);
    // Read-only: the only non-read call is the probe's Invoke, which resolves a name and GETs /health.
    const writes = h.cloud.mutatingCalls;
    expect(writes.filter((c) => c.command !== 'Invoke')).toEqual([]);
    expect(writes.map((c) => (c.input as { FunctionName: string }).FunctionName)).toEqual([
      'drctl-probe',
      'drctl-probe',
    ]);
    expect(h.cloud.snapshot()).toEqual(snapshot);
    expect(readFileSync(h.statePath, 'utf8')).toBe(stateText);
    // About a minute at most, in virtual time.
    expect(h.cloud.clock.now() - started).toBeLessThan(60_000);
    const kept = JSON.parse(readFileSync(join(h.dir, '.drctl', 'verify', 'last.json'), 'utf8')) as Result;
    expect(kept).toMatchObject({ ready: true, exitCode: 0 });
    // For people: one line per check.
    const people = await h.run(['verify']);
    expect(people.code).toBe(0);
    expect(people.stdout).toMatch(
      /^ok +probe sa-east-1 +https:\/\/api\.octank\.com\/health through the sa-east-1 NLB: 200/m,
    );
    expect(people.stdout).toMatch(/verify: ready/);
  }, 60_000);

  const broken: Array<[string, string, () => Promise<void> | void]> = [
    [
      'a certificate near expiry',
      `certificate ${PRIMARY}`,
      () => {
        const acm = h.cloud.model(FakeAcm);
        const cert = acm.find(PRIMARY, rec('ca', PRIMARY).certificateArn)!;
        // Near expiry only if ACM's renewal fails (its CA grants renewal, so say why it fails).
        cert.renewalFailure = 'PCA_REQUEST_FAILED';
        cert.notAfter = h.cloud.clock.now() + 5 * DAY_MS;
      },
    ],
    [
      'no CA permission for ACM renewals',
      `ca-renewal ${SECONDARY}`,
      async () => {
        await new ACMPCAClient({ region: SECONDARY }).send(
          new DeletePermissionCommand({
            CertificateAuthorityArn: rec('ca', SECONDARY).certificateAuthorityArn,
            Principal: 'acm.amazonaws.com',
          }),
        );
      },
    ],
    [
      'a deleted listener',
      `listener ${SECONDARY}`,
      async () => {
        await new ElasticLoadBalancingV2Client({ region: SECONDARY }).send(
          new DeleteListenerCommand({ ListenerArn: rec('nlb', SECONDARY).listenerArn }),
        );
      },
    ],
    [
      'a failover record pointing elsewhere',
      'dns',
      async () => {
        const tp = rec('traffic-policy', 'global');
        const other = rec('nlb', SECONDARY);
        await new Route53Client({ region: 'us-east-1' }).send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: tp.hostedZoneId,
            ChangeBatch: {
              Changes: [
                {
                  Action: 'UPSERT',
                  ResourceRecordSet: {
                    Name: tp.recordName,
                    Type: 'A',
                    SetIdentifier: tp.setIdentifiers[0],
                    Failover: 'PRIMARY',
                    HealthCheckId: rec('health-check', 'global').primaryHealthCheckId,
                    AliasTarget: {
                      DNSName: other.dnsName,
                      HostedZoneId: other.canonicalHostedZoneId,
                      EvaluateTargetHealth: true,
                    },
                  },
                },
              ],
            },
          }),
        );
      },
    ],
    [
      'an alarm without data (the canary stopped)',
      `alarm ${PRIMARY}`,
      async () => {
        await new SyntheticsClient({ region: PRIMARY }).send(
          new StopCanaryCommand({ Name: rec('canary', PRIMARY).canaryName }),
        );
        h.cloud.clock.advance(15 * 60_000);
      },
    ],
    [
      'a peering route removed',
      `peering ${SECONDARY}`,
      async () => {
        const route = (rec('peering', 'global').routes as Array<Record<string, string>>).find(
          (r) => r.region === SECONDARY,
        )!;
        await new EC2Client({ region: SECONDARY }).send(
          new DeleteRouteCommand({
            RouteTableId: route.routeTableId,
            DestinationCidrBlock: route.destinationCidrBlock,
          }),
        );
      },
    ],
    [
      "a private subnet taken off its route table (it falls back to the VPC's main table)",
      `peering ${SECONDARY}`,
      () => {
        const vpc = rec('vpc', SECONDARY);
        const table = h.cloud
          .model(FakeEc2)
          .region(SECONDARY)
          .routeTables.get(vpc.privateRouteTableId as string)!;
        table.subnetIds = table.subnetIds.filter((s) => s !== (vpc.privateSubnetIds as string[])[0]);
      },
    ],
    [
      'the secondary targets unhealthy',
      `targets ${SECONDARY}`,
      () => {
        const sg = rec('vpc', SECONDARY).endpointSecurityGroupId as string;
        h.cloud.model(FakeEc2).region(SECONDARY).securityGroups.get(sg)!.ingress.length = 0;
        h.cloud.clock.advance(2 * 60_000);
      },
    ],
    [
      'the config changed since up',
      'config',
      () => {
        h.writeConfig({ rtoTargetSeconds: 120 });
      },
    ],
  ];

  it.each(broken)(
    'exits 3 naming the check for %s',
    async (_what, check, breakIt) => {
      await upReady();
      // Each fault is made by hand: another user of the account.
      await h.cloud.authorizer.asAdmin(async () => breakIt());
      const r = await verify();
      expect(r.code, r.stderr).toBe(3);
      expect(resultOf(r).ready).toBe(false);
      expect(failing(r)).toContain(check);
      const line = resultOf(r).checks.find(
        (l) => `${l.check}${l.region ? ` ${l.region}` : ''}` === check && l.status === 'fail',
      )!;
      expect(line.fix).toBeTruthy();
      const people = await h.run(['verify']);
      expect(people.code).toBe(3);
      expect(people.stdout).toMatch(new RegExp(`^fail +${check.replace(/ /g, ' +')} `, 'm'));
      expect(people.stdout).toMatch(/fix: /);
      expect(people.stdout).toMatch(/verify: NOT READY/);
    },
    60_000,
  );

  it('names what changed in the config', async () => {
    await upReady();
    h.writeConfig({ rtoTargetSeconds: 120, ttl: 30 });
    const line = resultOf(await verify()).checks.find((l) => l.check === 'config')!;
    expect(line.text).toMatch(/rtoTargetSeconds: 300 -> 120/);
    expect(line.text).toMatch(/ttl: 60 -> 30/);
  }, 60_000);

  it('warns, still ready (exit 0), when a certificate expires within 30 days', async () => {
    await upReady();
    const cert = h.cloud.model(FakeAcm).find(SECONDARY, rec('ca', SECONDARY).certificateArn)!;
    cert.renewalFailure = 'PCA_REQUEST_FAILED';
    cert.notAfter = h.cloud.clock.now() + 20 * DAY_MS;
    const r = await verify();
    expect(r.code).toBe(0);
    const line = resultOf(r).checks.find((l) => l.check === 'certificate' && l.region === SECONDARY)!;
    expect(line).toMatchObject({ status: 'warn' });
    expect(line.text).toMatch(/expires in 20 days/);
  }, 60_000);

  it("warns, still ready, when ACM's renewal of a certificate failed though it has time left", async () => {
    await upReady();
    const cert = h.cloud.model(FakeAcm).find(PRIMARY, rec('ca', PRIMARY).certificateArn)!;
    cert.renewalFailure = 'PCA_REQUEST_FAILED';
    cert.notAfter = h.cloud.clock.now() + 50 * DAY_MS;
    const r = await verify();
    expect(r.code).toBe(0);
    const line = resultOf(r).checks.find((l) => l.check === 'certificate' && l.region === PRIMARY)!;
    expect(line.status).toBe('warn');
    expect(line.text).toMatch(/expires in 50 days .*last renewal attempt FAILED \(PCA_REQUEST_FAILED\)/);
  }, 60_000);

  it('exits 1 (could not check) when AWS throttles every read for good', async () => {
    await upReady();
    h.cloud.faults = { throttleRate: 1 };
    const started = h.cloud.clock.now();
    const r = await verify();
    expect(r.code, r.stderr).toBe(1);
    expect(resultOf(r).checks.some((l) => l.status === 'error')).toBe(true);
    expect(resultOf(r).checks.filter((l) => l.status === 'fail')).toEqual([]);
    // It gives up after about a minute of retries, not the five minutes `up` allows.
    expect(h.cloud.clock.now() - started).toBeLessThanOrEqual(2 * 60_000);
  }, 60_000);

  it('exits 1 and names the read-only policy when a read is denied', async () => {
    await upReady();
    h.cloud.faults = { accessDenied: ['ListPermissions'] };
    const r = await verify();
    expect(r.code, r.stderr).toBe(1);
    const line = resultOf(r).checks.find((l) => l.status === 'error')!;
    expect(line.check).toBe('ca-renewal');
    expect(line.text).toMatch(/AccessDeniedException/);
    expect(line.fix).toMatch(/drctl iam-policy --read-only/);
  }, 60_000);

  it('is bad usage (exit 2) with no state to verify, and calls nothing', async () => {
    h = new Harness();
    const r = await h.run(['verify']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nothing to verify/);
    expect(h.cloud.calls).toEqual([]);
  });
});

describe('drctl verify when the probe function cannot run (issue 23: advice that leads somewhere)', () => {
  it('fails the probe check on the invocation, with its error, and does not blame the path', async () => {
    await upReady();
    for (const f of h.cloud.model(FakeLambda).functions.values()) f.files = {};
    const r = await verify();
    expect(r.code, r.stderr).toBe(3);
    const lines = resultOf(r).checks.filter((l) => l.check === 'probe');
    expect(lines.map((l) => l.status)).toEqual(['fail', 'fail']);
    for (const l of lines) {
      expect(l.text).toMatch(/not tried, the probe function drctl-probe in us-west-1 could not run/);
      expect(l.text).toMatch(/NotModelled: the fake cloud runs only the drctl probe/);
      expect(l.fix).toMatch(/^The invocation failed, not the network path/);
      expect(l.fix).toMatch(/aws logs tail \/aws\/lambda\/drctl-probe --region us-west-1/);
      expect(l.fix).not.toMatch(/NLB listener|drctl up/);
    }
  });
});

describe('drctl verify when Synthetics cannot run the canary (issue 23: advice that leads somewhere)', () => {
  const alarmLine = (r: RunOutput) =>
    resultOf(r).checks.find((l) => l.check === 'alarm' && l.region === PRIMARY && l.status === 'fail')!;

  it("names the canary's failed run and AWS's reason, and what to check, not the VPC's way out", async () => {
    await upReady();
    const reason = 'The role defined for the function cannot be assumed by Lambda.';
    h.cloud.model(FakeSynthetics).setRunError(PRIMARY, reason);
    h.cloud.clock.advance(15 * 60_000);
    const r = await verify();
    expect(r.code, r.stderr).toBe(3);
    const line = alarmLine(r);
    const name = rec('canary', PRIMARY).canaryName as string;
    expect(line.text).toContain(`canary ${name} in ${PRIMARY}: its last run FAILED: ${reason}`);
    expect(line.fix).toMatch(/^Synthetics could not run it, not the network path/);
    expect(line.fix).toContain(`IAM role ${rec('canary', PRIMARY).roleName as string}`);
    expect(line.fix).toMatch(/VPC subnets and security group/);
    expect(line.fix).toContain(`artifact bucket ${rec('canary', PRIMARY).bucketName as string}`);
    expect(line.fix).not.toMatch(/S3 and CloudWatch/);
  });

  it("names a canary in ERROR with AWS's StateReason", async () => {
    await upReady();
    const name = rec('canary', PRIMARY).canaryName as string;
    const c = h.cloud.model(FakeSynthetics).find(PRIMARY, name)!;
    c.state = 'ERROR';
    c.stateReason = 'Lambda function cwsyn-x could not be found';
    c.nextRunAt = undefined;
    h.cloud.clock.advance(15 * 60_000);
    const r = await verify();
    expect(r.code, r.stderr).toBe(3);
    const line = alarmLine(r);
    expect(line.text).toContain(
      `canary ${name} in ${PRIMARY} is ERROR: Lambda function cwsyn-x could not be found`,
    );
    expect(line.fix).toMatch(/^Synthetics could not run it/);
  });

  it('still points at the way out of the VPC when the runs return no result', async () => {
    await upReady();
    h.cloud.model(FakeSynthetics).setProbeOutcome(PRIMARY, 'silent');
    h.cloud.clock.advance(15 * 60_000);
    const r = await verify();
    expect(r.code, r.stderr).toBe(3);
    const line = alarmLine(r);
    expect(line.text).toMatch(/results do not reach CloudWatch/);
    expect(line.fix).toMatch(/way out of the VPC .* \(to S3 and CloudWatch\)/);
  });
});
