import * as apigwSdk from '@aws-sdk/client-api-gateway';
import { readFileSync, readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig, type Config, configSchema } from '../../src/config.js';
import {
  APIGATEWAY_ROUTES,
  PERMISSIONS,
  SDK_CLIENT_OF,
  VPC_STACK_ACTIONS,
  iamPolicy,
  matches,
  policySize,
  splitPolicy,
  MANAGED_POLICY_MAX_CHARS,
  type PolicyDocument,
  type PolicyStatement,
} from '../../src/iam.js';
import { FakeRoute53, type CallLogEntry } from '../support/fake-cloud/index.js';
import { Capture, Harness } from '../support/harness.js';
import { main } from '../../src/cli.js';

// An oracle independent of src/iam.ts: which IAM action authorizes each SDK command the fake cloud
// logged (its `service` is the IAM prefix), per the Service Authorization Reference
// (https://docs.aws.amazon.com/service-authorization/latest/reference/). Only the non-obvious ones.
const ACTION_FOR: Record<string, string> = {
  's3:ListObjectsV2': 's3:ListBucket',
  's3:HeadBucket': 's3:ListBucket',
  's3:PutPublicAccessBlock': 's3:PutBucketPublicAccessBlock',
  's3:DeleteObjects': 's3:DeleteObject',
  's3:PutBucketEncryption': 's3:PutEncryptionConfiguration',
  's3:PutBucketLifecycleConfiguration': 's3:PutLifecycleConfiguration',
  's3:GetBucketEncryption': 's3:GetEncryptionConfiguration',
  'lambda:Invoke': 'lambda:InvokeFunction',
};

/** Tags passed to a create call are authorized as this action too. */
const TAG_ON_CREATE: Record<string, string> = {
  'cloudformation:CreateStack': 'cloudformation:TagResource',
  'elasticloadbalancing:CreateLoadBalancer': 'elasticloadbalancing:AddTags',
  'elasticloadbalancing:CreateTargetGroup': 'elasticloadbalancing:AddTags',
  'elasticloadbalancing:CreateListener': 'elasticloadbalancing:AddTags',
  'iam:CreateRole': 'iam:TagRole',
  'acm:RequestCertificate': 'acm:AddTagsToCertificate',
  'acm-pca:CreateCertificateAuthority': 'acm-pca:TagCertificateAuthority',
  'cloudwatch:PutMetricAlarm': 'cloudwatch:TagResource',
  'synthetics:CreateCanary': 'synthetics:TagResource',
  'lambda:CreateFunction': 'lambda:TagResource',
};

interface Check {
  action: string;
  /** The ARN the call acts on, when the input names it; otherwise only the action is checked. */
  resource?: string;
  context: Record<string, string | string[]>;
}

const ACCOUNT = '111122223333';

function inputTags(input: any): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (tags: unknown) => {
    if (Array.isArray(tags))
      for (const t of tags)
        if (t?.Key) out[t.Key] = t.Value;
        else if (tags && typeof tags === 'object') Object.assign(out, tags);
  };
  add(input?.Tags);
  add(input?.tags);
  for (const spec of input?.TagSpecifications ?? []) add(spec.Tags);
  return out;
}

function apiGatewayResource(call: CallLogEntry): { verb: string; path: string } {
  const schema = (apigwSdk as any)[`${call.command}$`];
  const [verb, template] = schema[3].http as [string, string];
  const path = template
    .split('?')[0]!
    .replace(/\{([^}]+)\}/g, (_m, label: string) => encodeURIComponent(String((call.input as any)[label])));
  return { verb, path };
}

