import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BuiltCli, assertBuilt } from '../support/built-cli.js';
import { runDrctl, spawnDrctl, userEnv } from '../support/cli-process.js';

// What a person sees in an 80-column terminal (issue 23 point 4): `plan` and `verify` fold their
// lines to the terminal's width with every price whole; piped, nothing is folded (one line per
// thing, for logs and grep); Ctrl-C during `up` gives one summary, not the same advice per step.
// `status`, `up`'s preview (a short summary: the details are `plan`'s) and errors fit too.

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r\n/g, '\n');
const wide = (text: string, n = 80) => text.split('\n').filter((l) => [...l].length > n);

let cli: BuiltCli | undefined;
beforeAll(() => assertBuilt());
afterEach(() => cli?.cleanup());

async function atWidth(args: string[], env: Record<string, string> = {}, columns = 80) {
  cli = new BuiltCli();
  const e = await runDrctl(args, {
    cwd: cli.dir,
    env: userEnv(cli.dir, env),
    fakeCloud: true,
    pty: true,
    columns,
  });
  return { code: e.code, text: plain(e.stdout) };
}

/** `up` at an 80-column terminal up to its question, answered no; with the fake cloud's snapshot. */
async function upAnsweredNo(args: string[] = ['up'], env: Record<string, string> = {}) {
  cli ??= new BuiltCli();
  const snapshot = join(cli.dir, 'cloud.json');
  const r = spawnDrctl(args, {
    cwd: cli.dir,
    env: userEnv(cli.dir, { DRCTL_FAKE_SNAPSHOT: snapshot, ...env }),
    fakeCloud: true,
    pty: true,
    columns: 80,
  });
  const question = /(Create them|Apply these changes) in account \d+/;
  await r.waitFor(question);
  const upToQuestion = plain(r.stdout);
  r.child.stdin!.write('n\r');
  const e = await r.exited;
  const cloud = JSON.parse(readFileSync(snapshot, 'utf8')) as {
    resources: unknown[];
    mutatingAfterSeed: number;
  };
  return {
    code: e.code,
    before: upToQuestion.slice(0, upToQuestion.search(question)),
    text: plain(e.stdout),
    cloud,
  };
}

