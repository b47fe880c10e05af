/**
 * How long each AWS transition takes in the fake cloud, in seconds. One table, one place: the
 * `typical` column is the median of public measurements and the `slow` column roughly a p90, both
 * from docs/design/timings.md (source ids [Sn] there). Tests run on `typical`; the benchmark can
 * run either.
 */
export interface DelayRow {
  typical: number;
  slow: number;
  source: string;
}

export const DELAYS = {
  'keypair.create': { typical: 1, slow: 3, source: '[S69] Terraform logs aws_key_pair 0-3 s' },
  'stack.create': {
    typical: 170,
    slow: 300,
    source: '[S1][S2] CFN VPC+NAT stacks 158-166 s; NAT is the critical path',
  },
  'stack.update': {
    typical: 60,
    slow: 180,
    source: 'ESTIMATE: an in-place change of one resource (no source found)',
  },
  'stack.delete': {
    typical: 120,
    slow: 300,
    source: '[S3][S4] component sums: NAT 42 s, IGW 11 s, EC2 terminate 20-31 s',
  },
  'stack.deleteNetwork': {
    typical: 5,
    slow: 30,
    source:
      'ESTIMATE: the last part of a stack delete, subnets, security groups and the VPC ([S3] subnets/VPC ~1 s each in a Terraform destroy); also all a second DeleteStack has left after one that failed on them',
  },
  'vpce.create': { typical: 90, slow: 150, source: '[S12] interface endpoints 93-104 s; [S13]' },
  'vpce.delete': { typical: 60, slow: 180, source: '[S16][S17] "a few minutes"' },
  'apigw.import': { typical: 2, slow: 5, source: '[S19] synchronous call' },
  'pca.create': { typical: 5, slow: 30, source: '[S21] CloudTrail timeline 5 s; [S23]' },
  'pca.issue': { typical: 3, slow: 30, source: '[S22] CertificateIssued waiter cadence' },
  'pca.import': { typical: 1, slow: 10, source: '[S21]' },
  'acm.issue': { typical: 15, slow: 60, source: '[S24] private cert acceptance test 27 s total' },
  'acm.describeLag': {
    typical: 2,
    slow: 5,
    source:
      '[S26] TF #9616; RequestCertificate API "a delay of several seconds" before it can be described (ESTIMATE)',
  },
  'apigw.domain': { typical: 5, slow: 30, source: '[S27][S28] regional domains near-instant' },
  'apigw.privateDomainProvision': {
    typical: 900,
    slow: 1500,
    source:
      'AWS: "It takes about 15 minutes for API Gateway to provision your private custom domain name" (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains.html); slow: ESTIMATE',
  },
  'apigw.accessAssociationReady': {
    typical: 900,
    slow: 1500,
    source:
      'AWS: "After you create a domain name access association, it takes about 15 minutes to be ready" (same page); slow: ESTIMATE',
  },
  'nlb.create': { typical: 150, slow: 240, source: '[S30] Terraform logs 142, 157, 161 s' },
  'nlb.targetHealthy': { typical: 120, slow: 300, source: '[S32][S33][S34] registration + health checks' },
  'nlb.delete': { typical: 45, slow: 120, source: '[S36] Terraform destroy 40, 47 s' },
  'eni.releaseAfterNlb': { typical: 30, slow: 300, source: '[S38] ELB ENIs "generally 5 minutes" (slow)' },
  'peering.visible': { typical: 15, slow: 60, source: '[S40][S41]' },
  'peering.active': { typical: 15, slow: 60, source: '[S41]' },
  'r53.change': { typical: 45, slow: 120, source: '[S42][S43][S44] within 60 s normally' },
  'r53.zone': { typical: 50, slow: 90, source: '[S45] zone creates 36-79 s' },
  'r53.associate': { typical: 45, slow: 120, source: '[S46] ESTIMATE' },
  'r53.healthReact': { typical: 30, slow: 90, source: '[S48] ESTIMATE' },
  'canary.create': { typical: 45, slow: 140, source: '[S50][S51] VPC canary ~140 s' },
  'canary.start': { typical: 10, slow: 30, source: '[S50]' },
  'canary.stop': { typical: 10, slow: 60, source: '[S54]' },
  'canary.delete': { typical: 15, slow: 60, source: '[S55]' },
  'canary.update': {
    typical: 30,
    slow: 90,
    source:
      'ESTIMATE, no measurement found: UPDATING -> back to the state it had (the CloudFormation handler polls it every 10 s, https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-synthetics)',
  },
  'lambda.eniRelease': { typical: 1200, slow: 2700, source: '[S57]-[S61] Hyperplane ENIs up to 20-45 min' },
  'lambda.create': {
    typical: 30,
    slow: 90,
    source:
      'ESTIMATE, no measurement found: a VPC function stays Pending while Lambda makes its Hyperplane ENIs (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html)',
  },
  'lambda.update': {
    typical: 5,
    slow: 30,
    source: 'ESTIMATE, no measurement found: LastUpdateStatus InProgress -> Successful after a code update',
  },
  'nlb.targetReact': {
    typical: 30,
    slow: 60,
    source:
      '[S34] NLB health checks: interval 10 s x threshold 3 (the nlb step); Route 53 reading the target health of an alias: ESTIMATE',
  },
  'alarm.react': { typical: 90, slow: 240, source: '[S63][S64]' },
  'iam.propagate': { typical: 10, slow: 30, source: '[S66][S67][S68]' },
  'iam.policyPropagate': {
    typical: 10,
    slow: 30,
    source:
      '[S66][S67][S68], as for a new role: a new policy is seen by Lambda and Synthetics only after it spread (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency)',
  },
} as const satisfies Record<string, DelayRow>;

export type DelayKey = keyof typeof DELAYS;
export type DelayProfile = 'typical' | 'slow';

/** Delay in milliseconds for `key` under `profile`, with per-test overrides (in seconds). */
export function delayMs(
  key: DelayKey,
  profile: DelayProfile,
  overrides: Partial<Record<DelayKey, number>> = {},
): number {
  return (overrides[key] ?? DELAYS[key][profile]) * 1000;
}
