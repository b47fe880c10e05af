import { cidrsOverlap } from '../../../src/config/config.js';
import { type FakeCloud, FakeService, mapToTags } from './cloud.js';
import {
  type Ec2PageInput,
  ec2Page,
  FakeEc2,
  type Route,
  type RouteTable,
  matchFilters,
  tagsFromSpec,
} from './ec2.js';
import { awsError } from './errors.js';

type Tags = Record<string, string>;
type PeeringStatus =
  'initiating-request' | 'pending-acceptance' | 'provisioning' | 'active' | 'failed' | 'deleting' | 'deleted';

interface VpcSide {
  region: string;
  VpcId: string;
  CidrBlock: string;
}

interface Peering {
  VpcPeeringConnectionId: string;
  requester: VpcSide;
  accepter: VpcSide;
  status: PeeringStatus;
  message: string;
  /** Each region holds its own view of the connection, with its own tags. */
  tags: { requester: Tags; accepter: Tags };
  /** When the request reaches the accepter region (pending-acceptance, or failed on overlap). */
  visibleAt: number;
  /** provisioning -> active. */
  activeAt?: number;
  deletedAt?: number;
  expiresAt: number;
}

// A deleted connection stays describable as `deleted` for a while
// (https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-basics.html#vpc-peering-lifecycle).
const DELETED_VISIBLE_MS = 2 * 60 * 60_000;
// An unaccepted request expires after 7 days (docs/design/aws-behaviour.md §8).
const EXPIRY_MS = 7 * 24 * 60 * 60_000;

/**
 * Cross-region VPC peering and the routes that use it, on EC2Client beside FakeEc2 (whose
 * regions hold the VPCs and route tables). What it models (docs/design/aws-behaviour.md §8, docs/design/fake-cloud.md):
 * - CreateVpcPeeringConnection has no idempotency token: a repeated call makes a second connection;
 *   overlapping CIDRs end in `failed`;
 * - the accepter region sees the connection only after the 'peering.visible' delay
 *   (InvalidVpcPeeringConnectionID.NotFound before that); accepting from the requester region
 *   fails with OperationNotPermitted; pending-acceptance -> provisioning -> active ('peering.active');
 * - tags given at creation belong to the requester region's view only;
 * - CreateRoute refuses a second route to the same destination (RouteAlreadyExists); a route to a
 *   connection that is not active is a blackhole; deleting the connection blackholes its routes.
 */
export class FakeEc2Peering extends FakeService {
  readonly service = 'ec2';
  private readonly peerings = new Map<string, Peering>();
  /** Routes made by CreateRoute/ReplaceRoute (not by the VPC stack): `${region}|${rtb}|${cidr}`. */
  private readonly apiRoutes = new Set<string>();

  constructor(cloud: FakeCloud) {
    super(cloud);
    // AcceptVpcPeeringConnection is authorized on the accepter's VPC as well.
    cloud.authorizer.addLookup(
      'ec2:peering-accepter-vpc',
      (_region, id) => this.peerings.get(id)?.accepter.VpcId,
    );
  }

  override tagsOfArn(arn: string): Record<string, string> | undefined {
    const m = /^arn:aws:ec2:([^:]+):\d*:vpc-peering-connection\/(.+)$/.exec(arn);
    const p = m && this.peerings.get(m[2]!);
    if (!p) return undefined;
    return m[1] === p.requester.region ? p.tags.requester : p.tags.accepter;
  }

  private get ec2(): FakeEc2 {
    return this.cloud.model(FakeEc2);
  }

