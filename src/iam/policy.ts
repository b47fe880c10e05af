/**
 * The least-privilege IAM policy `drctl up`, `failover-test` and `down` need, generated from one
 * table (PERMISSIONS, in permissions.ts): per step, the SDK commands it sends (test/iam/policy.test.ts checks this list against the
 * commands each step module imports, and against every call the fake cloud sees in a full run) and
 * the actions AWS checks on the caller's behalf (CloudFormation building the VPC, Synthetics making
 * the canary's Lambda function, tag-on-create). Light on purpose: no AWS SDK, so `drctl iam-policy`
 * and `drctl --help` start fast.
 *
 * How it scopes, per AWS's own rules:
 * - reads that AWS authorizes only on "*" (Describe*, List*): one statement, limited to the two
 *   regions (and us-east-1, where Route 53 and IAM answer) with aws:RequestedRegion;
 * - resources drctl names: by ARN (key pairs, stack, NLB, target group, role, bucket, canary, alarm);
 * - resources AWS names (endpoint, CA, certificate, peering): created only with the drctl:deployment
 *   tag (aws:RequestTag) and changed or deleted only while they carry it (aws:ResourceTag);
 * - what CloudFormation creates for the VPC stack: only through CloudFormation (aws:CalledVia).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 */
import type { Config } from '../config/config.js';
import { APIGATEWAY_ROUTES, actionOf, matches } from './actions.js';
import { type ConditionBlock, type Grant, PERMISSIONS } from './permissions.js';

// The table and the action names live beside this module; importers keep reaching them here.
export { APIGATEWAY_ROUTES, SDK_CLIENT_OF, actionOf, matches, type IamService } from './actions.js';
export {
  PERMISSIONS,
  VPC_STACK_ACTIONS,
  type ConditionBlock,
  type Grant,
  type StepPermissions,
} from './permissions.js';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface PolicyOptions {
  /** The account id for ARNs; `*` when unknown (drctl makes no AWS call to find it). */
  account?: string;
  /** Only these steps/commands (default: all). */
  only?: readonly string[];
  /**
   * Only what the read-only commands need (`verify`, `status --refresh`, `drills`, `report`): every
   * step's Describe/Get/List/Head calls and verify's own grants, no create, change or delete.
   */
  readOnly?: boolean;
  /** The `--state s3://bucket/key` location, when the state lives on S3. */
  stateS3?: { bucket: string; key: string };
}

/** Route 53 and IAM are global; their API answers in us-east-1 (the value of aws:RequestedRegion). */
export const GLOBAL_API_REGION = 'us-east-1';

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

interface Draft {
  actions: Set<string>;
  resources: Set<string>;
  condition?: ConditionBlock;
  name: string;
}

function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(p|a|r|d|c|n|bucket|key|prefix)\}/g, (_m, k: string) => vars[k] ?? '*');
}

