import { z } from 'zod';
import type { StepContext } from '../types.js';

const byRegion = z.record(z.string(), z.string());

export const outputs = z.object({
  /** CLOUDWATCH_METRIC check on the primary's canary alarm: a child of the primary's record check. */
  primaryHealthCheckId: z.string().uuid(),
  /** The same on the secondary's alarm when it runs a canary (canary.secondary, active-active). */
  secondaryHealthCheckId: z.string().uuid().optional(),
  /**
   * The CallerReference of each check, recorded before CreateHealthCheck: replaying it after a
   * crash returns the check that call made instead of a second one.
   */
  primaryCallerReference: z.string().optional(),
  secondaryCallerReference: z.string().optional(),
  /**
   * Per region R: the CLOUDWATCH_METRIC check on R's hold alarm (config/traffic-hold.ts), and its
   * CallerReference. Optional: a state written before the traffic hold still reads.
   */
  holdHealthCheckIds: byRegion.optional(),
  holdCallerReferences: byRegion.optional(),
  /**
   * Per region R: the CALCULATED check R's DNS record uses, healthy only while all its children
   * are (R's canary check, when R runs a canary, and R's hold check), and its CallerReference.
   */
  recordHealthCheckIds: byRegion.optional(),
  /** Per region R: the name of R's hold alarm (it lives in the other region). */
  holdAlarmNames: byRegion.optional(),
  recordCallerReferences: byRegion.optional(),
});
export type HealthCheckOutputs = z.infer<typeof outputs>;

declare module '../types.js' {
  interface StepOutputs {
    'health-check': HealthCheckOutputs;
  }
}

export type Ctx = StepContext<HealthCheckOutputs>;