  private settle(p: Peering): void {
    const now = this.now();
    if (p.status === 'initiating-request' && now >= p.visibleAt) {
      const accepterVpc = this.ec2.region(p.accepter.region).vpcs.get(p.accepter.VpcId);
      if (!accepterVpc) {
        p.status = 'failed';
        p.message = `Failed: The VPC ${p.accepter.VpcId} does not exist in ${p.accepter.region}`;
      } else if (cidrsOverlap(p.requester.CidrBlock, accepterVpc.CidrBlock)) {
        p.status = 'failed';
        p.message = 'Failed: Overlapping CIDRs';
      } else {
        p.accepter.CidrBlock = accepterVpc.CidrBlock;
        p.status = 'pending-acceptance';
        p.message = `Pending Acceptance by ${this.cloud.account}`;
      }
    }
    if (p.status === 'pending-acceptance' && now >= p.expiresAt) {
      p.status = 'failed';
      p.message = 'Expired';
    }
    if (p.status === 'provisioning' && p.activeAt !== undefined && now >= p.activeAt) {
      p.status = 'active';
      p.message = 'Active';
      this.setRouteStates(p.VpcPeeringConnectionId, 'active');
    }
    if (p.status === 'deleting' && p.deletedAt !== undefined && now >= p.deletedAt) {
      p.status = 'deleted';
      p.message = `Deleted by ${this.cloud.account}`;
    }
  }

  /** The connection as one region sees it; undefined where it is not (yet, or any more) visible. */
  private visible(region: string, id: string): Peering | undefined {
    const p = this.peerings.get(id);
    if (!p) return undefined;
    this.settle(p);
    if (p.status === 'deleted' && this.now() - (p.deletedAt ?? 0) > DELETED_VISIBLE_MS) return undefined;
    if (region === p.requester.region) return p;
    if (region === p.accepter.region && this.now() >= p.visibleAt) return p;
    return undefined;
  }

  private notFound(id: string) {
    return awsError(
      'InvalidVpcPeeringConnectionID.NotFound',
      `The vpcPeeringConnection ID '${id}' does not exist`,
    );
  }

  private view(region: string, p: Peering) {
    const side = (s: VpcSide) => ({
      VpcId: s.VpcId,
      CidrBlock: s.CidrBlock,
      CidrBlockSet: [{ CidrBlock: s.CidrBlock }],
      OwnerId: this.cloud.account,
      Region: s.region,
    });
    return {
      VpcPeeringConnectionId: p.VpcPeeringConnectionId,
      Status: { Code: p.status, Message: p.message },
      RequesterVpcInfo: side(p.requester),
      AccepterVpcInfo: side(p.accepter),
      ExpirationTime: p.status === 'pending-acceptance' ? new Date(p.expiresAt) : undefined,
      Tags: mapToTags(region === p.requester.region ? p.tags.requester : p.tags.accepter),
    };
  }

  CreateVpcPeeringConnection(
    region: string,
    input: {
      VpcId?: string;
      PeerVpcId?: string;
      PeerRegion?: string;
      PeerOwnerId?: string;
      TagSpecifications?: unknown;
    },
  ) {
    const vpc = input.VpcId ? this.ec2.region(region).vpcs.get(input.VpcId) : undefined;
    if (!vpc) throw awsError('InvalidVpcID.NotFound', `The vpc ID '${input.VpcId}' does not exist`);
    if (!input.PeerVpcId)
      throw awsError('MissingParameter', 'The request must contain the parameter PeerVpcId');
    const peerRegion = input.PeerRegion ?? region;
    const id = this.id('pcx-');
    const p: Peering = {
      VpcPeeringConnectionId: id,
      requester: { region, VpcId: vpc.VpcId, CidrBlock: vpc.CidrBlock },
      accepter: { region: peerRegion, VpcId: input.PeerVpcId, CidrBlock: '' },
      status: 'initiating-request',
      message: 'Initiating Request',
      tags: { requester: tagsFromSpec(input.TagSpecifications, 'vpc-peering-connection'), accepter: {} },
      visibleAt: this.now() + (peerRegion === region ? 0 : this.delay('peering.visible')),
      expiresAt: this.now() + EXPIRY_MS,
    };
    this.peerings.set(id, p);
    return { VpcPeeringConnection: this.view(region, p) };
  }

