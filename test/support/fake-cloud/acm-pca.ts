// Over 500 lines: one region's Private CA: CAs, certificates, tokens and ACM's grants share a store.
import { FakeService, mapToTags, tagsToMap } from './cloud.js';
import { awsError } from './errors.js';
import { page } from './paging.js';

type Tags = Record<string, string>;
export type CaStatus =
  'CREATING' | 'PENDING_CERTIFICATE' | 'ACTIVE' | 'DISABLED' | 'DELETED' | 'EXPIRED' | 'FAILED';

const ROOT_TEMPLATE = 'arn:aws:acm-pca:::template/RootCACertificate/V1';
// Both tokens are remembered for five minutes (docs/design/aws-behaviour.md §4; docs/design/fake-cloud.md).
const TOKEN_WINDOW_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

interface IssuedCertificate {
  arn: string;
  pem: string;
  template: string;
  /** The certificate is retrievable (GetCertificate) from this virtual time on. */
  readyAt: number;
  /** End of its validity (IssueCertificate's Validity from the time of issue). */
  notAfter: number;
}

/** When a certificate issued at `at` with IssueCertificate's Validity ends (API_Validity). */
function validityEnd(at: number, v: { Type?: string; Value?: number }): number {
  const d = new Date(at);
  const n = Number(v.Value);
  switch (v.Type) {
    case 'YEARS':
      return d.setUTCFullYear(d.getUTCFullYear() + n);
    case 'MONTHS':
      return d.setUTCMonth(d.getUTCMonth() + n);
    case 'DAYS':
      return at + n * DAY_MS;
    case 'ABSOLUTE':
      return n * 1000;
    default:
      throw awsError('ValidationException', `Validity type ${v.Type} is not modelled by the fake cloud.`);
  }
}

export interface CertificateAuthority {
  arn: string;
  region: string;
  type: 'ROOT' | 'SUBORDINATE';
  status: CaStatus;
  configuration: unknown;
  usageMode: string;
  tags: Tags;
  createdAt: number;
  lastStateChangeAt: number;
  /** CREATING becomes PENDING_CERTIFICATE (CSR readable) at this time. */
  csrAt: number;
  csr: string;
  /** After an import: ACTIVE from this time (PENDING_CERTIFICATE until then). */
  activeAt?: number;
  certificatePem?: string;
  /** The imported CA certificate's NotAfter: nothing it issues may outlive it. */
  notAfter?: number;
  issued: Map<string, IssuedCertificate>;
  issueTokens: Map<string, { arn: string; at: number }>;
  /** Set by DeleteCertificateAuthority: restorable until, and the status it had before. */
  restorableUntil?: number;
  statusBeforeDeletion?: CaStatus;
  /** CreatePermission grants to acm.amazonaws.com, live and revoked (ACM's renewals look back). */
  permissions: CaPermission[];
}

export interface CaPermission {
  principal: string;
  actions: string[];
  sourceAccount: string;
  createdAt: number;
  /** Set by DeletePermission. */
  deletedAt?: number;
}

/** What ACM needs to renew a private certificate (API_Permission: "all available permissions"). */
export const RENEWAL_ACTIONS = ['IssueCertificate', 'GetCertificate', 'ListPermissions'] as const;
const ACM_PRINCIPAL = 'acm.amazonaws.com';

function uuid(rand: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
}

function bytesToText(b: unknown): string {
  if (b instanceof Uint8Array) return Buffer.from(b).toString('utf8');
  throw awsError('ValidationException', 'Blob parameters must be bytes (Uint8Array) in SDK v3');
}

/**
 * AWS Private CA, per region. Models what drctl's correctness rests on (docs/design/aws-behaviour.md §4):
 * - CREATING → PENDING_CERTIFICATE after `pca.create`; the CSR is a RequestInProgressException
 *   until then;
 * - IssueCertificate (5-minute IdempotencyToken per CA) is retrievable after `pca.issue`
 *   (RequestInProgressException before);
 * - only the CA's own certificate from the RootCACertificate/V1 template can be imported; the CA is
 *   ACTIVE `pca.import` after that;
 * - CreateCertificateAuthority's IdempotencyToken is remembered for 5 minutes only: after that the
 *   same token makes a second CA (workshop mistake §12.14);
 * - an ACTIVE CA cannot be deleted (disable it first); a deleted CA stays listed as DELETED with
 *   RestorableUntil and is not live (not in the snapshot); it vanishes once the window has passed.
 * - CreatePermission / ListPermissions / DeletePermission for the ACM principal only; a second
 *   CreatePermission for it is PermissionAlreadyExistsException. The ACM model asks
 *   `grantsRenewal(ca, t)` when a certificate falls due for renewal.
 */
