// Over 500 lines: VPCs, subnets, route tables, groups, gateways and ENIs refer to each other.
import { type FakeCloud, FakeService, mapToTags, tagsToMap } from './cloud.js';
import { awsError } from './errors.js';
import { page } from './paging.js';

type Tags = Record<string, string>;
export interface Filter {
  Name?: string;
  Values?: string[];
}

export interface KeyPair {
  KeyPairId: string;
  KeyName: string;
  KeyFingerprint: string;
  tags: Tags;
  CreateTime: Date;
}
export interface Vpc {
  VpcId: string;
  CidrBlock: string;
  tags: Tags;
  enableDnsSupport: boolean;
  enableDnsHostnames: boolean;
}
export interface Subnet {
  SubnetId: string;
  VpcId: string;
  CidrBlock: string;
  AvailabilityZone: string;
  tags: Tags;
}
export interface Route {
  DestinationCidrBlock: string;
  GatewayId?: string;
  NatGatewayId?: string;
  VpcPeeringConnectionId?: string;
  /** A Cloud WAN core network (DescribeRouteTables: Route.CoreNetworkArn). */
  CoreNetworkArn?: string;
  State: 'active' | 'blackhole';
  Origin: 'CreateRouteTable' | 'CreateRoute';
}
export interface RouteTable {
  RouteTableId: string;
  VpcId: string;
  routes: Route[];
  subnetIds: string[];
  main: boolean;
  /** The main association's id (`rtbassoc-…`), set on the VPC's main table. */
  mainAssociationId?: string;
  tags: Tags;
}
export interface IngressRule {
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  CidrIp: string;
  Description?: string;
}
export interface SecurityGroup {
  GroupId: string;
  GroupName: string;
  Description: string;
  VpcId: string;
  ingress: IngressRule[];
  tags: Tags;
}
/** Only the VPC's default network ACL is modelled (drctl makes none and reads none). */
export interface NetworkAcl {
  NetworkAclId: string;
  VpcId: string;
  IsDefault: boolean;
  tags: Tags;
}
export interface NetworkInterface {
  NetworkInterfaceId: string;
  SubnetId: string;
  VpcId: string;
  groupIds: string[];
  PrivateIpAddress: string;
  Description: string;
  /** What made it: a resource id ("vpce-…", "nlb/…", "stack:…", "lambda:…"). */
  owner: string;
  /** When set, the ENI disappears at this virtual time (AWS releasing it after its owner went). */
  releaseAt?: number;
}
export interface SimpleResource {
  id: string;
  VpcId?: string;
  SubnetId?: string;
  tags: Tags;
  kind: 'igw' | 'nat' | 'eip' | 'instance';
}

export class Ec2Region {
  readonly keyPairs = new Map<string, KeyPair>();
  readonly vpcs = new Map<string, Vpc>();
  readonly subnets = new Map<string, Subnet>();
  readonly routeTables = new Map<string, RouteTable>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly networkAcls = new Map<string, NetworkAcl>();
  readonly enis = new Map<string, NetworkInterface>();
  readonly others = new Map<string, SimpleResource>();
  private nextIp = 10;
  constructor(readonly name: string) {}

  /** An address inside the subnet's CIDR, unique within the region. */
  allocateIp(subnetId: string): string {
    const subnet = this.subnets.get(subnetId);
    const base = (subnet?.CidrBlock ?? '10.0.0.0/24').split('/')[0]!.split('.').map(Number);
    const n = this.nextIp++;
    return `${base[0]}.${base[1]}.${base[2]! + Math.floor(n / 250)}.${(n % 250) + 4}`;
  }
}

export function matchFilters(
  filters: Filter[] | undefined,
  get: (name: string) => string | string[] | undefined,
): boolean {
  for (const f of filters ?? []) {
    const v = get(f.Name ?? '');
    const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
    if (!values.some((x) => f.Values?.includes(x))) return false;
  }
  return true;
}

/** What every paged EC2 Describe* takes. */
export interface Ec2PageInput {
  Filters?: Filter[];
  MaxResults?: number;
  NextToken?: string;
}

/**
 * One page of an EC2 Describe*: the page is cut from `all` first and Filters applied to it after,
 * as EC2 does, so a page may come back empty with a NextToken. A call by ids is answered whole.
 */
