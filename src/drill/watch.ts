import type { DrillMode } from './bound.js';
import { alarmState, describeProbe, healthCheckStatus, invokeProbe, sideOf } from './observe.js';
import type { Targets } from './targets.js';
import type { DrillContext, Mark, MarkKey, ProbeSampleAt } from './types.js';

// Watching a switch: poll the probes (and the health check and alarm) until every mark of the
// phase is seen or the deadline passes, recording every answer for the report's timeline.

/** 3 probe answers in a row that name the secondary but are not a 200 from it: stop and restore. */
const STOP_AFTER_FAILURES = 3;

// ---- watching ------------------------------------------------------------------------------

export interface Watch {
  phase: 'failover' | 'failback';
  /** The region clients should end up served by. */
  to: 'primary' | 'secondary';
  marks: Mark[];
  start: number;
  deadline: number;
}

export function mark(ctx: DrillContext, w: Watch, key: MarkKey, at: number): void {
  const m = w.marks.find((x) => x.key === key);
  if (!m || m.at !== undefined || m.note) return;
  m.at = at;
  // The fault and the restore are announced as changes when they are made.
  if (key !== 'fault')
    ctx.emit({ type: 'mark', phase: w.phase, key, label: m.label, t: at, sinceMs: at - w.start });
}

export const open = (w: Watch) => w.marks.filter((m) => m.at === undefined && !m.note);

export interface Counter {
  probes: number;
  samples: ProbeSampleAt[];
  /** Answers at a vantage whose clients must stay with the other region that were not a 200 from it. */
  steadyMisses: ProbeSampleAt[];
}

/**
 * Poll until every mark of the phase is seen, or the deadline. Each poll asks the probe at every
 * vantage point; the marks follow the one whose clients move. Returns the stop-condition text if
 * the clients' new region failed them repeatedly.
 */
export async function watch(
  ctx: DrillContext,
  t: Targets,
  w: Watch,
  pollMs: number,
  counter: Counter,
): Promise<string | undefined> {
  const region = w.to === t.failed.role ? t.failed.region : t.other.region;
  let failures = 0;
  const last = new Map<string, string>();
  while (open(w).length) {
    if (ctx.clock.now() + pollMs > w.deadline) break;
    await ctx.clock.sleep(pollMs, ctx.signal);
    const polledAt = ctx.clock.now();
    for (const v of t.vantages) {
      const p = await invokeProbe(ctx, t, v);
      counter.probes++;
      const now = ctx.clock.now();
      const text = `${t.vantages.length > 1 ? `from ${v.region}: ` : ''}${describeProbe(p)}`;
      // A line when what the client gets changes, not when only the answer's remaining TTL does.
      const gist = text.replace(/ \(ttl \d+s\)/, '');
      if (gist !== last.get(v.region)) ctx.emit({ type: 'probe', phase: w.phase, text, t: now });
      last.set(v.region, gist);
      const side = sideOf(ctx, p);
      const sample: ProbeSampleAt = {
        t: now,
        phase: w.phase,
        vantage: v.region,
        answered: side ?? 'none',
        ...(p.status !== undefined ? { status: p.status } : {}),
        ...(p.region ? { servedBy: p.region } : {}),
        ...(p.error ? { error: p.error } : {}),
      };
      counter.samples.push(sample);
      if (!v.moves) {
        if (p.status !== 200 || p.region !== t.other.region) counter.steadyMisses.push(sample);
        continue;
      }
      const served = p.status === 200 && p.region === region;
      if (side === w.to) mark(ctx, w, 'dns', now);
      if (served) mark(ctx, w, 'served', now);
      if (w.phase === 'failover' && side === t.other.role && !served) {
        failures++;
        if (failures >= STOP_AFTER_FAILURES) {
          return `stop condition: ${failures} probes in a row were sent to ${t.other.region} and not served (${text})`;
        }
      } else failures = 0;
    }
    const hcOpen = open(w).some((m) => m.key === 'health-check');
    if (hcOpen) {
      const s = await healthCheckStatus(ctx, t.failed.healthCheckId);
      if (s.healthy === (w.to === t.failed.role)) mark(ctx, w, 'health-check', ctx.clock.now());
    }
    if (open(w).some((m) => m.key === 'alarm')) {
      const a = await alarmState(ctx, t);
      const want = w.to === t.other.role ? 'ALARM' : 'OK';
      // CloudWatch says when the state changed: nearer the truth than our poll.
      if (a.state === want)
        mark(ctx, w, 'alarm', Math.min(ctx.clock.now(), Math.max(w.start, a.updatedAt ?? polledAt)));
    }
  }
  for (const m of open(w)) m.note = `not seen within ${Math.round((w.deadline - w.start) / 1000)} s`;
  return undefined;
}

/** In active-active the marks name the region (either can be drilled) and where the probe sits. */
function labels(t: Targets) {
  const aa = t.vantages.length > 1;
  const r = aa ? `${t.failed.region} ` : '';
  const seen = aa ? ` (probe in ${t.failed.region})` : '';
  return { r, seen };
}

export function failoverMarks(t: Targets, mode: DrillMode): Mark[] {
  const { r, seen } = labels(t);
  return [
    {
      key: 'fault',
      label:
        mode === 'invert'
          ? `fault injected: ${r}health check Inverted`
          : `fault injected: 443 ingress revoked on ${t.failed.endpointSecurityGroupId}${r ? ` (${t.failed.region})` : ''}`,
    },
    mode === 'outage'
      ? { key: 'alarm', label: `${r}alarm in ALARM` }
      : {
          key: 'alarm',
          label: `${r}alarm in ALARM`,
          note: 'n/a: an inverted check leaves the alarm alone',
        },
    { key: 'health-check', label: `${r}health check unhealthy` },
    { key: 'dns', label: `DNS answer switched to ${t.other.region}${seen}` },
    { key: 'served', label: `first 200 from ${t.other.region}${seen}` },
  ];
}

export function failbackMarks(t: Targets, mode: DrillMode): Mark[] {
  const { r, seen } = labels(t);
  return [
    {
      key: 'fault',
      label: mode === 'invert' ? `restored: ${r}Inverted=false` : `${r}443 ingress restored`,
    },
    mode === 'outage'
      ? { key: 'alarm', label: `${r}alarm OK` }
      : { key: 'alarm', label: `${r}alarm OK`, note: 'n/a: an inverted check leaves the alarm alone' },
    { key: 'health-check', label: `${r}health check healthy` },
    { key: 'dns', label: `DNS answer back to ${t.failed.region}${seen}` },
    { key: 'served', label: `first 200 from ${t.failed.region}${seen}` },
  ];
}
