import { DELAYS, type DelayKey } from '../test/support/fake-cloud/delays.js';

/**
 * The resource-level dependency graph of a full `up`: what each AWS resource needs before it can
 * be created, and how long it takes (a row of the same delay table the fake cloud uses). The
 * physical lower bound for `up` is the longest path through it with both regions in parallel;
 * the workshop baseline is the sum of the same durations, one resource after another.
 */
export interface ResourceNode {
  id: string;
  /** Duration: a delay-table row, or none for a synchronous call. */
  key?: DelayKey;
  scope: 'regional' | 'global';
  /** Regional ids (same region), `@primary`/`@secondary` suffixed ids, or global ids. */
  after: string[];
}

export const RESOURCES: ResourceNode[] = [
  { id: 'keypair', key: 'keypair.create', scope: 'regional', after: [] },
  { id: 'stack', key: 'stack.create', scope: 'regional', after: ['keypair'] },
  { id: 'endpoint', key: 'vpce.create', scope: 'regional', after: ['stack'] },
  // The resource policy names the endpoint, and a private API deploys only with a policy.
  { id: 'api', key: 'apigw.import', scope: 'regional', after: ['endpoint'] },
  { id: 'ca', key: 'pca.create', scope: 'regional', after: [] },
  { id: 'ca-certificate', key: 'pca.issue', scope: 'regional', after: ['ca'] },
  { id: 'ca-active', key: 'pca.import', scope: 'regional', after: ['ca-certificate'] },
  { id: 'certificate', key: 'acm.issue', scope: 'regional', after: ['ca-active'] },
  { id: 'domain', key: 'apigw.domain', scope: 'regional', after: ['api', 'certificate'] },
  { id: 'nlb', key: 'nlb.create', scope: 'regional', after: ['stack'] },
  // Health checks start once the NLB is active and a listener (which needs the certificate) uses the group.
  {
    id: 'targets-healthy',
    key: 'nlb.targetHealthy',
    scope: 'regional',
    after: ['nlb', 'endpoint', 'certificate'],
  },
  { id: 'role', key: 'iam.propagate', scope: 'regional', after: [] },
  { id: 'canary', key: 'canary.create', scope: 'regional', after: ['role', 'stack', 'api'] },
  { id: 'canary-running', key: 'canary.start', scope: 'regional', after: ['canary'] },
  {
    id: 'peering-visible',
    key: 'peering.visible',
    scope: 'global',
    after: ['stack@primary', 'stack@secondary'],
  },
  { id: 'peering-active', key: 'peering.active', scope: 'global', after: ['peering-visible'] },
  { id: 'zone', key: 'r53.zone', scope: 'global', after: ['stack@primary'] },
  { id: 'zone-associated', key: 'r53.associate', scope: 'global', after: ['zone', 'stack@secondary'] },
  // The drill's in-VPC probe: a Lambda function in the secondary VPC trusting both CAs.
  { id: 'probe-role', key: 'iam.propagate', scope: 'global', after: [] },
  {
    id: 'probe-function',
    key: 'lambda.create',
    scope: 'global',
    after: ['probe-role', 'stack@secondary', 'ca-active@primary', 'ca-active@secondary'],
  },
  // PutMetricAlarm names the canary's metric, not the canary: both are synchronous calls.
  { id: 'alarm', scope: 'global', after: [] },
  { id: 'health-check', scope: 'global', after: ['alarm'] },
  // drctl publishes the name only once the custom domain answers it in both regions.
  {
    id: 'failover-records',
    key: 'r53.change',
    scope: 'global',
    after: ['zone', 'health-check', 'nlb@primary', 'nlb@secondary', 'domain@primary', 'domain@secondary'],
  },
];

const seconds = (n: ResourceNode, profile: 'typical' | 'slow') => (n.key ? DELAYS[n.key][profile] : 0);