export function ec2Page<T>(
  cloud: Pick<FakeCloud, 'pageSize'>,
  command: string,
  all: T[],
  input: Ec2PageInput & { byIds?: boolean },
  key: (item: T) => string,
  match: (item: T) => boolean,
  maxSize = 1000,
): { items: T[]; NextToken?: string } {
  if (input.byIds) return { items: all.filter(match) };
  const { items, next } = page(
    cloud,
    all,
    { token: input.NextToken, limit: input.MaxResults },
    {
      command,
      defaultSize: maxSize,
      maxSize,
      key,
      keep: match,
      badToken: { name: 'InvalidPaginationToken' },
    },
  );
  return next ? { items, NextToken: next } : { items };
}

/** Filter getter for a tagged resource: `tag:K`, `tag-key`, plus the resource's own fields. */
export function tagFilter(tags: Tags, own: Record<string, string | string[] | undefined>) {
  return (name: string) => {
    if (name.startsWith('tag:')) return tags[name.slice(4)];
    if (name === 'tag-key') return Object.keys(tags);
    return own[name];
  };
}

export function tagsFromSpec(spec: unknown, resourceType: string): Tags {
  const specs = (spec ?? []) as Array<{
    ResourceType?: string;
    Tags?: Array<{ Key: string; Value: string }>;
  }>;
  return tagsToMap(specs.find((s) => s.ResourceType === resourceType)?.Tags);
}

/**
 * EC2, per region. The VPC pieces are made by the fake CloudFormation (vpc stack), the VPC itself
 * through `createVpc` (with its main route table, default security group and network ACL), as
 * CreateVpc does; key pairs by CreateKeyPair. ENIs model what blocks subnet and security-group deletion (DependencyViolation).
 */
export class FakeEc2 extends FakeService {
  readonly service = 'ec2';
  private readonly regions = new Map<string, Ec2Region>();

  constructor(cloud: FakeCloud) {
    super(cloud);
    cloud.authorizer.addLookup(
      'ec2:key-name',
      (region, id) => [...this.region(region).keyPairs.values()].find((k) => k.KeyPairId === id)?.KeyName,
    );
  }

  override tagsOfArn(arn: string): Record<string, string> | undefined {
    const m = /^arn:aws:ec2:([^:]+):\d*:(key-pair|vpc|subnet|route-table|security-group)\/(.+)$/.exec(arn);
    if (!m) return undefined;
    const r = this.regions.get(m[1]!);
    const id = m[3]!;
    switch (m[2]) {
      case 'key-pair':
        return r?.keyPairs.get(id)?.tags;
      case 'vpc':
        return r?.vpcs.get(id)?.tags;
      case 'subnet':
        return r?.subnets.get(id)?.tags;
      case 'route-table':
        return r?.routeTables.get(id)?.tags;
      default:
        return r?.securityGroups.get(id)?.tags;
    }
  }

  region(name: string): Ec2Region {
    let r = this.regions.get(name);
    if (!r) this.regions.set(name, (r = new Ec2Region(name)));
    return r;
  }

  /** ENIs still present at `at` (default now): released ones vanish. */
  liveEnis(region: string, at = this.now()): NetworkInterface[] {
    const r = this.region(region);
    for (const [id, eni] of r.enis) {
      if (eni.releaseAt !== undefined && eni.releaseAt <= this.now()) r.enis.delete(id);
    }
    return [...r.enis.values()].filter((e) => e.releaseAt === undefined || e.releaseAt > at);
  }

  // ---- key pairs ---------------------------------------------------------------------------
  CreateKeyPair(region: string, input: { KeyName: string; KeyType?: string; TagSpecifications?: unknown }) {
    const r = this.region(region);
    if (r.keyPairs.has(input.KeyName)) {
      throw awsError('InvalidKeyPair.Duplicate', `The keypair '${input.KeyName}' already exists.`);
    }
    const kp: KeyPair = {
      KeyPairId: this.id('key-'),
      KeyName: input.KeyName,
      KeyFingerprint: this.id('fp:'),
      tags: tagsFromSpec(input.TagSpecifications, 'key-pair'),
      CreateTime: new Date(this.now()),
    };
    r.keyPairs.set(kp.KeyName, kp);
    const material = `-----BEGIN OPENSSH PRIVATE KEY-----\nfake-${kp.KeyPairId}\n-----END OPENSSH PRIVATE KEY-----\n`;
    return {
      KeyName: kp.KeyName,
      KeyPairId: kp.KeyPairId,
      KeyFingerprint: kp.KeyFingerprint,
      KeyMaterial: material,
    };
  }

