import { CONNECTION_ERRORS, CREDENTIAL_CODES, isServerError, isThrottled } from '../aws/errors.js';
import type { ErrorCode } from './errors.js';

/**
 * THE table of AWS errors: which drctl code an AWS error code becomes, how it is worded in a
 * line (the retry line, a step's failure) and what the person should do. Every place that gives
 * advice for an AWS error reads it (the runner for a step, `verify` for a check, the S3 state
 * backend), so the same refusal is never explained two ways. Which codes are which lives with
 * the SDK plumbing (src/aws/errors.ts); this module only names and advises.
 */

/** Where the advice is given; each says the next step in its own terms. */
export type AdviceContext = 'run' | 'verify' | 'state';

export interface AwsErrorClass {
  code: ErrorCode;
  /** A few words for a line: "throttled (ThrottlingException)". */
  wording: string;
  /** Whether an AWS error code (or an SDK/network error name) is of this class. */
  matches: (awsCode: string) => boolean;
  /** Advice by context; a context not given takes the unclassified row's advice for it. */
  resolution: { run: string; verify?: string; state?: (permissions: string) => string };
}

const ACCESS_DENIED = /AccessDenied|UnauthorizedOperation|NotAuthorized|AuthorizationError|Forbidden/i;
const CREDENTIALS_EXPIRED = /ExpiredToken|TokenRefresh|CredentialsProviderError|TokenProviderError/i;
const CREDENTIALS =
  'Your AWS credentials are missing or expired: run `aws sso login` (with --profile if you use one) and retry.';
const asError = (code: string) => ({ name: code, message: '', $metadata: {} });

/** First match wins: order matters (RequestLimitExceeded is throttling, not a quota). */
export const AWS_ERRORS: readonly AwsErrorClass[] = [
  {
    code: 'aws.access-denied',
    wording: 'access denied',
    matches: (c) => ACCESS_DENIED.test(c),
    resolution: {
      run: 'Your credentials lack a permission: see `drctl iam-policy` for the policy drctl needs.',
      verify: 'Grant the read-only verify policy (`drctl iam-policy --read-only`), then run verify again.',
      state: (permissions) => `The state on S3 needs ${permissions}.`,
    },
  },
  {
    code: 'credentials.expired',
    wording: 'credentials expired',
    matches: (c) => CREDENTIALS_EXPIRED.test(c),
    resolution: { run: CREDENTIALS },
  },
  {
    code: 'credentials.invalid',
    wording: 'credentials not valid',
    matches: (c) => CREDENTIAL_CODES.has(c) || /InvalidClientTokenId|UnrecognizedClient/i.test(c),
    resolution: { run: CREDENTIALS },
  },
  {
    code: 'aws.throttled',
    wording: 'throttled',
    matches: (c) => isThrottled(asError(c)),
    resolution: {
      run: 'AWS throttled drctl beyond its retries: wait a minute and run the same command again.',
    },
  },
  {
    code: 'aws.server-error',
    wording: 'server error',
    matches: (c) => isServerError(asError(c)),
    resolution: {
      run: 'AWS answered with a server error, also when drctl retried: run the same command again in a few minutes (it looks for what a failed create may have made before creating), or check the AWS Health Dashboard.',
    },
  },
  {
    code: 'aws.unreachable',
    wording: 'no answer',
    matches: (c) => CONNECTION_ERRORS.has(c),
    resolution: {
      run: 'Check the network path to that endpoint (proxy, VPN, firewall, AWS_ENDPOINT_URL*), then run the same command again; DRCTL_HTTP_TIMEOUT_MS sets the time-out of each attempt.',
    },
  },
  {
    code: 'aws.quota',
    wording: 'quota reached',
    matches: (c) => /LimitExceeded|Quota/i.test(c),
    resolution: {
      run: 'An account quota is reached: raise it in Service Quotas or remove unused resources.',
    },
  },
];

const OTHER_VERIFY = 'Run verify again; if it persists, check your credentials and the AWS Health Dashboard.';
const OTHER_STATE = () =>
  'Run the same command again; if it persists, check the bucket and your credentials.';

/** Any other AWS error. */
export const AWS_OTHER: AwsErrorClass = {
  code: 'aws.failed',
  wording: 'failed',
  matches: () => true,
  resolution: {
    run: 'Fix the cause named above, then run the same command again: finished work is kept and not redone.',
    verify: OTHER_VERIFY,
    state: OTHER_STATE,
  },
};

/** A failure that carries no AWS code at all (a step's own error, a plain exception). */
export const NO_AWS_CODE: AwsErrorClass = {
  ...AWS_OTHER,
  resolution: {
    ...AWS_OTHER.resolution,
    run: 'Run the same command again to resume; add --verbose for the stack trace.',
  },
};

/** The table's row for an AWS error code (undefined: no code). */
export function awsErrorClass(code: string | undefined): AwsErrorClass {
  if (!code) return NO_AWS_CODE;
  return AWS_ERRORS.find((r) => r.matches(code)) ?? AWS_OTHER;
}

/** The table's row of a drctl code (for a site that knows the class, not the AWS code). */
export function awsErrorRow(code: ErrorCode): AwsErrorClass {
  return [...AWS_ERRORS, AWS_OTHER].find((r) => r.code === code) ?? AWS_OTHER;
}

/** What to do about an AWS error with this code, said for `context`. */
export function awsAdvice(
  code: string | undefined,
  context: AdviceContext = 'run',
  permissions = '',
): string {
  const row = awsErrorClass(code);
  if (context === 'run') return row.resolution.run;
  if (context === 'verify') return row.resolution.verify ?? OTHER_VERIFY;
  return (row.resolution.state ?? OTHER_STATE)(permissions);
}
