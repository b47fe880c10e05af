/**
 * The security policies AWS documents for Network Load Balancer TLS listeners
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/describe-ssl-policies.html).
 * NLBs take no custom policy, so any other name fails CreateListener in the nlb step, after the
 * CA, VPC and API are made: drctl refuses it at config load instead. When AWS adds a policy, add
 * it here.
 */
export const NLB_TLS_POLICIES: readonly string[] = [
  // TLS 1.3 policies (2021-06).
  'ELBSecurityPolicy-TLS13-1-0-2021-06',
  'ELBSecurityPolicy-TLS13-1-1-2021-06',
  'ELBSecurityPolicy-TLS13-1-2-2021-06',
  'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
  'ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06',
  'ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06',
  'ELBSecurityPolicy-TLS13-1-3-2021-06',
  // FIPS policies (2023-04).
  'ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04',
  'ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04',
  'ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04',
  'ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04',
  'ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04',
  'ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04',
  'ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04',
  'ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04',
  // Hybrid post-quantum key exchange (2025-09).
  'ELBSecurityPolicy-TLS13-1-0-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-3-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-0-FIPS-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09',
  // Forward secrecy and TLS-version policies.
  'ELBSecurityPolicy-FS-1-2-Res-2020-10',
  'ELBSecurityPolicy-FS-1-2-Res-2019-08',
  'ELBSecurityPolicy-FS-1-2-2019-08',
  'ELBSecurityPolicy-FS-1-1-2019-08',
  'ELBSecurityPolicy-FS-2018-06',
  'ELBSecurityPolicy-TLS-1-2-Ext-2018-06',
  'ELBSecurityPolicy-TLS-1-2-2017-01',
  'ELBSecurityPolicy-TLS-1-1-2017-01',
  'ELBSecurityPolicy-TLS-1-0-2015-04',
  // The API's default, and its identical older name.
  'ELBSecurityPolicy-2016-08',
  'ELBSecurityPolicy-2015-05',
];

/** Policies that still allow TLS 1.0 or 1.1 (drctl warns about them). */
export const allowsOldTls = (policy: string) =>
  /^ELBSecurityPolicy-(2015-05|2016-08|TLS-1-[01]-|FS-2018-06|FS-1-1-|TLS13-1-[01]-)/.test(policy);
