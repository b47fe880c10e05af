/**
 * Typed events to the one output host (reporter.ts): the runner's (RunEvent) and the drill's
 * (DrillEvent). Neither the engine nor the drill prints. verify's checks are its result
 * (results.ts), printed once they are all known.
 */
export type Outcome = 'created' | 'unchanged' | 'deleted' | 'absent';

export type MarkKey = 'fault' | 'alarm' | 'health-check' | 'dns' | 'served';

export type RunEvent =
  | { type: 'run-start'; command: string; t: number; nodes: number }
  | { type: 'step-start'; step: string; scope: string; title: string; t: number }
  | { type: 'step-progress'; step: string; scope: string; text: string; elapsedMs: number; t: number }
  | {
      type: 'step-done';
      step: string;
      scope: string;
      outcome: Outcome;
      elapsedMs: number;
      t: number;
      resources?: Record<string, unknown>;
    }
  | {
      type: 'step-failed';
      step: string;
      scope: string;
      elapsedMs: number;
      t: number;
      /** stack: the error's stack and its causes' (shown with --verbose only). */
      error: { message: string; code?: string; resource?: string; resolution?: string; stack?: string };
    }
  | {
      type: 'step-skipped';
      step: string;
      scope: string;
      reason: string;
      t: number;
      /** Said once for the whole run by the command (credentials that stopped working): no line of its own but with --verbose. */
      quiet?: boolean;
    }
  | { type: 'log'; level: 'info' | 'warn'; step?: string; scope?: string; message: string; t: number };

/** What the failover drill reports while it runs (src/drill/). */
export type DrillEvent =
  | { type: 'precondition'; text: string; t: number }
  | { type: 'wait'; text: string; t: number }
  | { type: 'restored-pending'; text: string; t: number }
  | { type: 'change'; phase: 'inject' | 'restore'; text: string; t: number }
  | { type: 'mark'; phase: 'failover' | 'failback'; key: MarkKey; label: string; t: number; sinceMs: number }
  | { type: 'probe'; phase: 'failover' | 'failback'; text: string; t: number };

/** Every event drctl hands to its output host. */
export type DrctlEvent = RunEvent | DrillEvent;

export interface EventSink {
  emit(e: RunEvent): void;
}

export const nullSink: EventSink = { emit: () => undefined };
