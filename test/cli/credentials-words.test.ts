import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BuiltCli, assertBuilt } from '../support/built-cli.js';

// Credentials messages are drctl's own (issue 23, point 8): a --profile that does not exist, with
// keys in the environment too, is drctl's message naming the profile and where it came from, not
// the SDK's "Multiple credential sources" warning.

beforeAll(() => assertBuilt());

const dirs: BuiltCli[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

describe('credentials in words of drctl', () => {
  it('--profile nosuch with keys in the environment: drctl message only, exit 2', () => {
    const cli = new BuiltCli();
    dirs.push(cli);
    const r = cli.run(['--profile', 'nosuch', 'status', '--refresh'], {
      env: { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example-secret' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/profile "nosuch" \(from --profile\)/);
    expect(r.stderr).not.toMatch(/@aws-sdk|Multiple credential sources/);
    expect(r.stderr.trimStart()).toMatch(/^error: credentials:/);
  });
});
