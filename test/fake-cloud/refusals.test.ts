// Over 500 lines: one table, a row per refusal of the fake, with the set-ups the rows share above it.
import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  DeleteCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
} from '@aws-sdk/client-acm-pca';
import {
  ACMClient,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  RequestCertificateCommand,
} from '@aws-sdk/client-acm';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  ImportRestApiCommand,
  UpdateRestApiCommand,
} from '@aws-sdk/client-api-gateway';
import {
  AcceptVpcPeeringConnectionCommand,
  CreateKeyPairCommand,
  CreateRouteCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeRouteTablesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  DeleteHostedZoneCommand,
  DisassociateVPCFromHostedZoneCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { CreateBucketCommand, DeleteBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeCloud, FakeEc2, type FakeCloud } from '../support/fake-cloud/index.js';

// The fake's main refusals, one row each, called through the SDK clients as drctl calls them. A row
// is the AWS behaviour (test/support/fake-cloud/README.md, docs/design/aws-behaviour.md) that a step
// must meet on AWS: if the fake stopped refusing, a test of that step would pass for the wrong reason.
// Refusals with tests of their own elsewhere in test/fake-cloud/: IAM (authz), paging tokens
// (paging), latency records (route53-latency), DeleteVpc with a subnet left (vpc-defaults),
// UpdateCanary's conflicts (synthetics-update), unsafe resends (resend-after-applied). Not here: Synthetics'
// and Lambda's (a canary or function needs a role, a bucket and a zip; the steps' tests meet them).

const R1 = 'sa-east-1';
const R2 = 'us-west-1';
const MINUTE = 60_000;
// One attempt: a throttling answer must reach the test, not be resent by the SDK's emulated retry.
const ec2 = (region = R1) => new EC2Client({ region, maxAttempts: 1 });
const r53 = () => new Route53Client({ region: 'us-east-1', maxAttempts: 1 });
const pca = () => new ACMPCAClient({ region: R1, maxAttempts: 1 });
const apigw = () => new APIGatewayClient({ region: R1, maxAttempts: 1 });
const acm = () => new ACMClient({ region: R1, maxAttempts: 1 });
const elb = () => new ElasticLoadBalancingV2Client({ region: R1, maxAttempts: 1 });
const cw = () => new CloudWatchClient({ region: R1, maxAttempts: 1 });
const metric = (d: Partial<MetricDatum>, Namespace = 'drctl') =>
  cw().send(
    new PutMetricDataCommand({ Namespace, MetricData: [{ MetricName: 'TrafficHold', Value: 1, ...d }] }),
  );

let cloud: FakeCloud;
afterEach(() => cloud?.uninstall());

/** A fresh cloud; `body` runs as another user of the account allowed everything (a test of the fake). */
async function inCloud<T>(body: (c: FakeCloud) => Promise<T>): Promise<T> {
  cloud = createFakeCloud();
  cloud.pageSize = undefined;
  return cloud.authorizer.asAdmin(() => body(cloud));
}

async function vpc(region: string, cidr: string): Promise<{ vpcId: string; mainTable: string }> {
  const { Vpc } = await ec2(region).send(new CreateVpcCommand({ CidrBlock: cidr }));
  const { RouteTables } = await ec2(region).send(
    new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [Vpc!.VpcId!] }] }),
  );
  return { vpcId: Vpc!.VpcId!, mainTable: RouteTables![0]!.RouteTableId! };
}

/** Two VPCs in two regions and a peering request between them (as the peering step makes it). */
async function peering() {
  const a = await vpc(R1, '10.0.0.0/16');
  const b = await vpc(R2, '172.16.0.0/16');
  const { VpcPeeringConnection } = await ec2(R1).send(
    new CreateVpcPeeringConnectionCommand({ VpcId: a.vpcId, PeerVpcId: b.vpcId, PeerRegion: R2 }),
  );
  return { a, b, pcx: VpcPeeringConnection!.VpcPeeringConnectionId! };
}

