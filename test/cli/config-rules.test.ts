import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BuiltCli, denySdkHook } from '../support/built-cli.js';

// Issue 23 point 7: config rules a person trips on, through the built CLI in a child process.

let cli: BuiltCli;
beforeAll(() => assertBuilt());
afterEach(() => cli?.cleanup());

interface Case {
  name: string;
  file: string;
  args?: string[];
  code: number;
  stderr: RegExp[];
  notStderr?: RegExp;
  stdout?: RegExp[];
}

const json = (v: unknown) => JSON.stringify(v, null, 2);

const cases: Case[] = [
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
    stderr: [/! clientInstanceType: t3\.mirco is not an instance type drctl knows \(did you mean t3\.micro\?\)/],
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
    stderr: [/is not valid JSON at line 4, column 1:\n {2}Expected double-quoted property name$/m, /^ {5}4 \| \}$/m, /^ {7}\| \^$/m],
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
  it.each(cases)('$name', (c) => {
    cli = new BuiltCli();
    writeFileSync(join(cli.dir, 'drctl.config.json'), c.file);
    const before = cli.listing();
    const r = cli.run(c.args ?? ['up', '--yes'], { nodeArgs: ['--import', denySdkHook] });
    expect(r.code, r.stderr).toBe(c.code);
    for (const re of c.stderr) expect(r.stderr).toMatch(re);
    for (const re of c.stdout ?? []) expect(r.stdout).toMatch(re);
    if (c.notStderr) expect(r.stderr).not.toMatch(c.notStderr);
    // Nothing written: not on a refusal, not by `config`.
    expect(cli.listing()).toEqual(before);
  });
});
