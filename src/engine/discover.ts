import type { DrctlError } from '../errors/errors.js';
import type { Found, StepName } from '../steps/types.js';

// The memory backend discovery runs over when the state cannot be read lives with the other
// backends; it is named here too because `down --discover` (src/commands/) imports it from here.
export { UnreadableStateBackend } from '../state/memory.js';

// Helpers of `drctl down --discover` and `status --refresh`: finding this deployment's resources
// without (or beside) the state file. The look-ups themselves are the steps' `discover` functions.

/** What discovery found, one line per resource, grouped by step and region; errors named. */
export function foundLines(results: DiscoverResult[], o: { onlyUnrecorded?: boolean } = {}): string[] {
  const lines: string[] = [];
  for (const r of results) {
    const found = o.onlyUnrecorded ? r.found.filter((f) => !f.recorded) : r.found;
    for (const f of found) {
      lines.push(
        `  ${r.step} ${r.scope}: ${f.what}${f.recorded || o.onlyUnrecorded ? '' : ' (not in the state)'}`,
      );
    }
    if (r.error) lines.push(`  ${r.step} ${r.scope}: could not look: ${r.error.message}`);
  }
  return lines;
}

/** The JSON form: step, scope, what, id and whether the state records it. */
export function foundDoc(results: DiscoverResult[]) {
  return results.flatMap((r) =>
    r.found.map((f) => ({ step: r.step, scope: r.scope, what: f.what, id: f.id, recorded: f.recorded })),
  );
}

export interface DiscoverResult {
  step: StepName;
  scope: string;
  found: Array<Found & { recorded: boolean }>;
  error?: DrctlError;
}

/**
 * Every id the state file holds, in any step's record: strings, strings in lists, and each object
 * in a list as its values joined with ':' (the peering step records routes as region, table and
 * destination).
 */
export function recordedIds(steps: Readonly<Record<string, Record<string, { resources: unknown }>>>) {
  const ids = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') ids.add(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const values = Object.values(v);
      if (values.every((x) => typeof x === 'string')) ids.add(values.join(':'));
      values.forEach(walk);
    }
  };
  for (const byScope of Object.values(steps)) for (const rec of Object.values(byScope)) walk(rec.resources);
  return ids;
}
