import {
  ACMClient,
  type CertificateDetail,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  ListTagsForCertificateCommand,
  paginateListCertificates,
  RequestCertificateCommand,
} from '@aws-sdk/client-acm';
import {
  ACMPCAClient,
  type CertificateAuthority,
  CreateCertificateAuthorityCommand,
  CreatePermissionCommand,
  DeleteCertificateAuthorityCommand,
  DeletePermissionCommand,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCertificateCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
  paginateListCertificateAuthorities,
  paginateListPermissions,
  paginateListTags,
  UpdateCertificateAuthorityCommand,
} from '@aws-sdk/client-acm-pca';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AwsClients } from '../../aws/clients.js';
import { awsCode, isDependencyInUse, isNotFound } from '../../aws/errors.js';
import { collect, findInPages } from '../../aws/pages.js';
import { TAG_REGION, isOwnedBy, tagValue } from '../../aws/tags.js';
import { AwsStepError } from '../../errors/errors.js';
import { removeFile, writeFileAtomic } from '../../lib/files.js';
import { REGIONAL_PRICES } from '../../plan/pricing.js';
import type { StepContext, StepImpl } from '../types.js';

// Owns, per region: one AWS Private CA root CA (about $400 a month while it exists), the
// permission it gives ACM to renew what it issued, the private ACM certificate for *.<domain> and
// <host>.<domain> it issues, and the CA certificate at .drctl/ca/<region>.pem for clients to
// trust. With config.certificateArn[<region>] it makes neither and hands that certificate on.

const outputs = z.object({
  /** The region's root CA; null when config.certificateArn gives this region's certificate. */
  certificateAuthorityArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:acm-pca:/)
    .nullable(),
  /** The ACM certificate for *.<domain> and <host>.<domain> (private, from that CA). */
  certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:/),
  /** The certificate's NotAfter when `up` last looked (ACM moves it when it renews). */
  certificateNotAfter: z.string().datetime().optional(),
  /** ACM's RenewalEligibility for the certificate: ELIGIBLE or INELIGIBLE. */
  renewalEligibility: z.string().optional(),
  /** The CA grants acm.amazonaws.com what managed renewal needs (only for drctl's own CA). */
  renewalPermission: z.enum(['granted']).optional(),
});
export type CaOutputs = z.infer<typeof outputs>;

declare module '../types.js' {
  interface StepOutputs {
    ca: CaOutputs;
  }
}

type Ctx = StepContext<CaOutputs>;

const ROOT_TEMPLATE_ARN = 'arn:aws:acm-pca:::template/RootCACertificate/V1';
const SIGNING_ALGORITHM = 'SHA256WITHRSA';
const CA_TIMEOUT_MS = 10 * 60_000;
const CERT_TIMEOUT_MS = 10 * 60_000;
// InUseBy lags the deletion of the listener or domain that used the certificate (docs/design/aws-behaviour.md §7).
const IN_USE_TIMEOUT_MS = 15 * 60_000;
// "There is a delay of several seconds before you can retrieve information about the new
// certificate" (https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html).
const CERT_VISIBILITY_LAG_MS = 30_000;

/** What drctl needs to know of a CA, parsed at the edge. */
interface Ca {
  arn: string;
  status: string;
  createdAt: number;
  restorableUntil?: Date;
  /** The end of the CA's own certificate: it issues nothing that outlives it. */
  notAfter?: Date;
}

interface Certificate {
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

export const caPemPath = (ctx: Pick<Ctx, 'paths' | 'region'>) => join(ctx.paths.ca, `${ctx.region}.pem`);
const certificateNames = (ctx: Pick<Ctx, 'config'>) => [
  `*.${ctx.config.domain}`,
  `${ctx.config.host}.${ctx.config.domain}`,
];
const shortArn = (arn: string) => arn.split('/').pop() ?? arn;
const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);

function parseCa(c: CertificateAuthority): Ca {
  return {
    arn: c.Arn!,
    status: c.Status ?? 'UNKNOWN',
    createdAt: c.CreatedAt?.getTime() ?? 0,
    ...(c.RestorableUntil ? { restorableUntil: c.RestorableUntil } : {}),
    ...(c.NotAfter ? { notAfter: c.NotAfter } : {}),
  };
}

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
const lifetimeOf = (c: Certificate) => ({
  ...(c.notAfter ? { certificateNotAfter: c.notAfter.toISOString() } : {}),
  ...(c.renewalEligibility ? { renewalEligibility: c.renewalEligibility } : {}),
});

const isInProgress = (e: unknown) => awsCode(e) === 'RequestInProgressException';

