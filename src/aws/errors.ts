/**
 * One place that classifies SDK errors. Steps ask "is this not-found?" instead of matching codes,
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
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
]);

export function isThrottled(e: unknown): boolean {
  const code = awsCode(e);
  return code !== undefined && THROTTLED.has(code);
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
 * Errors that clear on their own within seconds to minutes: throttling, and the eventual
 * consistency cases the steps know about (a peering not yet visible in the accepter region,
 * an IAM role Synthetics cannot assume yet).
 */
export function isTransient(e: unknown): boolean {
  if (isThrottled(e)) return true;
  if (!isAwsError(e)) return false;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
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