  DescribeVpcPeeringConnections(
    region: string,
    input: Ec2PageInput & { VpcPeeringConnectionIds?: string[] },
  ) {
    for (const id of input.VpcPeeringConnectionIds ?? []) {
      if (!this.visible(region, id)) throw this.notFound(id);
    }
    const { items, NextToken } = ec2Page(
      this.cloud,
      'DescribeVpcPeeringConnections',
      [...this.peerings.keys()]
        .map((id) => this.visible(region, id))
        .filter((p): p is Peering => p !== undefined)
        .filter(
          (p) =>
            !input.VpcPeeringConnectionIds ||
            input.VpcPeeringConnectionIds.includes(p.VpcPeeringConnectionId),
        ),
      { ...input, byIds: !!input.VpcPeeringConnectionIds?.length },
      (p) => p.VpcPeeringConnectionId,
      (p) =>
        matchFilters(input.Filters, (name) => {
          const tags = region === p.requester.region ? p.tags.requester : p.tags.accepter;
          if (name.startsWith('tag:')) return tags[name.slice(4)];
          if (name === 'tag-key') return Object.keys(tags);
          switch (name) {
            case 'vpc-peering-connection-id':
              return p.VpcPeeringConnectionId;
            case 'status-code':
              return p.status;
            case 'requester-vpc-info.vpc-id':
              return p.requester.VpcId;
            case 'accepter-vpc-info.vpc-id':
              return p.accepter.VpcId;
            case 'requester-vpc-info.cidr-block':
              return p.requester.CidrBlock;
            case 'accepter-vpc-info.cidr-block':
              return p.accepter.CidrBlock;
            default:
              return undefined;
          }
        }),
    );
    return { VpcPeeringConnections: items.map((p) => this.view(region, p)), NextToken };
  }

  AcceptVpcPeeringConnection(region: string, input: { VpcPeeringConnectionId?: string }) {
    const id = input.VpcPeeringConnectionId ?? '';
    const p = this.visible(region, id);
    if (!p) throw this.notFound(id);
    if (region !== p.accepter.region) {
      // The words AWS uses (terraform-provider-aws PR #2508).
      throw awsError(
        'OperationNotPermitted',
        `Incorrect region (${region}) specified for this request. VPC peering connection ${id} must be accepted in region ${p.accepter.region}`,
      );
    }
    if (p.status !== 'pending-acceptance') {
      throw awsError(
        'InvalidStateTransition',
        `Invalid state transition for ${id}, attempted to transition from ${p.status} to provisioning`,
      );
    }
    p.status = 'provisioning';
    p.message = 'Provisioning';
    p.activeAt = this.now() + this.delay('peering.active');
    return { VpcPeeringConnection: this.view(region, p) };
  }

  /** Either side may delete; its routes stay, as blackholes. */
  DeleteVpcPeeringConnection(region: string, input: { VpcPeeringConnectionId?: string }) {
    const id = input.VpcPeeringConnectionId ?? '';
    const p = this.visible(region, id);
    if (!p || p.status === 'deleted') throw this.notFound(id);
    if (p.status === 'deleting') return { Return: true };
    if (p.status === 'failed') {
      // "A failed VPC peering connection cannot be accepted, rejected, or deleted"; AWS drops it
      // itself (https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-basics.html#vpc-peering-lifecycle).
      throw awsError(
        'InvalidStateTransition',
        `Invalid state transition for ${id}, attempted to transition from failed to deleted`,
      );
    }
    p.status = 'deleting';
    p.message = `Deleting by ${this.cloud.account}`;
    // Deletion is quick; model it as a few seconds (no source measured it).
    p.deletedAt = this.now() + 2_000;
    this.setRouteStates(id, 'blackhole');
    return { Return: true };
  }

  private setRouteStates(pcxId: string, state: Route['State']): void {
    const p = this.peerings.get(pcxId)!;
    for (const region of new Set([p.requester.region, p.accepter.region])) {
      for (const t of this.ec2.region(region).routeTables.values()) {
        for (const r of t.routes) if (r.VpcPeeringConnectionId === pcxId) r.State = state;
      }
    }
  }

  // ---- routes ------------------------------------------------------------------------------
  private table(region: string, id: string | undefined): RouteTable {
    const t = id ? this.ec2.region(region).routeTables.get(id) : undefined;
    if (!t) throw awsError('InvalidRouteTableID.NotFound', `The routeTable ID '${id}' does not exist`);
    return t;
  }

