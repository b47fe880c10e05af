import type { Config } from '../config/config.js';
import { type DrillHistoryRecord, drillReason, loadDrills, measured } from '../drill/history.js';
import type { ExitCode } from '../errors/errors.js';
import type { Reporter } from '../io/reporter.js';
import type { EvidenceStore } from '../state/evidence.js';
import type { DrillsResult } from '../io/results.js';
import { evidenceOf } from '../cli/aws-session.js';
import type { Session } from '../cli/session.js';

// `drctl drills`: the drill history kept beside the state, one line per drill or incident switch
// (`drctl failover` / `failback`, kind switch), oldest first.

const secs = (n: number | null) => (n === null ? '-' : `${n} s`);

export function drillLine(d: DrillHistoryRecord): string {
  const when = `${d.startedAt.slice(0, 19).replace('T', ' ')}Z`;
  const verdict = d.result.toUpperCase();
  // An incident switch (drctl failover / failback): what moved, how long, who and why.
  if (d.kind === 'switch' && d.switch) return `${when}  switch  ${verdict.padEnd(7)}  ${switchText(d)}`;
  const times = measured(d)
    ? `recovery ${secs(d.recoverySeconds)} (target ${d.rtoTargetSeconds} s, bound ${d.boundSeconds} s), fail-back ${secs(d.failbackSeconds)}`
    : drillReason(d);
  // Active-active drills fail either region: say which.
  const where = d.topology === 'active-active' && d.failedRegion ? `  (${d.failedRegion} failed)` : '';
  return `${when}  ${d.mode.padEnd(6)}  ${verdict.padEnd(7)}  ${times}${where}`;
}

function switchText(d: DrillHistoryRecord): string {
  const sw = d.switch!;
  const what =
    sw.action === 'failback'
      ? `failback: released the hold away from ${sw.awayFrom.join(', ')}, clients back in ${sw.to} (${secs(d.failbackSeconds)})`
      : `${sw.action === 'drain' ? `drain of ${sw.awayFrom.join(', ')}` : `failover to ${sw.to}`}: recovery ${secs(d.recoverySeconds)} (bound ${d.boundSeconds} s)${sw.forced ? ', --force' : ''}`;
  const why = sw.reason ? `, reason "${sw.reason}"` : '';
  return `${what}, by ${sw.principal}${why}${d.result === 'pass' ? '' : `: ${drillReason(d)}`}`;
}

export type DrillsArgs = Record<string, never>;

export async function run(s: Session, _args: DrillsArgs): Promise<ExitCode> {
  return drillsCommand({ config: s.config, evidence: await evidenceOf(s), reporter: s.reporter });
}

export async function drillsCommand(o: {
  config: Config;
  evidence: EvidenceStore;
  reporter: Reporter;
}): Promise<ExitCode> {
  const { drills, unreadable } = await loadDrills(o.evidence, o.config);
  const where = o.evidence.where('drills');
  if (!drills.length) o.reporter.line(`no drill recorded in ${where} yet: run \`drctl failover-test\``);
  else {
    o.reporter.line(`${drills.length} drill(s) of deployment ${o.config.deployment}, kept in ${where}:`);
    for (const d of drills) o.reporter.line(drillLine(d));
  }
  for (const u of unreadable) o.reporter.line(`unreadable (skipped): ${u}`);
  o.reporter.result({
    ok: true,
    command: 'drills',
    location: where,
    drills: drills.map((d) => ({
      startedAt: d.startedAt,
      ...(d.kind ? { kind: d.kind } : {}),
      ...(d.switch ? { switch: d.switch } : {}),
      mode: d.mode,
      ...(d.topology ? { topology: d.topology } : {}),
      ...(d.failedRegion ? { failedRegion: d.failedRegion } : {}),
      dryRun: d.dryRun,
      result: d.result,
      recoverySeconds: d.recoverySeconds,
      failbackSeconds: d.failbackSeconds,
      rtoTargetSeconds: d.rtoTargetSeconds,
      boundSeconds: d.boundSeconds,
      problems: d.problems,
      drctlVersion: d.drctlVersion,
      account: d.account,
      regions: d.regions,
    })),
    unreadable,
  } satisfies DrillsResult);
  return 0;
}
