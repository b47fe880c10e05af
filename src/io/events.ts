/** Typed events from the engine to the one output host (report.ts). The engine never prints. */
export type Outcome = 'created' | 'unchanged' | 'deleted' | 'absent';

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

export interface EventSink {
  emit(e: RunEvent): void;
}

export const nullSink: EventSink = { emit: () => undefined };
