import {
  CreateVpcEndpointCommand,
  DeleteVpcEndpointsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVpcEndpointsCommand,
  paginateDescribeVpcEndpoints,
  EC2Client,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isNotFound } from '../aws/errors.js';
import { EXPECTED } from '../aws/expected.js';
import { collect } from '../aws/pages.js';
import { TAG_DEPLOYMENT, TAG_REGION, isOwnedBy } from '../aws/tags.js';
import { regionConfig } from '../config/config.js';
import { AwsStepError } from '../errors/errors.js';
import type { StepContext, StepImpl } from './types.js';

// Owns: one interface VPC endpoint for com.amazonaws.<region>.execute-api per region, in that
// region's own VPC, private subnets and endpoint security group (the workshop reused region 1's
// ids for region 2: docs/design/aws-behaviour.md §12.1), with private DNS on. AWS makes one ENI per subnet for it.
// With config endpointId (issue 25) the user's endpoint is `used`: read, never changed or deleted.

const outputs = z.object({
  /** `used`: the user's endpoint (config endpointId); absent on records before issue 25: made. */
  ownership: z.enum(['made', 'used']).optional(),
  vpcEndpointId: z.string().regex(/^vpce-[0-9a-f]+$/, 'must be a VPC endpoint id like vpce-0123abcd'),
  /** Regional endpoint-specific DNS name first, then the zonal ones. */
  dnsNames: z.array(z.string()),
  networkInterfaceIds: z.array(z.string().regex(/^eni-[0-9a-f]+$/)),
  /** The private IP of every endpoint ENI (one per subnet): all become NLB targets. */
  privateIps: z.array(z.string()),
  /** CreateVpcEndpoint's ClientToken, kept from before the call so a retry after a crash reuses it. */
  clientToken: z.string().max(64).optional(),
});
export type EndpointsOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    endpoints: EndpointsOutputs;
  }
}

type Ctx = StepContext<EndpointsOutputs>;

// Interface endpoints take ~90 s (docs/design/timings.md §2); 10 minutes covers the slow tail with room.
const CREATE_TIMEOUT_MS = 10 * 60_000;
// "can take a few minutes to delete" (cloud-nuke PR #293); slow p90 is 180 s.
const DELETE_TIMEOUT_MS = 15 * 60_000;

export const serviceName = (region: string) => `com.amazonaws.${region}.execute-api`;

/**
 * The API reports endpoint states in camelCase (`available`) while the SDK's `State` enum is
 * PascalCase (https://github.com/aws/aws-sdk-go-v2/issues/2864), so compare lowercased.
 */
const stateOf = (e: VpcEndpoint) => (e.State ?? '').toLowerCase();

async function describeById(ctx: Ctx, vpcEndpointId: string): Promise<VpcEndpoint | undefined> {
  const ec2 = ctx.aws.client(EC2Client, ctx.region);
  try {
    const r = await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [vpcEndpointId] }));
    const e = r.VpcEndpoints?.[0];
    // A deleted endpoint stays listed for a while in state `deleted`: it is gone for us.
    return e && stateOf(e) !== 'deleted' ? e : undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** This deployment's execute-api endpoints in this region (by ownership tag), not deleted. */
async function describeTagged(ctx: Ctx, vpcId?: string): Promise<VpcEndpoint[]> {
  const client = ctx.aws.client(EC2Client, ctx.region);
  const found = await collect(
    paginateDescribeVpcEndpoints(
      { client },
      {
        Filters: [
          { Name: `tag:${TAG_DEPLOYMENT}`, Values: [ctx.config.deployment] },
          { Name: `tag:${TAG_REGION}`, Values: [ctx.region] },
          { Name: 'service-name', Values: [serviceName(ctx.region)] },
          ...(vpcId ? [{ Name: 'vpc-id', Values: [vpcId] }] : []),
        ],
      },
    ),
    (p) => p.VpcEndpoints,
  );
  return found.filter((e) => stateOf(e) !== 'deleted');
}

async function waitAvailable(ctx: Ctx, vpcEndpointId: string): Promise<VpcEndpoint> {
  return ctx.poll({
    what: `endpoint ${vpcEndpointId}`,
    timeoutMs: CREATE_TIMEOUT_MS,
    expect: EXPECTED['vpce.create'],
    minDelayMs: 5_000,
    maxDelayMs: 10_000,
    check: async () => {
      const e = await describeById(ctx, vpcEndpointId);
      const state = e ? stateOf(e) : 'deleted';
      if (e && state === 'available') return { done: true, value: e };
      if (state === 'pending' || state === 'pendingacceptance') return { done: false, status: state };
      throw new AwsStepError(
        `endpoint ${vpcEndpointId} is ${state}${e?.LastError?.Message ? `: ${e.LastError.Message}` : ''}`,
        {
          resource: vpcEndpointId,
          awsCode: e?.LastError?.Code ?? state,
          resolution:
            state === 'failed'
              ? 'Run `drctl down` to remove the failed endpoint (and check the VPC has DNS support and hostnames on), then `drctl up`.'
              : 'Something deleted the endpoint while drctl waited: run the same command again to make a new one.',
        },
      );
    },
  });
}

