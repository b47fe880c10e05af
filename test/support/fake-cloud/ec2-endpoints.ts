import { FakeService, mapToTags } from './cloud.js';
import { type Ec2PageInput, ec2Page, FakeEc2, matchFilters, tagFilter, tagsFromSpec } from './ec2.js';
import { awsError } from './errors.js';

// Interface VPC endpoints (EC2), served beside FakeEc2 on EC2Client. Behaviours (docs/design/aws-behaviour.md §6, docs/design/timings.md §2):
// - CreateVpcEndpoint returns at once in state `pending`; `available` after the `vpce.create` delay.
// - ClientToken is idempotent per account and region: the same token with the same parameters
//   returns the first endpoint (whatever its state), with other parameters IdempotentParameterMismatch.
//   Without a token every call makes another endpoint.
// - One ENI per subnet at creation, Description `VPC Endpoint Interface vpce-…`, in the endpoint's
//   security groups: they block the subnets' and groups' deletion until released.
// - Private DNS needs the VPC's enableDnsSupport and enableDnsHostnames, and only one endpoint per
//   service and VPC can have it (the second gets InvalidParameter: conflicting DNS domain).
// - Two subnets in one Availability Zone: DuplicateSubnetsInSameZone.
// - States are reported in camelCase (`available`), not as the SDK's PascalCase enum
//   (aws/aws-sdk-go-v2#2864).
// - DeleteVpcEndpoints: `deleting` for the `vpce.delete` delay, then `deleted`; the ENIs go at that
//   moment. Deleted endpoints stay visible in describes as `deleted` (terraform-provider-aws treats
//   that state as not found). Unknown ids come back in `Unsuccessful`, not as an exception.

export type VpcEndpointState = 'pending' | 'available' | 'deleting' | 'deleted';

export class VpcEndpoint {
  deleteRequestedAt: number | undefined;
  type: 'Interface' | 'Gateway' = 'Interface';
  /** A gateway endpoint's route tables (S3 or DynamoDB traffic from their subnets goes through it). */
  RouteTableIds: string[] = [];
  /** Made by a CloudFormation stack: the stack's line in the snapshot stands for it. */
  stackOwned = false;
  constructor(
    readonly VpcEndpointId: string,
    readonly VpcId: string,
    readonly ServiceName: string,
    readonly SubnetIds: string[],
    readonly SecurityGroupIds: string[],
    readonly PrivateDnsEnabled: boolean,
    readonly tags: Record<string, string>,
    readonly createdAt: number,
    readonly availableAt: number,
    readonly deleteDelayMs: number,
    readonly clientToken: string | undefined,
    readonly NetworkInterfaceIds: string[],
    readonly dnsSuffix: string,
  ) {}

  get deletedAt(): number | undefined {
    return this.deleteRequestedAt === undefined ? undefined : this.deleteRequestedAt + this.deleteDelayMs;
  }

  state(now: number): VpcEndpointState {
    if (this.deleteRequestedAt !== undefined) return now >= this.deletedAt! ? 'deleted' : 'deleting';
    return now >= this.availableAt ? 'available' : 'pending';
  }
}

export class FakeEc2Endpoints extends FakeService {
  readonly service = 'ec2';
  /** region -> endpoint id -> endpoint (deleted ones included). */
  private readonly endpoints = new Map<string, Map<string, VpcEndpoint>>();

  private get ec2(): FakeEc2 {
    return this.cloud.model(FakeEc2);
  }

  private inRegion(region: string): Map<string, VpcEndpoint> {
    let m = this.endpoints.get(region);
    if (!m) this.endpoints.set(region, (m = new Map()));
    return m;
  }

  override tagsOfArn(arn: string): Record<string, string> | undefined {
    const m = /^arn:aws:ec2:([^:]+):\d*:vpc-endpoint\/(.+)$/.exec(arn);
    return m ? this.endpoint(m[1]!, m[2]!)?.tags : undefined;
  }

  /** For other models (API Gateway checks the endpoints it is associated with). */
  endpoint(region: string, vpcEndpointId: string): VpcEndpoint | undefined {
    return this.inRegion(region).get(vpcEndpointId);
  }

  /** Every endpoint of the region, deleted ones included (the network model reads them). */
  endpointsIn(region: string): VpcEndpoint[] {
    return [...this.inRegion(region).values()];
  }

