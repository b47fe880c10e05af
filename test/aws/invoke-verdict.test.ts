import { describe, expect, it } from 'vitest';
import { NEW_ENDPOINT, NEW_VPC, invokeVerdict } from '../../src/aws/invoke-verdict.js';

// The Deny-first judgement of a private API's policy for execute-api:Invoke from one endpoint.

const allow = { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' };
const deny = (Condition?: unknown, Sid?: string) => ({
  ...allow,
  Effect: 'Deny',
  ...(Sid ? { Sid } : {}),
  ...(Condition ? { Condition } : {}),
});
const policy = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });
const E = 'vpce-0aaaaaaaaaaaaaaa0';

describe('invokeVerdict', () => {
  it('AWS’s example: Deny StringNotEquals aws:sourceVpce (any case) refuses a new endpoint, admits a listed one', () => {
    const p = policy(allow, deny({ StringNotEquals: { 'aws:sourceVpce': [E] } }, 'OnlyOurs'));
    expect(invokeVerdict(p, { vpce: NEW_ENDPOINT, vpc: NEW_VPC })).toMatchObject({
      decision: 'explicit-deny',
      statement: 'Sid OnlyOurs',
    });
    expect(invokeVerdict(p, { vpce: E, vpc: NEW_VPC }).decision).toBe('allow');
  });

  it('a Deny without a Condition denies all; its index names it without a Sid', () => {
    expect(invokeVerdict(policy(allow, deny()), { vpce: E })).toMatchObject({ statement: 'statement #2' });
  });

  it('SourceVpc lists, IfExists and ForAnyValue', () => {
    const p = policy(allow, deny({ 'ForAnyValue:StringNotEqualsIfExists': { 'aws:SourceVpc': 'vpc-1' } }));
    expect(invokeVerdict(p, { vpce: E, vpc: 'vpc-1' }).decision).toBe('allow');
    expect(invokeVerdict(p, { vpce: E, vpc: NEW_VPC }).decision).toBe('explicit-deny');
    expect(
      invokeVerdict(policy(allow, deny({ StringEquals: { 'aws:SourceVpce': E } })), { vpce: E }).decision,
    ).toBe('explicit-deny');
  });

  it('an unknown condition on a Deny: cannot tell, not a refusal', () => {
    const p = policy(allow, deny({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }));
    expect(invokeVerdict(p, { vpce: E })).toMatchObject({ decision: 'cannot-tell', effect: 'Deny' });
  });

  it('no Allow matching: implicit deny', () => {
    const p = policy({ ...allow, Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-other' } } });
    expect(invokeVerdict(p, { vpce: E }).decision).toBe('implicit-deny');
  });
});
