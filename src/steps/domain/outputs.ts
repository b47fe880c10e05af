import { z } from 'zod';
import type { StepContext } from '../types.js';

export const outputs = z.object({
  domainName: z.string(),
  mode: z.enum(['regional', 'private']),
  /** regional mode: the d-xxxx.execute-api.<region>.amazonaws.com target and its hosted zone id. */
  regionalDomainName: z.string().optional(),
  regionalHostedZoneId: z.string().optional(),
  /** private mode: the domain name's id and ARN, and the access association to our endpoint. */
  domainNameId: z.string().optional(),
  domainNameArn: z.string().optional(),
  accessAssociationArn: z.string().optional(),
  /**
   * When drctl made that association (ISO): AWS takes about 15 minutes before it carries traffic,
   * so `up` waits for the name to answer and `verify` says "still provisioning" until then.
   */
  accessAssociationCreatedAt: z.string().optional(),
  /**
   * private mode: where clients reach the domain in this region, the endpoint's regional DNS name
   * and the Route 53 zone of that name (the failover records' alias target).
   */
  endpointDnsName: z.string().optional(),
  endpointHostedZoneId: z.string().optional(),
  /** The mapping's base path: '' is the root (AWS shows it as "(none)"), so URLs are https://<domainName>/. */
  basePath: z.string(),
});
export type DomainOutputs = z.infer<typeof outputs>;

declare module '../types.js' {
  interface StepOutputs {
    domain: DomainOutputs;
  }
}

export type Ctx = StepContext<DomainOutputs>;
export type Mode = DomainOutputs['mode'];
