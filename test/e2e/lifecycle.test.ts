import '../support/fast-tmp.js';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STEPS } from '../../src/steps/index.js';
import { parseState } from '../../src/state/schema.js';
import { FakeAcm } from '../support/fake-cloud/index.js';
import { Harness, cleanUpSnapshot } from '../support/harness.js';
import { normalised } from '../support/normalise.js';

// Reliability and safety of the whole lifecycle (every step, both regions): a lost or unreadable
// state file, drift, transient AWS errors, Ctrl-C at any point, and resources that look like ours
// but are not.

let h: Harness;
afterEach(() => h?.cleanup());

/** The normalised snapshot of a clean full `up`: what every recovery must end with. */
let clean: string[];
beforeAll(async () => {
  clean = await cleanUpSnapshot();
});

type Done = { type: string; step: string; scope: string; outcome: string };
const doneOutcomes = (r: { events: unknown[] }) =>
  (r.events as Done[]).filter((e) => e.type === 'step-done').map((e) => `${e.step}@${e.scope}:${e.outcome}`);

describe('a lost or unreadable state file', () => {
  it('down --discover lists everything of the deployment by tag and name, deleting nothing; with --yes it deletes it all', async () => {
    h = new Harness();
    await h.ok(['up']);
    const before = h.cloud.snapshot();
    rmSync(h.statePath);
    h.cloud.resetCalls();

    const r = await h.run(['down', '--discover']);
    expect(r.code, r.stderr).toBe(0);
    expect(h.cloud.mutatingCalls).toEqual([]);
    expect(h.cloud.snapshot()).toEqual(before);
    for (const what of [
      /keypairs sa-east-1: key pair drctl-sa-east-1/,
      /keypairs us-west-1: key pair drctl-us-west-1/,
      /vpc us-west-1: stack drctl-vpc \(CREATE_COMPLETE\)/,
      /endpoints sa-east-1: endpoint vpce-/,
      /api us-west-1: REST API \w+ \(drctl-petstore\)/,
      /ca sa-east-1: root CA arn:aws:acm-pca:sa-east-1:/,
      /ca us-west-1: certificate arn:aws:acm:us-west-1:/,
      /domain sa-east-1: custom domain api\.octank\.com \(REGIONAL\)/,
      /nlb us-west-1: load balancer drctl-nlb-us-west-1/,
      /nlb sa-east-1: target group drctl-tg-sa-east-1/,
      /peering global: peering pcx-\w+ \(active/,
      /peering global: route 10\.0\.0\.0\/16 in rtb-\w+ \(us-west-1\)/,
      /hosted-zone global: private hosted zone Z\w+ \(octank\.com\./,
      /hosted-zone global: record api\.octank\.com\. A \(drctl-primary\)/,
      /canary sa-east-1: canary drctl-pri \(RUNNING\)/,
      /canary sa-east-1: bucket drctl-canary-111122223333-sa-east-1/,
      /health-check global: health check [0-9a-f-]+ \(primary/,
    ]) {
      expect(r.stdout).toMatch(what);
    }
    expect(r.stdout).toContain('nothing was deleted: `drctl down --discover --yes` deletes these');

    const json = await h.run(['--json', 'down', '--discover']);
    const found = json.summary!.found as Array<{ step: string; recorded: boolean }>;
    expect(found.length).toBeGreaterThanOrEqual(34);
    expect(found.every((f) => !f.recorded)).toBe(true);

    const gone = await h.run(['--json', 'down', '--discover', '--yes']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(h.cloud.snapshot()).toEqual([]);
    // Steps with nothing recorded still say they deleted what discovery found.
    expect(doneOutcomes(gone)).toContain('vpc@sa-east-1:deleted');
    expect(doneOutcomes(gone)).toContain('hosted-zone@global:deleted');
    expect((await h.run(['down', '--discover'])).stdout).toContain('nothing of deployment "drctl" found');
  });

  it('finds a private custom domain with its access association, and the secondary canary, too', async () => {
    h = new Harness();
    h.writeConfig({ domainMode: 'private', canary: { secondary: true } });
    await h.ok(['up']);
    rmSync(h.statePath);
    const r = await h.run(['down', '--discover']);
    expect(r.stdout).toMatch(/domain us-west-1: custom domain api\.octank\.com\+\w+ \(PRIVATE\)/);
    expect(r.stdout).toMatch(/domain sa-east-1: access association of api\.octank\.com\+\w+ with vpce-/);
    expect(r.stdout).toMatch(/canary us-west-1: canary drctl-sec \(RUNNING\)/);
    expect(r.stdout).toMatch(/health-check global: health check [0-9a-f-]+ \(secondary/);
    await h.ok(['down', '--discover', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('with an unreadable state file, down --discover --yes deletes by tag and leaves the file as it was', async () => {
    h = new Harness();
    await h.ok(['up']);
    const corrupt = readFileSync(h.statePath, 'utf8').slice(0, 200);
    writeFileSync(h.statePath, corrupt);
    const status = await h.run(['status']);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('drctl down --discover');

    const r = await h.run(['down', '--discover', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/state\.json cannot be read .*it is left as it is/);
    expect(r.stdout).toMatch(/unreadable state .* was left untouched/);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(readFileSync(h.statePath, 'utf8')).toBe(corrupt);
  });

  it('status --refresh reports recorded resources that are gone and tagged ones the state does not know', async () => {
    const firstThree = { steps: STEPS.slice(0, 3) };
    const probe = new Harness();
    let createEndpoint: number;
    try {
      await probe.ok(['up'], firstThree);
      createEndpoint = probe.cloud.mutatingCalls.findIndex((c) => c.command === 'CreateVpcEndpoint') + 1;
    } finally {
      probe.cleanup();
    }
    h = new Harness();
    // The endpoint is made, but the crash comes before its id is recorded.
    h.cloud.faults = { crashAfterMutating: createEndpoint };
    await h.run(['up'], firstThree);
    h.cloud.revive();
    const { EC2Client, DeleteKeyPairCommand } = await import('@aws-sdk/client-ec2');
    await new EC2Client({ region: 'us-west-1' }).send(
      new DeleteKeyPairCommand({ KeyName: 'drctl-us-west-1' }),
    );

    const r = await h.run(['status', '--refresh'], firstThree);
    expect(r.code, 'drift found is exit 2, like terraform plan -detailed-exitcode').toBe(2);
    expect(r.stdout).toContain('DRIFT: gone from AWS: key pair drctl-us-west-1');
    expect(r.stdout).toMatch(
      /DRIFT: in AWS with this deployment's tags, not in the state: endpoint vpce-\w+/,
    );
    const json = await h.run(['--json', 'status', '--refresh'], firstThree);
    expect(json.summary!.ok).toBe(false);
    expect(json.summary!.unrecorded).toEqual([
      {
        step: 'endpoints',
        scope: 'sa-east-1',
        resources: [expect.objectContaining({ id: expect.stringMatching(/^vpce-/) })],
      },
    ]);

    // up adopts the endpoint and replaces the key pair: no drift left.
    await h.ok(['up'], firstThree);
    expect(h.cloud.snapshot().filter((l) => l.includes('/vpc-endpoint/'))).toHaveLength(2);
    expect((await h.run(['status', '--refresh'], firstThree)).stdout).not.toContain('DRIFT');
  });
});

describe('transient AWS errors', () => {
  it('a full up and down converge with 20% of calls throttled', async () => {
    h = new Harness();
    h.cloud.seed(7);
    h.cloud.faults = { throttleRate: 0.2 };
    await h.ok(['up']);
    expect(
      h.cloud.calls.filter((c) => /Throttl|RequestLimitExceeded|TooManyRequests|SlowDown/.test(c.outcome))
        .length,
    ).toBeGreaterThan(30);
    expect(normalised(h.cloud.snapshot())).toEqual(clean);
    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('and with throttling, 5xx on reads, slow AWS and slow IAM propagation, every known eventual-consistency error included', async () => {
    h = new Harness();
    h.cloud.seed(11);
    h.cloud.profile = 'slow';
    // Minutes, not seconds: the canary's role is still unusable when CreateCanary comes.
    h.cloud.delayOverrides = { 'iam.propagate': 200 };
    h.cloud.faults = { throttleRate: 0.2, serverErrorRate: 0.1 };
    const up = await h.ok(['up']);
    expect(normalised(h.cloud.snapshot())).toEqual(clean);
    const seen = new Set(h.cloud.calls.map((c) => `${c.command}:${c.outcome}`));
    // The peering request is not visible in the accepter region at first.
    expect(seen).toContain('DescribeVpcPeeringConnections:InvalidVpcPeeringConnectionID.NotFound');
    // A new certificate cannot be described for a few seconds.
    expect(seen).toContain('DescribeCertificate:ResourceNotFoundException');
    // Reads answered 500/503, retried.
    expect([...seen].some((s) => /:(InternalError|InternalFailure|ServiceUnavailable)$/.test(s))).toBe(true);
    // Lambda (behind Synthetics) cannot assume the new role yet.
    expect(seen).toContain('CreateCanary:ValidationException');
    expect(up.summary!.ok).toBe(true);

    h.cloud.resetCalls();
    const down = await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
    // The stack waited for the canary's Lambda ENIs to drain before deleting the subnets.
    expect(
      down.events.some(
        (e) => e.type === 'step-progress' && /network interfaces in vpc-/.test((e as { text: string }).text),
      ),
    ).toBe(true);
  });
});

describe('interruption (Ctrl-C)', () => {
  /**
   * Run `args` and press Ctrl-C at the first moment every step waits (virtual time moves) after
   * `calls` AWS calls were made (never, if the run ends first). Also says what AWS was asked to
   * change after that.
   */
  async function interruptAfter(x: Harness, calls: number, args: string[]) {
    const ac = new AbortController();
    let settled = false;
    const pending = x.run(['--json', ...args], { signal: ac.signal }).finally(() => (settled = true));
    while (!settled && x.cloud.calls.length < calls) await new Promise((r) => setImmediate(r));
    const abortedAt = x.cloud.calls.length;
    ac.abort();
    const r = await pending;
    const mutatedAfter = x.cloud.calls.slice(abortedAt).filter((c) => c.mutating);
    return { ...r, mutatedAfter: mutatedAfter.map((c) => c.command) };
  }

  it('at any point of a full up leaves a valid state file, and the next up resumes to the clean result', async () => {
    const points = [10, 40, 80, 120, 160, 190];
    const failures: string[] = [];
    for (const k of points) {
      h = new Harness();
      try {
        const r = await interruptAfter(h, k, ['up']);
        if (r.code !== 130) failures.push(`after ${k} calls: exit ${r.code}`);
        if (r.mutatedAfter.length) failures.push(`after ${k} calls: then ${r.mutatedAfter.join(', ')}`);
        const state = parseState(readFileSync(h.statePath, 'utf8'), h.statePath);
        const statuses = Object.values(state.steps).flatMap((byScope) =>
          Object.values(byScope).map((x) => x.status),
        );
        if (statuses.some((s) => s === 'deleting')) failures.push(`after ${k} calls: a record says deleting`);
        if ((await h.run(['status'])).code !== 0) failures.push(`after ${k} calls: status fails`);
        const again = await h.run(['--json', 'up']);
        if (again.code !== 0) failures.push(`after ${k} calls: up exited ${again.code}: ${again.stderr}`);
        else if (JSON.stringify(normalised(h.cloud.snapshot())) !== JSON.stringify(clean))
          failures.push(`after ${k} calls: the resumed up did not end with the clean result`);
      } finally {
        h.cleanup();
      }
    }
    expect(failures).toEqual([]);
  });

  it('stops new AWS calls at once; the call in flight finishes, so its answer can be recorded', async () => {
    h = new Harness();
    const { AwsClients } = await import('../../src/aws/clients.js');
    const { InterruptedError } = await import('../../src/errors/errors.js');
    const { EC2Client, CreateKeyPairCommand, DescribeKeyPairsCommand } = await import('@aws-sdk/client-ec2');
    const ac = new AbortController();
    const aws = new AwsClients({
      clock: h.cloud.clock,
      signal: ac.signal,
      credentials: () => Promise.resolve({ accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' }),
    });
    const ec2 = aws.client(EC2Client, 'sa-east-1');
    // A key pair of no drctl name: the call is the test's, made as another user of the account.
    const inFlight = h.cloud.authorizer.asAdmin(() =>
      ec2.send(new CreateKeyPairCommand({ KeyName: 'in-flight' })),
    );
    ac.abort(new InterruptedError());
    await expect(inFlight).resolves.toMatchObject({ KeyName: 'in-flight' });
    await expect(ec2.send(new DescribeKeyPairsCommand({}))).rejects.toBeInstanceOf(InterruptedError);
    expect(h.cloud.calls.map((c) => c.command)).toEqual(['CreateKeyPair']);
  });

  it('during down leaves a valid state file, and the next down finishes', async () => {
    for (const k of [20, 90]) {
      h = new Harness();
      try {
        await h.ok(['up']);
        h.cloud.resetCalls();
        const r = await interruptAfter(h, k, ['down', '--yes']);
        expect(r.code, `after ${k} calls`).toBe(130);
        expect(r.mutatedAfter).toEqual([]);
        parseState(readFileSync(h.statePath, 'utf8'), h.statePath);
        expect(h.cloud.snapshot().length).toBeGreaterThan(0);
        await h.ok(['down', '--yes']);
        expect(h.cloud.snapshot()).toEqual([]);
      } finally {
        h.cleanup();
      }
    }
  });
});

describe('safety: down deletes only what is recorded or carries this deployment tag', () => {
  const other = (region: string, step: string) => [
    { Key: 'drctl:deployment', Value: 'other' },
    { Key: 'drctl:step', Value: step },
    { Key: 'drctl:region', Value: region },
  ];

  /** Resources with our names (or our domain) that someone else made: untagged or another deployment's. */
  async function plantLookAlikes(x: Harness): Promise<void> {
    // Someone else made them: another user of the account.
    await x.cloud.authorizer.asAdmin(async () => {
      const ec2 = await import('@aws-sdk/client-ec2');
      const cfn = await import('@aws-sdk/client-cloudformation');
      const elb = await import('@aws-sdk/client-elastic-load-balancing-v2');
      const iam = await import('@aws-sdk/client-iam');
      const s3 = await import('@aws-sdk/client-s3');
      const cw = await import('@aws-sdk/client-cloudwatch');
      const apigw = await import('@aws-sdk/client-api-gateway');
      const pca = await import('@aws-sdk/client-acm-pca');
      const r53 = await import('@aws-sdk/client-route-53');
      const R = 'sa-east-1';
      const ec2c = new ec2.EC2Client({ region: R });
      await ec2c.send(new ec2.CreateKeyPairCommand({ KeyName: 'drctl-sa-east-1' }));
      await new ec2.EC2Client({ region: 'us-west-1' }).send(
        new ec2.CreateKeyPairCommand({
          KeyName: 'drctl-us-west-1',
          TagSpecifications: [{ ResourceType: 'key-pair', Tags: other('us-west-1', 'keypairs') }],
        }),
      );
      const cf = new cfn.CloudFormationClient({ region: R });
      const { StackId } = await cf.send(
        new cfn.CreateStackCommand({
          StackName: 'drctl-vpc',
          TemplateBody: readFileSync(new URL('../../templates/vpc.template.json', import.meta.url), 'utf8'),
          Parameters: [
            { ParameterKey: 'VpcCidr', ParameterValue: '10.0.0.0/16' },
            { ParameterKey: 'PeerVpcCidr', ParameterValue: '172.16.0.0/16' },
            { ParameterKey: 'KeyName', ParameterValue: 'drctl-sa-east-1' },
            { ParameterKey: 'SshCidr', ParameterValue: '' },
            { ParameterKey: 'InstanceType', ParameterValue: 't3.micro' },
          ],
          Tags: [{ Key: 'team', Value: 'next-door' }],
        }),
      );
      x.cloud.clock.advance(30 * 60_000);
      const stack = (await cf.send(new cfn.DescribeStacksCommand({ StackName: StackId }))).Stacks![0]!;
      const out = (k: string) => stack.Outputs!.find((o) => o.OutputKey === k)!.OutputValue!;
      const vpcId = out('VpcId');
      const subnets = out('PrivateSubnetIds').split(',');
      const elbc = new elb.ElasticLoadBalancingV2Client({ region: R });
      await elbc.send(
        new elb.CreateLoadBalancerCommand({
          Name: 'drctl-nlb-sa-east-1',
          Type: 'network',
          Scheme: 'internal',
          Subnets: subnets,
        }),
      );
      await elbc.send(
        new elb.CreateTargetGroupCommand({
          Name: 'drctl-tg-sa-east-1',
          Protocol: 'TLS',
          Port: 443,
          VpcId: vpcId,
          TargetType: 'ip',
          Tags: other(R, 'nlb'),
        }),
      );
      await new iam.IAMClient({ region: 'us-east-1' }).send(
        new iam.CreateRoleCommand({
          RoleName: 'drctl-canary-sa-east-1',
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
            ],
          }),
          Tags: other(R, 'canary'),
        }),
      );
      await new s3.S3Client({ region: R }).send(
        new s3.CreateBucketCommand({
          Bucket: 'drctl-canary-111122223333-sa-east-1',
          CreateBucketConfiguration: { LocationConstraint: R },
        }),
      );
      await new cw.CloudWatchClient({ region: R }).send(
        new cw.PutMetricAlarmCommand({
          AlarmName: 'drctl-canary-sa-east-1',
          Namespace: 'NextDoor',
          MetricName: 'Errors',
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        }),
      );
      const api = new apigw.APIGatewayClient({ region: R });
      await api.send(
        new apigw.ImportRestApiCommand({
          body: new TextEncoder().encode(
            JSON.stringify({
              swagger: '2.0',
              info: { title: 'drctl-petstore', description: 'next door' },
              paths: {},
            }),
          ),
        }),
      );
      const certificateArn = x.cloud.model(FakeAcm).seed(R, { domainName: '*.octank.com' });
      await api.send(
        new apigw.CreateDomainNameCommand({
          domainName: 'api.octank.com',
          regionalCertificateArn: certificateArn,
          endpointConfiguration: { types: ['REGIONAL'] },
        }),
      );
      await new pca.ACMPCAClient({ region: R }).send(
        new pca.CreateCertificateAuthorityCommand({
          CertificateAuthorityType: 'ROOT',
          CertificateAuthorityConfiguration: {
            KeyAlgorithm: 'RSA_2048',
            SigningAlgorithm: 'SHA256WITHRSA',
            Subject: { CommonName: 'next door' },
          },
          Tags: other(R, 'ca'),
        }),
      );
      const route53 = new r53.Route53Client({ region: 'us-east-1' });
      await route53.send(
        new r53.CreateHostedZoneCommand({
          Name: 'octank.com',
          CallerReference: 'next-door-1',
          VPC: { VPCRegion: R, VPCId: vpcId },
          HostedZoneConfig: { PrivateZone: true },
        }),
      );
      await route53.send(
        new r53.CreateHealthCheckCommand({
          CallerReference: 'drctl-drctl-primary-lookalike',
          HealthCheckConfig: {
            Type: 'CLOUDWATCH_METRIC',
            AlarmIdentifier: { Name: 'drctl-canary-sa-east-1', Region: R },
            InsufficientDataHealthStatus: 'Unhealthy',
          },
        }),
      );
      await ec2c.send(
        new ec2.CreateVpcEndpointCommand({
          VpcEndpointType: 'Interface',
          VpcId: vpcId,
          ServiceName: 'com.amazonaws.sa-east-1.execute-api',
          SubnetIds: subnets,
          TagSpecifications: [{ ResourceType: 'vpc-endpoint', Tags: other(R, 'endpoints') }],
        }),
      );
      x.cloud.clock.advance(10 * 60_000);
    });
  }

  it('never deletes look-alikes (same names, no tag or another deployment tag) and names them in warnings', async () => {
    h = new Harness();
    await plantLookAlikes(h);
    const planted = h.cloud.snapshot();
    h.cloud.resetCalls();
    const discover = await h.run(['down', '--discover']);
    expect(discover.stdout).toContain('nothing of deployment "drctl" found');

    const r = await h.run(['down', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(h.cloud.snapshot()).toEqual(planted);
    expect(h.cloud.mutatingCalls.map((c) => c.command)).toEqual([]);
    for (const left of [
      "left key pair drctl-sa-east-1: it is not drctl's",
      "left key pair drctl-us-west-1: it is not drctl's",
      "left stack drctl-vpc: it is not drctl's",
      "left load balancer drctl-nlb-sa-east-1: it is not drctl's",
      "left target group drctl-tg-sa-east-1: it is not drctl's",
      "left IAM role drctl-canary-sa-east-1: it is not drctl's",
      "left bucket drctl-canary-111122223333-sa-east-1: it is not drctl's",
      "left alarm drctl-canary-sa-east-1: it is not drctl's",
      "left custom domain api.octank.com: it is not drctl's",
    ]) {
      expect(r.stderr).toContain(left);
    }
    expect(r.stderr).toMatch(/left REST API \w+ \(drctl-petstore\): it has our name but is not drctl's/);
    expect(r.stderr).toMatch(
      /left private hosted zone Z\w+ \(octank\.com\.\): it has our domain but is not drctl's/,
    );
  });

  it('deletes everything of ours and leaves the look-alikes that live beside it', async () => {
    h = new Harness();
    await h.ok(['up']);
    const mine = h.cloud.snapshot();
    const apigw = await import('@aws-sdk/client-api-gateway');
    const pca = await import('@aws-sdk/client-acm-pca');
    // Look-alikes someone else made: another user of the account.
    await h.cloud.authorizer.asAdmin(async () => {
      await new apigw.APIGatewayClient({ region: 'us-west-1' }).send(
        new apigw.ImportRestApiCommand({
          body: new TextEncoder().encode(
            JSON.stringify({ swagger: '2.0', info: { title: 'drctl-petstore' }, paths: {} }),
          ),
        }),
      );
      await new pca.ACMPCAClient({ region: 'sa-east-1' }).send(
        new pca.CreateCertificateAuthorityCommand({
          CertificateAuthorityType: 'ROOT',
          CertificateAuthorityConfiguration: {
            KeyAlgorithm: 'RSA_2048',
            SigningAlgorithm: 'SHA256WITHRSA',
            Subject: { CommonName: 'next door' },
          },
          Tags: other('sa-east-1', 'ca'),
        }),
      );
    });
    h.cloud.model(FakeAcm).seed('sa-east-1', { domainName: '*.octank.com' });
    h.cloud.clock.advance(10 * 60_000); // the other CA settles in PENDING_CERTIFICATE
    const lookAlikes = h.cloud.snapshot().filter((l) => !mine.includes(l));
    expect(lookAlikes).toHaveLength(3);

    rmSync(h.statePath); // the harder case: nothing recorded, tags alone decide
    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual(lookAlikes);
  });

  it('down asks for the deployment name; a wrong answer deletes nothing; without a terminal it needs --yes', async () => {
    const firstTwo = { steps: STEPS.slice(0, 2) };
    h = new Harness();
    await h.ok(['up'], firstTwo);
    const before = h.cloud.snapshot();
    let r = await h.run(['down'], { ...firstTwo, isTTY: true, confirm: () => Promise.resolve('yes') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not confirmed; nothing was deleted');
    expect(h.cloud.snapshot()).toEqual(before);
    r = await h.run(['down'], firstTwo);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect(h.cloud.snapshot()).toEqual(before);
    r = await h.run(['down'], { ...firstTwo, isTTY: true, confirm: () => Promise.resolve('drctl') });
    expect(r.code, r.stderr).toBe(0);
    expect(h.cloud.snapshot()).toEqual([]);
  });
});