// ---- the CA ------------------------------------------------------------------------------------

async function describeCa(ctx: Ctx, arn: string): Promise<Ca | undefined> {
  const pca = ctx.aws.client(ACMPCAClient, ctx.region);
  try {
    const r = await pca.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: arn }));
    return r.CertificateAuthority ? parseCa(r.CertificateAuthority) : undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/**
 * Every root CA of this deployment in this region, DELETED ones (still restorable) included,
 * oldest first. CAs have no names, so the ownership tags are the only way to find one after a
 * crash lost its ARN.
 */
async function taggedCas(ctx: Ctx): Promise<Ca[]> {
  const client = ctx.aws.client(ACMPCAClient, ctx.region);
  const found: Ca[] = [];
  const cas = await collect(
    paginateListCertificateAuthorities({ client }, { MaxResults: 100 }),
    (p) => p.CertificateAuthorities,
  );
  for (const c of cas) {
    if (c.Type !== 'ROOT' || !c.Arn) continue;
    const Tags = await collect(
      paginateListTags({ client }, { CertificateAuthorityArn: c.Arn }),
      (p) => p.Tags,
    );
    if (isOwnedBy(Tags, ctx.config.deployment) && tagValue(Tags, TAG_REGION) === ctx.region) {
      found.push(parseCa(c));
    }
  }
  return found.sort((a, b) => a.createdAt - b.createdAt);
}

/**
 * The CA's IdempotencyToken. AWS remembers it for five minutes only (docs/design/aws-behaviour.md §4), so it is a
 * guard against two `up`s racing, not against a re-run: that is what the tag search is for
 * (the workshop's fixed token made a second $400/month CA on any later re-run, §12.14). The ARNs
 * of our deleted CAs go into it so that an `up` within five minutes of a `down` gets a new CA
 * rather than the deleted one back.
 */
function createToken(ctx: Ctx, deleted: Ca[]): string {
  return hash('drctl-ca', ctx.config.deployment, ctx.region, ...deleted.map((c) => c.arn).sort());
}

async function findOrCreateCa(ctx: Ctx): Promise<Ca> {
  const recorded = ctx.recorded.certificateAuthorityArn;
  const known = recorded ? await describeCa(ctx, recorded) : undefined;
  if (known && known.status !== 'DELETED') return known;

  const tagged = await taggedCas(ctx);
  const live = tagged.filter((c) => c.status !== 'DELETED');
  if (live.length > 1) {
    ctx.warn(
      `${live.length} root CAs of deployment "${ctx.config.deployment}" exist in ${ctx.region}: using ${live[0]!.arn}. ` +
        `Each costs about $400 a month; \`drctl down\` deletes them all.`,
    );
  }
  const adopted = live[0];
  if (adopted) {
    ctx.record({ certificateAuthorityArn: adopted.arn });
    return adopted;
  }

  const pca = ctx.aws.client(ACMPCAClient, ctx.region);
  ctx.info(
    `creating a root CA in ${ctx.region}: AWS Private CA bills about $400 a month for it (pro-rated; ` +
      'the first CA in a region may be free for 30 days) until `drctl down` deletes it',
  );
  ctx.progress('root CA: creating');
  const subject = ctx.config.ca;
  const r = await pca.send(
    new CreateCertificateAuthorityCommand({
      CertificateAuthorityType: 'ROOT',
      CertificateAuthorityConfiguration: {
        KeyAlgorithm: 'RSA_2048',
        SigningAlgorithm: SIGNING_ALGORITHM,
        Subject: {
          CommonName: subject.commonName,
          Organization: subject.organization,
          Country: subject.country,
        },
      },
      // Short-lived mode would be $50 a month, but ACM cannot issue certificates from such a CA
      // (https://docs.aws.amazon.com/privateca/latest/userguide/short-lived-certificates.html).
      UsageMode: 'GENERAL_PURPOSE',
      IdempotencyToken: createToken(
        ctx,
        tagged.filter((c) => c.status === 'DELETED'),
      ),
      Tags: ctx.tags(),
    }),
  );
  const arn = r.CertificateAuthorityArn!;
  ctx.record({ certificateAuthorityArn: arn });
  return { arn, status: 'CREATING', createdAt: ctx.clock.now() };
}

