import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  ListTagsForResourceCommand as ListAlarmTagsCommand,
  type MetricAlarm,
  PutMetricAlarmCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  type Role,
  TagRoleCommand,
} from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  type Canary,
  CreateCanaryCommand,
  DeleteCanaryCommand,
  paginateDescribeRuntimeVersions,
  GetCanaryCommand,
  type RuntimeVersion,
  StartCanaryCommand,
  StopCanaryCommand,
  SyntheticsClient,
  TagResourceCommand,
  UpdateCanaryCommand,
} from '@aws-sdk/client-synthetics';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { z } from 'zod';
import { IAM_REGION, deleteRoleWithInlinePolicies, getRole } from '../aws/resources/service-role.js';
import {
  CANARY_CA_PATH,
  CANARY_HANDLER,
  CANARY_SCRIPT,
  CANARY_SCRIPT_PATH,
} from '../assets/canary-script.js';
import { CANARY_NAMESPACE, canaryAlarmMetric } from '../config/canary-alarm.js';
import { awsCode, isAlreadyExists, isAwsError, isNotFound, unlessNotFound } from '../aws/errors.js';
import { EXPECTED, type Expectation } from '../aws/expected.js';
import { collect } from '../aws/pages.js';
import { isOwnedBy, tagMap, tagValue } from '../aws/tags.js';
import { secondaryCanary } from '../config/config.js';
import { AwsStepError } from '../errors/errors.js';
import type { Found, StepContext, StepImpl } from './types.js';

// Owns, in each region where it runs (always the primary; the secondary when config
// canary.secondary or topology active-active): the S3 artifact bucket <deployment>-canary-<account>-<region>, the IAM role
// <deployment>-canary-<region> with its inline policy, the Synthetics canary <deployment>-pri|sec
// (Synthetics makes its Lambda function and, in the VPC, its ENIs) and the CloudWatch alarm
// <deployment>-canary-<region> on the canary's SuccessPercent (M of N runs failed), which the
// health-check step watches.

const outputs = z.object({
  /** false in the secondary unless canary.secondary or active-active: then nothing else is set. */
  enabled: z.boolean(),
  canaryName: z
    .string()
    .max(21)
    .regex(/^[0-9a-z_-]+$/, 'must be a canary name: lowercase letters, digits, - and _')
    .optional(),
  alarmName: z.string().optional(),
  bucketName: z.string().optional(),
  roleName: z.string().optional(),
  runtimeVersion: z.string().optional(),
  /** The URL the canary calls, as a client does: https://<host>.<domain>/health. */
  probeUrl: z.string().optional(),
  /**
   * Where it connects: this region's own NLB DNS name (never the failover name, which after a
   * failover answers from the other region and would let the primary's check heal itself).
   */
  probeVia: z.string().optional(),
});
export type CanaryOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    canary: CanaryOutputs;
  }
}

type Ctx = StepContext<CanaryOutputs>;

const POLICY_NAME = 'drctl-canary';
const TAG_CONFIG = 'drctl:config-sha';
const ARTIFACT_PREFIX = 'canary';
const RUN_TIMEOUT_S = 30;
const PROBE_TIMEOUT_MS = 10_000;
/** The API's GET /health MOCK answers {"status":"ok","region":"<region>"} (src/assets/petstore-openapi.ts). */
const PROBE_PATH = '/health';
const CREATE_TIMEOUT_MS = 10 * 60_000;
const STATE_TIMEOUT_MS = 5 * 60_000;
// IAM roles take seconds (rarely a minute) before Lambda can assume them; Terraform waits twice
// its IAM window for canaries (https://github.com/hashicorp/terraform-provider-aws/pull/21499).
const ROLE_PROPAGATION_TIMEOUT_MS = 4 * 60_000;
// A zip is stamped with file times: a fixed one keeps the code (and its hash) the same every run.
const ZIP_MTIME = new Date('2020-01-01T00:00:00Z');

export const canaryNameFor = (deployment: string, role: 'primary' | 'secondary') =>
  `${deployment}-${role === 'primary' ? 'pri' : 'sec'}`;
export const alarmNameFor = (deployment: string, region: string) => `${deployment}-canary-${region}`;
const roleNameFor = (deployment: string, region: string) => `${deployment}-canary-${region}`;
const bucketNameFor = (deployment: string, account: string, region: string) =>
  `${deployment}-canary-${account}-${region}`;

function enabledIn(ctx: Ctx): boolean {
  return ctx.role === 'primary' || secondaryCanary(ctx.config);
}

function names(ctx: Ctx) {
  const role = ctx.role === 'secondary' ? 'secondary' : 'primary';
  return {
    canaryName: ctx.recorded.canaryName ?? canaryNameFor(ctx.config.deployment, role),
    alarmName: ctx.recorded.alarmName ?? alarmNameFor(ctx.config.deployment, ctx.region),
    roleName: ctx.recorded.roleName ?? roleNameFor(ctx.config.deployment, ctx.region),
  };
}

const sha = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);

function accountOf(roleArn: string): string {
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(roleArn);
  if (!m)
    throw new AwsStepError(`cannot read the account id from role ARN ${roleArn}`, { resource: roleArn });
  return m[1]!;
}

// ---- IAM role ------------------------------------------------------------------------------

const TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/**
 * Only what a VPC canary needs (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_CanaryPermissions.html),
 * scoped to our bucket prefix, our canary's log group and the Synthetics metric namespace.
 */
function rolePolicy(ctx: Ctx, account: string, bucketName: string, canaryName: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Artifacts',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject'],
        Resource: `arn:aws:s3:::${bucketName}/${ARTIFACT_PREFIX}/*`,
      },
      {
        Sid: 'ArtifactBucket',
        Effect: 'Allow',
        Action: 's3:GetBucketLocation',
        Resource: `arn:aws:s3:::${bucketName}`,
      },
      { Sid: 'ListBuckets', Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' },
      {
        Sid: 'Logs',
        Effect: 'Allow',
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: `arn:aws:logs:${ctx.region}:${account}:log-group:/aws/lambda/cwsyn-${canaryName}-*`,
      },
      {
        Sid: 'Metrics',
        Effect: 'Allow',
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': CANARY_NAMESPACE } },
      },
      {
        Sid: 'VpcNetworkInterfaces',
        Effect: 'Allow',
        Action: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface'],
        Resource: '*',
      },
    ],
  });
}

function notOurs(kind: string, name: string, ctx: Ctx): AwsStepError {
  return new AwsStepError(
    `${kind} ${name} exists but was not made by drctl deployment "${ctx.config.deployment}"`,
    { resource: name, resolution: `Delete or rename that ${kind}, or choose another \`deployment\` name.` },
  );
}

/** The role by name (recorded or ours by tag), created when missing; with its policy tag. */
async function ensureRole(ctx: Ctx, roleName: string): Promise<{ arn: string; policySha?: string }> {
  const iam = ctx.aws.client(IAMClient, IAM_REGION);
  ctx.progress(`role ${roleName}`);
  const adopt = (role: Role) => {
    if (!isOwnedBy(role.Tags, ctx.config.deployment) && ctx.recorded.roleName !== roleName) {
      throw notOurs('IAM role', roleName, ctx);
    }
    if (ctx.recorded.roleName !== roleName) ctx.record({ roleName });
    return { arn: role.Arn!, policySha: tagValue(role.Tags, TAG_CONFIG) };
  };
  const role = await getRole(ctx, roleName);
  if (role) return adopt(role);
  try {
    const r = await iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: TRUST_POLICY,
        Description: `drctl ${ctx.config.deployment}: execution role of the Synthetics canary in ${ctx.region}`,
        Tags: ctx.tags(),
      }),
    );
    ctx.record({ roleName });
    return { arn: r.Role!.Arn! };
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const raced = await getRole(ctx, roleName);
    if (!raced) throw e;
    return adopt(raced);
  }
}

/** The inline policy, put only when the role's tag says it differs (a re-run makes no call). */
async function ensureRolePolicy(ctx: Ctx, roleName: string, policy: string, current: string | undefined) {
  const want = sha(policy);
  if (current === want) return;
  const iam = ctx.aws.client(IAMClient, IAM_REGION);
  await iam.send(
    new PutRolePolicyCommand({ RoleName: roleName, PolicyName: POLICY_NAME, PolicyDocument: policy }),
  );
  await iam.send(new TagRoleCommand({ RoleName: roleName, Tags: [{ Key: TAG_CONFIG, Value: want }] }));
}

// ---- S3 artifact bucket --------------------------------------------------------------------

