import { z } from 'zod';
import type { StepContext } from '../types.js';

export const outputs = z.object({
  mode: z.enum(['failover-records', 'traffic-policy']),
  /** <host>.<domain> */
  recordName: z.string(),
  /** failover-records: the two record sets' SetIdentifiers. */
  setIdentifiers: z.array(z.string()).optional(),
  /** traffic-policy mode. */
  trafficPolicyId: z.string().optional(),
  trafficPolicyVersion: z.number().int().optional(),
  trafficPolicyInstanceId: z.string().optional(),
  /** The private zone the records are in (so `down` finds them without the hosted-zone record). */
  hostedZoneId: z.string().optional(),
});
export type TrafficPolicyOutputs = z.infer<typeof outputs>;

declare module '../types.js' {
  interface StepOutputs {
    'traffic-policy': TrafficPolicyOutputs;
  }
}

export type Ctx = StepContext<TrafficPolicyOutputs>;
