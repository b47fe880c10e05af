import { z } from 'zod';
import { AwsStepError } from '../errors.js';
import type { StepImpl } from './types.js';

// STUB: the outputs below are the contract other steps code against; up/down are to be written.

const outputs = z.object({
  hostedZoneId: z.string().regex(/^Z[A-Z0-9]+$/, 'must be a Route 53 hosted zone id like Z0123ABC'),
  zoneName: z.string(),
  callerReference: z.string(),
  vpcs: z.array(z.object({ region: z.string(), vpcId: z.string() })),
});
export type HostedZoneOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    'hosted-zone': HostedZoneOutputs;
  }
}

const notYet = (): never => {
  throw new AwsStepError('step hosted-zone is not implemented yet');
};

export const hostedZone: StepImpl<HostedZoneOutputs> = {
  outputs,
  up: () => Promise.resolve(notYet()),
  down: () => Promise.resolve(notYet()),
};
