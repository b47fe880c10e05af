import { z } from 'zod';
import { AwsStepError } from '../errors.js';
import type { StepImpl } from './types.js';

// STUB: the outputs below are the contract other steps code against; up/down are to be written.

const outputs = z.object({
  /** The region's root CA; null when config.certificateArn gives this region's certificate. */
  certificateAuthorityArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:acm-pca:/)
    .nullable(),
  /** The ACM certificate for *.<domain> and <host>.<domain> (private, from that CA). */
  certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:/),
});
export type CaOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    ca: CaOutputs;
  }
}

const notYet = (): never => {
  throw new AwsStepError('step ca is not implemented yet');
};

export const ca: StepImpl<CaOutputs> = {
  outputs,
  up: () => Promise.resolve(notYet()),
  down: () => Promise.resolve(notYet()),
};