async function waitDeleted(ctx: Ctx, vpcEndpointId: string): Promise<void> {
  await ctx.poll({
    what: `endpoint ${vpcEndpointId}`,
    timeoutMs: DELETE_TIMEOUT_MS,
    minDelayMs: 5_000,
    maxDelayMs: 10_000,
    check: async () => {
      const e = await describeById(ctx, vpcEndpointId);
      return e ? { done: false, status: stateOf(e) } : { done: true, value: undefined };
    },
  });
}

/** Regional `vpce-…vpce.amazonaws.com` name first, then the zonal ones; private DNS names left out. */
function dnsNamesOf(e: VpcEndpoint): string[] {
  return (e.DnsEntries ?? [])
    .map((d) => d.DnsName ?? '')
    .filter((n) => n.endsWith('.vpce.amazonaws.com'))
    .sort((a, b) => a.split('.')[0]!.length - b.split('.')[0]!.length || a.localeCompare(b));
}

async function privateIpsOf(ctx: Ctx, networkInterfaceIds: string[]): Promise<string[]> {
  if (networkInterfaceIds.length === 0) return [];
  const ec2 = ctx.aws.client(EC2Client, ctx.region);
  const r = await ec2.send(
    new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: networkInterfaceIds }),
  );
  const byId = new Map((r.NetworkInterfaces ?? []).map((n) => [n.NetworkInterfaceId, n.PrivateIpAddress]));
  return networkInterfaceIds.map((id) => {
    const ip = byId.get(id);
    if (!ip) throw new AwsStepError(`network interface ${id} has no private IP`, { resource: id });
    return ip;
  });
}

/** The user's endpoint (checked before up: service, private DNS, VPC): waited for, recorded as used. */
async function useExisting(ctx: Ctx, id: string): Promise<EndpointsOutputs> {
  let e = await describeById(ctx, id);
  if (!e)
    throw new AwsStepError(`endpoint ${id} (config endpointId) is gone`, {
      resource: id,
      awsCode: 'InvalidVpcEndpointId.NotFound',
      resolution: 'Give endpointId an endpoint that exists, or remove it to let drctl make one.',
    });
  ctx.record({ ownership: 'used', vpcEndpointId: id });
  if (stateOf(e) !== 'available') e = await waitAvailable(ctx, id);
  const networkInterfaceIds = e.NetworkInterfaceIds ?? [];
  return {
    ownership: 'used',
    vpcEndpointId: id,
    dnsNames: dnsNamesOf(e),
    networkInterfaceIds,
    privateIps: await privateIpsOf(ctx, networkInterfaceIds),
  };
}

