import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { CreateRoleCommand, DeleteRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateCanaryCommand,
  DeleteCanaryCommand,
  StartCanaryCommand,
  StopCanaryCommand,
  SyntheticsClient,
  TagResourceCommand,
} from '@aws-sdk/client-synthetics';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepName } from '../../src/steps/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CANARY_CA_PATH,
  CANARY_HANDLER,
  CANARY_SCRIPT,
  CANARY_SCRIPT_PATH,
} from '../../src/assets/canary-script.js';
import { pickRuntime } from '../../src/steps/canary/index.js';
import { FakeIam, FakeS3, FakeSynthetics } from '../support/fake-cloud/index.js';
import { RUNTIME_VERSIONS } from '../support/fake-cloud/synthetics.js';
import { crashEachMutatingCall, expectReadOnlyRerun } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { upTo } from '../support/steps.js';

const PRIOR = upTo('nlb', 'domain');
const WITH_CANARY = upTo('canary', 'domain');
const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';

let h: Harness;
afterEach(() => h?.cleanup());

const count = (snap: string[], kind: string) => snap.filter((l) => l.includes(kind)).length;
const rec = <N extends StepName>(step: N, scope: string) => h.outputs(step, scope);
const normalize = (snap: string[]) =>
  snap.map((l) =>
    l
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID')
      .replace(/-[0-9a-f]{8,}/g, '-ID'),
  );
const canaryCalls = () =>
  h.cloud.calls.filter((c) => ['iam', 's3', 'synthetics', 'cloudwatch'].includes(c.service));
const alarmState = async (region: string, name: string) => {
  const r = await new CloudWatchClient({ region }).send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
  return r.MetricAlarms![0]!;
};
const minutes = (n: number) => h.cloud.clock.advance(n * 60_000);

