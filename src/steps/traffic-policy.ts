import { z } from 'zod';
import { AwsStepError } from '../errors.js';
import type { StepImpl } from './types.js';

// STUB: the outputs below are the contract other steps code against; up/down are to be written.

const outputs = z.object({
  mode: z.enum(['failover-records', 'traffic-policy']),
  /** <host>.<domain> */
  recordName: z.string(),
  /** failover-records: the two record sets' SetIdentifiers. */
  setIdentifiers: z.array(z.string()).optional(),
  /** traffic-policy mode. */
  trafficPolicyId: z.string().optional(),
  trafficPolicyVersion: z.number().int().optional(),
  trafficPolicyInstanceId: z.string().optional(),
});
export type TrafficPolicyOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    'traffic-policy': TrafficPolicyOutputs;
  }
}

const notYet = (): never => {
  throw new AwsStepError('step traffic-policy is not implemented yet');
};

export const trafficPolicy: StepImpl<TrafficPolicyOutputs> = {
  outputs,
  up: () => Promise.resolve(notYet()),
  down: () => Promise.resolve(notYet()),
};