  /**
   * An AWS::EC2::VPCEndpoint of a CloudFormation stack (the fake CloudFormation calls this): an
   * interface endpoint gets one ENI per subnet (owned by the stack, which deletes them with it); a
   * gateway endpoint has no ENI, only its route tables. CloudFormation's PrivateDnsEnabled
   * defaults to false (docs/design/aws-behaviour.md §6), so the template says true.
   */
  createForStack(
    region: string,
    input: {
      VpcId: string;
      ServiceName: string;
      type: 'Interface' | 'Gateway';
      SubnetIds: string[];
      SecurityGroupIds: string[];
      RouteTableIds: string[];
      PrivateDnsEnabled: boolean;
      tags: Record<string, string>;
      owner: string;
    },
  ): string {
    const r = this.ec2.region(region);
    if (!r.vpcs.has(input.VpcId)) throw new Error(`fake CloudFormation: VPC ${input.VpcId} does not exist`);
    const id = this.id('vpce-');
    const enis =
      input.type === 'Gateway'
        ? []
        : input.SubnetIds.map((subnetId) => {
            const eniId = this.id('eni-');
            r.enis.set(eniId, {
              NetworkInterfaceId: eniId,
              SubnetId: subnetId,
              VpcId: input.VpcId,
              groupIds: [...input.SecurityGroupIds],
              PrivateIpAddress: r.allocateIp(subnetId),
              Description: `VPC Endpoint Interface ${id}`,
              owner: input.owner,
            });
            return eniId;
          });
    const e = new VpcEndpoint(
      id,
      input.VpcId,
      input.ServiceName,
      input.type === 'Gateway' ? [] : [...input.SubnetIds],
      input.type === 'Gateway' ? [] : [...input.SecurityGroupIds],
      input.type === 'Interface' && input.PrivateDnsEnabled,
      { ...input.tags },
      this.now(),
      this.now() + (input.type === 'Gateway' ? 0 : this.delay('vpce.create')),
      this.delay('vpce.delete'),
      undefined,
      enis,
      Math.floor(this.cloud.random() * 36 ** 8)
        .toString(36)
        .padStart(8, '0'),
    );
    e.type = input.type;
    e.RouteTableIds = [...input.RouteTableIds];
    e.stackOwned = true;
    this.inRegion(region).set(id, e);
    return id;
  }

  /** The stack deleted its endpoint (its ENIs go with the stack's). */
  removeForStack(region: string, vpcEndpointId: string): void {
    const e = this.inRegion(region).get(vpcEndpointId);
    if (e && e.deleteRequestedAt === undefined) e.deleteRequestedAt = this.now() - e.deleteDelayMs;
  }