/** What IAM checks for one logged call: its action, its resource when known, the request context. */
function checksFor(call: CallLogEntry): Check[] {
  const input = call.input as any;
  const region = call.region === 'global' ? 'us-east-1' : call.region;
  const tags = inputTags(input);
  const context: Record<string, string | string[]> = { 'aws:RequestedRegion': region };
  for (const [k, v] of Object.entries(tags)) context[`aws:RequestTag/${k}`] = v;
  const svc = call.service;
  if (svc === 'apigateway') {
    const { verb, path } = apiGatewayResource(call);
    return [{ action: `apigateway:${verb}`, resource: `arn:aws:apigateway:${region}::${path}`, context }];
  }
  const key = `${svc}:${call.command}`;
  const action = ACTION_FOR[key] ?? key;
  const arn = (rest: string) => `arn:aws:${svc}:${region}:${ACCOUNT}:${rest}`;
  let resource: string | undefined;
  if (svc === 's3' && input.Bucket) {
    const key = input.Key ?? input.Delete?.Objects?.[0]?.Key;
    resource = `arn:aws:s3:::${input.Bucket}${key ? `/${key}` : ''}`;
  } else if (svc === 'lambda' && input.FunctionName) resource = arn(`function:${input.FunctionName}`);
  else if (svc === 'iam' && input.RoleName) resource = `arn:aws:iam::${ACCOUNT}:role/${input.RoleName}`;
  else if (svc === 'synthetics' && input.Name) resource = arn(`canary:${input.Name}`);
  else if (svc === 'cloudwatch' && (input.AlarmName || input.AlarmNames?.length === 1))
    resource = arn(`alarm:${input.AlarmName ?? input.AlarmNames[0]}`);
  else if (svc === 'cloudwatch' && input.ResourceARN) resource = input.ResourceARN;
  else if (svc === 'cloudformation' && input.StackName)
    resource = String(input.StackName).startsWith('arn:')
      ? input.StackName
      : arn(`stack/${input.StackName}/id`);
  else if (svc === 'elasticloadbalancing' && call.command === 'CreateLoadBalancer')
    resource = arn(`loadbalancer/net/${input.Name}/id`);
  else if (svc === 'elasticloadbalancing' && call.command === 'CreateTargetGroup')
    resource = arn(`targetgroup/${input.Name}/id`);
  else if (svc === 'elasticloadbalancing')
    resource = input.ListenerArn ?? input.LoadBalancerArn ?? input.TargetGroupArn;
  else if (svc === 'acm-pca' && input.CertificateAuthorityArn) resource = input.CertificateAuthorityArn;
  else if (svc === 'acm' && input.CertificateArn) resource = input.CertificateArn;
  else if (svc === 'route53' && input.HostedZoneId && !call.command.startsWith('List'))
    resource = `arn:aws:route53:::hostedzone/${String(input.HostedZoneId).replace('/hostedzone/', '')}`;
  else if (svc === 'route53' && input.HealthCheckId)
    resource = `arn:aws:route53:::healthcheck/${input.HealthCheckId}`;
  else if (svc === 'route53' && call.command === 'GetChange')
    resource = `arn:aws:route53:::change/${String(input.Id).replace('/change/', '')}`;
  else if (svc === 'ec2' && call.command === 'CreateKeyPair') resource = arn(`key-pair/${input.KeyName}`);
  else if (svc === 'ec2' && input.GroupId) resource = arn(`security-group/${input.GroupId}`);
  else if (svc === 'ec2' && input.RouteTableId) resource = arn(`route-table/${input.RouteTableId}`);
  else if (svc === 'ec2' && /VpcPeeringConnection$/.test(call.command) && input.VpcPeeringConnectionId)
    resource = arn(`vpc-peering-connection/${input.VpcPeeringConnectionId}`);

  const checks: Check[] = [{ action, ...(resource ? { resource } : {}), context }];
  if (Object.keys(tags).length && TAG_ON_CREATE[key])
    checks.push({ action: TAG_ON_CREATE[key], ...(resource ? { resource } : {}), context });
  if (svc === 'ec2' && input.TagSpecifications)
    checks.push({ action: 'ec2:CreateTags', context: { ...context, 'ec2:CreateAction': call.command } });
  if (key === 'lambda:CreateFunction')
    checks.push({
      action: 'iam:PassRole',
      resource: input.Role,
      context: { ...context, 'iam:PassedToService': 'lambda.amazonaws.com' },
    });
  if (key === 'synthetics:CreateCanary') {
    // Synthetics passes the execution role to Lambda and makes the canary's function with our credentials.
    checks.push({
      action: 'iam:PassRole',
      resource: input.ExecutionRoleArn,
      context: { ...context, 'iam:PassedToService': 'lambda.amazonaws.com' },
    });
    checks.push({
      action: 'lambda:CreateFunction',
      resource: arn(`function:cwsyn-${input.Name}-0b1c2d3e`).replace(':synthetics:', ':lambda:'),
      context,
    });
  }
  return checks;
}

