import {
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { AwsClients } from '../aws/clients.js';
import { isNotFound } from '../aws/errors.js';
import type { Config, RegionRole } from '../config/config.js';
import { UsageError } from '../errors/errors.js';

// The network the user brings (config primary/secondary.vpcId, subnetIds, endpointId and
// hostedZoneId, issue 25): checked before `up` makes anything, so a wrong id is exit 2 with
// nothing changed in the cloud or on disk. Read-only calls; the steps that use these resources
// are granted them (src/iam/permissions.ts: vpc, endpoints, hosted-zone).

const refuse = (field: string, message: string, resolution: string) =>
  new UsageError(message, { field, resolution });

/** Whether `id` answers in `region`: EC2 ids are regional, so NotFound there may mean "another region". */
async function tryDescribe<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function checkRegion(aws: AwsClients, config: Config, role: RegionRole): Promise<void> {
  const mine = config[role];
  const other = config[role === 'primary' ? 'secondary' : 'primary'];
  const ec2 = aws.client(EC2Client, mine.region);
  if (mine.vpcId) {
    const vpcId = mine.vpcId;
    const found = await tryDescribe(() => ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })));
    const vpc = found?.Vpcs?.[0];
    if (!vpc) {
      const elsewhere = await tryDescribe(() =>
        aws.client(EC2Client, other.region).send(new DescribeVpcsCommand({ VpcIds: [vpcId] })),
      );
      throw refuse(
        `${role}.vpcId`,
        elsewhere?.Vpcs?.length
          ? `${vpcId} is in ${other.region}, not in ${role} region ${mine.region}`
          : `${vpcId} does not exist in ${mine.region} (InvalidVpcID.NotFound)`,
        `Give ${role}.vpcId a VPC of ${mine.region}, or remove it to let drctl make one.`,
      );
    }
    if (vpc.CidrBlock !== mine.vpcCidr)
      throw refuse(
        `${role}.vpcCidr`,
        `${vpcId} has CIDR ${vpc.CidrBlock}, the config says ${mine.vpcCidr}`,
        `Set ${role}.vpcCidr to ${vpc.CidrBlock}: the security group and routes use it.`,
      );
    for (const subnetId of mine.subnetIds ?? []) {
      const s = await tryDescribe(() => ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] })));
      const subnet = s?.Subnets?.[0];
      if (!subnet)
        throw refuse(
          `${role}.subnetIds`,
          `${subnetId} does not exist in ${mine.region} (InvalidSubnetID.NotFound)`,
          `List private subnets of ${vpcId} in ${role}.subnetIds.`,
        );
      if (subnet.VpcId !== vpcId)
        throw refuse(
          `${role}.subnetIds`,
          `${subnetId} is in ${subnet.VpcId}, not in ${role}.vpcId ${vpcId}`,
          `List private subnets of ${vpcId} in ${role}.subnetIds.`,
        );
    }
  }
  if (mine.endpointId) {
    const id = mine.endpointId;
    const r = await tryDescribe(() => ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [id] })));
    const e = r?.VpcEndpoints?.[0];
    const field = `${role}.endpointId`;
    const fix = `Give ${field} an execute-api interface endpoint with private DNS in ${role}.vpcId, or remove it.`;
    if (!e || /^(deleted|deleting)$/i.test(e.State ?? ''))
      throw refuse(field, `${id} does not exist in ${mine.region} (InvalidVpcEndpointId.NotFound)`, fix);
    const service = `com.amazonaws.${mine.region}.execute-api`;
    if (e.ServiceName !== service)
      throw refuse(field, `${id} is an endpoint for ${e.ServiceName}, not ${service}`, fix);
    if (!e.PrivateDnsEnabled)
      throw refuse(field, `${id} has private DNS off: the API's name would not resolve to it`, fix);
    if (e.VpcId !== mine.vpcId)
      throw refuse(field, `${id} is in ${e.VpcId}, not in ${role}.vpcId ${mine.vpcId}`, fix);
  }
}

async function checkZone(aws: AwsClients, config: Config): Promise<void> {
  const id = config.hostedZoneId;
  if (!id) return;
  const route53 = aws.client(Route53Client, config.primary.region);
  const fix = `Give hostedZoneId a private hosted zone named ${config.domain}, or remove it.`;
  const r = await tryDescribe(() => route53.send(new GetHostedZoneCommand({ Id: id })));
  const zone = r?.HostedZone;
  if (!zone) throw refuse('hostedZoneId', `hosted zone ${id} does not exist (NoSuchHostedZone)`, fix);
  if (!zone.Config?.PrivateZone)
    throw refuse('hostedZoneId', `hosted zone ${id} (${zone.Name}) is public, not private`, fix);
  if (zone.Name?.replace(/\.$/, '') !== config.domain)
    throw refuse(
      'hostedZoneId',
      `hosted zone ${id} is ${zone.Name}, not the config's domain ${config.domain}`,
      fix,
    );
}

/** Every id the config names, checked; throws a UsageError (exit 2) naming the field. */
export async function checkUsedNetwork(aws: AwsClients, config: Config): Promise<void> {
  await checkRegion(aws, config, 'primary');
  await checkRegion(aws, config, 'secondary');
  await checkZone(aws, config);
}

/** Whether the config brings any network of its own (so the preflight has something to check). */
export const usesOwnNetwork = (c: Config) =>
  !!(
    c.primary.vpcId ||
    c.secondary.vpcId ||
    c.primary.endpointId ||
    c.secondary.endpointId ||
    c.hostedZoneId
  );
