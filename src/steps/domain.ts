import { z } from 'zod';
import { AwsStepError } from '../errors.js';
import type { StepImpl } from './types.js';

// STUB: the outputs below are the contract other steps code against; up/down are to be written.

const outputs = z.object({
  domainName: z.string(),
  mode: z.enum(['regional', 'private']),
  /** regional mode: the d-xxxx.execute-api.<region>.amazonaws.com target and its hosted zone id. */
  regionalDomainName: z.string().optional(),
  regionalHostedZoneId: z.string().optional(),
  /** private mode: the domain name's id and ARN, and the access association to our endpoint. */
  domainNameId: z.string().optional(),
  domainNameArn: z.string().optional(),
  accessAssociationArn: z.string().optional(),
  basePath: z.string(),
});
export type DomainOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    domain: DomainOutputs;
  }
}

const notYet = (): never => {
  throw new AwsStepError('step domain is not implemented yet');
};

export const domain: StepImpl<DomainOutputs> = {
  outputs,
  up: () => Promise.resolve(notYet()),
  down: () => Promise.resolve(notYet()),
};
