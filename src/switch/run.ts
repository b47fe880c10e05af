import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { activeActive } from '../config/config.js';
import { HOLD_OFF, HOLD_ON } from '../config/traffic-hold.js';
import { DrctlError, type ErrorCode, UsageError } from '../errors/errors.js';
import { awsCode, isCredentialsError } from '../aws/errors.js';
import { switchTimeoutSeconds } from '../drill/bound.js';
import { describeProbe, healthCheckStatus, invokeProbe } from '../drill/observe.js';
import { type Side, type Targets, requireComplete, targetsOf } from '../drill/targets.js';
import type { DrillContext, Vantage } from '../drill/types.js';
import type { SwitchRecord } from '../state/switch-record.js';
import { type SwitchIntent, describeSwitch, sameSwitch } from './args.js';
import { writeHold } from './hold.js';

// The incident switch (`drctl failover`, `drctl failback`; docs/switch.md): check the target from
// inside its VPC, record the switch in the state, trip (or release) the hold alarms with one
// PutMetricData each in the region traffic moves to (src/config/traffic-hold.ts), and measure,
// as the drill does, until the probes in the VPCs are answered by the target. The switch is
// recorded (phase `switching`, `releasing`) and flushed BEFORE its first write, so a drctl killed
// half way is finished by the next `failover` or `failback` from the recorded phase; the writes
// are idempotent (the same value again).

const POLL_MS = 5_000;

export interface SwitchContext extends DrillContext {
  /** The caller's ARN (STS GetCallerIdentity), recorded as who made the switch. */
  principal: string;
  /** A line for the person (what is checked, changed, seen). */
  say(text: string): void;
  /** How often the probes are asked while measuring (tests). */
  pollMs?: number;
}

/** A target that is not healthy: nothing was changed; exit 3 like a failed check. */
export class SwitchRefusedError extends DrctlError {
  readonly exitCode = 3 as const;
  protected defaultCode(): ErrorCode {
    return 'switch.refused';
  }
}

export interface SwitchOutcome {
  record: SwitchRecord;
  /** What a crashed run left and this one finished first. */
  resumed?: string;
  /** The switch asked for, refused after finishing a different recorded one (thrown once recorded). */
  refused?: UsageError;
  /** First change -> every probe answered by the target; null when not seen in time. */
  recoverySeconds: number | null;
  checks: string[];
  problems: string[];
  probes: number;
  startedAt: string;
  endedAt: string;
}

const iso = (t: number) => new Date(t).toISOString();

function sideIn(t: Targets, region: string): Side {
  return t.failed.region === region ? t.failed : t.other;
}

/** What the drill reads, for any region (the drill's targets name the primary the failed side). */
function targets(ctx: DrillContext): Targets {
  try {
    requireComplete(ctx);
    return targetsOf(ctx, 'primary');
  } catch (e) {
    // The drill's words name failover-test; the switch needs the same complete `up`.
    if (!(e instanceof UsageError) || e.field !== 'failover-test') throw e;
    const what = e.message
      .replace(/^failover-test: /, '')
      .replace(/^failover-test( in active-active)?/, 'the switch');
    throw new UsageError(what, { field: 'switch', resolution: e.resolution });
  }
}

/** The held switch, if any. */
export const heldSwitch = (ctx: Pick<DrillContext, 'store'>) => ctx.store.state.switch;

async function recordSwitch(ctx: DrillContext, r: SwitchRecord | undefined): Promise<void> {
  ctx.store.recordSwitch(r);
  // Before the change it describes: a remote state must hold it, not just a queue.
  await ctx.store.flush();
}

/** The write that holds traffic away from `awayFrom` (1) or releases it (0): src/switch/hold.ts. */
async function hold(ctx: SwitchContext, awayFrom: string, value: number): Promise<void> {
  const a = await writeHold(ctx.config, ctx.aws, awayFrom, value, ctx.clock.now());
  ctx.say(
    `${value === HOLD_ON ? 'held traffic away from' : 'released the hold on'} ${awayFrom}: ${a.Namespace}/${a.MetricName} = ${value} in ${a.region} (alarm ${a.AlarmName})`,
  );
}