/**
 * Whether one statement allows the check. Conditions on keys the check's context has are
 * evaluated; aws:ResourceTag (the resource's tags, which the call log does not carry) is taken as
 * met, and so is any other key the context lacks, except aws:CalledVia and aws:RequestTag: a call
 * drctl sends itself is not "via CloudFormation", and a create without the tag is refused.
 */
function statementAllows(s: PolicyStatement, c: Check): boolean {
  if (!s.Action.some((a) => matches(a, c.action))) return false;
  if (c.resource && !s.Resource.some((r) => matches(r, c.resource!, false))) return false;
  for (const [operator, block] of Object.entries(s.Condition ?? {})) {
    for (const [key, wanted] of Object.entries(block)) {
      const want = Array.isArray(wanted) ? wanted : [wanted];
      const have = c.context[key];
      if (have === undefined) {
        if (key === 'aws:CalledVia' || key.startsWith('aws:RequestTag/')) return false;
        continue;
      }
      const values = Array.isArray(have) ? have : [have];
      const ok = values.some((v) => want.includes(v));
      if (!ok) return false;
      if (!['StringEquals', 'ForAnyValue:StringEquals'].includes(operator))
        throw new Error(`test evaluator does not know condition operator ${operator}`);
    }
  }
  return true;
}

const allows = (doc: PolicyDocument, c: Check) => doc.Statement.some((s) => statementAllows(s, c));

/** SDK commands (without "Command") a module under src/ imports or pages, as `<IAM prefix>:<command>`. */
function importedCommands(path: string): Set<string> {
  const clientToPrefix = new Map(Object.entries(SDK_CLIENT_OF).map(([prefix, client]) => [client, prefix]));
  const src = readFileSync(new URL(`../../src/${path}`, import.meta.url), 'utf8');
  const out = new Set<string>();
  for (const m of src.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z0-9-]+)'/g)) {
    const prefix = clientToPrefix.get(m[2]!);
    for (const part of m[1]!.split(',')) {
      const p = part.trim();
      if (!p || p.startsWith('type ')) continue;
      const name = p.split(/\s+as\s+/)[0]!;
      // A paginator (`paginateDescribeRouteTables`) sends its command, page after page.
      const command = name.endsWith('Command')
        ? name.slice(0, -'Command'.length)
        : name.startsWith('paginate')
          ? name.slice('paginate'.length)
          : undefined;
      if (!command) continue;
      out.add(`${prefix ?? `unknown-client-${m[2]}`}:${command}`);
    }
  }
  return out;
}

function listedCommands(name: string): Set<string> {
  const entry = PERMISSIONS.find((p) => p.name === name);
  return new Set((entry?.grants ?? []).flatMap((g) => (g.calls ?? []).map((c) => `${g.service}:${c}`)));
}

/** Every .ts module under src/, as a path relative to src/. */
function sourceFiles(): string[] {
  const root = new URL('../../src/', import.meta.url);
  return (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.split('\\').join('/'))
    .sort();
}

