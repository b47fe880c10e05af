/**
 * One place that classifies SDK errors (which codes are which; src/errors/aws.ts names them and
 * says what to do). Steps ask "is this not-found?" instead of matching codes,
 * and the poller asks "is this transient?" to decide whether to retry.
 */
export interface AwsErrorLike {
  name: string;
  message: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $retryable?: unknown;
}

export function isAwsError(e: unknown): e is AwsErrorLike {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { name?: unknown }).name === 'string' &&
    '$metadata' in e
  );
}

export function awsCode(e: unknown): string | undefined {
  if (!isAwsError(e)) return undefined;
  const code = (e as { Code?: unknown }).Code;
  return typeof code === 'string' ? code : e.name;
}

const NOT_FOUND = new Set([
  'NotFoundException',
  'ResourceNotFoundException',
  'NoSuchEntity',
  'NoSuchEntityException',
  'NoSuchBucket',
  'NoSuchHostedZone',
  'NoSuchHealthCheck',
  'ResourceNotFound', // CloudWatch DeleteAlarms / SetAlarmState
  'NoSuchTrafficPolicy',
  'NoSuchTrafficPolicyInstance',
  'ValidationError', // CloudFormation: "Stack with id X does not exist"
  'LoadBalancerNotFound',
  'LoadBalancerNotFoundException',
  'TargetGroupNotFound',
  'TargetGroupNotFoundException',
  'ListenerNotFound',
  'ListenerNotFoundException',
  'CertificateNotFoundException',
  'InvalidKeyPair.NotFound',
  'InvalidVpcID.NotFound',
  'InvalidVpcEndpointId.NotFound',
  'InvalidVpcPeeringConnectionID.NotFound',
  'InvalidRoute.NotFound',
  'InvalidGroup.NotFound',
  'InvalidSubnetID.NotFound',
  'InvalidNetworkInterfaceID.NotFound',
  'InvalidPermission.NotFound',
]);

export function isNotFound(e: unknown): boolean {
  const code = awsCode(e);
  if (!code) return false;
  if (code === 'ValidationError') return /does not exist/i.test((e as AwsErrorLike).message);
  return NOT_FOUND.has(code) || (code.endsWith('.NotFound') && code.startsWith('Invalid'));
}

const ALREADY_EXISTS = new Set([
  'InvalidKeyPair.Duplicate',
  'AlreadyExistsException',
  'ConflictException',
  'EntityAlreadyExists',
  'EntityAlreadyExistsException',
  'HostedZoneAlreadyExists',
  'HealthCheckAlreadyExists',
  'DuplicateLoadBalancerName',
  'DuplicateTargetGroupName',
  'RouteAlreadyExists',
  'InvalidPermission.Duplicate',
  'BucketAlreadyOwnedByYou',
  'ResourceAlreadyExistsException',
]);

export function isAlreadyExists(e: unknown): boolean {
  const code = awsCode(e);
  return code !== undefined && ALREADY_EXISTS.has(code);
}

// Refused before AWS did anything: resending is always safe. A 5xx is not throttling: AWS may
// have done the work before it failed (isServerError below).
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'PriorRequestNotComplete', // Route 53: a change to the same resource is still in progress
]);

export function isThrottled(e: unknown): boolean {
  const code = awsCode(e);
  return code !== undefined && THROTTLED.has(code);
}

// Codes AWS services return for their own faults (HTTP 500 and 503), across the query, JSON and
// REST protocols. A 5xx is AWS failing, never drctl being throttled.
const SERVER_ERRORS = new Set([
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'InternalServerErrorException',
  'InternalServiceError',
  'InternalServiceErrorException',
  'InternalFailureException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServiceFailure',
  'ServiceException',
]);

export function isServerErrorCode(code: string | undefined): boolean {
  return code !== undefined && SERVER_ERRORS.has(code);
}

