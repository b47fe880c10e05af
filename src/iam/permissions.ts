// Long file: one table of every step's grants, read whole when a step's calls change.
/**
 * Every step's calls and grants: the table src/iam/policy.ts renders into the policy (how it
 * scopes: see there). Light on purpose, like policy.ts: no AWS SDK.
 */
import { TAG_DEPLOYMENT } from '../aws/tags.js';
import type { IamService } from './actions.js';

export type ConditionBlock = Record<string, Record<string, string | string[]>>;

/**
 * One permission of one step. ARN templates use `{p}` partition, `{r}` region, `{a}` account,
 * `{d}` deployment, `{c}` the region's canary suffix (`pri`, `sec`); `{r}` takes each region the
 * grant applies to.
 */
export interface Grant {
  service: IamService;
  /** SDK commands (without "Command") drctl sends under this grant. */
  calls?: readonly string[];
  /** IAM actions AWS checks on the caller's behalf, beyond the commands themselves. */
  onBehalf?: readonly string[];
  /** ARN templates; API Gateway grants take theirs from each command's route instead. */
  resources?: readonly string[];
  condition?: ConditionBlock;
  /**
   * The regions `{r}` takes: both (default), or one role's region; `probes`: where the drill's probe
   * runs (the secondary, both in active-active); `drilled`: the regions failover-test may fail (the
   * primary, both in active-active); `unprobed`: where only a probe an earlier active-active `up`
   * made can be left, for `up` and `down` to retire (the primary in active-passive, none in
   * active-active, where `probes` covers both).
   */
  regions?: 'both' | 'primary' | 'secondary' | 'probes' | 'drilled' | 'unprobed';
  /** A call AWS authorizes for everyone: listed, never put in the policy. */
  noPermission?: true;
}

export interface StepPermissions {
  /** A step name, or a command (`failover-test`) that calls AWS outside the steps. */
  name: string;
  grants: readonly Grant[];
}

const requestTag = (): ConditionBlock => ({
  StringEquals: { [`aws:RequestTag/${TAG_DEPLOYMENT}`]: '{d}' },
});
const resourceTag = (): ConditionBlock => ({
  StringEquals: { [`aws:ResourceTag/${TAG_DEPLOYMENT}`]: '{d}' },
});
const ec2CreateTags = (createAction: string, resource: string, regions?: Grant['regions']): Grant => ({
  // Tags in TagSpecifications are authorized as ec2:CreateTags, allowed here only as part of that create.
  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
  service: 'ec2',
  onBehalf: ['ec2:CreateTags'],
  resources: [`arn:{p}:ec2:{r}:{a}:${resource}`],
  condition: { StringEquals: { 'ec2:CreateAction': createAction } },
  ...(regions ? { regions } : {}),
});

/**
 * The ec2 actions CloudFormation performs with the caller's credentials to build and delete
 * templates/vpc.template.json (no service role is passed). test/iam/policy.test.ts checks every
 * resource type of the template has its create and delete actions here.
 */
export const VPC_STACK_ACTIONS = [
  'ec2:CreateVpc',
  'ec2:DeleteVpc',
  'ec2:ModifyVpcAttribute',
  'ec2:CreateSubnet',
  'ec2:DeleteSubnet',
  'ec2:ModifySubnetAttribute',
  'ec2:CreateInternetGateway',
  'ec2:DeleteInternetGateway',
  'ec2:AttachInternetGateway',
  'ec2:DetachInternetGateway',
  'ec2:CreateRouteTable',
  'ec2:DeleteRouteTable',
  'ec2:CreateRoute',
  'ec2:DeleteRoute',
  'ec2:AssociateRouteTable',
  'ec2:DisassociateRouteTable',
  'ec2:AllocateAddress',
  'ec2:ReleaseAddress',
  'ec2:CreateNatGateway',
  'ec2:DeleteNatGateway',
  // The S3 gateway and CloudWatch monitoring interface endpoints (the canary's way out).
  'ec2:CreateVpcEndpoint',
  'ec2:DeleteVpcEndpoints',
  'ec2:CreateSecurityGroup',
  'ec2:DeleteSecurityGroup',
  'ec2:AuthorizeSecurityGroupIngress',
  'ec2:AuthorizeSecurityGroupEgress',
  'ec2:RevokeSecurityGroupIngress',
  'ec2:RevokeSecurityGroupEgress',
  'ec2:RunInstances',
  'ec2:TerminateInstances',
  // A new clientInstanceType: CloudFormation stops the instance, changes its type, starts it
  // ("Update requires: Some interruptions").
  'ec2:StopInstances',
  'ec2:ModifyInstanceAttribute',
  'ec2:StartInstances',
  'ec2:CreateTags',
] as const;

