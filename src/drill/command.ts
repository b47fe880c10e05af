import type { AwsClients } from '../aws/clients.js';
import type { Clock } from '../lib/clock.js';
import { type Config, activeActive } from '../config/config.js';
import { awsCode } from '../aws/errors.js';
import {
  AwsStepError,
  DrctlError,
  DrillFailedError,
  InterruptedError,
  UsageError,
  errorMessage,
  type ExitCode,
} from '../errors/errors.js';
import type { Reporter } from '../io/reporter.js';
import type { FailoverTestResult } from '../io/results.js';
import type { StateStore } from '../state/store.js';
import type { StepInfo } from '../steps/index.js';
import {
  type DrillContext,
  type DrillEvent,
  type DrillMode,
  type DrillResult,
  type DryRunResult,
  restorePendingDrill,
  runDrill,
  secondaryInActivePassive,
} from './index.js';
import type { EvidenceStore } from '../state/evidence.js';
import { defaultTimeoutSeconds, failoverBound } from './bound.js';
import {
  DRILL_HISTORY_VERSION,
  type DrillHistoryRecord,
  accountOf,
  saveDrill,
} from './history.js';
import { drctlVersion } from '../lib/version.js';
import { probeRefusal } from './observe.js';
import type { State } from '../state/schema.js';
import { RELEASE, heldSwitchText } from '../state/switch-text.js';
import { drillEventText, drillSummary, renderDrill, timeline } from './render.js';

// `drctl failover-test`: parse its options, run the drill engine with the lock held, and hand
// its events and result to the reporter. Loaded lazily, through src/commands/failover-test.ts
// (it pulls in the AWS clients).

export interface FailoverTestDeps {
  config: Config;
  store: StateStore;
  aws: AwsClients;
  clock: Clock;
  signal: AbortSignal;
  steps: readonly StepInfo[];
  reporter: Reporter;
  stderr: NodeJS.WritableStream;
  json: boolean;
  /** Where the drill's record is kept (beside the state); none: not kept (tests of the engine). */
  evidence?: EvidenceStore;
}

export interface FailoverTestArgs {
  mode?: string;
  /** primary, secondary or a region name: the region to fail (default primary). */
  region?: string;
  timeout?: string;
  dryRun?: boolean;
}

function drillContext(d: Omit<FailoverTestDeps, 'stderr' | 'json'>): DrillContext {
  return {
    config: d.config,
    store: d.store,
    aws: d.aws,
    clock: d.clock,
    signal: d.signal,
    steps: d.steps,
    emit: (e: DrillEvent) =>
      d.reporter.emit({
        type: 'log',
        level: e.type === 'restored-pending' ? 'warn' : 'info',
        message: drillEventText(e),
        t: e.t,
      }),
  };
}

/** `--region`: a role or one of the config's two region names. */
export function parseDrillRegion(config: Config, value: string | undefined): 'primary' | 'secondary' {
  const v = value ?? 'primary';
  const role =
    v === 'primary' || v === config.primary.region
      ? 'primary'
      : v === 'secondary' || v === config.secondary.region
        ? 'secondary'
        : undefined;
  if (!role) {
    throw new UsageError(
      `must be primary, secondary, ${config.primary.region} or ${config.secondary.region}, not "${v}"`,
      { field: '--region', resolution: "Name the region to fail: one of the deployment's two." },
    );
  }
  if (role === 'secondary' && !activeActive(config)) throw secondaryInActivePassive();
  return role;
}