/** Longest path, both regions in parallel (regions: ['primary'] for one region alone). */
export function lowerBoundS(
  profile: 'typical' | 'slow',
  regions: string[] = ['primary', 'secondary'],
): number {
  const finish = new Map<string, number>();
  const expand = (n: ResourceNode, region?: string) =>
    n.after.flatMap((a) => {
      if (a.includes('@')) return regions.includes(a.split('@')[1]!) ? [a] : [];
      const dep = RESOURCES.find((r) => r.id === a)!;
      if (dep.scope === 'global') return [a];
      return region ? [`${a}@${region}`] : regions.map((r) => `${a}@${r}`);
    });
  const finishOf = (id: string): number => {
    const known = finish.get(id);
    if (known !== undefined) return known;
    const [base, region] = id.split('@') as [string, string | undefined];
    const n = RESOURCES.find((r) => r.id === base)!;
    const start = Math.max(0, ...expand(n, region).map(finishOf));
    const f = start + seconds(n, profile);
    finish.set(id, f);
    return f;
  };
  const ids = RESOURCES.flatMap((n) =>
    n.scope === 'global' ? (regions.length > 1 ? [n.id] : []) : regions.map((r) => `${n.id}@${r}`),
  );
  return Math.max(...ids.map(finishOf));
}

/** The workshop done by a script, in its order: every resource waited for before the next. */
export function workshopBaselineS(profile: 'typical' | 'slow'): number {
  const regional = RESOURCES.filter((n) => n.scope === 'regional').reduce(
    (s, n) => s + seconds(n, profile),
    0,
  );
  const global = RESOURCES.filter((n) => n.scope === 'global').reduce((s, n) => s + seconds(n, profile), 0);
  return 2 * regional + global;
}

/** Which read observes each transition, for the detection-lag figure. */
export const OBSERVERS: Partial<Record<DelayKey, string[]>> = {
  'stack.create': ['DescribeStacks'],
  'vpce.create': ['DescribeVpcEndpoints'],
  'pca.create': ['GetCertificateAuthorityCsr', 'DescribeCertificateAuthority'],
  'pca.issue': ['GetCertificate'],
  'pca.import': ['DescribeCertificateAuthority'],
  'acm.issue': ['DescribeCertificate'],
  'apigw.domain': ['GetDomainName', 'GetDomainNames'],
  'nlb.create': ['DescribeLoadBalancers'],
  'nlb.targetHealthy': ['DescribeTargetHealth'],
  'peering.visible': ['DescribeVpcPeeringConnections'],
  'peering.active': ['DescribeVpcPeeringConnections'],
  'r53.change': ['GetChange'],
  'r53.zone': ['GetChange'],
  'r53.associate': ['GetChange'],
  'canary.create': ['GetCanary', 'DescribeCanaries'],
  'canary.start': ['GetCanary', 'DescribeCanaries'],
  'lambda.create': ['GetFunction', 'GetFunctionConfiguration'],
};

/**
 * The resource-level graph of a full `down`: what AWS requires to be gone before each deletion can
 * finish, and how long each deletion takes (the delay table's deletion rows). Edges are AWS's own
 * rules, not drctl's step order:
 * - a subnet or security group cannot be deleted while a network interface is in it
 *   (DependencyViolation): the execute-api endpoint's, the NLB's (released after it is deleted)
 *   and the Lambda Hyperplane ENIs of the canary and the probe, which Lambda releases 20-45 min
 *   after the function is deleted or leaves the VPC;
 * - CloudFormation deletes a stack's subnets, security groups and VPC last
 *   ('stack.deleteNetwork'); the rest of it (instance, NAT gateway, endpoints, routes, gateway)
 *   needs none of the above, so it can go meanwhile;
 * - a canary is deleted only once STOPPED, and its Lambda (DeleteLambda) with it;
 * - a private hosted zone only without its records; a target group only without its load
 *   balancer; an API only without the base path mappings of its domain (all synchronous calls).
 * The canary runs in the primary region only (the default config).
 */
export interface TeardownNode {
  id: string;
  key?: DelayKey;
  /** Seconds taken off the row's value (a part of it that is its own node). */
  minus?: DelayKey;
  scope: 'regional' | 'global';
  /** For regional nodes that exist in only one region. */
  only?: 'primary' | 'secondary';
  after: string[];
}

