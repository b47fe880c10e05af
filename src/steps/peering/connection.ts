import {
  AcceptVpcPeeringConnectionCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeVpcPeeringConnectionsCommand,
  EC2Client,
  type Filter,
  paginateDescribeVpcPeeringConnections,
  type VpcPeeringConnection,
} from '@aws-sdk/client-ec2';
import { isNotFound } from '../../aws/errors.js';
import { collect } from '../../aws/pages.js';
import { isOurs } from '../../aws/resources/ownership.js';
import { AwsStepError } from '../../errors/errors.js';
import type { Ctx } from './outputs.js';

// The VPC peering connection: requested in the primary region, accepted in the secondary.

export interface Peering {
  id: string;
  status: string;
  message: string;
  requesterVpcId: string;
  accepterVpcId: string;
  ours: boolean;
}

export const LIVE = ['initiating-request', 'pending-acceptance', 'provisioning', 'active'];
// Cross-region requests take 15-60 s to reach the accepter region, and as long again to turn
// active after the accept (docs/design/timings.md §7); a few seconds between polls keeps the lag small.
const VISIBLE_TIMEOUT_MS = 10 * 60_000;
const ACTIVE_TIMEOUT_MS = 10 * 60_000;
export const DELETE_TIMEOUT_MS = 5 * 60_000;

export function parse(p: VpcPeeringConnection, ctx: Pick<Ctx, 'config'>): Peering {
  return {
    id: p.VpcPeeringConnectionId!,
    status: p.Status?.Code ?? 'unknown',
    message: p.Status?.Message ?? '',
    requesterVpcId: p.RequesterVpcInfo?.VpcId ?? '',
    accepterVpcId: p.AccepterVpcInfo?.VpcId ?? '',
    ours: isOurs(ctx, p.Tags),
  };
}

export async function describe(ctx: Ctx, region: string, id: string): Promise<Peering | undefined> {
  const ec2 = ctx.aws.client(EC2Client, region);
  try {
    const r = await ec2.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] }));
    const p = r.VpcPeeringConnections?.[0];
    return p ? parse(p, ctx) : undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function list(ctx: Ctx, filters: Filter[]): Promise<Peering[]> {
  const client = ctx.aws.client(EC2Client, ctx.region);
  const found = await collect(
    paginateDescribeVpcPeeringConnections({ client }, { Filters: filters }),
    (p) => p.VpcPeeringConnections,
  );
  // The status filter again, here: AWS keeps a deleted connection visible for about two hours
  // (https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-basics.html, lifecycle), and an
  // endpoint that answers without applying `status-code` (an emulator) would have drift and
  // `down --discover` count a connection that is already gone.
  const wanted = filters.find((f) => f.Name === 'status-code')?.Values;
  return found.map((p) => parse(p, ctx)).filter((p) => !wanted || wanted.includes(p.status));
}

const rank = (p: Peering) => LIVE.indexOf(p.status);

/**
 * The live connection between our two VPCs: the recorded one, else the one with our tag, else any
 * (two VPCs of this deployment are only ever peered by drctl). Extra tagged ones (which only a
 * crash between two runs racing each other could leave) are deleted so one connection remains.
 */
export async function findPeering(
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
export async function acceptAndWait(ctx: Ctx, p: Peering): Promise<void> {
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
