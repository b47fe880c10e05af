import { GetRestApisCommand, APIGatewayClient } from '@aws-sdk/client-api-gateway';
import {
  CreateVpcEndpointCommand,
  DeleteKeyPairCommand,
  DescribeVpcsCommand,
  EC2Client,
  CreateKeyPairCommand,
} from '@aws-sdk/client-ec2';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Route53Client, UpdateTrafficPolicyInstanceCommand } from '@aws-sdk/client-route-53';
import {
  CreateStackCommand,
  CloudFormationClient,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { zipSync, strToU8 } from 'fflate';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, type Policy } from '../support/fake-cloud/authz/evaluate.js';
import {
  createFakeCloud,
  FakeEc2,
  FakeIam,
  FakeLambda,
  type FakeCloud,
} from '../support/fake-cloud/index.js';

const REGION = 'sa-east-1';
let cloud: FakeCloud;
beforeEach(() => {
  cloud = createFakeCloud();
});
afterEach(() => cloud.uninstall());

const refused = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as Error & { $metadata: { httpStatusCode: number } };
  }
  throw new Error('the call was allowed');
};

describe('the fake cloud authorizes every call as drctl iam-policy’s principal', () => {
  it('refuses an EC2 call outside the policy with UnauthorizedOperation and an encoded message', async () => {
    const e = await refused(
      new EC2Client({ region: REGION }).send(new DeleteKeyPairCommand({ KeyName: 'someone-elses' })),
    );
    expect(e.name).toBe('UnauthorizedOperation');
    expect(e.$metadata.httpStatusCode).toBe(403);
    expect(e.message).toMatch(
      /^You are not authorized to perform this operation\. User: arn:aws:iam::111122223333:user\/drctl is not authorized to perform: ec2:DeleteKeyPair on resource: arn:aws:ec2:sa-east-1:111122223333:key-pair\/someone-elses because no identity-based policy allows the ec2:DeleteKeyPair action\. Encoded authorization failure message: \S+$/,
    );
  });

  it('refuses the right action on a wrong ARN (IAM AccessDenied) and in another region', async () => {
    const iam = new IAMClient({ region: 'us-east-1' });
    const e = await refused(
      iam.send(new CreateRoleCommand({ RoleName: 'admin', AssumeRolePolicyDocument: '{}' })),
    );
    expect(e.name).toBe('AccessDenied');
    expect(e.message).toContain('iam:CreateRole on resource: arn:aws:iam::111122223333:role/admin');
    // Reads are allowed on "*" only in the deployment's regions (aws:RequestedRegion).
    await new EC2Client({ region: REGION }).send(new DescribeVpcsCommand({}));
    const other = await refused(new EC2Client({ region: 'eu-west-1' }).send(new DescribeVpcsCommand({})));
    expect(other.name).toBe('UnauthorizedOperation');
    const apigw = await refused(
      new APIGatewayClient({ region: 'eu-west-1' }).send(new GetRestApisCommand({})),
    );
    expect(apigw.name).toBe('AccessDeniedException');
    expect(apigw.$metadata.httpStatusCode).toBe(403);
  });

  it('refuses a create without the deployment tag the policy requires (aws:RequestTag)', async () => {
    const ec2 = new EC2Client({ region: REGION });
    const input = {
      VpcEndpointType: 'Interface' as const,
      VpcId: 'vpc-1',
      ServiceName: `com.amazonaws.${REGION}.execute-api`,
    };
    const untagged = await refused(ec2.send(new CreateVpcEndpointCommand(input)));
    expect(untagged.name).toBe('UnauthorizedOperation');
    expect(untagged.message).toContain(
      'ec2:CreateVpcEndpoint on resource: arn:aws:ec2:sa-east-1:111122223333:vpc-endpoint/*',
    );
    // With the tag, IAM lets it through (the fake's EC2 then refuses the unknown VPC).
    const tagged = await refused(
      ec2.send(
        new CreateVpcEndpointCommand({
          ...input,
          TagSpecifications: [
            { ResourceType: 'vpc-endpoint', Tags: [{ Key: 'drctl:deployment', Value: 'drctl' }] },
          ],
        }),
      ),
    );
    expect(tagged.name).not.toBe('UnauthorizedOperation');
  });

  it('tags a key pair at create only as part of that create (ec2:CreateAction)', async () => {
    const ec2 = new EC2Client({ region: REGION });
    await ec2.send(
      new CreateKeyPairCommand({
        KeyName: 'drctl-sa-east-1',
        TagSpecifications: [
          { ResourceType: 'key-pair', Tags: [{ Key: 'drctl:deployment', Value: 'drctl' }] },
        ],
      }),
    );
    expect(cloud.model(FakeEc2).region(REGION).keyPairs.has('drctl-sa-east-1')).toBe(true);
    const grants = cloud.authorizer.grants.filter((g) => g.action === 'ec2:CreateTags');
    expect(grants).toHaveLength(1);
  });

  it('UpdateTrafficPolicyInstance is authorized on the instance alone, not on the policy it moves to', async () => {
    cloud.authorizer.policies = [
      {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'route53:UpdateTrafficPolicyInstance',
            Resource: 'arn:aws:route53:::trafficpolicyinstance/*',
          },
        ],
      },
    ];
    const e = await refused(
      new Route53Client({ region: 'us-east-1' }).send(
        new UpdateTrafficPolicyInstanceCommand({
          Id: 'no-such-instance',
          TTL: 60,
          TrafficPolicyId: 'some-policy',
          TrafficPolicyVersion: 2,
        }),
      ),
    );
    expect(e.name).toBe('NoSuchTrafficPolicyInstance');
    expect(cloud.authorizer.refusals).toEqual([]);
  });

  it('an explicit Deny wins over drctl’s Allow', async () => {
    cloud.authorizer.policies = [
      ...cloud.authorizer.policies,
      { Statement: [{ Effect: 'Deny', Action: 'ec2:Describe*', Resource: '*' }] },
    ];
    const e = await refused(new EC2Client({ region: REGION }).send(new DescribeVpcsCommand({})));
    expect(e.message).toContain('with an explicit deny in an identity-based policy');
  });

  it('PutMetricData is checked with the cloudwatch:namespace condition key', async () => {
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html
    cloud.authorizer.policies = [
      {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'cloudwatch:PutMetricData',
            Resource: '*',
            Condition: { StringEquals: { 'cloudwatch:namespace': 'drctl' } },
          },
        ],
      },
    ];
    const cw = new CloudWatchClient({ region: REGION });
    const put = (Namespace: string) =>
      cw.send(new PutMetricDataCommand({ Namespace, MetricData: [{ MetricName: 'TrafficHold', Value: 1 }] }));
    await put('drctl');
    const e = await refused(put('someone-else'));
    expect(e.name).toBe('AccessDenied');
    expect(e.$metadata.httpStatusCode).toBe(403);
    expect(e.message).toContain('cloudwatch:PutMetricData');
  });

  it('GetFunction answers without Tags unless lambda:ListTags is allowed', async () => {
    cloud.authorizer.policies = [
      {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['lambda:CreateFunction', 'lambda:GetFunction', 'lambda:TagResource', 'iam:*'],
            Resource: '*',
          },
        ],
      },
    ];
    {
      const iam = new IAMClient({ region: 'us-east-1' });
      const trust = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      });
      const role = await iam.send(new CreateRoleCommand({ RoleName: 'r', AssumeRolePolicyDocument: trust }));
      await cloud.clock.sleep(60_000);
      const { CreateFunctionCommand } = await import('@aws-sdk/client-lambda');
      const fn = new LambdaClient({ region: REGION });
      await fn.send(
        new CreateFunctionCommand({
          FunctionName: 'f',
          Role: role.Role!.Arn,
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Code: { ZipFile: zipSync({ 'index.js': strToU8('exports.handler = async () => 1;') }) },
          Tags: { 'drctl:deployment': 'drctl' },
        }),
      );
      expect((await fn.send(new GetFunctionCommand({ FunctionName: 'f' }))).Tags).toBeUndefined();
      cloud.authorizer.policies = [
        ...cloud.authorizer.policies,
        { Statement: [{ Effect: 'Allow', Action: 'lambda:ListTags', Resource: '*' }] },
      ];
      expect((await fn.send(new GetFunctionCommand({ FunctionName: 'f' }))).Tags).toEqual({
        'drctl:deployment': 'drctl',
      });
      expect(cloud.model(FakeLambda).functions.size).toBe(1);
    }
  });

  it('a first load balancer needs iam:CreateServiceLinkedRole for ELB’s role, once per account', async () => {
    const iam = cloud.model(FakeIam);
    expect(iam.serviceLinkedRoles.size).toBe(0);
    cloud.authorizer.policies = [
      { Statement: [{ Effect: 'Allow', Action: 'elasticloadbalancing:*', Resource: '*' }] },
    ];
    const { ElasticLoadBalancingV2Client, CreateLoadBalancerCommand } =
      await import('@aws-sdk/client-elastic-load-balancing-v2');
    const elb = new ElasticLoadBalancingV2Client({ region: REGION });
    const e = await refused(
      elb.send(new CreateLoadBalancerCommand({ Name: 'x', Type: 'network', Subnets: ['subnet-1'] })),
    );
    expect(e.name).toBe('AccessDenied');
    expect(e.message).toContain(
      'iam:CreateServiceLinkedRole on resource: arn:aws:iam::111122223333:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing',
    );
    expect(iam.serviceLinkedRoles.size).toBe(0);
  });

  it('CloudFormation builds the template in the caller’s name: a refused resource rolls the stack back', async () => {
    // drctl's policy lets CloudFormation create EC2 resources only when called via CloudFormation;
    // without ec2:CreateVpc the stack fails on the VPC.
    const without = cloud.authorizer.policies.map((p) => ({
      ...p,
      Statement: (p.Statement as Policy['Statement'][]).flat().map((s) => {
        const st = s as { Action?: string[] };
        return st.Action ? { ...s, Action: st.Action.filter((a) => a !== 'ec2:CreateVpc') } : s;
      }),
    })) as Policy[];
    cloud.authorizer.policies = without;
    const cfn = new CloudFormationClient({ region: REGION });
    await cfn.send(
      new CreateStackCommand({
        StackName: 'drctl-vpc',
        TemplateBody: readFileSync(new URL('../../templates/vpc.template.json', import.meta.url), 'utf8'),
        Parameters: [{ ParameterKey: 'KeyName', ParameterValue: 'drctl-sa-east-1' }],
        Tags: [{ Key: 'drctl:deployment', Value: 'drctl' }],
      }),
    );
    await cloud.clock.sleep(600_000);
    const s = (await cfn.send(new DescribeStacksCommand({ StackName: 'drctl-vpc' }))).Stacks![0]!;
    expect(s.StackStatus).toBe('ROLLBACK_COMPLETE');
    expect(s.StackStatusReason).toContain('failed to create');
    expect(cloud.model(FakeEc2).region(REGION).vpcs.size).toBe(0);
  });
});