/** A long path under the work directory, as a config kept deep in a project has. */
function deepConfig(content: unknown): string {
  const dir = join(cli!.dir, 'infrastructure-as-code', 'disaster-recovery', 'private-api-gateway');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'drctl.config.production-sa-east-1.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

/** plan's total row: per hour and per month. */
const totalOf = (text: string) => /\n {2}total\s+(\$\d+\.\d{4})\s+(\$\d+\.\d{2})\n/.exec(text)?.slice(1);

describe('at 80 columns', () => {
  it('plan has no line wider than 80, and the cost table keeps every price whole', async () => {
    const { code, text } = await atWidth(['plan']);
    expect(code, text).toBe(0);
    expect(wide(text), text).toEqual([]);
    // The longest resource name folds within its column; its prices stay on its first line.
    expect(text).toMatch(
      /CloudWatch monitoring interface endpoint\s+sa-east-1\s+\$0\.0300\s+\$21\.90 \*\n\s+\(2 AZs\)\n/,
    );
    expect(text).toMatch(
      /ACM Private CA, general-purpose\s+sa-east-1\s+\$0\.5479\s+\$400\.00\n\s+30-day free trial/,
    );
    expect(text).toMatch(/\n {2}total\s+\$\d+\.\d{4}\s+\$\d+\.\d{2}\n/);
    expect(text).toContain('plan: 21 to create');
  }, 60_000);

  it('verify has no line wider than 80, a failed check and its fix included', async () => {
    const { code, text } = await atWidth(['verify'], {
      DRCTL_FAKE_SEED: 'up',
      DRCTL_FAKE_DELETE: 'ec2:key-pair:drctl-us-west-1',
    });
    expect(code, text).toBe(3);
    expect(text).toMatch(/fail\s+resources/);
    expect(text).toMatch(/fix: /);
    expect(wide(text), text).toEqual([]);
  }, 90_000);

  it('a terminal that reports no width is taken as 80 columns', async () => {
    cli = new BuiltCli();
    const e = await runDrctl(['plan'], { cwd: cli.dir, env: userEnv(cli.dir), fakeCloud: true, pty: true });
    expect(e.code).toBe(0);
    expect(wide(plain(e.stdout))).toEqual([]);
  }, 60_000);

  it('status has no line wider than 80, recorded ARNs included', async () => {
    const { code, text } = await atWidth(['status'], { DRCTL_FAKE_SEED: 'up' });
    expect(code, text).toBe(0);
    expect(text).toMatch(/vpc sa-east-1: ready/);
    expect(wide(text), text).toEqual([]);
  }, 90_000);

  it('status --refresh has no line wider than 80, drift included', async () => {
    const { code, text } = await atWidth(['status', '--refresh'], {
      DRCTL_FAKE_SEED: 'up',
      DRCTL_FAKE_DELETE: 'ec2:key-pair:drctl-us-west-1',
    });
    expect(code, text).toBe(2);
    expect(text).toMatch(/DRIFT: gone from AWS/);
    expect(wide(text), text).toEqual([]);
  }, 90_000);

  it("up's preview is a short summary that fits, with plan's totals; answered no, nothing is made", async () => {
    cli = new BuiltCli();
    const p = cli.run(['plan']);
    expect(p.code, p.stderr).toBe(0);
    const up = await upAnsweredNo();
    expect(up.code, up.text).toBe(2);
    expect(up.text).toContain('not confirmed; nothing was created');
    expect(up.cloud).toMatchObject({ resources: [], mutatingAfterSeed: 0 });
    expect(existsSync(join(cli.dir, '.drctl/state.json'))).toBe(false);
    expect(wide(up.before), up.before).toEqual([]);
    // The question as answered (the prompt redraws itself on one line: its last drawing) and
    // the error after it fit too.
    const answered = up.text.slice(up.text.lastIndexOf('✔'));
    expect(answered).toMatch(/^✔ Create them in account \d+ .*\? No\n/);
    expect(wide(answered), answered).toEqual([]);
    // Short: counts per region, the total, where the details are; not every step nor every price.
    expect(up.before.trim().split('\n').length, up.before).toBeLessThanOrEqual(12);
    expect(up.before).toContain('details and prices per resource: drctl plan');
    expect(up.before).not.toContain('ACM Private CA');
    const created = /plan: (\d+) to create/.exec(p.stdout)![1];
    expect(up.before).toMatch(new RegExp(`up will create or resume ${created} step\\(s\\)`));
    const perRegion = [...up.before.matchAll(/(sa-east-1|us-west-1|global): (\d+) to create/g)];
    expect(perRegion.map((m) => m[1]).sort()).toEqual(['global', 'sa-east-1', 'us-west-1']);
    expect(perRegion.reduce((n, m) => n + Number(m[2]), 0)).toBe(Number(created));
    expect(totalOf(up.before)).toEqual(totalOf(p.stdout));
    expect(totalOf(p.stdout)).toBeDefined();
  }, 90_000);

  it("up's preview after a config change: the diff lines and the total, no cost table", async () => {
    cli = new BuiltCli();
    writeFileSync(join(cli.dir, 'bigger.json'), JSON.stringify({ clientInstanceType: 't3.small' }));
    const up = await upAnsweredNo(['--config', 'bigger.json', 'up'], { DRCTL_FAKE_SEED: 'up' });
    expect(up.code, up.text).toBe(2);
    expect(up.cloud.mutatingAfterSeed).toBe(0);
    expect(up.before).toMatch(/clientInstanceType: "t3\.micro" -> "t3\.small"/);
    expect(up.before).toMatch(/up will apply the config changes above: 0 to create, 2 to update/);
    expect(up.before).toContain('details and prices per resource: drctl plan');
    expect(up.before).not.toContain('EBS root volume');
    expect(wide(up.before), up.before).toEqual([]);
  }, 90_000);

  it('a config error with a long path fits, its advice indented under it', async () => {
    cli = new BuiltCli();
    const path = deepConfig({ primary: { vpcCidr: '10.0.0.0/33' } });
    const { code, text } = await atWidth(['--config', path, 'plan']);
    expect(code, text).toBe(2);
    expect(text).toMatch(/^error: /m);
    expect(text).toContain('vpcCidr');
    expect(wide(text), text).toEqual([]);
    // Continuation lines are indented: only the first line of each part starts at column 0.
    expect(
      text
        .trim()
        .split('\n')
        .filter((l) => /^\S/.test(l))
        .every((l) => /^(error|what to do):/.test(l)),
      text,
    ).toBe(true);
  }, 60_000);

  it('a credentials error with a long profile name fits, the "tried:" line included', async () => {
    const profile = 'production-disaster-recovery-operator-sa-east-1';
    cli = new BuiltCli();
    const e = await runDrctl(['--profile', profile, 'status', '--refresh'], {
      cwd: cli.dir,
      env: userEnv(cli.dir, { AWS_EC2_METADATA_DISABLED: 'true' }),
      pty: true,
      columns: 80,
    });
    const text = plain(e.stdout);
    expect(e.code, text).toBe(2);
    expect(text).toMatch(/^error: credentials: /m);
    expect(text).toMatch(/^ {2}tried: /m);
    expect(text).toContain(profile);
    expect(wide(text), text).toEqual([]);
  }, 60_000);
});

it('piped, plan is not folded: one line per cost row, with its note', () => {
  cli = new BuiltCli();
  const r = cli.run(['plan']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(
    /\n {2}ACM Private CA, general-purpose +sa-east-1 +\$0\.5479 +\$400\.00 {4}30-day free trial for the first CA in a region\n/,
  );
  expect(r.stdout).toMatch(
    /\n {2}CloudWatch monitoring interface endpoint \(2 AZs\) +sa-east-1 +\$0\.0300 +\$21\.90 \* {2}the canary/,
  );
  expect(wide(r.stdout).length).toBeGreaterThan(10);
});

it('piped, status and errors are not folded', async () => {
  cli = new BuiltCli();
  const st = await runDrctl(['status'], {
    cwd: cli.dir,
    env: userEnv(cli.dir, { DRCTL_FAKE_SEED: 'up' }),
    fakeCloud: true,
  });
  expect(st.code, st.stderr).toBe(0);
  expect(st.stdout).toMatch(/\n {4}certificateArn: arn:\S+\n/);
  expect(wide(st.stdout).length, st.stdout).toBeGreaterThan(0);
  const profile = 'production-disaster-recovery-operator-sa-east-1';
  const r = cli.run(['--profile', profile, 'status', '--refresh']);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(
    /\n {2}tried: profile \S+ in \S+ and \S+ \(keys, SSO, credential_process, role\); a named profile skips/,
  );
  expect(r.stderr).toMatch(/\nwhat to do: .{81,}\n/);
  const path = deepConfig({ primary: { vpcCidr: '10.0.0.0/33' } });
  const c = cli.run(['--config', path, 'plan']);
  expect(c.code, c.stderr).toBe(2);
  expect(wide(c.stderr).length, c.stderr).toBeGreaterThan(0);
}, 60_000);

it('Ctrl-C during up prints one summary, not the same advice once per step', async () => {
  cli = new BuiltCli();
  const r = spawnDrctl(['up', '--yes'], {
    cwd: cli.dir,
    env: userEnv(cli.dir),
    fakeCloud: true,
    pty: true,
    columns: 80,
  });
  await r.waitFor(/vpc sa-east-1: done/);
  r.child.stdin!.write('\u0003'); // Ctrl-C, as the terminal sends it
  const e = await r.exited;
  const text = plain(e.stdout);
  expect(e.code, text.slice(-3000)).toBe(130);
  expect(text.match(/run the same command/gi) ?? [], text.slice(-3000)).toHaveLength(1);
  expect(text).not.toContain('what to do:');
  expect(text).not.toContain('skipped (interrupted)');
  expect(text).toMatch(/up: interrupted after \S+; stopped: [\s\S]*\d+ step\(s\) not started/);
  expect(text).toContain('the state is saved: run the same command to resume');
  const state = join(cli.dir, '.drctl/state.json');
  expect(existsSync(state)).toBe(true);
  expect(readFileSync(state, 'utf8')).toContain('"vpc"');
}, 90_000);
