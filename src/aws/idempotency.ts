/**
 * Which calls may be sent again after an answer that leaves unknown whether AWS applied them: a
 * 5xx, a dropped connection, a time-out. The SDK's standard retry resends every such failure, of
 * any operation (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html), and
 * so did drctl's own layer; for a create without an idempotency token that can make a second
 * resource, or lose an answer AWS gives only once (a key pair's private key).
 *
 * The client factory reads this table: a call listed as not resendable goes out with the SDK's
 * retry off and is never resent by drctl either; its server error fails the step, and the runner
 * runs the step again from the top, which looks for what the call may have made (by token, tag,
 * name or owner mark) before creating. docs/reliability.md says the same for users.
 *
 * A command missing from the table counts as not resendable unless it only reads
 * (test/aws/idempotency.test.ts checks every command drctl sends is classified).
 */

type Rule = true | false | ((input: Record<string, unknown>) => boolean);

const has = (field: string) => (input: Record<string, unknown>) =>
  typeof input[field] === 'string' && input[field] !== '';

/** Resendable: a repeat returns the first call's result (token, or the same name and settings). */
const IDEMPOTENT: Record<string, Rule> = {
  // Tokens: a repeat with the same token answers with the first call's resource.
  CreateVpcEndpoint: has('ClientToken'),
  CreateStack: has('ClientRequestToken'),
  UpdateStack: has('ClientRequestToken'),
  RequestCertificate: has('IdempotencyToken'),
  CreateCertificateAuthority: has('IdempotencyToken'),
  IssueCertificate: has('IdempotencyToken'),
  // CallerReference: a repeat returns the same check (same settings), or HostedZoneAlreadyExists,
  // which the hosted-zone step resolves by looking the reference up.
  CreateHostedZone: has('CallerReference'),
  CreateHealthCheck: has('CallerReference'),
  // ELBv2 answers a repeat with identical settings with the existing resource
  // (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html,
  // API_CreateTargetGroup.html, API_CreateListener.html: "This operation is idempotent").
  CreateLoadBalancer: true,
  CreateTargetGroup: true,
  CreateListener: true,
  // Set or overwrite to a given value: applying twice is applying once.
  PutMetricAlarm: true,
  // The switch's hold (src/switch/hold.ts: `failover`, `failback` and `up` re-tripping it): a repeat adds the same value at the same timestamp,
  // and the hold alarm reads the Maximum, so twice is once (src/config/traffic-hold.ts).
  PutMetricData: true,
  PutRolePolicy: true,
  PutRestApi: true,
  PutObject: true,
  PutBucketEncryption: true,
  PutBucketLifecycleConfiguration: true,
  PutBucketPolicy: true,
  PutBucketTagging: true,
  PutPublicAccessBlock: true,
  TagResource: true,
  TagRole: true,
  ChangeTagsForResource: true,
  ModifyListener: true,
  RegisterTargets: true,
  DeregisterTargets: true,
  ReplaceRoute: true,
  UpdateDomainName: true,
  // replace and remove of stage settings set a value whatever was there (drctl sends no add); a
  // repeated remove of a whole method setting is refused, and the api step reads the stage again.
  UpdateStage: true,
  UpdateCertificateAuthority: true,
  UpdateTrafficPolicyInstance: true,
  UpdateFunctionConfiguration: true,
  UpdateFunctionCode: true,
  ImportCertificateAuthorityCertificate: true,
  // UPSERT sets the record whatever was there; CREATE and DELETE fail when repeated.
  ChangeResourceRecordSets: (input) => {
    const changes = (input.ChangeBatch as { Changes?: Array<{ Action?: string }> } | undefined)?.Changes;
    return Array.isArray(changes) && changes.every((c) => c.Action === 'UPSERT');
  },
  // Deletes: a repeat finds nothing, which every `down` treats as done.
  DeleteAlarms: true,
  DeleteBasePathMapping: true,
  DeleteBucket: true,
  DeleteCanary: true,
  DeleteDomainName: true,
  DeleteDomainNameAccessAssociation: true,
  DeletePermission: true,
  DeleteFunction: true,
  DeleteHealthCheck: true,
  DeleteHostedZone: true,
  DeleteKeyPair: true,
  DeleteLoadBalancer: true,
  DeleteObject: true,
  DeleteObjects: true,
  DeleteRestApi: true,
  DeleteRole: true,
  DeleteRolePolicy: true,
  DeleteRoute: true,
  DeleteStack: true,
  DeleteTargetGroup: true,
  DeleteTrafficPolicy: true,
  DeleteTrafficPolicyInstance: true,
  DeleteVpcEndpoints: true,
  DeleteVpcPeeringConnection: true,
  // Not resendable. No token: a repeat makes a second one.
  ImportRestApi: false,
  CreateVpcPeeringConnection: false,
  CreateDeployment: false,
  CreateTrafficPolicyVersion: false,
  // A repeat fails ("already exists") or, for CreateKeyPair, loses the private key AWS returned.
  CreateKeyPair: false,
  CreateRoute: false,
  CreateDomainName: false,
  CreateDomainNameAccessAssociation: false,
  CreateBasePathMapping: false,
  CreatePermission: false, // a repeat is PermissionAlreadyExistsException; the ca step reads first
  CreateCanary: false,
  CreateFunction: false,
  CreateRole: false,
  CreateBucket: false,
  CreateTrafficPolicy: false,
  CreateTrafficPolicyInstance: false,
  AuthorizeSecurityGroupIngress: false,
  RevokeSecurityGroupIngress: false,
  // State changes that a repeat refuses once the first took effect (ConflictException,
  // InvalidStateTransition, an association that exists): the step reads the state again instead.
  AcceptVpcPeeringConnection: false,
  AssociateVPCWithHostedZone: false,
  DisassociateVPCFromHostedZone: false,
  StartCanary: false,
  StopCanary: false,
  UpdateCanary: false, // a repeat meets the first one's UPDATING: ConflictException
  UpdateRestApi: false, // its `add` patch operations are not idempotent
  // Sent with the HealthCheckVersion read before: a repeat after the first was applied meets a
  // higher version and fails with HealthCheckVersionMismatch
  // (https://docs.aws.amazon.com/Route53/latest/APIReference/API_UpdateHealthCheck.html). The
  // health-check step re-reads the check and compares; the drill does the same.
  UpdateHealthCheck: false,
  // A repeat finds the CA DELETED, which is InvalidStateException, not a not-found: "A private CA
  // can be deleted if it is in the PENDING_CERTIFICATE, CREATING, EXPIRED, DISABLED, or FAILED
  // state" (https://docs.aws.amazon.com/privateca/latest/APIReference/API_DeleteCertificateAuthority.html).
  // The ca step's down re-runs and counts a DELETED CA as done.
  DeleteCertificateAuthority: false,
  // Allowed only on a certificate tagged as ours (src/iam/policy.ts). A repeat after the first was applied
  // asks for a certificate that no longer exists, so no aws:ResourceTag key is in the request and
  // the condition fails: AccessDeniedException, not a not-found. "If the key that you specify in a
  // policy condition is not present in the request context, the values do not match"
  // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
  // The ca step's down re-runs, and DescribeCertificate (not tag-scoped) finds it gone.
  DeleteCertificate: false,
  // The probe function only reads (an HTTPS GET); a second run changes nothing.
  Invoke: true,
};

const READ_ONLY = /^(Describe|Get|List|Head|Test|Lookup)/;

export const isReadOnly = (command: string) => READ_ONLY.test(command);

/** Whether a call may be resent after a server error: reads always, mutating calls per the table. */
export function isResendable(command: string, input: unknown): boolean {
  if (isReadOnly(command)) return true;
  const rule = IDEMPOTENT[command];
  if (typeof rule === 'function') return rule((input ?? {}) as Record<string, unknown>);
  return rule === true;
}

/** Every mutating command the table classifies (for the test that keeps it complete). */
export const CLASSIFIED_COMMANDS: readonly string[] = Object.keys(IDEMPOTENT);