// What Node's HTTP stack throws when the connection drops mid-call; the SDK retries these too
// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
export const CONNECTION_ERRORS: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * AWS failed while handling the call (a 5xx, a dropped connection, a time-out): unlike throttling,
 * the call may have been applied. Resending a read is fine; resending a create without an
 * idempotency token may make a second resource (see idempotency.ts).
 */
export function isServerError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { code, name } = e as { code?: unknown; name?: unknown };
  if (typeof code === 'string' && CONNECTION_ERRORS.has(code)) return true;
  if (name === 'TimeoutError' || name === 'RequestTimeout' || name === 'RequestTimeoutException') return true;
  if (!isAwsError(e)) return false;
  const status = e.$metadata?.httpStatusCode;
  return SERVER_ERRORS.has(awsCode(e) ?? '') || (status !== undefined && status >= 500);
}

/**
 * Credentials that are missing or no longer valid, as the services and the SDK's providers say it:
 * ExpiredToken (query and XML services: STS, IAM, EC2, S3...) and ExpiredTokenException (JSON
 * ones), "The security token included in the request is expired", 403
 * (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html); InvalidClientTokenId /
 * UnrecognizedClientException for a key AWS does not know; and, before any request is sent, the
 * SDK's CredentialsProviderError / TokenProviderError when an SSO session has ended ("The SSO
 * session associated with this profile has expired").
 */
export const CREDENTIAL_CODES = new Set([
  'CredentialsProviderError',
  'TokenProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'AuthFailure',
  'UnauthorizedException',
]);

/** Whether `e`, or an error it wraps, says the credentials do not work (see CREDENTIAL_CODES). */
export function isCredentialsError(e: unknown): boolean {
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 5; x = x.cause, depth++) {
    if (CREDENTIAL_CODES.has(x.name) || CREDENTIAL_CODES.has(awsCode(x) ?? '')) return true;
  }
  return false;
}

const NOT_RESENT = Symbol.for('drctl.notResent');

/**
 * Marks a server error on a call that must not be sent blindly again (the client factory does,
 * for the commands idempotency.ts lists as not resendable): nothing retries it, and the step is
 * run again from the top, so it looks for what the call may have made before creating anything.
 */
export function markNotResent(e: unknown, command: string): void {
  if (typeof e === 'object' && e !== null && !(NOT_RESENT in e)) {
    Object.defineProperty(e, NOT_RESENT, { value: command, enumerable: false });
  }
}

/** The command whose server error left unknown whether it was applied, if `e` is one. */
export function notResentCommand(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const v = (e as Record<symbol, unknown>)[NOT_RESENT];
  if (typeof v === 'string') return v;
  // A step may wrap the AWS error in its own.
  const cause = (e as { cause?: unknown }).cause;
  return cause !== undefined && cause !== e ? notResentCommand(cause) : undefined;
}

const DEPENDENCY = new Set([
  'DependencyViolation',
  'ResourceInUse',
  'ResourceInUseException',
  'ResourceInUseFault',
  'DeleteConflict',
  'HostedZoneNotEmpty',
  'LastVPCAssociation',
  'InvalidStateException',
  'ConflictException',
  'HealthCheckInUse',
  'TrafficPolicyInUse',
  'BucketNotEmpty',
]);

/** A delete refused because something still depends on the resource (often ENIs draining). */
export function isDependencyInUse(e: unknown): boolean {
  const code = awsCode(e);
  return code !== undefined && DEPENDENCY.has(code);
}

/**
 * Errors that clear on their own within seconds to minutes, so the same call may simply be sent
 * again: throttling, and server errors, except on a call that must not be resent (markNotResent).
 * Steps add the eventual-consistency cases they know (a peering not yet visible in the accepter
 * region, an IAM role Synthetics cannot assume yet) through `retryOn`.
 */
export function isTransient(e: unknown): boolean {
  if (isThrottled(e)) return true;
  return isServerError(e) && notResentCommand(e) === undefined;
}

/** The call's result, or undefined when AWS says the resource does not exist. */
export async function unlessNotFound<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}
