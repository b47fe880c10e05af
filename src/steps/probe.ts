import { CreateRoleCommand, IAMClient, PutRolePolicyCommand, TagRoleCommand } from '@aws-sdk/client-iam';
import { callProbe } from '../aws/probe-invoke.js';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  type FunctionConfiguration,
  GetFunctionCommand,
  LambdaClient,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { deleteRoleWithInlinePolicies, getRole } from '../aws/resources/service-role.js';
import { PROBE_HANDLER, PROBE_RUNTIME, type ProbeResult, probeZip } from '../assets/probe-function.js';
import type { AwsClients } from '../aws/clients.js';
import { pollUntil } from '../aws/wait.js';
import type { Clock } from '../lib/clock.js';
import { awsCode, isAwsError, isAlreadyExists, isNotFound } from '../aws/errors.js';
import { isOwnedBy, tagMap, tagValue } from '../aws/tags.js';
import { type Config, activeActive, regionsOf } from '../config/config.js';
import { drillRecordSchema } from '../state/drill-record.js';
import { AwsStepError } from '../errors/errors.js';
import type { Found, StepContext, StepImpl } from './types.js';

// Owns, in the secondary region: the Lambda function <deployment>-probe in the secondary VPC's
// private subnets (with the endpoint security group) and its IAM role <deployment>-probe; with
// topology active-active, a function of the same name in the primary VPC too (same role), so the
// drill can watch from both regions' VPCs. It is
// the failover drill's client inside the VPC (src/assets/probe-function.ts): it resolves
// <host>.<domain> through the private zone and calls /health through whichever NLB the answer
// names, trusting both regions' private CAs.
// Kept by `up` rather than made per drill: a VPC function's Hyperplane ENIs linger 20-45 minutes
// after it is deleted (docs/design/timings.md row 9), so a per-drill function would hold a following `down`
// for that long. The secondary, because that is where clients must still get answers when the
// primary is down; peering routes carry its calls to the primary NLB.

const outputs = z.object({
  functionName: z.string().regex(/^[a-zA-Z0-9-_]{1,64}$/),
  functionArn: z.string().regex(/^arn:aws[a-z-]*:lambda:/),
  /** The secondary region, where the function runs. */
  region: z.string(),
  /** Active-active: the same function in the primary VPC (the drill's second vantage point). */
  primaryProbe: z
    .object({ region: z.string(), functionArn: z.string(), codeSha256: z.string().optional() })
    .optional(),
  roleName: z.string().optional(),
  /** Lambda's CodeSha256 of the deployed zip (handler + CA bundle). */
  codeSha256: z.string().optional(),
  /** A failover drill in progress: what it changed, to be put back (src/state/drill-record.ts). */
  drill: drillRecordSchema.optional(),
});
export type ProbeOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    probe: ProbeOutputs;
  }
}

type Ctx = StepContext<ProbeOutputs>;

const IAM_REGION = 'us-east-1'; // IAM is global
const POLICY_NAME = 'drctl-probe';
const TAG_POLICY = 'drctl:config-sha';
const TIMEOUT_S = 15;
const PROBE_TIMEOUT_MS = 3_000;
// Pending while Lambda makes the VPC function's network interfaces: seconds to a few minutes.
const ACTIVE_TIMEOUT_MS = 10 * 60_000;
// IAM roles take seconds (rarely a minute) before Lambda can assume them (docs/design/timings.md row 11).
const ROLE_PROPAGATION_TIMEOUT_MS = 4 * 60_000;
const IAM_NOT_SPREAD_YET = /cannot be assumed|does not have permissions to call CreateNetworkInterface/i;
const DELETE_TIMEOUT_MS = 2 * 60_000;

export const probeFunctionName = (deployment: string) => `${deployment}-probe`;
const roleNameOf = (deployment: string) => `${deployment}-probe`;

const TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/**
 * Only the network interfaces a VPC function needs (what AWSLambdaVPCAccessExecutionRole grants,
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions),
 * and no logs:*: without CreateLogGroup, Lambda makes no log group that `down` would have to find.
 */
const ROLE_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'VpcNetworkInterfaces',
      Effect: 'Allow',
      Action: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      Resource: '*',
    },
  ],
});

