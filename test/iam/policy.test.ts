import * as apigwSdk from '@aws-sdk/client-api-gateway';
import { readFileSync, readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig, type Config, configSchema } from '../../src/config/config.js';
import {
  APIGATEWAY_ROUTES,
  PERMISSIONS,
  SDK_CLIENT_OF,
  VPC_STACK_ACTIONS,
  iamPolicy,
  policySize,
  splitPolicy,
  MANAGED_POLICY_MAX_CHARS,
  type PolicyDocument,
} from '../../src/iam/policy.js';
import { evaluate } from '../support/fake-cloud/authz/evaluate.js';
import { STACK_RESOURCE_ACTIONS } from '../support/fake-cloud/authz/on-behalf.js';
import { FakeRoute53 } from '../support/fake-cloud/index.js';
import { Capture, Harness } from '../support/harness.js';
import { main } from '../../src/cli/main.js';

interface Check {
  action: string;
  /** The ARN the call acts on; "*" when absent. */
  resource?: string;
  context: Record<string, string | string[]>;
}

const ACCOUNT = '111122223333';

/** The fake cloud's IAM evaluator (test/support/fake-cloud/authz/), on one document. */
const allows = (doc: PolicyDocument, c: Check) =>
  evaluate([doc], { action: c.action, resource: c.resource ?? '*', context: c.context }) === 'allow';

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
      'aws/route53-zones.ts': ['hosted-zone', 'traffic-policy'],
      'aws/probe-invoke.ts': ['probe', 'failover-test', 'verify'],
      'aws/resources/service-role.ts': ['canary', 'probe'],
      'aws/resources/rest-api-shape.ts': ['api', 'verify'],
      'aws/resources/existing-api.ts': ['api'],
      // The api step's own helper beside it (steps/api.ts is one file, not a folder).
      'steps/api-drift.ts': ['api'],
    };
    const owner = (path: string): string[] | undefined => {
      if (SHARED[path]) return SHARED[path];
      // A step is a file (steps/vpc.ts) or a folder of one file per resource (steps/canary/role.ts).
      if (path.startsWith('steps/')) return [path.slice('steps/'.length).split('/')[0]!.replace(/\.ts$/, '')];
      if (path.startsWith('drill/')) return ['failover-test'];
      if (path.startsWith('verify/')) return ['verify'];
      if (path.startsWith('switch/')) return ['switch'];
      if (path === 'state/s3.ts') return ['state-s3'];
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
    expect(orphans, 'modules that send AWS commands but have no entry in src/iam/permissions.ts').toEqual([]);
    for (const [name, commands] of imported) {
      const listed = listedCommands(name);
      expect(
        [...commands].filter((c) => !listed.has(c)),
        `commands missing from PERMISSIONS["${name}"] in src/iam/permissions.ts`,
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

    // The fake cloud authorized every call as drctl's policy for this config (authz/).
    expect(h.cloud.authorizer.refusals).toEqual([]);
    expect(h.cloud.authorizer.grants.length).toBeGreaterThan(h.cloud.calls.length / 2);
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
      expect(h.cloud.authorizer.refusals).toEqual([]);
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
    expect(h.cloud.authorizer.refusals).toEqual([]);
    // The active-passive policy keeps the probe to the secondary and the fault to the primary.
    h.cloud.authorizer.policies = h.cloud.authorizer.drctlPolicy(defaultConfig());
    for (const mode of ['invert', 'outage'])
      expect(
        (await h.run(['--json', 'failover-test', '--mode', mode, '--region', 'secondary'])).code,
      ).not.toBe(0);
    // The drill reads the primary's probe first, and the active-passive policy has none there.
    const refused = h.cloud.authorizer.refusals.map((r) => `${r.action} ${r.resource}`);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused)
      expect(r).toMatch(/^lambda:\w+ arn:aws:lambda:sa-east-1:111122223333:function:drctl-probe$/);
    h.cloud.authorizer.policies = h.cloud.authorizer.drctlPolicy(configSchema.parse(config));
    await h.ok(['down', '--yes']);
  }, 60_000);

  it('the read-only policy (iam-policy --read-only) allows every call of verify, and no change', async () => {
    h = new Harness();
    await h.ok(['up']);
    h.cloud.resetCalls();
    // verify as a principal that holds only the read-only policy.
    const doc = iamPolicy(defaultConfig(), { account: ACCOUNT, readOnly: true });
    h.cloud.authorizer.policies = splitPolicy(doc);
    const r = await h.run(['--json', 'verify']);
    expect([0, 3], r.stderr).toContain(r.code);
    expect(h.cloud.calls.length).toBeGreaterThan(10);
    expect(h.cloud.authorizer.refusals).toEqual([]);
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
    const needs: Record<string, readonly string[]> = Object.fromEntries(
      Object.entries(STACK_RESOURCE_ACTIONS).map(([type, a]) => [type, [...a.create, ...a.delete]]),
    );
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