  /** A route to a peering must use a connection this region sees, joining the table's VPC. */
  private peeringRoute(region: string, t: RouteTable, destination: string, pcxId: string): Route {
    const p = this.visible(region, pcxId);
    if (!p) throw this.notFound(pcxId);
    if (p.requester.VpcId !== t.VpcId && p.accepter.VpcId !== t.VpcId) {
      throw awsError(
        'InvalidParameterValue',
        `route table ${t.RouteTableId} and network gateway ${pcxId} belong to different networks`,
      );
    }
    return {
      DestinationCidrBlock: destination,
      VpcPeeringConnectionId: pcxId,
      State: p.status === 'active' ? 'active' : 'blackhole',
      Origin: 'CreateRoute',
    };
  }

  CreateRoute(
    region: string,
    input: { RouteTableId?: string; DestinationCidrBlock?: string; VpcPeeringConnectionId?: string },
  ) {
    const t = this.table(region, input.RouteTableId);
    const destination = input.DestinationCidrBlock ?? '';
    if (t.routes.some((r) => r.DestinationCidrBlock === destination)) {
      throw awsError('RouteAlreadyExists', `The route identified by ${destination} already exists.`);
    }
    if (!input.VpcPeeringConnectionId) {
      throw awsError('InvalidParameterValue', 'this fake models routes to VPC peering connections only');
    }
    t.routes.push(this.peeringRoute(region, t, destination, input.VpcPeeringConnectionId));
    this.apiRoutes.add(`${region}|${t.RouteTableId}|${destination}`);
    return { Return: true };
  }

  ReplaceRoute(
    region: string,
    input: { RouteTableId?: string; DestinationCidrBlock?: string; VpcPeeringConnectionId?: string },
  ) {
    const t = this.table(region, input.RouteTableId);
    const destination = input.DestinationCidrBlock ?? '';
    const i = t.routes.findIndex((r) => r.DestinationCidrBlock === destination);
    if (i < 0) {
      throw awsError(
        'InvalidRoute.NotFound',
        `There is no route defined for '${destination}' in the route table.`,
      );
    }
    if (t.routes[i]!.GatewayId === 'local') {
      throw awsError(
        'InvalidParameterValue',
        `cannot replace local route ${destination} in ${t.RouteTableId}`,
      );
    }
    if (!input.VpcPeeringConnectionId) {
      throw awsError('InvalidParameterValue', 'this fake models routes to VPC peering connections only');
    }
    t.routes[i] = this.peeringRoute(region, t, destination, input.VpcPeeringConnectionId);
    this.apiRoutes.add(`${region}|${t.RouteTableId}|${destination}`);
    return {};
  }

  DeleteRoute(region: string, input: { RouteTableId?: string; DestinationCidrBlock?: string }) {
    const t = this.table(region, input.RouteTableId);
    const destination = input.DestinationCidrBlock ?? '';
    const i = t.routes.findIndex((r) => r.DestinationCidrBlock === destination);
    if (i < 0) {
      throw awsError(
        'InvalidRoute.NotFound',
        `no route with destination-cidr-block ${destination} in route table ${t.RouteTableId}`,
      );
    }
    if (t.routes[i]!.GatewayId === 'local') {
      throw awsError(
        'InvalidParameterValue',
        `cannot remove local route ${destination} in route table ${t.RouteTableId}`,
      );
    }
    t.routes.splice(i, 1);
    this.apiRoutes.delete(`${region}|${t.RouteTableId}|${destination}`);
    return {};
  }

  snapshot(): string[] {
    const out: string[] = [];
    for (const p of this.peerings.values()) {
      this.settle(p);
      if (p.status === 'deleted' || p.status === 'failed') continue;
      out.push(`ec2/${p.requester.region}/vpc-peering-connection/${p.VpcPeeringConnectionId}(${p.status})`);
    }
    for (const key of this.apiRoutes) {
      const [region, rtb, cidr] = key.split('|') as [string, string, string];
      // A route lives as long as its table: the VPC stack's delete takes both.
      if (
        this.ec2
          .region(region)
          .routeTables.get(rtb)
          ?.routes.some((r) => r.DestinationCidrBlock === cidr)
      ) {
        out.push(`ec2/${region}/route/${rtb}/${cidr}`);
      } else {
        this.apiRoutes.delete(key);
      }
    }
    return out;
  }
}
