import { activeActive } from '../config/config.js';
import type { DrillChange, DrillRecord } from '../state/drill-record.js';
import { defaultTimeoutSeconds, failoverBound } from './bound.js';
import { inject, pendingDrill, restoreAll, restorePendingDrill, writeDrill } from './faults.js';
import { checkPreconditions, secondaryInActivePassive } from './preconditions.js';
import { requireComplete, targetsOf } from './targets.js';
import type { DrillContext, DrillOptions, DrillResult, DryRunResult, Mark, MarkKey } from './types.js';
import { type Counter, type Watch, failbackMarks, failoverMarks, mark, watch } from './watch.js';

// The failover drill (`drctl failover-test`): check, inject one fault, watch what a client inside
// the VPC sees until it is served by the secondary, put the fault back whatever happens, watch the
// fail-back, and report the timeline against the bound and config.rtoTargetSeconds.
// With topology active-active, `--region` picks the region to fail (either one): the drill
// watches from a probe in that region's VPC (whose clients must move to the other region, through
// the peering, and come back) and from one in the other region's VPC (whose clients must stay
// served by their own region throughout). In active-passive only the primary can be failed: the
// secondary serves nobody while the primary is healthy (docs/topology.md).
// Modes (docs/design/aws-behaviour.md §2): `invert` sets the primary health check's Inverted flag, the documented way
// to force a failover (SetAlarmState cannot: Route 53 reads the alarm's data, not its state);
// `outage` revokes the 443 ingress of the primary endpoint's security group, a real fault that the
// canary, the alarm, the health check and DNS each notice on their own.
// The engine never prints: it hands typed events to `emit` and returns the result (types.ts).
// The seams: targets.ts (what it acts on), preconditions.ts, faults.ts (inject / restore / the
// record in the state), watch.ts (probing until moved), observe.ts (the read-only calls they share).

const DEFAULT_POLL_MS = 5_000;

// ---- the drill -----------------------------------------------------------------------------

