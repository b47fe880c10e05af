// The drill's public face, as src/drill/command.ts and src/commands/ use it; the parts live beside it.
export type {
  DrillContext,
  DrillEvent,
  DrillMode,
  DrillOptions,
  DrillResult,
  DryRunResult,
  Mark,
  MarkKey,
  ProbeSampleAt,
  Vantage,
} from './types.js';
export { pendingDrill, restorePendingDrill } from './faults.js';
export { secondaryInActivePassive } from './preconditions.js';
export { runDrill } from './run.js';
export { requireComplete } from './targets.js';
