import { AWS_ERRORS } from '../errors/aws.js';
import { awsCode, isServerErrorCode, isThrottled } from './errors.js';

/**
 * What drctl says about AWS calls while they happen: each retry on the progress line, each call
 * with --debug. Kept apart from the error classification (errors.ts): this module only words it.
 */

/** One retry of our retry layer (clients.ts), before it sleeps. */
export interface RetryInfo {
  service: string;
  command: string;
  region: string;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  error: unknown;
}

/** One HTTP attempt as the SDK made it (--debug). Never the request's parameters or headers. */
export interface CallInfo {
  service: string;
  command: string;
  region: string;
  /** HTTP status, when an answer came. */
  status?: number;
  /** The AWS error code, or the network error's code, when it failed. */
  error?: string;
  ms: number;
}

// Re-exported: the set moved to errors.ts, one list of server-error codes.
export { isServerErrorCode };

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

const wording = (code: string) => AWS_ERRORS.find((r) => r.code === code)?.wording ?? code;
const SERVER_ERROR = wording('aws.server-error');
const THROTTLED = wording('aws.throttled');

/** Why a call is retried, in words: "throttled (ThrottlingException)", "server error 503 (ServiceUnavailable)". */
export function retryReason(e: unknown): string {
  const code = awsCode(e) ?? (e as { code?: string } | undefined)?.code ?? (e as Error | undefined)?.name;
  const status = statusOf(e);
  const serverError = () => `${SERVER_ERROR}${status ? ` ${status}` : ''}${code ? ` (${code})` : ''}`;
  if (isServerErrorCode(code)) return serverError();
  // Throttling codes first: S3's SlowDown comes with a 503.
  if (isThrottled(e)) return `${THROTTLED} (${code})`;
  if (status !== undefined && status >= 500) return serverError();
  return code ?? 'failed';
}

/** The progress line while a call is retried: "DeleteRestApi throttled (TooManyRequestsException), retry 3 in 8 s". */
export function retryText(i: RetryInfo): string {
  return `${i.command} ${retryReason(i.error)}, retry ${i.attempt} in ${Math.max(1, Math.round(i.delayMs / 1000))} s`;
}

/** One --debug line: "aws: EC2 DescribeVpcs sa-east-1 200 123 ms". */
export function callText(c: CallInfo): string {
  const outcome = c.status !== undefined ? String(c.status) : 'no answer';
  return `aws: ${c.service} ${c.command} ${c.region} ${outcome}${c.error ? ` ${c.error}` : ''} ${c.ms} ms`;
}