async function privateZone() {
  const a = await vpc(R1, '10.0.0.0/16');
  const { HostedZone } = await r53().send(
    new CreateHostedZoneCommand({
      Name: 'example.org',
      CallerReference: 'zone-1',
      HostedZoneConfig: { PrivateZone: true },
      VPC: { VPCRegion: R1, VPCId: a.vpcId },
    }),
  );
  return { zoneId: HostedZone!.Id!, vpcId: a.vpcId };
}

const record = (r: Partial<ResourceRecordSet>): ResourceRecordSet => ({
  Name: 'api.example.org',
  Type: 'A',
  ...r,
});
const change = (zoneId: string, r: ResourceRecordSet) =>
  r53().send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: r }] },
    }),
  );

const petstore = (policy?: object) =>
  new TextEncoder().encode(
    JSON.stringify({
      swagger: '2.0',
      info: { title: 'refusals' },
      'x-amazon-apigateway-endpoint-configuration': { types: ['PRIVATE'] },
      ...(policy ? { 'x-amazon-apigateway-policy': policy } : {}),
      paths: { '/': { get: { 'x-amazon-apigateway-integration': { type: 'mock' } } } },
    }),
  );
const importPrivate = async () =>
  (
    await apigw().send(
      new ImportRestApiCommand({ body: petstore(), parameters: { endpointConfigurationTypes: 'PRIVATE' } }),
    )
  ).id!;

/** A root CA, created and left where `until` says. */
async function rootCa(until: 'CREATING' | 'PENDING_CERTIFICATE' | 'ACTIVE'): Promise<string> {
  const { CertificateAuthorityArn: arn } = await pca().send(
    new CreateCertificateAuthorityCommand({
      CertificateAuthorityType: 'ROOT',
      CertificateAuthorityConfiguration: {
        KeyAlgorithm: 'RSA_2048',
        SigningAlgorithm: 'SHA256WITHRSA',
        Subject: { CommonName: 'refusals.example' },
      },
      IdempotencyToken: 'refusals',
    }),
  );
  if (until === 'CREATING') return arn!;
  cloud.clock.advance(MINUTE);
  if (until === 'PENDING_CERTIFICATE') return arn!;
  const { Csr } = await pca().send(new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: arn }));
  const { CertificateArn } = await pca().send(
    new IssueCertificateCommand({
      CertificateAuthorityArn: arn,
      Csr: new TextEncoder().encode(Csr),
      SigningAlgorithm: 'SHA256WITHRSA',
      TemplateArn: 'arn:aws:acm-pca:::template/RootCACertificate/V1',
      Validity: { Type: 'YEARS', Value: 10 },
    }),
  );
  cloud.clock.advance(MINUTE);
  const { Certificate } = await pca().send(
    new GetCertificateCommand({ CertificateAuthorityArn: arn, CertificateArn }),
  );
  await pca().send(
    new ImportCertificateAuthorityCertificateCommand({
      CertificateAuthorityArn: arn,
      Certificate: new TextEncoder().encode(Certificate),
    }),
  );
  cloud.clock.advance(MINUTE);
  return arn!;
}

/**
 * A VPC with two subnets (made as the VPC stack would make them: EC2 has no CreateSubnet in the fake)
 * and an internal NLB in them with a target group and a listener on 443 forwarding to it.
 */
async function loadBalancer(certificateArn?: string) {
  const { vpcId } = await vpc(R1, '10.0.0.0/16');
  const subnets = ['a', 'b'].map((az, i) => {
    const id = cloud.newId('subnet-');
    cloud
      .model(FakeEc2)
      .region(R1)
      .subnets.set(id, {
        SubnetId: id,
        VpcId: vpcId,
        CidrBlock: `10.0.${i}.0/24`,
        AvailabilityZone: `${R1}${az}`,
        tags: {},
      });
    return id;
  });
  const { LoadBalancers } = await elb().send(
    new CreateLoadBalancerCommand({
      Name: 'refusals',
      Type: 'network',
      Scheme: 'internal',
      Subnets: subnets,
    }),
  );
  const protocol = certificateArn ? 'TLS' : 'TCP';
  const { TargetGroups } = await elb().send(
    new CreateTargetGroupCommand({
      Name: 'refusals',
      Protocol: protocol,
      Port: 443,
      TargetType: 'ip',
      VpcId: vpcId,
    }),
  );
  const targetGroupArn = TargetGroups![0]!.TargetGroupArn!;
  await elb().send(
    new CreateListenerCommand({
      LoadBalancerArn: LoadBalancers![0]!.LoadBalancerArn!,
      Protocol: protocol,
      Port: 443,
      ...(certificateArn ? { Certificates: [{ CertificateArn: certificateArn }] } : {}),
      DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
    }),
  );
  return { targetGroupArn };
}

