/**
 * What AWS services do with the caller's credentials after they accept a call, as the fake's
 * models ask `Authorizer.onBehalf` / `allows` at that moment. Independent of src/iam/policy.ts.
 */

/**
 * CloudFormation creates and deletes a stack's resources with the caller's credentials when no
 * service role is passed, and marks those requests with aws:CalledVia cloudformation.amazonaws.com
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-calledvia).
 * The actions per resource type are the create and delete handlers' permissions in each type's
 * schema (https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html#schema-properties-handlers;
 * e.g. `aws cloudformation describe-type --type RESOURCE --type-name AWS::EC2::VPC`), cut to the
 * mutating ones; the resource is the type's ARN with a wildcard id. `update`: what changing a kept
 * resource's properties takes (e.g. a new instance type stops, modifies and starts the instance:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-instance.html#cfn-ec2-instance-instancetype,
 * "Update requires: Some interruptions").
 */
export const STACK_RESOURCE_ACTIONS: Readonly<
  Record<
    string,
    { arn: string; create: readonly string[]; update: readonly string[]; delete: readonly string[] }
  >
> = {
  'AWS::EC2::VPC': {
    arn: 'vpc/*',
    create: ['ec2:CreateVpc', 'ec2:ModifyVpcAttribute'],
    update: ['ec2:ModifyVpcAttribute'],
    delete: ['ec2:DeleteVpc'],
  },
  'AWS::EC2::Subnet': {
    arn: 'subnet/*',
    create: ['ec2:CreateSubnet', 'ec2:ModifySubnetAttribute'],
    update: ['ec2:ModifySubnetAttribute'],
    delete: ['ec2:DeleteSubnet'],
  },
  'AWS::EC2::InternetGateway': {
    arn: 'internet-gateway/*',
    create: ['ec2:CreateInternetGateway'],
    update: [],
    delete: ['ec2:DeleteInternetGateway'],
  },
  'AWS::EC2::VPCGatewayAttachment': {
    arn: 'internet-gateway/*',
    create: ['ec2:AttachInternetGateway'],
    update: ['ec2:DetachInternetGateway', 'ec2:AttachInternetGateway'],
    delete: ['ec2:DetachInternetGateway'],
  },
  'AWS::EC2::RouteTable': {
    arn: 'route-table/*',
    create: ['ec2:CreateRouteTable'],
    update: [],
    delete: ['ec2:DeleteRouteTable'],
  },
  'AWS::EC2::Route': {
    arn: 'route-table/*',
    create: ['ec2:CreateRoute'],
    update: ['ec2:ReplaceRoute'],
    delete: ['ec2:DeleteRoute'],
  },
  'AWS::EC2::SubnetRouteTableAssociation': {
    arn: 'route-table/*',
    create: ['ec2:AssociateRouteTable'],
    update: ['ec2:ReplaceRouteTableAssociation'],
    delete: ['ec2:DisassociateRouteTable'],
  },
  'AWS::EC2::EIP': {
    arn: 'elastic-ip/*',
    create: ['ec2:AllocateAddress'],
    update: [],
    delete: ['ec2:ReleaseAddress'],
  },
  'AWS::EC2::NatGateway': {
    arn: 'natgateway/*',
    create: ['ec2:CreateNatGateway'],
    update: [],
    delete: ['ec2:DeleteNatGateway'],
  },
  'AWS::EC2::SecurityGroup': {
    arn: 'security-group/*',
    create: [
      'ec2:CreateSecurityGroup',
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupEgress',
    ],
    update: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
    delete: ['ec2:DeleteSecurityGroup'],
  },
  'AWS::EC2::Instance': {
    arn: 'instance/*',
    create: ['ec2:RunInstances'],
    update: ['ec2:StopInstances', 'ec2:ModifyInstanceAttribute', 'ec2:StartInstances'],
    delete: ['ec2:TerminateInstances'],
  },
  'AWS::EC2::VPCEndpoint': {
    arn: 'vpc-endpoint/*',
    create: ['ec2:CreateVpcEndpoint'],
    update: ['ec2:ModifyVpcEndpoint'],
    delete: ['ec2:DeleteVpcEndpoints'],
  },
};

/**
 * Service-linked roles a first use makes in the caller's name: iam:CreateServiceLinkedRole on the
 * role's path, with iam:AWSServiceName (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html#service-linked-role-permissions).
 * - ELB: the first load balancer of an account
 *   (https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html);
 * - API Gateway: the first custom domain name with an ACM certificate
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/using-service-linked-roles.html).
 */
export const SERVICE_LINKED_ROLES = {
  elasticloadbalancing: {
    service: 'elasticloadbalancing.amazonaws.com',
    role: 'AWSServiceRoleForElasticLoadBalancing',
  },
  apigateway: { service: 'ops.apigateway.amazonaws.com', role: 'AWSServiceRoleForAPIGateway' },
} as const;

/**
 * Synthetics makes (and, with DeleteLambda, deletes) the canary's Lambda function and layer with
 * the caller's permissions: the actions CloudWatchSyntheticsFullAccess grants for it
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_Roles.html,
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/CloudWatchSyntheticsFullAccess.html).
 */
/**
 * A function made or changed with layers needs lambda:GetLayerVersion on each layer version
 * (https://docs.aws.amazon.com/lambda/latest/dg/adding-layers.html: "lambda:GetLayerVersion
 * permission" for the layer versions): the canary's own layer and the runtime's, which Synthetics
 * publishes from an account of AWS's (any 12 digits here: the account differs per region).
 */
export const SYNTHETICS_RUNTIME_LAYER = (region: string) =>
  `arn:aws:lambda:${region}:999999999999:layer:Synthetics:1`;

export const CANARY_FUNCTION_ACTIONS = {
  create: {
    function: ['lambda:CreateFunction', 'lambda:PublishVersion', 'lambda:AddPermission'],
    layer: ['lambda:PublishLayerVersion'],
  },
  // UpdateCanary: new code is a new layer version and function code, other settings the function's configuration.
  updateCode: {
    function: ['lambda:UpdateFunctionCode', 'lambda:PublishVersion'],
    layer: ['lambda:PublishLayerVersion'],
  },
  updateConfiguration: {
    function: ['lambda:UpdateFunctionConfiguration', 'lambda:PublishVersion'],
    layer: [],
  },
  delete: { function: ['lambda:DeleteFunction'], layer: ['lambda:DeleteLayerVersion'] },
} as const;
