import { hostname } from 'node:os';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STEPS } from '../../src/steps/index.js';
import { crashEachMutatingCall, expectReadOnlyRerun } from '../support/crash.js';
import { Harness, lingeringLambdaEni } from '../support/harness.js';

const FIRST_TWO = { steps: STEPS.slice(0, 2) };

let h: Harness;
afterEach(() => h?.cleanup());

const count = (snap: string[], kind: string) => snap.filter((l) => l.includes(kind)).length;

describe('up and down of keypairs and vpc on the fake cloud', () => {
  it('up creates one key pair and one stack per region and records them', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    const snap = h.cloud.snapshot();
    expect(snap.filter((l) => l.includes('/key-pair/'))).toEqual([
      'ec2/sa-east-1/key-pair/drctl-sa-east-1',
      'ec2/us-west-1/key-pair/drctl-us-west-1',
    ]);
    expect(snap.filter((l) => l.startsWith('cloudformation/'))).toEqual([
      'cloudformation/sa-east-1/stack/drctl-vpc(CREATE_COMPLETE)',
      'cloudformation/us-west-1/stack/drctl-vpc(CREATE_COMPLETE)',
    ]);
    const state = h.state()!;
    expect(state.steps.vpc!['sa-east-1']!.status).toBe('ready');
    expect(state.steps.vpc!['us-west-1']!.resources.vpcCidr).toBe('172.16.0.0/16');
    expect(state.steps.vpc!['sa-east-1']!.resources.privateSubnetIds).toHaveLength(2);
    const pem = join(h.dir, '.drctl', 'keys', 'sa-east-1.pem');
    expect(statSync(pem).mode & 0o777).toBe(0o600);
    expect(statSync(h.statePath).mode & 0o777).toBe(0o600);
    expect(JSON.stringify(state)).not.toContain('PRIVATE KEY');
  });

  it('the two regions run side by side: up takes no longer than one region', async () => {
    h = new Harness();
    const t0 = h.cloud.clock.now();
    await h.ok(['up'], FIRST_TWO);
    const both = h.cloud.clock.now() - t0;
    const one = new Harness();
    try {
      const t1 = one.cloud.clock.now();
      await one.ok(['step', 'keypairs', '--region', 'sa-east-1'], FIRST_TWO);
      await one.ok(['step', 'vpc', '--region', 'sa-east-1'], FIRST_TWO);
      expect(both).toBeLessThanOrEqual((one.cloud.clock.now() - t1) * 1.05);
    } finally {
      one.cleanup();
    }
  });

  it('running up again makes no mutating call and at most one read per recorded resource', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    const r = await expectReadOnlyRerun(h, ['up'], FIRST_TWO);
    // One STS GetCallerIdentity (who pays), then one read per recorded resource.
    expect(h.cloud.calls.filter((c) => c.service === 'sts').length).toBe(1);
    expect(h.cloud.calls.filter((c) => c.service !== 'sts').length).toBeLessThanOrEqual(4);
    expect(
      r.events.filter((e) => e.type === 'step-done').map((e) => (e as { outcome: string }).outcome),
    ).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
  });

  it('down leaves the fake cloud empty and removes the PEM files', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    await h.ok(['down', '--yes'], FIRST_TWO);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(existsSync(join(h.dir, '.drctl', 'keys', 'sa-east-1.pem'))).toBe(false);
    expect(h.state()!.steps).toEqual({});
  });

  it('up after down builds everything again', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    await h.ok(['down', '--yes'], FIRST_TWO);
    await h.ok(['up'], FIRST_TWO);
    expect(h.cloud.snapshot().filter((l) => l.startsWith('cloudformation/'))).toEqual([
      'cloudformation/sa-east-1/stack/drctl-vpc(CREATE_COMPLETE)',
      'cloudformation/us-west-1/stack/drctl-vpc(CREATE_COMPLETE)',
    ]);
  });

  it('down without --yes and without a terminal refuses and deletes nothing', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    const before = h.cloud.snapshot();
    const r = await h.run(['down'], FIRST_TWO);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect(h.cloud.snapshot()).toEqual(before);
  });

  it('a crash right after each mutating call, then up again, ends with exactly one of each resource', async () => {
    let expected: string[] = [];
    await crashEachMutatingCall({
      args: ['up'],
      deps: FIRST_TWO,
      clean: (mutating, clean) => {
        expected = clean.cloud.snapshot().map((l) => l.replace(/[0-9a-f]{8,}/g, 'ID'));
        expect(mutating.length).toBe(4);
      },
      crashedCode: 1,
      check: async (x, where) => {
        const snap = x.cloud.snapshot();
        expect(count(snap, '/key-pair/'), where).toBe(2);
        expect(count(snap, '/stack/'), where).toBe(2);
        expect(snap.map((l) => l.replace(/[0-9a-f]{8,}/g, 'ID'))).toEqual(expected);
        await x.ok(['down', '--yes'], FIRST_TWO);
        expect(x.cloud.snapshot()).toEqual([]);
      },
    });
  });

  it('a key pair left without its private key by a crash is replaced; one not ours is never touched', async () => {
    h = new Harness();
    h.cloud.faults = { crashAfterMutating: 1 }; // CreateKeyPair succeeded, the PEM was never written
    await h.run(['up'], { steps: STEPS.slice(0, 1) });
    h.cloud.revive();
    await h.ok(['up'], FIRST_TWO);
    expect(count(h.cloud.snapshot(), '/key-pair/')).toBe(2);
    expect(existsSync(join(h.dir, '.drctl', 'keys', 'sa-east-1.pem'))).toBe(true);
    expect(existsSync(join(h.dir, '.drctl', 'keys', 'us-west-1.pem'))).toBe(true);
  });

  it('a recorded key pair whose private key is on another machine is kept, with a warning', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    const { rmSync } = await import('node:fs');
    rmSync(join(h.dir, '.drctl', 'keys'), { recursive: true });
    const r = await expectReadOnlyRerun(h, ['up'], FIRST_TWO);
    expect(JSON.stringify(r.events)).toContain('its private key is not on this machine');
  });

  it('refuses to adopt a key pair of the same name that drctl did not make', async () => {
    h = new Harness();
    const { EC2Client, CreateKeyPairCommand } = await import('@aws-sdk/client-ec2');
    await new EC2Client({ region: 'sa-east-1' }).send(
      new CreateKeyPairCommand({ KeyName: 'drctl-sa-east-1' }),
    );
    const r = await h.run(['up'], FIRST_TWO);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/key pair drctl-sa-east-1 in sa-east-1 exists but was not made by drctl/);
    await h.ok(['down', '--yes'], FIRST_TWO);
    expect(h.cloud.snapshot()).toEqual(['ec2/sa-east-1/key-pair/drctl-sa-east-1']);
  });

  it('Ctrl-C during a wait exits 130 with a valid state, and the next up resumes', async () => {
    h = new Harness();
    const ac = new AbortController();
    const pending = h.run(['up'], { ...FIRST_TWO, signal: ac.signal });
    // Interrupt once the stacks are being created (virtual time passes only while drctl waits).
    while (!h.state()?.steps.vpc?.['us-west-1']) await new Promise((r) => setImmediate(r));
    ac.abort();
    const r = await pending;
    expect(r.code).toBe(130);
    expect(h.state()!.steps.vpc!['sa-east-1']!.status).toBe('creating');
    await expectReadOnlyRerun(h, ['up'], FIRST_TWO);
    expect(count(h.cloud.snapshot(), '/stack/')).toBe(2);
  });

  it('a stack whose subnets still hold another service ENI is not deleted until the ENI is released', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    lingeringLambdaEni(h, 'sa-east-1', 20 * 60_000);
    const r = await h.ok(['down', '--yes'], FIRST_TWO);
    expect(h.cloud.snapshot()).toEqual([]);
    const waits = r.events.filter(
      (e) => e.type === 'step-progress' && /network interfaces/.test((e as { text: string }).text),
    );
    expect(waits.length).toBeGreaterThan(0);
  });
});

