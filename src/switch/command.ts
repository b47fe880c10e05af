import { InterruptedError, errorMessage, type ExitCode } from '../errors/errors.js';
import type { Reporter } from '../io/reporter.js';
import type { SwitchResult } from '../io/results.js';
import { drctlVersion } from '../lib/version.js';
import type { EvidenceStore } from '../state/evidence.js';
import { switchBound, switchTimeoutSeconds } from '../drill/bound.js';
import { DRILL_HISTORY_VERSION, type DrillHistoryRecord, accountOf, saveDrill } from '../drill/history.js';
import type { SwitchIntent } from './args.js';
import { type SwitchContext, type SwitchOutcome, failback, failover } from './run.js';

// `drctl failover` / `failback` around the engine (run.ts): the drill-history entry, the lines and
// the --json result. The command files (src/commands/) add state, lock, clients and the question.

export interface SwitchDeps {
  ctx: SwitchContext;
  reporter: Reporter;
  evidence?: EvidenceStore;
}

export async function runFailover(d: SwitchDeps, intent: SwitchIntent): Promise<ExitCode> {
  const o = await failover(d.ctx, intent).catch((e: unknown) => {
    throw interrupted(d, e, 'failover');
  });
  return finish(d, 'failover', o, intent.reason);
}

/** Ctrl-C: what the state says now, and that the same command finishes it (run.ts resumes by phase). */
function interrupted(d: SwitchDeps, e: unknown, command: 'failover' | 'failback'): unknown {
  if (!d.ctx.signal.aborted) return e;
  const held = d.ctx.store.state.switch;
  if (!held)
    return new InterruptedError(`${command} interrupted before its first change; nothing was changed`);
  return new InterruptedError(
    `${command} interrupted: the switch is recorded in the state (phase ${held.phase}); run \`drctl ${command}\` again to finish it`,
  );
}

export async function runFailback(
  d: SwitchDeps,
  reason: string | undefined,
  force = false,
): Promise<ExitCode> {
  const o = await failback(d.ctx, force).catch((e: unknown) => {
    throw interrupted(d, e, 'failback');
  });
  return finish(d, 'failback', o, reason);
}

async function finish(
  d: SwitchDeps,
  command: 'failover' | 'failback',
  o: SwitchOutcome,
  reason: string | undefined,
): Promise<ExitCode> {
  const { config } = d.ctx;
  const r = o.record;
  const action = command === 'failback' ? 'failback' : r.action;
  // A switch's own bound (no canary, no alarm's failed-in-a-row), not the drill's failover bound.
  const bound = switchBound(config);
  const entry: DrillHistoryRecord = {
    version: DRILL_HISTORY_VERSION,
    drctlVersion: drctlVersion(),
    deployment: config.deployment,
    ...(accountOf(d.ctx.store.state) ? { account: accountOf(d.ctx.store.state) } : {}),
    regions: { primary: config.primary.region, secondary: config.secondary.region },
    name: `${config.host}.${config.domain}`,
    kind: 'switch',
    switch: {
      action,
      ...(reason ? { reason } : {}),
      to: command === 'failback' ? r.awayFrom.join(',') : r.to,
      awayFrom: r.awayFrom,
      principal: d.ctx.principal,
      forced: r.forced,
    },
    mode: 'switch',
    topology: config.topology,
    dryRun: false,
    result: o.problems.length ? 'fail' : 'pass',
    startedAt: o.startedAt,
    endedAt: o.endedAt,
    recoverySeconds: command === 'failover' ? o.recoverySeconds : null,
    failbackSeconds: command === 'failback' ? o.recoverySeconds : null,
    rtoTargetSeconds: config.rtoTargetSeconds,
    boundSeconds: bound.seconds,
    bound: bound.parts,
    timeoutSeconds: switchTimeoutSeconds(config),
    problems: o.problems,
    failover: [],
    failback: [],
    events: [],
    samples: [],
    probes: o.probes,
  };
  if (d.evidence) {
    try {
      d.reporter.line(`switch recorded in the drill history: ${await saveDrill(d.evidence, entry)}`);
    } catch (e) {
      d.reporter.line(`could not keep the switch record beside the state: ${errorMessage(e)}`);
    }
  }
  if (o.resumed) d.reporter.line(o.resumed);
  const measured =
    o.recoverySeconds === null
      ? `(not measured: see below; bound ${bound.seconds} s)`
      : `in ${o.recoverySeconds} s (bound ${bound.seconds} s)`;
  d.reporter.line(
    command === 'failover'
      ? `held: clients answered by ${r.to} (away from ${r.awayFrom.join(', ')}) ${measured}`
      : `released: traffic no longer held away from ${r.awayFrom.join(', ')}, back ${measured}`,
  );
  for (const p of o.problems) d.reporter.line(`warning: ${p}`);
  // Recorded and said: the switch a stopped drctl left holds; the different one asked for is
  // refused, and the error is the result.
  if (o.refused) throw o.refused;
  d.reporter.result({
    ok: true,
    exitCode: 0,
    command,
    action,
    to: r.to,
    awayFrom: r.awayFrom,
    reason,
    principal: d.ctx.principal,
    forced: r.forced,
    phase: command === 'failover' ? 'held' : 'released',
    ...(o.resumed ? { resumed: o.resumed } : {}),
    startedAt: o.startedAt,
    ...(r.heldSince ? { heldSince: r.heldSince } : {}),
    recoverySeconds: o.recoverySeconds,
    boundSeconds: bound.seconds,
    bound: bound.parts,
    checks: o.checks,
    problems: o.problems,
  } satisfies SwitchResult);
  return 0;
}
