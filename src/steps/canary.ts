import { z } from 'zod';
import { AwsStepError } from '../errors.js';
import type { StepImpl } from './types.js';

// STUB: the outputs below are the contract other steps code against; up/down are to be written.

const outputs = z.object({
  /** false in the secondary unless config.canary.secondary: then nothing else is set. */
  enabled: z.boolean(),
  canaryName: z.string().max(21).optional(),
  alarmName: z.string().optional(),
  bucketName: z.string().optional(),
  roleName: z.string().optional(),
  runtimeVersion: z.string().optional(),
  /** What the canary probes (never the failover name). */
  probeUrl: z.string().optional(),
});
export type CanaryOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    canary: CanaryOutputs;
  }
}

const notYet = (): never => {
  throw new AwsStepError('step canary is not implemented yet');
};

export const canary: StepImpl<CanaryOutputs> = {
  outputs,
  up: () => Promise.resolve(notYet()),
  down: () => Promise.resolve(notYet()),
};
