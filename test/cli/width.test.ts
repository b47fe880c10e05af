import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BuiltCli, assertBuilt } from '../support/built-cli.js';
import { runDrctl, spawnDrctl, userEnv } from '../support/cli-process.js';

// What a person sees in an 80-column terminal (issue 23 point 4): `plan` and `verify` fold their
// lines to the terminal's width with every price whole; piped, nothing is folded (one line per
// thing, for logs and grep); Ctrl-C during `up` gives one summary, not the same advice per step.

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
