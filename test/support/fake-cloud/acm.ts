import { FakeAcmPca } from './acm-pca.js';
import { FakeService, mapToTags, tagsToMap } from './cloud.js';
import { awsError } from './errors.js';

type Tags = Record<string, string>;
type Status = 'PENDING_VALIDATION' | 'ISSUED' | 'FAILED';

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
  /** NotAfter of an issued certificate; default: 395 days (13 months) after issue, ACM's private validity. */
  notAfter?: number;
}

// ACM private certificates are valid for 13 months (395 days) unless exported with another validity:
// https://docs.aws.amazon.com/acm/latest/userguide/acm-certificate.html
export const PRIVATE_VALIDITY_MS = 395 * 86_400_000;

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
 * the CA was not ACTIVE at request time ([S21]). A new certificate is not visible for
 * `acm.describeLag` ("a delay of several seconds before you can retrieve information about the new
 * certificate", RequestCertificate API). DeleteCertificate is refused with ResourceInUseException
 * while a load balancer listener or an API Gateway domain uses it (dependency probes of kind
 * 'acm-certificate'); InUseBy lists those users.
 */
export class FakeAcm extends FakeService {
  readonly service = 'acm';
  private readonly certs = new Map<string, AcmCertificate>();
  private readonly tokens = new Map<string, { arn: string; at: number }>();

  /** The certificate if it exists in that region (visible or not yet). */
  find(region: string, arn: string): AcmCertificate | undefined {
    const c = this.certs.get(arn);
    return c && c.region === region ? c : undefined;
  }

  /** When the certificate stops being valid (test helper: set `notAfter` to bring it near). */
  notAfter(c: AcmCertificate): number {
    return c.notAfter ?? c.settleAt + PRIVATE_VALIDITY_MS;
  }

  status(c: AcmCertificate): Status {
    return this.now() < c.settleAt ? 'PENDING_VALIDATION' : c.outcome;
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
      }
    } else {
      throw awsError(
        'ValidationException',
        'The fake cloud models private certificates only (give CertificateAuthorityArn).',
      );
    }
    const arn = `arn:aws:acm:${region}:${this.cloud.account}:certificate/${uuid(() => this.cloud.random())}`;
    const names = [input.DomainName, ...(input.SubjectAlternativeNames ?? [])];
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
      settleAt: now + this.delay('acm.issue'),
      outcome,
      failureReason,
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
        ...(status === 'ISSUED'
          ? {
              IssuedAt: new Date(c.settleAt),
              NotBefore: new Date(c.settleAt),
              NotAfter: new Date(this.notAfter(c)),
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
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const size = input.MaxItems ?? 1000;
    const next = start + size < all.length ? String(start + size) : undefined;
    return {
      CertificateSummaryList: all.slice(start, start + size).map((c) => ({
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
