import { textFingerprint } from '../../aws/resources/fingerprint.js';
import {
  LAMBDA_TRUST_POLICY,
  createRole,
  deleteRoleWithInlinePolicies,
  getRole,
  putRolePolicyTagged,
} from '../../aws/resources/service-role.js';
import { isOwnedBy, tagValue } from '../../aws/tags.js';
import { type Ctx, notOurs, probeRegions } from './common.js';

// The IAM role <deployment>-probe the probe function runs as (in every region), with its inline policy.

const POLICY_NAME = 'drctl-probe';
const TAG_POLICY = 'drctl:config-sha';

/**
 * Only the network interfaces a VPC function needs (what AWSLambdaVPCAccessExecutionRole grants,
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions),
 * and no logs:*: without CreateLogGroup, Lambda makes no log group that `down` would have to find.
 */
const ROLE_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'VpcNetworkInterfaces',
      Effect: 'Allow',
      Action: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      Resource: '*',
    },
  ],
});

export async function ensureRole(ctx: Ctx, roleName: string): Promise<string> {
  ctx.progress(`role ${roleName}`);
  let role = await getRole(ctx, roleName);
  if (role && !isOwnedBy(role.Tags, ctx.config.deployment) && ctx.recorded.roleName !== roleName) {
    throw notOurs('IAM role', roleName, ctx);
  }
  if (!role) {
    const made = await createRole(ctx, {
      roleName,
      trustPolicy: LAMBDA_TRUST_POLICY,
      description: `drctl ${ctx.config.deployment}: execution role of the failover probe (in the VPC of ${probeRegions(ctx.config).join(' and ')})`,
      tags: ctx.tags(),
    });
    if (made.raced && !isOwnedBy(made.role.Tags, ctx.config.deployment))
      throw notOurs('IAM role', roleName, ctx);
    role = made.role;
  }
  if (ctx.recorded.roleName !== roleName) ctx.record({ roleName });
  // The policy's hash in a tag: a re-run reads the role once and puts nothing.
  const want = textFingerprint(ROLE_POLICY);
  if (tagValue(role.Tags, TAG_POLICY) !== want) {
    ctx.progress(`role ${roleName}: policy ${POLICY_NAME}`);
    await putRolePolicyTagged(ctx, {
      roleName,
      policyName: POLICY_NAME,
      document: ROLE_POLICY,
      tagKey: TAG_POLICY,
      fingerprint: want,
    });
  }
  return role.Arn!;
}

export async function deleteRole(ctx: Ctx, roleName: string): Promise<void> {
  const role = await getRole(ctx, roleName);
  if (!role) return;
  if (!isOwnedBy(role.Tags, ctx.config.deployment) && ctx.recorded.roleName !== roleName) return;
  ctx.progress(`role ${roleName}`);
  await deleteRoleWithInlinePolicies(ctx, roleName);
}
