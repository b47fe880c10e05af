import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  paginateListRolePolicies,
  type Role,
  TagRoleCommand,
} from '@aws-sdk/client-iam';
import { isAlreadyExists, isNotFound, unlessNotFound } from '../errors.js';
import { collect } from '../pages.js';
import type { AwsScope } from '../scope.js';
import type { Tag } from '../tags.js';

// The execution roles drctl makes for its Lambda-run resources (the canary's, the probe's): one
// role per resource, one inline policy on it, the policy's fingerprint in a tag on the role.

/** IAM is global; its endpoint answers the same from every region. */
export const IAM_REGION = 'us-east-1';

export const iam = (ctx: AwsScope) => ctx.aws.client(IAMClient, IAM_REGION);

/** Lets Lambda (which also runs a Synthetics canary) assume the role. */
export const LAMBDA_TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/**
 * How Lambda (and Synthetics, for a canary's function) words its refusal of a new role, or of the
 * ENI permission its new policy grants, that IAM has not spread to it yet: IAM is eventually
 * consistent (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
 * Each service puts it under its own error code.
 */
export const IAM_NOT_SPREAD_YET =
  /cannot be assumed|does not have permissions to call CreateNetworkInterface/i;

/**
 * How long that lasts at most: seconds, rarely a minute (docs/design/timings.md row 11); Terraform
 * waits twice its IAM window for canaries (https://github.com/hashicorp/terraform-provider-aws/pull/21499).
 */
export const ROLE_PROPAGATION_TIMEOUT_MS = 4 * 60_000;

export async function getRole(ctx: AwsScope, roleName: string): Promise<Role | undefined> {
  return unlessNotFound(async () => (await iam(ctx).send(new GetRoleCommand({ RoleName: roleName }))).Role);
}

export interface NewRole {
  roleName: string;
  trustPolicy: string;
  description: string;
  tags: Tag[];
}

/**
 * CreateRole. A name taken meanwhile (another run, or a crash between CreateRole and the state
 * record) gives the role as it is now, `raced`, for the caller to adopt or refuse; taken and gone
 * again rethrows the refusal.
 */
export async function createRole(ctx: AwsScope, r: NewRole): Promise<{ role: Role; raced: boolean }> {
  try {
    const created = await iam(ctx).send(
      new CreateRoleCommand({
        RoleName: r.roleName,
        AssumeRolePolicyDocument: r.trustPolicy,
        Description: r.description,
        Tags: r.tags,
      }),
    );
    return { role: created.Role!, raced: false };
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const raced = await getRole(ctx, r.roleName);
    if (!raced) throw e;
    return { role: raced, raced: true };
  }
}

/**
 * Put the inline policy, then tag the role with its fingerprint: the tag is written last, so it
 * says the policy is in place, and a re-run that computes the same fingerprint makes no call.
 */
export async function putRolePolicyTagged(
  ctx: AwsScope,
  p: { roleName: string; policyName: string; document: string; tagKey: string; fingerprint: string },
): Promise<void> {
  await iam(ctx).send(
    new PutRolePolicyCommand({ RoleName: p.roleName, PolicyName: p.policyName, PolicyDocument: p.document }),
  );
  await iam(ctx).send(
    new TagRoleCommand({ RoleName: p.roleName, Tags: [{ Key: p.tagKey, Value: p.fingerprint }] }),
  );
}

/**
 * Delete a role and its inline policies: DeleteRole refuses (DeleteConflict) while any remain
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html). Gone already is fine.
 * The caller decides whether the role is ours.
 */
export async function deleteRoleWithInlinePolicies(ctx: AwsScope, roleName: string): Promise<void> {
  try {
    const policyNames = await collect(
      paginateListRolePolicies({ client: iam(ctx) }, { RoleName: roleName }),
      (p) => p.PolicyNames,
    );
    for (const PolicyName of policyNames) {
      try {
        await iam(ctx).send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName }));
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    await iam(ctx).send(new DeleteRoleCommand({ RoleName: roleName }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}