/** The least-privilege policy for this config, as one document. */
export function iamPolicy(config: Config, opts: PolicyOptions = {}): PolicyDocument {
  const [primary, secondary] = [config.primary.region, config.secondary.region];
  const base: Record<string, string> = {
    p: partitionOf(primary),
    a: opts.account ?? '*',
    d: config.deployment,
    // The custom domain name, <host>.<domain>.
    n: `${config.host}.${config.domain}`,
    ...(opts.stateS3
      ? {
          bucket: opts.stateS3.bucket,
          key: opts.stateS3.key,
          prefix: opts.stateS3.key.slice(0, opts.stateS3.key.lastIndexOf('/') + 1),
        }
      : {}),
  };
  const aa = config.topology === 'active-active';
  const regionsFor = (g: Grant): string[] =>
    g.regions === 'unprobed'
      ? aa
        ? []
        : [primary]
      : g.regions === 'primary' || (g.regions === 'drilled' && !aa)
        ? [primary]
        : g.regions === 'secondary' || (g.regions === 'probes' && !aa)
          ? [secondary]
          : [primary, secondary];
  const requestedRegions = [...new Set([primary, secondary, GLOBAL_API_REGION])];

  // Statements are keyed by their resources and condition, so grants of several steps that need
  // the same scope share one statement (the policy must fit IAM's size limits).
  const drafts = new Map<string, Draft>();
  const add = (name: string, actions: string[], resources: string[], condition?: ConditionBlock) => {
    const filledCondition =
      condition && (JSON.parse(fill(JSON.stringify(condition), base)) as ConditionBlock);
    const key = JSON.stringify([[...new Set(resources)].sort(), filledCondition ?? null]);
    const d = drafts.get(key) ?? {
      actions: new Set(),
      resources: new Set(resources),
      condition: filledCondition,
      name,
    };
    actions.forEach((a) => d.actions.add(a));
    drafts.set(key, d);
  };

  for (const step of PERMISSIONS) {
    if (opts.only && !opts.only.includes(step.name)) continue;
    if (step.name === 'state-s3' && !opts.stateS3) continue;
    for (const full of step.grants) {
      const g = opts.readOnly ? readOnlyPart(step.name, full) : full;
      if (!g || g.noPermission) continue;
      const regions = regionsFor(g);
      if (!regions.length) continue;
      if (g.service === 'apigateway' && !g.resources) {
        for (const call of g.calls ?? []) {
          const route = APIGATEWAY_ROUTES[call];
          if (!route) throw new Error(`no API Gateway route for ${call}`);
          const resources = regions.flatMap((r) => apiGatewayArns(route[1], r, base, config));
          add(step.name, [`apigateway:${route[0]}`], resources);
        }
        continue;
      }
      const actions = [...(g.calls ?? []).map((c) => actionOf(g.service, c)), ...(g.onBehalf ?? [])];
      const templates = g.resources ?? ['*'];
      // {c}: the canary of that region (drctl-pri in the primary, drctl-sec in the secondary).
      const canaryOf = (r: string) => (r === primary ? 'pri' : 'sec');
      const resources = [
        ...new Set(templates.flatMap((t) => regions.map((r) => fill(t, { ...base, r, c: canaryOf(r) })))),
      ];
      let condition = g.condition;
      if (resources.includes('*')) {
        // Actions authorized only on "*": keep them to this deployment's regions.
        condition = {
          ...condition,
          StringEquals: { ...condition?.StringEquals, 'aws:RequestedRegion': requestedRegions },
        };
      }
      add(step.name, actions, resources, condition);
    }
  }

  const statements: PolicyStatement[] = [];
  const sids = new Map<string, number>();
  for (const d of drafts.values()) {
    const wildcards = [...d.actions].filter((a) => a.endsWith('*'));
    const actions = [...d.actions].filter((a) => !wildcards.some((w) => w !== a && matches(w, a))).sort();
    // Statements shared by several steps are named for what they scope, the others for their step.
    const onlyRegion =
      d.resources.size === 1 &&
      d.resources.has('*') &&
      Object.keys(d.condition ?? {}).join() === 'StringEquals' &&
      Object.keys(d.condition?.StringEquals ?? {}).join() === 'aws:RequestedRegion';
    const viaCloudFormation = !!d.condition?.['ForAnyValue:StringEquals']?.['aws:CalledVia'];
    const stem = onlyRegion
      ? 'AnyResourceInTheseRegions'
      : viaCloudFormation
        ? 'VpcStackViaCloudFormation'
        : d.name.replace(/(^|-)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
    const n = (sids.get(stem) ?? 0) + 1;
    sids.set(stem, n);
    statements.push({
      Sid: `${stem}${n}`,
      Effect: 'Allow',
      Action: actions,
      Resource: [...d.resources].sort(),
      ...(d.condition ? { Condition: d.condition } : {}),
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * The ARNs one API Gateway route acts on. IAM's `*` also matches `/`, so `/restapis/*` would grant
 * every sub-resource of every API: ids are matched by length instead (`?` is one character; REST
 * API ids are ten), the domain name by its name, the stage by drctl's. Access associations always
 * carry the account in their ARN; a private custom domain name is `/domainnames/<name>+<id>` with
 * the account, its base path mappings without it; public domain names never have it.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
 */
function apiGatewayArns(
  route: string,
  region: string,
  base: Record<string, string>,
  config: Config,
): string[] {
  const name = `${config.host}.${config.domain}`;
  const fill = (domainName: string) =>
    route
      .replace('{restApiId}', '??????????')
      .replace('{stageName}', 'prod')
      .replace('{domainName}', domainName)
      .replace(/\{[^}]+\}/g, '*');
  const arn = (account: string, path: string) => `arn:${base.p}:apigateway:${region}:${account}:${path}`;
  if (route.startsWith('/domainnameaccessassociations')) return [arn(base.a!, fill(name))];
  if (!route.includes('{domainName}')) return [arn('', fill(name))];
  const publicArn = arn('', fill(name));
  const privatePath = fill(`${name}+*`);
  // The domain name itself: with the account when private; what is below it (mappings): without.
  return [
    publicArn,
    route === '/domainnames/{domainName}' ? arn(base.a!, privatePath) : arn('', privatePath),
  ];
}

const READ_ONLY_CALL = /^(Describe|Get|List|Head)/;

/** A grant cut to its reads (verify's grants whole: its Invoke runs the read-only probe). */
function readOnlyPart(step: string, g: Grant): Grant | undefined {
  if (step === 'verify') return g;
  // The switch moves traffic: none of it belongs to a read-only policy, not even its reads.
  if (step === 'switch') return undefined;
  // The state on S3 is read and its evidence written (verify keeps its last result there).
  if (step === 'state-s3') return g;
  const calls = (g.calls ?? []).filter((c) => READ_ONLY_CALL.test(c));
  if (!calls.length) return undefined;
  const { onBehalf: _ignored, ...rest } = g;
  // A tag condition on a read would refuse the look-ups of things not (yet) ours: reads go unscoped by tag.
  return { ...rest, calls, ...(g.condition && isTagCondition(g.condition) ? { condition: undefined } : {}) };
}

const isTagCondition = (c: ConditionBlock) =>
  Object.values(c).some((block) => Object.keys(block).some((k) => k.startsWith('aws:RequestTag/')));

/**
 * The characters IAM counts against a policy's size quota (whitespace excluded): a customer
 * managed policy holds 6,144, a role's inline policies 10,240 together.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */
export function policySize(doc: PolicyDocument): number {
  return JSON.stringify(doc).replace(/\s/g, '').length;
}

export const MANAGED_POLICY_MAX_CHARS = 6_144;

/** Splits the statements over as few documents as fit the managed-policy quota. */
export function splitPolicy(doc: PolicyDocument, maxChars = MANAGED_POLICY_MAX_CHARS): PolicyDocument[] {
  const out: PolicyDocument[] = [];
  let current: PolicyDocument = { Version: doc.Version, Statement: [] };
  for (const s of doc.Statement) {
    const next: PolicyDocument = { Version: doc.Version, Statement: [...current.Statement, s] };
    if (current.Statement.length && policySize(next) > maxChars) {
      out.push(current);
      current = { Version: doc.Version, Statement: [s] };
    } else current = next;
  }
  if (current.Statement.length) out.push(current);
  return out;
}
