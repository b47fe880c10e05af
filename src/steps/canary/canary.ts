import {
  type Canary,
  CreateCanaryCommand,
  DeleteCanaryCommand,
  GetCanaryCommand,
  StartCanaryCommand,
  StopCanaryCommand,
  SyntheticsClient,
  TagResourceCommand,
  UpdateCanaryCommand,
} from '@aws-sdk/client-synthetics';
import { awsCode, isAlreadyExists, isAwsError, unlessNotFound } from '../../aws/errors.js';
import { EXPECTED, type Expectation } from '../../aws/expected.js';
import { IAM_NOT_SPREAD_YET, ROLE_PROPAGATION_TIMEOUT_MS } from '../../aws/resources/service-role.js';
import { isOwnedBy, tagMap } from '../../aws/tags.js';
import { AwsStepError } from '../../errors/errors.js';
import {
  CREATE_TIMEOUT_MS,
  type Ctx,
  STATE_TIMEOUT_MS,
  TAG_CONFIG,
  canaryCannotRunAdvice,
  names,
  notOurs,
} from './common.js';
import { chooseRuntime } from './runtime.js';
import { type CanarySpec, canaryArn, canarySettings, canarySha } from './spec.js';

// The Synthetics canary <deployment>-pri|sec (Synthetics makes its Lambda function and, in the
// VPC, its ENIs): made, changed in place, started, stopped and deleted.

export async function getCanary(ctx: Ctx, name: string): Promise<Canary | undefined> {
  return unlessNotFound(
    async () =>
      (await ctx.aws.client(SyntheticsClient, ctx.region).send(new GetCanaryCommand({ Name: name }))).Canary,
  );
}

const roleNotAssumableYet = (e: unknown) =>
  awsCode(e) === 'ValidationException' && isAwsError(e) && IAM_NOT_SPREAD_YET.test(e.message);

/**
 * A canary made from other settings, changed in place: deleting it and making it again leaves
 * minutes without a run, in which the alarm's range empties and the health check
 * (InsufficientDataHealthStatus Unhealthy) fails live traffic over. UpdateCanary changes all
 * but the name and tags (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_UpdateCanary.html);
 * a RUNNING canary stays RUNNING and the alarm, on the same CanaryName, keeps its data.
 */
async function updateCanary(ctx: Ctx, s: CanarySpec): Promise<Canary> {
  const syn = ctx.aws.client(SyntheticsClient, ctx.region);
  ctx.progress(`canary ${s.name}: changing its settings in place`);
  // Refused with ConflictException while it is starting, stopping or updating: waited out.
  await ctx.poll({
    what: `canary ${s.name}: update`,
    timeoutMs: STATE_TIMEOUT_MS,
    minDelayMs: 3_000,
    maxDelayMs: 6_000,
    retryOn: (e) => awsCode(e) === 'ConflictException',
    check: async () => {
      await retryingCreate(ctx, s.name, () =>
        syn.send(new UpdateCanaryCommand({ Name: s.name, ...canarySettings(ctx, s) })),
      );
      return { done: true, value: undefined };
    },
  });
  const updated = await ctx.poll({
    what: `canary ${s.name}`,
    timeoutMs: CREATE_TIMEOUT_MS,
    minDelayMs: 5_000,
    maxDelayMs: 10_000,
    check: async (): Promise<Waited> => {
      const now = await getCanary(ctx, s.name);
      const state = now?.Status?.State ?? 'gone';
      if (state === 'UPDATING') return { done: false, status: state };
      // A failed update rolls back and says why in StateReason (ROLLBACK_COMPLETE or
      // ROLLBACK_FAILED: https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryStatus.html).
      const failed =
        state === 'ERROR' || state === 'gone' || now?.Status?.StateReasonCode?.startsWith('ROLLBACK');
      if (failed) {
        throw new AwsStepError(
          `canary ${s.name} in ${ctx.region}: the update failed (${state}${now?.Status?.StateReason ? `: ${now.Status.StateReason}` : ''})`,
          {
            resource: `canary ${s.name}`,
            awsCode: now?.Status?.StateReasonCode ?? state,
            resolution: 'Run the same command again; if it fails the same way, fix what the reason names.',
          },
        );
      }
      return { done: true, value: now! };
    },
  });
  // Tagged last: the config tag says the settings above are in place.
  await syn.send(
    new TagResourceCommand({
      ResourceArn: canaryArn(ctx, s),
      Tags: { [TAG_CONFIG]: canarySha(ctx, s) },
    }),
  );
  ctx.record({
    canaryName: s.name,
    runtimeVersion: updated.RuntimeVersion,
    probeUrl: s.probeUrl,
    probeVia: s.probeVia,
  });
  return updated;
}

