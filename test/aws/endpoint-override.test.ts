import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';

// LocalStack and moto are reached through the SDK's own AWS_ENDPOINT_URL(_<SERVICE>) variables,
// never through an endpoint in our code. This test points them at a local HTTP server and checks
// that every client drctl uses sends its request there.

let server: Server;
let seen: Array<{ port: string; target: string }> = [];
let base = '';

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    seen.push({
      port: String((req.socket.address() as AddressInfo).port),
      target: `${req.method} ${req.url} ${String(req.headers['x-amz-target'] ?? '')}`,
    });
    req.resume();
    res.statusCode = 400;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const clients = [
  ['@aws-sdk/client-ec2', 'EC2Client', 'DescribeKeyPairsCommand', 'EC2'],
  ['@aws-sdk/client-cloudformation', 'CloudFormationClient', 'DescribeStacksCommand', 'CLOUDFORMATION'],
  ['@aws-sdk/client-acm-pca', 'ACMPCAClient', 'ListCertificateAuthoritiesCommand', 'ACM_PCA'],
  ['@aws-sdk/client-acm', 'ACMClient', 'ListCertificatesCommand', 'ACM'],
  ['@aws-sdk/client-api-gateway', 'APIGatewayClient', 'GetRestApisCommand', 'API_GATEWAY'],
  [
    '@aws-sdk/client-elastic-load-balancing-v2',
    'ElasticLoadBalancingV2Client',
    'DescribeLoadBalancersCommand',
    'ELASTIC_LOAD_BALANCING_V2',
  ],
  ['@aws-sdk/client-route-53', 'Route53Client', 'ListHostedZonesCommand', 'ROUTE_53'],
  ['@aws-sdk/client-synthetics', 'SyntheticsClient', 'DescribeCanariesCommand', 'SYNTHETICS'],
  ['@aws-sdk/client-cloudwatch', 'CloudWatchClient', 'DescribeAlarmsCommand', 'CLOUDWATCH'],
  ['@aws-sdk/client-iam', 'IAMClient', 'ListRolesCommand', 'IAM'],
  ['@aws-sdk/client-s3', 'S3Client', 'ListBucketsCommand', 'S3'],
  ['@aws-sdk/client-lambda', 'LambdaClient', 'ListFunctionsCommand', 'LAMBDA'],
] as const;

describe('AWS_ENDPOINT_URL reaches every client through the factory', () => {
  for (const [pkg, clientName, commandName, envName] of clients) {
    it(`${clientName} honours AWS_ENDPOINT_URL_${envName} and AWS_ENDPOINT_URL`, async () => {
      const mod = (await import(pkg)) as Record<string, any>;
      for (const variable of [`AWS_ENDPOINT_URL_${envName}`, 'AWS_ENDPOINT_URL']) {
        seen = [];
        process.env[variable] = base;
        process.env.AWS_MAX_ATTEMPTS = '1';
        try {
          const aws = new AwsClients({
            retryDeadlineMs: 0,
            credentials: () => Promise.resolve({ accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }),
          });
          const client = aws.client<{ send: (c: unknown) => Promise<unknown> }>(mod[clientName], 'sa-east-1');
          await client.send(new mod[commandName]({})).catch(() => undefined);
        } finally {
          delete process.env[variable];
          delete process.env.AWS_MAX_ATTEMPTS;
        }
        expect(seen.length, `${clientName} via ${variable}`).toBeGreaterThan(0);
      }
    });
  }
});
