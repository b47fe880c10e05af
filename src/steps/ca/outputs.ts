import { z } from 'zod';
import type { StepContext } from '../types.js';

export const outputs = z.object({
  /** The region's root CA; null when config.certificateArn gives this region's certificate. */
  certificateAuthorityArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:acm-pca:/)
    .nullable(),
  /** The ACM certificate for *.<domain> and <host>.<domain> (private, from that CA). */
  certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:/),
  /** The certificate's NotAfter when `up` last looked (ACM moves it when it renews). */
  certificateNotAfter: z.string().datetime().optional(),
  /** ACM's RenewalEligibility for the certificate: ELIGIBLE or INELIGIBLE. */
  renewalEligibility: z.string().optional(),
  /** The CA grants acm.amazonaws.com what managed renewal needs (only for drctl's own CA). */
  renewalPermission: z.enum(['granted']).optional(),
});
export type CaOutputs = z.infer<typeof outputs>;

declare module '../types.js' {
  interface StepOutputs {
    ca: CaOutputs;
  }
}

export type Ctx = StepContext<CaOutputs>;