/**
 * What Synthetics does with the caller's credentials in CreateCanary, UpdateCanary and
 * DeleteCanary: it creates (and on an update changes the code and configuration of, and publishes
 * a new version of) the canary's Lambda function `cwsyn-<canary>-<uuid>` and its layer, and reads
 * the VPC config.
 * Source: the CloudWatchSyntheticsFullAccess managed policy (v14), narrowed to our canary names:
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/CloudWatchSyntheticsFullAccess.html
 */
const SYNTHETICS_LAMBDA_ACTIONS = [
  'lambda:CreateFunction',
  'lambda:AddPermission',
  'lambda:PublishVersion',
  // UpdateCanary: new code, or other settings.
  'lambda:UpdateFunctionCode',
  'lambda:UpdateFunctionConfiguration',
  // DeleteCanary with DeleteLambda.
  'lambda:DeleteFunction',
];

/** The execution role a step owns (src/aws/resources/service-role.ts): the canary's and the probe's. */
const SERVICE_ROLE_CALLS = [
  'CreateRole',
  'GetRole',
  'TagRole',
  'PutRolePolicy',
  'ListRolePolicies',
  'DeleteRolePolicy',
  'DeleteRole',
];

/** Every step's calls and grants. Adding a call to a step without listing it here fails a test. */
export const PERMISSIONS: readonly StepPermissions[] = [
  {
    name: 'keypairs',
    grants: [
      {
        service: 'ec2',
        calls: ['CreateKeyPair', 'DeleteKeyPair'],
        resources: ['arn:{p}:ec2:{r}:{a}:key-pair/{d}-{r}'],
      },
      ec2CreateTags('CreateKeyPair', 'key-pair/{d}-{r}'),
      { service: 'ec2', calls: ['DescribeKeyPairs'] },
    ],
  },
  {
    name: 'vpc',
    grants: [
      {
        service: 'cloudformation',
        calls: ['CreateStack', 'UpdateStack', 'DeleteStack', 'DescribeStacks', 'DescribeStackEvents'],
        // Stack tags on CreateStack are authorized as TagResource.
        onBehalf: ['cloudformation:TagResource'],
        resources: ['arn:{p}:cloudformation:{r}:{a}:stack/{d}-vpc/*'],
      },
      { service: 'ec2', calls: ['DescribeNetworkInterfaces'] },
      {
        // CloudFormation creates the stack's resources with the caller's credentials.
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/control-access-with-iam.html
        service: 'ec2',
        onBehalf: VPC_STACK_ACTIONS,
        resources: ['*'],
        condition: { 'ForAnyValue:StringEquals': { 'aws:CalledVia': 'cloudformation.amazonaws.com' } },
      },
      // CloudFormation describes what it creates and waits on (NAT gateway, instance, addresses).
      { service: 'ec2', onBehalf: ['ec2:Describe*'] },
      {
        // The monitoring endpoint's private DNS: EC2 associates an AWS-managed private zone with
        // the VPC for the caller.
        service: 'route53',
        onBehalf: ['route53:AssociateVPCWithHostedZone'],
        resources: ['arn:{p}:route53:::hostedzone/*'],
      },
      {
        // The template's AMI parameter is an SSM public parameter, resolved with the caller's credentials.
        service: 'ssm',
        onBehalf: ['ssm:GetParameters'],
        resources: ['arn:{p}:ssm:{r}::parameter/aws/service/ami-amazon-linux-latest/*'],
      },
    ],
  },
  {
    name: 'endpoints',
    grants: [
      {
        service: 'ec2',
        calls: ['CreateVpcEndpoint'],
        resources: ['arn:{p}:ec2:{r}:{a}:vpc-endpoint/*'],
        condition: requestTag(),
      },
      {
        // The VPC, subnets and security group the endpoint goes into (made by the vpc stack).
        service: 'ec2',
        calls: ['CreateVpcEndpoint'],
        resources: [
          'arn:{p}:ec2:{r}:{a}:vpc/*',
          'arn:{p}:ec2:{r}:{a}:subnet/*',
          'arn:{p}:ec2:{r}:{a}:security-group/*',
        ],
      },
      ec2CreateTags('CreateVpcEndpoint', 'vpc-endpoint/*'),
      {
        // Private DNS makes EC2 associate an AWS-managed private zone with the VPC for the caller.
        service: 'route53',
        onBehalf: ['route53:AssociateVPCWithHostedZone'],
        resources: ['arn:{p}:route53:::hostedzone/*'],
      },
      {
        service: 'ec2',
        calls: ['DeleteVpcEndpoints'],
        resources: ['arn:{p}:ec2:{r}:{a}:vpc-endpoint/*'],
        condition: resourceTag(),
      },
      { service: 'ec2', calls: ['DescribeVpcEndpoints', 'DescribeNetworkInterfaces'] },
    ],
  },
  {
    name: 'api',
    grants: [
      {
        service: 'apigateway',
        calls: [
          'ImportRestApi',
          'PutRestApi',
          'UpdateRestApi',
          'GetRestApi',
          'GetRestApis',
          'GetStage',
          'CreateDeployment',
          'DeleteRestApi',
          'TagResource',
          // Read what the definition made (each region, against the shape recorded at import);
          // in the secondary, set the stage back to the primary's.
          'GetResources',
          'GetAuthorizers',
          'GetModels',
          'UpdateStage',
        ],
      },
      {
        // Config api.restApiId: the team's API, in the primary only, exported (stage prod) to copy it.
        service: 'apigateway',
        calls: ['GetExport'],
        regions: 'primary',
      },
      {
        // Setting an API's resource policy needs this as well as PATCH/PUT.
        // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies-create-attach.html
        service: 'apigateway',
        onBehalf: ['apigateway:UpdateRestApiPolicy'],
        resources: ['arn:{p}:apigateway:{r}::/restapis', 'arn:{p}:apigateway:{r}::/restapis/??????????'],
      },
    ],
  },
  {
    name: 'ca',
    grants: [
      {
        service: 'acm-pca',
        calls: ['CreateCertificateAuthority'],
        onBehalf: ['acm-pca:TagCertificateAuthority'],
        resources: ['*'],
        condition: requestTag(),
      },
      {
        service: 'acm-pca',
        calls: [
          'GetCertificateAuthorityCsr',
          'IssueCertificate',
          'GetCertificate',
          'ImportCertificateAuthorityCertificate',
          'UpdateCertificateAuthority',
          'DeleteCertificateAuthority',
          // ACM's managed renewal needs the CA to grant it these (assign-permissions.html).
          'CreatePermission',
          'DeletePermission',
          'ListPermissions',
        ],
        resources: ['arn:{p}:acm-pca:{r}:{a}:certificate-authority/*'],
        condition: resourceTag(),
      },
      // Reads also look at CAs that are not ours (adoption by tag), so they can't be tag-scoped.
      {
        service: 'acm-pca',
        calls: [
          'ListCertificateAuthorities',
          'DescribeCertificateAuthority',
          'GetCertificateAuthorityCertificate',
          'ListTags',
        ],
      },
      {
        service: 'acm',
        calls: ['RequestCertificate'],
        onBehalf: ['acm:AddTagsToCertificate'],
        resources: ['*'],
        condition: requestTag(),
      },
      {
        service: 'acm',
        calls: ['DeleteCertificate'],
        resources: ['arn:{p}:acm:{r}:{a}:certificate/*'],
        condition: resourceTag(),
      },
      { service: 'acm', calls: ['DescribeCertificate', 'ListCertificates', 'ListTagsForCertificate'] },
    ],
  },
  {
    name: 'domain',
    grants: [
      {
        service: 'apigateway',
        calls: [
          'CreateDomainName',
          'GetDomainName',
          'GetDomainNames',
          'UpdateDomainName',
          'DeleteDomainName',
          'CreateBasePathMapping',
          'GetBasePathMappings',
          'DeleteBasePathMapping',
          'CreateDomainNameAccessAssociation',
          'GetDomainNameAccessAssociations',
          'DeleteDomainNameAccessAssociation',
        ],
      },
      // domainMode private: the endpoint's DNS name, which the failover records alias.
      { service: 'ec2', calls: ['DescribeVpcEndpoints'] },
      {
        // domainMode private: a private domain name's policy (at create, or changed) needs
        // UpdateDomainNamePolicy, its access association CreateAccessAssociation on the domain.
        // Private domain names are `/domainnames/<name>+<id>` with the account in their ARN.
        // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagement.html
        service: 'apigateway',
        onBehalf: ['apigateway:UpdateDomainNamePolicy'],
        resources: ['arn:{p}:apigateway:{r}::/domainnames', 'arn:{p}:apigateway:{r}:{a}:/domainnames/{n}+*'],
      },
      {
        service: 'apigateway',
        onBehalf: ['apigateway:CreateAccessAssociation'],
        resources: ['arn:{p}:apigateway:{r}:{a}:/domainnames/{n}+*'],
      },
      {
        // The first custom domain with an ACM certificate in an account creates API Gateway's
        // service-linked role in the caller's name.
        // https://docs.aws.amazon.com/apigateway/latest/developerguide/using-service-linked-roles.html
        service: 'iam',
        onBehalf: ['iam:CreateServiceLinkedRole'],
        resources: [
          'arn:{p}:iam::{a}:role/aws-service-role/ops.apigateway.amazonaws.com/AWSServiceRoleForAPIGateway',
        ],
        condition: { StringEquals: { 'iam:AWSServiceName': 'ops.apigateway.amazonaws.com' } },
      },
    ],
  },
  {
    name: 'nlb',
    grants: [
      {
        service: 'elasticloadbalancing',
        calls: [
          'CreateLoadBalancer',
          'DeleteLoadBalancer',
          'CreateTargetGroup',
          'DeleteTargetGroup',
          'RegisterTargets',
          'DeregisterTargets',
          'CreateListener',
          'ModifyListener',
        ],
        // Tags passed to a create call are authorized as AddTags.
        // https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/security_iam_id-based-policy-examples.html
        onBehalf: ['elasticloadbalancing:AddTags'],
        resources: [
          'arn:{p}:elasticloadbalancing:{r}:{a}:loadbalancer/net/{d}-nlb-{r}/*',
          'arn:{p}:elasticloadbalancing:{r}:{a}:listener/net/{d}-nlb-{r}/*',
          'arn:{p}:elasticloadbalancing:{r}:{a}:targetgroup/{d}-tg-{r}/*',
        ],
      },
      {
        // The first load balancer of an account creates ELB's service-linked role.
        service: 'iam',
        onBehalf: ['iam:CreateServiceLinkedRole'],
        resources: [
          'arn:{p}:iam::{a}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing',
        ],
        condition: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
      },
      {
        service: 'elasticloadbalancing',
        calls: [
          'DescribeLoadBalancers',
          'DescribeListeners',
          'DescribeTargetGroups',
          'DescribeTargetHealth',
          'DescribeTags',
        ],
      },
    ],
  },
  {
    name: 'peering',
    grants: [
      {
        service: 'ec2',
        calls: ['CreateVpcPeeringConnection'],
        resources: ['arn:{p}:ec2:{r}:{a}:vpc-peering-connection/*'],
        condition: requestTag(),
        regions: 'primary',
      },
      ec2CreateTags('CreateVpcPeeringConnection', 'vpc-peering-connection/*', 'primary'),
      {
        // Requester and accepter VPCs; the accepter's side of the peering carries no tags (tags
        // are per region), so accepting and routing to it can't be tag-scoped.
        service: 'ec2',
        calls: ['CreateVpcPeeringConnection', 'AcceptVpcPeeringConnection'],
        resources: ['arn:{p}:ec2:{r}:{a}:vpc/*'],
      },
      {
        service: 'ec2',
        calls: ['AcceptVpcPeeringConnection'],
        resources: ['arn:{p}:ec2:{r}:{a}:vpc-peering-connection/*'],
        regions: 'secondary',
      },
      {
        service: 'ec2',
        calls: ['DeleteVpcPeeringConnection'],
        resources: ['arn:{p}:ec2:{r}:{a}:vpc-peering-connection/*'],
        condition: resourceTag(),
        regions: 'primary',
      },
      {
        // The stack's route tables carry its tags (CloudFormation propagates them). The VPC's main
        // table does not (EC2 makes it), and drctl never routes it: its subnets all have tables of
        // their own, so the condition stays.
        service: 'ec2',
        calls: ['CreateRoute', 'ReplaceRoute', 'DeleteRoute'],
        resources: ['arn:{p}:ec2:{r}:{a}:route-table/*'],
        condition: resourceTag(),
      },
      { service: 'ec2', calls: ['DescribeVpcPeeringConnections', 'DescribeRouteTables'] },
    ],
  },
  {
    name: 'hosted-zone',
    grants: [
      { service: 'route53', calls: ['CreateHostedZone'], resources: ['*'] },
      {
        service: 'route53',
        calls: [
          'AssociateVPCWithHostedZone',
          'DisassociateVPCFromHostedZone',
          'DeleteHostedZone',
          'ChangeResourceRecordSets',
          'ChangeTagsForResource',
          'GetHostedZone',
          'ListResourceRecordSets',
        ],
        resources: ['arn:{p}:route53:::hostedzone/*'],
      },
      {
        service: 'route53',
        calls: ['DeleteTrafficPolicyInstance'],
        resources: ['arn:{p}:route53:::trafficpolicyinstance/*'],
      },
      { service: 'route53', calls: ['GetChange'], resources: ['arn:{p}:route53:::change/*'] },
      // Route 53 checks the VPCs of a private zone exist, with the caller's credentials.
      { service: 'ec2', onBehalf: ['ec2:DescribeVpcs'] },
      {
        service: 'route53',
        calls: ['ListHostedZonesByName', 'ListHostedZonesByVPC', 'ListTagsForResources'],
      },
    ],
  },
  {
    name: 'canary',
    grants: [
      {
        service: 'iam',
        calls: SERVICE_ROLE_CALLS,
        resources: ['arn:{p}:iam::{a}:role/{d}-canary-{r}'],
      },
      {
        service: 'iam',
        onBehalf: ['iam:PassRole'],
        resources: ['arn:{p}:iam::{a}:role/{d}-canary-{r}'],
        condition: {
          StringEquals: { 'iam:PassedToService': ['lambda.amazonaws.com', 'synthetics.amazonaws.com'] },
        },
      },
      {
        service: 's3',
        calls: [
          'CreateBucket',
          'HeadBucket',
          'GetBucketTagging',
          'PutBucketTagging',
          'PutBucketPolicy',
          'PutBucketEncryption',
          'PutBucketLifecycleConfiguration',
          'PutPublicAccessBlock',
          'ListObjectsV2',
          'DeleteObjects',
          'DeleteBucket',
        ],
        // Synthetics checks the artifact location's bucket with the caller's credentials.
        onBehalf: ['s3:GetBucketLocation'],
        resources: ['arn:{p}:s3:::{d}-canary-{a}-{r}', 'arn:{p}:s3:::{d}-canary-{a}-{r}/*'],
      },
      {
        // CreateCanary supports no resource type: IAM checks it on "*", so only the tag scopes it.
        // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchsynthetics.html
        service: 'synthetics',
        calls: ['CreateCanary'],
        resources: ['*'],
        condition: requestTag(),
      },
      {
        service: 'synthetics',
        // TagResource: the config tag after an UpdateCanary, and the Tags of CreateCanary.
        calls: ['GetCanary', 'UpdateCanary', 'TagResource', 'StartCanary', 'StopCanary', 'DeleteCanary'],
        resources: ['arn:{p}:synthetics:{r}:{a}:canary:{d}-{c}'],
      },
      {
        service: 'lambda',
        onBehalf: SYNTHETICS_LAMBDA_ACTIONS,
        resources: ['arn:{p}:lambda:{r}:{a}:function:cwsyn-{d}-{c}-*'],
      },
      {
        service: 'lambda',
        // The canary's code is a layer: published by name, used and deleted by version.
        onBehalf: ['lambda:PublishLayerVersion'],
        resources: ['arn:{p}:lambda:{r}:{a}:layer:cwsyn-{d}-{c}-*'],
      },
      {
        service: 'lambda',
        // A function made with layers needs GetLayerVersion on each layer version
        // (https://docs.aws.amazon.com/lambda/latest/dg/adding-layers.html).
        onBehalf: ['lambda:GetLayerVersion', 'lambda:DeleteLayerVersion'],
        resources: ['arn:{p}:lambda:{r}:{a}:layer:cwsyn-{d}-{c}-*:*'],
      },
      {
        // The Synthetics runtime layers live in accounts of AWS's (Synthetics, Synthetics_Selenium,
        // AWS-CW-Synthetics*, by runtime).
        service: 'lambda',
        onBehalf: ['lambda:GetLayerVersion'],
        resources: ['arn:{p}:lambda:{r}:*:layer:*Synthetics*:*'],
      },
      {
        service: 'cloudwatch',
        calls: ['PutMetricAlarm', 'DeleteAlarms', 'ListTagsForResource'],
        // Tags on PutMetricAlarm are authorized as TagResource.
        onBehalf: ['cloudwatch:TagResource'],
        resources: ['arn:{p}:cloudwatch:{r}:{a}:alarm:{d}-canary-{r}'],
      },
      { service: 'cloudwatch', calls: ['DescribeAlarms'] },
      { service: 'synthetics', calls: ['DescribeRuntimeVersions'] },
    ],
  },
  {
    name: 'probe',
    grants: [
      {
        service: 'iam',
        calls: SERVICE_ROLE_CALLS,
        resources: ['arn:{p}:iam::{a}:role/{d}-probe'],
      },
      {
        service: 'iam',
        onBehalf: ['iam:PassRole'],
        resources: ['arn:{p}:iam::{a}:role/{d}-probe'],
        condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      },
      {
        service: 'lambda',
        calls: [
          'CreateFunction',
          'GetFunction',
          'UpdateFunctionCode',
          'UpdateFunctionConfiguration',
          'DeleteFunction',
          // domainMode private: at the end of up, the probe calls the name until it answers.
          'Invoke',
        ],
        // Tags on CreateFunction are authorized as TagResource. GetFunction returns the tags the
        // ownership check reads only to a caller allowed lambda:ListTags
        // (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html).
        onBehalf: ['lambda:TagResource', 'lambda:ListTags'],
        resources: ['arn:{p}:lambda:{r}:{a}:function:{d}-probe'],
        regions: 'probes',
      },
      {
        // Switched back to active-passive, `up` deletes the probe active-active made in the primary
        // (and `down` does, if `up` has not run since): read and delete only, never create or
        // invoke. It is recorded, so its tags (lambda:ListTags) are not read. Both act on the
        // function's ARN: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
        service: 'lambda',
        calls: ['GetFunction', 'DeleteFunction'],
        resources: ['arn:{p}:lambda:{r}:{a}:function:{d}-probe'],
        regions: 'unprobed',
      },
    ],
  },
  {
    name: 'health-check',
    grants: [
      { service: 'route53', calls: ['CreateHealthCheck'], resources: ['*'] },
      {
        service: 'route53',
        calls: [
          'GetHealthCheck',
          'UpdateHealthCheck',
          'DeleteHealthCheck',
          'ChangeTagsForResource',
          'ListTagsForResource',
        ],
        resources: ['arn:{p}:route53:::healthcheck/*'],
      },
      { service: 'route53', calls: ['ListHealthChecks'] },
      {
        // The hold alarms (config/traffic-hold.ts), each in the region other than the one it
        // holds traffic away from: `{r}` takes both. Tags on PutMetricAlarm are authorized as
        // TagResource (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
        service: 'cloudwatch',
        calls: ['PutMetricAlarm', 'DeleteAlarms', 'ListTagsForResource'],
        onBehalf: ['cloudwatch:TagResource'],
        resources: ['arn:{p}:cloudwatch:{r}:{a}:alarm:drctl-{d}-hold-*'],
      },
      { service: 'cloudwatch', calls: ['DescribeAlarms'] },
    ],
  },
  {
    name: 'traffic-policy',
    grants: [
      {
        service: 'route53',
        calls: [
          'ChangeResourceRecordSets',
          'ListResourceRecordSets',
          'CreateTrafficPolicyInstance',
          'ListTrafficPolicyInstancesByHostedZone',
          // Is the zone private? (traffic-policy mode asks before it touches the name)
          'GetHostedZone',
        ],
        resources: ['arn:{p}:route53:::hostedzone/*'],
      },
      {
        service: 'route53',
        calls: [
          'CreateTrafficPolicyVersion',
          'GetTrafficPolicy',
          'DeleteTrafficPolicy',
          'CreateTrafficPolicyInstance',
        ],
        resources: ['arn:{p}:route53:::trafficpolicy/*'],
      },
      {
        service: 'route53',
        calls: ['GetTrafficPolicyInstance', 'UpdateTrafficPolicyInstance', 'DeleteTrafficPolicyInstance'],
        resources: ['arn:{p}:route53:::trafficpolicyinstance/*'],
      },
      { service: 'route53', calls: ['GetChange'], resources: ['arn:{p}:route53:::change/*'] },
      // A lost state: the zone found by name and tag, as the hosted-zone step finds it.
      { service: 'route53', calls: ['GetHostedZone'], resources: ['arn:{p}:route53:::hostedzone/*'] },
      { service: 'route53', calls: ['ListHostedZonesByName', 'ListTagsForResources'] },
      { service: 'route53', calls: ['CreateTrafficPolicy', 'ListTrafficPolicies'] },
    ],
  },
  {
    // src/drill/: `invert` flips the failed region's health check; `outage` revokes, then restores,
    // the 443 ingress of its endpoint's security group (made by the VPC stack, so it carries the
    // stack's tags); the probe function answers what a client in a VPC sees. In active-active
    // either region can be failed, and a probe runs in each VPC.
    name: 'failover-test',
    grants: [
      {
        service: 'route53',
        calls: ['GetHealthCheck', 'GetHealthCheckStatus', 'UpdateHealthCheck'],
        resources: ['arn:{p}:route53:::healthcheck/*'],
      },
      {
        service: 'ec2',
        calls: ['RevokeSecurityGroupIngress', 'AuthorizeSecurityGroupIngress'],
        resources: ['arn:{p}:ec2:{r}:{a}:security-group/*'],
        condition: resourceTag(),
        regions: 'drilled',
      },
      {
        service: 'lambda',
        calls: ['Invoke', 'GetFunctionConfiguration'],
        resources: ['arn:{p}:lambda:{r}:{a}:function:{d}-probe'],
        regions: 'probes',
      },
      { service: 'ec2', calls: ['DescribeSecurityGroups', 'DescribeVpcEndpoints'] },
      { service: 'cloudwatch', calls: ['DescribeAlarms'] },
      { service: 'elasticloadbalancing', calls: ['DescribeTargetHealth'] },
    ],
  },
  {
    // src/switch/: `drctl failover` / `failback` trip and release the hold alarms with
    // (and `up` trips a held switch's hold again when it is not in force: src/switch/hold.ts)
    // PutMetricData in the region each lives in (src/config/traffic-hold.ts), and read the target's
    // canary alarm first. The probe and health-check reads are failover-test's grants.
    // PutMetricData takes no resource ARN
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html);
    // the cloudwatch:namespace condition keeps it to drctl's namespace
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html).
    // Not in --read-only.
    name: 'switch',
    grants: [
      {
        service: 'cloudwatch',
        calls: ['PutMetricData'],
        condition: { StringEquals: { 'cloudwatch:namespace': 'drctl' } },
      },
      { service: 'cloudwatch', calls: ['DescribeAlarms'] },
    ],
  },
  {
    // src/verify/: `drctl verify` reads only (besides the step checks' reads, which it shares with
    // `status --refresh`); its one Invoke is the probe, which resolves a name and GETs the health path.
    name: 'verify',
    grants: [
      // The certificate and CA reads, scoped as the ca step's (so they share its statements).
      { service: 'acm', calls: ['DescribeCertificate'] },
      { service: 'acm-pca', calls: ['DescribeCertificateAuthority'] },
      {
        service: 'acm-pca',
        calls: ['ListPermissions'],
        resources: ['arn:{p}:acm-pca:{r}:{a}:certificate-authority/*'],
        condition: resourceTag(),
      },
      {
        service: 'route53',
        calls: ['GetHealthCheck', 'GetHealthCheckStatus'],
        resources: ['arn:{p}:route53:::healthcheck/*'],
      },
      {
        service: 'route53',
        calls: ['ListResourceRecordSets'],
        resources: ['arn:{p}:route53:::hostedzone/*'],
      },
      {
        service: 'route53',
        calls: ['GetTrafficPolicyInstance'],
        resources: ['arn:{p}:route53:::trafficpolicyinstance/*'],
      },
      {
        service: 'lambda',
        calls: ['Invoke'],
        resources: ['arn:{p}:lambda:{r}:{a}:function:{d}-probe'],
        // Where the probes are, as the probe step's grant (one statement with it).
        regions: 'probes',
      },
      { service: 'cloudwatch', calls: ['DescribeAlarms', 'GetMetricStatistics'] },
      {
        // An alarm without data: the canary's state and last runs say why (src/verify/canary-trouble.ts).
        service: 'synthetics',
        calls: ['GetCanary', 'GetCanaryRuns'],
        resources: ['arn:{p}:synthetics:{r}:{a}:canary:{d}-{c}'],
      },
      { service: 'ec2', calls: ['DescribeRouteTables', 'DescribeVpcPeeringConnections'] },
      { service: 'elasticloadbalancing', calls: ['DescribeListeners', 'DescribeTargetHealth'] },
      {
        // The two regions' APIs compared (src/verify/api-drift.ts).
        service: 'apigateway',
        calls: [
          'GetRestApi',
          'GetResources',
          'GetAuthorizers',
          'GetModels',
          'GetStage',
          'GetBasePathMappings',
        ],
      },
      {
        // api.restApiId: each region's deployed definition compared (the team's undeployed edits
        // aside). The primary's export is the api step's grant above: granted once, not twice.
        service: 'apigateway',
        calls: ['GetExport'],
        regions: 'secondary',
      },
    ],
  },
  {
    // src/steps/used-network.ts: the user's own VPCs, subnets, endpoint and zone (config vpcId,
    // subnetIds, endpointId, hostedZoneId), read before `up` makes anything. Read-only.
    name: 'used-network',
    grants: [
      // DescribeRouteTables: the canary's way out of the given subnets (NAT route or S3 endpoint);
      // DescribeVpcAttribute: its DNS options; DescribeSecurityGroups: endpoints admitting 443.
      {
        service: 'ec2',
        calls: [
          'DescribeVpcs',
          'DescribeVpcAttribute',
          'DescribeSubnets',
          'DescribeVpcEndpoints',
          'DescribeRouteTables',
          'DescribeSecurityGroups',
        ],
      },
      { service: 'route53', calls: ['GetHostedZone'], resources: ['arn:{p}:route53:::hostedzone/*'] },
    ],
  },
  {
    // src/aws/identity.ts: who pays, once before up, step, down, failover-test and status --refresh.
    // GetCallerIdentity needs no permission (an explicit deny cannot block it); listed so the
    // policy names every call drctl makes.
    // https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    name: 'caller-identity',
    grants: [{ service: 'sts', calls: ['GetCallerIdentity'], noPermission: true }],
  },
  {
    // src/state/s3.ts, only with `--state s3://bucket/key`: the state, its lock and its backup.
    name: 'state-s3',
    grants: [
      {
        service: 's3',
        calls: ['GetObject', 'PutObject', 'DeleteObject'],
        resources: [
          'arn:{p}:s3:::{bucket}/{key}',
          'arn:{p}:s3:::{bucket}/{key}.lock',
          'arn:{p}:s3:::{bucket}/{key}.bak',
          // Beside the state (src/state/evidence.ts): drill records and the last verify.
          'arn:{p}:s3:::{bucket}/{prefix}drills/*',
          'arn:{p}:s3:::{bucket}/{prefix}verify/*',
        ],
      },
      {
        service: 's3',
        calls: ['GetBucketLocation', 'GetBucketEncryption', 'ListObjectsV2'],
        // Without ListBucket S3 answers a missing key with 403 instead of 404.
        onBehalf: ['s3:ListBucket'],
        resources: ['arn:{p}:s3:::{bucket}'],
      },
    ],
  },
];
