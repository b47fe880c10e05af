import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { STEPS } from '../../src/steps/index.js';
import { Harness } from '../support/harness.js';

const FIRST_TWO = { steps: STEPS.slice(0, 2) };

let h: Harness;
afterEach(() => h?.cleanup());

interface Case {
  name: string;
  config?: unknown;
  /** Text written verbatim as the config file. */
  configText?: string;
  args?: string[];
  /** A function of a valid state (after `up`) returning the tampered file text. */
  state?: (valid: Record<string, any>) => string;
  field: RegExp;
}

const cases: Case[] = [
  { name: 'config: not JSON', configText: '{ "deployment": ', field: /--config: .*not valid JSON/ },
  { name: 'config: unknown field', config: { deploymnt: 'x' }, field: /deploymnt: unknown field/ },
  { name: 'deployment: uppercase', config: { deployment: 'Prod' }, field: /deployment: lowercase/ },
  {
    name: 'deployment: too long for NLB names',
    config: { deployment: 'a-very-long-name' },
    field: /deployment: at most 12/,
  },
  { name: 'deployment: not a string', config: { deployment: 7 }, field: /deployment:/ },
  {
    name: 'primary.region malformed',
    config: { primary: { region: 'sa-east', vpcCidr: '10.0.0.0/16' } },
    field: /primary\.region: "sa-east" is not an AWS region/,
  },
  {
    name: 'regions equal',
    config: { secondary: { region: 'sa-east-1', vpcCidr: '172.16.0.0/16' } },
    field: /secondary\.region: must differ/,
  },
  {
    name: 'CIDR malformed',
    config: { primary: { region: 'sa-east-1', vpcCidr: '10.0.0/16' } },
    field: /primary\.vpcCidr: must be an IPv4 CIDR/,
  },
  {
    name: 'CIDR with host bits',
    config: { primary: { region: 'sa-east-1', vpcCidr: '10.0.0.1/16' } },
    field: /primary\.vpcCidr/,
  },
  {
    name: 'CIDR too small',
    config: { primary: { region: 'sa-east-1', vpcCidr: '10.0.0.0/28' } },
    field: /primary\.vpcCidr/,
  },
  {
    name: 'CIDRs overlap',
    config: { secondary: { region: 'us-west-1', vpcCidr: '10.0.128.0/17' } },
    field: /secondary\.vpcCidr: overlaps/,
  },
  { name: 'domain invalid', config: { domain: 'octank' }, field: /domain: must be a DNS domain/ },
  { name: 'host invalid', config: { host: 'api.v1' }, field: /host: must be one DNS label/ },
  { name: 'ttl negative', config: { ttl: -1 }, field: /ttl:/ },
  { name: 'ttl not a number', config: { ttl: '60' }, field: /ttl:/ },
  { name: 'sshCidr invalid', config: { sshCidr: '0.0.0.0' }, field: /sshCidr:/ },
  {
    name: 'ca deletion window too short',
    config: { ca: { permanentDeletionTimeInDays: 3 } },
    field: /ca\.permanentDeletionTimeInDays/,
  },
  {
    name: 'ca validity too short for a 13-month certificate',
    config: { ca: { validityYears: 1 } },
    field: /ca\.validityYears: at least 2: .*395 days/s,
  },
  { name: 'domainMode unknown', config: { domainMode: 'edge' }, field: /domainMode/ },
  { name: 'routing unknown', config: { routing: 'weighted' }, field: /routing/ },
  { name: 'tlsPolicy not an ELB policy', config: { tlsPolicy: 'TLS1.2' }, field: /tlsPolicy/ },
  {
    name: 'certificateArn not ACM',
    config: { certificateArn: { 'sa-east-1': 'arn:aws:iam::1:x' } },
    field: /certificateArn\.sa-east-1/,
  },
  { name: 'rtoTargetSeconds too small', config: { rtoTargetSeconds: 5 }, field: /rtoTargetSeconds/ },
  { name: '--config file missing', args: ['--config', 'nope.json', 'up'], field: /--config: cannot read/ },
  { name: 'unknown flag', args: ['--regoin', 'x'], field: /unknown option/ },
  { name: 'unknown command', args: ['upp'], field: /unknown command/ },
  {
    name: '--state s3:// without a key',
    args: ['--state', 's3://team-state', 'up'],
    field: /--state: the state needs an object key/,
  },
  {
    name: '--state s3:// with a key ending in /',
    args: ['--state', 's3://team-state/drctl/', 'up'],
    field: /--state: the state needs an object key/,
  },
  {
    name: '--state s3:// bad bucket name',
    args: ['--state', 's3://Team_State/drctl.json', 'up'],
    field: /--state: "Team_State" is not a valid S3 bucket name/,
  },
  {
    name: '--state s3:// bucket missing',
    args: ['--state', 's3://no-such-state-bucket/drctl.json', 'up'],
    field: /--state: bucket no-such-state-bucket .*does not exist/,
  },
  {
    name: '--state s3:// unknown parameter',
    args: ['--state', 's3://team-state/drctl.json?regoin=eu-west-1', 'plan'],
    field: /--state: unknown or malformed parameter "regoin=eu-west-1"/,
  },
  {
    name: '--lock-timeout not a number',
    args: ['--lock-timeout', 'soon', 'up'],
    field: /--lock-timeout: must be/,
  },
  { name: 'step: unknown name', args: ['step', 'vcp'], field: /step: unknown step "vcp"/ },
  {
    name: 'step: region not in the deployment',
    args: ['step', 'vpc', '--region', 'eu-west-1'],
    field: /--region: eu-west-1 is not/,
  },
  {
    name: 'state: truncated',
    state: (s) => JSON.stringify(s).slice(0, 80),
    field: /state: .*not valid JSON/,
  },
  { name: 'state: empty file', state: () => '', field: /state: .*not valid JSON/ },
  {
    name: 'state: wrong version',
    state: (s) => JSON.stringify({ ...s, version: 99 }),
    field: /state\.version: unsupported state version/,
  },
  {
    name: 'state: another deployment',
    state: (s) => JSON.stringify({ ...s, deployment: 'other' }),
    field: /deployment: .*belongs to deployment "other"/,
  },
  {
    name: 'state: other regions',
    state: (s) => JSON.stringify({ ...s, regions: { primary: 'eu-west-1', secondary: 'us-west-1' } }),
    field: /primary\.region: .*made for primary region eu-west-1/,
  },
  {
    name: 'state: hand-edited vpc id',
    state: (s) => JSON.stringify(s).replace(/"vpc-[0-9a-f]+"/, '"vpc-XYZ"'),
    field: /state\.steps\.vpc\.sa-east-1\.resources\.vpcId: must be an id like vpc-/,
  },
  {
    name: 'state: hand-edited key pair id',
    state: (s) => JSON.stringify(s).replace(/"key-[0-9a-f]+"/, '"kp-1"'),
    field: /state\.steps\.keypairs\.sa-east-1\.resources\.keyPairId/,
  },
  {
    name: 'state: unknown step',
    state: (s) => JSON.stringify({ ...s, steps: { ...s.steps, bogus: {} } }),
    field: /state\.steps\.bogus: unknown step/,
  },
  {
    name: 'state: unknown region key',
    state: (s) => JSON.stringify({ ...s, steps: { vpc: { 'eu-west-3': s.steps.vpc['sa-east-1'] } } }),
    field: /state\.steps\.vpc\.eu-west-3/,
  },
  {
    name: 'state: bad status',
    state: (s) => JSON.stringify(s).replace('"ready"', '"done"'),
    field: /state\.steps\..*\.status/,
  },
  { name: 'state: not an object', state: () => '[]', field: /state/ },
  {
    // An unreadable state is worked around by tag; another deployment's is a wrong --config/--state.
    name: 'down --discover: the state of another deployment',
    args: ['down', '--discover', '--yes'],
    state: (s) => JSON.stringify({ ...s, deployment: 'other' }),
    field: /deployment: .*belongs to deployment "other"/,
  },
  { name: 'down --discover: a value given', args: ['down', '--discover=all'], field: /--discover/ },
];

describe('bad input gives exit 2 naming the field, and changes nothing in the cloud or on disk', () => {
  it('has at least 30 cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));

  for (const c of cases) {
    it(c.name, async () => {
      h = new Harness();
      if (c.state) await h.ok(['up'], FIRST_TWO);
      if (c.config !== undefined) h.writeConfig(c.config as Record<string, unknown>);
      if (c.configText !== undefined) writeFileSync(`${h.dir}/drctl.config.json`, c.configText);
      if (c.state) writeFileSync(h.statePath, c.state(h.state() as unknown as Record<string, any>));
      const filesBefore = listing(h.dir);
      const stateBefore = existsSync(h.statePath) ? readFileSync(h.statePath, 'utf8') : undefined;
      const cloudBefore = h.cloud.snapshot();
      h.cloud.resetCalls();
      const r = await h.run(c.args ?? ['up'], FIRST_TWO);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(c.field);
      expect(h.cloud.mutatingCalls).toEqual([]);
      expect(h.cloud.snapshot()).toEqual(cloudBefore);
      expect(listing(h.dir)).toEqual(filesBefore);
      if (stateBefore !== undefined) expect(readFileSync(h.statePath, 'utf8')).toBe(stateBefore);
    });
  }
});

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}