  CreateVpcEndpoint(
    region: string,
    input: {
      VpcEndpointType?: string;
      VpcId: string;
      ServiceName: string;
      SubnetIds?: string[];
      SecurityGroupIds?: string[];
      PrivateDnsEnabled?: boolean;
      ClientToken?: string;
      TagSpecifications?: unknown;
    },
  ) {
    const subnetIds = [...new Set(input.SubnetIds ?? [])];
    const groupIds = [...new Set(input.SecurityGroupIds ?? [])];
    // The EC2 API's default is true (CloudFormation's is false): docs/design/aws-behaviour.md §6.
    const privateDns = input.PrivateDnsEnabled ?? true;
    const mine = this.inRegion(region);
    if (input.ClientToken) {
      const first = [...mine.values()].find((e) => e.clientToken === input.ClientToken);
      if (first) {
        const same =
          first.VpcId === input.VpcId &&
          first.ServiceName === input.ServiceName &&
          first.PrivateDnsEnabled === privateDns &&
          JSON.stringify([...first.SubnetIds].sort()) === JSON.stringify([...subnetIds].sort()) &&
          JSON.stringify([...first.SecurityGroupIds].sort()) === JSON.stringify([...groupIds].sort());
        if (!same) {
          throw awsError(
            'IdempotentParameterMismatch',
            'The client token you have provided is associated with a resource that has different parameters.',
          );
        }
        return { VpcEndpoint: this.describe(region, first), ClientToken: input.ClientToken };
      }
    }
    if ((input.VpcEndpointType ?? 'Gateway') !== 'Interface') {
      throw awsError('InvalidParameter', 'The fake cloud models Interface endpoints only.');
    }
    const r = this.ec2.region(region);
    const vpc = r.vpcs.get(input.VpcId);
    if (!vpc) throw awsError('InvalidVpcID.NotFound', `The vpc ID '${input.VpcId}' does not exist`);
    const service = /^com\.amazonaws\.([a-z0-9-]+)\.([a-z0-9.-]+)$/.exec(input.ServiceName);
    if (!service || service[1] !== region) {
      throw awsError('InvalidServiceName', `The Vpc Endpoint Service '${input.ServiceName}' does not exist`);
    }
    if (subnetIds.length === 0) throw awsError('InvalidParameter', 'An Interface endpoint needs a subnet.');
    const zones = new Set<string>();
    for (const id of subnetIds) {
      const s = r.subnets.get(id);
      if (!s) throw awsError('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
      if (s.VpcId !== input.VpcId) {
        throw awsError('InvalidParameter', `The subnet ID '${id}' does not belong to VPC '${input.VpcId}'`);
      }
      if (zones.has(s.AvailabilityZone)) {
        throw awsError(
          'DuplicateSubnetsInSameZone',
          `Found another VPC endpoint subnet in the availability zone of ${id}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service.`,
        );
      }
      zones.add(s.AvailabilityZone);
    }
    for (const id of groupIds) {
      const g = r.securityGroups.get(id);
      if (!g || g.VpcId !== input.VpcId) {
        throw awsError(
          'InvalidGroup.NotFound',
          `The security group '${id}' does not exist in VPC '${input.VpcId}'`,
        );
      }
    }
    if (privateDns) {
      if (!vpc.enableDnsSupport || !vpc.enableDnsHostnames) {
        throw awsError(
          'InvalidParameter',
          `Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for ${input.VpcId}`,
        );
      }
      const conflict = [...mine.values()].find(
        (e) =>
          e.VpcId === input.VpcId &&
          e.ServiceName === input.ServiceName &&
          e.PrivateDnsEnabled &&
          e.state(this.now()) !== 'deleted',
      );
      if (conflict) {
        throw awsError(
          'InvalidParameter',
          `private-dns-enabled cannot be set because there is already a conflicting DNS domain for ${service[2]}.${region}.amazonaws.com in the VPC ${input.VpcId}`,
        );
      }
    }
    const id = this.id('vpce-');
    const enis = subnetIds.map((subnetId) => {
      const eniId = this.id('eni-');
      r.enis.set(eniId, {
        NetworkInterfaceId: eniId,
        SubnetId: subnetId,
        VpcId: input.VpcId,
        groupIds: groupIds.length ? groupIds : defaultGroup(r, input.VpcId),
        PrivateIpAddress: r.allocateIp(subnetId),
        Description: `VPC Endpoint Interface ${id}`,
        owner: id,
      });
      return eniId;
    });
    const e = new VpcEndpoint(
      id,
      input.VpcId,
      input.ServiceName,
      subnetIds,
      groupIds,
      privateDns,
      tagsFromSpec(input.TagSpecifications, 'vpc-endpoint'),
      this.now(),
      this.now() + this.delay('vpce.create'),
      this.delay('vpce.delete'),
      input.ClientToken,
      enis,
      Math.floor(this.cloud.random() * 36 ** 8)
        .toString(36)
        .padStart(8, '0'),
    );
    mine.set(id, e);
    return { VpcEndpoint: this.describe(region, e), ClientToken: input.ClientToken };
  }

  DescribeVpcEndpoints(region: string, input: Ec2PageInput & { VpcEndpointIds?: string[] }) {
    this.settle(region);
    const mine = this.inRegion(region);
    for (const id of input.VpcEndpointIds ?? []) {
      if (!mine.has(id)) {
        throw awsError('InvalidVpcEndpointId.NotFound', `The Vpc Endpoint Id '${id}' does not exist`);
      }
    }
    const { items, NextToken } = ec2Page(
      this.cloud,
      'DescribeVpcEndpoints',
      [...mine.values()].filter(
        (e) => !input.VpcEndpointIds || input.VpcEndpointIds.includes(e.VpcEndpointId),
      ),
      { ...input, byIds: !!input.VpcEndpointIds?.length },
      (e) => e.VpcEndpointId,
      (e) =>
        matchFilters(
          input.Filters,
          tagFilter(e.tags, {
            'vpc-id': e.VpcId,
            'service-name': e.ServiceName,
            'vpc-endpoint-id': e.VpcEndpointId,
            'vpc-endpoint-state': e.state(this.now()),
            'vpc-endpoint-type': e.type,
          }),
        ),
    );
    return { VpcEndpoints: items.map((e) => this.describe(region, e)), NextToken };
  }

  DeleteVpcEndpoints(region: string, input: { VpcEndpointIds?: string[] }) {
    this.settle(region);
    const mine = this.inRegion(region);
    const Unsuccessful: Array<{ Error: { Code: string; Message: string }; ResourceId: string }> = [];
    for (const id of input.VpcEndpointIds ?? []) {
      const e = mine.get(id);
      if (!e || e.state(this.now()) === 'deleted') {
        Unsuccessful.push({
          Error: { Code: 'InvalidVpcEndpoint.NotFound', Message: `The VPC endpoint '${id}' does not exist` },
          ResourceId: id,
        });
        continue;
      }
      if (e.deleteRequestedAt !== undefined) continue;
      e.deleteRequestedAt = this.now();
      const enis = this.ec2.region(region).enis;
      for (const eniId of e.NetworkInterfaceIds) {
        const eni = enis.get(eniId);
        if (eni) eni.releaseAt = e.deletedAt;
      }
    }
    return { Unsuccessful };
  }

  /** Nothing moves on its own here (states derive from time), but released ENIs are dropped. */
  private settle(region: string): void {
    this.ec2.liveEnis(region);
  }

  /** Every endpoint with its region (deleted ones included). */
  all(): Array<{ region: string; endpoint: VpcEndpoint }> {
    return [...this.endpoints].flatMap(([region, m]) =>
      [...m.values()].map((endpoint) => ({ region, endpoint })),
    );
  }

  /**
   * The endpoint-specific DNS names (regional first, then zonal) with the hosted zone a Route 53
   * alias to them names. They are public DNS names that resolve to the ENIs' private IPs from
   * anywhere (https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html).
   */
  endpointDnsNames(region: string, e: VpcEndpoint): Array<{ DnsName: string; HostedZoneId: string }> {
    const r = this.ec2.region(region);
    const service = e.ServiceName.split('.').slice(3).join('.');
    const zonal = e.SubnetIds.map((s) => r.subnets.get(s)?.AvailabilityZone).filter(
      (az): az is string => az !== undefined,
    );
    // AWS has one such zone per region; the fake uses one stand-in id for all.
    const hostedZoneId = 'Z7HUB22UULQXV';
    return [
      {
        DnsName: `${e.VpcEndpointId}-${e.dnsSuffix}.${service}.${region}.vpce.amazonaws.com`,
        HostedZoneId: hostedZoneId,
      },
      ...zonal.map((az) => ({
        DnsName: `${e.VpcEndpointId}-${e.dnsSuffix}-${az}.${service}.${region}.vpce.amazonaws.com`,
        HostedZoneId: hostedZoneId,
      })),
    ];
  }

  /** The live endpoint one of whose endpoint-specific DNS names is `name`. */
  byDnsName(name: string): { region: string; endpoint: VpcEndpoint } | undefined {
    const wanted = name.toLowerCase().replace(/\.$/, '');
    return this.all().find(
      ({ region, endpoint }) =>
        endpoint.state(this.now()) !== 'deleted' &&
        this.endpointDnsNames(region, endpoint).some((d) => d.DnsName === wanted),
    );
  }

  private describe(region: string, e: VpcEndpoint) {
    const state = e.state(this.now());
    const r = this.ec2.region(region);
    const service = e.ServiceName.split('.').slice(3).join('.');
    const DnsEntries =
      state === 'deleted'
        ? []
        : [
            ...this.endpointDnsNames(region, e),
            ...(e.PrivateDnsEnabled
              ? [
                  { DnsName: `${service}.${region}.amazonaws.com`, HostedZoneId: 'ZONEIDPENDING' },
                  { DnsName: `*.${service}.${region}.amazonaws.com`, HostedZoneId: 'ZONEIDPENDING' },
                ]
              : []),
          ];
    return {
      VpcEndpointId: e.VpcEndpointId,
      VpcEndpointType: e.type,
      VpcId: e.VpcId,
      ServiceName: e.ServiceName,
      State: state,
      SubnetIds: state === 'deleted' ? [] : [...e.SubnetIds],
      Groups: e.SecurityGroupIds.map((GroupId) => ({
        GroupId,
        GroupName: r.securityGroups.get(GroupId)?.GroupName,
      })),
      PrivateDnsEnabled: e.PrivateDnsEnabled,
      RequesterManaged: false,
      NetworkInterfaceIds: state === 'deleted' ? [] : [...e.NetworkInterfaceIds],
      ...(e.type === 'Gateway' ? { RouteTableIds: [...e.RouteTableIds] } : {}),
      DnsEntries,
      CreationTimestamp: new Date(e.createdAt),
      Tags: mapToTags(e.tags),
      OwnerId: this.cloud.account,
    };
  }

  snapshot(): string[] {
    const out: string[] = [];
    for (const [region, m] of this.endpoints) {
      for (const e of m.values()) {
        const state = e.state(this.now());
        if (state !== 'deleted' && !e.stackOwned)
          out.push(`ec2/${region}/vpc-endpoint/${e.VpcEndpointId}(${state})`);
      }
    }
    return out;
  }
}

/** Without SecurityGroupIds AWS uses the VPC's default group. */
function defaultGroup(r: ReturnType<FakeEc2['region']>, vpcId: string): string[] {
  const g = [...r.securityGroups.values()].find((x) => x.VpcId === vpcId && x.GroupName === 'default');
  return g ? [g.GroupId] : [];
}
