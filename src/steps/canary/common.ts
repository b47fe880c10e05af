import { z } from 'zod';
import { secondaryCanary } from '../../config/config.js';
import { AwsStepError } from '../../errors/errors.js';
import { notOursByName } from '../../aws/resources/ownership.js';
import type { StepContext } from '../types.js';

// What every file of the canary step shares: its outputs, the names of what it makes, and the
// waits more than one resource sets.

export const outputs = z.object({
  /** false in the secondary unless canary.secondary or active-active: then nothing else is set. */
  enabled: z.boolean(),
  canaryName: z
    .string()
    .max(21)
    .regex(/^[0-9a-z_-]+$/, 'must be a canary name: lowercase letters, digits, - and _')
    .optional(),
  alarmName: z.string().optional(),
  bucketName: z.string().optional(),
  roleName: z.string().optional(),
  runtimeVersion: z.string().optional(),
  /** The URL the canary calls, as a client does: https://<host>.<domain>/health. */
  probeUrl: z.string().optional(),
  /**
   * Where it connects: this region's own NLB DNS name (never the failover name, which after a
   * failover answers from the other region and would let the primary's check heal itself).
   */
  probeVia: z.string().optional(),
});
export type CanaryOutputs = z.infer<typeof outputs>;
declare module '../types.js' {
  interface StepOutputs {
    canary: CanaryOutputs;
  }
}

export type Ctx = StepContext<CanaryOutputs>;

export const TAG_CONFIG = 'drctl:config-sha';
export const ARTIFACT_PREFIX = 'canary';
export const CREATE_TIMEOUT_MS = 10 * 60_000;
export const STATE_TIMEOUT_MS = 5 * 60_000;

export const canaryNameFor = (deployment: string, role: 'primary' | 'secondary') =>
  `${deployment}-${role === 'primary' ? 'pri' : 'sec'}`;
export const alarmNameFor = (deployment: string, region: string) => `${deployment}-canary-${region}`;
export const roleNameFor = (deployment: string, region: string) => `${deployment}-canary-${region}`;
export const bucketNameFor = (deployment: string, account: string, region: string) =>
  `${deployment}-canary-${account}-${region}`;

export function enabledIn(ctx: Ctx): boolean {
  return ctx.role === 'primary' || secondaryCanary(ctx.config);
}

export function names(ctx: Ctx) {
  const role = ctx.role === 'secondary' ? 'secondary' : 'primary';
  return {
    canaryName: ctx.recorded.canaryName ?? canaryNameFor(ctx.config.deployment, role),
    alarmName: ctx.recorded.alarmName ?? alarmNameFor(ctx.config.deployment, ctx.region),
    roleName: ctx.recorded.roleName ?? roleNameFor(ctx.config.deployment, ctx.region),
  };
}

export function accountOf(roleArn: string): string {
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(roleArn);
  if (!m)
    throw new AwsStepError(`cannot read the account id from role ARN ${roleArn}`, { resource: roleArn });
  return m[1]!;
}

export const notOurs = (kind: string, name: string, ctx: Ctx): AwsStepError => notOursByName(ctx, kind, name);

/**
 * What to look at when Synthetics cannot run the canary (it is in ERROR, or its runs fail before
 * the script starts): what its Lambda function needs. The run's or the canary's StateReason says
 * which (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryStatus.html,
 * https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryRunStatus.html).
 */
export function canaryCannotRunAdvice(region: string, roleName: string, bucketName?: string): string {
  return (
    `Synthetics could not run it, not the network path: check its IAM role ${roleName} ` +
    `(Lambda must assume it), its VPC subnets and security group (room for its ENIs), ` +
    `and its artifact bucket${bucketName ? ` ${bucketName}` : ''}, in ${region}; then run \`drctl up\`.`
  );
}