export class FakeAcmPca extends FakeService {
  readonly service = 'acm-pca';

  override tagsOfArn(arn: string): Record<string, string> | undefined {
    return arn.includes(':acm-pca:') ? this.cas.get(arn)?.tags : undefined;
  }
  private readonly cas = new Map<string, CertificateAuthority>();
  private readonly createTokens = new Map<string, { arn: string; at: number }>();

  /** The CA with that ARN in that region, settled to the current virtual time; undefined if none. */
  find(region: string, arn: string): CertificateAuthority | undefined {
    const ca = this.cas.get(arn);
    if (!ca || ca.region !== region) return undefined;
    this.settle(ca);
    return this.cas.get(arn);
  }

  /** Every CA of the region that AWS still lists (DELETED ones inside their restore window too). */
  listed(region: string): CertificateAuthority[] {
    return [...this.cas.values()].filter((c) => c.region === region && this.find(region, c.arn));
  }

  private settle(ca: CertificateAuthority): void {
    const now = this.now();
    if (ca.status === 'CREATING' && now >= ca.csrAt) this.setStatus(ca, 'PENDING_CERTIFICATE', ca.csrAt);
    if (ca.status === 'PENDING_CERTIFICATE' && ca.activeAt !== undefined && now >= ca.activeAt) {
      this.setStatus(ca, 'ACTIVE', ca.activeAt);
    }
    if (ca.status === 'DELETED' && ca.restorableUntil !== undefined && now >= ca.restorableUntil) {
      this.cas.delete(ca.arn);
    }
  }

  private setStatus(ca: CertificateAuthority, status: CaStatus, at = this.now()): void {
    ca.status = status;
    ca.lastStateChangeAt = at;
  }

  private need(region: string, arn: string | undefined): CertificateAuthority {
    if (!arn || !/^arn:aws[a-z-]*:acm-pca:/.test(arn)) {
      throw awsError('InvalidArnException', `The certificate authority ARN ${arn} is not valid.`);
    }
    const ca = this.find(region, arn);
    if (!ca) throw awsError('ResourceNotFoundException', `Could not find certificate authority ${arn}.`);
    return ca;
  }

  private refuseDeleted(ca: CertificateAuthority): void {
    if (ca.status === 'DELETED') {
      throw awsError('InvalidStateException', `The certificate authority ${ca.arn} is in the DELETED state.`);
    }
  }

  private view(ca: CertificateAuthority) {
    return {
      Arn: ca.arn,
      OwnerAccount: this.cloud.account,
      CreatedAt: new Date(ca.createdAt),
      LastStateChangeAt: new Date(ca.lastStateChangeAt),
      Type: ca.type,
      Status: ca.status,
      CertificateAuthorityConfiguration: ca.configuration,
      UsageMode: ca.usageMode,
      KeyStorageSecurityStandard: 'FIPS_140_2_LEVEL_3_OR_HIGHER',
      ...(ca.notAfter !== undefined ? { NotAfter: new Date(ca.notAfter) } : {}),
      ...(ca.restorableUntil !== undefined && ca.status === 'DELETED'
        ? { RestorableUntil: new Date(ca.restorableUntil) }
        : {}),
    };
  }

  // ---- commands ------------------------------------------------------------------------------
  CreateCertificateAuthority(
    region: string,
    input: {
      CertificateAuthorityConfiguration?: {
        KeyAlgorithm?: string;
        SigningAlgorithm?: string;
        Subject?: unknown;
      };
      CertificateAuthorityType?: string;
      IdempotencyToken?: string;
      Tags?: Array<{ Key: string; Value: string }>;
      UsageMode?: string;
    },
  ) {
    const now = this.now();
    const cfg = input.CertificateAuthorityConfiguration;
    if (!cfg?.KeyAlgorithm || !cfg.SigningAlgorithm || !cfg.Subject) {
      throw awsError(
        'InvalidArgsException',
        'CertificateAuthorityConfiguration needs KeyAlgorithm, SigningAlgorithm and Subject.',
      );
    }
    if (input.CertificateAuthorityType !== 'ROOT' && input.CertificateAuthorityType !== 'SUBORDINATE') {
      throw awsError('ValidationException', 'CertificateAuthorityType must be ROOT or SUBORDINATE.');
    }
    if (input.IdempotencyToken !== undefined && input.IdempotencyToken.length > 36) {
      throw awsError('ValidationException', 'IdempotencyToken must have length less than or equal to 36');
    }
    const tokenKey = input.IdempotencyToken ? `${region}/${input.IdempotencyToken}` : undefined;
    if (tokenKey) {
      const seen = this.createTokens.get(tokenKey);
      if (seen && now - seen.at < TOKEN_WINDOW_MS) return { CertificateAuthorityArn: seen.arn };
    }
    const arn = `arn:aws:acm-pca:${region}:${this.cloud.account}:certificate-authority/${uuid(() => this.cloud.random())}`;
    const ca: CertificateAuthority = {
      arn,
      region,
      type: input.CertificateAuthorityType,
      status: 'CREATING',
      configuration: cfg,
      usageMode: input.UsageMode ?? 'GENERAL_PURPOSE',
      tags: tagsToMap(input.Tags),
      createdAt: now,
      lastStateChangeAt: now,
      csrAt: now + this.delay('pca.create'),
      csr: `-----BEGIN CERTIFICATE REQUEST-----\nfake-csr-${arn}\n-----END CERTIFICATE REQUEST-----\n`,
      issued: new Map(),
      issueTokens: new Map(),
      permissions: [],
    };
    this.cas.set(arn, ca);
    if (tokenKey) this.createTokens.set(tokenKey, { arn, at: now });
    return { CertificateAuthorityArn: arn };
  }