const sha = (v: string) => createHash('sha256').update(v).digest('hex').slice(0, 16);
const iam = (ctx: Ctx) => ctx.aws.client(IAMClient, IAM_REGION);
const secondaryOf = (ctx: Ctx) => regionsOf(ctx.config)[1];
const primaryOf = (ctx: Ctx) => regionsOf(ctx.config)[0];
const lambda = (ctx: Ctx, region: string) => ctx.aws.client(LambdaClient, region);

/** Where the probe runs: the secondary VPC, and in active-active the primary's too. */
export const probeRegions = (config: Config): string[] => {
  const [primary, secondary] = regionsOf(config);
  return activeActive(config) ? [secondary, primary] : [secondary];
};

function notOurs(kind: string, name: string, ctx: Ctx): AwsStepError {
  return new AwsStepError(
    `${kind} ${name} exists but was not made by drctl deployment "${ctx.config.deployment}"`,
    { resource: name, resolution: `Delete or rename that ${kind}, or choose another \`deployment\` name.` },
  );
}

// ---- IAM role ------------------------------------------------------------------------------

async function ensureRole(ctx: Ctx, roleName: string): Promise<string> {
  ctx.progress(`role ${roleName}`);
  let role = await getRole(ctx, roleName);
  if (role && !isOwnedBy(role.Tags, ctx.config.deployment) && ctx.recorded.roleName !== roleName) {
    throw notOurs('IAM role', roleName, ctx);
  }
  if (!role) {
    try {
      role = (
        await iam(ctx).send(
          new CreateRoleCommand({
            RoleName: roleName,
            AssumeRolePolicyDocument: TRUST_POLICY,
            Description: `drctl ${ctx.config.deployment}: execution role of the failover probe (in the VPC of ${probeRegions(ctx.config).join(' and ')})`,
            Tags: ctx.tags(),
          }),
        )
      ).Role!;
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      role = await getRole(ctx, roleName);
      if (!role || !isOwnedBy(role.Tags, ctx.config.deployment)) throw notOurs('IAM role', roleName, ctx);
    }
  }
  if (ctx.recorded.roleName !== roleName) ctx.record({ roleName });
  // The policy's hash in a tag: a re-run reads the role once and puts nothing.
  const want = sha(ROLE_POLICY);
  if (tagValue(role.Tags, TAG_POLICY) !== want) {
    ctx.progress(`role ${roleName}: policy ${POLICY_NAME}`);
    await iam(ctx).send(
      new PutRolePolicyCommand({ RoleName: roleName, PolicyName: POLICY_NAME, PolicyDocument: ROLE_POLICY }),
    );
    await iam(ctx).send(new TagRoleCommand({ RoleName: roleName, Tags: [{ Key: TAG_POLICY, Value: want }] }));
  }
  return role.Arn!;
}

async function deleteRole(ctx: Ctx, roleName: string): Promise<void> {
  const role = await getRole(ctx, roleName);
  if (!role) return;
  if (!isOwnedBy(role.Tags, ctx.config.deployment) && ctx.recorded.roleName !== roleName) return;
  ctx.progress(`role ${roleName}`);
  await deleteRoleWithInlinePolicies(ctx, roleName);
}

// ---- the function --------------------------------------------------------------------------

interface Spec {
  name: string;
  roleArn: string;
  zip: Uint8Array;
  codeSha256: string;
  environment: Record<string, string>;
  subnetIds: string[];
  securityGroupIds: string[];
}

/** Both regions' root CA certificates, as the ca step wrote them (none for a region given certificateArn). */
function caPems(ctx: Ctx): string[] {
  return regionsOf(ctx.config)
    .map((region) => join(ctx.paths.ca, `${region}.pem`))
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p, 'utf8'));
}

async function spec(ctx: Ctx, roleArn: string, region: string): Promise<Spec> {
  const [vpc, , ca] = await Promise.all([
    ctx.outputOf('vpc', region),
    ctx.outputOf('ca', primaryOf(ctx)),
    ctx.outputOf('ca', secondaryOf(ctx)),
  ]);
  const pems = caPems(ctx);
  if (ca.certificateAuthorityArn && pems.length === 0) {
    throw new AwsStepError(`no CA certificate in ${ctx.paths.ca} for the probe to trust`, {
      resource: ctx.paths.ca,
      resolution: 'Run `drctl step ca` to write the CA certificates again, then this step.',
    });
  }
  const zip = probeZip(pems);
  return {
    name: probeFunctionName(ctx.config.deployment),
    roleArn,
    zip,
    codeSha256: createHash('sha256').update(zip).digest('base64'),
    environment: {
      PROBE_HOST: `${ctx.config.host}.${ctx.config.domain}`,
      PROBE_PATH: '/health',
      PROBE_TIMEOUT_MS: String(PROBE_TIMEOUT_MS),
    },
    subnetIds: vpc.privateSubnetIds,
    securityGroupIds: [vpc.endpointSecurityGroupId],
  };
}

