import type { AwsClients } from '../aws/clients.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { awsCode } from '../aws/errors.js';
import {
  AwsStepError,
  DrctlError,
  DrillFailedError,
  InterruptedError,
  UsageError,
  errorMessage,
  type ExitCode,
} from '../errors.js';
import type { Reporter } from '../report.js';
import type { StateStore } from '../state.js';
import type { StepInfo } from '../steps/index.js';
import {
  type DrillContext,
  type DrillEvent,
  type DrillMode,
  restorePendingDrill,
  runDrill,
} from './failover.js';
import { drillEventText, drillSummary, renderDrill } from './render.js';

// `drctl failover-test`: parse its options, run the drill engine with the lock held, and hand
// its events and result to the reporter. Loaded lazily by cli.ts (it pulls in the AWS clients).

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
}

export interface FailoverTestArgs {
  mode?: string;
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

export function parseDrillArgs(a: FailoverTestArgs): {
  mode: DrillMode;
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
  return { mode, timeoutMs, dryRun: !!a.dryRun };
}

/** Runs with the state lock held by the caller (except a dry run, which changes nothing). */
export async function failoverTest(d: FailoverTestDeps, args: FailoverTestArgs): Promise<ExitCode> {
  const o = parseDrillArgs(args);
  let result;
  try {
    result = await runDrill(drillContext(d), o);
  } catch (e) {
    throw asDrctlError(e, d.signal);
  }
  for (const line of renderDrill(result)) d.reporter.line(line);
  const summary = { command: 'failover-test', ...drillSummary(result) };
  if (result.dryRun || result.ok) {
    d.reporter.result({ ok: true, exitCode: 0, ...summary });
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
  });
  d.stderr.write(`error: ${err.message}\nwhat to do: ${err.resolution}\n`);
  return err.exitCode;
}

/** An SDK error or Ctrl-C out of the drill, in drctl's words (the restore has run by then). */
function asDrctlError(e: unknown, signal: AbortSignal): DrctlError {
  if (signal.aborted)
    return new InterruptedError('failover-test interrupted; what the drill changed is back');
  if (e instanceof DrctlError) return e;
  const code = awsCode(e);
  return new AwsStepError(`failover-test: ${code ? `${code}: ` : ''}${errorMessage(e)}`, {
    awsCode: code,
    cause: e,
    resolution:
      'What the drill changed is back (or recorded, to be put back by the next run). Fix the cause named above, then run failover-test again.',
  });
}

/** Before `up`, `step` or `down`: put back what a killed drill changed (no-op when none is recorded). */
export async function restoreDrillFirst(d: Omit<FailoverTestDeps, 'stderr' | 'json'>): Promise<void> {
  await restorePendingDrill(drillContext(d));
}