  DescribeKeyPairs(
    region: string,
    input: { KeyNames?: string[]; KeyPairIds?: string[]; Filters?: Filter[] },
  ) {
    const r = this.region(region);
    for (const n of input.KeyNames ?? []) {
      if (!r.keyPairs.has(n)) throw awsError('InvalidKeyPair.NotFound', `The key pair '${n}' does not exist`);
    }
    for (const id of input.KeyPairIds ?? []) {
      if (![...r.keyPairs.values()].some((k) => k.KeyPairId === id)) {
        throw awsError('InvalidKeyPair.NotFound', `The key pair '${id}' does not exist`);
      }
    }
    const KeyPairs = [...r.keyPairs.values()]
      .filter((k) => !input.KeyNames || input.KeyNames.includes(k.KeyName))
      .filter((k) => !input.KeyPairIds || input.KeyPairIds.includes(k.KeyPairId))
      .filter((k) =>
        matchFilters(input.Filters, tagFilter(k.tags, { 'key-name': k.KeyName, 'key-pair-id': k.KeyPairId })),
      )
      .map((k) => ({
        KeyPairId: k.KeyPairId,
        KeyName: k.KeyName,
        KeyFingerprint: k.KeyFingerprint,
        KeyType: 'ed25519',
        Tags: mapToTags(k.tags),
        CreateTime: k.CreateTime,
      }));
    return { KeyPairs };
  }

  /** Like AWS, deleting a key pair that does not exist succeeds. */
  DeleteKeyPair(region: string, input: { KeyName?: string; KeyPairId?: string }) {
    const r = this.region(region);
    for (const [name, k] of r.keyPairs) {
      if (name === input.KeyName || k.KeyPairId === input.KeyPairId) r.keyPairs.delete(name);
    }
    return { Return: true };
  }

  // ---- VPCs and what EC2 makes with each --------------------------------------------------
  /**
   * A VPC with what EC2 makes along with it: the main route table (a local route only; a subnet
   * without an explicit association uses it), the default security group ("default") and the
   * default network ACL. None carries the VPC's tags, nor a CloudFormation stack's: stack tags
   * reach only what the stack itself creates
   * (https://docs.aws.amazon.com/vpc/latest/userguide/RouteTables.html#MainRouteTable,
   * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html,
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html).
   */
  createVpc(
    region: string,
    input: { CidrBlock: string; tags?: Tags; enableDnsSupport?: boolean; enableDnsHostnames?: boolean },
  ): Vpc {
    const r = this.region(region);
    const vpc: Vpc = {
      VpcId: this.id('vpc-'),
      CidrBlock: input.CidrBlock,
      tags: { ...input.tags },
      // CreateVpc's own: DNS resolution on, DNS hostnames off (the stack's template turns both on).
      enableDnsSupport: input.enableDnsSupport ?? true,
      enableDnsHostnames: input.enableDnsHostnames ?? false,
    };
    r.vpcs.set(vpc.VpcId, vpc);
    const rtb = this.id('rtb-');
    r.routeTables.set(rtb, {
      RouteTableId: rtb,
      VpcId: vpc.VpcId,
      routes: [
        {
          DestinationCidrBlock: vpc.CidrBlock,
          GatewayId: 'local',
          State: 'active',
          Origin: 'CreateRouteTable',
        },
      ],
      subnetIds: [],
      main: true,
      mainAssociationId: this.id('rtbassoc-'),
      tags: {},
    });
    const sg = this.id('sg-');
    r.securityGroups.set(sg, {
      GroupId: sg,
      GroupName: 'default',
      Description: 'default VPC security group',
      VpcId: vpc.VpcId,
      // Its one inbound rule, "unrestricted network access to each other" for its members, is
      // shown by DescribeSecurityGroups but admits no CIDR here: drctl puts nothing in the group.
      ingress: [],
      tags: {},
    });
    const acl = this.id('acl-');
    r.networkAcls.set(acl, { NetworkAclId: acl, VpcId: vpc.VpcId, IsDefault: true, tags: {} });
    return vpc;
  }

  /**
   * The VPC and what EC2 made with it: deleting a VPC deletes its main route table, default security
   * group and default network ACL (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVpc.html).
   */
  removeVpc(region: string, vpcId: string): void {
    const r = this.region(region);
    r.vpcs.delete(vpcId);
    for (const [id, t] of r.routeTables) if (t.VpcId === vpcId && t.main) r.routeTables.delete(id);
    for (const [id, g] of r.securityGroups)
      if (g.VpcId === vpcId && g.GroupName === 'default') r.securityGroups.delete(id);
    for (const [id, a] of r.networkAcls) if (a.VpcId === vpcId && a.IsDefault) r.networkAcls.delete(id);
  }

