import type { Config } from '../config/config.js';

// `plan`'s "use existing" lines: the user's own resources the config names (issue 25). Apart from
// diff.ts, which is the config's diff; SDK-free like it.

/**
 * What the config brings of the user's own (issue 25): one "use existing <id>" line each; `copy`
 * is the api line for the secondary when `plan --refresh` read the cloud. drctl
 * reads these, adds to them only what the DR setup needs, and `down` never deletes them.
 */
export function renderUsed(config: Config, copy?: string): string[] {
  const lines: string[] = [];
  for (const role of ['primary', 'secondary'] as const) {
    const r = config[role];
    const where = `(${role}, ${r.region})`;
    if (r.vpcId) lines.push(`use existing ${r.vpcId} ${where}, subnets ${(r.subnetIds ?? []).join(', ')}`);
    if (r.endpointId) lines.push(`use existing ${r.endpointId} ${where}: execute-api endpoint`);
  }
  if (config.peering === 'existing')
    lines.push('use existing connection between the VPCs: no peering, no routes');
  if (config.hostedZoneId) lines.push(`use existing ${config.hostedZoneId}: private zone ${config.domain}`);
  if (typeof config.api === 'object' && 'restApiId' in config.api) {
    const p = config.primary.region;
    const s = config.secondary.region;
    lines.push(`use existing ${config.api.restApiId} (primary, ${p}): REST API, copied to ${s}`);
    // `plan --refresh` read the cloud: its line (src/plan/cloud-facts.ts).
    if (copy) lines.push(copy);
    else {
      // Plain plan makes no AWS call (src/commands/plan.ts): it cannot read the primary's export.
      lines.push(`api ${s}: plan cannot know if the primary's API changed; up checks`);
      lines.push("  run `drctl plan --refresh` to compare with the primary's API");
    }
  }
  return lines;
}
