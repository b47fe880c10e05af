import {
  CreateVpcPeeringConnectionCommand,
  DeleteVpcPeeringConnectionCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { awsCode, isNotFound } from '../../aws/errors.js';
import { isOurs } from '../../aws/resources/ownership.js';
import { TAG_DEPLOYMENT } from '../../aws/tags.js';
import type { Found, StepImpl } from '../types.js';
import { DELETE_TIMEOUT_MS, LIVE, acceptAndWait, describe, findPeering, list, parse } from './connection.js';
import { type PeeringOutputs, outputs } from './outputs.js';
import {
  byRegion,
  deleteRoutes,
  describeTables,
  ensureRoutes,
  servedSubnets,
  tablesRoutingVia,
} from './routes.js';

export type { PeeringOutputs } from './outputs.js';

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

export const peering: StepImpl<PeeringOutputs> = {
  outputs,

  async up(ctx) {
    // The user's VPCs are connected already (peering, transit gateway): no connection, no route;
    // `down` then finds nothing tagged as ours to delete, and verify proves the path with the probe.
    if (ctx.config.peering === 'existing') return { ownership: 'used', routes: [] };
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
      p = parse(r.VpcPeeringConnection!, ctx);
      ctx.record({ vpcPeeringConnectionId: p.id });
    } else if (ctx.recorded.vpcPeeringConnectionId !== p.id) {
      ctx.record({ vpcPeeringConnectionId: p.id });
    }
    await acceptAndWait(ctx, p);
    const routes = await ensureRoutes(ctx, p.id, [
      { region: primary, vpcId: mine.vpcId, peerCidr: theirs.vpcCidr, subnets: servedSubnets(mine) },
      { region: secondary, vpcId: theirs.vpcId, peerCidr: mine.vpcCidr, subnets: servedSubnets(theirs) },
    ]);
    return { ownership: 'made', vpcPeeringConnectionId: p.id, routes };
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
          if (!isOurs(ctx, t.Tags)) continue;
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