describe('the IAM policy (drctl iam-policy)', () => {
  let h: Harness | undefined;
  afterEach(() => {
    h?.cleanup();
    h = undefined;
  });

  it('lists for each step and command exactly the AWS commands its modules import (so it cannot drift)', () => {
    // Which PERMISSIONS entry answers for a module: steps by file name, the drill's modules together.
    // Shared AWS helpers answer to every step that uses them.
    const SHARED: Record<string, string[]> = {
      'aws/route53.ts': ['hosted-zone', 'traffic-policy'],
      'aws/route53-records.ts': ['hosted-zone', 'traffic-policy', 'verify'],
      'aws/iam-role.ts': ['canary', 'probe'],
    };
    const owner = (path: string): string[] | undefined => {
      if (path.startsWith('steps/')) return [path.slice('steps/'.length).replace(/\.ts$/, '')];
      if (path.startsWith('drill/')) return ['failover-test'];
      if (path.startsWith('verify/')) return ['verify'];
      if (path === 'state-s3.ts') return ['state-s3'];
      if (path === 'aws/identity.ts') return ['caller-identity'];
      return SHARED[path];
    };
    const imported = new Map<string, Set<string>>();
    const orphans: string[] = [];
    for (const path of sourceFiles()) {
      const commands = importedCommands(path);
      if (!commands.size) continue;
      const names = owner(path);
      if (!names) {
        orphans.push(`src/${path}`);
        continue;
      }
      for (const name of names) {
        const set = imported.get(name) ?? new Set<string>();
        commands.forEach((c) => set.add(c));
        imported.set(name, set);
      }
    }
    expect(orphans, 'modules that send AWS commands but have no entry in src/iam.ts').toEqual([]);
    for (const [name, commands] of imported) {
      const listed = listedCommands(name);
      expect(
        [...commands].filter((c) => !listed.has(c)),
        `commands missing from PERMISSIONS["${name}"] in src/iam.ts`,
      ).toEqual([]);
      expect(
        [...listed].filter((c) => !commands.has(c)),
        `PERMISSIONS["${name}"] lists commands its modules never send`,
      ).toEqual([]);
    }
    expect([...imported.keys()]).toEqual(expect.arrayContaining(['canary', 'vpc', 'failover-test']));
    expect(PERMISSIONS.map((p) => p.name).filter((n) => !imported.has(n))).toEqual([]);
  });

  it('knows the HTTP method and path of every API Gateway command, as the SDK sends them', () => {
    for (const [command, [verb, path]] of Object.entries(APIGATEWAY_ROUTES)) {
      const schema = (apigwSdk as any)[`${command}$`];
      expect(schema, command).toBeDefined();
      const [sdkVerb, sdkPath] = schema[3].http as [string, string];
      expect(`${verb} ${path}`, command).toBe(`${sdkVerb} ${sdkPath.split('?')[0]}`);
    }
  });

  it('allows every call the fake cloud saw in a full up, failover-test and down, with tags on create', async () => {
    h = new Harness();
    await h.ok(['up']);
    // Both drill modes: invert the health check, and a real outage (revoke the endpoint's 443 ingress).
    for (const mode of ['invert', 'outage']) {
      const drill = await h.run(['--json', 'failover-test', '--mode', mode]);
      expect([0, 3], `failover-test --mode ${mode}: ${drill.stderr}`).toContain(drill.code);
    }
    const sent = new Set(h.cloud.calls.map((c) => `${c.service}:${c.command}`));
    for (const c of [
      'route53:UpdateHealthCheck',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupIngress',
      'lambda:Invoke',
    ])
      expect(sent).toContain(c);
    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);

    const doc = iamPolicy(defaultConfig(), { account: ACCOUNT });
    const denied = new Set<string>();
    for (const call of h.cloud.calls) {
      for (const c of checksFor(call)) {
        if (!allows(doc, c))
          denied.add(
            `${call.service}:${call.command} needs ${c.action} on ${c.resource ?? '(any)'} ${JSON.stringify(c.context)}`,
          );
      }
    }
    expect([...denied]).toEqual([]);
    // Every step ran, so every step's resources were checked.
    const services = new Set(h.cloud.calls.map((c) => c.service));
    for (const s of [
      'ec2',
      'cloudformation',
      'apigateway',
      'acm',
      'acm-pca',
      'elasticloadbalancing',
      'route53',
      'synthetics',
      'cloudwatch',
      'iam',
      's3',
    ])
      expect(services).toContain(s);
  }, 60_000);

  it.each([
    // Traffic policies route to NLBs only, so they go with the regional domain mode.
    ['private custom domain, a secondary canary', { domainMode: 'private', canary: { secondary: true } }],
    ['traffic policy', { routing: 'traffic-policy' }],
    [
      'active-active (a canary, alarm and health check per region, latency records)',
      { topology: 'active-active' },
    ],
  ])(
    'also covers the other code paths: %s',
    async (_, config) => {
      h = new Harness();
      h.writeConfig(config);
      // AWS documents traffic flow for public zones only; the fake can accept it, to reach that code.
      h.cloud.model(FakeRoute53).privateZoneTrafficPolicy = 'accept';
      await h.ok(['up']);
      await h.ok(['down', '--yes']);
      const doc = iamPolicy(configSchema.parse(config), { account: ACCOUNT });
      const denied = h.cloud.calls
        .flatMap((call) => checksFor(call).map((c) => [call, c] as const))
        .filter(([, c]) => !allows(doc, c))
        .map(([call, c]) => `${call.service}:${call.command} needs ${c.action} on ${c.resource ?? '(any)'}`);
      expect([...new Set(denied)]).toEqual([]);
    },
    60_000,
  );

  it('active-active: allows the drill of either region in both modes (a probe in each VPC, either region faulted), and the default policy does not', async () => {
    h = new Harness();
    const config = { topology: 'active-active' };
    h.writeConfig(config);
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000);
    for (const region of ['primary', 'secondary'])
      for (const mode of ['invert', 'outage']) {
        const drill = await h.run(['--json', 'failover-test', '--mode', mode, '--region', region]);
        expect([0, 3], `failover-test --mode ${mode} --region ${region}: ${drill.stderr}`).toContain(
          drill.code,
        );
      }
    await h.ok(['down', '--yes']);
    const calls = h.cloud.calls;
    const denied = (doc: PolicyDocument) =>
      new Set(
        calls
          .flatMap((call) => checksFor(call).map((c) => [call, c] as const))
          .filter(([, c]) => !allows(doc, c))
          .map(([call, c]) => `${call.region} ${call.service}:${call.command} needs ${c.action}`),
      );
    expect([...denied(iamPolicy(configSchema.parse(config), { account: ACCOUNT }))]).toEqual([]);
    // The active-passive policy keeps the probe to the secondary and the fault to the primary.
    const ap = [...denied(iamPolicy(defaultConfig(), { account: ACCOUNT }))];
    expect(ap).toContain('sa-east-1 lambda:Invoke needs lambda:InvokeFunction');
    expect(ap).toContain('us-west-1 ec2:RevokeSecurityGroupIngress needs ec2:RevokeSecurityGroupIngress');
  }, 60_000);

  it('the read-only policy (iam-policy --read-only) allows every call of verify, and no change', async () => {
    h = new Harness();
    await h.ok(['up']);
    h.cloud.resetCalls();
    const r = await h.run(['--json', 'verify']);
    expect([0, 3], r.stderr).toContain(r.code);
    expect(h.cloud.calls.length).toBeGreaterThan(10);
    const doc = iamPolicy(defaultConfig(), { account: ACCOUNT, readOnly: true });
    const denied = h.cloud.calls
      .flatMap((call) => checksFor(call).map((c) => [call, c] as const))
      .filter(([, c]) => !allows(doc, c))
      .map(([call, c]) => `${call.service}:${call.command} needs ${c.action} on ${c.resource ?? '(any)'}`);
    expect([...new Set(denied)]).toEqual([]);
    const actions = [...new Set(doc.Statement.flatMap((s) => s.Action))];
    // API Gateway's reads are HTTP GETs on its resource paths.
    expect(actions.filter((a) => !/^([a-z0-9-]+:(Describe|Get|List|Head)|apigateway:GET$)/.test(a))).toEqual([
      'lambda:InvokeFunction',
    ]);
    const out = new Capture();
    expect(
      await main(['node', 'drctl', 'iam-policy', '--read-only'], {
        stdout: out,
        stderr: new Capture(),
        cwd: h.dir,
      }),
    ).toBe(0);
    expect(out.text).toMatch(/lambda:InvokeFunction/);
    expect(out.text).not.toMatch(/CreateStack|DeleteStack|PutMetricAlarm/);
  }, 60_000);

  it('refuses what drctl does not do: another stack, another bucket, untagged endpoints, other regions', () => {
    const doc = iamPolicy(defaultConfig(), { account: ACCOUNT });
    const ctx = (region: string, extra: Record<string, string> = {}) => ({
      'aws:RequestedRegion': region,
      ...extra,
    });
    const refused: Check[] = [
      {
        action: 'cloudformation:DeleteStack',
        resource: `arn:aws:cloudformation:sa-east-1:${ACCOUNT}:stack/prod-vpc/x`,
        context: ctx('sa-east-1'),
      },
      { action: 's3:DeleteBucket', resource: 'arn:aws:s3:::someone-elses-bucket', context: ctx('sa-east-1') },
      {
        action: 'ec2:CreateVpcEndpoint',
        resource: `arn:aws:ec2:sa-east-1:${ACCOUNT}:vpc-endpoint/vpce-1`,
        context: ctx('sa-east-1'),
      },
      { action: 'ec2:DescribeVpcs', context: ctx('eu-west-1') },
      { action: 'ec2:CreateVpc', context: ctx('sa-east-1') },
      {
        action: 'iam:PassRole',
        resource: `arn:aws:iam::${ACCOUNT}:role/Admin`,
        context: ctx('us-east-1', { 'iam:PassedToService': 'lambda.amazonaws.com' }),
      },
      {
        action: 'iam:PutRolePolicy',
        resource: `arn:aws:iam::${ACCOUNT}:role/Admin`,
        context: ctx('us-east-1'),
      },
      {
        action: 'lambda:CreateFunction',
        resource: `arn:aws:lambda:sa-east-1:${ACCOUNT}:function:anything`,
        context: ctx('sa-east-1'),
      },
    ];
    for (const c of refused) expect(allows(doc, c), `${c.action} ${c.resource ?? ''}`).toBe(false);
    // ...while the same through CloudFormation, or tagged, is allowed.
    expect(
      allows(doc, {
        action: 'ec2:CreateVpc',
        context: { ...ctx('sa-east-1'), 'aws:CalledVia': 'cloudformation.amazonaws.com' },
      }),
    ).toBe(true);
    expect(
      allows(doc, {
        action: 'ec2:CreateVpcEndpoint',
        resource: `arn:aws:ec2:sa-east-1:${ACCOUNT}:vpc-endpoint/vpce-1`,
        context: ctx('sa-east-1', { 'aws:RequestTag/drctl:deployment': 'drctl' }),
      }),
    ).toBe(true);
  });

  it('active-passive: up may retire the probe an active-active up left in the primary, never make or call one there', () => {
    const fn = `arn:aws:lambda:sa-east-1:${ACCOUNT}:function:drctl-probe`;
    const check = (action: string) => ({
      action,
      resource: fn,
      context: { 'aws:RequestedRegion': 'sa-east-1' },
    });
    const ap = iamPolicy(defaultConfig(), { account: ACCOUNT });
    for (const a of ['lambda:GetFunction', 'lambda:DeleteFunction'])
      expect(allows(ap, check(a)), a).toBe(true);
    for (const a of [
      'lambda:CreateFunction',
      'lambda:UpdateFunctionCode',
      'lambda:InvokeFunction',
      'lambda:ListTags',
    ])
      expect(allows(ap, check(a)), a).toBe(false);
    // In active-active the probe's own grant covers both regions: no statement of its own for retiring.
    const aa = iamPolicy(configSchema.parse({ topology: 'active-active' }), { account: ACCOUNT });
    expect(aa.Statement.filter((s) => s.Resource.length === 1 && s.Resource[0] === fn)).toEqual([]);
  });

  it('lets CloudFormation create and delete every resource type of the VPC template', () => {
    const template = JSON.parse(
      readFileSync(new URL('../../templates/vpc.template.json', import.meta.url), 'utf8'),
    );
    // What CloudFormation calls for each resource type (its resource handlers' required permissions).
    const needs: Record<string, string[]> = {
      'AWS::EC2::VPC': ['ec2:CreateVpc', 'ec2:DeleteVpc', 'ec2:ModifyVpcAttribute'],
      'AWS::EC2::InternetGateway': ['ec2:CreateInternetGateway', 'ec2:DeleteInternetGateway'],
      'AWS::EC2::VPCGatewayAttachment': ['ec2:AttachInternetGateway', 'ec2:DetachInternetGateway'],
      'AWS::EC2::Subnet': ['ec2:CreateSubnet', 'ec2:DeleteSubnet', 'ec2:ModifySubnetAttribute'],
      'AWS::EC2::RouteTable': ['ec2:CreateRouteTable', 'ec2:DeleteRouteTable'],
      'AWS::EC2::Route': ['ec2:CreateRoute', 'ec2:DeleteRoute'],
      'AWS::EC2::SubnetRouteTableAssociation': ['ec2:AssociateRouteTable', 'ec2:DisassociateRouteTable'],
      'AWS::EC2::EIP': ['ec2:AllocateAddress', 'ec2:ReleaseAddress'],
      'AWS::EC2::NatGateway': ['ec2:CreateNatGateway', 'ec2:DeleteNatGateway'],
      'AWS::EC2::SecurityGroup': [
        'ec2:CreateSecurityGroup',
        'ec2:DeleteSecurityGroup',
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:RevokeSecurityGroupEgress',
      ],
      'AWS::EC2::Instance': ['ec2:RunInstances', 'ec2:TerminateInstances'],
      'AWS::EC2::VPCEndpoint': ['ec2:CreateVpcEndpoint', 'ec2:ModifyVpcEndpoint', 'ec2:DeleteVpcEndpoints'],
    };
    const types = new Set(
      Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type),
    );
    const doc = iamPolicy(defaultConfig(), { account: ACCOUNT });
    for (const type of types) {
      expect(needs[type], `add ${type} to this test and its actions to VPC_STACK_ACTIONS`).toBeDefined();
      for (const action of needs[type]!) {
        expect(VPC_STACK_ACTIONS as readonly string[]).toContain(action);
        const viaCfn = {
          'aws:RequestedRegion': 'us-west-1',
          'aws:CalledVia': 'cloudformation.amazonaws.com',
        };
        expect(allows(doc, { action, context: viaCfn }), action).toBe(true);
      }
    }
    expect(
      allows(doc, {
        action: 'ssm:GetParameters',
        resource:
          'arn:aws:ssm:sa-east-1::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
        context: { 'aws:RequestedRegion': 'sa-east-1' },
      }),
    ).toBe(true);
  });

  it('fits IAM size limits when split, and every part is a valid policy document', () => {
    const config: Config = defaultConfig();
    const doc = iamPolicy(config);
    const parts = splitPolicy(doc);
    expect(parts.length).toBeLessThanOrEqual(10); // managed policies per role or user
    for (const p of parts) expect(policySize(p)).toBeLessThanOrEqual(MANAGED_POLICY_MAX_CHARS);
    expect(parts.flatMap((p) => p.Statement)).toEqual(doc.Statement);
    const sids = doc.Statement.map((s) => s.Sid);
    expect(new Set(sids).size).toBe(sids.length);
    for (const s of sids) expect(s).toMatch(/^[A-Za-z0-9]+$/);
  });
});