async function getFunction(
  ctx: Ctx,
  name: string,
  region: string,
): Promise<{ config: FunctionConfiguration; tags: Record<string, string> } | undefined> {
  try {
    const r = await lambda(ctx, region).send(new GetFunctionCommand({ FunctionName: name }));
    return { config: r.Configuration!, tags: r.Tags ?? {} };
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

const sameSet = (a: string[] | undefined, b: string[]) =>
  JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...b].sort());

function configDiffers(c: FunctionConfiguration, s: Spec): boolean {
  return (
    c.Role !== s.roleArn ||
    c.Handler !== PROBE_HANDLER ||
    c.Runtime !== PROBE_RUNTIME ||
    c.Timeout !== TIMEOUT_S ||
    JSON.stringify(c.Environment?.Variables ?? {}) !== JSON.stringify(s.environment) ||
    !sameSet(c.VpcConfig?.SubnetIds, s.subnetIds) ||
    !sameSet(c.VpcConfig?.SecurityGroupIds, s.securityGroupIds)
  );
}

/**
 * Lambda refuses a role it cannot assume yet, and a VPC function whose role's ENI permission has
 * not spread yet (both InvalidParameterValueException), for seconds after the role or its policy
 * is made (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
 * Terraform retries both messages in its IAM window too.
 */
const roleNotAssumableYet = (e: unknown) =>
  awsCode(e) === 'InvalidParameterValueException' && isAwsError(e) && IAM_NOT_SPREAD_YET.test(e.message);
const updateInProgress = (e: unknown) => awsCode(e) === 'ResourceConflictException';

async function createFunction(ctx: Ctx, s: Spec, region: string): Promise<FunctionConfiguration> {
  ctx.progress(`function ${s.name} in ${region}`);
  try {
    // Refused until IAM has propagated a new role to Lambda (seconds, rarely a minute).
    return await ctx.poll({
      what: `function ${s.name}: role ${s.roleArn} assumable by Lambda`,
      timeoutMs: ROLE_PROPAGATION_TIMEOUT_MS,
      minDelayMs: 3_000,
      maxDelayMs: 10_000,
      retryOn: roleNotAssumableYet,
      check: async () => ({
        done: true,
        value: await lambda(ctx, region).send(
          new CreateFunctionCommand({
            FunctionName: s.name,
            Runtime: PROBE_RUNTIME,
            Role: s.roleArn,
            Handler: PROBE_HANDLER,
            Code: { ZipFile: s.zip },
            Description: `drctl ${ctx.config.deployment}: failover-test probe (resolves and calls ${s.environment.PROBE_HOST} from inside the VPC)`,
            Timeout: TIMEOUT_S,
            MemorySize: 128,
            Environment: { Variables: s.environment },
            VpcConfig: { SubnetIds: s.subnetIds, SecurityGroupIds: s.securityGroupIds },
            Tags: tagMap(ctx.tags()),
          }),
        ),
      }),
    });
  } catch (e) {
    // Lambda answers a taken name with ResourceConflictException ("Function already exist").
    if (awsCode(e) !== 'ResourceConflictException') throw e;
    const raced = await getFunction(ctx, s.name, region);
    if (!raced || !isOwnedBy(raced.tags, ctx.config.deployment))
      throw notOurs('Lambda function', s.name, ctx);
    return raced.config;
  }
}

