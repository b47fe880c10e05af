import type { DrctlError } from '../errors/errors.js';
import type { Found, StepName } from '../steps/types.js';

// What discovery (`down --discover`, `status --refresh`) finds: the look-ups themselves are the
// steps' `discover` functions; the lines people read are in src/commands/discover-down.ts.

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
