import * as acmSdk from '@aws-sdk/client-acm';
import * as acmPcaSdk from '@aws-sdk/client-acm-pca';
import * as apigwSdk from '@aws-sdk/client-api-gateway';
import * as cfnSdk from '@aws-sdk/client-cloudformation';
import * as ec2Sdk from '@aws-sdk/client-ec2';
import * as elbv2Sdk from '@aws-sdk/client-elastic-load-balancing-v2';
import * as route53Sdk from '@aws-sdk/client-route-53';
import * as cloudwatchSdk from '@aws-sdk/client-cloudwatch';
import * as iamSdk from '@aws-sdk/client-iam';
import * as s3Sdk from '@aws-sdk/client-s3';
import * as syntheticsSdk from '@aws-sdk/client-synthetics';
import * as lambdaSdk from '@aws-sdk/client-lambda';
import * as stsSdk from '@aws-sdk/client-sts';
import { FakeAcm } from './acm.js';
import { FakeAcmPca } from './acm-pca.js';
import { FakeApiGateway } from './apigateway.js';
import { FakeApiGatewayDomains } from './apigateway-domains.js';
import { FakeCloud } from './cloud.js';
import { FakeCloudFormation } from './cloudformation.js';
import { VirtualClock } from './clock.js';
import { FakeEc2 } from './ec2.js';
import { FakeEc2Peering } from './ec2-peering.js';
import { FakeRoute53 } from './route53.js';
import { FakeCloudWatch } from './cloudwatch.js';
import { FakeIam } from './iam.js';
import { FakeRoute53Health } from './route53-health.js';
import { FakeS3 } from './s3.js';
import { FakeSynthetics } from './synthetics.js';
import { FakeEc2Endpoints } from './ec2-endpoints.js';
import { FakeElbv2 } from './elbv2.js';
import { FakeLambda } from './lambda.js';
import { FakeNetwork } from './network.js';
import { FakeSts } from './sts.js';

export { FakeCloud, FakeService, tagsToMap, mapToTags, type CallLogEntry, type Faults } from './cloud.js';
export { VirtualClock } from './clock.js';
export { FakeAwsError, SimulatedCrash, awsError } from './errors.js';
export { DELAYS, type DelayKey } from './delays.js';
export { FakeEc2 } from './ec2.js';
export { FakeEc2Peering } from './ec2-peering.js';
export { FakeRoute53 } from './route53.js';
export { FakeCloudWatch } from './cloudwatch.js';
export { FakeIam } from './iam.js';
export { FakeRoute53Health } from './route53-health.js';
export { FakeS3 } from './s3.js';
export { FakeSynthetics, type ProbeOutcome } from './synthetics.js';
export { FakeCloudFormation } from './cloudformation.js';
export { FakeAcmPca } from './acm-pca.js';
export { FakeAcm } from './acm.js';
export { FakeEc2Endpoints } from './ec2-endpoints.js';
export { FakeApiGateway } from './apigateway.js';
export { FakeElbv2 } from './elbv2.js';
export { FakeApiGatewayDomains } from './apigateway-domains.js';
export { FakeLambda } from './lambda.js';
export { FakeNetwork } from './network.js';
export { FakeSts } from './sts.js';

/**
 * A fake account with every service model drctl talks to, installed into the SDK clients.
 * Call the returned cloud's `uninstall()` (or use `withFakeCloud`) when done.
 */
export function createFakeCloud(opts: { clock?: VirtualClock } = {}): FakeCloud {
  const cloud = new FakeCloud({ clock: opts.clock ?? new VirtualClock() });
  cloud.register({ clientClass: ec2Sdk.EC2Client, sdk: ec2Sdk, model: new FakeEc2(cloud) });
  cloud.register({ clientClass: ec2Sdk.EC2Client, sdk: ec2Sdk, model: new FakeEc2Peering(cloud) });
  cloud.register({ clientClass: route53Sdk.Route53Client, sdk: route53Sdk, model: new FakeRoute53(cloud) });
  cloud.register({
    clientClass: route53Sdk.Route53Client,
    sdk: route53Sdk,
    model: new FakeRoute53Health(cloud),
  });
  cloud.register({ clientClass: iamSdk.IAMClient, sdk: iamSdk, model: new FakeIam(cloud) });
  cloud.register({ clientClass: s3Sdk.S3Client, sdk: s3Sdk, model: new FakeS3(cloud) });
  cloud.register({
    clientClass: cloudwatchSdk.CloudWatchClient,
    sdk: cloudwatchSdk,
    model: new FakeCloudWatch(cloud),
  });
  cloud.register({
    clientClass: syntheticsSdk.SyntheticsClient,
    sdk: syntheticsSdk,
    model: new FakeSynthetics(cloud),
  });
  cloud.register({
    clientClass: ec2Sdk.EC2Client,
    sdk: ec2Sdk,
    model: new FakeEc2Endpoints(cloud),
  });
  cloud.register({
    clientClass: apigwSdk.APIGatewayClient,
    sdk: apigwSdk,
    model: new FakeApiGateway(cloud),
  });
  cloud.register({
    clientClass: elbv2Sdk.ElasticLoadBalancingV2Client,
    sdk: elbv2Sdk,
    model: new FakeElbv2(cloud),
  });
  cloud.register({
    clientClass: apigwSdk.APIGatewayClient,
    sdk: apigwSdk,
    model: new FakeApiGatewayDomains(cloud),
  });
  cloud.register({
    clientClass: cfnSdk.CloudFormationClient,
    sdk: cfnSdk,
    model: new FakeCloudFormation(cloud),
  });
  cloud.register({ clientClass: acmPcaSdk.ACMPCAClient, sdk: acmPcaSdk, model: new FakeAcmPca(cloud) });
  cloud.register({ clientClass: acmSdk.ACMClient, sdk: acmSdk, model: new FakeAcm(cloud) });
  cloud.register({ clientClass: ec2Sdk.EC2Client, sdk: ec2Sdk, model: new FakeNetwork(cloud) });
  cloud.register({ clientClass: lambdaSdk.LambdaClient, sdk: lambdaSdk, model: new FakeLambda(cloud) });
  cloud.register({ clientClass: stsSdk.STSClient, sdk: stsSdk, model: new FakeSts(cloud) });
  cloud.install();
  return cloud;
}
