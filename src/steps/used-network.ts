import {
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
  type Route,
  type RouteTable,
  type SecurityGroup,
  type VpcEndpoint,
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
 * A default route a canary can leave by: 0.0.0.0/0, not a blackhole, to a NAT gateway, a transit
 * gateway or a Cloud WAN core network (a central egress VPC), a NAT instance's ENI, a virtual
 * private gateway, or a Gateway Load Balancer / Network Firewall endpoint (GatewayId vpce-...:
 * inspection before a NAT, as in a centralized-inspection VPC); not an internet gateway (the
 * canary's ENIs get no public address) nor a peering (no edge-to-edge routing).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_VPC.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Route.html
 */
const egress = (r: Route) =>
  r.DestinationCidrBlock === '0.0.0.0/0' &&
  r.State !== 'blackhole' &&
  !!(
    r.NatGatewayId ||
    r.TransitGatewayId ||
    r.CoreNetworkArn ||
    r.NetworkInterfaceId ||
    r.InstanceId ||
    r.GatewayId?.startsWith('vgw-') ||
    r.GatewayId?.startsWith('vpce-')
  );

/**
 * An interface endpoint whose private DNS answers inside the VPC: with PrivateDnsOnlyForInbound-
 * ResolverEndpoint true (S3 beside a gateway endpoint), the VPC's own resolver does not use it.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DnsOptionsSpecification.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/privatelink-interface-endpoints.html
 */
const privateDnsInVpc = (e: VpcEndpoint) =>
  /interface/i.test(e.VpcEndpointType ?? '') &&
  !!e.PrivateDnsEnabled &&
  e.DnsOptions?.PrivateDnsOnlyForInboundResolverEndpoint !== true;

/** IPv4 CIDR `inner` lies inside `outer`. */
function cidrCovers(outer: string, inner: string): boolean {
  const parse = (c: string) => {
    const [ip, bits] = c.split('/');
    const n = (ip ?? '').split('.').reduce((a, o) => a * 256 + Number(o), 0);
    return { n, bits: Number(bits ?? 32) };
  };
  const o = parse(outer);
  const i = parse(inner);
  if (!(o.bits <= i.bits)) return false;
  const size = 2 ** (32 - o.bits);
  return Math.floor(o.n / size) === Math.floor(i.n / size);
}

/** One of the groups lets tcp 443 in from all of `cidr`. */
const admits443 = (groups: SecurityGroup[], cidr: string) =>
  groups.some((g) =>
    (g.IpPermissions ?? []).some(
      (p) =>
        (p.IpProtocol === '-1' ||
          (/^(tcp|6)$/.test(p.IpProtocol ?? '') && (p.FromPort ?? 0) <= 443 && 443 <= (p.ToPort ?? 65535))) &&
        (p.IpRanges ?? []).some((r) => !!r.CidrIp && cidrCovers(r.CidrIp, cidr)),
    ),
  );

/**
 * A canary in a VPC needs the VPC's DNS resolution and DNS hostnames on, per the doc at egress.
 */
async function checkDns(ec2: EC2Client, role: RegionRole, region: string, vpcId: string) {
  const off: string[] = [];
  for (const Attribute of ['enableDnsSupport', 'enableDnsHostnames'] as const) {
    const r = await ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute }));
    const on = Attribute === 'enableDnsSupport' ? r.EnableDnsSupport?.Value : r.EnableDnsHostnames?.Value;
    if (!on) off.push(Attribute);
  }
  if (off.length)
    throw refuse(
      `${role}.vpcId`,
      `${vpcId} in ${region} has ${off.join(' and ')} off: a canary in a VPC needs DNS ` +
        `resolution and DNS hostnames on; drctl adds nothing to ${vpcId}`,
      off
        .map(
          (a) =>
            `aws ec2 modify-vpc-attribute --region ${region} --vpc-id ${vpcId} ` +
            `--${a === 'enableDnsSupport' ? 'enable-dns-support' : 'enable-dns-hostnames'}`,
        )
        .join('; then ') + `; or give ${role}.vpcId a VPC with both on.`,
    );
}