describe('canary step on the fake cloud', () => {
  it('up makes one running VPC canary in the primary, calling https://<host>.<domain>/health through its own NLB', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CANARY);
    const snap = h.cloud.snapshot();
    expect(
      snap
        .filter((l) => /synthetics|lambda\/|iam\/|s3\/|cloudwatch\//.test(l))
        .map((l) => l.replace(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/, 'UUID')),
    ).toEqual([
      'cloudwatch/sa-east-1/alarm/drctl-canary-sa-east-1',
      'iam/global/role-policy/drctl-canary-sa-east-1/drctl-canary',
      'iam/global/role/drctl-canary-sa-east-1',
      'lambda/sa-east-1/function/cwsyn-drctl-pri-UUID',
      's3/sa-east-1/bucket/drctl-canary-111122223333-sa-east-1',
      'synthetics/sa-east-1/canary/drctl-pri(RUNNING)',
    ]);
    const out = rec('canary', PRIMARY);
    const api = rec('api', PRIMARY);
    const vpc = rec('vpc', PRIMARY);
    expect(out).toMatchObject({
      enabled: true,
      canaryName: 'drctl-pri',
      alarmName: 'drctl-canary-sa-east-1',
      bucketName: 'drctl-canary-111122223333-sa-east-1',
      roleName: 'drctl-canary-sa-east-1',
      runtimeVersion: 'syn-nodejs-puppeteer-11.0',
      probeUrl: 'https://api.octank.com/health',
      probeVia: rec('nlb', PRIMARY).dnsName,
    });
    expect(out.probeVia).toMatch(/^internal-.*\.elb\.sa-east-1\.amazonaws\.com$/);
    expect(api.vpceInvokeUrl).toBeDefined();
    expect(rec('canary', SECONDARY)).toEqual({ enabled: false });

    const c = h.cloud.model(FakeSynthetics).find(PRIMARY, 'drctl-pri')!;
    expect(c.VpcConfig).toEqual({
      VpcId: vpc.vpcId,
      SubnetIds: vpc.privateSubnetIds,
      SecurityGroupIds: [vpc.endpointSecurityGroupId],
    });
    expect(c.EnvironmentVariables).toMatchObject({
      PROBE_HOST: 'api.octank.com',
      PROBE_VIA: out.probeVia,
      PROBE_PATH: '/health',
      EXPECTED_REGION: PRIMARY,
    });
    expect([c.Expression, c.DurationInSeconds, c.Handler]).toEqual(['rate(1 minute)', 0, CANARY_HANDLER]);
    expect(c.ArtifactS3Location).toBe(`s3://${out.bucketName}/canary/${PRIMARY}/drctl-pri`);
    expect(c.tags).toMatchObject({
      'drctl:deployment': 'drctl',
      'drctl:step': 'canary',
      'drctl:region': PRIMARY,
    });

    const create = h.cloud.calls.find((x) => x.command === 'CreateCanary' && x.outcome === 'ok')!
      .input as any;
    const files = unzipSync(create.Code.ZipFile);
    expect(Object.keys(files).sort()).toEqual([CANARY_CA_PATH, CANARY_SCRIPT_PATH]);
    expect(strFromU8(files[CANARY_SCRIPT_PATH]!)).toBe(CANARY_SCRIPT);
    // The region's own private root CA, as the ca step wrote it.
    expect(strFromU8(files[CANARY_CA_PATH]!)).toBe(
      readFileSync(join(h.dir, '.drctl', 'ca', `${PRIMARY}.pem`), 'utf8'),
    );
    expect(strFromU8(files[CANARY_CA_PATH]!)).toMatch(/^-----BEGIN CERTIFICATE-----/);

    // One Lambda ENI per private subnet, named as Lambda names them.
    const enis = snap.filter((l) => l.includes('(lambda:cwsyn-drctl-pri-'));
    expect(enis).toHaveLength(vpc.privateSubnetIds.length);
  });

  it('the bucket is private, encrypted, TLS-only and expires artifacts; the role can do only what the canary needs', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CANARY);
    const out = rec('canary', PRIMARY);
    const b = h.cloud.model(FakeS3).buckets.get(out.bucketName!)!;
    expect(b.publicAccessBlock).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect(JSON.stringify(b.encryption)).toContain('AES256');
    expect(JSON.parse(b.policy!).Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
    expect(b.lifecycle!.Rules[0]!.Expiration).toEqual({ Days: 7 });
    expect(b.tags).toMatchObject({ 'drctl:deployment': 'drctl' });

    const role = h.cloud.model(FakeIam).roles.get(out.roleName!)!;
    expect(JSON.parse(role.AssumeRolePolicyDocument).Statement[0].Principal).toEqual({
      Service: 'lambda.amazonaws.com',
    });
    const statements = JSON.parse(role.inline.get('drctl-canary')!).Statement as any[];
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.sort()).toEqual(
      [
        'cloudwatch:PutMetricData',
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetBucketLocation',
        's3:GetObject',
        's3:ListAllMyBuckets',
        's3:PutObject',
      ].sort(),
    );
    const byAction = (a: string) => statements.find((s) => [s.Action].flat().includes(a));
    expect(byAction('s3:PutObject').Resource).toBe(`arn:aws:s3:::${out.bucketName}/canary/*`);
    expect(byAction('logs:PutLogEvents').Resource).toBe(
      `arn:aws:logs:${PRIMARY}:111122223333:log-group:/aws/lambda/cwsyn-drctl-pri-*`,
    );
    expect(byAction('cloudwatch:PutMetricData').Condition).toEqual({
      StringEquals: { 'cloudwatch:namespace': 'CloudWatchSynthetics' },
    });
  });

  it('the alarm watches the canary: OK while the API answers, ALARM when it fails, INSUFFICIENT_DATA when silent', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CANARY);
    const out = rec('canary', PRIMARY);
    const a = await alarmState(PRIMARY, out.alarmName!);
    expect(a).toMatchObject({
      Namespace: 'CloudWatchSynthetics',
      MetricName: 'SuccessPercent',
      Dimensions: [{ Name: 'CanaryName', Value: out.canaryName }],
      Statistic: 'Average',
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Threshold: 100,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'missing',
    });
    minutes(4);
    expect((await alarmState(PRIMARY, out.alarmName!)).StateValue).toBe('OK');
    // SetAlarmState holds only until the next evaluation, then the data decides again.
    // Forced by hand, by another user: drctl never calls SetAlarmState.
    await h.cloud.authorizer.asAdmin(() =>
      new CloudWatchClient({ region: PRIMARY }).send(
        new SetAlarmStateCommand({ AlarmName: out.alarmName, StateValue: 'ALARM', StateReason: 'test' }),
      ),
    );
    expect((await alarmState(PRIMARY, out.alarmName!)).StateValue).toBe('ALARM');
    minutes(1);
    expect((await alarmState(PRIMARY, out.alarmName!)).StateValue).toBe('OK');
    const bucket = h.cloud.model(FakeS3).buckets.get(out.bucketName!)!;
    expect(bucket.objects.size).toBeGreaterThan(0);

    const syn = h.cloud.model(FakeSynthetics);
    syn.setProbeOutcome(PRIMARY, 'fail');
    minutes(4);
    expect((await alarmState(PRIMARY, out.alarmName!)).StateValue).toBe('ALARM');
    syn.setProbeOutcome(PRIMARY, 'pass');
    minutes(4);
    expect((await alarmState(PRIMARY, out.alarmName!)).StateValue).toBe('OK');
    // Missing data stays missing: the last real datapoints count until the evaluation range is empty.
    syn.setProbeOutcome(PRIMARY, 'silent');
    minutes(3);
    expect((await alarmState(PRIMARY, out.alarmName!)).StateValue).toBe('OK');
    minutes(4);
    const silent = await alarmState(PRIMARY, out.alarmName!);
    expect(silent.StateValue).toBe('INSUFFICIENT_DATA');
    expect(silent.StateReason).toMatch(/no datapoints/);
  });

  it('CreateCanary refused while the new role propagates to Lambda is retried until it succeeds, making one canary', async () => {
    h = new Harness();
    // With the VPC, endpoint and API already there, CreateCanary follows CreateRole at once.
    await h.ok(['up'], PRIOR);
    h.cloud.delayOverrides = { 'iam.propagate': 25 };
    const r = await h.ok(['up'], WITH_CANARY);
    const creates = h.cloud.calls.filter((c) => c.command === 'CreateCanary');
    expect(creates.filter((c) => c.outcome === 'ValidationException').length).toBeGreaterThan(0);
    expect(creates.filter((c) => c.outcome === 'ok')).toHaveLength(1);
    expect(count(h.cloud.snapshot(), '/canary/')).toBe(1);
    expect(
      r.events.some((e) => e.type === 'step-progress' && /IAM role to propagate/.test((e as any).text)),
    ).toBe(true);
  });

  it('a canary that goes to ERROR because Lambda could not assume its new role is made again, once', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    h.cloud.model(FakeSynthetics).roleNotAssumable = 'error';
    h.cloud.delayOverrides = { 'iam.propagate': 30 };
    const r = await h.ok(['up'], WITH_CANARY);
    expect(
      r.events.some((e) => e.type === 'log' && /could not assume its new role/.test((e as any).message)),
    ).toBe(true);
    const creates = h.cloud.calls.filter((c) => c.command === 'CreateCanary' && c.outcome === 'ok');
    expect(creates.length).toBeGreaterThan(1);
    const snap = h.cloud.snapshot();
    expect(count(snap, '/canary/')).toBe(1);
    expect(snap.find((l) => l.includes('/canary/'))).toContain('(RUNNING)');
    expect(count(snap, '/function/')).toBe(1);
  });

  it('CreateCanary refused until the role\'s new policy has spread ("does not have permissions to call CreateNetworkInterface") is retried, making one canary', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    h.cloud.delayOverrides = { 'iam.propagate': 0, 'iam.policyPropagate': 40 };
    await h.ok(['up'], WITH_CANARY);
    const creates = h.cloud.calls.filter((c) => c.command === 'CreateCanary');
    expect(creates[0]!.outcome).toBe('ValidationException');
    expect(creates.filter((c) => c.outcome === 'ok')).toHaveLength(1);
    expect(count(h.cloud.snapshot(), '/canary/')).toBe(1);
  });

  it("a canary that goes to ERROR because its role's new ENI permission had not spread is made again", async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    h.cloud.model(FakeSynthetics).roleNotAssumable = 'error';
    h.cloud.delayOverrides = { 'iam.propagate': 0, 'iam.policyPropagate': 40 };
    await h.ok(['up'], WITH_CANARY);
    expect(
      h.cloud.calls.filter((c) => c.command === 'CreateCanary' && c.outcome === 'ok').length,
    ).toBeGreaterThan(1);
    const snap = h.cloud.snapshot();
    expect(count(snap, '/canary/')).toBe(1);
    expect(snap.find((l) => l.includes('/canary/'))).toContain('(RUNNING)');
  });

  it("a canary Synthetics leaves in ERROR stops up with the region, AWS's reason and what to check (issue 23)", async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    // A role Lambda never may assume (a broken trust policy): every canary made ends in ERROR.
    h.cloud.model(FakeSynthetics).roleNotAssumable = 'error';
    h.cloud.delayOverrides = { 'iam.propagate': 100_000 };
    const r = await h.run(['up'], WITH_CANARY);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /canary drctl-pri in sa-east-1 is ERROR: The role defined for the function cannot be assumed by Lambda\./,
    );
    expect(r.stderr).toMatch(/Synthetics could not run it, not the network path/);
    expect(r.stderr).toMatch(/IAM role drctl-canary-sa-east-1/);
    expect(r.stderr).toMatch(/VPC subnets and security group/);
    expect(r.stderr).toMatch(/artifact bucket drctl-canary-\d{12}-sa-east-1/);
  });

  it('running up again makes no mutating call and one read per recorded resource', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CANARY);
    await expectReadOnlyRerun(h, ['up'], WITH_CANARY);
    expect(
      canaryCalls()
        .map((c) => c.command)
        .sort(),
    ).toEqual(['DescribeAlarms', 'GetBucketTagging', 'GetCanary', 'GetRole']);
  });

  it('down stops and deletes the canary with its Lambda, then alarm, bucket and role; the VPC waits for the Lambda ENIs', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CANARY);
    minutes(3); // some runs, so the bucket holds artifacts
    h.cloud.resetCalls();
    const r = await h.ok(['down', '--yes'], WITH_CANARY);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()!.steps).toEqual({});
    const commands = h.cloud.calls
      .filter((c) => c.service === 'synthetics' && c.mutating)
      .map((c) => c.command);
    expect(commands).toEqual(['StopCanary', 'DeleteCanary']);
    expect((h.cloud.calls.find((c) => c.command === 'DeleteCanary')!.input as any).DeleteLambda).toBe(true);
    expect(h.cloud.calls.some((c) => c.command === 'DeleteObjects' && c.outcome === 'ok')).toBe(true);
    // The Lambda ENIs linger ('lambda.eniRelease'); the vpc step's down waits with progress.
    const waits = r.events.filter(
      (e) =>
        e.type === 'step-progress' &&
        (e as any).step === 'vpc' &&
        /network interfaces/.test((e as any).text) &&
        /AWS Lambda VPC ENI-cwsyn-drctl-pri-/.test((e as any).text),
    );
    expect(waits.length).toBeGreaterThan(0);
  });

  it('a crash right after each mutating call of the canary step, then up, ends with exactly one of each resource', async () => {
    let expected: string[] = [];
    await crashEachMutatingCall({
      prepare: async (x) => {
        x.cloud.delayOverrides = { 'iam.propagate': 0 };
        await x.ok(['up'], PRIOR);
      },
      args: ['up'],
      deps: WITH_CANARY,
      clean: (mutating, clean) => {
        expected = normalize(clean.cloud.snapshot());
        expect(mutating.map((c) => c.split(' ')[1])).toEqual([
          'CreateRole',
          'CreateBucket',
          'PutPublicAccessBlock',
          'PutBucketEncryption',
          'PutBucketPolicy',
          'PutBucketLifecycleConfiguration',
          'PutBucketTagging',
          'PutRolePolicy',
          'TagRole',
          'CreateCanary',
          'PutMetricAlarm',
          'StartCanary',
        ]);
      },
      crashedCode: 1,
      check: async (x, what) => {
        const snap = x.cloud.snapshot();
        for (const kind of ['/canary/', '/function/', '/role/', '/role-policy/', '/bucket/', '/alarm/']) {
          expect(count(snap, kind), `${what}: ${kind}`).toBe(1);
        }
        expect(
          snap.find((l) => l.includes('/canary/')),
          what,
        ).toContain('(RUNNING)');
        expect(normalize(snap), what).toEqual(expected);
        await x.ok(['down', '--yes'], WITH_CANARY);
        expect(x.cloud.snapshot(), what).toEqual([]);
      },
    });
  });

  it('with canary.secondary, the secondary gets its own canary calling through its own NLB; turning it off removes it', async () => {
    h = new Harness();
    h.writeConfig({ canary: { secondary: true } });
    await h.ok(['up'], WITH_CANARY);
    const sec = rec('canary', SECONDARY);
    expect(sec).toMatchObject({
      enabled: true,
      canaryName: 'drctl-sec',
      alarmName: 'drctl-canary-us-west-1',
      probeUrl: 'https://api.octank.com/health',
      probeVia: rec('nlb', SECONDARY).dnsName,
    });
    expect(sec.probeVia).toContain('.us-west-1.');
    expect(
      h.cloud.model(FakeSynthetics).find(SECONDARY, 'drctl-sec')!.EnvironmentVariables.EXPECTED_REGION,
    ).toBe(SECONDARY);
    expect(count(h.cloud.snapshot(), '/canary/')).toBe(2);

    h.writeConfig({ canary: { secondary: false } });
    const r = await h.ok(['up'], WITH_CANARY);
    expect(rec('canary', SECONDARY)).toEqual({ enabled: false });
    const snap = h.cloud.snapshot();
    expect(snap.filter((l) => l.includes(SECONDARY) && /canary|alarm|bucket|function/.test(l))).toEqual([]);
    expect(snap.filter((l) => l.includes('role/drctl-canary-us-west-1'))).toEqual([]);
    expect(r.events.some((e) => e.type === 'log' && /canary.secondary is off/.test((e as any).message))).toBe(
      true,
    );
    await h.ok(['down', '--yes'], WITH_CANARY);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('a canary made from other settings (its config tag differs) is updated in place, never replaced', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CANARY);
    const id = h.cloud.model(FakeSynthetics).find(PRIMARY, 'drctl-pri')!.Id;
    const arn = `arn:aws:synthetics:${PRIMARY}:111122223333:canary:drctl-pri`;
    await new SyntheticsClient({ region: PRIMARY }).send(
      new TagResourceCommand({ ResourceArn: arn, Tags: { 'drctl:config-sha': 'stale' } }),
    );
    const r = await h.ok(['up'], WITH_CANARY);
    expect(r.events.some((e) => e.type === 'log' && /updating it in place/.test((e as any).message))).toBe(
      true,
    );
    const c = h.cloud.model(FakeSynthetics).find(PRIMARY, 'drctl-pri')!;
    expect(c.Id).toBe(id);
    expect(c.updates).toBe(1);
    expect(c.tags['drctl:config-sha']).not.toBe('stale');
    const made = h.cloud.calls.filter(
      (x) => ['DeleteCanary', 'CreateCanary'].includes(x.command) && x.outcome === 'ok',
    );
    expect(made.map((x) => x.command)).toEqual(['CreateCanary']);
    const snap = h.cloud.snapshot();
    expect(count(snap, '/canary/')).toBe(1);
    expect(snap.find((l) => l.includes('/canary/'))).toContain('(RUNNING)');
    expect(count(snap, '/function/')).toBe(1);
    await h.ok(['down', '--yes'], WITH_CANARY);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('a crash right after UpdateCanary, then up: the same canary, RUNNING, with its config tag', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CANARY);
    const id = h.cloud.model(FakeSynthetics).find(PRIMARY, 'drctl-pri')!.Id;
    const arn = `arn:aws:synthetics:${PRIMARY}:111122223333:canary:drctl-pri`;
    await new SyntheticsClient({ region: PRIMARY }).send(
      new TagResourceCommand({ ResourceArn: arn, Tags: { 'drctl:config-sha': 'stale' } }),
    );
    h.cloud.revive();
    h.cloud.faults = { crashAfterMutating: 1 };
    const crashed = await h.run(['--json', 'up'], WITH_CANARY);
    expect(crashed.code).toBe(1);
    h.cloud.revive();
    // Still UPDATING: the next up waits it out (ConflictException) and updates it again.
    expect(h.cloud.model(FakeSynthetics).find(PRIMARY, 'drctl-pri')!.state).toBe('UPDATING');
    await h.ok(['up'], WITH_CANARY);
    const c = h.cloud.model(FakeSynthetics).find(PRIMARY, 'drctl-pri')!;
    expect([c.Id, c.state]).toEqual([id, 'RUNNING']);
    expect(c.tags['drctl:config-sha']).not.toBe('stale');
    await expectReadOnlyRerun(h, ['up'], WITH_CANARY);
  });

  it('status --refresh names the canary resources gone from AWS', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CANARY);
    await new CloudWatchClient({ region: PRIMARY }).send(
      new DeleteAlarmsCommand({ AlarmNames: ['drctl-canary-sa-east-1'] }),
    );
    const r = await h.run(['status', '--refresh'], WITH_CANARY);
    expect(r.stdout).toContain('DRIFT: gone from AWS: alarm drctl-canary-sa-east-1');
    expect(r.stdout).not.toMatch(/gone from AWS: .*canary drctl-pri/);
  });

  it("status --refresh names a canary Synthetics cannot run, with AWS's reason and what to check (issue 23)", async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CANARY);
    minutes(3);
    const reason = 'The role defined for the function cannot be assumed by Lambda.';
    h.cloud.model(FakeSynthetics).setRunError(PRIMARY, reason);
    minutes(3);
    const r = await h.run(['status', '--refresh'], WITH_CANARY);
    expect(r.stdout).toContain(`UNHEALTHY: canary drctl-pri in ${PRIMARY}: its last run FAILED: ${reason}`);
    expect(r.stdout).toMatch(
      /fix: Synthetics could not run it, not the network path: check its IAM role drctl-canary-sa-east-1/,
    );
    // Not drift: what the state records is all there.
    expect(r.code).toBe(0);
  });

  it('refuses to adopt an IAM role of the same name that drctl did not make, and down leaves it', async () => {
    h = new Harness();
    await new IAMClient({ region: 'us-east-1' }).send(
      new CreateRoleCommand({
        RoleName: 'drctl-canary-sa-east-1',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    );
    const r = await h.run(['up'], WITH_CANARY);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /IAM role drctl-canary-sa-east-1 exists but was not made by drctl deployment "drctl"/,
    );
    await h.ok(['down', '--yes'], WITH_CANARY);
    expect(h.cloud.snapshot()).toEqual(['iam/global/role/drctl-canary-sa-east-1']);
  });
});

