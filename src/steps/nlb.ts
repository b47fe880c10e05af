import { z } from 'zod';
import { AwsStepError } from '../errors.js';
import type { StepImpl } from './types.js';

// STUB: the outputs below are the contract other steps code against; up/down are to be written.

const outputs = z.object({
  loadBalancerArn: z.string().regex(/^arn:aws[a-z-]*:elasticloadbalancing:/),
  loadBalancerName: z.string().max(32),
  /** internal-<name>-<id>.elb.<region>.amazonaws.com: the failover records' alias target. */
  dnsName: z.string(),
  canonicalHostedZoneId: z.string(),
  targetGroupArn: z.string().regex(/^arn:aws[a-z-]*:elasticloadbalancing:/),
  listenerArn: z.string().regex(/^arn:aws[a-z-]*:elasticloadbalancing:/),
  targetIps: z.array(z.string()),
});
export type NlbOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    nlb: NlbOutputs;
  }
}

const notYet = (): never => {
  throw new AwsStepError('step nlb is not implemented yet');
};

export const nlb: StepImpl<NlbOutputs> = {
  outputs,
  up: () => Promise.resolve(notYet()),
  down: () => Promise.resolve(notYet()),
};