export function parseDrillArgs(
  a: FailoverTestArgs,
  config?: Config,
): {
  mode: DrillMode;
  failRole: 'primary' | 'secondary';
  timeoutMs?: number;
  dryRun: boolean;
} {
  const mode = a.mode ?? 'invert';
  if (mode !== 'invert' && mode !== 'outage') {
    throw new UsageError(`must be invert or outage, not "${mode}"`, {
      field: '--mode',
      resolution:
        'invert: force the failover by inverting the health check; outage: revoke the primary endpoint 443 ingress.',
    });
  }
  let timeoutMs: number | undefined;
  if (a.timeout !== undefined) {
    const seconds = Number(a.timeout);
    if (!Number.isInteger(seconds) || seconds < 30 || seconds > 3_600) {
      throw new UsageError(`must be a whole number of seconds from 30 to 3600, not "${a.timeout}"`, {
        field: '--timeout',
      });
    }
    timeoutMs = seconds * 1000;
  }
  const failRole = config ? parseDrillRegion(config, a.region) : 'primary';
  return { mode, failRole, timeoutMs, dryRun: !!a.dryRun };
}

/**
 * A held incident switch (state.switch) is refused, exit 2, before any AWS call: a drill fails a
 * region and then puts everything back, which would undo the hold the operator chose (or drill the
 * region traffic was moved away from). The dry run too: its plan assumes the normal routing.
 */
export function refuseWhileSwitched(state: Readonly<State>): void {
  const sw = state.switch;
  if (!sw) return;
  throw new UsageError(
    `failover-test is refused while an incident switch holds traffic: ${heldSwitchText(sw)}`,
    {
      field: 'failover-test',
      resolution: `${RELEASE} Then run failover-test again. Nothing was changed.`,
    },
  );
}

/** Runs with the state lock held by the caller (except a dry run, which changes nothing). */
export async function failoverTest(d: FailoverTestDeps, args: FailoverTestArgs): Promise<ExitCode> {
  const o = parseDrillArgs(args, d.config);
  const startedAt = d.clock.now();
  const events: DrillEvent[] = [];
  const base = drillContext(d);
  const ctx: DrillContext = {
    ...base,
    emit: (e) => {
      events.push(e);
      base.emit(e);
    },
  };
  let result;
  try {
    result = await runDrill(ctx, o);
  } catch (e) {
    const err = asDrctlError(e, d.signal, o.dryRun);
    await keepRecord(d, historyRecord(d, o, startedAt, events, undefined, err));
    throw err;
  }
  await keepRecord(d, historyRecord(d, o, startedAt, events, result));
  for (const line of renderDrill(result)) d.reporter.line(line);
  const summary = { command: 'failover-test' as const, ...drillSummary(result) };
  if (result.dryRun || result.ok) {
    d.reporter.result({ ok: true, exitCode: 0, ...summary } satisfies FailoverTestResult);
    return 0;
  }
  const err = new DrillFailedError(`failover-test: ${result.problems.join('; ')}`, {
    resolution:
      '`drctl plan` shows the worst case this configuration allows; shorten it (TTL, canary and alarm periods) or raise rtoTargetSeconds. Everything the drill changed is back.',
  });
  d.reporter.result({
    ...summary,
    ok: false,
    exitCode: err.exitCode,
    error: { message: err.message, resolution: err.resolution },
  } satisfies FailoverTestResult);
  d.stderr.write(`error: ${err.message}\nwhat to do: ${err.resolution}\n`);
  return err.exitCode;
}