describe('the command line', () => {
  it('--help lists every command', async () => {
    h = new Harness();
    const r = await h.run(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['up', 'step', 'plan', 'status', 'failover-test', 'down', 'unlock']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    }
  });

  it('plan works with no config, no state and no credentials, and makes no AWS call', async () => {
    h = new Harness();
    const r = await h.run(['plan'], { aws: {} });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sa-east-1: create, us-west-1: create');
    expect(r.stdout).toContain('none found, using the workshop defaults');
    expect(h.cloud.calls).toEqual([]);
    expect(existsSync(h.statePath)).toBe(false);
  });

  it('plan shows what is recorded after up', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    const r = await h.run(['plan'], FIRST_TWO);
    expect(r.stdout).toContain('keypairs        sa-east-1: no change, us-west-1: no change');
  });

  it('status prints the recorded ids, and --refresh reports what is gone from AWS', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    let r = await h.run(['status'], FIRST_TWO);
    expect(r.stdout).toMatch(/vpc sa-east-1: ready/);
    expect(r.stdout).toMatch(/vpcId: vpc-/);
    const { EC2Client, DeleteKeyPairCommand } = await import('@aws-sdk/client-ec2');
    await new EC2Client({ region: 'us-west-1' }).send(
      new DeleteKeyPairCommand({ KeyName: 'drctl-us-west-1' }),
    );
    r = await h.run(['status', '--refresh'], FIRST_TWO);
    expect(r.stdout).toContain('DRIFT: gone from AWS: key pair drctl-us-west-1');
  });

  it('step names the step to run first when its inputs are missing, and lists valid steps for a typo', async () => {
    h = new Harness();
    let r = await h.run(['step', 'vpc', '--region', 'us-west-1'], FIRST_TWO);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('drctl step keypairs --region us-west-1');
    r = await h.run(['step', 'vpcs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Valid steps: keypairs, vpc, endpoints');
    r = await h.run(['step', 'vpc', '--region', 'eu-west-1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--region');
    expect(h.cloud.calls).toEqual([]);
  });

  it('a second drctl is refused while the lock is held, naming the holder and lock id; unlock refuses a live holder', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    const lock = (pid: number, id: string) =>
      writeFileSync(
        `${h.statePath}.lock`,
        JSON.stringify({ pid, host: hostname(), user: 'ci', command: 'up', startedAt: 'now', id }),
      );
    lock(process.pid, 'lock-live');
    const r = await h.run(['up'], FIRST_TWO);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`locked by pid ${process.pid}`);
    expect(r.stderr).toContain('lock id lock-live');
    expect(r.stderr).toContain('drctl unlock lock-live');
    const refused = await h.run(['unlock', 'lock-live', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('which is still running');
    expect(existsSync(`${h.statePath}.lock`)).toBe(true);
    lock(2 ** 22 + 12345, 'lock-dead');
    expect((await h.run(['unlock', 'lock-live', '--yes'])).code, 'the id of a lock that is gone').toBe(2);
    const removed = await h.run(['unlock', 'lock-dead', '--yes']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('removed lock lock-dead of pid 4206649');
    expect(existsSync(`${h.statePath}.lock`)).toBe(false);
    await h.ok(['up'], FIRST_TWO);
  });

  it('a lock left by a dead process is taken over', async () => {
    h = new Harness();
    writeFileSync(`${h.dir}/.keep`, '');
    await h.ok(['up'], FIRST_TWO);
    writeFileSync(
      `${h.statePath}.lock`,
      JSON.stringify({
        pid: 2 ** 22 + 12345,
        host: (await import('node:os')).hostname(),
        user: 'x',
        command: 'up',
        startedAt: 'then',
      }),
    );
    await h.ok(['up'], FIRST_TWO);
    expect(existsSync(`${h.statePath}.lock`)).toBe(false);
  });

  it('the state file keeps its previous version as a backup', async () => {
    h = new Harness();
    await h.ok(['up'], FIRST_TWO);
    const backup = JSON.parse(readFileSync(`${h.statePath}.bak`, 'utf8')) as { version: number };
    expect(backup.version).toBe(1);
  });
});

describe('transient AWS errors', () => {
  it('up and down converge with 20% of calls throttled', async () => {
    h = new Harness();
    h.cloud.faults = { throttleRate: 0.2 };
    await h.ok(['up'], FIRST_TWO);
    expect(h.cloud.calls.some((c) => c.outcome !== 'ok')).toBe(true);
    expect(count(h.cloud.snapshot(), '/stack/')).toBe(2);
    await h.ok(['down', '--yes'], FIRST_TWO);
    expect(h.cloud.snapshot()).toEqual([]);
  });
});
