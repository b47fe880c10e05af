import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.js';
import { configReference } from '../../src/config/reference.js';
import { hasRule, planDiff, unsafeChanges } from '../../src/plan/diff.js';
import { STEPS } from '../../src/steps/index.js';
import type { State } from '../../src/state/schema.js';
import { assertBuilt, BuiltCli, denySdkHook } from '../support/built-cli.js';
import { Harness } from '../support/harness.js';

// Issue 23 point 1: `up` (and `step`) never start what `plan` shows as "replace: down, then up".
// One `up` on the fake cloud; then, for each config field, the changed config is tried: where the
// plan diff says "down, then up", up and step are refused before any mutating call.

/** Every field of the config reference, and a value that changes it from the default. */
const CHANGED: Record<string, unknown> = {
  deployment: 'other',
  'primary.region': 'eu-west-1',
  'primary.vpcCidr': '10.9.0.0/16',
  'secondary.region': 'us-east-2',
  'secondary.vpcCidr': '172.17.0.0/16',
  domain: 'example.com',
  host: 'www',
  ttl: 30,
  sshCidr: '192.0.2.0/24',
  clientInstanceType: 't3.small',
  natGateway: true,
  'ca.commonName': 'other root CA',
  'ca.organization': 'Other',
  'ca.country': 'BR',
  'ca.validityYears': 5,
  'ca.permanentDeletionTimeInDays': 30,
  domainMode: 'private',
  certificateArn: {
    'us-west-1': 'arn:aws:acm:us-west-1:123456789012:certificate/0c6f2c3a-1111-2222-3333-444455556666',
  },
  tlsPolicy: 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
  allowedAccountIds: ['111122223333'],
  api: { openapi: 'examples/orders-api.openapi.json' },
  topology: 'active-active',
  routing: 'traffic-policy',
  'canary.artifactExpiryDays': 30,
  'canary.secondary': true,
  'canary.evaluationPeriods': 5,
  'canary.datapointsToAlarm': 1,
  rtoTargetSeconds: 600,
  'primary.vpcId': 'vpc-0123abcd',
  'primary.subnetIds': ['subnet-0123abcd'],
  'primary.endpointId': 'vpce-0123abcd',
  'secondary.vpcId': 'vpc-0456abcd',
  'secondary.subnetIds': ['subnet-0456abcd'],
  'secondary.endpointId': 'vpce-0456abcd',
  peering: 'existing',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
};

/** The user's own network comes whole (vpcId needs subnetIds and peering "existing"): configs that parse. */
const OWN_NETWORK = {
  primary: { vpcId: 'vpc-0123abcd', subnetIds: ['subnet-0123abcd'] },
  secondary: { vpcId: 'vpc-0456abcd', subnetIds: ['subnet-0456abcd'] },
  peering: 'existing',
};
const WITH_NETWORK: Record<string, Record<string, unknown>> = {
  'primary.vpcId': OWN_NETWORK,
  'primary.subnetIds': OWN_NETWORK,
  'secondary.vpcId': OWN_NETWORK,
  'secondary.subnetIds': OWN_NETWORK,
  peering: OWN_NETWORK,
  'primary.endpointId': {
    ...OWN_NETWORK,
    primary: { ...OWN_NETWORK.primary, endpointId: 'vpce-0123abcd' },
  },
  'secondary.endpointId': {
    ...OWN_NETWORK,
    secondary: { ...OWN_NETWORK.secondary, endpointId: 'vpce-0456abcd' },
  },
};

/** The config file that changes `field` as CHANGED says (with what it needs beside it). */
const configWith = (field: string) => WITH_NETWORK[field] ?? nested(field, CHANGED[field]);

/** What `plan` says must be "down, then up" today (a change to this list is a deliberate one). */
const DOWN_THEN_UP = [
  'deployment',
  'primary.region',
  'primary.vpcCidr',
  'secondary.region',
  'secondary.vpcCidr',
  'domain',
  'host',
  'ca.commonName',
  'ca.organization',
  'ca.country',
  'ca.validityYears',
  'domainMode',
  // Moving onto (or off) the user's own network: drctl's VPC stack, endpoint, peering or zone
  // would go while what is in them still stands.
  'primary.vpcId',
  'primary.subnetIds',
  'primary.endpointId',
  'secondary.vpcId',
  'secondary.subnetIds',
  'secondary.endpointId',
  'peering',
  'hostedZoneId',
];

