import { FakeAcmPca } from './acm-pca.js';
import { FakeService, mapToTags, tagsToMap } from './cloud.js';
import { awsError } from './errors.js';
import { page } from './paging.js';

type Tags = Record<string, string>;
type Status = 'PENDING_VALIDATION' | 'ISSUED' | 'FAILED' | 'EXPIRED';

const DAY_MS = 86_400_000;
// "Each private certificate is valid for 13 months (395 days)"
// (https://docs.aws.amazon.com/acm/latest/userguide/private-certificates.title.html).
export const PRIVATE_VALIDITY_MS = 395 * DAY_MS;
// "When a managed certificate is 60 days away from expiration, ACM automatically attempts to renew it"
// (https://docs.aws.amazon.com/acm/latest/userguide/renew-private-cert.html).
export const RENEW_BEFORE_MS = 60 * DAY_MS;
// "PCA_INVALID_DURATION: The validity period of the requested certificate exceeds the validity
// period of the issuing private CA" (https://docs.aws.amazon.com/acm/latest/userguide/exceptions.html):
// a 395-day certificate needs a CA that is valid 395 days more, at the request and at each renewal.
const outlives = (ca: { notAfter?: number }, at: number) =>
  ca.notAfter !== undefined && at + PRIVATE_VALIDITY_MS > ca.notAfter;
// How often ACM tries again after a failed renewal is not documented: once a day here.
export const RENEW_RETRY_MS = DAY_MS;

// "Idempotency tokens time out after one hour" (ACM RequestCertificate API).
const TOKEN_WINDOW_MS = 60 * 60_000;
// ListCertificates returns only RSA_1024 and RSA_2048 certificates unless Includes.keyTypes says otherwise.
const DEFAULT_KEY_TYPES = ['RSA_1024', 'RSA_2048'];

export interface AcmCertificate {
  arn: string;
  region: string;
  domainName: string;
  sans: string[];
  type: 'PRIVATE' | 'AMAZON_ISSUED' | 'IMPORTED';
  certificateAuthorityArn?: string;
  keyAlgorithm: string;
  tags: Tags;
  createdAt: number;
  /** DescribeCertificate/ListCertificates see it from this time (several seconds after the request). */
  visibleAt: number;
  /** PENDING_VALIDATION until then, then `outcome`. */
  settleAt: number;
  outcome: 'ISSUED' | 'FAILED';
  failureReason?: string;
  /** Validity of the certificate ACM serves now (a renewal moves both). */
  notBefore: number;
  notAfter: number;
  /** The last managed-renewal attempt's result, once one fell due. */
  renewal?: { status: 'SUCCESS' | 'FAILED'; reason?: string; updatedAt: number };
  /**
   * Test switch: every renewal attempt fails with this reason (e.g. PCA_REQUEST_FAILED), so a test
   * that moves `notAfter` near can keep a certificate near expiry although its CA grants renewal.
   */
  renewalFailure?: string;
}

