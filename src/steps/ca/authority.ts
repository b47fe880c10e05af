import {
  ACMPCAClient,
  type CertificateAuthority,
  CreateCertificateAuthorityCommand,
  DeleteCertificateAuthorityCommand,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
  paginateListCertificateAuthorities,
  paginateListTags,
  UpdateCertificateAuthorityCommand,
} from '@aws-sdk/client-acm-pca';
import { createHash } from 'node:crypto';
import { awsCode, isNotFound } from '../../aws/errors.js';
import { collect } from '../../aws/pages.js';
import { isOursHere } from '../../aws/resources/ownership.js';
import { AwsStepError } from '../../errors/errors.js';
import { REGIONAL_PRICES } from '../../plan/pricing.js';
import type { Ctx } from './outputs.js';

// The region's AWS Private CA root CA: found by tag (it has no name), created, its self-signed
// certificate installed, and on `down` disabled and deleted (restorable for its window).

const ROOT_TEMPLATE_ARN = 'arn:aws:acm-pca:::template/RootCACertificate/V1';
const SIGNING_ALGORITHM = 'SHA256WITHRSA';
const CA_TIMEOUT_MS = 10 * 60_000;

/** What drctl needs to know of a CA, parsed at the edge. */
export interface Ca {
  arn: string;
  status: string;
  createdAt: number;
  restorableUntil?: Date;
  /** The end of the CA's own certificate: it issues nothing that outlives it. */
  notAfter?: Date;
}

export const shortArn = (arn: string) => arn.split('/').pop() ?? arn;
export const hash = (...parts: string[]) =>
  createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);

function parseCa(c: CertificateAuthority): Ca {
  return {
    arn: c.Arn!,
    status: c.Status ?? 'UNKNOWN',
    createdAt: c.CreatedAt?.getTime() ?? 0,
    ...(c.RestorableUntil ? { restorableUntil: c.RestorableUntil } : {}),
    ...(c.NotAfter ? { notAfter: c.NotAfter } : {}),
  };
}

const isInProgress = (e: unknown) => awsCode(e) === 'RequestInProgressException';

export async function describeCa(ctx: Ctx, arn: string): Promise<Ca | undefined> {
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
export async function taggedCas(ctx: Ctx): Promise<Ca[]> {
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
    if (isOursHere(ctx, Tags)) {
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
export async function findOrCreateCa(ctx: Ctx): Promise<Ca> {
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

export async function activate(ctx: Ctx, ca: Ca): Promise<void> {
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

export async function deleteCa(ctx: Ctx, ca: Ca): Promise<void> {
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