async function waitCaStatus(ctx: Ctx, arn: string, target: string): Promise<Ca> {
  return ctx.poll({
    what: `root CA ${shortArn(arn)}`,
    timeoutMs: CA_TIMEOUT_MS,
    minDelayMs: 1_000,
    maxDelayMs: 3_000,
    check: async () => {
      const ca = await describeCa(ctx, arn);
      if (ca?.status === target) return { done: true, value: ca };
      if (!ca || ca.status === 'FAILED' || ca.status === 'DELETED' || ca.status === 'EXPIRED') {
        throw caStateError(ctx, arn, ca?.status ?? 'gone');
      }
      return { done: false, status: ca.status };
    },
  });
}

function caStateError(ctx: Ctx, arn: string, status: string): AwsStepError {
  return new AwsStepError(`root CA ${arn} in ${ctx.region} is ${status}`, {
    resource: arn,
    awsCode: status,
    resolution:
      status === 'DELETED' || status === 'gone'
        ? 'Run the same command again: drctl makes a new CA.'
        : 'Run `drctl down` (it deletes this CA), then `drctl up` to make a new one.',
  });
}

/**
 * CSR → self-signed certificate from the RootCACertificate/V1 template → import → ACTIVE
 * (docs/design/aws-behaviour.md §4). Polls on the injected clock: the SDK's CSRCreated and CertificateIssued waiters
 * sleep on the wall clock.
 */
async function installRootCertificate(ctx: Ctx, arn: string): Promise<void> {
  const pca = ctx.aws.client(ACMPCAClient, ctx.region);
  const what = `root CA ${shortArn(arn)}`;
  const csr = await ctx.poll({
    what: `${what} CSR`,
    timeoutMs: CA_TIMEOUT_MS,
    minDelayMs: 2_000,
    maxDelayMs: 5_000,
    check: async () => {
      try {
        const r = await pca.send(new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: arn }));
        return { done: true, value: r.Csr! };
      } catch (e) {
        if (isInProgress(e)) return { done: false, status: 'CREATING (CSR not ready yet)' };
        throw e;
      }
    },
  });
  ctx.progress(`${what}: signing its certificate`);
  const issued = await pca.send(
    new IssueCertificateCommand({
      CertificateAuthorityArn: arn,
      Csr: new TextEncoder().encode(csr),
      SigningAlgorithm: SIGNING_ALGORITHM,
      TemplateArn: ROOT_TEMPLATE_ARN,
      Validity: { Type: 'YEARS', Value: ctx.config.ca.validityYears },
      // Five minutes, like CreateCertificateAuthority's: a re-run within that window gets the
      // same certificate; a later one signs another (harmless: it is never imported).
      IdempotencyToken: hash('drctl-ca-root', arn),
    }),
  );
  const certificatePem = await ctx.poll({
    what: `${what} certificate`,
    timeoutMs: CA_TIMEOUT_MS,
    minDelayMs: 2_000,
    maxDelayMs: 5_000,
    check: async () => {
      try {
        const r = await pca.send(
          new GetCertificateCommand({ CertificateAuthorityArn: arn, CertificateArn: issued.CertificateArn }),
        );
        return { done: true, value: r.Certificate! };
      } catch (e) {
        if (isInProgress(e)) return { done: false, status: 'being issued' };
        throw e;
      }
    },
  });
  // A root CA takes its self-signed certificate with no chain (API_ImportCertificateAuthorityCertificate).
  await pca.send(
    new ImportCertificateAuthorityCertificateCommand({
      CertificateAuthorityArn: arn,
      Certificate: new TextEncoder().encode(certificatePem),
    }),
  );
  await waitCaStatus(ctx, arn, 'ACTIVE');
}

async function activate(ctx: Ctx, ca: Ca): Promise<void> {
  switch (ca.status) {
    case 'ACTIVE':
      return;
    case 'CREATING':
    case 'PENDING_CERTIFICATE':
      return installRootCertificate(ctx, ca.arn);
    case 'DISABLED': {
      // A `down` that stopped between disabling and deleting: the CA is still ours and billed.
      ctx.warn(`root CA ${ca.arn} was disabled; enabling it again`);
      const pca = ctx.aws.client(ACMPCAClient, ctx.region);
      await pca.send(
        new UpdateCertificateAuthorityCommand({ CertificateAuthorityArn: ca.arn, Status: 'ACTIVE' }),
      );
      await waitCaStatus(ctx, ca.arn, 'ACTIVE');
      return;
    }
    default:
      throw caStateError(ctx, ca.arn, ca.status);
  }
}

async function writeCaPem(ctx: Ctx, arn: string): Promise<void> {
  const pca = ctx.aws.client(ACMPCAClient, ctx.region);
  const r = await pca.send(new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: arn }));
  // A public certificate: readable by anyone who needs to trust it.
  writeFileAtomic(caPemPath(ctx), r.Certificate!, 0o644);
}