function bucketConfig(ctx: Ctx, bucketName: string) {
  const arn = `arn:aws:s3:::${bucketName}`;
  return {
    publicAccessBlock: {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    },
    encryption: {
      Rules: [
        { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const }, BucketKeyEnabled: true },
      ],
    },
    policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [arn, `${arn}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    }),
    lifecycle: {
      Rules: [
        {
          ID: 'expire-canary-artifacts',
          Status: 'Enabled' as const,
          Filter: { Prefix: '' },
          Expiration: { Days: ctx.config.canary.artifactExpiryDays },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    },
  };
}

type BucketTags = { exists: false } | { exists: true; tags: Array<{ Key?: string; Value?: string }> };

async function bucketTags(ctx: Ctx, bucketName: string): Promise<BucketTags> {
  try {
    const r = await ctx.aws
      .client(S3Client, ctx.region)
      .send(new GetBucketTaggingCommand({ Bucket: bucketName }));
    return { exists: true, tags: r.TagSet ?? [] };
  } catch (e) {
    if (awsCode(e) === 'NoSuchTagSet') return { exists: true, tags: [] };
    if (awsCode(e) === 'NoSuchBucket') return { exists: false };
    if (['AccessDenied', 'PermanentRedirect', 'AllAccessDisabled'].includes(awsCode(e) ?? '')) {
      throw new AwsStepError(`S3 bucket name ${bucketName} is taken by another account or region`, {
        resource: bucketName,
        awsCode: awsCode(e),
        resolution: 'Choose another `deployment` name (bucket names are global across all AWS accounts).',
        cause: e,
      });
    }
    throw e;
  }
}

async function ensureBucket(ctx: Ctx, bucketName: string): Promise<void> {
  const s3 = ctx.aws.client(S3Client, ctx.region);
  ctx.progress(`bucket ${bucketName}`);
  const cfg = bucketConfig(ctx, bucketName);
  const want = sha(cfg);
  const seen = await bucketTags(ctx, bucketName);
  if (seen.exists) {
    const deployment = tagValue(seen.tags, 'drctl:deployment');
    // The name carries our account id, so an untagged bucket of that name is one a crash left.
    if (deployment !== undefined && deployment !== ctx.config.deployment)
      throw notOurs('S3 bucket', bucketName, ctx);
    if (ctx.recorded.bucketName !== bucketName) ctx.record({ bucketName });
    if (tagValue(seen.tags, TAG_CONFIG) === want) return;
  } else {
    // Recorded before the call: the bucket is tagged only at the end of this function, and
    // `down` deletes an untagged bucket only if the state names it.
    if (ctx.recorded.bucketName !== bucketName) ctx.record({ bucketName });
    try {
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucketName,
          // us-east-1 refuses its own name as a LocationConstraint (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html).
          CreateBucketConfiguration:
            ctx.region === 'us-east-1' ? undefined : { LocationConstraint: ctx.region as never },
        }),
      );
    } catch (e) {
      if (awsCode(e) !== 'BucketAlreadyOwnedByYou') throw e;
    }
  }
  // Read-after-create can miss a new bucket for a moment (docs/design/timings.md, S3 CreateBucket).
  const put = (what: string, call: () => Promise<unknown>) =>
    ctx.retry(`bucket ${bucketName}: ${what}`, call, (e) => awsCode(e) === 'NoSuchBucket');
  await put('public access block', () =>
    s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: bucketName,
        PublicAccessBlockConfiguration: cfg.publicAccessBlock,
      }),
    ),
  );
  await put('encryption', () =>
    s3.send(
      new PutBucketEncryptionCommand({
        Bucket: bucketName,
        ServerSideEncryptionConfiguration: cfg.encryption,
      }),
    ),
  );
  await put('TLS-only policy', () =>
    s3.send(new PutBucketPolicyCommand({ Bucket: bucketName, Policy: cfg.policy })),
  );
  await put('lifecycle', () =>
    s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucketName,
        LifecycleConfiguration: cfg.lifecycle,
      }),
    ),
  );
  // Tagged last: the config tag says every setting above is in place.
  await put('tags', () =>
    s3.send(
      new PutBucketTaggingCommand({
        Bucket: bucketName,
        Tagging: { TagSet: [...ctx.tags(), { Key: TAG_CONFIG, Value: want }] },
      }),
    ),
  );
}

// ---- canary --------------------------------------------------------------------------------

async function getCanary(ctx: Ctx, name: string): Promise<Canary | undefined> {
  return unlessNotFound(
    async () =>
      (await ctx.aws.client(SyntheticsClient, ctx.region).send(new GetCanaryCommand({ Name: name }))).Canary,
  );
}

function versionOf(name: string, family: RegExp): number[] | undefined {
  const m = family.exec(name);
  return m ? m.slice(1).map(Number) : undefined;
}

/**
 * The newest current Node.js runtime: Puppeteer family first (our script needs no browser, but
 * every Node family runs it), then the browserless syn-nodejs-N. Deprecated runtimes cannot make
 * new canaries (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Runtime_Support_Policy.html).
 */
export function pickRuntime(versions: RuntimeVersion[]): string | undefined {
  const current = versions.filter((v) => v.VersionName && !v.DeprecationDate);
  for (const family of [/^syn-nodejs-puppeteer-(\d+)\.(\d+)$/, /^syn-nodejs-(\d+)\.(\d+)$/]) {
    const ranked = current
      .map((v) => ({ name: v.VersionName!, version: versionOf(v.VersionName!, family) }))
      .filter((v): v is { name: string; version: number[] } => v.version !== undefined)
      .sort((a, b) => b.version[0]! - a.version[0]! || b.version[1]! - a.version[1]!);
    if (ranked.length) return ranked[0]!.name;
  }
  return undefined;
}

async function chooseRuntime(ctx: Ctx): Promise<string> {
  const client = ctx.aws.client(SyntheticsClient, ctx.region);
  const all = await collect(paginateDescribeRuntimeVersions({ client }, {}), (p) => p.RuntimeVersions);
  const picked = pickRuntime(all);
  if (!picked) {
    throw new AwsStepError(`no current Node.js Synthetics runtime in ${ctx.region}`, {
      resource: 'DescribeRuntimeVersions',
      resolution: 'Check CloudWatch Synthetics runtime availability in this region.',
    });
  }
  return picked;
}

interface CanarySpec {
  name: string;
  roleArn: string;
  bucketName: string;
  /** <host>.<domain>: SNI and Host of the call. */
  host: string;
  probeUrl: string;
  probeVia: string;
  /** The region's private root CA certificate ('' with config.certificateArn: Node's roots only). */
  caPem: string;
  subnetIds: string[];
  securityGroupIds: string[];
}

/** The script and, beside it, the CA certificates it trusts. */
function canaryZip(s: CanarySpec): Uint8Array {
  return zipSync({
    [CANARY_SCRIPT_PATH]: [strToU8(CANARY_SCRIPT), { mtime: ZIP_MTIME }],
    [CANARY_CA_PATH]: [strToU8(s.caPem), { mtime: ZIP_MTIME }],
  });
}

/** The region's root CA certificate as the ca step wrote it (none for a region given certificateArn). */
function caPemOf(ctx: Ctx): string {
  const path = join(ctx.paths.ca, `${ctx.region}.pem`);
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function artifactLocation(ctx: Ctx, s: CanarySpec): string {
  return `s3://${s.bucketName}/${ARTIFACT_PREFIX}/${ctx.region}/${s.name}`;
}

/** Everything a canary is made from: a tag with this hash tells a re-run it needs no change. */
function canarySha(ctx: Ctx, s: CanarySpec): string {
  return sha({
    script: sha(CANARY_SCRIPT),
    ca: sha(s.caPem),
    handler: CANARY_HANDLER,
    probeUrl: s.probeUrl,
    probeVia: s.probeVia,
    region: ctx.region,
    roleArn: s.roleArn,
    artifacts: artifactLocation(ctx, s),
    retentionDays: ctx.config.canary.artifactExpiryDays,
    subnets: [...s.subnetIds].sort(),
    groups: [...s.securityGroupIds].sort(),
  });
}

// A new role, or the ENI permission its new policy grants, not yet seen by Lambda (IAM eventual
// consistency: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
const IAM_NOT_SPREAD_YET = /cannot be assumed|does not have permissions to call CreateNetworkInterface/i;
const roleNotAssumableYet = (e: unknown) =>
  awsCode(e) === 'ValidationException' && isAwsError(e) && IAM_NOT_SPREAD_YET.test(e.message);

/** Everything CreateCanary and UpdateCanary both take: all of a canary but its name, runtime and tags. */
function canarySettings(ctx: Ctx, s: CanarySpec) {
  const retention = Math.min(ctx.config.canary.artifactExpiryDays, 455);
  return {
    Code: { Handler: CANARY_HANDLER, ZipFile: canaryZip(s) },
    ArtifactS3Location: artifactLocation(ctx, s),
    ExecutionRoleArn: s.roleArn,
    // Every minute, until stopped (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryScheduleInput.html).
    Schedule: { Expression: 'rate(1 minute)', DurationInSeconds: 0 },
    RunConfig: {
      TimeoutInSeconds: RUN_TIMEOUT_S,
      EnvironmentVariables: {
        PROBE_HOST: s.host,
        PROBE_VIA: s.probeVia,
        PROBE_PATH: PROBE_PATH,
        EXPECTED_REGION: ctx.region,
        PROBE_TIMEOUT_MS: String(PROBE_TIMEOUT_MS),
      },
    },
    SuccessRetentionPeriodInDays: retention,
    FailureRetentionPeriodInDays: retention,
    VpcConfig: { SubnetIds: s.subnetIds, SecurityGroupIds: s.securityGroupIds },
  };
}

/**
 * A canary made from other settings, changed in place: deleting it and making it again leaves
 * minutes without a run, in which the alarm's range empties and the health check
 * (InsufficientDataHealthStatus Unhealthy) fails live traffic over. UpdateCanary changes all
 * but the name and tags (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_UpdateCanary.html);
 * a RUNNING canary stays RUNNING and the alarm, on the same CanaryName, keeps its data.
 */
async function updateCanary(ctx: Ctx, s: CanarySpec): Promise<Canary> {
  const syn = ctx.aws.client(SyntheticsClient, ctx.region);
  ctx.progress(`canary ${s.name}: changing its settings in place`);
  // Refused with ConflictException while it is starting, stopping or updating: waited out.
  await ctx.poll({
    what: `canary ${s.name}: update`,
    timeoutMs: STATE_TIMEOUT_MS,
    minDelayMs: 3_000,
    maxDelayMs: 6_000,
    retryOn: (e) => awsCode(e) === 'ConflictException',
    check: async () => {
      await retryingCreate(ctx, s.name, () =>
        syn.send(new UpdateCanaryCommand({ Name: s.name, ...canarySettings(ctx, s) })),
      );
      return { done: true, value: undefined };
    },
  });
  const updated = await ctx.poll({
    what: `canary ${s.name}`,
    timeoutMs: CREATE_TIMEOUT_MS,
    minDelayMs: 5_000,
    maxDelayMs: 10_000,
    check: async (): Promise<Waited> => {
      const now = await getCanary(ctx, s.name);
      const state = now?.Status?.State ?? 'gone';
      if (state === 'UPDATING') return { done: false, status: state };
      // A failed update rolls back and says why in StateReason (ROLLBACK_COMPLETE or
      // ROLLBACK_FAILED: https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryStatus.html).
      const failed =
        state === 'ERROR' || state === 'gone' || now?.Status?.StateReasonCode?.startsWith('ROLLBACK');
      if (failed) {
        throw new AwsStepError(
          `canary ${s.name} in ${ctx.region}: the update failed (${state}${now?.Status?.StateReason ? `: ${now.Status.StateReason}` : ''})`,
          {
            resource: `canary ${s.name}`,
            awsCode: now?.Status?.StateReasonCode ?? state,
            resolution: 'Run the same command again; if it fails the same way, fix what the reason names.',
          },
        );
      }
      return { done: true, value: now! };
    },
  });
  // Tagged last: the config tag says the settings above are in place.
  await syn.send(
    new TagResourceCommand({
      ResourceArn: canaryArn(ctx, s),
      Tags: { [TAG_CONFIG]: canarySha(ctx, s) },
    }),
  );
  ctx.record({
    canaryName: s.name,
    runtimeVersion: updated.RuntimeVersion,
    probeUrl: s.probeUrl,
    probeVia: s.probeVia,
  });
  return updated;
}

/** The canary's ARN, in the role's partition and account (GetCanary does not return it). */
function canaryArn(ctx: Ctx, s: CanarySpec): string {
  const partition = /^arn:(aws[a-z-]*):/.exec(s.roleArn)?.[1] ?? 'aws';
  return `arn:${partition}:synthetics:${ctx.region}:${accountOf(s.roleArn)}:canary:${s.name}`;
}

async function createCanary(ctx: Ctx, s: CanarySpec): Promise<Canary> {
  const syn = ctx.aws.client(SyntheticsClient, ctx.region);
  const runtimeVersion = await chooseRuntime(ctx);
  ctx.progress(`canary ${s.name}: creating with ${runtimeVersion}`);
  try {
    const r = await retryingCreate(ctx, s.name, () =>
      syn.send(
        new CreateCanaryCommand({
          Name: s.name,
          ...canarySettings(ctx, s),
          RuntimeVersion: runtimeVersion,
          Tags: tagMap([...ctx.tags(), { Key: TAG_CONFIG, Value: canarySha(ctx, s) }]),
        }),
      ),
    );
    ctx.record({ canaryName: s.name, runtimeVersion, probeUrl: s.probeUrl, probeVia: s.probeVia });
    return r.Canary!;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const raced = await getCanary(ctx, s.name);
    if (!raced || !isOwnedBy(raced.Tags, ctx.config.deployment)) throw notOurs('canary', s.name, ctx);
    ctx.record({
      canaryName: s.name,
      runtimeVersion: raced.RuntimeVersion,
      probeUrl: s.probeUrl,
      probeVia: s.probeVia,
    });
    return raced;
  }
}

/**
 * CreateCanary right after CreateRole is refused until IAM has propagated the role to Lambda
 * (docs/design/timings.md row 11): retried while it says so, nothing else.
 */
function retryingCreate<T>(ctx: Ctx, name: string, call: () => Promise<T>): Promise<T> {
  // ctx.retry gives up after two minutes; the IAM window here is ROLE_PROPAGATION_TIMEOUT_MS.
  return ctx.poll({
    what: `canary ${name}: waiting for its IAM role to propagate`,
    timeoutMs: ROLE_PROPAGATION_TIMEOUT_MS,
    minDelayMs: 2_000,
    maxDelayMs: 10_000,
    retryOn: roleNotAssumableYet,
    check: async () => ({ done: true, value: await call() }),
  });
}

type Waited = { done: true; value: Canary } | { done: false; status: string };

/** Poll GetCanary until `target`; ERROR ends the wait with the reason Synthetics gives. */
async function waitCanary(
  ctx: Ctx,
  name: string,
  target: string,
  timeoutMs: number,
  fastMs: number,
  expect?: Expectation,
): Promise<Canary> {
  return ctx.poll({
    what: `canary ${name}`,
    timeoutMs,
    expect,
    minDelayMs: fastMs,
    maxDelayMs: fastMs * 2,
    check: async (): Promise<Waited> => {
      const c = await getCanary(ctx, name);
      const state = c?.Status?.State ?? 'gone';
      if (state === target) return { done: true, value: c! };
      if (state === 'ERROR' || state === 'gone') {
        throw new AwsStepError(
          `canary ${name} is ${state}${c?.Status?.StateReason ? `: ${c.Status.StateReason}` : ''}`,
          {
            resource: `canary ${name}`,
            awsCode: state,
            resolution: 'Run the same command again: drctl deletes a failed canary and creates it anew.',
          },
        );
      }
      return { done: false, status: state };
    },
  });
}

/** Stop if running, then delete with its Lambda, and wait until it is gone. */
async function removeCanary(ctx: Ctx, name: string): Promise<void> {
  const syn = ctx.aws.client(SyntheticsClient, ctx.region);
  const conflict = (e: unknown) => awsCode(e) === 'ConflictException';
  await ctx.poll({
    what: `canary ${name}`,
    timeoutMs: CREATE_TIMEOUT_MS,
    minDelayMs: 3_000,
    maxDelayMs: 6_000,
    retryOn: conflict,
    check: async (): Promise<{ done: true; value: undefined } | { done: false; status: string }> => {
      const c = await getCanary(ctx, name);
      const state = c?.Status?.State;
      if (!state) return { done: true, value: undefined };
      if (state === 'RUNNING') {
        await syn.send(new StopCanaryCommand({ Name: name }));
        return { done: false, status: 'STOPPING' };
      }
      if (state === 'READY' || state === 'STOPPED' || state === 'ERROR') {
        // DeleteLambda: without it the function, its layer and its VPC ENIs stay behind
        // (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_DeleteCanary.html).
        await syn.send(new DeleteCanaryCommand({ Name: name, DeleteLambda: true }));
        return { done: false, status: 'DELETING' };
      }
      return { done: false, status: state };
    },
  });
}

async function ensureCanary(ctx: Ctx, s: CanarySpec): Promise<Canary> {
  ctx.progress(`canary ${s.name}`);
  let c = await getCanary(ctx, s.name);
  if (c) {
    if (!isOwnedBy(c.Tags, ctx.config.deployment) && ctx.recorded.canaryName !== s.name) {
      throw notOurs('canary', s.name, ctx);
    }
    const state = c.Status?.State;
    const stale = c.Tags?.[TAG_CONFIG] !== canarySha(ctx, s);
    // A failed canary publishes nothing already: replacing it costs no run.
    if (state === 'ERROR' || state === 'DELETING') {
      ctx.warn(
        state === 'ERROR'
          ? `canary ${s.name} failed earlier (${c.Status?.StateReason ?? 'no reason given'}); replacing it`
          : `canary ${s.name} is being deleted; creating it anew`,
      );
      await removeCanary(ctx, s.name);
      c = undefined;
    } else if (stale) {
      ctx.warn(`canary ${s.name} probes another URL or runs other code than wanted; updating it in place`);
      c = await updateCanary(ctx, s);
    } else if (
      ctx.recorded.canaryName !== s.name ||
      ctx.recorded.probeUrl !== s.probeUrl ||
      ctx.recorded.probeVia !== s.probeVia
    ) {
      ctx.record({
        canaryName: s.name,
        runtimeVersion: c.RuntimeVersion,
        probeUrl: s.probeUrl,
        probeVia: s.probeVia,
      });
    }
  }
  return c ?? createCanary(ctx, s);
}

/** READY/STOPPED -> StartCanary -> RUNNING; transitional states are waited out. */
async function ensureRunning(ctx: Ctx, c: Canary): Promise<Canary> {
  const name = c.Name!;
  let state = c.Status?.State;
  if (state === 'RUNNING') return c;
  if (state === 'CREATING' || state === 'UPDATING') {
    c = await waitCanary(ctx, name, 'READY', CREATE_TIMEOUT_MS, 5_000, EXPECTED['canary.create']);
    state = c.Status?.State;
  } else if (state === 'STOPPING') {
    c = await waitCanary(ctx, name, 'STOPPED', STATE_TIMEOUT_MS, 3_000);
    state = c.Status?.State;
  }
  if (state === 'READY' || state === 'STOPPED') {
    // A VPC canary can answer "not in a startable state" for a moment after READY (docs/design/timings.md [S51]).
    await ctx.retry(
      `canary ${name}: starting`,
      () => ctx.aws.client(SyntheticsClient, ctx.region).send(new StartCanaryCommand({ Name: name })),
      (e) => awsCode(e) === 'ConflictException',
    );
  }
  return waitCanary(ctx, name, 'RUNNING', STATE_TIMEOUT_MS, 3_000, EXPECTED['canary.start']);
}

// ---- alarm ---------------------------------------------------------------------------------

function alarmSpec(ctx: Ctx, alarmName: string, canaryName: string, probeUrl: string) {
  const metric = canaryAlarmMetric(ctx.config);
  return {
    AlarmName: alarmName,
    AlarmDescription: `drctl ${ctx.config.deployment}: canary ${canaryName} failed ${metric.DatapointsToAlarm} of its last ${metric.EvaluationPeriods} runs probing ${probeUrl}. Watched by a Route 53 health check.`,
    // A Route 53 CLOUDWATCH_METRIC check needs a standard-resolution metric and a plain statistic
    // (https://docs.aws.amazon.com/Route53/latest/APIReference/API_AlarmIdentifier.html).
    ...metric,
    Dimensions: [{ Name: 'CanaryName', Value: canaryName }],
  };
}

function sameAlarm(a: MetricAlarm, want: ReturnType<typeof alarmSpec>): boolean {
  return (
    a.AlarmDescription === want.AlarmDescription &&
    a.Namespace === want.Namespace &&
    a.MetricName === want.MetricName &&
    JSON.stringify(a.Dimensions ?? []) === JSON.stringify(want.Dimensions) &&
    a.Statistic === want.Statistic &&
    a.Period === want.Period &&
    a.EvaluationPeriods === want.EvaluationPeriods &&
    a.DatapointsToAlarm === want.DatapointsToAlarm &&
    a.Threshold === want.Threshold &&
    a.ComparisonOperator === want.ComparisonOperator &&
    a.TreatMissingData === want.TreatMissingData
  );
}

async function describeAlarm(ctx: Ctx, alarmName: string): Promise<MetricAlarm | undefined> {
  const r = await ctx.aws
    .client(CloudWatchClient, ctx.region)
    .send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] }));
  return r.MetricAlarms?.find((a) => a.AlarmName === alarmName);
}

