import type { ErrorCode, ErrorContext, ExitCode } from '../errors/errors.js';
import type { NodeResult, RunResult } from '../engine/runner.js';
import type { DiscoverResult } from '../engine/discover.js';
import type { FailoverBound } from '../drill/bound.js';
import type { DrillHistoryRecord } from '../drill/history.js';
import type { PolicyDocument } from '../iam/policy.js';
import type { CloudFacts } from '../plan/cloud-facts.js';
import type { PlanDiff, ScopeDiff } from '../plan/diff.js';
import type { CostEstimate } from '../plan/pricing.js';
import type { LockInfo } from '../state/lock.js';
import type { State } from '../state/schema.js';
import type { StepName } from '../steps/types.js';
import type { CheckLine } from '../verify/checks.js';
import type { HoldDisagreement, HoldReading } from '../verify/switch-checks.js';

// The summary each command prints last on stdout with --json: a public contract (scripts and CI
// read it). Each command builds its summary as one of these types (`satisfies`), so a field that
// changes shape fails the type check here first. Types only: nothing here loads at run time.

/** Any command that ends in an error (src/cli/exit.ts). */
export type ErrorResult = {
  ok: false;
  exitCode: ExitCode;
  /** `code`: the stable name of the error (src/errors/errors.ts), for scripts to branch on. */
  error: ErrorContext & { code: ErrorCode; message: string; field?: string; resolution?: string };
};

/** One step at one scope, as `up`, `step` and `down` ran it. */
export type StepRunDoc = {
  step: StepName;
  scope: string;
  status: NodeResult['status'];
  outcome: NodeResult['outcome'];
  reason: string | undefined;
  error: (ErrorContext & { message: string; resolution: string | undefined }) | undefined;
};

/** `up`, `step`, `down` (and `down --discover --yes`, which ends as a `down`). */
export type LifecycleResult = {
  ok: boolean;
  exitCode: ExitCode;
  command: 'up' | 'down' | 'step';
  elapsedMs: number;
  results: StepRunDoc[];
  left: string[];
  /** domainMode private: everything is made but the name does not answer yet. */
  privateDomain?: { answering: false; message: string };
  /** `up` with a held switch: the regions whose hold was not in force and was tripped again. */
  holdTrippedAgain?: string[];
  /** `down` only. */
  remains?: RunResult['remains'];
  nothingToDelete?: true;
};

/** `down` asked to confirm, with nothing recorded and nothing found: nothing asked, nothing done. */
export type DownNothingToDeleteResult = {
  ok: true;
  exitCode: 0;
  command: 'down';
  nothingToDelete: true;
  results: [];
  left: [];
  remains: [];
};

export type FoundDoc = {
  step: DiscoverResult['step'];
  scope: string;
  what: string;
  id: string;
  recorded: boolean;
};

/** `down --discover` without --yes, or when a look-up failed (with --yes it ends as LifecycleResult). */
export type DiscoverDownResult = {
  ok: boolean;
  command: 'down';
  discover: true;
  found: FoundDoc[];
  deleted?: false;
  exitCode?: 1;
  errors?: Array<{ step: string; scope: string; message: string }>;
};

export type CertificateLifetime = {
  region: string;
  certificateArn: string;
  /** 'aws': read now (--refresh); 'recorded': what the last `up` saw. */
  source: 'aws' | 'recorded';
  status?: string;
  notAfter?: string;
  renewalEligibility?: string;
  renewalStatus?: string;
  renewalPermission?: 'granted' | 'missing';
};

export type StatusResult = {
  ok: boolean;
  exitCode: ExitCode;
  command: 'status';
  state: string;
  /** A held incident switch (state.switch), shown first. */
  switch?: State['switch'];
  /**
   * --refresh only: each region's hold as Route 53 and CloudWatch have it, and where it disagrees
   * with `switch` (src/verify/switch-checks.ts).
   */
  hold?: { readings: HoldReading[]; disagreements: HoldDisagreement[] } | undefined;
  steps: State['steps'];
  certificates: CertificateLifetime[];
  /**
   * --refresh only, config api.restApiId: the team's stage does not serve drctl's policy statement
   * yet (verify's check `api-admits`), and the command that deploys it.
   */
  admit?: { text: string; fix: string } | undefined;
  /** --refresh only. */
  drift: Array<{ step: string; scope: string; missing: string[] }> | undefined;
  unrecorded:
    Array<{ step: string; scope: string; resources: Array<{ what: string; id: string }> }> | undefined;
  errors: Array<{ step: string; scope: string; message: string }> | undefined;
};

