import {
  AcceptVpcPeeringConnectionCommand,
  CreateRouteCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteRouteCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeRouteTablesCommand,
  DescribeVpcPeeringConnectionsCommand,
  EC2Client,
  type Filter,
  paginateDescribeRouteTables,
  paginateDescribeVpcPeeringConnections,
  ReplaceRouteCommand,
  type RouteTable,
  type VpcPeeringConnection,
} from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { awsCode, isNotFound } from '../../aws/errors.js';
import { collect } from '../../aws/pages.js';
import { TAG_DEPLOYMENT, isOwnedBy } from '../../aws/tags.js';
import { AwsStepError } from '../../errors/errors.js';
import type { Found, StepContext, StepImpl } from '../types.js';
import type { VpcOutputs } from '../vpc.js';

// Owns: the VPC peering connection between the two VPCs (requested in the primary region with
// PeerRegion, accepted in the secondary region) and, in the route tables of the subnets drctl
// serves in both VPCs, the route to the other VPC's CIDR through it. CreateVpcPeeringConnection
// has no idempotency token, so an existing connection is adopted (recorded id, then our tag, then
// the VPC pair) before creating.
//
// Never the VPC's main route table: EC2 makes it with the VPC and the stack's tags never reach it
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html),
// so the policy's aws:ResourceTag condition on ec2:CreateRoute refuses it, and nothing known when
// the policy is printed (the VPC id is not) could scope a grant to this deployment's main table.
// The stack associates every subnet with a table of its own; a served subnet found on the main table
// (https://docs.aws.amazon.com/vpc/latest/userguide/RouteTables.html#MainRouteTable) stops the step.

const outputs = z.object({
  vpcPeeringConnectionId: z.string().regex(/^pcx-[0-9a-f]+$/, 'must be a peering id like pcx-0123abcd'),
  /** Every route drctl added, so `down` removes exactly those. */
  routes: z.array(
    z.object({ region: z.string(), routeTableId: z.string(), destinationCidrBlock: z.string() }),
  ),
});
export type PeeringOutputs = z.infer<typeof outputs>;

declare module '../types.js' {
  interface StepOutputs {
    peering: PeeringOutputs;
  }
}

type Ctx = StepContext<PeeringOutputs>;
type RouteRecord = PeeringOutputs['routes'][number];

interface Peering {
  id: string;
  status: string;
  message: string;
  requesterVpcId: string;
  accepterVpcId: string;
  ours: boolean;
}

/** One side of the connection: a VPC, its region, and the CIDR its tables must route to the peer. */
interface Side {
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
function servedSubnets(vpc: VpcOutputs): Side['subnets'] {
  return [
    ...vpc.privateSubnetIds.map((subnetId) => ({ subnetId, stackTableId: vpc.privateRouteTableId })),
    { subnetId: vpc.publicSubnetId, stackTableId: vpc.publicRouteTableId },
  ];
}

const LIVE = ['initiating-request', 'pending-acceptance', 'provisioning', 'active'];
// Cross-region requests take 15-60 s to reach the accepter region, and as long again to turn
// active after the accept (docs/design/timings.md §7); a few seconds between polls keeps the lag small.
const VISIBLE_TIMEOUT_MS = 10 * 60_000;
const ACTIVE_TIMEOUT_MS = 10 * 60_000;
const DELETE_TIMEOUT_MS = 5 * 60_000;

function parse(p: VpcPeeringConnection, deployment: string): Peering {
  return {
    id: p.VpcPeeringConnectionId!,
    status: p.Status?.Code ?? 'unknown',
    message: p.Status?.Message ?? '',
    requesterVpcId: p.RequesterVpcInfo?.VpcId ?? '',
    accepterVpcId: p.AccepterVpcInfo?.VpcId ?? '',
    ours: isOwnedBy(p.Tags, deployment),
  };
}

async function describe(ctx: Ctx, region: string, id: string): Promise<Peering | undefined> {
  const ec2 = ctx.aws.client(EC2Client, region);
  try {
    const r = await ec2.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] }));
    const p = r.VpcPeeringConnections?.[0];
    return p ? parse(p, ctx.config.deployment) : undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function list(ctx: Ctx, filters: Filter[]): Promise<Peering[]> {
  const client = ctx.aws.client(EC2Client, ctx.region);
  const found = await collect(
    paginateDescribeVpcPeeringConnections({ client }, { Filters: filters }),
    (p) => p.VpcPeeringConnections,
  );
  return found.map((p) => parse(p, ctx.config.deployment));
}

const rank = (p: Peering) => LIVE.indexOf(p.status);

/**
 * The live connection between our two VPCs: the recorded one, else the one with our tag, else any
 * (two VPCs of this deployment are only ever peered by drctl). Extra tagged ones (which only a
 * crash between two runs racing each other could leave) are deleted so one connection remains.
 */