async function ensureAlarm(ctx: Ctx, alarmName: string, canaryName: string, probeUrl: string): Promise<void> {
  ctx.progress(`alarm ${alarmName}`);
  const want = alarmSpec(ctx, alarmName, canaryName, probeUrl);
  const have = await describeAlarm(ctx, alarmName);
  if (have && sameAlarm(have, want)) {
    if (ctx.recorded.alarmName !== alarmName) ctx.record({ alarmName });
    return;
  }
  // PutMetricAlarm is an upsert; tags apply only when it creates.
  await ctx.aws
    .client(CloudWatchClient, ctx.region)
    .send(new PutMetricAlarmCommand({ ...want, Tags: ctx.tags() }));
  ctx.record({ alarmName });
}

// ---- teardown ------------------------------------------------------------------------------

async function emptyAndDeleteBucket(ctx: Ctx, bucketName: string): Promise<void> {
  const s3 = ctx.aws.client(S3Client, ctx.region);
  await ctx.poll({
    what: `bucket ${bucketName}`,
    timeoutMs: STATE_TIMEOUT_MS,
    minDelayMs: 1_000,
    maxDelayMs: 5_000,
    // A last canary run can still land an artifact between the listing and the delete.
    retryOn: (e) => awsCode(e) === 'BucketNotEmpty',
    check: async () => {
      for (;;) {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucketName, MaxKeys: 1000 }));
        const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (keys.length === 0) break;
        ctx.progress(`bucket ${bucketName}: deleting ${keys.length} artifact(s)`);
        await s3.send(
          new DeleteObjectsCommand({ Bucket: bucketName, Delete: { Objects: keys, Quiet: true } }),
        );
      }
      try {
        await s3.send(new DeleteBucketCommand({ Bucket: bucketName }));
      } catch (e) {
        // The SDK resends a DeleteBucket answered 5xx after S3 had deleted it: the resend finds
        // no bucket. Gone is what this wants.
        if (!isNotFound(e)) throw e;
      }
      return { done: true, value: undefined };
    },
  });
  await ctx.poll({
    what: `bucket ${bucketName} deleted`,
    timeoutMs: STATE_TIMEOUT_MS,
    minDelayMs: 1_000,
    maxDelayMs: 3_000,
    check: async () => {
      try {
        await s3.send(new HeadBucketCommand({ Bucket: bucketName }));
        return { done: false, status: 'still listed' };
      } catch (e) {
        if (isNotFound(e) || awsCode(e) === 'NotFound') return { done: true, value: undefined };
        throw e;
      }
    },
  });
}

