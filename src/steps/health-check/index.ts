import { regionsOf } from '../../config/config.js';
import { holdAlarm } from '../../config/traffic-hold.js';
import { AwsStepError } from '../../errors/errors.js';
import type { Found, StepImpl } from '../types.js';
import { deleteCheck, ensureCheck, getCheck, listChecks, ownedByTag, ownedChecks } from './checks.js';
import { ensureHoldAlarm, ownedHoldAlarm, removeHoldAlarm } from './hold-alarm.js';
import { type Ctx, type HealthCheckOutputs, outputs } from './outputs.js';
import {
  type Alarm,
  type Which,
  canaryPrefix,
  canarySlot,
  entry,
  holdPrefix,
  holdSlot,
  recordPrefix,
  recordSlot,
} from './slots.js';

export type { HealthCheckOutputs } from './outputs.js';

// Owns, per region R (the primary, then the secondary):
// - the CLOUDWATCH_METRIC check on R's canary alarm, when R runs a canary (always the primary;
//   the secondary with canary.secondary or topology active-active): the one failover-test inverts;
// - R's hold alarm, in the other region, and the CLOUDWATCH_METRIC check on it (the traffic hold
//   of `drctl failover`: config/traffic-hold.ts);
// - the CALCULATED check on both, healthy only while both are: the one R's DNS record uses.

const WHICH: readonly Which[] = ['primary', 'secondary'];

/** Every order-sensitive list of slots `down`, `check` and `discover` walk, per region. */
function regionSlots(ctx: Ctx) {
  return regionsOf(ctx.config).map((region) => ({
    region,
    hold: {
      id: entry(ctx, 'holdHealthCheckIds', region).get,
      ref: entry(ctx, 'holdCallerReferences', region).get,
      prefix: holdPrefix(ctx, region),
    },
    record: {
      id: entry(ctx, 'recordHealthCheckIds', region).get,
      ref: entry(ctx, 'recordCallerReferences', region).get,
      prefix: recordPrefix(ctx, region),
    },
  }));
}
const canaryKeys = (ctx: Ctx, which: Which) => ({
  id: () => ctx.recorded[`${which}HealthCheckId`],
  ref: () => ctx.recorded[`${which}CallerReference`],
  prefix: canaryPrefix(ctx, which),
});

async function alarmOf(ctx: Ctx, region: string): Promise<Alarm | undefined> {
  const c = await ctx.outputOf('canary', region);
  if (!c.enabled) return undefined;
  if (!c.alarmName) {
    throw new AwsStepError(`the canary step in ${region} recorded no alarm`, {
      resource: `canary alarm in ${region}`,
      resolution: `Run \`drctl step canary --region ${region}\`, then this step again.`,
    });
  }
  return { Name: c.alarmName, Region: region };
}

