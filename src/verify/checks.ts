import { apiAdmits } from './admit-check.js';
import { apiDrift } from './api-drift.js';
import type { VerifyCheck } from './check.js';
import {
  ACM_RENEWAL_ACTIONS,
  CERT_FAIL_DAYS,
  CERT_WARN_DAYS,
  caRenewal,
  certificates,
} from './certificate-checks.js';
import { ALARM_DATA_WINDOW_MS, alarmFed, failoverRecords, primaryHealthCheck } from './failover-checks.js';
import { invokeProbe, listeners, peering, probeThroughNlb, secondaryTargets } from './path-checks.js';
import { configUnchanged, resourcesExist, stateComplete } from './state-checks.js';
import { switchHeld } from './switch-checks.js';

// The checks behind `drctl verify`, in the order `verify` runs and prints them; check.ts says what
// a check is. The checks live by kind: state-checks.ts (built, unchanged), path-checks.ts (answers,
// listens, peers), certificate-checks.ts (TLS keeps verifying), failover-checks.ts (would fail over).

export type { CheckLine, Verdict, VerifyCheck, VerifyContext } from './check.js';
export {
  ACM_RENEWAL_ACTIONS,
  apiAdmits,
  apiDrift,
  ALARM_DATA_WINDOW_MS,
  CERT_FAIL_DAYS,
  CERT_WARN_DAYS,
  alarmFed,
  caRenewal,
  certificates,
  configUnchanged,
  failoverRecords,
  invokeProbe,
  listeners,
  peering,
  primaryHealthCheck,
  probeThroughNlb,
  resourcesExist,
  secondaryTargets,
  stateComplete,
  switchHeld,
};

/** In the order people read them: is traffic held by a switch, is it built, is it the same, does it answer, would it fail over. */
export const CHECKS: readonly VerifyCheck[] = [
  // A held incident switch first: it is what an operator must know before reading the rest.
  switchHeld,
  stateComplete,
  configUnchanged,
  resourcesExist,
  apiAdmits,
  apiDrift,
  probeThroughNlb,
  certificates,
  caRenewal,
  listeners,
  primaryHealthCheck,
  alarmFed,
  failoverRecords,
  peering,
  secondaryTargets,
];