/** Delete what is recorded or tagged as ours: canary (then its alarm), bucket, role. */
async function teardown(ctx: Ctx): Promise<void> {
  const n = names(ctx);
  const mine = (tags: Parameters<typeof isOwnedBy>[0], recorded: string | undefined, name: string) =>
    recorded === name || isOwnedBy(tags, ctx.config.deployment);

  const c = await getCanary(ctx, n.canaryName);
  if (c && mine(c.Tags, ctx.recorded.canaryName, n.canaryName)) await removeCanary(ctx, n.canaryName);
  else if (c) ctx.warn(`left canary ${n.canaryName}: it is not drctl's`);

  const cw = ctx.aws.client(CloudWatchClient, ctx.region);
  const alarm = await describeAlarm(ctx, n.alarmName);
  if (alarm) {
    const owned =
      ctx.recorded.alarmName === n.alarmName ||
      isOwnedBy(
        (await cw.send(new ListAlarmTagsCommand({ ResourceARN: alarm.AlarmArn }))).Tags,
        ctx.config.deployment,
      );
    if (owned) {
      try {
        await cw.send(new DeleteAlarmsCommand({ AlarmNames: [n.alarmName] }));
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    } else ctx.warn(`left alarm ${n.alarmName}: it is not drctl's`);
  }

  const role = await getRole(ctx, n.roleName);
  const roleOurs = role && mine(role.Tags, ctx.recorded.roleName, n.roleName);
  // Without a record, the role's ARN gives the account in the bucket's name (even a role that is
  // not ours: then the bucket is looked at only to be named in a warning).
  const bucketName =
    ctx.recorded.bucketName ??
    (role ? bucketNameFor(ctx.config.deployment, accountOf(role.Arn!), ctx.region) : undefined);
  if (bucketName) {
    const seen = await bucketTags(ctx, bucketName);
    if (seen.exists) {
      // An untagged bucket of our name is one a crash left only if the state names it (it is
      // recorded before CreateBucket); otherwise it is someone else's.
      if (ctx.recorded.bucketName === bucketName || isOwnedBy(seen.tags, ctx.config.deployment)) {
        await emptyAndDeleteBucket(ctx, bucketName);
      } else ctx.warn(`left bucket ${bucketName}: it is not drctl's`);
    }
  }

  if (roleOurs) await deleteRoleWithInlinePolicies(ctx, n.roleName);
  else if (role) ctx.warn(`left IAM role ${n.roleName}: it is not drctl's`);
}

export const canary: StepImpl<CanaryOutputs> = {
  outputs,

  async up(ctx) {
    if (!enabledIn(ctx)) {
      if (ctx.recorded.canaryName || ctx.recorded.bucketName || ctx.recorded.roleName) {
        ctx.warn(
          'canary.secondary is off and topology is active-passive: removing the canary this region had',
        );
        await teardown(ctx);
        // The runner merges what up returns into the record: forget what is gone explicitly.
        ctx.record({
          canaryName: undefined,
          alarmName: undefined,
          bucketName: undefined,
          roleName: undefined,
          runtimeVersion: undefined,
          probeUrl: undefined,
          probeVia: undefined,
        });
      }
      return { enabled: false };
    }
    const vpc = await ctx.outputOf('vpc');
    const n = names(ctx);

    const role = await ensureRole(ctx, n.roleName);
    const roleArn = role.arn;
    const account = accountOf(roleArn);
    const bucketName = ctx.recorded.bucketName ?? bucketNameFor(ctx.config.deployment, account, ctx.region);
    await ensureBucket(ctx, bucketName);
    await ensureRolePolicy(
      ctx,
      n.roleName,
      rolePolicy(ctx, account, bucketName, n.canaryName),
      role.policySha,
    );

    // What a client calls, through this region's own entry point: the NLB (its DNS name is
    // recorded as soon as the load balancer is created, long before it is active), or with
    // domainMode private the region's execute-api endpoint, which then serves the custom domain
    // itself. The CA certificate is the one the listener's or domain's certificate chains to.
    const [dnsName] = await Promise.all([
      ctx.config.domainMode === 'private'
        ? ctx.fieldsOf('endpoints', ctx.region, ['dnsNames']).then((e) => e.dnsNames[0]!)
        : ctx.fieldsOf('nlb', ctx.region, ['dnsName']).then((n) => n.dnsName),
      ctx.outputOf('ca'),
    ]);
    const host = `${ctx.config.host}.${ctx.config.domain}`;
    const probeUrl = `https://${host}${PROBE_PATH}`;

    const spec: CanarySpec = {
      name: n.canaryName,
      roleArn,
      bucketName,
      host,
      probeUrl,
      probeVia: dnsName,
      caPem: caPemOf(ctx),
      subnetIds: vpc.privateSubnetIds,
      securityGroupIds: [vpc.endpointSecurityGroupId],
    };
    let created = await ensureCanary(ctx, spec);
    // The alarm needs only the canary's name: made while the canary is still CREATING.
    await ensureAlarm(ctx, n.alarmName, n.canaryName, `${probeUrl} via ${dnsName}`);
    let running: Canary | undefined;
    const started = ctx.clock.now();
    while (!running) {
      try {
        running = await ensureRunning(ctx, created);
      } catch (e) {
        // Synthetics may accept CreateCanary with a role Lambda cannot assume yet and then put the
        // canary in ERROR; Terraform deletes and creates it again within its IAM window
        // (terraform-provider-aws internal/service/synthetics/canary.go, retryCreateCanary).
        const roleError =
          e instanceof AwsStepError && e.context.awsCode === 'ERROR' && IAM_NOT_SPREAD_YET.test(e.message);
        if (!roleError || ctx.clock.now() - started > ROLE_PROPAGATION_TIMEOUT_MS) throw e;
        ctx.warn(
          `canary ${n.canaryName} failed because Lambda could not assume its new role, or see its new policy, yet; creating it again`,
        );
        await removeCanary(ctx, n.canaryName);
        created = await createCanary(ctx, spec);
      }
    }

    return {
      enabled: true,
      canaryName: n.canaryName,
      alarmName: n.alarmName,
      bucketName,
      roleName: n.roleName,
      runtimeVersion: running.RuntimeVersion ?? ctx.recorded.runtimeVersion,
      probeUrl,
      probeVia: dnsName,
    };
  },

  async down(ctx) {
    await teardown(ctx);
  },

  async check(ctx) {
    if (!ctx.recorded.enabled) return [];
    const missing: string[] = [];
    const n = names(ctx);
    if (!(await getCanary(ctx, n.canaryName))) missing.push(`canary ${n.canaryName}`);
    if (!(await describeAlarm(ctx, n.alarmName))) missing.push(`alarm ${n.alarmName}`);
    if (ctx.recorded.bucketName && !(await bucketTags(ctx, ctx.recorded.bucketName)).exists) {
      missing.push(`bucket ${ctx.recorded.bucketName}`);
    }
    if (!(await getRole(ctx, n.roleName))) missing.push(`IAM role ${n.roleName}`);
    return missing;
  },

  async discover(ctx) {
    const found: Found[] = [];
    const n = names(ctx);
    const ours = (tags: Parameters<typeof isOwnedBy>[0]) => isOwnedBy(tags, ctx.config.deployment);
    const c = await getCanary(ctx, n.canaryName);
    if (c && ours(c.Tags)) {
      found.push({ what: `canary ${n.canaryName} (${c.Status?.State ?? 'unknown'})`, id: n.canaryName });
    }
    let account: string | undefined;
    const alarm = await describeAlarm(ctx, n.alarmName);
    if (alarm?.AlarmArn) {
      const cw = ctx.aws.client(CloudWatchClient, ctx.region);
      const { Tags } = await cw.send(new ListAlarmTagsCommand({ ResourceARN: alarm.AlarmArn }));
      if (ours(Tags)) found.push({ what: `alarm ${n.alarmName}`, id: n.alarmName });
      account = alarm.AlarmArn.split(':')[4];
    }
    const role = await getRole(ctx, n.roleName);
    if (role && ours(role.Tags)) {
      found.push({ what: `IAM role ${n.roleName}`, id: n.roleName });
      account = accountOf(role.Arn!);
    }
    // The bucket's name carries the account id, which the role's or the alarm's ARN tells.
    if (account) {
      const bucketName = bucketNameFor(ctx.config.deployment, account, ctx.region);
      const seen = await bucketTags(ctx, bucketName);
      if (seen.exists && ours(seen.tags)) found.push({ what: `bucket ${bucketName}`, id: bucketName });
    }
    return found;
  },
};