/**
 * Before any change: the target serves through its own path, and its canary and check are fine.
 * `failback` checks the region it hands traffic back to the same way (`verb` names which).
 */
async function checkTarget(
  ctx: SwitchContext,
  t: Targets,
  to: string,
  force: boolean,
  verb: 'switch to' | 'fail back to' = 'switch to',
) {
  const checks: string[] = [];
  const broken: string[] = [];
  const side = sideIn(t, to);
  // Through the target's own entry point, from inside a VPC: its own when it has a probe there.
  const v: Vantage = t.vantages.find((x) => x.region === to) ?? t.vantages[0]!;
  const p = await invokeProbe(ctx, t, v, side.entryDnsName);
  const via = `from inside ${v.region}, through the ${to} ${t.entry}: ${describeProbe(p)}`;
  if (p.status === 200 && p.region === to) checks.push(via);
  else broken.push(`${via}; expected a 200 from ${to}`);
  if (side.alarmName) {
    const r = await ctx.aws
      .client(CloudWatchClient, to)
      .send(new DescribeAlarmsCommand({ AlarmNames: [side.alarmName] }));
    const state = r.MetricAlarms?.[0]?.StateValue ?? 'missing';
    const text = `the ${to} canary alarm ${side.alarmName} is ${state}`;
    if (state === 'OK') checks.push(text);
    else broken.push(text);
  }
  if (side.healthCheckId) {
    // With every record's check unhealthy Route 53 answers as if all were healthy: holding the
    // other region away would then change nothing, and a drain would be undone.
    // https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-problems.html
    const s = await healthCheckStatus(ctx, side.healthCheckId);
    if (!s.healthy && verb === 'fail back to') {
      // Releasing the hold on a region Route 53 sees unhealthy sends it nothing yet: a broken
      // target like any other, refused unless --force.
      broken.push(`the ${to} health check ${side.healthCheckId} is "${s.status}"`);
    } else if (!s.healthy) {
      throw new SwitchRefusedError(
        `refusing to switch: ${to} is not healthy either (health check ${side.healthCheckId}: "${s.status}"), and Route 53 answers as if all were healthy when none is`,
        {
          region: to,
          resource: side.healthCheckId,
          resolution: `Fix ${to} first (its canary, \`drctl verify\`); --force cannot help: the hold would change no answer.`,
        },
      );
    } else checks.push(`the ${to} health check ${side.healthCheckId} is healthy`);
  }
  for (const c of checks) ctx.say(`check: ${c}`);
  if (broken.length && !force) {
    throw new SwitchRefusedError(`refusing to ${verb} ${to}: ${broken.join('; ')}`, {
      region: to,
      resolution: `Nothing was changed. Fix ${to} (\`drctl verify\` says more), or pass --force to ${verb} it anyway.`,
    });
  }
  for (const b of broken) ctx.say(`check FAILED (--force): ${b}`);
  return { checks: [...checks, ...broken.map((b) => `FAILED (--force): ${b}`)], forced: broken.length > 0 };
}

/** Until every probe is answered by the region `want` names for it; the time, or undefined. */
async function measure(
  ctx: SwitchContext,
  t: Targets,
  want: (v: Vantage) => string,
  start: number,
  counter: { probes: number; lost: string[] },
): Promise<number | undefined> {
  const pollMs = ctx.pollMs ?? POLL_MS;
  const deadline = start + switchTimeoutSeconds(ctx.config) * 1000;
  let vantages = t.vantages;
  while (ctx.clock.now() + pollMs <= deadline) {
    let all = true;
    for (const v of vantages) {
      let p;
      try {
        p = await invokeProbe(ctx, t, v);
      } catch (e) {
        // The region being left may be the one in trouble: its Lambda not answering must not stop
        // a switch whose hold is already written. Measured from the other VPCs, and said.
        if (ctx.signal?.aborted || isCredentialsError(e) || !awsCode(e)) throw e;
        counter.lost.push(`not measured from ${v.region}: its probe could not be invoked (${awsCode(e)})`);
        ctx.say(`${counter.lost.at(-1)}; measuring from the other VPCs`);
        vantages = vantages.filter((x) => x !== v);
        all = false;
        continue;
      }
      counter.probes++;
      if (!(p.status === 200 && p.region === want(v))) all = false;
    }
    if (!vantages.length) return undefined;
    if (all) {
      const at = ctx.clock.now();
      ctx.say(
        `every probe (${vantages.map((v) => `in ${v.region}`).join(', ')}) answered as wanted after ${Math.round((at - start) / 1000)} s`,
      );
      return at;
    }
    await ctx.clock.sleep(pollMs, ctx.signal);
  }
  return undefined;
}

