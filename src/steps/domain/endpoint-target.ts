import { DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AwsStepError } from '../../errors/errors.js';
import { hostName } from './domain-name.js';
import type { Ctx } from './outputs.js';

/**
 * The endpoint's regional endpoint-specific DNS name and its hosted zone: what a Route 53 alias to
 * the endpoint names (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-vpc-interface-endpoint.html).
 * It resolves to the endpoint's private IPs from anywhere, so the other VPC reaches it over the peering.
 */
export async function endpointAliasTarget(
  ctx: Ctx,
  vpcEndpointId: string,
): Promise<{ endpointDnsName: string; endpointHostedZoneId: string }> {
  const r = await ctx.aws
    .client(EC2Client, ctx.region)
    .send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [vpcEndpointId] }));
  // Regional first, then one per zone (vpce-…-<az>.…), then the private DNS names.
  const entries = r.VpcEndpoints?.[0]?.DnsEntries ?? [];
  const regional = entries.find(
    (e) => e.DnsName?.startsWith(`${vpcEndpointId}-`) && !/-[a-z]{2}-[a-z]+-\d[a-z]\./.test(e.DnsName),
  );
  if (!regional?.DnsName || !regional.HostedZoneId) {
    throw new AwsStepError(
      `endpoint ${vpcEndpointId} in ${ctx.region} has no regional DNS name to point ${hostName(ctx)} at`,
      {
        resource: vpcEndpointId,
        resolution:
          'Run `drctl step endpoints` (or `drctl up`) to check the endpoint, then `drctl up` again.',
      },
    );
  }
  return { endpointDnsName: regional.DnsName, endpointHostedZoneId: regional.HostedZoneId };
}