describe('the fake canary services refuse what AWS refuses', () => {
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'ok';
    } catch (e) {
      return (e as Error).name;
    }
  };

  it('running canary, non-empty bucket, role with a policy, bad code and deprecated runtimes are refused', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CANARY);
    // A test of the fake's services, not of drctl's permissions: another user of the account calls.
    await h.cloud.authorizer.asAdmin(async () => {
      minutes(2);
      const out = rec('canary', PRIMARY);
      const syn = new SyntheticsClient({ region: PRIMARY });
      expect(
        await code(syn.send(new DeleteCanaryCommand({ Name: out.canaryName, DeleteLambda: true }))),
      ).toBe('ConflictException');
      expect(await code(syn.send(new StartCanaryCommand({ Name: out.canaryName })))).toBe(
        'ConflictException',
      );
      expect(
        await code(
          new S3Client({ region: PRIMARY }).send(new DeleteBucketCommand({ Bucket: out.bucketName })),
        ),
      ).toBe('BucketNotEmpty');
      expect(
        await code(
          new IAMClient({ region: 'us-east-1' }).send(new DeleteRoleCommand({ RoleName: out.roleName })),
        ),
      ).toBe('DeleteConflict');
      expect(
        await code(
          new CloudWatchClient({ region: PRIMARY }).send(new DeleteAlarmsCommand({ AlarmNames: ['nope'] })),
        ),
      ).toBe('ResourceNotFound');

      const good = h.cloud.calls.find((c) => c.command === 'CreateCanary' && c.outcome === 'ok')!
        .input as any;
      const create = (patch: Record<string, unknown>) =>
        code(syn.send(new CreateCanaryCommand({ ...good, Name: 'other', ...patch })));
      expect(await create({ Name: out.canaryName })).toBe('ConflictException');
      expect(await create({ Name: 'a-name-longer-than-21-chars' })).toBe('ValidationException');
      expect(await create({ RuntimeVersion: 'syn-nodejs-puppeteer-3.9' })).toBe('ValidationException');
      const flat = zipSync({ 'drctlprobe.js': strToU8(CANARY_SCRIPT) });
      expect(await create({ Code: { Handler: CANARY_HANDLER, ZipFile: flat } })).toBe('ValidationException');
      expect(await create({})).toBe('ok');
    });
  });

  it('a canary deleted without DeleteLambda leaves its function and VPC ENIs behind', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CANARY);
    const name = rec('canary', PRIMARY).canaryName as string;
    const syn = new SyntheticsClient({ region: PRIMARY });
    await h.cloud.authorizer.asAdmin(async () => {
      await syn.send(new StopCanaryCommand({ Name: name }));
      minutes(1);
      await syn.send(new DeleteCanaryCommand({ Name: name }));
    });
    minutes(120);
    const snap = h.cloud.snapshot();
    expect(count(snap, '/canary/')).toBe(0);
    expect(count(snap, 'lambda/sa-east-1/function/cwsyn-drctl-pri-')).toBe(1);
    expect(count(snap, '(lambda:cwsyn-drctl-pri-')).toBe(2);
  });
});

describe('canary runtime and script', () => {
  it('picks the newest current Puppeteer runtime, comparing versions as numbers', () => {
    expect(pickRuntime(RUNTIME_VERSIONS)).toBe('syn-nodejs-puppeteer-11.0');
    const v = (VersionName: string, deprecated = false) => ({
      VersionName,
      DeprecationDate: deprecated ? new Date('2024-01-01') : undefined,
    });
    expect(
      pickRuntime([
        v('syn-nodejs-puppeteer-9.1'),
        v('syn-nodejs-puppeteer-10.0'),
        v('syn-nodejs-puppeteer-12.0', true),
      ]),
    ).toBe('syn-nodejs-puppeteer-10.0');
    expect(
      pickRuntime([v('syn-nodejs-puppeteer-9.1', true), v('syn-nodejs-3.0'), v('syn-python-selenium-5.1')]),
    ).toBe('syn-nodejs-3.0');
    expect(pickRuntime([v('syn-nodejs-playwright-2.0'), v('syn-nodejs-2.2', true)])).toBeUndefined();
  });
});
