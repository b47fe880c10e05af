import { STEPS, type StepInfo } from '../../src/steps/index.js';
import type { StepName } from '../../src/steps/types.js';

/** `names` and every step they need first (their `after` and `uses` edges, transitively), in catalogue order. */
export function withPrerequisites(...names: StepName[]): StepInfo[] {
  const wanted = new Set<StepName>();
  const add = (n: StepName): void => {
    if (wanted.has(n)) return;
    wanted.add(n);
    const s = STEPS.find((x) => x.name === n);
    if (!s) throw new Error(`no step ${n}`);
    for (const d of [...s.after, ...s.uses]) add(d);
  };
  names.forEach(add);
  return STEPS.filter((s) => wanted.has(s.name));
}

/** The `steps` dependency of `main` for these steps and everything they need. */
export const upTo = (...names: StepName[]): { steps: StepInfo[] } => ({ steps: withPrerequisites(...names) });

/** What `upTo(names)` runs, without `names` themselves: the steps to `up` before testing them. */
export const priorTo = (...names: StepName[]): { steps: StepInfo[] } => ({
  steps: withPrerequisites(...names).filter((s) => !names.includes(s.name)),
});

/** Exactly these steps (where a test wants fewer than the edges imply). */
export const only = (...names: StepName[]): { steps: StepInfo[] } => ({
  steps: STEPS.filter((s) => names.includes(s.name)),
});
