import { z } from 'zod';
import { AwsStepError } from '../errors.js';
import type { StepImpl } from './types.js';

// STUB: the outputs below are the contract other steps code against; up/down are to be written.

const outputs = z.object({
  vpcPeeringConnectionId: z.string().regex(/^pcx-[0-9a-f]+$/, 'must be a peering id like pcx-0123abcd'),
  /** Every route drctl added, so `down` removes exactly those. */
  routes: z.array(
    z.object({ region: z.string(), routeTableId: z.string(), destinationCidrBlock: z.string() }),
  ),
});
export type PeeringOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    peering: PeeringOutputs;
  }
}

const notYet = (): never => {
  throw new AwsStepError('step peering is not implemented yet');
};

export const peering: StepImpl<PeeringOutputs> = {
  outputs,
  up: () => Promise.resolve(notYet()),
  down: () => Promise.resolve(notYet()),
};