export type PlanResult = {
  ok: true;
  command: 'plan';
  deployment: string;
  /** The config file, or 'defaults'. */
  config: string;
  state: string;
  steps: Array<{
    step: StepName;
    title: string;
    creates: string;
    after: readonly string[];
    scopes: Record<string, string>;
    actions: Record<string, ScopeDiff>;
  }>;
  changes: PlanDiff['changes'];
  appliedAt: PlanDiff['appliedAt'];
  counts: PlanDiff['counts'];
  /** With --refresh: what AWS said (read-only), already in steps and counts. */
  refreshed?: CloudFacts;
  cost: CostEstimate;
  worstCaseFailover: FailoverBound[];
};

export type IamPolicyResult = {
  ok: true;
  command: 'iam-policy';
  account: string;
  policies: PolicyDocument[];
};

export type UnlockResult =
  | { ok: true; command: 'unlock'; unlocked: false }
  | { ok: true; command: 'unlock'; unlocked: true; holder: LockInfo };

/** `verify`'s result, as kept beside the state (last-verify.json) and read back by `report`. */
export type VerifyResult = {
  command: 'verify';
  ready: boolean;
  exitCode: ExitCode;
  checkedAt: string;
  elapsedMs: number;
  deployment: string;
  regions: [string, string];
  counts: Record<CheckLine['status'], number>;
  checks: CheckLine[];
};

/** `verify`: the checks and the verdict; `saved` is where the result is kept beside the state. */
export type VerifyCommandResult = VerifyResult & { ok: boolean; saved: string | undefined };

/**
 * `failover-test`: these fields, then the drill's own (src/drill/render.ts drillSummary: mode,
 * regions, bound, timelines, problems, ...).
 */
export type FailoverTestResult = Record<string, unknown> & {
  ok: boolean;
  exitCode: ExitCode;
  command: 'failover-test';
  error?: { message: string; resolution: string | undefined };
};

/** `failover` and `failback`: the switch as recorded, and what was measured. */
export type SwitchResult = {
  ok: boolean;
  exitCode: ExitCode;
  command: 'failover' | 'failback';
  action: 'failover' | 'drain' | 'failback';
  to: string;
  awayFrom: string[];
  reason: string | undefined;
  principal: string;
  forced: boolean;
  /** held: the switch holds; released: failback removed it. */
  phase: 'held' | 'released';
  /** What a stopped drctl left and this run finished first. */
  resumed?: string;
  startedAt: string;
  heldSince?: string;
  /** First change -> every probe answered as wanted; null when not seen in time. */
  recoverySeconds: number | null;
  /** The switch's physical bound (src/drill/bound.ts switchBound), and its parts. */
  boundSeconds: number;
  bound: Array<{ what: string; seconds: number }>;
  checks: string[];
  problems: string[];
};

export type DrillsResult = {
  ok: true;
  command: 'drills';
  location: string;
  drills: Array<
    Pick<
      DrillHistoryRecord,
      | 'startedAt'
      | 'kind'
      | 'switch'
      | 'mode'
      | 'topology'
      | 'failedRegion'
      | 'dryRun'
      | 'result'
      | 'recoverySeconds'
      | 'failbackSeconds'
      | 'rtoTargetSeconds'
      | 'boundSeconds'
      | 'problems'
      | 'drctlVersion'
      | 'account'
      | 'regions'
    >
  >;
  unreadable: string[];
};

export type ReportResult = {
  ok: true;
  command: 'report';
  format: 'html' | 'md';
  out: string | undefined;
  drills: number;
  lastDrill: string | undefined;
  verify: string | undefined;
  charts: string[];
};