export const TEARDOWN: TeardownNode[] = [
  { id: 'records', key: 'r53.change', scope: 'global', after: [] },
  { id: 'health-check', scope: 'global', after: ['records'] },
  { id: 'zone', key: 'r53.change', scope: 'global', after: ['records'] },
  { id: 'canary-stopped', key: 'canary.stop', scope: 'regional', only: 'primary', after: [] },
  {
    id: 'canary-deleted',
    key: 'canary.delete',
    scope: 'regional',
    only: 'primary',
    after: ['canary-stopped'],
  },
  {
    id: 'canary-enis',
    key: 'lambda.eniRelease',
    scope: 'regional',
    only: 'primary',
    after: ['canary-deleted'],
  },
  { id: 'alarm', scope: 'regional', only: 'primary', after: ['health-check'] },
  { id: 'bucket', scope: 'regional', only: 'primary', after: ['canary-deleted'] },
  { id: 'probe-deleted', scope: 'global', after: [] },
  { id: 'probe-enis', key: 'lambda.eniRelease', scope: 'global', after: ['probe-deleted'] },
  { id: 'nlb-deleted', key: 'nlb.delete', scope: 'regional', after: [] },
  { id: 'nlb-enis', key: 'eni.releaseAfterNlb', scope: 'regional', after: ['nlb-deleted'] },
  { id: 'target-group', scope: 'regional', after: ['nlb-deleted'] },
  { id: 'domain', scope: 'regional', after: [] },
  { id: 'certificate', scope: 'regional', after: ['nlb-deleted', 'domain'] },
  { id: 'ca', scope: 'regional', after: ['certificate'] },
  { id: 'api', scope: 'regional', after: ['domain'] },
  { id: 'endpoint-deleted', key: 'vpce.delete', scope: 'regional', after: [] },
  { id: 'peering-deleted', scope: 'global', after: [] },
  { id: 'stack-bulk', key: 'stack.delete', minus: 'stack.deleteNetwork', scope: 'regional', after: [] },
  {
    id: 'stack-network',
    key: 'stack.deleteNetwork',
    scope: 'regional',
    after: [
      'stack-bulk',
      'canary-enis',
      'nlb-enis',
      'endpoint-deleted',
      'peering-deleted',
      'zone',
      'probe-enis@secondary',
    ],
  },
  { id: 'keypair', scope: 'regional', after: [] },
];

const teardownSeconds = (n: TeardownNode, profile: 'typical' | 'slow') =>
  (n.key ? DELAYS[n.key][profile] : 0) - (n.minus ? DELAYS[n.minus][profile] : 0);

const REGION_KEYS = ['primary', 'secondary'] as const;

/** Longest path of the teardown graph, both regions in parallel. */
export function teardownLowerBoundS(profile: 'typical' | 'slow'): number {
  const finish = new Map<string, number>();
  const byId = (id: string) => TEARDOWN.find((n) => n.id === id)!;
  const exists = (id: string, region?: string) => {
    const n = byId(id);
    return n.scope === 'global' || !n.only || n.only === region;
  };
  const finishOf = (key: string): number => {
    const known = finish.get(key);
    if (known !== undefined) return known;
    const [id, region] = key.split('@') as [string, string | undefined];
    const n = byId(id);
    const deps = n.after.flatMap((a) => {
      if (a.includes('@')) {
        const [aid, ar] = a.split('@') as [string, string];
        // A global node named with a region: it needs that region's network (the probe's VPC).
        return region === undefined || region === ar ? [aid] : [];
      }
      const dep = byId(a);
      if (dep.scope === 'global') return [a];
      const regions = region ? [region] : [...REGION_KEYS];
      return regions.filter((r) => exists(a, r)).map((r) => `${a}@${r}`);
    });
    const f = Math.max(0, ...deps.map(finishOf)) + teardownSeconds(n, profile);
    finish.set(key, f);
    return f;
  };
  const keys = TEARDOWN.flatMap((n) =>
    n.scope === 'global' ? [n.id] : REGION_KEYS.filter((r) => exists(n.id, r)).map((r) => `${n.id}@${r}`),
  );
  return Math.max(...keys.map(finishOf));
}

/**
 * The workshop's cleanup done by a script, in the order docs/design/aws-behaviour.md §12 item 17 gives, every
 * deletion waited for before the next; the stack as one delete ('stack.delete') after the ENIs.
 */
export function teardownBaselineS(profile: 'typical' | 'slow'): number {
  let total = 0;
  for (const n of TEARDOWN) {
    const s =
      n.id === 'stack-bulk'
        ? DELAYS['stack.delete'][profile]
        : n.id === 'stack-network'
          ? 0
          : teardownSeconds(n, profile);
    total += n.scope === 'global' || n.only ? s : 2 * s;
  }
  return total;
}