  CreateVpc(region: string, input: { CidrBlock?: string; TagSpecifications?: unknown }) {
    if (!input.CidrBlock)
      throw awsError('MissingParameter', 'The request must contain the parameter cidrBlock');
    const v = this.createVpc(region, {
      CidrBlock: input.CidrBlock,
      tags: tagsFromSpec(input.TagSpecifications, 'vpc'),
    });
    return {
      Vpc: {
        VpcId: v.VpcId,
        CidrBlock: v.CidrBlock,
        State: 'available',
        IsDefault: false,
        Tags: mapToTags(v.tags),
      },
    };
  }

  /**
   * Refused while anything but the main route table, default security group and default network
   * ACL is left in the VPC: "You must detach or delete all gateways and resources that are
   * associated with the VPC before you can delete it" (EC2 API DeleteVpc).
   */
  DeleteVpc(region: string, input: { VpcId?: string }) {
    const r = this.region(region);
    const id = input.VpcId ?? '';
    if (!r.vpcs.has(id)) throw awsError('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`);
    const inUse =
      [...r.subnets.values()].some((x) => x.VpcId === id) ||
      [...r.routeTables.values()].some((x) => x.VpcId === id && !x.main) ||
      [...r.securityGroups.values()].some((x) => x.VpcId === id && x.GroupName !== 'default') ||
      [...r.others.values()].some((x) => x.VpcId === id) ||
      this.liveEnis(region).some((x) => x.VpcId === id);
    if (inUse) {
      throw awsError('DependencyViolation', `The vpc '${id}' has dependencies and cannot be deleted.`);
    }
    this.removeVpc(region, id);
    return {};
  }

  // ---- VPC pieces (read side; made by the fake CloudFormation) -----------------------------
  DescribeVpcs(region: string, input: Ec2PageInput & { VpcIds?: string[] }) {
    const r = this.region(region);
    for (const id of input.VpcIds ?? []) {
      if (!r.vpcs.has(id)) throw awsError('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`);
    }
    const { items, NextToken } = ec2Page(
      this.cloud,
      'DescribeVpcs',
      [...r.vpcs.values()].filter((v) => !input.VpcIds || input.VpcIds.includes(v.VpcId)),
      { ...input, byIds: !!input.VpcIds?.length },
      (v) => v.VpcId,
      (v) => matchFilters(input.Filters, tagFilter(v.tags, { 'vpc-id': v.VpcId, 'cidr-block': v.CidrBlock })),
    );
    const Vpcs = items.map((v) => ({
      VpcId: v.VpcId,
      CidrBlock: v.CidrBlock,
      State: 'available',
      Tags: mapToTags(v.tags),
    }));
    return { Vpcs, NextToken };
  }

  /**
   * One attribute per call, as AWS: "You can specify only one attribute at a time"; the answer
   * carries it as `{ Value: boolean }` (EC2 API DescribeVpcAttribute,
   * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcAttribute.html).
   */
  DescribeVpcAttribute(region: string, input: { VpcId?: string; Attribute?: string }) {
    const vpc = this.region(region).vpcs.get(input.VpcId ?? '');
    if (!vpc) throw awsError('InvalidVpcID.NotFound', `The vpc ID '${input.VpcId}' does not exist`);
    if (input.Attribute === 'enableDnsSupport')
      return { VpcId: vpc.VpcId, EnableDnsSupport: { Value: vpc.enableDnsSupport } };
    if (input.Attribute === 'enableDnsHostnames')
      return { VpcId: vpc.VpcId, EnableDnsHostnames: { Value: vpc.enableDnsHostnames } };
    throw awsError('InvalidParameterValue', `Value (${input.Attribute}) for parameter attribute is invalid.`);
  }

  /**
   * One attribute per request; DNS hostnames only with DNS support on (EC2 API ModifyVpcAttribute,
   * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyVpcAttribute.html).
   */
  ModifyVpcAttribute(
    region: string,
    input: {
      VpcId?: string;
      EnableDnsSupport?: { Value?: boolean };
      EnableDnsHostnames?: { Value?: boolean };
    },
  ) {
    const vpc = this.region(region).vpcs.get(input.VpcId ?? '');
    if (!vpc) throw awsError('InvalidVpcID.NotFound', `The vpc ID '${input.VpcId}' does not exist`);
    if (!!input.EnableDnsSupport === !!input.EnableDnsHostnames)
      throw awsError('InvalidParameterCombination', 'Specify exactly one VPC attribute per request.');
    if (input.EnableDnsSupport) vpc.enableDnsSupport = !!input.EnableDnsSupport.Value;
    if (input.EnableDnsHostnames) {
      if (input.EnableDnsHostnames.Value && !vpc.enableDnsSupport)
        throw awsError('InvalidParameterValue', 'DNS hostnames need DNS support enabled on the VPC.');
      vpc.enableDnsHostnames = !!input.EnableDnsHostnames.Value;
    }
    return {};
  }

  DescribeSubnets(region: string, input: Ec2PageInput & { SubnetIds?: string[] }) {
    const r = this.region(region);
    for (const id of input.SubnetIds ?? []) {
      if (!r.subnets.has(id))
        throw awsError('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
    }
    const { items, NextToken } = ec2Page(
      this.cloud,
      'DescribeSubnets',
      [...r.subnets.values()].filter((s) => !input.SubnetIds || input.SubnetIds.includes(s.SubnetId)),
      { ...input, byIds: !!input.SubnetIds?.length },
      (s) => s.SubnetId,
      (s) => matchFilters(input.Filters, tagFilter(s.tags, { 'vpc-id': s.VpcId, 'subnet-id': s.SubnetId })),
    );
    const Subnets = items.map((s) => ({
      ...s,
      tags: undefined,
      State: 'available',
      Tags: mapToTags(s.tags),
    }));
    return { Subnets, NextToken };
  }

  DescribeRouteTables(region: string, input: Ec2PageInput & { RouteTableIds?: string[] }) {
    const r = this.region(region);
    for (const id of input.RouteTableIds ?? []) {
      if (!r.routeTables.has(id))
        throw awsError('InvalidRouteTableID.NotFound', `The routeTable ID '${id}' does not exist`);
    }
    const { items, NextToken } = ec2Page(
      this.cloud,
      'DescribeRouteTables',
      [...r.routeTables.values()].filter(
        (t) => !input.RouteTableIds || input.RouteTableIds.includes(t.RouteTableId),
      ),
      { ...input, byIds: !!input.RouteTableIds?.length },
      (t) => t.RouteTableId,
      (t) =>
        matchFilters(
          input.Filters,
          tagFilter(t.tags, {
            'vpc-id': t.VpcId,
            'route-table-id': t.RouteTableId,
            // "route.vpc-peering-connection-id: The ID of a VPC peering connection specified in a
            // route in the table" (EC2 API DescribeRouteTables).
            'route.vpc-peering-connection-id': t.routes
              .map((r) => r.VpcPeeringConnectionId)
              .filter((x): x is string => x !== undefined),
            // "association.main: Indicates whether the route table is the main route table for the
            // VPC (true | false). Route tables that do not have an association ID are not returned";
            // an implicit association (a subnet on the main table) names no subnet (EC2 API
            // DescribeRouteTables).
            'association.main': [...(t.main ? ['true'] : []), ...t.subnetIds.map(() => 'false')],
            'association.subnet-id': t.subnetIds,
            'association.route-table-id': t.main || t.subnetIds.length ? t.RouteTableId : undefined,
          }),
        ),
      // "MaxResults: Valid Range: Minimum value of 5. Maximum value of 100." (EC2 API DescribeRouteTables)
      100,
    );
    const RouteTables = items.map((t) => ({
      RouteTableId: t.RouteTableId,
      VpcId: t.VpcId,
      Routes: t.routes.map((x) => ({ ...x })),
      Associations: [
        ...(t.main
          ? [
              {
                Main: true,
                RouteTableId: t.RouteTableId,
                RouteTableAssociationId: t.mainAssociationId,
                AssociationState: { State: 'associated' },
              },
            ]
          : []),
        ...t.subnetIds.map((s) => ({ Main: false, SubnetId: s, RouteTableId: t.RouteTableId })),
      ],
      Tags: mapToTags(t.tags),
    }));
    return { RouteTables, NextToken };
  }

  DescribeSecurityGroups(region: string, input: Ec2PageInput & { GroupIds?: string[] }) {
    const r = this.region(region);
    for (const id of input.GroupIds ?? []) {
      if (!r.securityGroups.has(id))
        throw awsError('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
    }
    const { items, NextToken } = ec2Page(
      this.cloud,
      'DescribeSecurityGroups',
      [...r.securityGroups.values()].filter((g) => !input.GroupIds || input.GroupIds.includes(g.GroupId)),
      { ...input, byIds: !!input.GroupIds?.length },
      (g) => g.GroupId,
      (g) =>
        matchFilters(
          input.Filters,
          tagFilter(g.tags, { 'vpc-id': g.VpcId, 'group-id': g.GroupId, 'group-name': g.GroupName }),
        ),
    );
    const SecurityGroups = items.map((g) => ({
      GroupId: g.GroupId,
      GroupName: g.GroupName,
      Description: g.Description,
      VpcId: g.VpcId,
      IpPermissions: [
        ...g.ingress.map((rule) => ({
          IpProtocol: rule.IpProtocol,
          FromPort: rule.FromPort,
          ToPort: rule.ToPort,
          IpRanges: [{ CidrIp: rule.CidrIp, Description: rule.Description }],
        })),
        // A default group admits all traffic from its own members.
        ...(g.GroupName === 'default'
          ? [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: g.GroupId, UserId: this.cloud.account }] }]
          : []),
      ],
      Tags: mapToTags(g.tags),
    }));
    return { SecurityGroups, NextToken };
  }

  DescribeNetworkInterfaces(region: string, input: Ec2PageInput & { NetworkInterfaceIds?: string[] }) {
    if (input.NetworkInterfaceIds?.length && input.MaxResults !== undefined) {
      // "You cannot specify this parameter and the network interface IDs parameter in the same
      // request." (EC2 API DescribeNetworkInterfaces, MaxResults)
      throw awsError(
        'InvalidParameterCombination',
        'The parameter NetworkInterfaceIds cannot be used with the parameter maxResults',
      );
    }
    const live = this.liveEnis(region);
    for (const id of input.NetworkInterfaceIds ?? []) {
      if (!live.some((e) => e.NetworkInterfaceId === id)) {
        throw awsError(
          'InvalidNetworkInterfaceID.NotFound',
          `The networkInterface ID '${id}' does not exist`,
        );
      }
    }
    const { items, NextToken } = ec2Page(
      this.cloud,
      'DescribeNetworkInterfaces',
      live.filter(
        (e) => !input.NetworkInterfaceIds || input.NetworkInterfaceIds.includes(e.NetworkInterfaceId),
      ),
      { ...input, byIds: !!input.NetworkInterfaceIds?.length },
      (e) => e.NetworkInterfaceId,
      (e) =>
        matchFilters(input.Filters, (name) => {
          switch (name) {
            case 'vpc-id':
              return e.VpcId;
            case 'subnet-id':
              return e.SubnetId;
            case 'group-id':
              return e.groupIds;
            case 'description':
              return e.Description;
            default:
              return undefined;
          }
        }),
    );
    const NetworkInterfaces = items.map((e) => ({
      NetworkInterfaceId: e.NetworkInterfaceId,
      SubnetId: e.SubnetId,
      VpcId: e.VpcId,
      PrivateIpAddress: e.PrivateIpAddress,
      Description: e.Description,
      Status: 'in-use',
      Groups: e.groupIds.map((GroupId) => ({ GroupId })),
    }));
    return { NetworkInterfaces, NextToken };
  }

  snapshot(): string[] {
    const out: string[] = [];
    for (const [name, r] of this.regions) {
      const live = this.liveEnis(name);
      for (const k of r.keyPairs.values()) out.push(`ec2/${name}/key-pair/${k.KeyName}`);
      for (const v of r.vpcs.values()) out.push(`ec2/${name}/vpc/${v.VpcId}`);
      for (const s of r.subnets.values()) out.push(`ec2/${name}/subnet/${s.SubnetId}`);
      // What EC2 makes with a VPC goes with it (the VPC's line stands for them).
      for (const t of r.routeTables.values())
        if (!t.main) out.push(`ec2/${name}/route-table/${t.RouteTableId}`);
      for (const g of r.securityGroups.values())
        if (g.GroupName !== 'default') out.push(`ec2/${name}/security-group/${g.GroupId}`);
      for (const o of r.others.values()) out.push(`ec2/${name}/${o.kind}/${o.id}`);
      for (const e of live) out.push(`ec2/${name}/network-interface/${e.NetworkInterfaceId}(${e.owner})`);
    }
    return out;
  }
}
