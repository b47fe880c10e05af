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
import { PROBE_HANDLER, PROBE_RUNTIME, probeZip } from '../../assets/probe-function.js';
import { awsCode, isAwsError, isNotFound } from '../../aws/errors.js';
import { IAM_NOT_SPREAD_YET, ROLE_PROPAGATION_TIMEOUT_MS } from '../../aws/resources/service-role.js';
import { isOwnedBy, tagMap } from '../../aws/tags.js';
import { regionsOf } from '../../config/config.js';
import { AwsStepError } from '../../errors/errors.js';
import { type Ctx, notOurs, primaryOf, probeFunctionName, secondaryOf } from './common.js';

// The Lambda function <deployment>-probe in a VPC's private subnets: made, brought to its spec,
// deleted.

const TIMEOUT_S = 15;
const PROBE_TIMEOUT_MS = 3_000;
// Pending while Lambda makes the VPC function's network interfaces: seconds to a few minutes.
const ACTIVE_TIMEOUT_MS = 10 * 60_000;
const DELETE_TIMEOUT_MS = 2 * 60_000;

const lambda = (ctx: Ctx, region: string) => ctx.aws.client(LambdaClient, region);

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

export async function spec(ctx: Ctx, roleArn: string, region: string): Promise<Spec> {
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

export async function getFunction(
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
export async function ensureFunction(
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
export async function removeFunction(
  ctx: Ctx,
  name: string,
  region: string,
  recorded: boolean,
): Promise<void> {
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