/**
 * The canary runs in the given subnets and must reach S3 (its artifacts) and CloudWatch
 * `monitoring` (its metrics): through a default route out (egress), or an S3 endpoint (gateway on
 * the subnet's route table, the VPC's main table when none is associated, or interface with
 * private DNS) plus a `monitoring` interface endpoint with private DNS, whose security groups
 * admit tcp 443 from the subnet. The canary's own group is drctl's, made after this check, so the
 * rule is judged by CIDR. Without a way out the canary runs but nothing it finds reaches the
 * alarm, so `up` is refused before anything is made; drctl adds nothing to a VPC it uses. Per the
 * doc cited at egress.
 */
async function checkWayOut(
  ec2: EC2Client,
  role: RegionRole,
  region: string,
  vpcId: string,
  subnets: Array<{ id: string; cidr: string }>,
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
  const monitoring = endpoints.find(
    (e) => e.ServiceName === `com.amazonaws.${region}.monitoring` && privateDnsInVpc(e),
  );
  const s3Interface = endpoints.find(
    (e) => e.ServiceName === `com.amazonaws.${region}.s3` && privateDnsInVpc(e),
  );
  // Subnets sharing a route table lack the same things: named once per table.
  const lacking = new Map<string, { subnets: string[]; missing: string[] }>();
  // Subnets that leave by endpoints: each endpoint they use must admit them on 443.
  const via: Array<{ subnet: { id: string; cidr: string }; endpoint: VpcEndpoint }> = [];
  for (const subnet of subnets) {
    const table = tableOf(subnet.id);
    if (table?.Routes?.some(egress)) continue;
    const s3Gateway = endpoints.some(
      (e) =>
        e.ServiceName === `com.amazonaws.${region}.s3` &&
        /gateway/i.test(e.VpcEndpointType ?? '') &&
        !!table?.RouteTableId &&
        (e.RouteTableIds ?? []).includes(table.RouteTableId),
    );
    const s3 = s3Gateway || !!s3Interface;
    if (s3 && monitoring) {
      via.push({ subnet, endpoint: monitoring });
      if (!s3Gateway && s3Interface) via.push({ subnet, endpoint: s3Interface });
      continue;
    }
    const key = table?.RouteTableId ?? 'no route table';
    const missing = [
      ...(s3 ? [] : ['an S3 gateway endpoint']),
      ...(monitoring ? [] : ['a monitoring endpoint']),
    ];
    const entry = lacking.get(key) ?? { subnets: [], missing };
    entry.subnets.push(subnet.id);
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
        `their route table (or an S3 interface endpoint with private DNS) and a ` +
        `com.amazonaws.${region}.monitoring interface endpoint with private DNS to ${vpcId}; or ` +
        `list subnets that have one in ${role}.subnetIds.`,
    );
  const groupIds = [...new Set(via.flatMap((v) => (v.endpoint.Groups ?? []).map((g) => g.GroupId!)))];
  // By id, so one answer holds them all (an endpoint has at most 5 groups).
  const groups = groupIds.length
    ? ((await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds }))).SecurityGroups ?? [])
    : [];
  for (const { subnet, endpoint } of via) {
    const mine = groups.filter((g) => (endpoint.Groups ?? []).some((x) => x.GroupId === g.GroupId));
    if (admits443(mine, subnet.cidr)) continue;
    const group = mine[0]?.GroupId ?? endpoint.Groups?.[0]?.GroupId ?? 'its security group';
    throw refuse(
      `${role}.subnetIds`,
      `the canary in ${region} reaches ${endpoint.ServiceName} through ${endpoint.VpcEndpointId}, ` +
        `but its security group ${group} admits no tcp 443 from ${subnet.id} (${subnet.cidr}); ` +
        `the canary's own group is made by drctl later, so only a CIDR rule can admit it`,
      `aws ec2 authorize-security-group-ingress --region ${region} --group-id ${group} ` +
        `--protocol tcp --port 443 --cidr ${subnet.cidr}; or list other subnets in ` +
        `${role}.subnetIds.`,
    );
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
    await checkDns(ec2, role, mine.region, vpcId);
    const subnets: Array<{ id: string; cidr: string }> = [];
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
      subnets.push({ id: subnetId, cidr: subnet.CidrBlock ?? '' });
    }
    await checkWayOut(ec2, role, mine.region, vpcId, subnets);
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
