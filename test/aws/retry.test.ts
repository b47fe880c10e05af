import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  CreateVpcPeeringConnectionCommand,
  CreateVpcEndpointCommand,
  DescribeKeyPairsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';
import {
  isServerError,
  isThrottled,
  isTransient,
  markNotResent,
  notResentCommand,
} from '../../src/aws/errors.js';
import { CLASSIFIED_COMMANDS, isReadOnly, isResendable } from '../../src/aws/idempotency.js';
import { resolutionFor } from '../../src/engine/runner.js';
import { awsError } from '../support/fake-cloud/index.js';

// The real SDK, its real retry middleware, against a local server that answers every request with
// EC2's 500 InternalError: how often does each kind of call reach "AWS"? (The fake cloud replaces
// `send`, so this is the one place the SDK's own retry runs; the fake's emulation of it reads the
// same client setting, maxAttempts, that this checks.)

let server: Server;
let requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push(new URLSearchParams(body).get('Action') ?? '?');
      res.statusCode = 500;
      res.setHeader('content-type', 'text/xml');
      res.end(
        '<Response><Errors><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error></Errors><RequestID>r-1</RequestID></Response>',
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.env.AWS_ENDPOINT_URL_EC2 = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.AWS_MAX_ATTEMPTS = '3'; // keeps the SDK's real back-off short
});
afterAll(() => {
  delete process.env.AWS_ENDPOINT_URL_EC2;
  delete process.env.AWS_MAX_ATTEMPTS;
  return new Promise<void>((r) => server.close(() => r()));
});

const ec2 = () =>
  new AwsClients({
    retryDeadlineMs: 0, // drctl's own layer would resend a resendable call too; here only the SDK's
    credentials: () => Promise.resolve({ accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }),
  }).client(EC2Client, 'sa-east-1');

describe('what is sent again after a 500', () => {
  it('a create without an idempotency token goes out once: neither the SDK nor drctl resends it', async () => {
    requests = [];
    const e = await ec2()
      .send(new CreateVpcPeeringConnectionCommand({ VpcId: 'vpc-1', PeerVpcId: 'vpc-2' }))
      .catch((x: unknown) => x);
    expect(requests).toEqual(['CreateVpcPeeringConnection']);
    expect((e as Error).name).toBe('InternalError');
    expect(notResentCommand(e)).toBe('CreateVpcPeeringConnection');
    expect(isTransient(e)).toBe(false); // so ctx.retry and pollUntil do not resend it either
  });

  it('a read, and a create with its idempotency token, are resent by the SDK up to maxAttempts', async () => {
    requests = [];
    await ec2()
      .send(new DescribeKeyPairsCommand({}))
      .catch(() => undefined);
    await ec2()
      .send(new CreateVpcEndpointCommand({ VpcId: 'vpc-1', ServiceName: 'x', ClientToken: 'drctl-t' }))
      .catch(() => undefined);
    expect(requests).toEqual([
      ...Array<string>(3).fill('DescribeKeyPairs'),
      ...Array<string>(3).fill('CreateVpcEndpoint'),
    ]);
  });
});

describe('errors.ts: a 5xx is an AWS error that may have been applied, not throttling', () => {
  it('InternalError, InternalFailure, ServiceUnavailable and a dropped connection are server errors, never throttling', () => {
    for (const e of [
      awsError('InternalError', 'x', 500),
      awsError('InternalFailure', 'x', 500),
      awsError('ServiceUnavailable', 'x', 503),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    ]) {
      expect(isThrottled(e), e.name).toBe(false);
      expect(isServerError(e), e.name).toBe(true);
      expect(isTransient(e), e.name).toBe(true);
      markNotResent(e, 'ImportRestApi');
      expect(isTransient(e), e.name).toBe(false);
    }
    expect(isThrottled(awsError('Throttling', 'Rate exceeded', 400))).toBe(true);
    expect(isServerError(awsError('Throttling', 'Rate exceeded', 400))).toBe(false);
  });

  it('a step failing on a 5xx is told "AWS error, retried", not "throttled"', () => {
    for (const code of ['InternalError', 'InternalFailure', 'ServiceUnavailable']) {
      expect(resolutionFor(code)).toMatch(/server error, also when drctl retried/);
      expect(resolutionFor(code)).not.toMatch(/throttl/i);
    }
  });
});

describe('idempotency.ts', () => {
  it('classifies every mutating command drctl sends', () => {
    const sent = new Set<string>();
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts'))
          for (const m of readFileSync(p, 'utf8').matchAll(/new ([A-Z]\w+)Command\(/g)) sent.add(m[1]!);
      }
    };
    walk('src');
    const unclassified = [...sent].filter((c) => !isReadOnly(c) && !CLASSIFIED_COMMANDS.includes(c));
    expect(unclassified, 'add them to src/aws/idempotency.ts').toEqual([]);
  });

  it('resends by token or by input only when the call carries them', () => {
    expect(isResendable('CreateVpcEndpoint', { ClientToken: 't' })).toBe(true);
    expect(isResendable('CreateVpcEndpoint', {})).toBe(false);
    expect(isResendable('CreateStack', { ClientRequestToken: 't' })).toBe(true);
    expect(isResendable('CreateStack', {})).toBe(false);
    const batch = (...actions: string[]) => ({
      ChangeBatch: { Changes: actions.map((Action) => ({ Action })) },
    });
    expect(isResendable('ChangeResourceRecordSets', batch('UPSERT', 'UPSERT'))).toBe(true);
    expect(isResendable('ChangeResourceRecordSets', batch('UPSERT', 'DELETE'))).toBe(false);
    expect(isResendable('ImportRestApi', {})).toBe(false);
    expect(isResendable('SomethingNew', {})).toBe(false);
    expect(isResendable('DescribeSomething', {})).toBe(true);
  });
});