const referenceFields = () => [...configReference().matchAll(/^- `([^`]+)`/gm)].map((m) => m[1]!);

/** `{ "primary.vpcCidr": x }` as the nested object a config file holds. */
function nested(field: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = field.split('.');
  return rest.length && head !== 'certificateArn'
    ? { [head!]: nested(rest.join('.'), value) }
    : { [field]: value };
}

describe('every field of the config reference has a plan rule', () => {
  it('each field is classified (a new field without a rule fails here)', () => {
    const fields = referenceFields();
    expect(fields.length).toBeGreaterThan(20);
    expect(fields.filter((f) => !hasRule(f))).toEqual([]);
    expect(hasRule('primary.noSuchField')).toBe(false);
  });

  it('each field has a changed value below, so the refusal test covers it', () => {
    expect(referenceFields().filter((f) => !(f in CHANGED))).toEqual([]);
  });
});

describe('up and step refuse what plan shows as "replace: down, then up"', () => {
  let h: Harness;
  let state: State;
  let stateText: string;
  beforeAll(async () => {
    assertBuilt();
    h = new Harness();
    await h.ok(['up']);
    state = h.state()!;
    stateText = readFileSync(h.statePath, 'utf8');
  });
  afterAll(() => h?.cleanup());

  it('the fields the plan diff classes "down, then up" are the expected ones', () => {
    const unsafe = Object.entries(CHANGED).filter(([field, value]) => {
      const config = configSchema.parse(field in WITH_NETWORK ? configWith(field) : nested(field, value));
      return unsafeChanges(planDiff(config, state, STEPS)).some((c) => c.field === field);
    });
    expect(unsafe.map(([f]) => f)).toEqual(DOWN_THEN_UP);
  });

  for (const field of DOWN_THEN_UP) {
    it(`${field}: up and step refuse it, exit 2, with zero mutating calls and the state untouched`, async () => {
      h.writeConfig(configWith(field));
      h.cloud.resetCalls();
      for (const args of [['up'], ['step', 'vpc']]) {
        const r = await h.run(args);
        expect(r.code, r.stderr).toBe(2);
        // A region is refused as the state file loads ("was made for primary region ...").
        expect(r.stderr).toMatch(new RegExp(field.replace('.', '[. ]')));
        expect(
          h.cloud.mutatingCalls.map((c) => c.command),
          args.join(' '),
        ).toEqual([]);
        expect(readFileSync(h.statePath, 'utf8')).toBe(stateText);
      }
      h.writeConfig({});
    });
  }

  it('a change up makes itself (tlsPolicy) is still applied: the refusal is only for down, then up', async () => {
    h.writeConfig({ tlsPolicy: CHANGED.tlsPolicy });
    h.cloud.resetCalls();
    const r = await h.run(['up']);
    expect(r.code, r.stderr).toBe(0);
    expect(h.cloud.mutatingCalls.map((c) => c.command)).toEqual(['ModifyListener', 'ModifyListener']);
    h.writeConfig({});
    await h.ok(['up']);
    stateText = readFileSync(h.statePath, 'utf8');
  });

  it('built CLI: plan says "down, then up" for primary.vpcCidr, and `--yes up` refuses it before loading the AWS SDK', () => {
    h.writeConfig({ primary: { vpcCidr: '10.9.0.0/16' } });
    const cli = new BuiltCli(h.dir);
    const plan = cli.run(['plan']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^ 2\. vpc +sa-east-1: replace: down, then up \(primary\.vpcCidr\)/m);
    // The SDK cannot even load: the refusal comes before any AWS client exists.
    const up = cli.run(['--yes', 'up'], { nodeArgs: ['--import', denySdkHook] });
    expect(up.code, up.stderr).toBe(2);
    const error = up.stderr.slice(up.stderr.indexOf('error: '));
    expect(error.split('\n')).toEqual([
      'error: up cannot make this config change in place; nothing was changed:',
      '  primary.vpcCidr: "10.0.0.0/16" -> "10.9.0.0/16"',
      '    plan: replace: down, then up (vpc sa-east-1, peering global)',
      'what to do: put primary.vpcCidr back as it was, or `drctl down` then `drctl up`.',
      '',
    ]);
    for (const line of error.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(up.stderr).not.toContain('start-up loaded the AWS SDK');
    expect(readFileSync(h.statePath, 'utf8')).toBe(stateText);
    const step = cli.run(['--yes', 'step', 'vpc'], { nodeArgs: ['--import', denySdkHook] });
    expect(step.code, step.stderr).toBe(2);
    expect(step.stderr).toContain('error: step vpc cannot make this config change in place');
    h.writeConfig({});
  });
});
