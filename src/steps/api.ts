import { z } from 'zod';
import { AwsStepError } from '../errors.js';
import type { StepImpl } from './types.js';

// STUB: the outputs below are the contract other steps code against; up/down are to be written.

const outputs = z.object({
  restApiId: z.string().regex(/^[a-z0-9]{10}$/, 'must be a REST API id like a1b2c3d4e5'),
  name: z.string(),
  stageName: z.literal('prod'),
  /** https://{restApiId}.execute-api.{region}.amazonaws.com/prod (private DNS, inside the VPC). */
  invokeUrl: z.string().url(),
  /** https://{restApiId}-{vpceId}.execute-api.{region}.amazonaws.com/prod (no Host header needed). */
  vpceInvokeUrl: z.string().url(),
});
export type ApiOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    api: ApiOutputs;
  }
}

const notYet = (): never => {
  throw new AwsStepError('step api is not implemented yet');
};

export const api: StepImpl<ApiOutputs> = {
  outputs,
  up: () => Promise.resolve(notYet()),
  down: () => Promise.resolve(notYet()),
};
