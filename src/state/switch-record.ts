import { z } from 'zod';

/**
 * An incident switch (`drctl failover --to R`, or `drctl failover --drain R` in active-active),
 * recorded in the state at the top level (`state.switch`) BEFORE its first change is made, and kept
 * while it holds: `up`, `step`, `verify` and `failover-test` read it and never undo it; `failback`
 * releases it and removes it.
 * A drctl killed mid-switch finds `phase` and finishes (or releases) what it started.
 */
export const switchRecordSchema = z
  .object({
    /** `failover`: active-passive, clients answered by `to`; `drain`: active-active, `awayFrom` drained. */
    action: z.enum(['failover', 'drain']),
    /** The region(s) traffic is held away from: each one's hold alarm is tripped. */
    awayFrom: z.array(z.string()).min(1),
    /** The region clients are answered by while the switch holds. */
    to: z.string(),
    reason: z.string().min(1),
    /** The caller's ARN (STS GetCallerIdentity) that made the switch. */
    principal: z.string(),
    /** The target was not healthy and the operator said --force. */
    forced: z.boolean(),
    /** switching: the hold is being tripped; held: done; releasing: `failback` is undoing it. */
    phase: z.enum(['switching', 'held', 'releasing']),
    startedAt: z.iso.datetime(),
    /**
     * When this phase's write (the hold in `switching`, the release in `releasing`) was made and
     * heard: a resumed run does not write it again, so one switch is one write per region.
     */
    writtenAt: z.iso.datetime().optional(),
    /** When every probe (each VPC that has one) was first answered by `to` (absent until measured). */
    heldSince: z.iso.datetime().optional(),
    /** First change to every probe answered by `to`, as the drill measures it; null if not measured. */
    recoverySeconds: z.number().nullable().optional(),
  })
  .strict();
export type SwitchRecord = z.infer<typeof switchRecordSchema>;
