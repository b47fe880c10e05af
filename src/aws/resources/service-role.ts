import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
  paginateListRolePolicies,
  type Role,
} from '@aws-sdk/client-iam';
import type { StepContext } from '../../steps/types.js';
import { isNotFound, unlessNotFound } from '../errors.js';
import { collect } from '../pages.js';

/** IAM is global; its endpoint answers the same from every region. */
export const IAM_REGION = 'us-east-1';

export const iam = (ctx: Pick<StepContext<unknown>, 'aws'>) => ctx.aws.client(IAMClient, IAM_REGION);

export async function getRole(
  ctx: Pick<StepContext<unknown>, 'aws'>,
  roleName: string,
): Promise<Role | undefined> {
  return unlessNotFound(async () => (await iam(ctx).send(new GetRoleCommand({ RoleName: roleName }))).Role);
}

/**
 * Delete a role and its inline policies: DeleteRole refuses (DeleteConflict) while any remain
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html). Gone already is fine.
 * The caller decides whether the role is ours.
 */
export async function deleteRoleWithInlinePolicies(
  ctx: Pick<StepContext<unknown>, 'aws'>,
  roleName: string,
): Promise<void> {
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
