import type { Config } from '../config/config.js';
import type { PlanDiff } from './diff.js';

// SDK-free: what `plan --refresh` read from AWS (src/plan/refresh.ts), as lines and as the plan
// diff's actions. Apart from diff.ts so that file stays one concern: the config's diff.

/**
 * What `plan --refresh` (and `up`, which may read the cloud) learned from AWS: for api.restApiId,
 * whether the secondary's copy is behind the primary's stage prod (src/steps/api.ts copyBehind).
 * Undefined: not read (plain plan, or no copy recorded yet).
 */
export interface CloudFacts {
  copyBehind?: boolean;
  /** No copy recorded ready: nothing to compare, up makes (or resumes) it. */
  copyNotReady?: boolean;
  /** The team's stage prod is gone from the primary: nothing to export or copy. */
  primaryStageGone?: boolean;
}

/** Why the copy is updated, as the plan's api row and its line say it. */
export const PRIMARY_API_CHANGED = "the primary's API changed since the last up";

/** The api line for the secondary when the cloud was read; undefined when it was not. */
export function copyLine(config: Config, cloud: CloudFacts | undefined): string | undefined {
  const s = config.secondary.region;
  if (cloud?.primaryStageGone)
    return `api ${s}: the primary's stage prod is gone: nothing to copy; up stops until it is deployed again`;
  if (cloud?.copyNotReady) return `api ${s}: no copy made yet: up makes it from the primary's stage prod`;
  if (cloud?.copyBehind === undefined) return undefined;
  return cloud.copyBehind
    ? `api ${s}: update (${PRIMARY_API_CHANGED})`
    : `api ${s}: no change (the copy equals the primary's stage prod)`;
}

/**
 * The diff with what the cloud says: a copy behind the primary is an update of the secondary's
 * api step (PutRestApi and a new deployment), counted in the totals like a config change.
 */
export function withCloud(d: PlanDiff, config: Config, cloud: CloudFacts | undefined): PlanDiff {
  if (!cloud?.copyBehind) return d;
  const region = config.secondary.region;
  const counts = { ...d.counts };
  const steps = d.steps.map((s) => {
    const x = s.scopes[region];
    if (s.step !== 'api' || !x || !['no change', 'recorded', 'update'].includes(x.action)) return s;
    if (x.action !== 'update') counts.update++;
    const fields = [...x.fields, PRIMARY_API_CHANGED];
    return { ...s, scopes: { ...s.scopes, [region]: { action: 'update' as const, fields } } };
  });
  return { ...d, steps, counts };
}