  DescribeCertificateAuthority(region: string, input: { CertificateAuthorityArn?: string }) {
    return { CertificateAuthority: this.view(this.need(region, input.CertificateAuthorityArn)) };
  }

  ListCertificateAuthorities(region: string, input: { MaxResults?: number; NextToken?: string }) {
    const { items, next } = page(
      this.cloud,
      this.listed(region),
      { token: input.NextToken, limit: input.MaxResults },
      { command: 'ListCertificateAuthorities', defaultSize: 20, maxSize: 1000, key: (c) => c.arn },
    );
    return { CertificateAuthorities: items.map((c) => this.view(c)), ...(next ? { NextToken: next } : {}) };
  }

  ListTags(
    region: string,
    input: { CertificateAuthorityArn?: string; MaxResults?: number; NextToken?: string },
  ) {
    const ca = this.need(region, input.CertificateAuthorityArn);
    const { items, next } = page(
      this.cloud,
      mapToTags(ca.tags),
      { token: input.NextToken, limit: input.MaxResults },
      { command: `ListTags/${ca.arn}`, defaultSize: 50, maxSize: 1000, key: (t) => t.Key },
    );
    return { Tags: items, ...(next ? { NextToken: next } : {}) };
  }

  TagCertificateAuthority(
    region: string,
    input: { CertificateAuthorityArn?: string; Tags?: Array<{ Key: string; Value: string }> },
  ) {
    const ca = this.need(region, input.CertificateAuthorityArn);
    Object.assign(ca.tags, tagsToMap(input.Tags));
    return {};
  }

  GetCertificateAuthorityCsr(region: string, input: { CertificateAuthorityArn?: string }) {
    const ca = this.need(region, input.CertificateAuthorityArn);
    this.refuseDeleted(ca);
    if (ca.status === 'CREATING') {
      throw awsError(
        'RequestInProgressException',
        'The request is still in progress: the CSR is not ready yet.',
      );
    }
    return { Csr: ca.csr };
  }

  IssueCertificate(
    region: string,
    input: {
      CertificateAuthorityArn?: string;
      Csr?: unknown;
      SigningAlgorithm?: string;
      TemplateArn?: string;
      Validity?: { Type?: string; Value?: number };
      IdempotencyToken?: string;
    },
  ) {
    const ca = this.need(region, input.CertificateAuthorityArn);
    const csr = bytesToText(input.Csr);
    if (!input.SigningAlgorithm || !input.Validity?.Type || !input.Validity.Value) {
      throw awsError('ValidationException', 'SigningAlgorithm and Validity are required.');
    }
    const template = input.TemplateArn ?? 'arn:aws:acm-pca:::template/EndEntityCertificate/V1';
    if (template === ROOT_TEMPLATE) {
      // A root CA certificate can only be signed for the CA's own CSR, before it is active.
      if (ca.status !== 'PENDING_CERTIFICATE') {
        throw awsError('InvalidStateException', `The certificate authority ${ca.arn} is ${ca.status}.`);
      }
      if (csr !== ca.csr) throw awsError('MalformedCSRException', "The CSR is not this CA's CSR.");
    } else if (ca.status !== 'ACTIVE') {
      throw awsError('InvalidStateException', `The certificate authority ${ca.arn} is ${ca.status}.`);
    }
    const now = this.now();
    if (input.IdempotencyToken) {
      const seen = ca.issueTokens.get(input.IdempotencyToken);
      if (seen && now - seen.at < TOKEN_WINDOW_MS) return { CertificateArn: seen.arn };
    }
    const serial = this.id('');
    const arn = `${ca.arn}/certificate/${serial}`;
    ca.issued.set(arn, {
      arn,
      template,
      pem: `-----BEGIN CERTIFICATE-----\nfake-cert-${serial}-issuer-${ca.arn}${template === ROOT_TEMPLATE ? '-self-signed' : ''}\n-----END CERTIFICATE-----\n`,
      readyAt: now + this.delay('pca.issue'),
      notAfter: validityEnd(now, input.Validity),
    });
    if (input.IdempotencyToken) ca.issueTokens.set(input.IdempotencyToken, { arn, at: now });
    return { CertificateArn: arn };
  }

