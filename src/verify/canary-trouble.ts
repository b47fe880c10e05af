import { GetCanaryCommand, GetCanaryRunsCommand, SyntheticsClient } from '@aws-sdk/client-synthetics';
import { unlessNotFound } from '../aws/errors.js';
import { outputField, recordedOutputs } from '../state/outputs.js';
import { canaryCannotRunAdvice, roleNameFor } from '../steps/canary/index.js';
import { UP, type VerifyContext } from './check.js';

// When a canary's alarm has no data, ask Synthetics why before blaming the network: the canary
// may be gone, stopped, in ERROR, or running but failing before its script starts (its Lambda
// function cannot run), which GetCanary and GetCanaryRuns say in their StateReason
// (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_GetCanary.html,
// https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_GetCanaryRuns.html).

/** A run that never reached the canary's own way out of its VPC (it timed out in the script). */
const NO_RESULT = 'No test result returned.';

/** How long a RUNNING canary may go without a run: its schedule is one a minute, plus slack. */
export const NO_RUN_GRACE_MS = 5 * 60_000;

export interface CanaryTrouble {
  text: string;
  fix: string;
}

/** What Synthetics says is wrong with `region`'s canary, or undefined when it runs its script. */
export async function canaryTrouble(
  ctx: Pick<VerifyContext, 'config' | 'state' | 'aws' | 'clock'>,
  region: string,
): Promise<CanaryTrouble | undefined> {
  const name = outputField(ctx.state, 'canary', region, 'canaryName');
  const recorded = recordedOutputs(ctx.state, 'canary', region);
  const roleName = recorded?.roleName ?? roleNameFor(ctx.config.deployment, region);
  const bucketName = recorded?.bucketName;
  const advice = canaryCannotRunAdvice(region, roleName, bucketName);
  const syn = ctx.aws.client(SyntheticsClient, region);
  const c = (await unlessNotFound(() => syn.send(new GetCanaryCommand({ Name: name }))))?.Canary;
  const canary = `canary ${name} in ${region}`;
  if (!c) return { text: `${canary} is gone: nothing feeds the alarm`, fix: UP };
  const state = c.Status?.State ?? 'unknown';
  if (state === 'ERROR') {
    return { text: `${canary} is ERROR: ${c.Status?.StateReason ?? 'AWS gives no reason'}`, fix: advice };
  }
  if (state !== 'RUNNING') {
    return {
      text: `${canary} is ${state}, not RUNNING: it runs no checks`,
      fix: 'Run `drctl up`: it starts it.',
    };
  }
  const runs = (await syn.send(new GetCanaryRunsCommand({ Name: name, MaxResults: 5 }))).CanaryRuns ?? [];
  const last = runs[0];
  if (!last) {
    const started = c.Timeline?.LastStarted?.getTime();
    if (started === undefined || ctx.clock.now() - started < NO_RUN_GRACE_MS) return undefined;
    return {
      text: `${canary} is RUNNING but has not run once since ${new Date(started).toISOString()}`,
      fix: advice,
    };
  }
  const reason = last.Status?.StateReason;
  if (last.Status?.State !== 'FAILED' || !reason || reason === NO_RESULT) return undefined;
  return { text: `${canary}: its last run FAILED: ${reason}`, fix: advice };
}

/** `status --refresh`: each region with a recorded canary whose canary Synthetics says is unwell. */
export async function canaryTroubles(
  ctx: Pick<VerifyContext, 'config' | 'state' | 'aws' | 'clock'>,
): Promise<Map<string, CanaryTrouble>> {
  const out = new Map<string, CanaryTrouble>();
  for (const region of Object.keys(ctx.state.steps.canary ?? {})) {
    if (!recordedOutputs(ctx.state, 'canary', region)?.canaryName) continue;
    const t = await canaryTrouble(ctx, region);
    if (t) out.set(region, t);
  }
  return out;
}
