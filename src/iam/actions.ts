/**
 * How drctl's AWS calls are named in IAM: the service prefixes, the SDK package of each, the
 * action an SDK command is authorized as (API Gateway by HTTP route), and IAM's wildcard match.
 * No AWS SDK here either (see policy.ts).
 */
/** IAM service prefixes drctl's calls are authorized under. */
export type IamService =
  | 'acm'
  | 'acm-pca'
  | 'apigateway'
  | 'cloudformation'
  | 'cloudwatch'
  | 'ec2'
  | 'elasticloadbalancing'
  | 'iam'
  | 'lambda'
  | 'route53'
  | 's3'
  | 'ssm'
  | 'sts'
  | 'synthetics';

/** The SDK package (`@aws-sdk/client-<name>`) each IAM prefix is called through. */
export const SDK_CLIENT_OF: Readonly<Partial<Record<IamService, string>>> = {
  acm: 'acm',
  'acm-pca': 'acm-pca',
  apigateway: 'api-gateway',
  cloudformation: 'cloudformation',
  cloudwatch: 'cloudwatch',
  ec2: 'ec2',
  elasticloadbalancing: 'elastic-load-balancing-v2',
  iam: 'iam',
  lambda: 'lambda',
  route53: 'route-53',
  s3: 's3',
  ssm: 'ssm',
  sts: 'sts',
  synthetics: 'synthetics',
};

/**
 * API Gateway authorizes its control plane per HTTP method on resource paths, not per operation:
 * `apigateway:PATCH` on `arn:aws:apigateway:<region>::/restapis/<id>`.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
 * The routes are the SDK's own (checked against @aws-sdk/client-api-gateway's schemas by a test).
 */
export const APIGATEWAY_ROUTES: Readonly<Record<string, readonly [string, string]>> = {
  ImportRestApi: ['POST', '/restapis'],
  PutRestApi: ['PUT', '/restapis/{restApiId}'],
  UpdateRestApi: ['PATCH', '/restapis/{restApiId}'],
  GetRestApi: ['GET', '/restapis/{restApiId}'],
  GetRestApis: ['GET', '/restapis'],
  GetStage: ['GET', '/restapis/{restApiId}/stages/{stageName}'],
  GetExport: ['GET', '/restapis/{restApiId}/stages/{stageName}/exports/{exportType}'],
  CreateDeployment: ['POST', '/restapis/{restApiId}/deployments'],
  UpdateStage: ['PATCH', '/restapis/{restApiId}/stages/{stageName}'],
  GetResources: ['GET', '/restapis/{restApiId}/resources'],
  GetAuthorizers: ['GET', '/restapis/{restApiId}/authorizers'],
  GetModels: ['GET', '/restapis/{restApiId}/models'],
  DeleteRestApi: ['DELETE', '/restapis/{restApiId}'],
  TagResource: ['PUT', '/tags/{resourceArn}'],
  CreateDomainName: ['POST', '/domainnames'],
  GetDomainName: ['GET', '/domainnames/{domainName}'],
  GetDomainNames: ['GET', '/domainnames'],
  UpdateDomainName: ['PATCH', '/domainnames/{domainName}'],
  DeleteDomainName: ['DELETE', '/domainnames/{domainName}'],
  CreateBasePathMapping: ['POST', '/domainnames/{domainName}/basepathmappings'],
  GetBasePathMappings: ['GET', '/domainnames/{domainName}/basepathmappings'],
  DeleteBasePathMapping: ['DELETE', '/domainnames/{domainName}/basepathmappings/{basePath}'],
  CreateDomainNameAccessAssociation: ['POST', '/domainnameaccessassociations'],
  GetDomainNameAccessAssociations: ['GET', '/domainnameaccessassociations'],
  DeleteDomainNameAccessAssociation: [
    'DELETE',
    '/domainnameaccessassociations/{domainNameAccessAssociationArn}',
  ],
};

/** SDK commands whose IAM action is not `<prefix>:<command>` (S3 names its actions after the REST API). */
const ACTION_ALIASES: Readonly<Record<string, string>> = {
  's3:ListObjectsV2': 's3:ListBucket',
  's3:HeadBucket': 's3:ListBucket',
  's3:DeleteObjects': 's3:DeleteObject',
  's3:PutPublicAccessBlock': 's3:PutBucketPublicAccessBlock',
  's3:PutBucketEncryption': 's3:PutEncryptionConfiguration',
  's3:PutBucketLifecycleConfiguration': 's3:PutLifecycleConfiguration',
  's3:GetBucketEncryption': 's3:GetEncryptionConfiguration',
  'lambda:Invoke': 'lambda:InvokeFunction',
};

/** The IAM action that authorizes one SDK command (API Gateway: see apiGatewayGrant). */
export function actionOf(service: IamService, command: string): string {
  const plain = `${service}:${command}`;
  return ACTION_ALIASES[plain] ?? plain;
}

/** IAM's wildcard match (`*` any run of characters, `?` one), case-insensitive as IAM actions are. */
export function matches(pattern: string, value: string, caseInsensitive = true): boolean {
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
      .join('')}$`,
    caseInsensitive ? 'i' : '',
  );
  return re.test(value);
}