export async function createCanary(ctx: Ctx, s: CanarySpec): Promise<Canary> {
  const syn = ctx.aws.client(SyntheticsClient, ctx.region);
  const runtimeVersion = await chooseRuntime(ctx);
  ctx.progress(`canary ${s.name}: creating with ${runtimeVersion}`);
  try {
    const r = await retryingCreate(ctx, s.name, () =>
      syn.send(
        new CreateCanaryCommand({
          Name: s.name,
          ...canarySettings(ctx, s),
          RuntimeVersion: runtimeVersion,
          Tags: tagMap([...ctx.tags(), { Key: TAG_CONFIG, Value: canarySha(ctx, s) }]),
        }),
      ),
    );
    ctx.record({ canaryName: s.name, runtimeVersion, probeUrl: s.probeUrl, probeVia: s.probeVia });
    return r.Canary!;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const raced = await getCanary(ctx, s.name);
    if (!raced || !isOwnedBy(raced.Tags, ctx.config.deployment)) throw notOurs('canary', s.name, ctx);
    ctx.record({
      canaryName: s.name,
      runtimeVersion: raced.RuntimeVersion,
      probeUrl: s.probeUrl,
      probeVia: s.probeVia,
    });
    return raced;
  }
}

/**
 * CreateCanary right after CreateRole is refused until IAM has propagated the role to Lambda
 * (docs/design/timings.md row 11): retried while it says so, nothing else.
 */
function retryingCreate<T>(ctx: Ctx, name: string, call: () => Promise<T>): Promise<T> {
  // ctx.retry gives up after two minutes; the IAM window here is ROLE_PROPAGATION_TIMEOUT_MS.
  return ctx.poll({
    what: `canary ${name}: waiting for its IAM role to propagate`,
    timeoutMs: ROLE_PROPAGATION_TIMEOUT_MS,
    minDelayMs: 2_000,
    maxDelayMs: 10_000,
    retryOn: roleNotAssumableYet,
    check: async () => ({ done: true, value: await call() }),
  });
}

type Waited = { done: true; value: Canary } | { done: false; status: string };

/** Poll GetCanary until `target`; ERROR ends the wait with the reason Synthetics gives. */
async function waitCanary(
  ctx: Ctx,
  name: string,
  target: string,
  timeoutMs: number,
  fastMs: number,
  expect?: Expectation,
): Promise<Canary> {
  return ctx.poll({
    what: `canary ${name}`,
    timeoutMs,
    expect,
    minDelayMs: fastMs,
    maxDelayMs: fastMs * 2,
    check: async (): Promise<Waited> => {
      const c = await getCanary(ctx, name);
      const state = c?.Status?.State ?? 'gone';
      if (state === target) return { done: true, value: c! };
      if (state === 'ERROR' || state === 'gone') {
        // ERROR: Synthetics could not make or run its Lambda function; StateReason says why
        // (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryStatus.html).
        const reason = c?.Status?.StateReason ?? (state === 'ERROR' ? 'AWS gave no reason' : undefined);
        throw new AwsStepError(`canary ${name} in ${ctx.region} is ${state}${reason ? `: ${reason}` : ''}`, {
          resource: `canary ${name}`,
          awsCode: state,
          resolution:
            state === 'ERROR'
              ? `${canaryCannotRunAdvice(ctx.region, names(ctx).roleName, ctx.recorded.bucketName)} ` +
                'It deletes a failed canary and creates it anew.'
              : 'Run the same command again: drctl creates the canary anew.',
        });
      }
      return { done: false, status: state };
    },
  });
}

