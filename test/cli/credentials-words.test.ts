import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BuiltCli, assertBuilt } from '../support/built-cli.js';

// Credentials messages are drctl's own (issue 23, point 8): a --profile that does not exist, with
// keys in the environment too, is drctl's message naming the profile and where it came from, not
// the SDK's "Multiple credential sources" warning; an s3:// state read without credentials is
// that same message, not the S3 call's failure.

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

  it('an s3:// state with no credentials anywhere: the credentials message, not the S3 call', () => {
    const cli = new BuiltCli();
    dirs.push(cli);
    for (const args of [
      ['--state', 's3://drctl-state/prod.json', 'status'],
      ['--profile', 'ops', '--state', 's3://drctl-state/prod.json', 'report'],
    ]) {
      const r = cli.run(args);
      expect(r.code).toBe(2);
      expect(r.stderr.trimStart()).toMatch(/^error: credentials: no AWS credentials found for/);
      expect(r.stderr).toMatch(
        args.includes('ops') ? /profile "ops" \(from --profile\)/ : /the default profile/,
      );
      expect(r.stderr).not.toMatch(/could not GetBucketLocation/);
      expect(cli.listing()).toEqual({});
    }
  });
});
