import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { strFromU8, unzipSync } from 'fflate';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepName } from '../../src/steps/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBE_CA_FILE, PROBE_FILE, PROBE_SOURCE, probeZip } from '../../src/assets/probe-function.js';
import { FakeIam, FakeLambda } from '../support/fake-cloud/index.js';
import { expectReadOnlyRerun, unrecordedIds } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { priorTo, upTo } from '../support/steps.js';

const PRIOR = priorTo('probe');
const WITH_PROBE = upTo('probe');
const SECONDARY = 'us-west-1';

let h: Harness;
afterEach(() => h?.cleanup());

const rec = <N extends StepName>(step: N, scope: string) => h.outputs(step, scope);
const count = (snap: string[], kind: string) => snap.filter((l) => l.includes(kind)).length;
const probeFn = () => h.cloud.model(FakeLambda).functions.get(`${SECONDARY}|drctl-probe`);

describe('probe step on the fake cloud', () => {
  it('up makes one Active function in the secondary VPC, trusting both CAs, and its role', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_PROBE);
    const out = rec('probe', 'global');
    expect(out).toMatchObject({
      functionName: 'drctl-probe',
      region: SECONDARY,
      roleName: 'drctl-probe',
      functionArn: `arn:aws:lambda:${SECONDARY}:111122223333:function:drctl-probe`,
    });
    const f = probeFn()!;
    const vpc = rec('vpc', SECONDARY);
    expect(f.vpc).toEqual({
      VpcId: vpc.vpcId,
      SubnetIds: vpc.privateSubnetIds,
      SecurityGroupIds: [vpc.endpointSecurityGroupId],
    });
    expect(f.env).toEqual({ PROBE_HOST: 'api.octank.com', PROBE_PATH: '/health', PROBE_TIMEOUT_MS: '3000' });
    expect(f.Runtime).toBe('nodejs22.x');
    expect(f.tags).toMatchObject({ 'drctl:deployment': 'drctl', 'drctl:step': 'probe' });
    expect(f.files[PROBE_FILE]).toBe(PROBE_SOURCE);
    for (const region of ['sa-east-1', SECONDARY]) {
      const pem = readFileSync(join(h.dir, '.drctl', 'ca', `${region}.pem`), 'utf8');
      expect(f.files[PROBE_CA_FILE]).toContain(pem.trim());
    }
    expect(out.codeSha256).toBe(f.CodeSha256);
    // One Lambda ENI per private subnet, named as Lambda names them.
    const snap = h.cloud.snapshot();
    expect(count(snap, '(lambda:drctl-probe)')).toBe(vpc.privateSubnetIds.length);
    expect(snap.filter((l) => l.startsWith('lambda/') || l.startsWith('iam/'))).toEqual([
      'iam/global/role-policy/drctl-probe/drctl-probe',
      'iam/global/role/drctl-probe',
      'lambda/us-west-1/function/drctl-probe',
    ]);
    const role = h.cloud.model(FakeIam).roles.get('drctl-probe')!;
    const actions = JSON.parse(role.inline.get('drctl-probe')!).Statement.flatMap((s: any) => s.Action);
    expect(actions.every((a: string) => a.startsWith('ec2:'))).toBe(true);
  });

  it('waits for the role to propagate: the first CreateFunction is refused, the retry works', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_PROBE);
    const creates = h.cloud.calls.filter((c) => c.command === 'CreateFunction').map((c) => c.outcome);
    expect(creates[0]).toBe('InvalidParameterValueException');
    expect(creates.at(-1)).toBe('ok');
    expect(creates.filter((o) => o === 'ok')).toHaveLength(1);
  });

  it('CreateFunction refused until the new policy has spread ("does not have permissions to call CreateNetworkInterface") is retried, making one function', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    // The role is assumable at once; its ENI permission reaches Lambda only 40 s after PutRolePolicy.
    h.cloud.delayOverrides = { 'iam.propagate': 0, 'iam.policyPropagate': 40 };
    const r = await h.ok(['up'], WITH_PROBE);
    const creates = h.cloud.calls.filter((c) => c.command === 'CreateFunction');
    expect(creates[0]!.outcome).toBe('InvalidParameterValueException');
    expect(creates.map((c) => c.outcome).filter((o) => o === 'ok')).toHaveLength(1);
    const put = h.cloud.calls.find((c) => c.command === 'PutRolePolicy')!;
    expect(creates.at(-1)!.t - put.t).toBeGreaterThanOrEqual(40_000);
    expect(count(h.cloud.snapshot(), 'lambda/us-west-1/function/')).toBe(1);
    expect(
      r.events.some((e) => e.type === 'step-progress' && /assumable by Lambda/.test((e as any).text)),
    ).toBe(true);
  });

  it('running up again makes no mutating call and one read per recorded resource', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_PROBE);
    await expectReadOnlyRerun(h, ['up'], WITH_PROBE);
    const reads = h.cloud.calls.filter((c) => c.service === 'lambda' || c.service === 'iam');
    expect(reads.map((c) => c.command).sort()).toEqual(['GetFunction', 'GetRole']);
  });

  it('a new CA certificate on disk is deployed as new code on the next up', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_PROBE);
    const pemPath = join(h.dir, '.drctl', 'ca', 'sa-east-1.pem');
    writeFileSync(pemPath, '-----BEGIN CERTIFICATE-----\nrotated\n-----END CERTIFICATE-----\n');
    h.cloud.resetCalls();
    await h.ok(['up'], WITH_PROBE);
    // The ca step rewrites its PEM on a re-run only when it changes the CA: here it is unchanged,
    // so the probe deploys what is on disk now.
    const pem = readFileSync(pemPath, 'utf8');
    expect(probeFn()!.files[PROBE_CA_FILE]).toContain(pem.trim());
    expect(h.cloud.mutatingCalls.map((c) => c.command)).toContain('UpdateFunctionCode');
    expect(rec('probe', 'global').codeSha256).toBe(probeFn()!.CodeSha256);
  });

  it('down deletes function and role and leaves the fake cloud empty (after the Lambda ENIs drain)', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_PROBE);
    await h.ok(['down', '--yes'], WITH_PROBE);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()!.steps).toEqual({});
  });

  it('a crash right after each mutating call of the step, then up, ends with exactly one function and one role', async () => {
    // Crash points are counted in attempts (a CreateFunction refused while IAM propagates is
    // one), and how many are refused depends on timing: so walk n until a run no longer crashes,
    // and check that every mutating call of the step was a crash point.
    const crashedAfter = new Set<string>();
    for (let n = 1; n <= 20; n++) {
      h = new Harness();
      await h.ok(['up'], PRIOR);
      h.cloud.revive();
      h.cloud.resetCalls();
      h.cloud.faults = { crashAfterMutating: n };
      const r = await h.run(['--json', 'up'], WITH_PROBE);
      const crash = h.cloud.calls.find((c) => c.outcome === 'SimulatedCrash');
      if (!crash) {
        expect(r.code).toBe(0);
        h.cleanup();
        break;
      }
      const what = `crash after ${crash.command}`;
      crashedAfter.add(crash.command);
      expect(r.code, what).toBe(1);
      expect(unrecordedIds(h), what).toEqual([]);
      h.cloud.revive();
      await h.ok(['up'], WITH_PROBE);
      const snap = h.cloud.snapshot();
      expect(count(snap, 'lambda/us-west-1/function/'), what).toBe(1);
      expect(count(snap, 'iam/global/role/drctl-probe'), what).toBe(1);
      expect(count(snap, '(lambda:drctl-probe)'), what).toBe(2);
      expect(rec('probe', 'global').functionName, what).toBe('drctl-probe');
      await h.ok(['down', '--yes'], WITH_PROBE);
      expect(h.cloud.snapshot(), what).toEqual([]);
      h.cleanup();
    }
    expect([...crashedAfter].sort()).toEqual(['CreateFunction', 'CreateRole', 'PutRolePolicy', 'TagRole']);
  });

  it('refuses a function of its name that another deployment made', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    const iam = h.cloud.model(FakeIam);
    iam.CreateRole('global', {
      RoleName: 'someone-else',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    });
    h.cloud.clock.advance(60_000);
    // The look-alike is another deployment's: made by another user of the account.
    await h.cloud.authorizer.asAdmin(() =>
      new LambdaClient({ region: SECONDARY }).send(
        new CreateFunctionCommand({
          FunctionName: 'drctl-probe',
          Runtime: 'nodejs22.x',
          Role: 'arn:aws:iam::111122223333:role/someone-else',
          Handler: 'index.handler',
          Code: { ZipFile: probeZip([]) },
        }),
      ),
    );
    const r = await h.run(['up'], WITH_PROBE);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /Lambda function drctl-probe exists but was not made by drctl deployment "drctl"/,
    );
    expect(probeFn()!.Role).toBe('arn:aws:iam::111122223333:role/someone-else');
  });

  it('the zip holds the handler and the CA bundle, and is the same bytes every time', () => {
    const a = probeZip(['-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----']);
    const b = probeZip(['-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----']);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const files = unzipSync(a);
    expect(Object.keys(files).sort()).toEqual([PROBE_CA_FILE, PROBE_FILE]);
    expect(strFromU8(files[PROBE_CA_FILE]!)).toBe(
      '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n',
    );
  });

  it('a Pending function cannot be invoked yet', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    h.cloud.clock.advance(60_000);
    h.cloud.revive();
    const run = h.run(['--json', 'up'], WITH_PROBE);
    // Let the step create the function, then try to invoke it while it is Pending.
    while (!probeFn()) await h.cloud.clock.sleep(1_000);
    const lambda = new LambdaClient({ region: SECONDARY });
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'drctl-probe' }))).rejects.toMatchObject({
      name: 'ResourceConflictException',
    });
    expect((await run).code).toBe(0);
    const ok = await lambda.send(new InvokeCommand({ FunctionName: 'drctl-probe' }));
    expect(ok.StatusCode).toBe(200);
  });
});
