import { z } from 'zod';
import type { StepContext } from '../types.js';

export const outputs = z.object({
  /** `used`: config peering "existing", the VPCs are connected already; drctl made nothing here. */
  ownership: z.enum(['made', 'used']).optional(),
  /** Absent with peering "existing". */
  vpcPeeringConnectionId: z
    .string()
    .regex(/^pcx-[0-9a-f]+$/, 'must be a peering id like pcx-0123abcd')
    .optional(),
  /** Every route drctl added, so `down` removes exactly those. */
  routes: z.array(
    z.object({ region: z.string(), routeTableId: z.string(), destinationCidrBlock: z.string() }),
  ),
});
export type PeeringOutputs = z.infer<typeof outputs>;

declare module '../types.js' {
  interface StepOutputs {
    peering: PeeringOutputs;
  }
}

export type Ctx = StepContext<PeeringOutputs>;
export type RouteRecord = PeeringOutputs['routes'][number];