/** Stop if running, then delete with its Lambda, and wait until it is gone. */
export async function removeCanary(ctx: Ctx, name: string): Promise<void> {
  const syn = ctx.aws.client(SyntheticsClient, ctx.region);
  const conflict = (e: unknown) => awsCode(e) === 'ConflictException';
  await ctx.poll({
    what: `canary ${name}`,
    timeoutMs: CREATE_TIMEOUT_MS,
    minDelayMs: 3_000,
    maxDelayMs: 6_000,
    retryOn: conflict,
    check: async (): Promise<{ done: true; value: undefined } | { done: false; status: string }> => {
      const c = await getCanary(ctx, name);
      const state = c?.Status?.State;
      if (!state) return { done: true, value: undefined };
      if (state === 'RUNNING') {
        await syn.send(new StopCanaryCommand({ Name: name }));
        return { done: false, status: 'STOPPING' };
      }
      if (state === 'READY' || state === 'STOPPED' || state === 'ERROR') {
        // DeleteLambda: without it the function, its layer and its VPC ENIs stay behind
        // (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_DeleteCanary.html).
        await syn.send(new DeleteCanaryCommand({ Name: name, DeleteLambda: true }));
        return { done: false, status: 'DELETING' };
      }
      return { done: false, status: state };
    },
  });
}

export async function ensureCanary(ctx: Ctx, s: CanarySpec): Promise<Canary> {
  ctx.progress(`canary ${s.name}`);
  let c = await getCanary(ctx, s.name);
  if (c) {
    if (!isOwnedBy(c.Tags, ctx.config.deployment) && ctx.recorded.canaryName !== s.name) {
      throw notOurs('canary', s.name, ctx);
    }
    const state = c.Status?.State;
    const stale = c.Tags?.[TAG_CONFIG] !== canarySha(ctx, s);
    // A failed canary publishes nothing already: replacing it costs no run.
    if (state === 'ERROR' || state === 'DELETING') {
      ctx.warn(
        state === 'ERROR'
          ? `canary ${s.name} failed earlier (${c.Status?.StateReason ?? 'no reason given'}); replacing it`
          : `canary ${s.name} is being deleted; creating it anew`,
      );
      await removeCanary(ctx, s.name);
      c = undefined;
    } else if (stale) {
      ctx.warn(`canary ${s.name} probes another URL or runs other code than wanted; updating it in place`);
      c = await updateCanary(ctx, s);
    } else if (
      ctx.recorded.canaryName !== s.name ||
      ctx.recorded.probeUrl !== s.probeUrl ||
      ctx.recorded.probeVia !== s.probeVia
    ) {
      ctx.record({
        canaryName: s.name,
        runtimeVersion: c.RuntimeVersion,
        probeUrl: s.probeUrl,
        probeVia: s.probeVia,
      });
    }
  }
  return c ?? createCanary(ctx, s);
}

/** READY/STOPPED -> StartCanary -> RUNNING; transitional states are waited out. */
export async function ensureRunning(ctx: Ctx, c: Canary): Promise<Canary> {
  const name = c.Name!;
  let state = c.Status?.State;
  if (state === 'RUNNING') return c;
  if (state === 'CREATING' || state === 'UPDATING') {
    c = await waitCanary(ctx, name, 'READY', CREATE_TIMEOUT_MS, 5_000, EXPECTED['canary.create']);
    state = c.Status?.State;
  } else if (state === 'STOPPING') {
    c = await waitCanary(ctx, name, 'STOPPED', STATE_TIMEOUT_MS, 3_000);
    state = c.Status?.State;
  }
  if (state === 'READY' || state === 'STOPPED') {
    // A VPC canary can answer "not in a startable state" for a moment after READY (docs/design/timings.md [S51]).
    await ctx.retry(
      `canary ${name}: starting`,
      () => ctx.aws.client(SyntheticsClient, ctx.region).send(new StartCanaryCommand({ Name: name })),
      (e) => awsCode(e) === 'ConflictException',
    );
  }
  return waitCanary(ctx, name, 'RUNNING', STATE_TIMEOUT_MS, 3_000, EXPECTED['canary.start']);
}
