import { z } from 'zod';
import { AwsStepError } from '../errors.js';
import type { StepImpl } from './types.js';

// STUB: the outputs below are the contract other steps code against; up/down are to be written.

const outputs = z.object({
  vpcEndpointId: z.string().regex(/^vpce-[0-9a-f]+$/, 'must be a VPC endpoint id like vpce-0123abcd'),
  /** Regional endpoint-specific DNS name first, then the zonal ones. */
  dnsNames: z.array(z.string()),
  networkInterfaceIds: z.array(z.string().regex(/^eni-[0-9a-f]+$/)),
  /** The private IP of every endpoint ENI (one per subnet): all become NLB targets. */
  privateIps: z.array(z.string()),
});
export type EndpointsOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    endpoints: EndpointsOutputs;
  }
}

const notYet = (): never => {
  throw new AwsStepError('step endpoints is not implemented yet');
};

export const endpoints: StepImpl<EndpointsOutputs> = {
  outputs,
  up: () => Promise.resolve(notYet()),
  down: () => Promise.resolve(notYet()),
};
