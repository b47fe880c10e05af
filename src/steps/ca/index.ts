import { existsSync } from 'node:fs';
import { removeFile } from '../../lib/files.js';
import { AwsStepError } from '../../errors/errors.js';
import type { StepImpl } from '../types.js';
import { type Ca, activate, deleteCa, describeCa, findOrCreateCa, taggedCas } from './authority.js';
import {
  CERT_VISIBILITY_LAG_MS,
  type Certificate,
  deleteCertificate,
  describeCertificate,
  findOrRequestCertificate,
  lifetimeOf,
  taggedCertificates,
} from './certificate.js';
import { type CaOutputs, type Ctx, outputs } from './outputs.js';
import { grantRenewal, revokeAcmPermission } from './permission.js';
import { caPemPath, writeCaPem } from './pem.js';

export type { CaOutputs } from './outputs.js';
export { type CertificateFacts, certificateFacts } from './certificate.js';
export { caPemPath } from './pem.js';

// Owns, per region: one AWS Private CA root CA (about $400 a month while it exists), the
// permission it gives ACM to renew what it issued, the private ACM certificate for *.<domain> and
// <host>.<domain> it issues, and the CA certificate at .drctl/ca/<region>.pem for clients to
// trust. With config.certificateArn[<region>] it makes neither and hands that certificate on.

async function useGivenCertificate(ctx: Ctx, arn: string): Promise<CaOutputs> {
  const c = await describeCertificate(ctx, arn);
  if (!c || c.status !== 'ISSUED') {
    throw new AwsStepError(
      `config certificateArn.${ctx.region} ${arn} is ${c ? c.status : `not a certificate in ${ctx.region}`}`,
      {
        resource: arn,
        awsCode: c?.status ?? 'ResourceNotFoundException',
        resolution: `Give an ISSUED ACM certificate from ${ctx.region} (ACM certificates are regional) in config certificateArn.${ctx.region}.`,
      },
    );
  }
  const host = `${ctx.config.host}.${ctx.config.domain}`;
  if (!c.names.some((n) => n === host || (n.startsWith('*.') && host.endsWith(n.slice(1))))) {
    ctx.warn(
      `certificate ${arn} does not name ${host} (it has ${c.names.join(', ')}): TLS clients will refuse it`,
    );
  }
  if (ctx.recorded.certificateAuthorityArn) {
    ctx.warn(
      `root CA ${ctx.recorded.certificateAuthorityArn} is no longer used (config certificateArn.${ctx.region} is set); ` +
        '`drctl down` deletes it',
    );
  }
  return { certificateAuthorityArn: null, certificateArn: arn, ...lifetimeOf(c) };
}

export const ca: StepImpl<CaOutputs> = {
  outputs,

  async up(ctx) {
    const given = ctx.config.certificateArn?.[ctx.region];
    if (given) return useGivenCertificate(ctx, given);
    const before = ctx.recorded.certificateAuthorityArn;
    ctx.progress('root CA');
    const found = await findOrCreateCa(ctx);
    await activate(ctx, found);
    if (found.arn !== before || !existsSync(caPemPath(ctx))) await writeCaPem(ctx, found.arn);
    await grantRenewal(ctx, found.arn);
    const certificate = await findOrRequestCertificate(ctx, found.arn);
    return {
      certificateAuthorityArn: found.arn,
      certificateArn: certificate.arn,
      ...lifetimeOf(certificate),
      renewalPermission: 'granted',
    };
  },

  async down(ctx) {
    const given = ctx.config.certificateArn?.[ctx.region];
    const recordedCa = ctx.recorded.certificateAuthorityArn ?? undefined;
    // Certificates first: the domain and listener that used them are gone by now (the runner
    // deletes those steps first), but ACM's InUseBy can lag.
    const certificates = new Map<string, Certificate>();
    for (const c of await taggedCertificates(ctx)) certificates.set(c.arn, c);
    const recordedCert = ctx.recorded.certificateArn;
    if (recordedCert && recordedCert !== given && recordedCa && !certificates.has(recordedCert)) {
      const c = await describeCertificate(ctx, recordedCert);
      // Only one this deployment's CA issued: a recorded certificate may be one the user gave.
      if (c?.certificateAuthorityArn === recordedCa) certificates.set(c.arn, c);
    }
    const listedAt = ctx.clock.now();
    for (const c of certificates.values()) {
      if (c.arn === given) continue;
      await deleteCertificate(ctx, c.arn, { waitWhileInUse: true });
    }

    const cas = new Map<string, Ca>();
    for (const c of await taggedCas(ctx)) cas.set(c.arn, c);
    if (recordedCa && !cas.has(recordedCa)) {
      const c = await describeCa(ctx, recordedCa);
      if (c) cas.set(c.arn, c);
    }
    const hadLiveCa = [...cas.values()].some((c) => c.status !== 'DELETED');
    for (const c of cas.values()) {
      // Gone with the CA anyway; revoked first so a CA restored in its window does not bring it back.
      if (c.status !== 'DELETED') await revokeAcmPermission(ctx, c.arn);
      await deleteCa(ctx, c);
    }

    // A certificate requested just before a crash (its ARN never recorded) is invisible to
    // ListCertificates for "several seconds" (API_RequestCertificate), so the listing above can
    // miss it. Deleting the CA does not delete it: look once more after that lag.
    if (hadLiveCa) {
      const wait = listedAt + CERT_VISIBILITY_LAG_MS - ctx.clock.now();
      if (wait > 0) {
        ctx.progress('certificates: waiting for a just-requested one to become visible');
        await ctx.clock.sleep(wait, ctx.signal);
      }
      for (const c of await taggedCertificates(ctx)) {
        if (c.arn !== given) await deleteCertificate(ctx, c.arn, { waitWhileInUse: true });
      }
    }
    removeFile(caPemPath(ctx));
  },

  async check(ctx) {
    const missing: string[] = [];
    const caArn = ctx.recorded.certificateAuthorityArn;
    if (caArn) {
      const c = await describeCa(ctx, caArn);
      if (!c || c.status === 'DELETED') missing.push(`root CA ${caArn}`);
      if (!existsSync(caPemPath(ctx))) missing.push(`CA certificate ${caPemPath(ctx)}`);
    }
    const certArn = ctx.recorded.certificateArn;
    if (certArn && !(await describeCertificate(ctx, certArn))) missing.push(`certificate ${certArn}`);
    return missing;
  },

  async discover(ctx) {
    const cas = (await taggedCas(ctx)).filter((c) => c.status !== 'DELETED');
    const certificates = await taggedCertificates(ctx);
    return [
      ...cas.map((c) => ({ what: `root CA ${c.arn} (${c.status})`, id: c.arn })),
      ...certificates.map((c) => ({ what: `certificate ${c.arn} (${c.status})`, id: c.arn })),
    ];
  },
};
