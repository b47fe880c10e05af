import { z } from 'zod';
import { AwsStepError } from '../errors.js';
import type { StepImpl } from './types.js';

// STUB: the outputs below are the contract other steps code against; up/down are to be written.

const outputs = z.object({
  /** CLOUDWATCH_METRIC check on the primary's canary alarm: the PRIMARY record's health check. */
  primaryHealthCheckId: z.string().uuid(),
  /** The same on the secondary's alarm when config.canary.secondary (a fail-back signal). */
  secondaryHealthCheckId: z.string().uuid().optional(),
});
export type HealthCheckOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    'health-check': HealthCheckOutputs;
  }
}

const notYet = (): never => {
  throw new AwsStepError('step health-check is not implemented yet');
};

export const healthCheck: StepImpl<HealthCheckOutputs> = {
  outputs,
  up: () => Promise.resolve(notYet()),
  down: () => Promise.resolve(notYet()),
};
