import type { AwsClients } from '../aws/clients.js';
import type { Clock } from '../lib/clock.js';
import type { Config } from '../config/config.js';
import type { StateStore } from '../state/store.js';
import type { StepInfo } from '../steps/index.js';
import type { DrillMode, FailoverBound } from './bound.js';
import type { DrillChange } from '../state/drill-record.js';

// What the failover drill hands out: its context, its events, its result (run.ts says how a drill
// goes). The engine never prints: it hands these typed events to `emit` and returns the result.

export type { DrillMode } from './bound.js';
export type { DrillEvent, MarkKey } from '../io/events.js';
import type { DrillEvent, MarkKey } from '../io/events.js';

export interface Mark {
  key: MarkKey;
  label: string;
  /** Epoch ms when it was seen; undefined if not (yet). */
  at?: number;
  /** Why there is no time (not applicable, not seen before the timeout). */
  note?: string;
}

/** One probe answer while watching: what a client in a VPC got, and when. */
export interface ProbeSampleAt {
  t: number;
  phase: 'failover' | 'failback';
  /** The region whose VPC the probe ran in (the vantage point). */
  vantage: string;
  /** The region whose NLB the DNS answer named; none when it named neither (or no answer). */
  answered: 'primary' | 'secondary' | 'none';
  status?: number;
  /** The region whose API answered (from the body). */
  servedBy?: string;
  error?: string;
}

export interface DrillOptions {
  mode: DrillMode;
  /** The region the drill fails, by role (default primary; secondary in active-active only). */
  failRole?: 'primary' | 'secondary';
  /** How long each switch may take; default twice the bound. */
  timeoutMs?: number;
  dryRun?: boolean;
  /** How often the probe is invoked while watching (default 5 s). */
  pollIntervalMs?: number;
}

export interface DrillContext {
  config: Config;
  store: StateStore;
  aws: AwsClients;
  clock: Clock;
  signal: AbortSignal;
  steps: readonly StepInfo[];
  emit(e: DrillEvent): void;
}

/** Where a drill watches from: a probe in that region's VPC. */
export interface Vantage {
  region: string;
  /**
   * true: clients here must leave the failed region and come back (the recovery is measured here);
   * false: clients here are served by the other region throughout (active-active).
   */
  moves: boolean;
}

interface Common {
  mode: DrillMode;
  topology: Config['topology'];
  primary: string;
  secondary: string;
  /** The region the drill fails, and the one its clients must be served by meanwhile. */
  failedRegion: string;
  otherRegion: string;
  vantages: Vantage[];
  name: string;
  bound: FailoverBound;
  rtoTargetSeconds: number;
  timeoutSeconds: number;
  preconditions: string[];
}

export interface DryRunResult extends Common {
  dryRun: true;
  /** What the drill would change, then put back. */
  wouldChange: string[];
}

export interface DrillResult extends Common {
  dryRun: false;
  ok: boolean;
  /** Why it is not ok (empty when ok). */
  problems: string[];
  failover: Mark[];
  failback: Mark[];
  /** Fault injected -> first 200 from the other region, where clients move. */
  recoverySeconds?: number;
  /** Restored -> first 200 from the failed region again. */
  failbackSeconds?: number;
  changes: DrillChange[];
  probes: number;
  /** Every probe answer of both phases, in order (the report's timeline). */
  samples: ProbeSampleAt[];
}