describe('drctl iam-policy', () => {
  async function drctl(cwd: string, ...args: string[]) {
    const stdout = new Capture();
    const stderr = new Capture();
    // No credentials and no fake cloud: a call to AWS would fail.
    const code = await main(['node', 'drctl', ...args], {
      cwd,
      env: { PATH: process.env.PATH },
      stdout,
      stderr,
      isTTY: false,
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  it('prints the policy for the config with no credentials and no AWS call', async () => {
    const h = new Harness();
    try {
      const config = { deployment: 'drill', primary: { region: 'us-east-1', vpcCidr: '10.1.0.0/16' } };
      h.writeConfig(config);
      const r = await drctl(h.dir, 'iam-policy', '--account', '123456789012');
      expect(r.code, r.stderr).toBe(0);
      const docs = JSON.parse(r.stdout) as PolicyDocument[];
      const text = JSON.stringify(docs);
      expect(text).toContain('arn:aws:cloudformation:us-east-1:123456789012:stack/drill-vpc/*');
      expect(text).not.toContain('sa-east-1');
      expect(r.stderr).toMatch(/policy documents/);
      const one = await drctl(h.dir, 'iam-policy', '--part', '1');
      expect(JSON.parse(one.stdout)).toEqual(splitPolicy(iamPolicy(configSchema.parse(config)))[0]);
      const json = await h.run(['--json', 'iam-policy']);
      expect(json.summary?.policies).toEqual(splitPolicy(iamPolicy(configSchema.parse(config))));
      expect(text).not.toContain('.lock');
      // With the state on S3, the policy covers the state object, its lock and its backup.
      const team = await drctl(
        h.dir,
        '--state',
        's3://team-state/drctl/prod.json',
        'iam-policy',
        '--account',
        '123456789012',
      );
      expect(team.code, team.stderr).toBe(0);
      for (const arn of [
        'team-state/drctl/prod.json',
        'team-state/drctl/prod.json.lock',
        'team-state/drctl/prod.json.bak',
      ])
        expect(team.stdout).toContain(`"arn:aws:s3:::${arn}"`);
      expect((await drctl(h.dir, 'iam-policy', '--account', 'me')).code).toBe(2);
      expect((await drctl(h.dir, 'iam-policy', '--part', '99')).code).toBe(2);
      expect(h.cloud.calls).toEqual([]);
    } finally {
      h.cleanup();
    }
  });
});
