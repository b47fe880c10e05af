import { type Config, activeActive } from '../config/config.js';
import { otherRegion } from '../config/traffic-hold.js';
import { UsageError } from '../errors/errors.js';
import type { SwitchRecord } from '../state/switch-record.js';

// `drctl failover` and `drctl failback`: their flags, checked before anything is read or locked
// (bad input is exit 2 naming the flag, nothing changed). No SDK here.

export interface FailoverArgs {
  /** active-passive: the region clients are answered by. */
  to?: string;
  /** active-active: the region that stops answering. */
  drain?: string;
  reason?: string;
  force?: boolean;
}

export interface FailbackArgs {
  reason?: string;
  /** Release even if the region traffic is handed back to is not healthy. */
  force?: boolean;
}

/** What a failover asks for: the hold to trip, and the region clients end up with. */
export interface SwitchIntent {
  action: SwitchRecord['action'];
  awayFrom: string[];
  to: string;
  reason: string;
  force: boolean;
}

function regionOf(config: Config, value: string, field: string): string {
  const [p, s] = [config.primary.region, config.secondary.region];
  if (value === p || value === 'primary') return p;
  if (value === s || value === 'secondary') return s;
  throw new UsageError(`must be primary, secondary, ${p} or ${s}, not "${value}"`, {
    field,
    resolution: "Name one of the deployment's two regions.",
  });
}

export function parseReason(reason: string | undefined, required: boolean): string | undefined {
  const r = reason?.trim();
  if (r) return r;
  if (!required && reason === undefined) return undefined;
  throw new UsageError('a switch needs a reason: it is kept in the state and the drill history', {
    field: '--reason',
    resolution: 'Say why, e.g. --reason "5xx from sa-east-1 since 14:02, INC-123".',
  });
}

export function parseFailover(config: Config, a: FailoverArgs): SwitchIntent {
  const aa = activeActive(config);
  if (a.to !== undefined && a.drain !== undefined) {
    throw new UsageError('give --to or --drain, not both', {
      field: aa ? '--drain' : '--to',
      resolution: aa
        ? 'In active-active, --drain <region> stops answering from that region.'
        : 'In active-passive, --to <region> names the region that answers.',
    });
  }
  if (aa && a.drain === undefined) {
    throw new UsageError('in active-active both regions answer: say which one to drain', {
      field: '--drain',
      resolution: 'Use `drctl failover --drain <region> --reason <text>` (--to is for active-passive).',
    });
  }
  if (!aa && a.to === undefined) {
    throw new UsageError('in active-passive one region answers: say which one', {
      field: '--to',
      resolution: 'Use `drctl failover --to <region> --reason <text>` (--drain is for active-active).',
    });
  }
  const reason = parseReason(a.reason, true)!;
  const force = !!a.force;
  if (aa) {
    const drained = regionOf(config, a.drain!, '--drain');
    return { action: 'drain', awayFrom: [drained], to: otherRegion(config, drained), reason, force };
  }
  const to = regionOf(config, a.to!, '--to');
  return { action: 'failover', awayFrom: [otherRegion(config, to)], to, reason, force };
}

/** The switch a flag names, in words (the question, the refusal of a second one). */
export function describeSwitch(s: Pick<SwitchRecord, 'action' | 'awayFrom' | 'to'>): string {
  return s.action === 'drain'
    ? `${s.awayFrom.join(' and ')} drained (clients answered by ${s.to})`
    : `failover to ${s.to} (traffic held away from ${s.awayFrom.join(' and ')})`;
}

export const sameSwitch = (a: Pick<SwitchRecord, 'action' | 'awayFrom' | 'to'>, b: typeof a) =>
  a.action === b.action && a.to === b.to && a.awayFrom.join() === b.awayFrom.join();

/**
 * What the switch depends on that may fail with the region traffic leaves (docs/switch.md "What
 * must be reachable"), as one warning line, or undefined. An S3 state whose bucket is in that
 * region cannot be read, locked or written when the region fails; with the primary in us-east-1
 * an outage there can take Route 53's control plane, which lives only in us-east-1, with it:
 * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/route-53-concepts.html#route-53-concepts-control-and-data-plane
 */
export function staticStabilityWarning(
  config: Config,
  intent: Pick<SwitchIntent, 'awayFrom'>,
  stateRegion: string | undefined,
): string | undefined {
  const words: string[] = [];
  if (stateRegion && intent.awayFrom.includes(stateRegion))
    words.push(
      `the state's S3 bucket is in ${stateRegion}, the region traffic leaves: if ${stateRegion} fails, drctl cannot read, lock or record the switch; keep the state in another region`,
    );
  if (config.primary.region === 'us-east-1')
    words.push(
      "the primary is us-east-1, where Route 53's API lives: the switch needs no Route 53 API, but `up`, `down` and repairs of records and checks wait while us-east-1 is out",
    );
  if (!words.length) return undefined;
  return `warning: ${words.join('; and ')} (docs/switch.md "What must be reachable")`;
}
