import { setMaxListeners } from 'node:events';
import { InterruptedError } from '../errors/errors.js';
import type { Reporter } from '../io/reporter.js';

/**
 * Ctrl-C (SIGINT) and SIGTERM. The first: no new AWS call starts, waits end, and the calls in
 * flight get GRACE_MS to answer (a create's answer is recorded) before they are cancelled; the
 * state is saved and the lock released as on any other end. The second cancels every call at
 * once, including a drill's restore, and the process leaves within FORCE_EXIT_MS whatever hangs,
 * releasing a file lock on its way out.
 */
export interface Signals {
  /** The first Ctrl-C. */
  stop: AbortSignal;
  /** GRACE_MS after the first Ctrl-C, or the second. */
  cancelCalls: AbortSignal;
  /** The second Ctrl-C. */
  forced: AbortSignal;
  /** Run just before a forced exit (synchronous: release a file lock). */
  onForcedExit: Set<() => void>;
}

const GRACE_MS = 3_000;
const FORCE_EXIT_MS = 5_000;

/**
 * The signals of one command run. `external` (tests) stands for Ctrl-C; without it SIGINT and
 * SIGTERM are listened to until `dispose`.
 */
export function watchSignals(
  reporter: Reporter,
  external?: AbortSignal,
): { signals: Signals; dispose: () => void } {
  const controller = new AbortController();
  const cancelCalls = new AbortController();
  const forced = new AbortController();
  // Every AWS call in flight listens to these (one listener each): no leak warning past ten.
  setMaxListeners(0, controller.signal, cancelCalls.signal, forced.signal);
  const signals: Signals = {
    stop: controller.signal,
    cancelCalls: cancelCalls.signal,
    forced: forced.signal,
    onForcedExit: new Set(),
  };
  const onSignal = () => {
    if (controller.signal.aborted) {
      reporter.line('interrupted again: cancelling the AWS calls in flight');
      cancelCalls.abort(new InterruptedError());
      forced.abort(new InterruptedError());
      setTimeout(() => {
        for (const f of signals.onForcedExit) f();
        process.exit(130);
      }, FORCE_EXIT_MS).unref();
      return;
    }
    reporter.line('interrupted: stopping and saving the state (Ctrl-C again to stop at once)');
    controller.abort(new InterruptedError());
    setTimeout(() => cancelCalls.abort(new InterruptedError()), GRACE_MS).unref();
  };
  if (external) {
    external.addEventListener(
      'abort',
      () => {
        controller.abort(new InterruptedError());
        cancelCalls.abort(new InterruptedError());
      },
      { once: true },
    );
    return { signals, dispose: () => {} };
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signals,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
