import type { ExitCode } from '../errors/errors.js';
import type { BareSession, Session } from '../cli/session.js';
import type { ConfigArgs } from './config.js';
import type { DiscoverDownArgs } from './discover-down.js';
import type { DrillsArgs } from './drills.js';
import type { FailbackArgs } from './failback.js';
import type { FailoverArgs } from './failover.js';
import type { FailoverTestArgs } from './failover-test.js';
import type { IamPolicyArgs } from './iam-policy.js';
import type { PlanArgs } from './plan.js';
import type { ReportArgs } from './report.js';
import type { StatusArgs } from './status.js';
import type { UnlockArgs } from './unlock.js';
import type { UpDownStepArgs } from './up-down-step.js';
import type { VerifyArgs } from './verify.js';

// The command registry: name -> its module, loaded only when that command runs (like the step
// catalogue in src/steps/index.ts), so `drctl --help` loads none of them: no zod, no state store,
// no AWS SDK (test/perf/startup.test.ts). Everything here but the table is a type.

/** Each command's typed arguments, as src/cli/program.ts parses them from commander's options. */
export interface CommandArgs {
  up: Extract<UpDownStepArgs, { command: 'up' }>;
  step: Extract<UpDownStepArgs, { command: 'step' }>;
  down: Extract<UpDownStepArgs, { command: 'down' }>;
  /** `down --discover` */
  'discover-down': DiscoverDownArgs;
  plan: PlanArgs;
  status: StatusArgs;
  'failover-test': FailoverTestArgs;
  failover: FailoverArgs;
  failback: FailbackArgs;
  verify: VerifyArgs;
  drills: DrillsArgs;
  report: ReportArgs;
  config: ConfigArgs;
  'iam-policy': IamPolicyArgs;
  unlock: UnlockArgs;
}

export type CommandName = keyof CommandArgs;

export type CommandEntry<A> =
  /** Runs with the config loaded and the state located. */
  | {
      bare?: false;
      load: () => Promise<{ run: (s: Session, args: A) => Promise<ExitCode> }>;
      /** Whether it imports or compares api.openapi's file; the others run without it (down). */
      readsApiFile?: (args: A) => boolean;
    }
  /** Runs before either (`config`: a bad --state must not stop it). */
  | { bare: true; load: () => Promise<{ run: (s: BareSession, args: A) => Promise<ExitCode> }> };

export const COMMANDS: { [K in CommandName]: CommandEntry<CommandArgs[K]> } = {
  up: { load: () => import('./up-down-step.js'), readsApiFile: () => true },
  step: { load: () => import('./up-down-step.js'), readsApiFile: (a) => a.name === 'api' },
  down: { load: () => import('./up-down-step.js') },
  'discover-down': { load: () => import('./discover-down.js') },
  plan: { load: () => import('./plan.js') },
  status: { load: () => import('./status.js') },
  'failover-test': { load: () => import('./failover-test.js') },
  failover: { load: () => import('./failover.js') },
  failback: { load: () => import('./failback.js') },
  verify: { load: () => import('./verify.js'), readsApiFile: () => true },
  drills: { load: () => import('./drills.js') },
  report: { load: () => import('./report.js') },
  config: { bare: true, load: () => import('./config.js') },
  'iam-policy': { load: () => import('./iam-policy.js') },
  unlock: { load: () => import('./unlock.js') },
};