  GetCertificate(region: string, input: { CertificateAuthorityArn?: string; CertificateArn?: string }) {
    const ca = this.need(region, input.CertificateAuthorityArn);
    const cert = ca.issued.get(input.CertificateArn ?? '');
    if (!cert)
      throw awsError('ResourceNotFoundException', `Could not find certificate ${input.CertificateArn}.`);
    if (this.now() < cert.readyAt) {
      throw awsError('RequestInProgressException', 'The certificate is still being issued.');
    }
    return { Certificate: cert.pem };
  }

  ImportCertificateAuthorityCertificate(
    region: string,
    input: { CertificateAuthorityArn?: string; Certificate?: unknown; CertificateChain?: unknown },
  ) {
    const ca = this.need(region, input.CertificateAuthorityArn);
    const pem = bytesToText(input.Certificate);
    if (ca.status !== 'PENDING_CERTIFICATE' && ca.status !== 'ACTIVE') {
      throw awsError('InvalidStateException', `The certificate authority ${ca.arn} is ${ca.status}.`);
    }
    const own = [...ca.issued.values()].find((c) => c.pem === pem);
    if (!own) {
      throw awsError('CertificateMismatchException', "The certificate does not match the CA's CSR.");
    }
    // "Only a self-signed certificate can be imported as a root CA" (API_ImportCertificateAuthorityCertificate).
    if (ca.type === 'ROOT' && (own.template !== ROOT_TEMPLATE || input.CertificateChain !== undefined)) {
      throw awsError(
        'MalformedCertificateException',
        'A root CA takes only its self-signed certificate, without a chain.',
      );
    }
    ca.certificatePem = pem;
    ca.notAfter = own.notAfter;
    if (ca.status === 'PENDING_CERTIFICATE' && ca.activeAt === undefined) {
      ca.activeAt = this.now() + this.delay('pca.import');
    }
    return {};
  }

  GetCertificateAuthorityCertificate(region: string, input: { CertificateAuthorityArn?: string }) {
    const ca = this.need(region, input.CertificateAuthorityArn);
    this.refuseDeleted(ca);
    if (!ca.certificatePem) {
      throw awsError('InvalidStateException', `The certificate authority ${ca.arn} has no certificate yet.`);
    }
    return { Certificate: ca.certificatePem };
  }

  UpdateCertificateAuthority(region: string, input: { CertificateAuthorityArn?: string; Status?: string }) {
    const ca = this.need(region, input.CertificateAuthorityArn);
    this.refuseDeleted(ca);
    if (input.Status === undefined) return {};
    const allowed =
      (input.Status === 'DISABLED' && (ca.status === 'ACTIVE' || ca.status === 'DISABLED')) ||
      (input.Status === 'ACTIVE' && (ca.status === 'DISABLED' || ca.status === 'ACTIVE'));
    if (!allowed) {
      throw awsError(
        'InvalidStateException',
        `The certificate authority ${ca.arn} is ${ca.status} and cannot be set to ${input.Status}.`,
      );
    }
    this.setStatus(ca, input.Status as CaStatus);
    return {};
  }

  DeleteCertificateAuthority(
    region: string,
    input: { CertificateAuthorityArn?: string; PermanentDeletionTimeInDays?: number },
  ) {
    const ca = this.need(region, input.CertificateAuthorityArn);
    const days = input.PermanentDeletionTimeInDays ?? 30;
    if (!Number.isInteger(days) || days < 7 || days > 30) {
      throw awsError('ValidationException', 'PermanentDeletionTimeInDays must be between 7 and 30.');
    }
    if (ca.status === 'ACTIVE') {
      throw awsError(
        'InvalidStateException',
        `The certificate authority ${ca.arn} is ACTIVE: disable it (UpdateCertificateAuthority DISABLED) before deleting it.`,
      );
    }
    this.refuseDeleted(ca);
    ca.statusBeforeDeletion = ca.status;
    ca.restorableUntil = this.now() + days * DAY_MS;
    this.setStatus(ca, 'DELETED');
    return {};
  }

