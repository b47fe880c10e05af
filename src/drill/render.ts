import { describeBound } from './bound.js';
import type { DrillEvent, DrillResult, DryRunResult, Mark } from './types.js';

// How a drill reads to people (a table) and to scripts (--json). Pure functions: drill/command.ts hands the
// lines to the reporter.

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** One line for a progress event. */
export function drillEventText(e: DrillEvent): string {
  switch (e.type) {
    case 'precondition':
      return `ok: ${e.text}`;
    case 'wait':
      return `waiting: ${e.text}`;
    case 'restored-pending':
      return `! ${e.text}`;
    case 'change':
      return `${e.phase === 'inject' ? '>' : '<'} ${clock(e.t)} ${e.text}`;
    case 'mark':
      return `${clock(e.t)} +${Math.round(e.sinceMs / 1000)}s ${e.label}`;
    case 'probe':
      return `${clock(e.t)} probe: ${e.text}`;
  }
}

/** In the order things happened (what was not seen last): the chain does not always run in its textbook order. */
function table(title: string, marks: Mark[], start: number | undefined, width: number): string[] {
  const inTime = [...marks].sort((a, b) => (a.at ?? Infinity) - (b.at ?? Infinity));
  return [
    `${title.padEnd(width + 2)}${'UTC'.padEnd(10)}${'+s'.padStart(5)}`,
    ...inTime.map((m) => {
      const when = m.at === undefined ? '-'.padEnd(10) : clock(m.at).padEnd(10);
      const since =
        m.at !== undefined && start !== undefined
          ? String(Math.round((m.at - start) / 1000)).padStart(5)
          : '';
      return `  ${m.label.padEnd(width)}${when}${since}${m.note ? `  ${m.note}` : ''}`;
    }),
  ];
}

export function renderDrill(r: DrillResult | DryRunResult): string[] {
  const aa = r.topology === 'active-active';
  const head = [
    aa
      ? `failover-test (${r.mode}${r.dryRun ? ', dry run' : ''}, active-active): ${r.name}, fails ${r.failedRegion}; its clients -> ${r.otherRegion}, watched from inside ${r.vantages.map((v) => v.region).join(' and ')}`
      : `failover-test (${r.mode}${r.dryRun ? ', dry run' : ''}): ${r.name}, ${r.primary} -> ${r.secondary}`,
    `bound ${describeBound(r.bound)}; target ${r.rtoTargetSeconds} s; timeout ${r.timeoutSeconds} s per switch`,
  ];
  if (r.dryRun) {
    return [
      ...head,
      'would change, then put back:',
      ...r.wouldChange.map((w) => `  ${w}`),
      'nothing was changed',
    ];
  }
  const start = r.failover[0]?.at;
  const width = Math.max(...[...r.failover, ...r.failback].map((m) => m.label.length)) + 2;
  const back = r.failback[0]?.at;
  const verdict = r.ok ? 'PASS' : 'FAIL';
  return [
    ...head,
    '',
    ...table('failover', r.failover, start, width),
    ...table('fail-back', r.failback, back, width),
    '',
    `recovery: ${r.recoverySeconds === undefined ? 'none' : `${r.recoverySeconds} s`} (target ${r.rtoTargetSeconds} s, bound ${r.bound.seconds} s); fail-back: ${r.failbackSeconds === undefined ? 'none' : `${r.failbackSeconds} s`}; ${r.probes} probe calls`,
    ...r.problems.map((p) => `problem: ${p}`),
    `result: ${verdict}`,
  ];
}

export const timeline = (marks: Mark[], start: number | undefined) =>
  marks.map((m) => ({
    event: m.key,
    label: m.label,
    at: m.at === undefined ? null : new Date(m.at).toISOString(),
    seconds: m.at !== undefined && start !== undefined ? Math.round((m.at - start) / 1000) : null,
    ...(m.note ? { note: m.note } : {}),
  }));

/** The --json summary's drill fields. */
export function drillSummary(r: DrillResult | DryRunResult): Record<string, unknown> {
  const common = {
    mode: r.mode,
    dryRun: r.dryRun,
    name: r.name,
    topology: r.topology,
    primary: r.primary,
    secondary: r.secondary,
    failedRegion: r.failedRegion,
    otherRegion: r.otherRegion,
    vantages: r.vantages,
    boundSeconds: r.bound.seconds,
    bound: r.bound.parts,
    rtoTargetSeconds: r.rtoTargetSeconds,
    timeoutSeconds: r.timeoutSeconds,
    preconditions: r.preconditions,
  };
  if (r.dryRun) return { ...common, wouldChange: r.wouldChange };
  return {
    ...common,
    recoverySeconds: r.recoverySeconds ?? null,
    failbackSeconds: r.failbackSeconds ?? null,
    failover: timeline(r.failover, r.failover[0]?.at),
    failback: timeline(r.failback, r.failback[0]?.at),
    problems: r.problems,
    changes: r.changes,
    probes: r.probes,
    // What each vantage point saw: how many answers, and from which region the 200s came.
    watched: r.vantages.map((v) => {
      const mine = r.samples.filter((x) => x.vantage === v.region);
      const servedBy: Record<string, number> = {};
      for (const x of mine)
        if (x.status === 200 && x.servedBy) servedBy[x.servedBy] = (servedBy[x.servedBy] ?? 0) + 1;
      return { region: v.region, moves: v.moves, answers: mine.length, servedBy };
    }),
  };
}