export const endpoints: StepImpl<EndpointsOutputs> = {
  outputs,

  async up(ctx) {
    const ec2 = ctx.aws.client(EC2Client, ctx.region);
    const vpc = await ctx.outputOf('vpc');
    ctx.progress(`endpoint for ${serviceName(ctx.region)}`);
    const usedId = regionConfig(ctx.config, ctx.region).endpointId;
    if (usedId) return useExisting(ctx, usedId);

    let e = ctx.recorded.vpcEndpointId ? await describeById(ctx, ctx.recorded.vpcEndpointId) : undefined;
    if (e && stateOf(e) === 'deleting') {
      // An interrupted `down`: its private DNS name would clash with a new endpoint's until it is gone.
      await waitDeleted(ctx, e.VpcEndpointId!);
      e = undefined;
    }
    if (e && e.VpcId !== vpc.vpcId) {
      throw new AwsStepError(
        `endpoint ${e.VpcEndpointId} is in ${e.VpcId}, not in this deployment's VPC ${vpc.vpcId}`,
        {
          resource: e.VpcEndpointId,
          resolution: 'The VPC was replaced under it: run `drctl down`, then `drctl up`.',
        },
      );
    }
    if (!e) {
      // After a crash between CreateVpcEndpoint and the state write, the tag finds it.
      const all = await describeTagged(ctx, vpc.vpcId);
      for (const x of all.filter((y) => stateOf(y) === 'deleting')) await waitDeleted(ctx, x.VpcEndpointId!);
      const tagged = all.filter((x) => stateOf(x) !== 'deleting');
      if (tagged.length > 1) {
        ctx.warn(
          `several endpoints of this deployment in ${vpc.vpcId}: using ${tagged[0]!.VpcEndpointId}, \`drctl down\` removes the others (${tagged
            .slice(1)
            .map((x) => x.VpcEndpointId)
            .join(', ')})`,
        );
      }
      e = tagged[0];
      if (e) ctx.record({ vpcEndpointId: e.VpcEndpointId! });
    }
    if (!e) {
      // The token is written to state before the call, so a re-run after a crash reuses it. Once an
      // endpoint was recorded (and is now gone), or after `down`, a fresh one: the old token would
      // answer with the deleted endpoint.
      const reuse = ctx.recorded.clientToken !== undefined && ctx.recorded.vpcEndpointId === undefined;
      const clientToken = reuse ? ctx.recorded.clientToken! : `drctl-${randomUUID()}`;
      if (!reuse) ctx.record({ clientToken });
      const r = await ec2.send(
        new CreateVpcEndpointCommand({
          VpcEndpointType: 'Interface',
          VpcId: vpc.vpcId,
          ServiceName: serviceName(ctx.region),
          SubnetIds: vpc.privateSubnetIds,
          SecurityGroupIds: [vpc.endpointSecurityGroupId],
          // Also the EC2 default; said out loud because CloudFormation's default is false (docs/design/aws-behaviour.md §6).
          PrivateDnsEnabled: true,
          ClientToken: clientToken,
          TagSpecifications: [{ ResourceType: 'vpc-endpoint', Tags: ctx.tags() }],
        }),
      );
      e = r.VpcEndpoint!;
      ctx.record({ vpcEndpointId: e.VpcEndpointId! });
    }

    const vpcEndpointId = e.VpcEndpointId!;
    if (stateOf(e) !== 'available') e = await waitAvailable(ctx, vpcEndpointId);
    const networkInterfaceIds = e.NetworkInterfaceIds ?? [];
    const dnsNames = dnsNamesOf(e);
    // The ENIs of an endpoint never change their address; re-read them only when they changed.
    const known =
      JSON.stringify(ctx.recorded.networkInterfaceIds) === JSON.stringify(networkInterfaceIds) &&
      ctx.recorded.privateIps?.length === networkInterfaceIds.length;
    const privateIps = known ? ctx.recorded.privateIps! : await privateIpsOf(ctx, networkInterfaceIds);
    if (privateIps.length < vpc.privateSubnetIds.length) {
      ctx.warn(
        `endpoint ${vpcEndpointId} has ${privateIps.length} network interface(s) for ${vpc.privateSubnetIds.length} private subnets`,
      );
    }
    return {
      ownership: 'made',
      vpcEndpointId,
      dnsNames,
      networkInterfaceIds,
      privateIps,
      ...(ctx.recorded.clientToken ? { clientToken: ctx.recorded.clientToken } : {}),
    };
  },

  async down(ctx) {
    const ec2 = ctx.aws.client(EC2Client, ctx.region);
    const ids = new Set<string>();
    // A used endpoint is the user's: only the ones drctl made (recorded as made, or tagged) go.
    if (ctx.recorded.vpcEndpointId && ctx.recorded.ownership !== 'used') {
      const e = await describeById(ctx, ctx.recorded.vpcEndpointId);
      if (e) ids.add(ctx.recorded.vpcEndpointId);
    }
    for (const e of await describeTagged(ctx)) {
      if (isOwnedBy(e.Tags, ctx.config.deployment)) ids.add(e.VpcEndpointId!);
    }
    if (ids.size === 0) return;
    const r = await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [...ids] }));
    for (const u of r.Unsuccessful ?? []) {
      const code = u.Error?.Code ?? 'UnknownError';
      if (code.endsWith('.NotFound')) continue;
      throw new AwsStepError(`cannot delete endpoint ${u.ResourceId}: ${code}: ${u.Error?.Message ?? ''}`, {
        resource: u.ResourceId,
        awsCode: code,
        resolution: 'Fix the cause named above, then run `drctl down` again.',
      });
    }
    for (const id of ids) await waitDeleted(ctx, id);
  },

  async check(ctx) {
    const id = ctx.recorded.vpcEndpointId;
    if (!id) return [];
    const e = await describeById(ctx, id);
    return e && stateOf(e) !== 'deleting' ? [] : [`endpoint ${id}`];
  },

  async discover(ctx) {
    return (await describeTagged(ctx)).map((e) => ({
      what: `endpoint ${e.VpcEndpointId} (${stateOf(e)}, ${e.VpcId})`,
      id: e.VpcEndpointId!,
    }));
  },
};
