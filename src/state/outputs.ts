import type { OutputsOf, StepName } from '../steps/types.js';
import type { State } from './schema.js';

// Typed readers of what the steps recorded, for code outside the steps (the drill, verify, the
// tests' harness): a step's outputs come back as the type that step declares (StepOutputs in
// src/steps/types.ts), so nobody re-declares them, reads them by string or casts them.

/** A state, or a store's `.state`: only the step records are read. */
export type RecordedSteps = { readonly steps: State['steps'] };

/** A step, or one field of it, that a reader needs and the state does not hold. */
export class OutputNotRecorded extends Error {
  constructor(
    readonly step: StepName,
    readonly scope: string,
    /** The missing field; undefined when the whole step is not recorded as ready. */
    readonly field?: string,
  ) {
    super(
      field === undefined
        ? `step ${step} in ${scope} is not recorded as ready`
        : `${field} of step ${step} in ${scope} is not recorded`,
    );
    this.name = 'OutputNotRecorded';
  }
}

/**
 * What a step recorded in a scope (a region, or 'global'), as far as it got: partial after a crash
 * or while it runs. Undefined when it recorded nothing there.
 */
export function recordedOutputs<S extends StepName>(
  state: RecordedSteps,
  step: S,
  scope: string,
): Partial<OutputsOf<S>> | undefined {
  const rec = state.steps[step]?.[scope];
  // The one place recorded JSON takes its step's type: every command that reads outputs loads the
  // state through Runner.load (src/engine/runner.ts), which checks each record against its step's
  // schema (a ready one against the whole schema, any other against its partial) and stops on a
  // hand-edited one (exit 2) before anything reads it.
  return rec ? (rec.resources as Partial<OutputsOf<S>>) : undefined;
}

/** A step's whole outputs in a scope; throws OutputNotRecorded unless the step is recorded as ready there. */
export function readOutputs<S extends StepName>(state: RecordedSteps, step: S, scope: string): OutputsOf<S> {
  const rec = state.steps[step]?.[scope];
  if (rec?.status !== 'ready') throw new OutputNotRecorded(step, scope);
  // Ready: checked against the step's whole schema on load (see recordedOutputs).
  return rec.resources as OutputsOf<S>;
}

/**
 * One recorded field, whatever the step's status: throws OutputNotRecorded naming step, scope and
 * field when it is absent, null or an empty string.
 */
export function outputField<S extends StepName, K extends keyof OutputsOf<S> & string>(
  state: RecordedSteps,
  step: S,
  scope: string,
  field: K,
): NonNullable<OutputsOf<S>[K]> {
  const v = recordedOutputs(state, step, scope)?.[field];
  if (v === undefined || v === null || v === '') throw new OutputNotRecorded(step, scope, field);
  return v;
}
