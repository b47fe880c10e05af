import { z } from 'zod';
import { type Config, activeActive, regionsOf } from '../../config/config.js';
import type { AwsStepError } from '../../errors/errors.js';
import { notOursByName } from '../../aws/resources/ownership.js';
import { drillRecordSchema } from '../../state/drill-record.js';
import type { StepContext } from '../types.js';

// What every file of the probe step shares: its outputs and the names and regions of what it makes.

export const outputs = z.object({
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

declare module '../types.js' {
  interface StepOutputs {
    probe: ProbeOutputs;
  }
}

export type Ctx = StepContext<ProbeOutputs>;

export const probeFunctionName = (deployment: string) => `${deployment}-probe`;
export const roleNameOf = (deployment: string) => `${deployment}-probe`;
export const secondaryOf = (ctx: Ctx) => regionsOf(ctx.config)[1];
export const primaryOf = (ctx: Ctx) => regionsOf(ctx.config)[0];

/** Where the probe runs: the secondary VPC, and in active-active the primary's too. */
export const probeRegions = (config: Config): string[] => {
  const [primary, secondary] = regionsOf(config);
  return activeActive(config) ? [secondary, primary] : [secondary];
};

export const notOurs = (kind: string, name: string, ctx: Ctx): AwsStepError => notOursByName(ctx, kind, name);
