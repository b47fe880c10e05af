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

/** Runs one case through the built CLI; `nothingWritten`: the directory must be as before, whatever the code. */
function runCase(c: Case, nothingWritten: boolean): void {
  cli = new BuiltCli();
  writeFileSync(join(cli.dir, 'drctl.config.json'), c.file);
  const before = cli.listing();
  // `up` by default: a bad config must stop it before it loads the SDK or calls AWS.
  const r = cli.run(c.args ?? ['up', '--yes'], { nodeArgs: ['--import', denySdkHook] });
  expect(r.code, r.stderr).toBe(c.code);
  for (const re of c.stderr) expect(r.stderr).toMatch(re);
  for (const re of c.stdout ?? []) expect(r.stdout).toMatch(re);
  if (c.notStderr) expect(r.stderr).not.toMatch(c.notStderr);
  if (nothingWritten || c.code === 2 || c.args?.[0] !== 'up') expect(cli.listing()).toEqual(before);
}

describe('the config file, through the built CLI', () => {
  it.each(cases)('$name', (c) => runCase(c, false));
});

/** Issue 23's config rules a person trips on: refused or warned, and nothing is ever written. */
const RULE_CASES: Case[] = [
  {
    name: 'regions of two partitions are refused, naming both',
    file: json({ primary: { region: 'cn-north-1' }, secondary: { region: 'us-west-1' } }),
    code: 2,
    stderr: [/secondary\.region: us-west-1 is in partition aws, primary\.region cn-north-1 in aws-cn/],
  },
  {
    name: 'two China regions are one partition',
    file: json({ primary: { region: 'cn-north-1' }, secondary: { region: 'cn-northwest-1' } }),
    args: ['config'],
    code: 0,
    stderr: [],
  },
  {
    name: 'a tlsPolicy typo is refused with the policy it probably meant',
    file: json({ tlsPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-6' }),
    code: 2,
    stderr: [
      /tlsPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-6" is not a security policy for NLB TLS listeners/,
      /did you mean ELBSecurityPolicy-TLS13-1-2-2021-06\?/,
    ],
  },
  {
    name: 'a documented post-quantum policy is accepted',
    file: json({ tlsPolicy: 'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09' }),
    args: ['config'],
    code: 0,
    stderr: [],
  },
  {
    name: 'a TLS 1.3 policy that still allows TLS 1.0 warns',
    file: json({ tlsPolicy: 'ELBSecurityPolicy-TLS13-1-0-2021-06' }),
    args: ['config'],
    code: 0,
    stderr: [/! tlsPolicy: ELBSecurityPolicy-TLS13-1-0-2021-06 allows TLS 1\.0 or 1\.1/],
  },
  {
    name: 'the reference lists the policies the refusal points to',
    file: json({}),
    args: ['config', '--reference'],
    code: 0,
    stderr: [],
    stdout: [/`tlsPolicy`[^]*ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04/],
  },
  {
    name: 'an unknown instance type warns, with a suggestion',
    file: json({ clientInstanceType: 't3.mirco' }),
    args: ['config'],
    code: 0,
    stderr: [
      /! clientInstanceType: t3\.mirco is not an instance type drctl knows \(did you mean t3\.micro\?\)/,
    ],
  },
  {
    name: 'host in capitals is lower-cased and said, like domain',
    file: json({ host: 'API', domain: 'Octank.COM' }),
    args: ['config'],
    code: 0,
    stderr: [
      /! host: "API" is used as "api" \(DNS names ignore case\)/,
      /! domain: "Octank\.COM" is used as "octank\.com" \(DNS names ignore case\)/,
    ],
    stdout: [/"host": "api"/, /"domain": "octank\.com"/],
  },
  {
    name: 'a JSON error names the line and column and shows the line',
    file: '{\n  "deployment": "x",\n  "ttl": 30,\n}\n',
    code: 2,
    stderr: [
      /is not valid JSON at line 4, column 1:\n {2}Expected double-quoted property name$/m,
      /^ {5}4 \| \}$/m,
      /^ {7}\| \^$/m,
    ],
    notStderr: /position/,
  },
  {
    name: 'a JSON file cut short says where it ends',
    file: '{\n  "deployment": \n',
    code: 2,
    stderr: [/is not valid JSON at line 2, column 16:\n {2}the file ends before the JSON does$/m],
  },
  {
    name: 'a type error is in plain words, naming the field',
    file: json({ ttl: '60', natGateway: 'yes', domainMode: 'edge', primary: 'eu-west-1' }),
    code: 2,
    stderr: [
      /^ {2}ttl: must be a number, not the string "60" \(drop the quotes\)$/m,
      /^ {2}natGateway: must be true or false, not the string "yes"$/m,
      /^ {2}domainMode: must be one of "regional", "private", not the string "edge"$/m,
      /^ {2}primary: must be an object \(\{\.\.\.\}\), not the string "eu-west-1"$/m,
    ],
    notStderr: /Invalid input|Invalid option|received/,
  },
  {
    name: 'a bound is in plain words',
    file: json({ rtoTargetSeconds: 10.5, canary: { artifactExpiryDays: 0 } }),
    code: 2,
    stderr: [
      /rtoTargetSeconds: must be a whole number, not 10\.5/,
      /canary\.artifactExpiryDays: must be at least 1, not 0/,
    ],
    notStderr: /Too small|expected int/,
  },
];

describe('config rules (issue 23 point 7), through the built CLI', () => {
  it.each(RULE_CASES)('$name', (c) => runCase(c, true));
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