/** Until State Active and no update in progress (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html). */
async function waitReady(ctx: Ctx, name: string, region: string): Promise<FunctionConfiguration> {
  return ctx.poll({
    what: `function ${name} Active in ${region}`,
    timeoutMs: ACTIVE_TIMEOUT_MS,
    minDelayMs: 3_000,
    maxDelayMs: 10_000,
    check: async () => {
      const f = await getFunction(ctx, name, region);
      if (!f) throw new AwsStepError(`function ${name} disappeared`, { resource: name });
      const c = f.config;
      if (c.State === 'Failed' || c.LastUpdateStatus === 'Failed') {
        throw new AwsStepError(
          `function ${name} failed: ${c.StateReason ?? c.LastUpdateStatusReason ?? ''}`,
          {
            resource: name,
            awsCode: c.StateReasonCode ?? c.LastUpdateStatusReasonCode,
            resolution:
              'Fix the cause Lambda names (often subnet IPs or ENI permissions), then run the same command again.',
          },
        );
      }
      return c.State === 'Active' && c.LastUpdateStatus !== 'InProgress'
        ? { done: true, value: c }
        : {
            done: false,
            status: `${c.State}${c.LastUpdateStatus === 'InProgress' ? ', update in progress' : ''}`,
          };
    },
  });
}

async function converge(
  ctx: Ctx,
  c: FunctionConfiguration,
  s: Spec,
  region: string,
): Promise<FunctionConfiguration> {
  let current = c;
  if (current.State !== 'Active' || current.LastUpdateStatus === 'InProgress')
    current = await waitReady(ctx, s.name, region);
  if (current.CodeSha256 !== s.codeSha256) {
    ctx.progress(`function ${s.name}: new code (CA certificates changed)`);
    await ctx.retry(
      `function ${s.name} code`,
      () => lambda(ctx, region).send(new UpdateFunctionCodeCommand({ FunctionName: s.name, ZipFile: s.zip })),
      updateInProgress,
    );
    current = await waitReady(ctx, s.name, region);
  }
  if (configDiffers(current, s)) {
    ctx.progress(`function ${s.name}: configuration`);
    await ctx.retry(
      `function ${s.name} configuration`,
      () =>
        lambda(ctx, region).send(
          new UpdateFunctionConfigurationCommand({
            FunctionName: s.name,
            Role: s.roleArn,
            Handler: PROBE_HANDLER,
            Runtime: PROBE_RUNTIME,
            Timeout: TIMEOUT_S,
            Environment: { Variables: s.environment },
            VpcConfig: { SubnetIds: s.subnetIds, SecurityGroupIds: s.securityGroupIds },
          }),
        ),
      (e) => updateInProgress(e) || roleNotAssumableYet(e),
    );
    current = await waitReady(ctx, s.name, region);
  }
  return current;
}

/** The function in `region`: found (ours) or created, then brought to the spec. */
async function ensureFunction(
  ctx: Ctx,
  s: Spec,
  region: string,
  recordCreated: (arn: string) => void,
): Promise<FunctionConfiguration> {
  ctx.progress(`function ${s.name} in ${region}`);
  const found = await getFunction(ctx, s.name, region);
  const recorded =
    region === secondaryOf(ctx) ? ctx.recorded.functionName === s.name : !!ctx.recorded.primaryProbe;
  if (found && !isOwnedBy(found.tags, ctx.config.deployment) && !recorded) {
    throw notOurs('Lambda function', s.name, ctx);
  }
  const config = found?.config ?? (await createFunction(ctx, s, region));
  recordCreated(config.FunctionArn!);
  return converge(ctx, config, s, region);
}