export async function runDrill(ctx: DrillContext, o: DrillOptions): Promise<DrillResult | DryRunResult> {
  const bound = failoverBound(ctx.config, o.mode);
  const timeoutSeconds =
    o.timeoutMs !== undefined ? Math.round(o.timeoutMs / 1000) : defaultTimeoutSeconds(ctx.config, o.mode);
  const timeoutMs = timeoutSeconds * 1000;
  const pollMs = o.pollIntervalMs ?? DEFAULT_POLL_MS;

  if (!o.dryRun) await restorePendingDrill(ctx);
  else if (pendingDrill(ctx.store)) {
    ctx.emit({
      type: 'precondition',
      text: 'an interrupted drill is recorded: a real run puts its changes back first',
      t: ctx.clock.now(),
    });
  }
  requireComplete(ctx);
  const failRole = o.failRole ?? 'primary';
  if (failRole === 'secondary' && !activeActive(ctx.config)) throw secondaryInActivePassive();
  const t = targetsOf(ctx, failRole);
  const common = {
    mode: o.mode,
    topology: ctx.config.topology,
    primary: t.primary,
    secondary: t.secondary,
    failedRegion: t.failed.region,
    otherRegion: t.other.region,
    vantages: t.vantages,
    name: t.name,
    bound,
    rtoTargetSeconds: ctx.config.rtoTargetSeconds,
    timeoutSeconds,
  };
  const pre = await checkPreconditions(ctx, t, o.mode, !!o.dryRun);
  const change: DrillChange =
    o.mode === 'invert'
      ? { kind: 'health-check-inverted', healthCheckId: t.failed.healthCheckId }
      : {
          kind: 'ingress-revoked',
          region: t.failed.region,
          groupId: t.failed.endpointSecurityGroupId,
          rules: pre.rules,
        };
  if (o.dryRun) {
    const wouldChange =
      change.kind === 'health-check-inverted'
        ? [`UpdateHealthCheck ${change.healthCheckId} Inverted=true, then Inverted=false`]
        : [
            `RevokeSecurityGroupIngress ${change.groupId} in ${change.region}: ${change.rules.map((r) => `${r.ipProtocol} ${r.fromPort ?? 'all'}-${r.toPort ?? 'all'} from ${r.cidrIp}`).join(', ')}, then AuthorizeSecurityGroupIngress of the same rules`,
          ];
    return { ...common, dryRun: true, preconditions: pre.texts, wouldChange };
  }

  const failover: Mark[] = failoverMarks(t, o.mode);
  const failback: Mark[] = failbackMarks(t, o.mode);
  const counter: Counter = { probes: 0, samples: [], steadyMisses: [] };
  const problems: string[] = [];
  const record: DrillRecord = {
    mode: o.mode,
    startedAt: new Date(ctx.clock.now()).toISOString(),
    changes: [change],
  };
  // Recorded before the change: if drctl dies between the call and the next line, the next run
  // still knows what to put back (undo is idempotent, so a change never made is fine).
  await writeDrill(ctx, record);
  let injectedAt: number | undefined;
  let restoredAt: number | undefined;
  let interrupted = false;
  try {
    await inject(ctx, change);
    injectedAt = ctx.clock.now();
    ctx.emit({ type: 'change', phase: 'inject', text: failover[0]!.label, t: injectedAt });
    const w: Watch = {
      phase: 'failover',
      to: t.other.role,
      marks: failover,
      start: injectedAt,
      deadline: injectedAt + timeoutMs,
    };
    mark(ctx, w, 'fault', injectedAt);
    const stop = await watch(ctx, t, w, pollMs, counter);
    if (stop) problems.push(stop);
  } catch (e) {
    interrupted = ctx.signal.aborted;
    throw e;
  } finally {
    // Always, also on an error or Ctrl-C: what the drill changed goes back now.
    const done = await restoreAll(ctx, record);
    restoredAt = ctx.clock.now();
    ctx.emit({
      type: 'change',
      phase: 'restore',
      text: `${done.join('; ')}${interrupted ? ' (interrupted: the fail-back is not watched)' : ''}`,
      t: restoredAt,
    });
  }

  const w: Watch = {
    phase: 'failback',
    to: t.failed.role,
    marks: failback,
    start: restoredAt,
    deadline: restoredAt + timeoutMs,
  };
  mark(ctx, w, 'fault', restoredAt);
  await watch(ctx, t, w, pollMs, counter);

  const at = (marks: Mark[], key: MarkKey) => marks.find((m) => m.key === key)?.at;
  const served = at(failover, 'served');
  const recoverySeconds = served !== undefined ? Math.round((served - injectedAt) / 1000) : undefined;
  const back = at(failback, 'served');
  const failbackSeconds = back !== undefined ? Math.round((back - restoredAt) / 1000) : undefined;
  if (recoverySeconds === undefined) {
    problems.push(
      `no failover within the timeout of ${timeoutSeconds} s: clients were never served by ${t.other.region}`,
    );
  } else if (recoverySeconds > ctx.config.rtoTargetSeconds) {
    problems.push(
      `recovery took ${recoverySeconds} s, over the target of ${ctx.config.rtoTargetSeconds} s (rtoTargetSeconds)`,
    );
  }
  if (failbackSeconds === undefined) {
    problems.push(
      `no fail-back within ${timeoutSeconds} s: clients were not served by ${t.failed.region} again`,
    );
  }
  const miss = counter.steadyMisses[0];
  if (miss) {
    const steady = counter.samples.filter((x) => x.vantage === miss.vantage).length;
    problems.push(
      `clients in ${miss.vantage} must stay with ${t.other.region} while ${t.failed.region} is failed, but ${counter.steadyMisses.length} of ${steady} answers there were not a 200 from it (the first: ${miss.status !== undefined ? `HTTP ${miss.status}${miss.servedBy ? ` from ${miss.servedBy}` : ''}` : (miss.error ?? 'no answer')})`,
    );
  }
  return {
    ...common,
    dryRun: false,
    preconditions: pre.texts,
    ok: problems.length === 0,
    problems,
    failover,
    failback,
    recoverySeconds,
    failbackSeconds,
    changes: record.changes,
    probes: counter.probes,
    samples: counter.samples,
  };
}
