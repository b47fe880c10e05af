import type { SwitchRecord } from './switch-record.js';

// How a held incident switch (state.switch, src/state/switch-record.ts) is told to people: one
// line, the same in `plan`, `up`, `status`, `verify`, `failover-test`'s refusal and the report,
// so an operator reading any of them sees the same since / by whom / why / where clients go.

/** `held: failover to us-west-1 (away from sa-east-1) since ..., by ..., "reason"`. */
export function heldSwitchText(sw: SwitchRecord): string {
  const what =
    sw.action === 'failover'
      ? `failover to ${sw.to} (away from ${sw.awayFrom.join(', ')})`
      : `drain of ${sw.awayFrom.join(', ')}`;
  const forced = sw.forced ? ' (--force)' : '';
  return `${sw.phase}: ${what}${forced} since ${sw.heldSince ?? sw.startedAt}, by ${sw.principal}, reason "${sw.reason}"; clients go to ${sw.to}`;
}

/** What undoes it: the one command that releases a switch. */
export const RELEASE = 'Run `drctl failback` to release it.';