/** The record without the phase's write mark: a new phase has not written yet. */
function unwritten(rec: SwitchRecord): SwitchRecord {
  const r = { ...rec };
  delete r.writtenAt;
  return r;
}

/**
 * Trip the recorded hold and measure until clients are answered by `to`. A record that says the
 * write was made and heard (writtenAt) is not written again: a resumed switch only measures. A
 * crash between the write and its mark writes once more, the same value (idempotent).
 */
async function finishSwitch(ctx: SwitchContext, t: Targets, rec: SwitchRecord) {
  const counter = { probes: 0, lost: [] as string[] };
  if (!rec.writtenAt) {
    for (const r of rec.awayFrom) await hold(ctx, r, HOLD_ON);
    rec = { ...rec, writtenAt: iso(ctx.clock.now()) };
    await recordSwitch(ctx, rec);
  }
  const start = Date.parse(rec.startedAt);
  const at = await measure(ctx, t, () => rec.to, start, counter);
  const recoverySeconds = at === undefined ? null : Math.round((at - start) / 1000);
  const held: SwitchRecord = {
    ...unwritten(rec),
    phase: 'held',
    heldSince: iso(at ?? ctx.clock.now()),
    recoverySeconds,
  };
  await recordSwitch(ctx, held);
  const problems = [
    ...counter.lost,
    ...(at === undefined && counter.lost.length < t.vantages.length
      ? [
          `the probes were not all answered by ${rec.to} within ${switchTimeoutSeconds(ctx.config)} s: the hold is written; check \`drctl verify\``,
        ]
      : []),
  ];
  return { held, recoverySeconds, problems, probes: counter.probes };
}

/** Release the recorded hold (once: see finishSwitch) and measure until clients are answered as without a switch. */
async function finishRelease(ctx: SwitchContext, t: Targets, rec: SwitchRecord) {
  let releasing: SwitchRecord = rec.phase === 'releasing' ? rec : { ...unwritten(rec), phase: 'releasing' };
  if (rec.phase !== 'releasing') await recordSwitch(ctx, releasing);
  const start = releasing.writtenAt ? Date.parse(releasing.writtenAt) : ctx.clock.now();
  if (!releasing.writtenAt) {
    for (const r of rec.awayFrom) await hold(ctx, r, HOLD_OFF);
    releasing = { ...releasing, writtenAt: iso(start) };
    await recordSwitch(ctx, releasing);
  }
  const counter = { probes: 0, lost: [] as string[] };
  // Without a switch: active-passive, the primary answers everyone; active-active, each VPC's own region.
  const home = (v: Vantage) => (activeActive(ctx.config) ? v.region : ctx.config.primary.region);
  const at = await measure(ctx, t, home, start, counter);
  await recordSwitch(ctx, undefined);
  const recoverySeconds = at === undefined ? null : Math.round((at - start) / 1000);
  const problems = [
    ...counter.lost,
    ...(at === undefined && counter.lost.length < t.vantages.length
      ? [
          `the probes were not answered as before the switch within ${switchTimeoutSeconds(ctx.config)} s: the hold is released; check \`drctl verify\``,
        ]
      : []),
  ];
  return { record: releasing, recoverySeconds, problems, probes: counter.probes, startedAt: iso(start) };
}