/** A private certificate, ISSUED by an ACTIVE root CA. */
async function privateCertificate(): Promise<string> {
  const ca = await rootCa('ACTIVE');
  const { CertificateArn } = await acm().send(
    new RequestCertificateCommand({ DomainName: '*.example.org', CertificateAuthorityArn: ca }),
  );
  cloud.clock.advance(5 * MINUTE);
  return CertificateArn!;
}

interface Row {
  /** The service, then what AWS refuses. */
  refusal: string;
  /** Sets up and makes the call AWS refuses; resolves to what it threw. */
  call: () => Promise<unknown>;
  name: string;
  status?: number;
  message?: RegExp;
}

const ROWS: Row[] = [
  // ---- EC2 ----
  {
    refusal: 'EC2: a second key pair of the same name',
    call: async () => {
      await ec2().send(new CreateKeyPairCommand({ KeyName: 'drctl' }));
      return ec2().send(new CreateKeyPairCommand({ KeyName: 'drctl' }));
    },
    name: 'InvalidKeyPair.Duplicate',
  },
  {
    refusal: 'EC2 peering: accepting in the requester region',
    call: async () => {
      const { pcx } = await peering();
      cloud.clock.advance(5 * MINUTE);
      return ec2(R1).send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    },
    name: 'OperationNotPermitted',
    message: /must be accepted in region us-west-1/,
  },
  {
    refusal: 'EC2 peering: accepting before the request reached the accepter region',
    call: async () => {
      const { pcx } = await peering();
      return ec2(R2).send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    },
    name: 'InvalidVpcPeeringConnectionID.NotFound',
  },
  {
    refusal: 'EC2 peering: accepting twice',
    call: async () => {
      const { pcx } = await peering();
      cloud.clock.advance(5 * MINUTE);
      await ec2(R2).send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
      return ec2(R2).send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    },
    name: 'InvalidStateTransition',
  },
  {
    refusal: 'EC2 routes: a second route to the same destination',
    call: async () => {
      const { a, pcx } = await peering();
      const route = {
        RouteTableId: a.mainTable,
        DestinationCidrBlock: '172.16.0.0/16',
        VpcPeeringConnectionId: pcx,
      };
      await ec2(R1).send(new CreateRouteCommand(route));
      return ec2(R1).send(new CreateRouteCommand(route));
    },
    name: 'RouteAlreadyExists',
  },
  {
    refusal: 'EC2 routes: a route to a peering connection deleted long ago',
    call: async () => {
      const { a, pcx } = await peering();
      await ec2(R1).send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
      cloud.clock.advance(3 * 60 * MINUTE); // a deleted connection stays describable for a while only
      return ec2(R1).send(
        new CreateRouteCommand({
          RouteTableId: a.mainTable,
          DestinationCidrBlock: '172.16.0.0/16',
          VpcPeeringConnectionId: pcx,
        }),
      );
    },
    name: 'InvalidVpcPeeringConnectionID.NotFound',
  },
  {
    refusal: 'EC2 routes: a route to a peering connection of other VPCs',
    call: async () => {
      const { pcx } = await peering();
      const other = await vpc(R1, '10.9.0.0/16');
      return ec2(R1).send(
        new CreateRouteCommand({
          RouteTableId: other.mainTable,
          DestinationCidrBlock: '172.16.0.0/16',
          VpcPeeringConnectionId: pcx,
        }),
      );
    },
    name: 'InvalidParameterValue',
    message: /belong to different networks/,
  },
  // ---- ELB and ACM ----
  {
    refusal: 'ELB: deleting a target group a listener forwards to',
    call: async () => {
      const { targetGroupArn } = await loadBalancer();
      return elb().send(new DeleteTargetGroupCommand({ TargetGroupArn: targetGroupArn }));
    },
    name: 'ResourceInUseException',
    message: /in use by a listener/,
  },
  {
    refusal: 'ACM: deleting a certificate a TLS listener uses',
    call: async () => {
      const certificateArn = await privateCertificate();
      await loadBalancer(certificateArn);
      return acm().send(new DeleteCertificateCommand({ CertificateArn: certificateArn }));
    },
    name: 'ResourceInUseException',
    message: /is in use/,
  },
  // ---- S3 ----
  {
    refusal: 'S3: deleting a bucket that holds objects',
    call: async () => {
      const s3 = new S3Client({ region: R1, maxAttempts: 1 });
      await s3.send(
        new CreateBucketCommand({
          Bucket: 'drctl-refusals',
          CreateBucketConfiguration: { LocationConstraint: R1 },
        }),
      );
      await s3.send(new PutObjectCommand({ Bucket: 'drctl-refusals', Key: 'a', Body: 'x' }));
      return s3.send(new DeleteBucketCommand({ Bucket: 'drctl-refusals' }));
    },
    name: 'BucketNotEmpty',
  },
  // ---- Route 53 ----
  {
    refusal: 'Route 53: a CallerReference used before',
    call: async () => {
      const { vpcId } = await privateZone();
      return r53().send(
        new CreateHostedZoneCommand({
          Name: 'example.org',
          CallerReference: 'zone-1',
          HostedZoneConfig: { PrivateZone: true },
          VPC: { VPCRegion: R1, VPCId: vpcId },
        }),
      );
    },
    name: 'HostedZoneAlreadyExists',
  },
  {
    refusal: 'Route 53: disassociating the last VPC of a private zone',
    call: async () => {
      const { zoneId, vpcId } = await privateZone();
      return r53().send(
        new DisassociateVPCFromHostedZoneCommand({
          HostedZoneId: zoneId,
          VPC: { VPCRegion: R1, VPCId: vpcId },
        }),
      );
    },
    name: 'LastVPCAssociation',
  },
  {
    refusal: 'Route 53: deleting a zone that holds records besides SOA and NS',
    call: async () => {
      const { zoneId } = await privateZone();
      await change(zoneId, record({ TTL: 60, ResourceRecords: [{ Value: '10.0.0.9' }] }));
      return r53().send(new DeleteHostedZoneCommand({ Id: zoneId }));
    },
    name: 'HostedZoneNotEmpty',
  },
  {
    refusal: 'Route 53: an alias to a load balancer that does not exist',
    call: async () => {
      const { zoneId } = await privateZone();
      return change(
        zoneId,
        record({
          AliasTarget: {
            HostedZoneId: 'ZTK26PT1VY4CU',
            DNSName: 'internal-nowhere-0123456789.elb.sa-east-1.amazonaws.com',
            EvaluateTargetHealth: true,
          },
        }),
      );
    },
    name: 'InvalidChangeBatch',
    message: /that target was not found/,
  },
  {
    refusal: 'Route 53: a failover record without SetIdentifier',
    call: async () => {
      const { zoneId } = await privateZone();
      return change(
        zoneId,
        record({ Failover: 'SECONDARY', TTL: 60, ResourceRecords: [{ Value: '10.0.0.9' }] }),
      );
    },
    name: 'InvalidInput',
    message: /Missing field 'SetIdentifier'/,
  },
  {
    refusal: 'Route 53: a health check that does not exist',
    call: async () => {
      const { zoneId } = await privateZone();
      return change(
        zoneId,
        record({
          SetIdentifier: 'primary',
          Failover: 'PRIMARY',
          HealthCheckId: '0d9a1c52-64f4-4c0e-9d3a-5b3f0a1e2c11',
          TTL: 60,
          ResourceRecords: [{ Value: '10.0.0.9' }],
        }),
      );
    },
    name: 'NoSuchHealthCheck',
    status: 404,
  },
  // ---- CloudWatch ----
  {
    refusal: 'CloudWatch: PutMetricData in a namespace beginning with AWS/ (reserved)',
    call: () => metric({}, 'AWS/ApiGateway'),
    name: 'InvalidParameterValue',
    status: 400,
    message: /AWS\//,
  },
  {
    refusal: 'CloudWatch: PutMetricData with a NaN value',
    call: () => metric({ Value: NaN }),
    name: 'InvalidParameterValue',
  },
  {
    refusal: 'CloudWatch: PutMetricData with a value beyond 2^360',
    call: () => metric({ Value: 2 ** 361 }),
    name: 'InvalidParameterValue',
  },
  {
    refusal: 'CloudWatch: PutMetricData with more than 30 dimensions',
    call: () => metric({ Dimensions: Array.from({ length: 31 }, (_, i) => ({ Name: `d${i}`, Value: 'v' })) }),
    name: 'InvalidParameterValue',
    message: /Dimensions/,
  },
  {
    refusal: 'CloudWatch: PutMetricData with Value and Values together',
    call: () => metric({ Values: [1, 2] }),
    name: 'InvalidParameterCombination',
  },
  {
    refusal: 'CloudWatch: PutMetricData timestamped more than two weeks ago',
    call: () => metric({ Timestamp: new Date(cloud.clock.now() - 15 * 24 * 60 * MINUTE) }),
    name: 'InvalidParameterValue',
    message: /Timestamp/,
  },
  // ---- API Gateway ----
  {
    refusal: 'API Gateway: deploying a private API that has no resource policy',
    call: async () =>
      apigw().send(new CreateDeploymentCommand({ restApiId: await importPrivate(), stageName: 'prod' })),
    name: 'BadRequestException',
    message: /resource policy/,
  },
  {
    refusal: 'API Gateway: a second ImportRestApi within the 3 s quota',
    call: async () => {
      await importPrivate();
      return importPrivate();
    },
    name: 'TooManyRequestsException',
    status: 429,
  },
  {
    refusal: 'API Gateway: replace on vpcEndpointIds (only add and remove are supported)',
    call: async () =>
      apigw().send(
        new UpdateRestApiCommand({
          restApiId: await importPrivate(),
          patchOperations: [
            { op: 'replace', path: '/endpointConfiguration/vpcEndpointIds', value: 'vpce-1' },
          ],
        }),
      ),
    name: 'BadRequestException',
  },
  // ---- Private CA ----
  {
    refusal: 'Private CA: the CSR before the CA reached PENDING_CERTIFICATE',
    call: async () =>
      pca().send(
        new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: await rootCa('CREATING') }),
      ),
    name: 'RequestInProgressException',
  },
  {
    refusal: 'Private CA: deleting an ACTIVE CA (it must be DISABLED first)',
    call: async () =>
      pca().send(new DeleteCertificateAuthorityCommand({ CertificateAuthorityArn: await rootCa('ACTIVE') })),
    name: 'InvalidStateException',
  },
];

describe('the fake refuses what AWS refuses', () => {
  it.each(ROWS.map((r) => [r.refusal, r] as const))('%s', async (_, row) => {
    const thrown = await inCloud(() =>
      row.call().then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(thrown, 'the call succeeded').toBeDefined();
    const e = thrown as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    expect(e.name).toBe(row.name);
    if (row.status) expect(e.$metadata?.httpStatusCode).toBe(row.status);
    if (row.message) expect(e.message).toMatch(row.message);
  });

  it('ACM: a private certificate requested from a CA that is not ACTIVE ends FAILED, not ISSUED', async () => {
    const status = await inCloud(async () => {
      const ca = await rootCa('PENDING_CERTIFICATE');
      const { CertificateArn } = await acm().send(
        new RequestCertificateCommand({ DomainName: '*.example.org', CertificateAuthorityArn: ca }),
      );
      cloud.clock.advance(5 * MINUTE);
      return (await acm().send(new DescribeCertificateCommand({ CertificateArn }))).Certificate;
    });
    expect([status?.Status, status?.FailureReason]).toEqual(['FAILED', 'PCA_INVALID_STATE']);
  });
});
