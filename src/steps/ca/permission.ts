import {
  ACMPCAClient,
  CreatePermissionCommand,
  DeletePermissionCommand,
  paginateListPermissions,
} from '@aws-sdk/client-acm-pca';
import type { AwsClients } from '../../aws/clients.js';
import { awsCode, isNotFound } from '../../aws/errors.js';
import { findInPages } from '../../aws/pages.js';
import { shortArn } from './authority.js';
import type { Ctx } from './outputs.js';

// The CA's permission for acm.amazonaws.com: what lets ACM renew the certificates the CA issued.

const ACM_PRINCIPAL = 'acm.amazonaws.com';
// "In order for ACM to automatically renew private certificates, you must give the ACM service
// principal all available permissions" (https://docs.aws.amazon.com/privateca/latest/APIReference/API_Permission.html).
// Without them ACM's renewal fails and the certificate expires after its 395 days
// (https://docs.aws.amazon.com/privateca/latest/userguide/assign-permissions.html).
const RENEWAL_ACTIONS = ['IssueCertificate', 'GetCertificate', 'ListPermissions'] as const;

/** The CA's permission for ACM: 'all' (renewal works), 'partial', or 'none'. */
export async function acmPermission(
  aws: Pick<AwsClients, 'client'>,
  region: string,
  caArn: string,
): Promise<'all' | 'partial' | 'none'> {
  const client = aws.client(ACMPCAClient, region);
  const mine = await findInPages(
    paginateListPermissions({ client }, { CertificateAuthorityArn: caArn }),
    (p) => p.Permissions,
    (p) => p.Principal === ACM_PRINCIPAL,
  );
  if (!mine) return 'none';
  return RENEWAL_ACTIONS.every((a) => mine.Actions?.includes(a)) ? 'all' : 'partial';
}

export async function revokeAcmPermission(ctx: Ctx, caArn: string): Promise<void> {
  try {
    await ctx.aws
      .client(ACMPCAClient, ctx.region)
      .send(new DeletePermissionCommand({ CertificateAuthorityArn: caArn, Principal: ACM_PRINCIPAL }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/**
 * Grant acm.amazonaws.com the renewal actions on our CA, unless it has them. A permission can't
 * be changed, only deleted and made again, so one with fewer actions is replaced.
 */
export async function grantRenewal(ctx: Ctx, caArn: string): Promise<void> {
  const current = await acmPermission(ctx.aws, ctx.region, caArn);
  if (current === 'all') return;
  ctx.progress(`root CA ${shortArn(caArn)}: letting ACM renew its certificates`);
  if (current === 'partial') await revokeAcmPermission(ctx, caArn);
  try {
    await ctx.aws.client(ACMPCAClient, ctx.region).send(
      new CreatePermissionCommand({
        CertificateAuthorityArn: caArn,
        Principal: ACM_PRINCIPAL,
        Actions: [...RENEWAL_ACTIONS],
      }),
    );
  } catch (e) {
    // Another `up`, or a crashed one, granted it a moment ago.
    if (awsCode(e) !== 'PermissionAlreadyExistsException') throw e;
    if ((await acmPermission(ctx.aws, ctx.region, caArn)) !== 'all') throw e;
  }
}
