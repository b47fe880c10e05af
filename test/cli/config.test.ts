import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BucketLocationConstraint } from '@aws-sdk/client-s3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configReference } from '../../src/config/reference.js';
import { AWS_REGIONS } from '../../src/config/regions.js';
import { assertBuilt, BuiltCli, denySdkHook } from '../support/built-cli.js';

// The config file as a person writes it, run through the built CLI (bin/drctl.js) in a child process.

let cli: BuiltCli;
beforeAll(() => assertBuilt());
afterEach(() => cli?.cleanup());

interface Case {
  name: string;
  /** The config file's bytes (a string is written as UTF-8). */
  file: string | Buffer;
  args?: string[];
  code: number;
  /** Each must match stderr. */
  stderr: RegExp[];
  /** Each must match stdout. */
  stdout?: RegExp[];
  notStderr?: RegExp;
}

const json = (v: unknown) => JSON.stringify(v, null, 2);

const cases: Case[] = [
  {
    name: 'a partial nested object merges with the defaults',
    file: json({ primary: { region: 'eu-west-1' } }),
    args: ['config'],
    code: 0,
    stderr: [],
    stdout: [/"region": "eu-west-1",\s*"vpcCidr": "10\.0\.0\.0\/16"/, /"region": "us-west-1"/],
  },
  {
    name: 'a partial nested object is enough for plan',
    file: json({ secondary: { region: 'eu-west-1' }, ca: { country: 'DE' } }),
    args: ['plan'],
    code: 0,
    stderr: [],
    stdout: [/primary sa-east-1, secondary eu-west-1/],
  },
  {
    name: 'every problem is listed, not only the first',
    file: json({ deployment: 'Prod', primary: { vpcCidr: '10.0.0/16' }, ttl: -1, domainMode: 'edge' }),
    code: 2,
    stderr: [
      /4 problems in .*drctl\.config\.json:/,
      /^ {2}deployment: /m,
      /^ {2}primary\.vpcCidr: must be an IPv4 CIDR/m,
      /^ {2}ttl: /m,
      /^ {2}domainMode: /m,
    ],
  },
  {
    name: 'each unknown field is listed, with the field it probably meant',
    file: json({ deploymnt: 'x', primary: { regoin: 'eu-west-1' } }),
    code: 2,
    stderr: [
      /deploymnt: unknown field .*\(did you mean deployment\?\)/,
      /primary\.regoin: unknown field .*\(did you mean primary\.region\?\)/,
    ],
  },
  {
    name: 'a region typo is exit 2 before any AWS call, with a suggestion',
    file: json({ primary: { region: 'sa-east1' } }),
    code: 2,
    stderr: [
      /primary\.region: "sa-east1" is not an AWS region \(did you mean sa-east-1\?\); known regions: /,
    ],
    notStderr: /ENOTFOUND|loaded the AWS SDK/,
  },
  {
    name: 'a well-formed region that does not exist is refused too',
    file: json({ secondary: { region: 'eu-west-9' } }),
    code: 2,
    stderr: [/secondary\.region: "eu-west-9" is not an AWS region/],
    notStderr: /ENOTFOUND|loaded the AWS SDK/,
  },
  {
    name: 'sshCidr 0.0.0.0/0 warns (and works)',
    file: json({ sshCidr: '0.0.0.0/0' }),
    args: ['plan'],
    code: 0,
    stderr: [/! sshCidr: 0\.0\.0\.0\/0 opens SSH on the client instances to the whole internet/],
  },
  {
    name: 'a TLS policy that allows TLS 1.0 warns',
    file: json({ tlsPolicy: 'ELBSecurityPolicy-2016-08' }),
    args: ['plan'],
    code: 0,
    stderr: [/! tlsPolicy: ELBSecurityPolicy-2016-08 allows TLS 1\.0/],
  },
  {
    name: 'ttl with the failover records says it has no effect',
    file: json({ ttl: 30 }),
    args: ['plan'],
    code: 0,
    stderr: [/! ttl: has no effect with routing "failover-records"/],
  },
  {
    name: 'ttl with the traffic policy is used, without a warning',
    file: json({ ttl: 30, routing: 'traffic-policy' }),
    args: ['plan'],
    code: 0,
    stderr: [],
    notStderr: /ttl:/,
    // The bound's TTL part is the configured one.
    stdout: [/\+ TTL 30\)/],
  },
  {
    name: 'a UTF-8 byte order mark is stripped, with a note',
    file: `\uFEFF${json({ deployment: 'bomtest' })}`,
    args: ['plan'],
    code: 0,
    stderr: [/--config: .*drctl\.config\.json starts with a UTF-8 byte order mark; drctl ignored it/],
    stdout: [/deployment bomtest/],
  },
  {
    name: 'a UTF-16 file is named as such',
    file: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json({ deployment: 'x' }), 'utf16le')]),
    code: 2,
    stderr: [/--config: .*drctl\.config\.json is encoded as UTF-16 LE/, /Save it as UTF-8/],
  },
  {
    name: 'a JSON array is not a config',
    file: '[]',
    code: 2,
    stderr: [/--config: .*must hold one JSON object/],
  },
];

describe('the config file, through the built CLI', () => {
  it.each(cases)('$name', (c) => {
    cli = new BuiltCli();
    writeFileSync(join(cli.dir, 'drctl.config.json'), c.file);
    const before = cli.listing();
    // `up` by default: a bad config must stop it before it loads the SDK or calls AWS.
    const r = cli.run(c.args ?? ['up', '--yes'], { nodeArgs: ['--import', denySdkHook] });
    expect(r.code, r.stderr).toBe(c.code);
    for (const re of c.stderr) expect(r.stderr).toMatch(re);
    for (const re of c.stdout ?? []) expect(r.stdout).toMatch(re);
    if (c.notStderr) expect(r.stderr).not.toMatch(c.notStderr);
    if (c.code === 2 || c.args?.[0] !== 'up') expect(cli.listing()).toEqual(before);
  });
});

describe('the region list', () => {
  it("holds every region the installed AWS SDK's S3 client knows (us-east-1 has no location constraint)", () => {
    const sdk = Object.values(BucketLocationConstraint).filter((r) => /^[a-z]{2}(-gov)?-[a-z]+-\d+$/.test(r));
    expect(sdk.filter((r) => !AWS_REGIONS.includes(r))).toEqual([]);
    expect(AWS_REGIONS).toContain('us-east-1');
  });

  it('the reference says what ttl does', () => {
    expect(configReference()).toMatch(/`ttl`[\s\S]*routing:\s+"traffic-policy"`\s+only/);
  });
});
