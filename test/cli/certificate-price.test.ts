import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { REGIONAL_PRICES, estimateCost, formatCost } from '../../src/plan/pricing.js';

// "Private certificates whose private key you cannot access are free. These include certificates
// that are used with Integrated Services such as Elastic Load Balancing, CloudFront, and API
// Gateway" (https://docs.aws.amazon.com/privateca/latest/userguide/PcaPricing.html).

describe('the price of drctl’s private certificates', () => {
  it('is nothing: the ACM certificate is never exported and only the NLB and API Gateway use it', () => {
    for (const region of ['sa-east-1', 'us-west-1', 'us-east-1']) {
      const p = REGIONAL_PRICES[region]!.privateCertificate;
      expect(p.usd, region).toBe(0);
      expect(p.source).toContain('https://docs.aws.amazon.com/privateca/latest/userguide/PcaPricing.html');
    }
    const c = estimateCost(defaultConfig());
    expect(c.oneOff).toEqual([]);
    const text = formatCost(c).join('\n');
    expect(text).not.toContain('once:');
    expect(text).toContain('private certificates: free while only the NLB and API Gateway use them');
  });

  it('says nothing of private certificates when every region has a certificate of its own', () => {
    const config = {
      ...defaultConfig(),
      certificateArn: {
        'sa-east-1': 'arn:aws:acm:sa-east-1:111122223333:certificate/x',
        'us-west-1': 'arn:aws:acm:us-west-1:111122223333:certificate/y',
      },
    };
    expect(estimateCost(config).notes.join(' ')).not.toContain('private certificates');
  });
});
