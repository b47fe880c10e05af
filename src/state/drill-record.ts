import { z } from 'zod';

/**
 * What a drill in progress changed, recorded in the state (beside the probe it runs with) before
 * each change is made, so that a drctl killed mid-drill is put right by the next `failover-test`,
 * `up` or `down`: they restore it first (src/drill/faults.ts restorePendingDrill).
 */
export const ingressRuleSchema = z
  .object({
    ipProtocol: z.string(),
    fromPort: z.number().int().optional(),
    toPort: z.number().int().optional(),
    cidrIp: z.string(),
    description: z.string().optional(),
  })
  .strict();
export type IngressRuleRecord = z.infer<typeof ingressRuleSchema>;

export const drillChangeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('health-check-inverted'), healthCheckId: z.string() }).strict(),
  z
    .object({
      kind: z.literal('ingress-revoked'),
      region: z.string(),
      groupId: z.string(),
      rules: z.array(ingressRuleSchema).min(1),
    })
    .strict(),
]);
export type DrillChange = z.infer<typeof drillChangeSchema>;

export const drillRecordSchema = z
  .object({
    mode: z.enum(['invert', 'outage']),
    startedAt: z.string(),
    changes: z.array(drillChangeSchema),
  })
  .strict();
export type DrillRecord = z.infer<typeof drillRecordSchema>;
