import { describe, expect, it } from 'vitest';
import { privateApiPolicy } from '../../src/assets/petstore-openapi.js';
import { samePolicy } from '../../src/aws/resource-policy.js';

describe('reading a resource policy back (src/aws/resource-policy.ts)', () => {
  const ours = privateApiPolicy('vpce-0abc');

  it('sees a policy for another endpoint as different: Conditions count', () => {
    expect(samePolicy(JSON.stringify(privateApiPolicy('vpce-0def')), ours)).toBe(false);
    const negated = JSON.parse(JSON.stringify(ours)) as { Statement: Array<{ Condition?: unknown }> };
    negated.Statement[1]!.Condition = { StringEquals: { 'aws:SourceVpce': 'vpce-0abc' } };
    expect(samePolicy(JSON.stringify(negated), ours)).toBe(false);
  });

  it("takes API Gateway's rewriting as the same policy: expanded shorthand, escaped quotes, key order", () => {
    const expanded = JSON.stringify({
      Statement: [...(ours.Statement as unknown[])].reverse().map((s) => ({
        ...(s as object),
        Resource: 'arn:aws:execute-api:sa-east-1:111122223333:a1b2c3d4e5/*',
      })),
      Version: '2012-10-17',
    });
    expect(samePolicy(expanded, ours)).toBe(true);
    expect(samePolicy(JSON.stringify(expanded).slice(1, -1), ours)).toBe(true);
    const domain = expanded.replaceAll('a1b2c3d4e5', '/domainnames/api.octank.com+abcd1234');
    expect(samePolicy(domain, ours)).toBe(true);
  });
});
