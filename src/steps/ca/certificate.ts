import {
  ACMClient,
  type CertificateDetail,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  ListTagsForCertificateCommand,
  paginateListCertificates,
  RequestCertificateCommand,
} from '@aws-sdk/client-acm';
import type { AwsClients } from '../../aws/clients.js';
import { isDependencyInUse, isNotFound } from '../../aws/errors.js';
import { collect } from '../../aws/pages.js';
import { isOursHere } from '../../aws/resources/ownership.js';
import { AwsStepError } from '../../errors/errors.js';
import { describeCa, hash, shortArn } from './authority.js';
import type { Ctx } from './outputs.js';
import { acmPermission } from './permission.js';

// The private ACM certificate for *.<domain> and <host>.<domain> that the region's CA issues (or
// the one config.certificateArn gives), and the facts of its lifetime `status` shows.

const CERT_TIMEOUT_MS = 10 * 60_000;
// InUseBy lags the deletion of the listener or domain that used the certificate (docs/design/aws-behaviour.md §7).
const IN_USE_TIMEOUT_MS = 15 * 60_000;
// "There is a delay of several seconds before you can retrieve information about the new
// certificate" (https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html).
export const CERT_VISIBILITY_LAG_MS = 30_000;

export interface Certificate {
  arn: string;
  status: string;
  type: string;
  certificateAuthorityArn?: string;
  names: string[];
  inUseBy: string[];
  failureReason?: string;
  notAfter?: Date;
  renewalEligibility?: string;
  renewalStatus?: string;
  renewalStatusReason?: string;
}

const certificateNames = (ctx: Pick<Ctx, 'config'>) => [
  `*.${ctx.config.domain}`,
  `${ctx.config.host}.${ctx.config.domain}`,
];

function parseCertificate(c: CertificateDetail): Certificate {
  return {
    arn: c.CertificateArn!,
    status: c.Status ?? 'UNKNOWN',
    type: c.Type ?? 'UNKNOWN',
    ...(c.CertificateAuthorityArn ? { certificateAuthorityArn: c.CertificateAuthorityArn } : {}),
    names: c.SubjectAlternativeNames ?? (c.DomainName ? [c.DomainName] : []),
    inUseBy: c.InUseBy ?? [],
    ...(c.FailureReason ? { failureReason: c.FailureReason } : {}),
    ...(c.NotAfter ? { notAfter: c.NotAfter } : {}),
    ...(c.RenewalEligibility ? { renewalEligibility: c.RenewalEligibility } : {}),
    ...(c.RenewalSummary?.RenewalStatus ? { renewalStatus: c.RenewalSummary.RenewalStatus } : {}),
    ...(c.RenewalSummary?.RenewalStatusReason
      ? { renewalStatusReason: c.RenewalSummary.RenewalStatusReason }
      : {}),
  };
}

/** What `up` records of a certificate's lifetime (and `status` shows). */
export const lifetimeOf = (c: Certificate) => ({
  ...(c.notAfter ? { certificateNotAfter: c.notAfter.toISOString() } : {}),
  ...(c.renewalEligibility ? { renewalEligibility: c.renewalEligibility } : {}),
});

