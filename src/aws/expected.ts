/**
 * How long AWS usually takes (`typicalMs`, about the median of public measurements) and takes at
 * worst most of the time (`slowMs`, about a p90) for the transitions drctl waits on longest. Only
 * the polling cadence uses them (pollUntil's `expect`): sparse early, a read just after each of the
 * two, every maxDelayMs in between. The same figures as the fake cloud's delay table
 * (test/support/fake-cloud/delays.ts, with its sources), which test/aws/expected.test.ts keeps equal.
 */
export interface Expectation {
  typicalMs: number;
  slowMs: number;
}

const s = (typical: number, slow: number): Expectation => ({
  typicalMs: typical * 1000,
  slowMs: slow * 1000,
});

export const EXPECTED = {
  /** CloudFormation VPC + NAT stack create (NAT gateway on the critical path). */
  'stack.create': s(170, 300),
  'stack.update': s(60, 180),
  'stack.delete': s(120, 300),
  /** What a second DeleteStack has left after one that failed on the subnets. */
  'stack.deleteNetwork': s(5, 30),
  /** Interface VPC endpoint pending -> available. */
  'vpce.create': s(90, 150),
  /** NLB provisioning -> active. */
  'nlb.create': s(150, 240),
  /** NLB target registered -> healthy (registration, then the health checks). */
  'nlb.targetHealthy': s(120, 300),
  /** Route 53 change PENDING -> INSYNC. */
  'r53.change': s(45, 120),
  'r53.zone': s(50, 90),
  'r53.associate': s(45, 120),
  /** Synthetics canary CREATING -> READY (a VPC canary), READY -> RUNNING. */
  'canary.create': s(45, 140),
  'canary.start': s(10, 30),
  /** A VPC Lambda function Pending -> Active (its Hyperplane ENIs). */
  'lambda.create': s(30, 90),
  /** Private ACM certificate requested -> ISSUED. */
  'acm.issue': s(15, 60),
} as const satisfies Record<string, Expectation>;

/** An expectation for what is left of it `sinceMs` after it started (nothing left: undefined). */
export function remaining(e: Expectation, sinceMs: number): Expectation | undefined {
  if (sinceMs >= e.slowMs) return undefined;
  return { typicalMs: Math.max(0, e.typicalMs - sinceMs), slowMs: e.slowMs - sinceMs };
}

/** Two waits one after the other (the NLB turning active, then its targets healthy). */
export function plus(a: Expectation, b: Expectation): Expectation {
  return { typicalMs: a.typicalMs + b.typicalMs, slowMs: a.slowMs + b.slowMs };
}