describe('the IAM evaluator', () => {
  const allow = (s: Omit<Policy['Statement'] & object, never>): Policy[] => [{ Statement: [s as never] }];
  const req = (context: Record<string, string | string[]> = {}) => ({
    action: 'ec2:CreateTags',
    resource: 'arn:aws:ec2:r:1:vpc/v',
    context,
  });

  it('matches actions without case and resources with case, * and ?', () => {
    expect(
      evaluate(allow({ Effect: 'Allow', Action: 'EC2:create*', Resource: 'arn:aws:ec2:r:1:vpc/?' }), req()),
    ).toBe('allow');
    expect(
      evaluate(allow({ Effect: 'Allow', Action: 'ec2:*', Resource: 'arn:aws:ec2:r:1:VPC/*' }), req()),
    ).toBe('implicit-deny');
    expect(evaluate(allow({ Effect: 'Allow', NotAction: 'ec2:Delete*', Resource: '*' }), req())).toBe(
      'allow',
    );
  });

  it('a condition on a key the request lacks is false, except IfExists, Null, ForAllValues and the negated operators', () => {
    const cond = (Condition: Record<string, Record<string, string | string[]>>) =>
      evaluate(allow({ Effect: 'Allow', Action: '*', Resource: '*', Condition }), req());
    expect(cond({ StringEquals: { 'aws:RequestTag/a': 'x' } })).toBe('implicit-deny');
    expect(cond({ StringEqualsIfExists: { 'aws:RequestTag/a': 'x' } })).toBe('allow');
    expect(cond({ Null: { 'aws:RequestTag/a': 'true' } })).toBe('allow');
    expect(cond({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a'] } })).toBe('allow');
    expect(cond({ 'ForAnyValue:StringEquals': { 'aws:CalledVia': 'cloudformation.amazonaws.com' } })).toBe(
      'implicit-deny',
    );
    // A condition that the key must NOT match holds when the key is absent.
    expect(cond({ StringNotLike: { 'aws:RequestTag/a': 'x*' } })).toBe('allow');
    expect(cond({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:s3:::b' } })).toBe('allow');
  });

  it('ORs the values of a key, ANDs keys and operators, compares key names without case', () => {
    const c = { 'AWS:RequestedRegion': ['a', 'b'] };
    expect(
      evaluate(
        allow({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: c } }),
        req({ 'aws:RequestedRegion': 'b' }),
      ),
    ).toBe('allow');
    expect(
      evaluate(
        allow({
          Effect: 'Allow',
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: c, StringLike: { 'aws:RequestTag/x': 'y*' } },
        }),
        req({ 'aws:RequestedRegion': 'b', 'aws:RequestTag/x': 'z' }),
      ),
    ).toBe('implicit-deny');
    expect(
      evaluate(
        allow({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringNotEquals: c } }),
        req({ 'aws:RequestedRegion': 'c' }),
      ),
    ).toBe('allow');
  });

  it('refuses to guess an operator it does not model', () => {
    expect(() =>
      evaluate(
        allow({
          Effect: 'Allow',
          Action: '*',
          Resource: '*',
          Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020' } },
        }),
        req(),
      ),
    ).toThrow(/not modelled/);
  });
});