/** `drctl failover`: finish a switch a killed drctl left, refuse a second one, else check and switch. */
export async function failover(ctx: SwitchContext, intent: SwitchIntent): Promise<SwitchOutcome> {
  const t = targets(ctx);
  let held = heldSwitch(ctx);
  let resumed: string | undefined;
  if (held?.phase === 'releasing') {
    ctx.say(`finishing the failback a stopped drctl left: ${describeSwitch(held)}`);
    await finishRelease(ctx, t, held);
    resumed = `finished the failback of ${describeSwitch(held)}`;
    held = undefined;
  }
  if (held?.phase === 'switching') {
    ctx.say(`finishing the switch a stopped drctl left: ${describeSwitch(held)}`);
    const done = await finishSwitch(ctx, t, held);
    return {
      record: done.held,
      resumed: `finished ${describeSwitch(held)}`,
      // The recorded switch is finished first (its hold is written); a different one is then refused.
      ...(sameSwitch(held, intent) ? {} : { refused: resumedThenRefused(done.held, intent) }),
      recoverySeconds: done.recoverySeconds,
      checks: [],
      problems: done.problems,
      probes: done.probes,
      startedAt: held.startedAt,
      endedAt: iso(ctx.clock.now()),
    };
  }
  if (held) throw secondSwitch(held);
  const { checks, forced } = await checkTarget(ctx, t, intent.to, intent.force);
  const startedAt = iso(ctx.clock.now());
  const rec: SwitchRecord = {
    action: intent.action,
    awayFrom: intent.awayFrom,
    to: intent.to,
    reason: intent.reason,
    principal: ctx.principal,
    forced,
    phase: 'switching',
    startedAt,
  };
  await recordSwitch(ctx, rec);
  const done = await finishSwitch(ctx, t, rec);
  return {
    record: done.held,
    ...(resumed ? { resumed } : {}),
    recoverySeconds: done.recoverySeconds,
    checks,
    problems: done.problems,
    probes: done.probes,
    startedAt,
    endedAt: iso(ctx.clock.now()),
  };
}

/**
 * `drctl failback`: check each region traffic is handed back to as a failover checks its target
 * (refused when broken unless --force), release the held switch, measure, remove it. A release a
 * stopped drctl began is finished without a check: the hold may already be off.
 */
export async function failback(ctx: SwitchContext, force = false): Promise<SwitchOutcome> {
  const held = heldSwitch(ctx);
  if (!held) throw nothingHeld();
  const t = targets(ctx);
  const checks: string[] = [];
  let forced = false;
  if (held.phase === 'releasing')
    ctx.say(`finishing the failback a stopped drctl left: ${describeSwitch(held)}`);
  else {
    for (const r of held.awayFrom) {
      const c = await checkTarget(ctx, t, r, force, 'fail back to');
      checks.push(...c.checks);
      forced ||= c.forced;
    }
  }
  const done = await finishRelease(ctx, t, held);
  return {
    record: { ...done.record, forced },
    recoverySeconds: done.recoverySeconds,
    checks,
    problems: done.problems,
    probes: done.probes,
    startedAt: done.startedAt,
    endedAt: iso(ctx.clock.now()),
  };
}

export function secondSwitch(held: SwitchRecord): UsageError {
  return new UsageError(
    `a switch is already held: ${describeSwitch(held)}, since ${held.heldSince ?? held.startedAt}, by ${held.principal}: "${held.reason}"`,
    {
      field: 'failover',
      resolution: 'Run `drctl failback` first to release it; then switch again.',
    },
  );
}

/** A run that finished the recorded switch, asked for another: names both. */
function resumedThenRefused(held: SwitchRecord, intent: SwitchIntent): UsageError {
  return new UsageError(
    `finished the switch a stopped drctl left, ${describeSwitch(held)} ("${held.reason}"), which now holds; not making the one asked for, ${describeSwitch(intent)} ("${intent.reason}")`,
    {
      field: 'failover',
      resolution: 'Run `drctl failback` to release the recorded switch; then switch again.',
    },
  );
}

export function nothingHeld(): UsageError {
  return new UsageError('no switch is held: there is nothing to fail back', {
    field: 'failback',
    resolution: '`drctl status` shows the deployment; `drctl failover` makes a switch.',
  });
}
