/**
 * The AWS regions drctl accepts in its config. A name outside this list is refused before any
 * AWS call (a typo would otherwise surface as a DNS failure, ENOTFOUND, on the first call).
 *
 * Source: the AWS SDK for JavaScript v3, @aws-sdk/client-s3 3.1175, enum BucketLocationConstraint
 * (every region of the aws, aws-cn and aws-us-gov partitions except us-east-1, which has no
 * location constraint), checked against the region table of
 * https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html.
 * test/cli/config.test.ts fails when an installed SDK knows a region this list lacks.
 * Regions that must be opted in to (af-south-1, ap-east-1, ...) are listed: enabling them is the
 * account's business, and a call to a disabled one fails naming the region.
 */
export const AWS_REGIONS: readonly string[] = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'cn-north-1',
  'cn-northwest-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-gov-east-1',
  'us-gov-west-1',
  'us-west-1',
  'us-west-2',
];

/** Levenshtein distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The closest of `candidates` to `word`, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 4)) ? best : undefined;
}

/**
 * The AWS partition of a region: aws-cn (China) and aws-us-gov (GovCloud) are separate clouds with
 * their own accounts and credentials; VPC peering, Route 53 zones and IAM do not span partitions
 * (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html).
 */
export function partitionOf(region: string): 'aws' | 'aws-cn' | 'aws-us-gov' {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}
