import {
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
  type Route,
  type RouteTable,
  paginateDescribeRouteTables,
  paginateDescribeVpcEndpoints,
} from '@aws-sdk/client-ec2';
import { GetHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { AwsClients } from '../aws/clients.js';
import { isNotFound } from '../aws/errors.js';
import { collect } from '../aws/pages.js';
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

/**
 * A default route a canary can leave by: 0.0.0.0/0, active, to a NAT gateway, a transit gateway (a
 * central egress VPC), a NAT instance's ENI or a virtual private gateway; not an internet gateway
 * (the canary's ENIs get no public address) nor a peering (no edge-to-edge routing).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_VPC.html
 */
const egress = (r: Route) =>
  r.DestinationCidrBlock === '0.0.0.0/0' &&
  r.State !== 'blackhole' &&
  !!(
    r.NatGatewayId ||
    r.TransitGatewayId ||
    r.NetworkInterfaceId ||
    r.InstanceId ||
    r.GatewayId?.startsWith('vgw-')
  );

/**
 * The canary runs in the given subnets and must reach S3 (its artifacts) and CloudWatch
 * `monitoring` (its metrics): through a default route out (egress), or an S3 gateway endpoint on
 * the subnet's route table (the VPC's main table when none is associated) plus a `monitoring`
 * interface endpoint with private DNS. Without either, the canary runs but nothing it finds
 * reaches the alarm, so `up` is refused before anything is made; drctl adds nothing to a VPC it
 * uses. Per the doc cited at egress.
 */
async function checkWayOut(
  ec2: EC2Client,
  role: RegionRole,
  region: string,
  vpcId: string,
  subnetIds: string[],
) {
  const filters = [{ Name: 'vpc-id', Values: [vpcId] }];
  const tables = await collect(
    paginateDescribeRouteTables({ client: ec2 }, { Filters: filters }),
    (p) => p.RouteTables,
  );
  const endpoints = (
    await collect(paginateDescribeVpcEndpoints({ client: ec2 }, { Filters: filters }), (p) => p.VpcEndpoints)
  ).filter((e) => /^(available|pending)$/i.test(e.State ?? ''));
  const main = tables.find((t) => t.Associations?.some((a) => a.Main));
  const tableOf = (subnetId: string): RouteTable | undefined =>
    tables.find((t) => t.Associations?.some((a) => a.SubnetId === subnetId)) ?? main;
  const monitoring = endpoints.some(
    (e) => e.ServiceName === `com.amazonaws.${region}.monitoring` && e.PrivateDnsEnabled,
  );
  // Subnets sharing a route table lack the same things: named once per table.
  const lacking = new Map<string, { subnets: string[]; missing: string[] }>();
  for (const subnetId of subnetIds) {
    const table = tableOf(subnetId);
    if (table?.Routes?.some(egress)) continue;
    const s3 = endpoints.some(
      (e) =>
        e.ServiceName === `com.amazonaws.${region}.s3` &&
        /gateway/i.test(e.VpcEndpointType ?? '') &&
        !!table?.RouteTableId &&
        (e.RouteTableIds ?? []).includes(table.RouteTableId),
    );
    if (s3 && monitoring) continue;
    const key = table?.RouteTableId ?? 'no route table';
    const missing = [
      ...(s3 ? [] : ['an S3 gateway endpoint']),
      ...(monitoring ? [] : ['a monitoring endpoint']),
    ];
    const entry = lacking.get(key) ?? { subnets: [], missing };
    entry.subnets.push(subnetId);
    lacking.set(key, entry);
  }
  if (lacking.size)
    throw refuse(
      `${role}.subnetIds`,
      `the canary in ${region} needs a way to S3 and CloudWatch, and ` +
        [...lacking]
          .map(
            ([table, l]) =>
              `${l.subnets.join(', ')} (${table}) have no 0.0.0.0/0 route to a NAT or transit ` +
              `gateway, nor ${l.missing.join(' and ')}`,
          )
          .join('; ') +
        `; drctl adds nothing to ${vpcId}`,
      `Give those subnets a 0.0.0.0/0 route to a NAT gateway, or add an S3 gateway endpoint on ` +
        `their route table and a com.amazonaws.${region}.monitoring interface endpoint with private ` +
        `DNS to ${vpcId}; or list subnets that have one in ${role}.subnetIds.`,
    );
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
    await checkWayOut(ec2, role, mine.region, vpcId, mine.subnetIds ?? []);
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