/** The drill as kept beside the state: whatever happened, with every event it emitted. */
function historyRecord(
  d: FailoverTestDeps,
  o: ReturnType<typeof parseDrillArgs>,
  startedAt: number,
  events: DrillEvent[],
  r: DrillResult | DryRunResult | undefined,
  error?: DrctlError,
): DrillHistoryRecord {
  const bound = r?.bound ?? failoverBound(d.config, o.mode);
  const iso = (t: number) => new Date(t).toISOString();
  const real = r && !r.dryRun ? r : undefined;
  const result: DrillHistoryRecord['result'] = r
    ? r.dryRun
      ? 'dry-run'
      : r.ok
        ? 'pass'
        : 'fail'
    : error instanceof UsageError
      ? 'refused'
      : 'error';
  return {
    version: DRILL_HISTORY_VERSION,
    drctlVersion: drctlVersion(),
    deployment: d.config.deployment,
    ...(accountOf(d.store.state) ? { account: accountOf(d.store.state) } : {}),
    regions: { primary: d.config.primary.region, secondary: d.config.secondary.region },
    name: `${d.config.host}.${d.config.domain}`,
    mode: o.mode,
    topology: d.config.topology,
    failedRegion: o.failRole === 'primary' ? d.config.primary.region : d.config.secondary.region,
    ...(real ? { vantages: real.vantages } : {}),
    dryRun: o.dryRun,
    result,
    startedAt: iso(startedAt),
    endedAt: iso(d.clock.now()),
    recoverySeconds: real?.recoverySeconds ?? null,
    failbackSeconds: real?.failbackSeconds ?? null,
    rtoTargetSeconds: d.config.rtoTargetSeconds,
    boundSeconds: bound.seconds,
    bound: bound.parts,
    timeoutSeconds:
      r?.timeoutSeconds ??
      (o.timeoutMs !== undefined ? Math.round(o.timeoutMs / 1000) : defaultTimeoutSeconds(d.config, o.mode)),
    problems: real?.problems ?? (r?.dryRun ? [] : error ? [error.message] : []),
    ...(error ? { error: error.message } : {}),
    failover: real ? timeline(real.failover, real.failover[0]?.at) : [],
    failback: real ? timeline(real.failback, real.failback[0]?.at) : [],
    events: events.map((e) => ({
      at: iso(e.t),
      type: e.type,
      ...('phase' in e ? { phase: e.phase } : {}),
      text: drillEventText(e),
    })),
    samples: (real?.samples ?? []).map((x) => ({
      at: iso(x.t),
      phase: x.phase,
      vantage: x.vantage,
      answered: x.answered,
      ...(x.status !== undefined ? { status: x.status } : {}),
      ...(x.servedBy ? { servedBy: x.servedBy } : {}),
      ...(x.error ? { error: x.error } : {}),
    })),
    probes: real?.probes ?? 0,
  };
}

/** A drill whose record cannot be kept still gives its verdict: the record is evidence, not the result. */
async function keepRecord(d: FailoverTestDeps, record: DrillHistoryRecord): Promise<void> {
  if (!d.evidence) return;
  try {
    const where = await saveDrill(d.evidence, record);
    d.reporter.line(`drill record kept: ${where}`);
  } catch (e) {
    d.reporter.line(`could not keep the drill record beside the state: ${errorMessage(e)}`);
  }
}

/** An SDK error or Ctrl-C out of the drill, in drctl's words (the restore has run by then). */
function asDrctlError(e: unknown, signal: AbortSignal, dryRun: boolean): DrctlError {
  // A dry run changes nothing, so it never says it put anything back.
  if (signal.aborted)
    return new InterruptedError(
      dryRun
        ? 'failover-test --dry-run interrupted; it changes nothing'
        : 'failover-test interrupted; what the drill changed is back',
    );
  if (e instanceof DrctlError) return e;
  const code = awsCode(e);
  // Lambda refusing the probe: say it was the invocation (not the network) and what to check.
  const refused = probeRefusal(e);
  const fix = refused ? `${refused.check} Then` : 'Fix the cause named above, then';
  return new AwsStepError(
    `failover-test${dryRun ? ' --dry-run' : ''}: ${code ? `${code}: ` : ''}${errorMessage(e)}` +
      (refused ? `\n  ${refused.what}: the invocation failed, not the network path` : ''),
    {
      awsCode: code,
      cause: e,
      resolution: dryRun
        ? `A dry run changes nothing. ${fix} run it again.`
        : `What the drill changed is back (or recorded, to be put back by the next run). ${fix} run failover-test again.`,
    },
  );
}

/** Before `up`, `step` or `down`: put back what a killed drill changed (no-op when none is recorded). */
export async function restoreDrillFirst(d: Omit<FailoverTestDeps, 'stderr' | 'json'>): Promise<void> {
  await restorePendingDrill(drillContext(d));
}