export const healthCheck: StepImpl<HealthCheckOutputs> = {
  outputs,

  async up(ctx) {
    const regions = regionsOf(ctx.config);
    const [primary, secondary] = regions;
    const primaryAlarm = await alarmOf(ctx, primary);
    if (!primaryAlarm) {
      throw new AwsStepError(`the canary step did not run in the primary region ${primary}`, {
        resource: `canary in ${primary}`,
        resolution: `Run \`drctl step canary --region ${primary}\` first.`,
      });
    }
    const canaryIds: Partial<Record<Which, string>> = {
      primary: await ensureCheck(ctx, canarySlot(ctx, 'primary', primaryAlarm)),
    };
    const secondaryAlarm = await alarmOf(ctx, secondary);
    if (secondaryAlarm)
      canaryIds.secondary = await ensureCheck(ctx, canarySlot(ctx, 'secondary', secondaryAlarm));
    for (const [i, region] of regions.entries()) {
      await ensureHoldAlarm(ctx, region);
      const hold = await ensureCheck(ctx, holdSlot(ctx, region));
      const canary = canaryIds[WHICH[i]!];
      await ensureCheck(ctx, recordSlot(ctx, region, canary ? [canary, hold] : [hold]));
    }
    // After the record checks: the secondary's canary check was a child of its record check until
    // the line above, and Route 53 refuses to delete a check a calculated one uses.
    if (!secondaryAlarm && (ctx.recorded.secondaryHealthCheckId || ctx.recorded.secondaryCallerReference)) {
      ctx.warn('the secondary runs no canary now: deleting the secondary health check');
      for (const id of await ownedChecks(ctx, canaryKeys(ctx, 'secondary'))) await deleteCheck(ctx, id);
      ctx.record({ secondaryHealthCheckId: undefined, secondaryCallerReference: undefined });
    }
    const r = ctx.recorded;
    return {
      primaryHealthCheckId: r.primaryHealthCheckId!,
      primaryCallerReference: r.primaryCallerReference,
      ...(r.secondaryHealthCheckId
        ? {
            secondaryHealthCheckId: r.secondaryHealthCheckId,
            secondaryCallerReference: r.secondaryCallerReference,
          }
        : {}),
      holdHealthCheckIds: r.holdHealthCheckIds,
      holdCallerReferences: r.holdCallerReferences,
      recordHealthCheckIds: r.recordHealthCheckIds,
      recordCallerReferences: r.recordCallerReferences,
      holdAlarmNames: r.holdAlarmNames,
    };
  },

  // traffic-policy's down runs first (it comes after this step in the graph), so no record still
  // routes on these checks when they go. Then parents before children (Route 53 refuses to delete
  // a child of a calculated check), and the hold alarms last (a hold check names its alarm).
  async down(ctx) {
    const slots = regionSlots(ctx);
    for (const s of slots) for (const id of await ownedChecks(ctx, s.record)) await deleteCheck(ctx, id);
    for (const s of slots) for (const id of await ownedChecks(ctx, s.hold)) await deleteCheck(ctx, id);
    for (const which of WHICH) {
      for (const id of await ownedChecks(ctx, canaryKeys(ctx, which))) await deleteCheck(ctx, id);
    }
    for (const s of slots) await removeHoldAlarm(ctx, s.region);
  },

  async check(ctx) {
    const missing: string[] = [];
    for (const which of WHICH) {
      const id = ctx.recorded[`${which}HealthCheckId`];
      if (id && !(await getCheck(ctx, id))) missing.push(`health check ${id} (${which})`);
    }
    for (const s of regionSlots(ctx)) {
      for (const [kind, slot] of [
        ['hold', s.hold],
        ['record', s.record],
      ] as const) {
        const id = slot.id();
        if (id && !(await getCheck(ctx, id))) missing.push(`health check ${id} (${kind} ${s.region})`);
      }
    }
    return missing;
  },

  /** Checks with this deployment's CallerReference prefixes and tag, and its hold alarms. */
  async discover(ctx) {
    const found: Found[] = [];
    const checks = await listChecks(ctx);
    const prefixes: Array<[string, string]> = [
      ...WHICH.map((w): [string, string] => [w, canaryPrefix(ctx, w)]),
      ...regionsOf(ctx.config).flatMap((r): Array<[string, string]> => [
        [`hold ${r}`, holdPrefix(ctx, r)],
        [`record ${r}`, recordPrefix(ctx, r)],
      ]),
    ];
    for (const [label, prefix] of prefixes) {
      for (const c of checks.filter((x) => x.CallerReference?.startsWith(prefix))) {
        if (!(await ownedByTag(ctx, c.Id!))) continue;
        const alarm = c.HealthCheckConfig?.AlarmIdentifier;
        found.push({
          what: `health check ${c.Id} (${label}${alarm ? `, alarm ${alarm.Name} in ${alarm.Region}` : ''})`,
          id: c.Id!,
        });
      }
    }
    for (const r of regionsOf(ctx.config)) {
      const a = await ownedHoldAlarm(ctx, r);
      if (a)
        found.push({
          what: `alarm ${a.AlarmName} in ${holdAlarm(ctx.config, r).region} (hold ${r})`,
          id: a.AlarmName!,
        });
    }
    return found;
  },
};
