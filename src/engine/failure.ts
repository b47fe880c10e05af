import { awsCode, isServerError, isThrottled } from '../aws/errors.js';
import { AwsStepError, DrctlError, InterruptedError, errorMessage } from '../errors/errors.js';
import type { PlanNode } from './graph.js';

// How a step's failure leaves the runner: as a DrctlError naming step, region, resource and AWS
// code, with what to do about it.

/** Every failure leaves the runner as a DrctlError naming step, region, resource and AWS code. */
export function wrapFailure(
  e: unknown,
  n: Pick<PlanNode, 'step' | 'scope'>,
  ctx: { lastProgress?: string },
  aborted: boolean,
): DrctlError {
  if (aborted) return new InterruptedError(`${n.step} in ${n.scope} was interrupted`);
  const base = { step: n.step, region: n.scope };
  if (e instanceof DrctlError) {
    return Object.assign(e, { context: { ...base, ...stripUndefined(e.context) } });
  }
  const code = awsCode(e);
  const resource = ctx.lastProgress?.split(':')[0];
  return new AwsStepError(`${n.step} (${n.scope}): ${code ? `${code}: ` : ''}${errorMessage(e)}`, {
    ...base,
    resource,
    awsCode: code,
    cause: e,
    resolution: resolutionFor(code),
  });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function resolutionFor(code: string | undefined): string {
  if (!code) return 'Run the same command again to resume; add --verbose for the stack trace.';
  if (/AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(code)) {
    return 'Your credentials lack a permission: see `drctl iam-policy` for the policy drctl needs.';
  }
  if (
    /ExpiredToken|InvalidClientTokenId|UnrecognizedClient|CredentialsProviderError|TokenRefresh/i.test(code)
  ) {
    return 'Your AWS credentials are missing or expired: run `aws sso login` (with --profile if you use one) and retry.';
  }
  if (isThrottled({ name: code, message: '', $metadata: {} })) {
    return 'AWS throttled drctl beyond its retries: wait a minute and run the same command again.';
  }
  if (isServerError({ name: code, message: '', $metadata: {} })) {
    return 'AWS answered with a server error, also when drctl retried: run the same command again in a few minutes (it looks for what a failed create may have made before creating), or check the AWS Health Dashboard.';
  }
  if (/LimitExceeded|Quota/i.test(code))
    return 'An account quota is reached: raise it in Service Quotas or remove unused resources.';
  return 'Fix the cause named above, then run the same command again: finished work is kept and not redone.';
}
