import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.js';
import { NLB_TLS_POLICIES } from '../../src/config/tls-policies.js';

// tlsPolicy takes the security policies AWS documents for NLB TLS listeners
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/describe-ssl-policies.html).

const tlsIssues = (tlsPolicy: string) => {
  const r = configSchema.safeParse({ tlsPolicy });
  return r.success
    ? []
    : r.error.issues.filter((i) => i.path.join('.') === 'tlsPolicy').map((i) => i.message);
};

describe('config tlsPolicy', () => {
  it.each(NLB_TLS_POLICIES)('accepts %s', (p) => {
    expect(tlsIssues(p)).toEqual([]);
  });

  it('lists the TLS 1.3, FIPS and post-quantum families, and defaults to the TLS 1.2/1.3 policy', () => {
    for (const p of [
      'ELBSecurityPolicy-TLS13-1-2-2021-06',
      'ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04',
      'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09',
      'ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09',
    ])
      expect(NLB_TLS_POLICIES).toContain(p);
    expect(new Set(NLB_TLS_POLICIES).size).toBe(NLB_TLS_POLICIES.length);
    const r = configSchema.safeParse({});
    expect(r.success && r.data.tlsPolicy).toBe('ELBSecurityPolicy-TLS13-1-2-2021-06');
  });

  it('refuses a near-miss, naming the field and the policy it probably meant', () => {
    const [message] = tlsIssues('ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-9');
    expect(message).toMatch(/is not a security policy for NLB TLS listeners/);
    expect(message).toMatch(/did you mean ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09\?/);
  });
});
