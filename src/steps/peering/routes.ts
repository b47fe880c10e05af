import {
  CreateRouteCommand,
  DeleteRouteCommand,
  DescribeRouteTablesCommand,
  EC2Client,
  paginateDescribeRouteTables,
  ReplaceRouteCommand,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import { isNotFound } from '../../aws/errors.js';
import { collect } from '../../aws/pages.js';
import { isOurs } from '../../aws/resources/ownership.js';
import { AwsStepError } from '../../errors/errors.js';
import type { VpcOutputs } from '../vpc.js';
import type { Ctx, RouteRecord } from './outputs.js';

// The routes to the other VPC's CIDR through the peering, in the route tables of the subnets
// drctl serves in both VPCs (never the main table: see index.ts).

/** One side of the connection: a VPC, its region, and the CIDR its tables must route to the peer. */
export interface Side {
  region: string;
  vpcId: string;
  peerCidr: string;
  /** The subnets whose traffic must reach the peer, each with the stack's table for it. */
  subnets: Array<{ subnetId: string; stackTableId: string }>;
}

/**
 * The subnets drctl serves: the private ones (execute-api endpoint, NLB, canary, probe) and the
 * public one, where the template's client instance calls the API for manual tests.
 */
export function servedSubnets(vpc: VpcOutputs): Side['subnets'] {
  const { publicSubnetId, publicRouteTableId, privateRouteTableId } = vpc;
  // Config refuses peering "create" with a used VPC (vpcId): drctl routes only in tables it made.
  if (!publicSubnetId || !publicRouteTableId || !privateRouteTableId)
    throw new Error(`VPC ${vpc.vpcId} is not drctl's: peering "create" needs the VPC drctl makes`);
  return [
    ...vpc.privateSubnetIds.map((subnetId) => ({ subnetId, stackTableId: privateRouteTableId })),
    { subnetId: publicSubnetId, stackTableId: publicRouteTableId },
  ];
}

async function routeTables(ctx: Ctx, region: string, vpcId: string): Promise<RouteTable[]> {
  const client = ctx.aws.client(EC2Client, region);
  return collect(
    paginateDescribeRouteTables({ client }, { Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    (p) => p.RouteTables,
  );
}

const target = (r: NonNullable<RouteTable['Routes']>[number]) =>
  r.VpcPeeringConnectionId ??
  r.GatewayId ??
  r.NatGatewayId ??
  r.TransitGatewayId ??
  r.NetworkInterfaceId ??
  r.InstanceId ??
  'another target';

type RoutePlan = RouteRecord & { action: 'keep' | 'create' | 'replace'; replaces?: string };

/**
 * The tables the served subnets use: each one's explicit association. A subnet with none uses the
 * main table implicitly (DescribeRouteTables names no subnet for that), which drctl does not route.
 */
async function servedTables(ctx: Ctx, side: Side): Promise<RouteTable[]> {
  const all = await routeTables(ctx, side.region, side.vpcId);
  const used = new Map<string, RouteTable>();
  for (const s of side.subnets) {
    const t = all.find((x) => x.Associations?.some((a) => a.SubnetId === s.subnetId && !a.Main));
    if (t) {
      used.set(t.RouteTableId!, t);
      continue;
    }
    const main = all.find((x) => x.Associations?.some((a) => a.Main))?.RouteTableId ?? 'none';
    throw new AwsStepError(
      `subnet ${s.subnetId} (${side.region}) has lost its route table association: it uses the ` +
        `VPC's main route table ${main}, which drctl does not route (it carries no drctl tag)`,
      {
        resource: s.subnetId,
        resolution:
          `The vpc stack associates it with ${s.stackTableId}. Put that back, then run the same ` +
          `command again: aws ec2 associate-route-table --region ${side.region} --subnet-id ` +
          `${s.subnetId} --route-table-id ${s.stackTableId}`,
      },
    );
  }
  return [...used.values()];
}

/**
 * What each served table of both VPCs needs. Checked for every table before any change, so a
 * conflicting route stops the step before it has half-routed the VPCs.
 */
async function planRoutes(ctx: Ctx, pcxId: string, sides: Side[]): Promise<RoutePlan[]> {
  const plan: RoutePlan[] = [];
  const conflicts: string[] = [];
  const tables = new Map<Side, RouteTable[]>();
  for (const side of sides) tables.set(side, await servedTables(ctx, side));
  for (const side of sides) {
    for (const t of tables.get(side)!) {
      const base = {
        region: side.region,
        routeTableId: t.RouteTableId!,
        destinationCidrBlock: side.peerCidr,
      };
      const existing = t.Routes?.find((r) => r.DestinationCidrBlock === side.peerCidr);
      if (!existing) plan.push({ ...base, action: 'create' });
      else if (existing.VpcPeeringConnectionId === pcxId) plan.push({ ...base, action: 'keep' });
      else if (existing.State === 'blackhole' && existing.VpcPeeringConnectionId) {
        // A route left by a peering that no longer exists (an earlier deployment): it carries no
        // traffic, so pointing it at ours takes nothing from anyone.
        plan.push({ ...base, action: 'replace', replaces: existing.VpcPeeringConnectionId });
      } else
        conflicts.push(`${t.RouteTableId} (${side.region}) routes ${side.peerCidr} to ${target(existing)}`);
    }
  }
  if (conflicts.length) {
    throw new AwsStepError(`route conflict: ${conflicts.join('; ')}`, {
      resource: conflicts[0]!.split(' ')[0],
      awsCode: 'RouteAlreadyExists',
      resolution:
        'drctl does not replace routes it did not make: remove those routes (or give the VPCs other CIDRs), then run the same command again.',
    });
  }
  return plan;
}

export async function ensureRoutes(ctx: Ctx, pcxId: string, sides: Side[]): Promise<RouteRecord[]> {
  const plan = await planRoutes(ctx, pcxId, sides);
  const done: RouteRecord[] = plan
    .filter((r) => r.action === 'keep')
    .map(({ region, routeTableId, destinationCidrBlock }) => ({
      region,
      routeTableId,
      destinationCidrBlock,
    }));
  for (const r of plan.filter((x) => x.action !== 'keep')) {
    const ec2 = ctx.aws.client(EC2Client, r.region);
    const input = {
      RouteTableId: r.routeTableId,
      DestinationCidrBlock: r.destinationCidrBlock,
      VpcPeeringConnectionId: pcxId,
    };
    ctx.progress(`route ${r.destinationCidrBlock} in ${r.routeTableId} (${r.region})`);
    if (r.action === 'replace') {
      ctx.warn(`replacing blackhole route ${r.destinationCidrBlock} -> ${r.replaces} in ${r.routeTableId}`);
      await ec2.send(new ReplaceRouteCommand(input));
    } else {
      await ec2.send(new CreateRouteCommand(input));
    }
    done.push({
      region: r.region,
      routeTableId: r.routeTableId,
      destinationCidrBlock: r.destinationCidrBlock,
    });
    ctx.record({ routes: [...done] });
  }
  return done;
}

export function byRegion(routes: RouteRecord[]): Map<string, RouteRecord[]> {
  const m = new Map<string, RouteRecord[]>();
  for (const r of routes) m.set(r.region, [...(m.get(r.region) ?? []), r]);
  return m;
}

/** The route tables in `region` with a route through the peering, whoever's VPC they are in. */
export async function tablesRoutingVia(ctx: Ctx, region: string, pcxId: string): Promise<RouteTable[]> {
  const client = ctx.aws.client(EC2Client, region);
  return collect(
    paginateDescribeRouteTables(
      { client },
      { Filters: [{ Name: 'route.vpc-peering-connection-id', Values: [pcxId] }] },
    ),
    (p) => p.RouteTables,
  );
}

/** The named tables that still exist (a missing one is skipped, not an error). */
export async function describeTables(ctx: Ctx, region: string, ids: string[]): Promise<RouteTable[]> {
  const ec2 = ctx.aws.client(EC2Client, region);
  const out: RouteTable[] = [];
  for (const id of ids) {
    try {
      const r = await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [id] }));
      out.push(...(r.RouteTables ?? []));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return out;
}

/**
 * The routes drctl added through our peering, removed before the peering so no table of ours is
 * left with a blackhole route: those in tables carrying our deployment tag (the stack's, the only
 * ones drctl routes and the policy lets it change), recorded or not (a crash between CreateRoute
 * and the record). A route through it in any other table (the main one) was added by someone
 * else: it is left, named, and turns blackhole with the peering. Routes that now point elsewhere
 * were changed by someone else and are left alone.
 */
export async function deleteRoutes(ctx: Ctx, pcxId: string): Promise<void> {
  for (const region of [ctx.region, ctx.peerRegion]) {
    const ec2 = ctx.aws.client(EC2Client, region);
    for (const t of await tablesRoutingVia(ctx, region, pcxId)) {
      const ours = isOurs(ctx, t.Tags);
      for (const r of t.Routes ?? []) {
        if (r.VpcPeeringConnectionId !== pcxId || !r.DestinationCidrBlock) continue;
        if (!ours) {
          ctx.warn(
            `left route ${r.DestinationCidrBlock} -> ${pcxId} in ${t.RouteTableId} (${region}): ` +
              "drctl did not add it (the table is not tagged as this deployment's)",
          );
          continue;
        }
        ctx.progress(`route ${r.DestinationCidrBlock} in ${t.RouteTableId} (${region})`);
        try {
          await ec2.send(
            new DeleteRouteCommand({
              RouteTableId: t.RouteTableId,
              DestinationCidrBlock: r.DestinationCidrBlock,
            }),
          );
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
  }
}
