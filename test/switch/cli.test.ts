import { describe, expect, it } from 'vitest';
import { builtCliWorkdirs } from '../support/built-cli.js';

// `drctl failover` / `failback` as a user meets them: the built CLI as a child process. Bad
// flags are exit 2 naming the flag, before any config, state or AWS is touched.

const workdir = builtCliWorkdirs();

describe('drctl failover / failback (built CLI)', () => {
  it('--help lists both commands with their flags', () => {
    const d = workdir();
    const help = d.run(['--help']);
    expect(help.stdout).toMatch(/failover /);
    expect(help.stdout).toMatch(/failback /);
    const f = d.run(['failover', '--help']);
    for (const flag of ['--to <region>', '--drain <region>', '--reason <text>', '--force'])
      expect(f.stdout).toContain(flag);
    const b = d.run(['failback', '--help']);
    for (const flag of ['--reason <text>', '--force']) expect(b.stdout).toContain(flag);
  });

  it('--reason missing is exit 2 naming --reason; nothing is written', () => {
    const d = workdir();
    const before = d.listing();
    const r = d.run(['failover', '--to', 'us-west-1', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--reason/);
    expect(d.listing()).toEqual(before);
  });

  it('--drain in active-passive is exit 2 naming --to', () => {
    const d = workdir();
    const r = d.run(['failover', '--drain', 'sa-east-1', '--reason', 'x', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--to/);
  });
});