export async function describeCertificate(ctx: Ctx, arn: string): Promise<Certificate | undefined> {
  const acm = ctx.aws.client(ACMClient, ctx.region);
  try {
    const r = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    return r.Certificate ? parseCertificate(r.Certificate) : undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Our certificates for *.<domain> in this region, found by ownership tag. */
export async function taggedCertificates(ctx: Ctx): Promise<Certificate[]> {
  const acm = ctx.aws.client(ACMClient, ctx.region);
  const [wildcard] = certificateNames(ctx);
  const found: Certificate[] = [];
  const summaries = await collect(
    paginateListCertificates({ client: acm }, { MaxItems: 500 }),
    (p) => p.CertificateSummaryList,
  );
  for (const s of summaries) {
    if (s.DomainName !== wildcard || !s.CertificateArn) continue;
    // ListTagsForCertificate answers every tag at once (it takes no page token).
    const { Tags } = await acm.send(new ListTagsForCertificateCommand({ CertificateArn: s.CertificateArn }));
    if (!isOursHere(ctx, Tags)) continue;
    const c = await describeCertificate(ctx, s.CertificateArn);
    if (c) found.push(c);
  }
  return found;
}

// An EXPIRED certificate is never renewed: the next `up` requests a new one, which the nlb and
// domain steps then take.
const fromCa = (c: Certificate, caArn: string) =>
  c.certificateAuthorityArn === caArn && !['FAILED', 'REVOKED', 'EXPIRED'].includes(c.status);

async function waitIssued(ctx: Ctx, arn: string): Promise<Certificate> {
  return ctx.poll({
    what: `certificate ${shortArn(arn)}`,
    timeoutMs: CERT_TIMEOUT_MS,
    minDelayMs: 2_000,
    maxDelayMs: 5_000,
    // "There is a delay of several seconds before you can retrieve information about the new
    // certificate" (https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html).
    retryOn: isNotFound,
    check: async () => {
      const c = await describeCertificate(ctx, arn);
      if (!c) return { done: false, status: 'not visible yet' };
      if (c.status === 'ISSUED') return { done: true, value: c };
      if (c.status !== 'PENDING_VALIDATION') {
        let why = '';
        if (c.failureReason === 'PCA_INVALID_DURATION' && c.certificateAuthorityArn) {
          // "The validity period of the requested certificate exceeds the validity period of the
          // issuing private CA" (https://docs.aws.amazon.com/acm/latest/userguide/exceptions.html).
          const end = (await describeCa(ctx, c.certificateAuthorityArn))?.notAfter;
          why =
            `The root CA ${c.certificateAuthorityArn} is valid until ${end ? end.toISOString().slice(0, 10) : 'a date AWS did not say'}, ` +
            'less than the 395 days an ACM private certificate lasts, so it can issue none. ' +
            'Run `drctl down` (it deletes the certificate and the CA), then `drctl up`: it makes a new CA, ' +
            'valid ca.validityYears years.';
        }
        throw new AwsStepError(
          `certificate ${arn} is ${c.status}${c.failureReason ? ` (${c.failureReason})` : ''}`,
          {
            resource: arn,
            awsCode: c.failureReason ?? c.status,
            resolution: why || 'Run `drctl down` (it deletes the certificate and its CA), then `drctl up`.',
          },
        );
      }
      return { done: false, status: c.status };
    },
  });
}

export async function findOrRequestCertificate(ctx: Ctx, caArn: string): Promise<Certificate> {
  const recorded = ctx.recorded.certificateArn;
  const known = recorded ? await describeCertificate(ctx, recorded) : undefined;
  let mine = known && fromCa(known, caArn) ? known : undefined;
  if (!mine) {
    const tagged = await taggedCertificates(ctx);
    mine = tagged.find((c) => fromCa(c, caArn));
    // Ours but from a CA that is gone (or failed): no use to anyone, and nothing else deletes it.
    for (const stale of tagged.filter((c) => c !== mine && c.certificateAuthorityArn !== caArn)) {
      await deleteCertificate(ctx, stale.arn, { waitWhileInUse: false });
    }
  }
  if (mine) {
    if (mine.arn !== recorded) ctx.record({ certificateArn: mine.arn });
    return mine.status === 'ISSUED' ? mine : waitIssued(ctx, mine.arn);
  }
  const acm = ctx.aws.client(ACMClient, ctx.region);
  const [domainName, ...alternatives] = certificateNames(ctx);
  ctx.progress('certificate: requesting');
  const r = await acm.send(
    new RequestCertificateCommand({
      DomainName: domainName,
      SubjectAlternativeNames: [domainName!, ...alternatives],
      CertificateAuthorityArn: caArn,
      KeyAlgorithm: 'RSA_2048',
      // One hour (ACM); one certificate per CA, so the CA's ARN keys it.
      IdempotencyToken: hash('drctl-cert', caArn, ...certificateNames(ctx)),
      Tags: ctx.tags(),
    }),
  );
  const arn = r.CertificateArn!;
  ctx.record({ certificateArn: arn });
  return waitIssued(ctx, arn);
}

/**
 * Delete one certificate; "not found" is done. While a listener or domain still uses it
 * (ResourceInUseException), wait with its users in the progress line, or leave it and say so.
 */
export async function deleteCertificate(
  ctx: Ctx,
  arn: string,
  o: { waitWhileInUse: boolean },
): Promise<void> {
  const acm = ctx.aws.client(ACMClient, ctx.region);
  await ctx.poll({
    what: `certificate ${shortArn(arn)}`,
    timeoutMs: IN_USE_TIMEOUT_MS,
    minDelayMs: 5_000,
    maxDelayMs: 15_000,
    check: async () => {
      const c = await describeCertificate(ctx, arn);
      if (!c) return { done: true, value: undefined };
      try {
        await acm.send(new DeleteCertificateCommand({ CertificateArn: arn }));
        if (!(await describeCertificate(ctx, arn))) return { done: true, value: undefined };
        return { done: false, status: 'deleting' };
      } catch (e) {
        if (isNotFound(e)) return { done: true, value: undefined };
        if (!isDependencyInUse(e)) throw e;
        const users = c.inUseBy.length ? c.inUseBy.join(', ') : 'a resource AWS has not named yet';
        if (!o.waitWhileInUse) {
          ctx.warn(`left certificate ${arn}: still in use by ${users}; \`drctl down\` deletes it later`);
          return { done: true, value: undefined };
        }
        return { done: false, status: `in use by ${users}, waiting for it to be released` };
      }
    },
  });
}

/** A certificate's lifetime as ACM reports it now (for `status --refresh`). */
export interface CertificateFacts {
  status: string;
  notAfter?: string;
  renewalEligibility?: string;
  /** The last managed renewal's status (and reason), once one fell due. */
  renewalStatus?: string;
  /** For drctl's own CA: whether it grants ACM every renewal action. */
  renewalPermission?: 'granted' | 'missing';
}

export async function certificateFacts(
  aws: Pick<AwsClients, 'client'>,
  region: string,
  certificateArn: string,
  certificateAuthorityArn: string | null | undefined,
): Promise<CertificateFacts | undefined> {
  let c: Certificate | undefined;
  try {
    const r = await aws
      .client(ACMClient, region)
      .send(new DescribeCertificateCommand({ CertificateArn: certificateArn }));
    c = r.Certificate ? parseCertificate(r.Certificate) : undefined;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  if (!c) return undefined;
  let renewalPermission: CertificateFacts['renewalPermission'];
  if (certificateAuthorityArn) {
    try {
      renewalPermission =
        (await acmPermission(aws, region, certificateAuthorityArn)) === 'all' ? 'granted' : 'missing';
    } catch (e) {
      if (!isNotFound(e)) throw e;
      renewalPermission = 'missing';
    }
  }
  return {
    status: c.status,
    ...(c.notAfter ? { notAfter: c.notAfter.toISOString() } : {}),
    ...(c.renewalEligibility ? { renewalEligibility: c.renewalEligibility } : {}),
    ...(c.renewalStatus
      ? { renewalStatus: `${c.renewalStatus}${c.renewalStatusReason ? ` (${c.renewalStatusReason})` : ''}` }
      : {}),
    ...(renewalPermission ? { renewalPermission } : {}),
  };
}
