import { describe, expect, it } from 'vitest';
import { AWS_ERRORS, awsAdvice, awsErrorClass } from '../../src/errors/aws.js';
import {
  AwsStepError,
  DrctlFault,
  DrillFailedError,
  InterruptedError,
  LockedError,
  UsageError,
  errorCode,
  isUserError,
} from '../../src/errors/errors.js';

describe('error codes', () => {
  it('each class has its default code; a throw site may name another', () => {
    expect(new UsageError('x').code).toBe('usage');
    expect(new UsageError('x', { field: 'primary.vpcCidr' }).code).toBe('usage.config');
    expect(new UsageError('x', { field: '--region' }).code).toBe('usage.flag');
    expect(new UsageError('x', { field: '--state' }).code).toBe('usage.state');
    expect(new LockedError('x').code).toBe('lock.held');
    expect(new AwsStepError('x').code).toBe('aws.failed');
    expect(new AwsStepError('x', { code: 'aws.timeout' }).code).toBe('aws.timeout');
    expect(new DrillFailedError('x').code).toBe('drill.missed-bound');
    expect(new InterruptedError().code).toBe('interrupted');
    expect(new DrctlFault('x').code).toBe('fault.internal');
  });

  it("a user's error and a drctl fault are told apart", () => {
    expect(isUserError(new UsageError('x'))).toBe(true);
    expect(isUserError(new AwsStepError('x'))).toBe(true);
    expect(isUserError(new DrctlFault('x'))).toBe(false);
    expect(isUserError(new Error('x'))).toBe(false);
    expect(errorCode(new TypeError('x'))).toBe('fault.internal');
  });
});

describe('the AWS error table', () => {
  it('maps AWS codes to drctl codes, first match wins', () => {
    const cases: Array<[string | undefined, string]> = [
      ['AccessDenied', 'aws.access-denied'],
      ['AccessDeniedException', 'aws.access-denied'],
      ['UnauthorizedOperation', 'aws.access-denied'],
      ['Forbidden', 'aws.access-denied'],
      ['ExpiredToken', 'credentials.expired'],
      ['CredentialsProviderError', 'credentials.expired'],
      ['InvalidClientTokenId', 'credentials.invalid'],
      ['ThrottlingException', 'aws.throttled'],
      ['RequestLimitExceeded', 'aws.throttled'],
      ['InternalError', 'aws.server-error'],
      ['ServiceUnavailableException', 'aws.server-error'],
      ['ECONNRESET', 'aws.unreachable'],
      ['VpcLimitExceeded', 'aws.quota'],
      ['InvalidParameterValue', 'aws.failed'],
      [undefined, 'aws.failed'],
    ];
    for (const [aws, drctl] of cases) expect(awsErrorClass(aws).code, String(aws)).toBe(drctl);
  });

  it('gives each context its own advice, the same wording as before the table', () => {
    expect(awsAdvice('AccessDenied', 'verify')).toMatch(/drctl iam-policy --read-only/);
    expect(awsAdvice('ThrottlingException', 'verify')).toMatch(/^Run verify again/);
    expect(awsAdvice('AccessDenied', 'state', 's3:GetObject')).toBe('The state on S3 needs s3:GetObject.');
    expect(awsAdvice('NoSuchKey', 'state')).toMatch(/check the bucket and your credentials/);
    expect(awsAdvice(undefined)).toMatch(/--verbose/);
    expect(new Set(AWS_ERRORS.map((r) => r.code)).size).toBe(AWS_ERRORS.length);
  });
});
