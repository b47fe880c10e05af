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