async function findPeering(
  ctx: Ctx,
  primaryVpcId: string,
  secondaryVpcId: string,
): Promise<Peering | undefined> {
  const recordedId = ctx.recorded.vpcPeeringConnectionId;
  if (recordedId) {
    const p = await describe(ctx, ctx.region, recordedId);
    if (p && LIVE.includes(p.status)) return p;
    if (p)
      ctx.warn(`peering ${recordedId} is ${p.status} (${p.message}); looking for another or requesting anew`);
  }
  const found = await list(ctx, [
    { Name: 'requester-vpc-info.vpc-id', Values: [primaryVpcId] },
    { Name: 'accepter-vpc-info.vpc-id', Values: [secondaryVpcId] },
    { Name: 'status-code', Values: LIVE },
  ]);
  if (!found.length) return undefined;
  found.sort((a, b) => Number(b.ours) - Number(a.ours) || rank(b) - rank(a));
  const [keep, ...extra] = found as [Peering, ...Peering[]];
  const ec2 = ctx.aws.client(EC2Client, ctx.region);
  for (const p of extra) {
    if (!p.ours) {
      ctx.warn(`left peering ${p.id} between the same VPCs: it is not tagged as drctl's`);
      continue;
    }
    ctx.warn(`deleting duplicate peering ${p.id} (keeping ${keep.id})`);
    await ec2.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: p.id }));
  }
  return keep;
}

function failed(p: Peering): AwsStepError {
  const overlap = /overlap/i.test(p.message);
  return new AwsStepError(`peering ${p.id} is ${p.status}: ${p.message || 'no reason given'}`, {
    resource: p.id,
    awsCode: p.status,
    resolution: overlap
      ? 'The two VPC CIDRs overlap: give primary.vpcCidr and secondary.vpcCidr disjoint ranges, run `drctl down`, then `drctl up`.'
      : 'Check both VPCs exist (`drctl status --refresh`), then run the same command again: a new request is made.',
  });
}

/** Accept in the accepter region once the request is visible there, then wait for active. */
async function acceptAndWait(ctx: Ctx, p: Peering): Promise<void> {
  if (p.status === 'active') return;
  const accepter = ctx.peerRegion;
  if (p.status === 'initiating-request' || p.status === 'pending-acceptance') {
    // The request reaches the accepter region after a delay; until then it answers NotFound there
    // (https://docs.aws.amazon.com/vpc/latest/peering/create-vpc-peering-connection.html).
    const there = await ctx.poll({
      what: `peering ${p.id} pending-acceptance in ${accepter}`,
      timeoutMs: VISIBLE_TIMEOUT_MS,
      minDelayMs: 3_000,
      maxDelayMs: 5_000,
      retryOn: isNotFound,
      check: async () => {
        const seen = await describe(ctx, accepter, p.id);
        if (!seen) return { done: false, status: 'not visible yet' };
        if (seen.status === 'initiating-request') return { done: false, status: seen.status };
        if (!LIVE.includes(seen.status)) throw failed(seen);
        return { done: true, value: seen };
      },
    });
    if (there.status === 'pending-acceptance') {
      // Only the accepter region can accept a cross-region request (OperationNotPermitted elsewhere:
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AcceptVpcPeeringConnection.html).
      await ctx.aws
        .client(EC2Client, accepter)
        .send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: p.id }));
    }
  }
  await ctx.poll({
    what: `peering ${p.id} active`,
    timeoutMs: ACTIVE_TIMEOUT_MS,
    minDelayMs: 3_000,
    maxDelayMs: 5_000,
    check: async () => {
      const now = await describe(ctx, ctx.region, p.id);
      if (!now)
        throw new AwsStepError(`peering ${p.id} disappeared while being accepted`, { resource: p.id });
      if (now.status === 'active') return { done: true, value: undefined };
      if (!LIVE.includes(now.status)) throw failed(now);
      return { done: false, status: now.status };
    },
  });
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

