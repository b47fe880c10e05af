import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
  paginateDescribeStackEvents,
  type Stack,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { EC2Client, paginateDescribeNetworkInterfaces } from '@aws-sdk/client-ec2';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isNotFound } from '../aws/errors.js';
import { EXPECTED, type Expectation } from '../aws/expected.js';
import { collect, findInPages } from '../aws/pages.js';
import { isOwnedBy, tagValue } from '../aws/tags.js';
import { regionConfig } from '../config/config.js';
import { AwsStepError } from '../errors/errors.js';
import type { StepContext, StepImpl } from './types.js';

// Owns: the CloudFormation stack <deployment>-vpc per region, made from templates/vpc.template.json
// (VPC, subnets, IGW, route tables, the S3 gateway and CloudWatch monitoring interface endpoints
// the canary publishes through, endpoint SG, client instance; a NAT gateway with config natGateway).
// With config vpcId (the user's VPC, issue 25) the stack holds only the endpoint security group,
// made in that VPC from templates/vpc-used.template.json; the VPC and subnets are `used`, never
// changed, and the stack's delete takes only the group.

const id = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}-[0-9a-f]+$`), `must be an id like ${prefix}-0123abcd`);
const outputs = z.object({
  stackId: z.string().regex(/^arn:aws[a-z-]*:cloudformation:/, 'must be a CloudFormation stack ARN'),
  stackName: z.string().min(1),
  vpcId: id('vpc'),
  vpcCidr: z.string(),
  /** `used`: the VPC and subnets are the user's (config vpcId); absent on records before issue 25: made. */
  ownership: z.enum(['made', 'used']).optional(),
  /** The next four: only in a VPC drctl made. */
  publicSubnetId: id('subnet').optional(),
  privateSubnetIds: z.array(id('subnet')).min(1),
  publicRouteTableId: id('rtb').optional(),
  privateRouteTableId: id('rtb').optional(),
  endpointSecurityGroupId: id('sg'),
  clientInstanceId: id('i').optional(),
  /** The canary's way out that survives one AZ: S3 (artifacts) through a gateway endpoint... */
  s3EndpointId: id('vpce').optional(),
  /** ...and CloudWatch metrics through a `monitoring` interface endpoint in both private subnets. */
  monitoringEndpointId: id('vpce').optional(),
  /** Only with config natGateway: a NAT gateway in the public subnet's AZ for the private subnets. */
  natGatewayId: id('nat').optional(),
  /**
   * CreateStack's ClientRequestToken, recorded before the call: a retry after a crash sends the
   * same one (and gets the same stack); a new create after `down` gets a new one, since CloudFormation
   * answers a reused token with the stack it made for it, even a deleted one.
   */
  createToken: z.string().optional(),
});
export type VpcOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    vpc: VpcOutputs;
  }
}

type Ctx = StepContext<VpcOutputs>;

const TEMPLATE_URL = new URL('../../templates/vpc.template.json', import.meta.url);
const USED_TEMPLATE_URL = new URL('../../templates/vpc-used.template.json', import.meta.url);
const TAG_TEMPLATE = 'drctl:template-sha';
const CREATE_TIMEOUT_MS = 30 * 60_000;
// Lambda (canary) Hyperplane ENIs can take 20-45 minutes to go after the canary is deleted
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-enis).
const ENI_DRAIN_TIMEOUT_MS = 60 * 60_000;
// ENIs that other services put in our subnets; while one exists the stack cannot delete them.
const FOREIGN_ENI = /^(AWS Lambda VPC ENI|ELB |VPC Endpoint Interface)/;

export const stackName = (ctx: Pick<Ctx, 'config'>) => `${ctx.config.deployment}-vpc`;

function templateBody(ctx: Ctx): string {
  return readFileSync(regionConfig(ctx.config, ctx.region).vpcId ? USED_TEMPLATE_URL : TEMPLATE_URL, 'utf8');
}

function parameters(ctx: Ctx, keyName: string) {
  const mine = regionConfig(ctx.config, ctx.region);
  const peer = regionConfig(ctx.config, ctx.peerRegion);
  if (mine.vpcId)
    return [
      { ParameterKey: 'VpcId', ParameterValue: mine.vpcId },
      { ParameterKey: 'VpcCidr', ParameterValue: mine.vpcCidr },
      { ParameterKey: 'PeerVpcCidr', ParameterValue: peer.vpcCidr },
    ];
  return [
    { ParameterKey: 'VpcCidr', ParameterValue: mine.vpcCidr },
    { ParameterKey: 'PeerVpcCidr', ParameterValue: peer.vpcCidr },
    { ParameterKey: 'KeyName', ParameterValue: keyName },
    { ParameterKey: 'SshCidr', ParameterValue: ctx.config.sshCidr ?? '' },
    { ParameterKey: 'InstanceType', ParameterValue: ctx.config.clientInstanceType },
    { ParameterKey: 'NatGatewayEnabled', ParameterValue: String(ctx.config.natGateway) },
  ];
}

/** One hash of template and parameters: a stack whose tag matches needs no update. */
function desiredSha(body: string, params: Array<{ ParameterKey: string; ParameterValue: string }>): string {
  return createHash('sha256').update(body).update(JSON.stringify(params)).digest('hex').slice(0, 16);
}

async function describe(ctx: Ctx, nameOrId: string): Promise<Stack | undefined> {
  const cfn = ctx.aws.client(CloudFormationClient, ctx.region);
  try {
    const r = await cfn.send(new DescribeStacksCommand({ StackName: nameOrId }));
    const s = r.Stacks?.[0];
    return s?.StackStatus === 'DELETE_COMPLETE' ? undefined : s;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function waitStack(
  ctx: Ctx,
  stackId: string,
  target: RegExp,
  verb: string,
  timeoutMs: number,
  expect?: Expectation,
): Promise<Stack> {
  return ctx.poll({
    what: `stack ${stackName(ctx)}`,
    timeoutMs,
    expect,
    minDelayMs: 5_000,
    maxDelayMs: 10_000,
    check: async () => {
      const s = await describe(ctx, stackId);
      const status = s?.StackStatus ?? 'DELETE_COMPLETE';
      if (target.test(status)) return { done: true, value: s! };
      if (!status.endsWith('_IN_PROGRESS') || status.includes('ROLLBACK')) {
        throw new AwsStepError(
          `stack ${stackName(ctx)} ${verb} failed: ${status} ${await failureReason(ctx, stackId, s)}`,
          {
            resource: stackName(ctx),
            awsCode: status,
            resolution:
              'See the stack events in the CloudFormation console; fix the cause and run the same command again.',
          },
        );
      }
      return { done: false, status };
    },
  });
}

/** The first failed resource event, in words: what blocks the stack. */
async function failureReason(ctx: Ctx, stackId: string, s: Stack | undefined): Promise<string> {
  const cfn = ctx.aws.client(CloudFormationClient, ctx.region);
  try {
    const ev = await findInPages(
      paginateDescribeStackEvents({ client: cfn }, { StackName: stackId }),
      (p) => p.StackEvents,
      (e) => e.ResourceStatus?.endsWith('_FAILED') ?? false,
    );
    if (ev) return `(${ev.LogicalResourceId}: ${ev.ResourceStatusReason ?? 'no reason given'})`;
  } catch {
    // the reason is a courtesy; the status already says it failed
  }
  return s?.StackStatusReason ? `(${s.StackStatusReason})` : '';
}

function readOutputs(ctx: Ctx, s: Stack): VpcOutputs {
  const out: Record<string, string> = Object.fromEntries(
    (s.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
  );
  const need = (k: string) => {
    const v = out[k];
    if (!v) throw new AwsStepError(`stack ${s.StackName} has no output ${k}`, { resource: s.StackName });
    return v;
  };
  const used = regionConfig(ctx.config, ctx.region);
  if (used.vpcId)
    return {
      stackId: s.StackId!,
      stackName: s.StackName!,
      ownership: 'used',
      vpcId: used.vpcId,
      vpcCidr: used.vpcCidr,
      privateSubnetIds: used.subnetIds!,
      endpointSecurityGroupId: need('EndpointSecurityGroupId'),
    };
  return {
    stackId: s.StackId!,
    stackName: s.StackName!,
    ownership: 'made',
    vpcId: need('VpcId'),
    vpcCidr: need('VpcCidr'),
    publicSubnetId: need('PublicSubnetId'),
    privateSubnetIds: need('PrivateSubnetIds').split(','),
    publicRouteTableId: need('PublicRouteTableId'),
    privateRouteTableId: need('PrivateRouteTableId'),
    endpointSecurityGroupId: need('EndpointSecurityGroupId'),
    clientInstanceId: need('ClientInstanceId'),
    s3EndpointId: out.S3GatewayEndpointId || undefined,
    monitoringEndpointId: out.MonitoringEndpointId || undefined,
    // Explicitly undefined once natGateway is turned off: the record forgets it.
    natGatewayId: out.NatGatewayId || undefined,
  };
}

/** `ownEndpoints`: the stack's own interface endpoints, whose ENIs CloudFormation deletes with it. */
async function foreignEnis(ctx: Ctx, vpcId: string, ownEndpoints: string[] = []): Promise<string[]> {
  const client = ctx.aws.client(EC2Client, ctx.region);
  const enis = await collect(
    paginateDescribeNetworkInterfaces({ client }, { Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    (p) => p.NetworkInterfaces,
  );
  return enis
    .filter((n) => FOREIGN_ENI.test(n.Description ?? ''))
    .filter((n) => !ownEndpoints.some((id) => n.Description === `VPC Endpoint Interface ${id}`))
    .map((n) => `${n.NetworkInterfaceId} (${n.Description})`);
}

/** Wait, with visible progress, until no other service's ENI sits in the VPC. */
async function drainEnis(ctx: Ctx, vpcId: string, ownEndpoints: string[]): Promise<void> {
  await ctx.poll({
    what: `network interfaces in ${vpcId}`,
    timeoutMs: ENI_DRAIN_TIMEOUT_MS,
    minDelayMs: 15_000,
    maxDelayMs: 60_000,
    check: async () => {
      const left = await foreignEnis(ctx, vpcId, ownEndpoints);
      if (left.length === 0) return { done: true, value: undefined };
      return {
        done: false,
        status: `${left.length} still attached, AWS releases them itself (Lambda ENIs can take 20-45 min): ${left.join(', ')}`,
      };
    },
  });
}

export const vpc: StepImpl<VpcOutputs> = {
  outputs,

  async up(ctx) {
    const cfn = ctx.aws.client(CloudFormationClient, ctx.region);
    const name = stackName(ctx);
    const { keyName } = await ctx.outputOf('keypairs');
    const body = templateBody(ctx);
    const params = parameters(ctx, keyName);
    const sha = desiredSha(body, params);
    const updateToken = `drctl-${ctx.config.deployment}-${sha}`;
    ctx.progress(`stack ${name}`);
    let s = await describe(ctx, ctx.recorded.stackId ?? name);
    if (s && !isOwnedBy(s.Tags, ctx.config.deployment)) {
      throw new AwsStepError(
        `stack ${name} in ${ctx.region} exists but was not made by drctl deployment "${ctx.config.deployment}"`,
        {
          resource: name,
          resolution: 'Delete or rename that stack, or choose another `deployment` name.',
        },
      );
    }
    if (s?.StackStatus === 'ROLLBACK_COMPLETE') {
      // A failed first create can only be deleted (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-update-rollback-failed).
      ctx.warn(
        `stack ${name} failed to create earlier ${await failureReason(ctx, s.StackId!, s)}; deleting it to start over`,
      );
      await cfn.send(new DeleteStackCommand({ StackName: s.StackId }));
      await waitStack(
        ctx,
        s.StackId!,
        /^DELETE_COMPLETE$/,
        'delete',
        CREATE_TIMEOUT_MS,
        EXPECTED['stack.delete'],
      );
      s = undefined;
    }
    const tags = [...ctx.tags(), { Key: TAG_TEMPLATE, Value: sha }];
    if (!s) {
      const createToken = ctx.recorded.createToken ?? `drctl-${ctx.config.deployment}-${randomUUID()}`;
      if (ctx.recorded.createToken !== createToken) ctx.record({ createToken });
      const r = await cfn.send(
        new CreateStackCommand({
          StackName: name,
          TemplateBody: body,
          Parameters: params,
          Tags: tags,
          ClientRequestToken: createToken,
          OnFailure: 'ROLLBACK',
        }),
      );
      ctx.record({ stackId: r.StackId!, stackName: name });
      s = await waitStack(
        ctx,
        r.StackId!,
        /^CREATE_COMPLETE$/,
        'create',
        CREATE_TIMEOUT_MS,
        EXPECTED['stack.create'],
      );
    } else if (/_IN_PROGRESS$/.test(s.StackStatus ?? '') && !s.StackStatus!.startsWith('DELETE')) {
      if (ctx.recorded.stackId !== s.StackId) ctx.record({ stackId: s.StackId!, stackName: name });
      s = await waitStack(ctx, s.StackId!, /^(CREATE|UPDATE)_COMPLETE$/, 'create', CREATE_TIMEOUT_MS);
    } else if (/^DELETE_/.test(s.StackStatus ?? '')) {
      throw new AwsStepError(`stack ${name} is ${s.StackStatus}`, {
        resource: name,
        awsCode: s.StackStatus,
        resolution: 'Finish the teardown first: run `drctl down`, then `drctl up`.',
      });
    }
    if (tagValue(s.Tags, TAG_TEMPLATE) !== sha) {
      ctx.progress(`stack ${name}: updating to the current template and parameters`);
      await cfn.send(
        new UpdateStackCommand({
          StackName: s.StackId,
          TemplateBody: body,
          Parameters: params,
          Tags: tags,
          ClientRequestToken: updateToken,
        }),
      );
      s = await waitStack(
        ctx,
        s.StackId!,
        /^UPDATE_COMPLETE$/,
        'update',
        CREATE_TIMEOUT_MS,
        EXPECTED['stack.update'],
      );
    }
    return readOutputs(ctx, s);
  },

  async down(ctx) {
    const cfn = ctx.aws.client(CloudFormationClient, ctx.region);
    const name = stackName(ctx);
    const s = await describe(ctx, ctx.recorded.stackId ?? name);
    if (!s) return;
    if (!isOwnedBy(s.Tags, ctx.config.deployment) && s.StackId !== ctx.recorded.stackId) {
      ctx.warn(`left stack ${name}: it is not drctl's`);
      return;
    }
    const vpcId = s.Outputs?.find((o) => o.OutputKey === 'VpcId')?.OutputValue;
    const ownEndpoints = (s.Outputs ?? [])
      .filter((o) => o.OutputKey === 'MonitoringEndpointId' && o.OutputValue)
      .map((o) => o.OutputValue!);
    // DeleteStack first, without waiting for the network interfaces other services leave in our
    // subnets (the canary's and the probe's Lambda ENIs linger 20-45 min after their functions
    // go). CloudFormation deletes in reverse dependency order and tries the subnets and security
    // groups last, so the instance, NAT gateway, endpoints, routes and gateway go while Lambda
    // releases its ENIs; if the subnets still hold one, the stack ends DELETE_FAILED with only the
    // VPC, subnets and groups left, and a second DeleteStack retries just those
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-delete-stack-fails).
    // Waiting for the ENIs before the first DeleteStack put the whole stack delete after them.
    let drainFirst = s.StackStatus === 'DELETE_FAILED';
    for (let attempt = 1; ; attempt++) {
      if (drainFirst && vpcId) await drainEnis(ctx, vpcId, ownEndpoints);
      await cfn.send(new DeleteStackCommand({ StackName: s.StackId }));
      try {
        const expect = drainFirst ? EXPECTED['stack.deleteNetwork'] : EXPECTED['stack.delete'];
        await waitStack(ctx, s.StackId!, /^DELETE_COMPLETE$/, 'delete', CREATE_TIMEOUT_MS, expect);
        return;
      } catch (e) {
        // DELETE_FAILED on an ENI still in a subnet or group: wait until AWS released every one,
        // then delete the rest; a few times (an ENI may appear after our check) before giving up.
        if (attempt >= 4 || !(e instanceof AwsStepError) || e.context.awsCode !== 'DELETE_FAILED') throw e;
        const text = `${e.message}; waiting for those network interfaces to be released, then deleting the rest`;
        if (attempt === 1 && !drainFirst) ctx.info(text);
        else ctx.warn(text);
        drainFirst = true;
      }
    }
  },

  async check(ctx) {
    const s = await describe(ctx, ctx.recorded.stackId ?? stackName(ctx));
    return s ? [] : [`stack ${ctx.recorded.stackName ?? stackName(ctx)}`];
  },

  async discover(ctx) {
    const s = await describe(ctx, stackName(ctx));
    if (!s || !isOwnedBy(s.Tags, ctx.config.deployment)) return [];
    return [{ what: `stack ${s.StackName} (${s.StackStatus})`, id: s.StackId! }];
  },
};