// ---- ACM's renewal permission ---------------------------------------------------------------------

const ACM_PRINCIPAL = 'acm.amazonaws.com';
// "In order for ACM to automatically renew private certificates, you must give the ACM service
// principal all available permissions" (https://docs.aws.amazon.com/privateca/latest/APIReference/API_Permission.html).
// Without them ACM's renewal fails and the certificate expires after its 395 days
// (https://docs.aws.amazon.com/privateca/latest/userguide/assign-permissions.html).
const RENEWAL_ACTIONS = ['IssueCertificate', 'GetCertificate', 'ListPermissions'] as const;

/** The CA's permission for ACM: 'all' (renewal works), 'partial', or 'none'. */
async function acmPermission(
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

async function revokeAcmPermission(ctx: Ctx, caArn: string): Promise<void> {
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
async function grantRenewal(ctx: Ctx, caArn: string): Promise<void> {
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

// ---- the ACM certificate -------------------------------------------------------------------------

async function describeCertificate(ctx: Ctx, arn: string): Promise<Certificate | undefined> {
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
async function taggedCertificates(ctx: Ctx): Promise<Certificate[]> {
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
    if (!isOwnedBy(Tags, ctx.config.deployment) || tagValue(Tags, TAG_REGION) !== ctx.region) continue;
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

async function findOrRequestCertificate(ctx: Ctx, caArn: string): Promise<Certificate> {
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
async function deleteCertificate(ctx: Ctx, arn: string, o: { waitWhileInUse: boolean }): Promise<void> {
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

// ---- the step ------------------------------------------------------------------------------------

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

/**
 * A deleted CA stays restorable for its window. "You are not charged for a private CA after it has
 * been deleted. However, if a deleted CA is restored, you are charged for the time between deletion
 * and restoration" (https://docs.aws.amazon.com/privateca/latest/userguide/PCARestoreCA.html).
 */
function caRemains(ctx: Ctx, ca: Ca): void {
  const month = REGIONAL_PRICES[ctx.region]?.privateCaMonth?.usd ?? 400;
  const until = ca.restorableUntil?.toISOString().slice(0, 10);
  ctx.remains?.({
    what: 'private CA (deleted, restorable)',
    id: ca.arn,
    region: ctx.region,
    ...(until ? { restorableUntil: until } : {}),
    cost: `$0 while deleted; a restore bills the days since deletion at $${month.toFixed(2)} a month`,
  });
}

async function deleteCa(ctx: Ctx, ca: Ca): Promise<void> {
  const pca = ctx.aws.client(ACMPCAClient, ctx.region);
  if (ca.status === 'DELETED') {
    caRemains(ctx, ca);
    return;
  }
  if (ca.status === 'ACTIVE') {
    // "Before you can delete a CA that you have created and activated, you must disable it"
    // (https://docs.aws.amazon.com/privateca/latest/APIReference/API_DeleteCertificateAuthority.html).
    ctx.progress(`root CA ${shortArn(ca.arn)}: disabling`);
    await pca.send(
      new UpdateCertificateAuthorityCommand({ CertificateAuthorityArn: ca.arn, Status: 'DISABLED' }),
    );
  }
  ctx.progress(`root CA ${shortArn(ca.arn)}: deleting`);
  try {
    await pca.send(
      new DeleteCertificateAuthorityCommand({
        CertificateAuthorityArn: ca.arn,
        PermanentDeletionTimeInDays: ctx.config.ca.permanentDeletionTimeInDays,
      }),
    );
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
  const deleted = await waitCaDeleted(ctx, ca.arn);
  caRemains(ctx, deleted ?? ca);
  const until = deleted?.restorableUntil?.toISOString().slice(0, 10);
  ctx.info(
    `deleted root CA ${ca.arn}; billing stops now. AWS keeps it restorable${until ? ` until ${until}` : ''} ` +
      `(aws acm-pca restore-certificate-authority --certificate-authority-arn ${ca.arn} --region ${ctx.region})`,
  );
}

async function waitCaDeleted(ctx: Ctx, arn: string): Promise<Ca | undefined> {
  return ctx.poll({
    what: `root CA ${shortArn(arn)}`,
    timeoutMs: CA_TIMEOUT_MS,
    minDelayMs: 1_000,
    maxDelayMs: 5_000,
    check: async () => {
      const ca = await describeCa(ctx, arn);
      if (!ca || ca.status === 'DELETED') return { done: true, value: ca };
      return { done: false, status: ca.status };
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