async function ensureRoutes(ctx: Ctx, pcxId: string, sides: Side[]): Promise<RouteRecord[]> {
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

export const peering: StepImpl<PeeringOutputs> = {
  outputs,

  async up(ctx) {
    const primary = ctx.region;
    const secondary = ctx.peerRegion;
    const [mine, theirs] = await Promise.all([ctx.outputOf('vpc', primary), ctx.outputOf('vpc', secondary)]);
    ctx.progress(`peering ${mine.vpcId} (${primary}) <-> ${theirs.vpcId} (${secondary})`);
    let p = await findPeering(ctx, mine.vpcId, theirs.vpcId);
    if (!p) {
      const r = await ctx.aws.client(EC2Client, primary).send(
        new CreateVpcPeeringConnectionCommand({
          VpcId: mine.vpcId,
          PeerVpcId: theirs.vpcId,
          PeerRegion: secondary,
          TagSpecifications: [{ ResourceType: 'vpc-peering-connection', Tags: ctx.tags() }],
        }),
      );
      p = parse(r.VpcPeeringConnection!, ctx.config.deployment);
      ctx.record({ vpcPeeringConnectionId: p.id });
    } else if (ctx.recorded.vpcPeeringConnectionId !== p.id) {
      ctx.record({ vpcPeeringConnectionId: p.id });
    }
    await acceptAndWait(ctx, p);
    const routes = await ensureRoutes(ctx, p.id, [
      { region: primary, vpcId: mine.vpcId, peerCidr: theirs.vpcCidr, subnets: servedSubnets(mine) },
      { region: secondary, vpcId: theirs.vpcId, peerCidr: mine.vpcCidr, subnets: servedSubnets(theirs) },
    ]);
    return { vpcPeeringConnectionId: p.id, routes };
  },

  async down(ctx) {
    const primary = ctx.region;
    // Every live connection with our tag, not only the recorded one: a request whose answer was
    // lost (a crash, or a 5xx after AWS made it) leaves one that no state file names.
    const ids = new Set<string>();
    const recordedId = ctx.recorded.vpcPeeringConnectionId;
    if (recordedId) ids.add(recordedId);
    const tagged = await list(ctx, [
      { Name: `tag:${TAG_DEPLOYMENT}`, Values: [ctx.config.deployment] },
      { Name: 'status-code', Values: LIVE },
    ]);
    for (const p of tagged) ids.add(p.id);
    for (const id of ids) {
      await deleteRoutes(ctx, id);
      try {
        await ctx.aws
          .client(EC2Client, primary)
          .send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
      } catch (e) {
        // A failed request can't be deleted; AWS drops it by itself.
        if (!isNotFound(e) && awsCode(e) !== 'InvalidStateTransition') throw e;
      }
    }
    for (const id of ids) {
      await ctx.poll({
        what: `peering ${id} deleted`,
        timeoutMs: DELETE_TIMEOUT_MS,
        minDelayMs: 2_000,
        maxDelayMs: 5_000,
        check: async () => {
          const p = await describe(ctx, primary, id);
          if (!p || (p.status !== 'deleting' && !LIVE.includes(p.status)))
            return { done: true, value: undefined };
          return { done: false, status: p.status };
        },
      });
    }
  },

  async check(ctx) {
    const missing: string[] = [];
    const id = ctx.recorded.vpcPeeringConnectionId;
    if (id) {
      const p = await describe(ctx, ctx.region, id);
      if (!p || p.status !== 'active') missing.push(`peering ${id}${p ? ` (${p.status})` : ''}`);
    }
    for (const [region, wanted] of byRegion(ctx.recorded.routes ?? [])) {
      const tables = await describeTables(ctx, region, [...new Set(wanted.map((r) => r.routeTableId))]);
      for (const r of wanted) {
        const t = tables.find((x) => x.RouteTableId === r.routeTableId);
        const route = t?.Routes?.find((x) => x.DestinationCidrBlock === r.destinationCidrBlock);
        if (!route || route.VpcPeeringConnectionId !== id) {
          missing.push(`route ${r.destinationCidrBlock} in ${r.routeTableId} (${region})`);
        }
      }
    }
    return missing;
  },

  async discover(ctx) {
    const found: Found[] = [];
    const tagged = await list(ctx, [
      { Name: `tag:${TAG_DEPLOYMENT}`, Values: [ctx.config.deployment] },
      { Name: 'status-code', Values: LIVE },
    ]);
    for (const p of tagged) {
      found.push({
        what: `peering ${p.id} (${p.status}, ${p.requesterVpcId} <-> ${p.accepterVpcId})`,
        id: p.id,
      });
      for (const region of [ctx.region, ctx.peerRegion]) {
        for (const t of await tablesRoutingVia(ctx, region, p.id)) {
          // Only ours, as `down` deletes them: a route someone put in another table is not drctl's.
          if (!isOwnedBy(t.Tags, ctx.config.deployment)) continue;
          for (const r of t.Routes ?? []) {
            if (r.VpcPeeringConnectionId !== p.id || !r.DestinationCidrBlock) continue;
            found.push({
              what: `route ${r.DestinationCidrBlock} in ${t.RouteTableId} (${region})`,
              // As the step records routes: region, table and destination.
              id: `${region}:${t.RouteTableId}:${r.DestinationCidrBlock}`,
            });
          }
        }
      }
    }
    return found;
  },
};

function byRegion(routes: RouteRecord[]): Map<string, RouteRecord[]> {
  const m = new Map<string, RouteRecord[]>();
  for (const r of routes) m.set(r.region, [...(m.get(r.region) ?? []), r]);
  return m;
}

/** The route tables in `region` with a route through the peering, whoever's VPC they are in. */
async function tablesRoutingVia(ctx: Ctx, region: string, pcxId: string): Promise<RouteTable[]> {
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
async function describeTables(ctx: Ctx, region: string, ids: string[]): Promise<RouteTable[]> {
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
async function deleteRoutes(ctx: Ctx, pcxId: string): Promise<void> {
  for (const region of [ctx.region, ctx.peerRegion]) {
    const ec2 = ctx.aws.client(EC2Client, region);
    for (const t of await tablesRoutingVia(ctx, region, pcxId)) {
      const ours = isOwnedBy(t.Tags, ctx.config.deployment);
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