/** Delete the function in `region` if it is ours (recorded or tagged); gone already is fine. */
async function removeFunction(ctx: Ctx, name: string, region: string, recorded: boolean): Promise<void> {
  const f = await getFunction(ctx, name, region);
  const ours = f && (recorded || isOwnedBy(f.tags, ctx.config.deployment));
  if (!f || !ours) return;
  ctx.progress(`function ${name} in ${region}`);
  try {
    await ctx.retry(
      `function ${name} delete`,
      () => lambda(ctx, region).send(new DeleteFunctionCommand({ FunctionName: name })),
      updateInProgress,
    );
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  // Its network interfaces stay 20-45 minutes more; the vpc step's `down` waits for them.
  await ctx.poll({
    what: `function ${name} deleted in ${region}`,
    timeoutMs: DELETE_TIMEOUT_MS,
    minDelayMs: 1_000,
    maxDelayMs: 5_000,
    check: async () =>
      (await getFunction(ctx, name, region))
        ? { done: false, status: 'still there' }
        : { done: true, value: undefined },
  });
}

/** Whether to look for a probe in the primary region: active-active, or one is recorded there. */
const primaryProbeWanted = (ctx: Ctx) => activeActive(ctx.config);
const lookInPrimary = (ctx: Ctx) => primaryProbeWanted(ctx) || !!ctx.recorded.primaryProbe;

export const probe: StepImpl<ProbeOutputs> = {
  outputs,

  async up(ctx) {
    const region = secondaryOf(ctx);
    const roleName = ctx.recorded.roleName ?? roleNameOf(ctx.config.deployment);
    const roleArn = await ensureRole(ctx, roleName);
    const s = await spec(ctx, roleArn, region);
    const config = await ensureFunction(ctx, s, region, (arn) => {
      if (ctx.recorded.functionName !== s.name || ctx.recorded.functionArn !== arn)
        ctx.record({ functionName: s.name, functionArn: arn, region });
    });
    let primaryProbe: ProbeOutputs['primaryProbe'];
    const primary = primaryOf(ctx);
    if (primaryProbeWanted(ctx)) {
      const ps = await spec(ctx, roleArn, primary);
      const pc = await ensureFunction(ctx, ps, primary, (arn) => {
        if (ctx.recorded.primaryProbe?.functionArn !== arn)
          ctx.record({ primaryProbe: { region: primary, functionArn: arn } });
      });
      primaryProbe = { region: primary, functionArn: pc.FunctionArn!, codeSha256: pc.CodeSha256 };
    } else if (ctx.recorded.primaryProbe) {
      ctx.warn(`topology is active-passive: removing the probe in ${primary}`);
      await removeFunction(ctx, s.name, ctx.recorded.primaryProbe.region, true);
      ctx.record({ primaryProbe: undefined });
    }
    return {
      functionName: s.name,
      functionArn: config.FunctionArn!,
      region,
      roleName,
      codeSha256: config.CodeSha256,
      ...(primaryProbe ? { primaryProbe } : {}),
      // A drill record is the drill's to clear (it restores first); never dropped by a re-run.
      ...(ctx.recorded.drill ? { drill: ctx.recorded.drill } : {}),
    };
  },

  async down(ctx) {
    const name = ctx.recorded.functionName ?? probeFunctionName(ctx.config.deployment);
    await removeFunction(ctx, name, secondaryOf(ctx), ctx.recorded.functionName === name);
    if (lookInPrimary(ctx))
      await removeFunction(
        ctx,
        name,
        ctx.recorded.primaryProbe?.region ?? primaryOf(ctx),
        !!ctx.recorded.primaryProbe,
      );
    await deleteRole(ctx, ctx.recorded.roleName ?? roleNameOf(ctx.config.deployment));
  },

  async check(ctx) {
    const missing: string[] = [];
    if (ctx.recorded.functionName && !(await getFunction(ctx, ctx.recorded.functionName, secondaryOf(ctx))))
      missing.push(`Lambda function ${ctx.recorded.functionName}`);
    const pp = ctx.recorded.primaryProbe;
    if (pp && ctx.recorded.functionName && !(await getFunction(ctx, ctx.recorded.functionName, pp.region)))
      missing.push(`Lambda function ${ctx.recorded.functionName} in ${pp.region}`);
    if (ctx.recorded.roleName && !(await getRole(ctx, ctx.recorded.roleName)))
      missing.push(`IAM role ${ctx.recorded.roleName}`);
    return missing;
  },

  async discover(ctx): Promise<Found[]> {
    const out: Found[] = [];
    const name = probeFunctionName(ctx.config.deployment);
    const regions = [secondaryOf(ctx), ...(lookInPrimary(ctx) ? [primaryOf(ctx)] : [])];
    for (const region of regions) {
      const f = await getFunction(ctx, name, region);
      if (f && isOwnedBy(f.tags, ctx.config.deployment))
        out.push({ what: `Lambda function ${name} in ${region}`, id: name });
    }
    const roleName = roleNameOf(ctx.config.deployment);
    const role = await getRole(ctx, roleName);
    if (role && isOwnedBy(role.Tags, ctx.config.deployment))
      out.push({ what: `IAM role ${roleName}`, id: roleName });
    return out;
  },
};

// ---- the private custom domain answering (domainMode private) --------------------------------

/**
 * A private custom domain serves no traffic for about 15 minutes after it is made, nor through an
 * access association for about 15 minutes after that is made, whatever its status reads: "It takes
 * about 15 minutes for API Gateway to provision your private custom domain name"; "After you
 * create a domain name access association, it takes about 15 minutes to be ready"
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains.html).
 * `up` waits this long at most (twice that, and a margin) for the name to answer; `verify` calls
 * a failure this soon after the association was made "still provisioning".
 */
export const PRIVATE_DOMAIN_READY_TIMEOUT_MS = 45 * 60_000;
/** How long after an access association was made `verify` calls a failure "still provisioning". */
export const PRIVATE_DOMAIN_PROVISIONING_WINDOW_MS = 60 * 60_000;
export const PRIVATE_DOMAIN_WAIT_TEXT = 'private custom domain provisioning, about 15 min';

export interface AnswerWaitOptions {
  config: Config;
  /** What the state records for a step and scope. */
  recorded(step: 'probe' | 'domain', scope: string): Record<string, unknown> | undefined;
  aws: AwsClients;
  clock: Clock;
  signal?: AbortSignal;
  onProgress?: (text: string, elapsedMs: number) => void;
  /** Overrides PRIVATE_DOMAIN_READY_TIMEOUT_MS (tests). */
  timeoutMs?: number;
}

/** Ask the probe (secondary VPC) for https://<host>.<domain>/health through `via`. */
async function askProbe(
  o: AnswerWaitOptions,
  functionName: string,
  region: string,
  via: string,
): Promise<ProbeResult> {
  const { result, functionError, text } = await callProbe(o.aws, region, functionName, via);
  if (functionError || !result) {
    throw new AwsStepError(
      `probe ${functionName} failed${functionError ? ` (${functionError})` : ''}: ${text.slice(0, 200)}`,
      {
        resource: functionName,
        ...(functionError ? { awsCode: functionError } : {}),
        resolution: 'Run `drctl step probe` to deploy it again, then `drctl up`.',
      },
    );
  }
  return result;
}

/**
 * domainMode private, at the end of `up`: wait until <host>.<domain> answers /health from inside
 * the VPC (the probe) through each region's execute-api endpoint. Throws an AwsStepError saying it
 * is still provisioning when it does not answer in time.
 */
export async function waitUntilPrivateDomainAnswers(o: AnswerWaitOptions): Promise<void> {
  const name = `${o.config.host}.${o.config.domain}`;
  const probeRec = o.recorded('probe', 'global');
  const functionName = probeRec?.functionName;
  const probeRegion = probeRec?.region;
  if (typeof functionName !== 'string' || typeof probeRegion !== 'string') return;
  const pending = new Map<string, string>();
  for (const region of regionsOf(o.config)) {
    const via = o.recorded('domain', region)?.endpointDnsName;
    if (typeof via === 'string') pending.set(region, via);
  }
  const last = new Map<string, string>();
  try {
    await pollUntil({
      what: `https://${name}/ from inside the VPC`,
      clock: o.clock,
      ...(o.signal ? { signal: o.signal } : {}),
      timeoutMs: o.timeoutMs ?? PRIVATE_DOMAIN_READY_TIMEOUT_MS,
      minDelayMs: 15_000,
      maxDelayMs: 60_000,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      check: async () => {
        for (const [region, via] of [...pending]) {
          const p = await askProbe(o, functionName, probeRegion, via);
          if (p.status === 200 && p.region === region) pending.delete(region);
          else
            last.set(region, p.error ?? `${p.status ?? 'no status'}${p.region ? ` from ${p.region}` : ''}`);
        }
        if (!pending.size) return { done: true, value: undefined };
        return {
          done: false,
          status: `${PRIVATE_DOMAIN_WAIT_TEXT} (not answering yet in ${[...pending.keys()].join(' and ')})`,
        };
      },
    });
  } catch (e) {
    if (!(e instanceof AwsStepError) || e.code !== 'aws.timeout') throw e;
    const regions = [...pending.keys()];
    throw new AwsStepError(
      `the private custom domain ${name} is still provisioning: it does not answer through the endpoint in ${regions
        .map((r) => `${r} (${last.get(r) ?? 'no answer'})`)
        .join(' and ')} after ${Math.round((o.timeoutMs ?? PRIVATE_DOMAIN_READY_TIMEOUT_MS) / 60_000)} min`,
      {
        code: 'domain.provisioning',
        resource: name,
        cause: e,
        resolution:
          'AWS takes about 15 minutes to provision a private custom domain and about 15 more for an access association to be ready. ' +
          'Everything is made: run `drctl up` again later; it makes nothing again and waits for the name to answer. ' +
          'If it still does not answer, `drctl verify` shows which part of the path fails (docs/domain-modes.md).',
      },
    );
  }
}
