import type { CheckedStepInfo, StepInfo } from './types.js';

// The step contract (StepInfo, StepImpl, StepContext) is in ./types.js; named here too for the
// many importers of the catalogue.
export type { StepInfo } from './types.js';

/**
 * The workshop's steps in order, with their edges. Each module is imported only when a command
 * runs it, so `drctl --help` and `drctl plan` load no AWS SDK.
 */
export const STEPS: readonly StepInfo[] = [
  {
    name: 'keypairs',
    title: 'EC2 key pair',
    scope: 'regional',
    after: [],
    uses: [],
    creates: 'EC2 key pair (private key in .drctl/keys/<region>.pem, mode 0600)',
    load: async () => (await import('./keypairs.js')).keypairs,
  },
  {
    name: 'vpc',
    title: 'VPC stack',
    scope: 'regional',
    after: ['keypairs'],
    uses: [],
    creates:
      'CloudFormation stack: VPC, public + 2 private subnets, IGW, S3 gateway + CloudWatch monitoring endpoints (NAT gateway with natGateway), route tables, endpoint SG, client instance',
    load: async () => (await import('./vpc.js')).vpc,
  },
  {
    name: 'endpoints',
    title: 'execute-api VPC endpoint',
    scope: 'regional',
    after: ['vpc'],
    uses: [],
    creates: 'interface VPC endpoint for execute-api (private DNS on), one ENI per private subnet',
    load: async () => (await import('./endpoints.js')).endpoints,
  },
  {
    name: 'api',
    title: 'private REST API',
    scope: 'regional',
    after: ['endpoints'],
    uses: [],
    creates: 'PetStore REST API (PRIVATE) + GET /health, resource policy for our endpoint only, stage prod',
    load: async () => (await import('./api.js')).api,
  },
  {
    name: 'ca',
    title: 'private CA and certificate',
    scope: 'regional',
    after: [],
    uses: [],
    creates: 'ACM Private CA root CA (about $400/month each) + private ACM certificate for *.<domain>',
    load: async () => (await import('./ca/index.js')).ca,
  },
  {
    name: 'domain',
    title: 'custom domain',
    scope: 'regional',
    after: ['api', 'ca'],
    uses: ['endpoints'],
    creates:
      'API Gateway custom domain <host>.<domain> (REGIONAL, or PRIVATE + access association to the endpoint with domainMode private) + base path mapping to prod',
    load: async () => (await import('./domain/index.js')).domain,
  },
  {
    name: 'nlb',
    title: 'internal NLB',
    scope: 'regional',
    after: ['vpc'],
    uses: ['endpoints', 'ca'],
    creates:
      'internal Network Load Balancer, TLS listener (modern policy), IP target group of the endpoint ENIs',
    // A private custom domain is reached at the execute-api endpoint itself (docs/domain-modes.md).
    unusedWhen: (c) =>
      c.domainMode === 'private'
        ? 'domainMode private: clients reach the execute-api endpoint directly'
        : undefined,
    load: async () => (await import('./nlb.js')).nlb,
  },
  {
    name: 'peering',
    title: 'VPC peering',
    scope: 'global',
    after: ['vpc'],
    uses: [],
    creates: 'cross-region VPC peering (requested in primary, accepted in secondary) + routes both ways',
    load: async () => (await import('./peering/index.js')).peering,
  },
  {
    name: 'hosted-zone',
    title: 'private hosted zone',
    scope: 'global',
    after: ['vpc'],
    uses: [],
    creates: 'Route 53 private hosted zone <domain> associated with both VPCs',
    load: async () => (await import('./hosted-zone.js')).hostedZone,
  },
  {
    name: 'canary',
    title: 'canary and alarm',
    scope: 'regional',
    after: ['vpc'],
    // The role and bucket (and the role's IAM propagation) need only the VPC; the NLB's DNS name
    // (recorded as soon as it is created; the endpoint's with domainMode private) and the CA
    // certificate are awaited just before CreateCanary.
    uses: ['nlb', 'endpoints', 'ca'],
    creates:
      'CloudWatch Synthetics canary in the VPC calling https://<host>.<domain>/health through its own NLB (+ S3 artifact bucket, IAM role), and its M-of-N alarm',
    load: async () => (await import('./canary/index.js')).canary,
  },
  {
    name: 'health-check',
    title: 'Route 53 health check',
    scope: 'global',
    after: ['canary'],
    uses: [],
    creates:
      "Route 53 CLOUDWATCH_METRIC health check on the primary canary's alarm (and one on the secondary's with canary.secondary or topology active-active); per region a traffic-hold alarm (in the other region), a health check on it, and the CALCULATED health check the region's record uses",
    load: async () => (await import('./health-check/index.js')).healthCheck,
  },
  {
    name: 'traffic-policy',
    title: 'failover routing',
    scope: 'global',
    after: ['hosted-zone', 'health-check', 'domain'],
    uses: ['nlb'],
    creates:
      'failover records for <host>.<domain>: PRIMARY (with health check) and SECONDARY, aliases to the NLBs (to the execute-api endpoints with domainMode private); with topology active-active, one latency record per region with its own health check',
    load: async () => (await import('./traffic-policy/index.js')).trafficPolicy,
  },
  {
    name: 'probe',
    title: 'failover probe',
    scope: 'global',
    // The secondary VPC's subnets and security group, and both regions' CA certificates to trust.
    after: ['vpc', 'ca'],
    uses: [],
    creates:
      'Lambda function <deployment>-probe in the secondary VPC (+ IAM role): the failover-test client that resolves and calls <host>.<domain> from inside',
    load: async () => (await import('./probe/index.js')).probe,
  },
] satisfies readonly CheckedStepInfo[];

export function stepInfo(name: string): StepInfo | undefined {
  return STEPS.find((s) => s.name === name);
}
