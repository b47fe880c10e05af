import { ACMPCAClient, GetCertificateAuthorityCertificateCommand } from '@aws-sdk/client-acm-pca';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/files.js';
import type { Ctx } from './outputs.js';

// The CA's own certificate at .drctl/ca/<region>.pem, for clients (the probe, manual tests) to trust.

export const caPemPath = (ctx: Pick<Ctx, 'paths' | 'region'>) => join(ctx.paths.ca, `${ctx.region}.pem`);

export async function writeCaPem(ctx: Ctx, arn: string): Promise<void> {
  const pca = ctx.aws.client(ACMPCAClient, ctx.region);
  const r = await pca.send(new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: arn }));
  // A public certificate: readable by anyone who needs to trust it.
  writeFileAtomic(caPemPath(ctx), r.Certificate!, 0o644);
}