  /**
   * Whether at virtual time `t` the CA was ACTIVE-capable and granted acm.amazonaws.com every
   * renewal action (https://docs.aws.amazon.com/privateca/latest/userguide/assign-permissions.html).
   */
  grantsRenewal(ca: CertificateAuthority, t: number): boolean {
    return this.renewalGrantIntervals(ca).some(([from, to]) => from <= t && t < to);
  }

  /** The [from, to) spans during which the CA granted ACM every renewal action. */
  renewalGrantIntervals(ca: CertificateAuthority): Array<[number, number]> {
    return ca.permissions
      .filter((p) => p.principal === ACM_PRINCIPAL && RENEWAL_ACTIONS.every((a) => p.actions.includes(a)))
      .map((p) => [p.createdAt, p.deletedAt ?? Number.POSITIVE_INFINITY]);
  }

  private livePermission(ca: CertificateAuthority, principal: string): CaPermission | undefined {
    return ca.permissions.find((p) => p.principal === principal && p.deletedAt === undefined);
  }

  CreatePermission(
    region: string,
    input: {
      CertificateAuthorityArn?: string;
      Principal?: string;
      Actions?: string[];
      SourceAccount?: string;
    },
  ) {
    const ca = this.need(region, input.CertificateAuthorityArn);
    this.refuseDeleted(ca);
    if (input.Principal !== ACM_PRINCIPAL) {
      throw awsError(
        'InvalidArnException',
        `The principal ${input.Principal} is not valid: only ${ACM_PRINCIPAL}.`,
      );
    }
    const actions = input.Actions ?? [];
    if (
      actions.length < 1 ||
      actions.length > 3 ||
      !actions.every((a) => (RENEWAL_ACTIONS as readonly string[]).includes(a))
    ) {
      throw awsError(
        'ValidationException',
        'Actions must be 1 to 3 of IssueCertificate, GetCertificate and ListPermissions.',
      );
    }
    if (this.livePermission(ca, input.Principal)) {
      throw awsError(
        'PermissionAlreadyExistsException',
        `The designated permission has already been given to ${input.Principal}.`,
      );
    }
    ca.permissions.push({
      principal: input.Principal,
      actions: [...new Set(actions)],
      sourceAccount: input.SourceAccount ?? this.cloud.account,
      createdAt: this.now(),
    });
    return {};
  }

  ListPermissions(
    region: string,
    input: { CertificateAuthorityArn?: string; MaxResults?: number; NextToken?: string },
  ) {
    const ca = this.need(region, input.CertificateAuthorityArn);
    this.refuseDeleted(ca);
    const { items, next } = page(
      this.cloud,
      ca.permissions.filter((p) => p.deletedAt === undefined),
      { token: input.NextToken, limit: input.MaxResults },
      {
        command: `ListPermissions/${ca.arn}`,
        defaultSize: 100,
        maxSize: 1000,
        key: (p) => `${p.principal}/${p.createdAt}`,
      },
    );
    return {
      Permissions: items.map((p) => ({
        CertificateAuthorityArn: ca.arn,
        CreatedAt: new Date(p.createdAt),
        Principal: p.principal,
        SourceAccount: p.sourceAccount,
        Actions: [...p.actions],
        Policy: JSON.stringify({
          Principal: { Service: p.principal },
          Action: p.actions.map((a) => `acm-pca:${a}`),
        }),
      })),
      ...(next ? { NextToken: next } : {}),
    };
  }

  DeletePermission(
    region: string,
    input: { CertificateAuthorityArn?: string; Principal?: string; SourceAccount?: string },
  ) {
    const ca = this.need(region, input.CertificateAuthorityArn);
    const p = this.livePermission(ca, input.Principal ?? '');
    if (!p) {
      throw awsError(
        'ResourceNotFoundException',
        `No permission for ${input.Principal} on certificate authority ${ca.arn}.`,
      );
    }
    p.deletedAt = this.now();
    return {};
  }

  snapshot(): string[] {
    const out: string[] = [];
    for (const ca of [...this.cas.values()]) {
      const live = this.find(ca.region, ca.arn);
      if (!live || live.status === 'DELETED') continue;
      out.push(`acm-pca/${ca.region}/certificate-authority/${ca.arn.split('/').pop()}(${live.status})`);
      for (const p of live.permissions.filter((x) => x.deletedAt === undefined)) {
        out.push(`acm-pca/${ca.region}/permission/${ca.arn.split('/').pop()}/${p.principal}`);
      }
    }
    return out;
  }
}
