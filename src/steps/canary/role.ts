import type { Role } from '@aws-sdk/client-iam';
import { CANARY_NAMESPACE } from '../../config/canary-alarm.js';
import { fingerprint } from '../../aws/resources/fingerprint.js';
import {
  LAMBDA_TRUST_POLICY,
  createRole,
  getRole,
  putRolePolicyTagged,
} from '../../aws/resources/service-role.js';
import { isOwnedBy, tagValue } from '../../aws/tags.js';
import { ARTIFACT_PREFIX, type Ctx, TAG_CONFIG, notOurs } from './common.js';

// The IAM role <deployment>-canary-<region> the canary runs as, with its inline policy.

const POLICY_NAME = 'drctl-canary';

/**
 * Only what a VPC canary needs (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_CanaryPermissions.html),
 * scoped to our bucket prefix, our canary's log group and the Synthetics metric namespace.
 */
export function rolePolicy(ctx: Ctx, account: string, bucketName: string, canaryName: string): string {
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

/** The role by name (recorded or ours by tag), created when missing; with its policy tag. */
export async function ensureRole(ctx: Ctx, roleName: string): Promise<{ arn: string; policySha?: string }> {
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
  const { role: made, raced } = await createRole(ctx, {
    roleName,
    trustPolicy: LAMBDA_TRUST_POLICY,
    description: `drctl ${ctx.config.deployment}: execution role of the Synthetics canary in ${ctx.region}`,
    tags: ctx.tags(),
  });
  if (raced) return adopt(made);
  ctx.record({ roleName });
  return { arn: made.Arn! };
}

/** The inline policy, put only when the role's tag says it differs (a re-run makes no call). */
export async function ensureRolePolicy(
  ctx: Ctx,
  roleName: string,
  policy: string,
  current: string | undefined,
) {
  // Of the policy's JSON text as a JSON string: the form the role's tag has always held.
  const want = fingerprint(policy);
  if (current === want) return;
  await putRolePolicyTagged(ctx, {
    roleName,
    policyName: POLICY_NAME,
    document: policy,
    tagKey: TAG_CONFIG,
    fingerprint: want,
  });
}
