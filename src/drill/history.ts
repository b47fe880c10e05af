import { z } from 'zod';
import type { Config } from '../config/config.js';
import { DRILLS_DIR, type EvidenceStore } from '../state/evidence.js';
import type { State } from '../state/schema.js';

// The drill history: every `failover-test` (a pass, a fail, a refusal, an error, and a dry run as
// such) leaves one JSON record beside the state, `drills/<start>-<mode>[-dry-run].json`, so the
// evidence outlives the terminal: `drctl drills` lists them and `drctl report` charts them.

export const DRILL_HISTORY_VERSION = 1;

const markSchema = z.object({
  event: z.string(),
  label: z.string(),
  at: z.string().nullable(),
  seconds: z.number().nullable(),
  note: z.string().optional(),
});

const sampleSchema = z.object({
  at: z.string(),
  phase: z.enum(['precondition', 'failover', 'failback']),
  /** The region whose VPC the probe ran in (absent in records older than active-active: the secondary). */
  vantage: z.string().optional(),
  /** Which region's NLB the DNS answer named (by the VPC its address lies in). */
  answered: z.enum(['primary', 'secondary', 'none']),
  status: z.number().int().optional(),
  /** The region whose API answered (the body's `region`). */
  servedBy: z.string().optional(),
  error: z.string().optional(),
});
export type ProbeSample = z.infer<typeof sampleSchema>;

export const drillHistorySchema = z.object({
  version: z.literal(DRILL_HISTORY_VERSION),
  drctlVersion: z.string(),
  deployment: z.string(),
  /** From the recorded ARNs; undefined when none is recorded yet. */
  account: z.string().optional(),
  regions: z.object({ primary: z.string(), secondary: z.string() }),
  name: z.string(),
  /** Absent: a drill. `switch`: an incident switch (`drctl failover`, `failback`), held, not undone. */
  kind: z.enum(['drill', 'switch']).optional(),
  /** A switch: its action (failback: the release), why, who, where clients went, whether forced. */
  switch: z
    .object({
      action: z.enum(['failover', 'drain', 'failback']),
      reason: z.string().optional(),
      to: z.string(),
      awayFrom: z.array(z.string()),
      principal: z.string(),
      forced: z.boolean(),
    })
    .optional(),
  /** `switch` for an incident switch (kind switch). */
  mode: z.enum(['invert', 'outage', 'switch']),
  /** Absent in records older than active-active: active-passive. */
  topology: z.enum(['active-passive', 'active-active']).optional(),
  /** The region the drill failed (absent in older records: the primary). */
  failedRegion: z.string().optional(),
  /** Where it watched from: a probe in each of these regions' VPCs; `moves`: its clients had to move. */
  vantages: z.array(z.object({ region: z.string(), moves: z.boolean() })).optional(),
  dryRun: z.boolean(),
  result: z.enum(['pass', 'fail', 'dry-run', 'refused', 'error']),
  startedAt: z.string(),
  endedAt: z.string(),
  recoverySeconds: z.number().nullable(),
  failbackSeconds: z.number().nullable(),
  rtoTargetSeconds: z.number(),
  boundSeconds: z.number(),
  bound: z.array(z.object({ what: z.string(), seconds: z.number() })),
  timeoutSeconds: z.number().nullable(),
  problems: z.array(z.string()),
  error: z.string().optional(),
  failover: z.array(markSchema),
  failback: z.array(markSchema),
  /** Every event the drill emitted, in order (what the terminal showed). */
  events: z.array(
    z.object({ at: z.string(), type: z.string(), phase: z.string().optional(), text: z.string() }),
  ),
  /** Every probe answer while watching: which region answered, over time. */
  samples: z.array(sampleSchema),
  probes: z.number().int(),
});
export type DrillHistoryRecord = z.infer<typeof drillHistorySchema>;

/** A drill that measured a failover (pass or fail); the others stopped before measuring. */
export const measured = (d: Pick<DrillHistoryRecord, 'result'>) => d.result === 'pass' || d.result === 'fail';

/**
 * Why a drill ended as it did, in one line: the problems of a failed drill, the error of a drill
 * that errored or was refused. `drctl drills` and the report's table both show it, so they agree.
 */
export function drillReason(d: Pick<DrillHistoryRecord, 'result' | 'error' | 'problems'>): string {
  if (d.result === 'pass') return '';
  if (d.result === 'dry-run') return 'nothing was changed';
  return d.error ?? (d.problems.join('; ') || 'no reason recorded');
}

/** The account, read from any recorded ARN (drctl makes no call just to learn it). */
export function accountOf(state: Readonly<State>): string | undefined {
  const text = JSON.stringify(state.steps);
  return /arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(text)?.[1];
}

export function drillFileName(r: Pick<DrillHistoryRecord, 'startedAt' | 'mode' | 'dryRun'>): string {
  const stamp = r.startedAt.replace(/[:.]/g, '-');
  return `${DRILLS_DIR}/${stamp}-${r.mode}${r.dryRun ? '-dry-run' : ''}.json`;
}

export async function saveDrill(store: EvidenceStore, r: DrillHistoryRecord): Promise<string> {
  const name = drillFileName(r);
  await store.put(name, `${JSON.stringify(r, null, 2)}\n`);
  return store.where(name);
}

/** Every readable drill record of this deployment, oldest first; unreadable ones are named, not fatal. */
export async function loadDrills(
  store: EvidenceStore,
  config: Config,
): Promise<{ drills: DrillHistoryRecord[]; unreadable: string[] }> {
  const drills: DrillHistoryRecord[] = [];
  const unreadable: string[] = [];
  for (const name of await store.list(DRILLS_DIR)) {
    const text = await store.get(name);
    let parsed;
    try {
      parsed = drillHistorySchema.safeParse(JSON.parse(text ?? ''));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) unreadable.push(store.where(name));
    else if (parsed.data.deployment === config.deployment) drills.push(parsed.data);
  }
  drills.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return { drills, unreadable };
}