function uuid(rand: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-b${hex(3)}-${hex(12)}`;
}

/** Does `pattern` (a certificate name, maybe `*.example.com`) cover `name`? */
export function coversName(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  if (!pattern.startsWith('*.')) return false;
  const rest = name.split('.').slice(1).join('.');
  return rest === pattern.slice(2) && name.split('.').length === pattern.split('.').length;
}

/**
 * AWS Certificate Manager, per region. Private certificates (CertificateAuthorityArn) skip domain
 * validation: PENDING_VALIDATION, then ISSUED after `acm.issue`, or FAILED (PCA_INVALID_STATE) when
 * the CA was not ACTIVE at request time (docs/design/timings.md §4). A new certificate is not visible for
 * `acm.describeLag` ("a delay of several seconds before you can retrieve information about the new
 * certificate", RequestCertificate API). DeleteCertificate is refused with ResourceInUseException
 * while a load balancer listener or an API Gateway domain uses it (dependency probes of kind
 * 'acm-certificate'); InUseBy lists those users. Issued certificates have NotBefore/NotAfter
 * (395 days for private ones); virtual time can pass NotAfter (status EXPIRED) unless ACM's managed
 * renewal (`renew`) succeeded first.
 */
export class FakeAcm extends FakeService {
  readonly service = 'acm';

  override tagsOfArn(arn: string): Record<string, string> | undefined {
    return arn.includes(':acm:') ? this.certs.get(arn)?.tags : undefined;
  }
  private readonly certs = new Map<string, AcmCertificate>();
  private readonly tokens = new Map<string, { arn: string; at: number }>();

  /** Test helper: every certificate of the region (visible or not yet). */
  certificates(region: string): AcmCertificate[] {
    return [...this.certs.values()].filter((c) => c.region === region);
  }

  /** The certificate if it exists in that region (visible or not yet). */
  find(region: string, arn: string): AcmCertificate | undefined {
    const c = this.certs.get(arn);
    return c && c.region === region ? c : undefined;
  }

  /**
   * When the certificate stops being valid. Tests may set `notAfter` to bring it near; ACM then
   * renews it at once if its CA grants renewal, unless `renewalFailure` is set.
   */
  notAfter(c: AcmCertificate): number {
    this.status(c);
    return c.notAfter;
  }

  status(c: AcmCertificate): Status {
    if (this.now() < c.settleAt) return 'PENDING_VALIDATION';
    if (c.outcome === 'FAILED') return 'FAILED';
    this.renew(c);
    return this.now() >= c.notAfter ? 'EXPIRED' : 'ISSUED';
  }

  /**
   * ACM's managed renewal of a private certificate, settled up to now: from 60 days before
   * NotAfter it tries (here once a day) and succeeds only while the issuing CA is ACTIVE and grants
   * acm.amazonaws.com IssueCertificate, GetCertificate and ListPermissions
   * (https://docs.aws.amazon.com/privateca/latest/userguide/assign-permissions.html); a
   * renewed certificate keeps its ARN and gets a new validity. Otherwise it expires.
   */
  private renew(c: AcmCertificate): void {
    if (c.type !== 'PRIVATE' || !c.certificateAuthorityArn) return;
    const pca = this.cloud.model(FakeAcmPca);
    for (;;) {
      const due = c.notAfter - RENEW_BEFORE_MS;
      const until = Math.min(this.now(), c.notAfter - 1);
      if (until < due) return;
      let renewedAt: number | undefined;
      let reason = 'PCA_ACCESS_DENIED';
      let lastTry = due;
      for (let t = due; t <= until; t += RENEW_RETRY_MS) {
        lastTry = t;
        const ca = pca.find(c.region, c.certificateAuthorityArn);
        if (c.renewalFailure) reason = c.renewalFailure;
        else if (!ca) reason = 'PCA_RESOURCE_NOT_FOUND';
        else if (ca.status !== 'ACTIVE') reason = 'PCA_INVALID_STATE';
        else if (outlives(ca, t)) reason = 'PCA_INVALID_DURATION';
        else if (!pca.grantsRenewal(ca, t)) reason = 'PCA_ACCESS_DENIED';
        else {
          renewedAt = t;
          break;
        }
      }
      if (renewedAt === undefined) {
        c.renewal = { status: 'FAILED', reason, updatedAt: lastTry };
        return;
      }
      c.notBefore = renewedAt;
      c.notAfter = renewedAt + PRIVATE_VALIDITY_MS;
      c.renewal = { status: 'SUCCESS', updatedAt: renewedAt };
    }
  }

  /** Test helper: an ISSUED certificate made outside drctl (an import or a public one). */
  seed(
    region: string,
    o: { domainName: string; sans?: string[]; type?: 'IMPORTED' | 'AMAZON_ISSUED'; tags?: Tags },
  ): string {
    const arn = `arn:aws:acm:${region}:${this.cloud.account}:certificate/${uuid(() => this.cloud.random())}`;
    const now = this.now();
    this.certs.set(arn, {
      arn,
      region,
      domainName: o.domainName,
      sans: [o.domainName, ...(o.sans ?? [])],
      type: o.type ?? 'IMPORTED',
      keyAlgorithm: 'RSA_2048',
      tags: o.tags ?? {},
      createdAt: now,
      visibleAt: now,
      settleAt: now,
      outcome: 'ISSUED',
      notBefore: now,
      notAfter: now + PRIVATE_VALIDITY_MS,
    });
    return arn;
  }

  private need(region: string, arn: string | undefined): AcmCertificate {
    const c = arn ? this.find(region, arn) : undefined;
    if (!c || this.now() < c.visibleAt) {
      throw awsError('ResourceNotFoundException', `Could not find certificate ${arn}.`);
    }
    return c;
  }

  private inUseBy(c: AcmCertificate): string[] {
    return this.cloud.dependents('acm-certificate', c.arn, c.region);
  }

  // ---- commands ------------------------------------------------------------------------------
  RequestCertificate(
    region: string,
    input: {
      DomainName?: string;
      SubjectAlternativeNames?: string[];
      IdempotencyToken?: string;
      CertificateAuthorityArn?: string;
      Tags?: Array<{ Key: string; Value: string }>;
      KeyAlgorithm?: string;
      ValidationMethod?: string;
    },
  ) {
    if (!input.DomainName) throw awsError('ValidationException', 'DomainName is required.');
    if (input.IdempotencyToken !== undefined && !/^\w{1,32}$/.test(input.IdempotencyToken)) {
      throw awsError(
        'ValidationException',
        "Value at 'idempotencyToken' failed to satisfy constraint: \\w+, length 1-32",
      );
    }
    const now = this.now();
    const tokenKey = input.IdempotencyToken ? `${region}/${input.IdempotencyToken}` : undefined;
    const seen = tokenKey ? this.tokens.get(tokenKey) : undefined;
    if (seen && now - seen.at < TOKEN_WINDOW_MS) return { CertificateArn: seen.arn };
    let outcome: AcmCertificate['outcome'] = 'ISSUED';
    let failureReason: string | undefined;
    if (input.CertificateAuthorityArn) {
      const ca = this.cloud.model(FakeAcmPca).find(region, input.CertificateAuthorityArn);
      if (!ca) {
        outcome = 'FAILED';
        failureReason = 'PCA_RESOURCE_NOT_FOUND';
      } else if (ca.status !== 'ACTIVE') {
        outcome = 'FAILED';
        failureReason = 'PCA_INVALID_STATE';
      } else if (outlives(ca, now)) {
        outcome = 'FAILED';
        failureReason = 'PCA_INVALID_DURATION';
      }
    } else {
      throw awsError(
        'ValidationException',
        'The fake cloud models private certificates only (give CertificateAuthorityArn).',
      );
    }
    const arn = `arn:aws:acm:${region}:${this.cloud.account}:certificate/${uuid(() => this.cloud.random())}`;
    const names = [input.DomainName, ...(input.SubjectAlternativeNames ?? [])];
    const issuedAt = now + this.delay('acm.issue');
    this.certs.set(arn, {
      arn,
      region,
      domainName: input.DomainName,
      sans: [...new Set(names)],
      type: 'PRIVATE',
      certificateAuthorityArn: input.CertificateAuthorityArn,
      keyAlgorithm: input.KeyAlgorithm ?? 'RSA_2048',
      tags: tagsToMap(input.Tags),
      createdAt: now,
      visibleAt: now + this.delay('acm.describeLag'),
      settleAt: issuedAt,
      outcome,
      failureReason,
      notBefore: issuedAt,
      notAfter: issuedAt + PRIVATE_VALIDITY_MS,
    });
    if (tokenKey) this.tokens.set(tokenKey, { arn, at: now });
    return { CertificateArn: arn };
  }

  DescribeCertificate(region: string, input: { CertificateArn?: string }) {
    const c = this.need(region, input.CertificateArn);
    const status = this.status(c);
    return {
      Certificate: {
        CertificateArn: c.arn,
        DomainName: c.domainName,
        SubjectAlternativeNames: [...c.sans],
        Status: status,
        Type: c.type,
        KeyAlgorithm: c.keyAlgorithm,
        CreatedAt: new Date(c.createdAt),
        InUseBy: this.inUseBy(c),
        ...(c.certificateAuthorityArn ? { CertificateAuthorityArn: c.certificateAuthorityArn } : {}),
        ...(status === 'ISSUED' || status === 'EXPIRED'
          ? {
              IssuedAt: new Date(c.notBefore),
              NotBefore: new Date(c.notBefore),
              NotAfter: new Date(c.notAfter),
              RenewalEligibility: c.type === 'PRIVATE' ? 'ELIGIBLE' : 'INELIGIBLE',
            }
          : {}),
        ...(c.renewal
          ? {
              RenewalSummary: {
                RenewalStatus: c.renewal.status,
                ...(c.renewal.reason ? { RenewalStatusReason: c.renewal.reason } : {}),
                UpdatedAt: new Date(c.renewal.updatedAt),
              },
            }
          : {}),
        ...(status === 'FAILED' ? { FailureReason: c.failureReason } : {}),
      },
    };
  }

  ListCertificates(
    region: string,
    input: {
      CertificateStatuses?: string[];
      Includes?: { keyTypes?: string[] };
      NextToken?: string;
      MaxItems?: number;
    },
  ) {
    const keyTypes = input.Includes?.keyTypes ?? DEFAULT_KEY_TYPES;
    const all = [...this.certs.values()].filter(
      (c) =>
        c.region === region &&
        this.now() >= c.visibleAt &&
        keyTypes.includes(c.keyAlgorithm) &&
        (!input.CertificateStatuses || input.CertificateStatuses.includes(this.status(c))),
    );
    const { items, next } = page(
      this.cloud,
      all,
      { token: input.NextToken, limit: input.MaxItems },
      {
        command: 'ListCertificates',
        defaultSize: 1000,
        maxSize: 1000,
        key: (c) => c.arn,
        badToken: { name: 'InvalidArgsException' },
      },
    );
    return {
      CertificateSummaryList: items.map((c) => ({
        CertificateArn: c.arn,
        DomainName: c.domainName,
        SubjectAlternativeNameSummaries: [...c.sans],
        Status: this.status(c),
        Type: c.type,
        KeyAlgorithm: c.keyAlgorithm,
        InUse: this.inUseBy(c).length > 0,
        CreatedAt: new Date(c.createdAt),
      })),
      ...(next ? { NextToken: next } : {}),
    };
  }

  ListTagsForCertificate(region: string, input: { CertificateArn?: string }) {
    return { Tags: mapToTags(this.need(region, input.CertificateArn).tags) };
  }

  AddTagsToCertificate(
    region: string,
    input: { CertificateArn?: string; Tags?: Array<{ Key: string; Value: string }> },
  ) {
    Object.assign(this.need(region, input.CertificateArn).tags, tagsToMap(input.Tags));
    return {};
  }

  DeleteCertificate(region: string, input: { CertificateArn?: string }) {
    const c = this.need(region, input.CertificateArn);
    const users = this.inUseBy(c);
    if (users.length > 0) {
      throw awsError(
        'ResourceInUseException',
        `Certificate ${c.arn} in account ${this.cloud.account} is in use.`,
      );
    }
    this.certs.delete(c.arn);
    return {};
  }

  snapshot(): string[] {
    return [...this.certs.values()].map(
      (c) => `acm/${c.region}/certificate/${c.arn.split('/').pop()}(${c.domainName},${this.status(c)})`,
    );
  }
}
