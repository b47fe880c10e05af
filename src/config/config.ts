import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors/errors.js';
import { apiSourceSchema, loadApiSource } from './api-source.js';
import { EC2_INSTANCE_TYPES } from './instance-types.js';
import { cidrsOverlap, parseCidr, regionSchema } from './network.js';
import { closest, partitionOf } from './regions.js';
import { allowsOldTls, NLB_TLS_POLICIES } from './tls-policies.js';
import { jsonError, plainIssue } from './wording.js';

export { cidrsOverlap, parseCidr } from './network.js';

// Deployment names flow into NLB and target-group names (<= 32 chars: `${name}-tg-${region}` is
// the longest, with region up to 14 chars), canary names (lowercase, <= 21 chars), S3 bucket names
// (lowercase) and CloudFormation stack names.
const DEPLOYMENT = /^[a-z][a-z0-9-]*[a-z0-9]$/;
const DOMAIN = /^(?=.{1,253}$)(?!-)([a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$/;
const HOST = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const configSchema = z
  .object({
    deployment: z
      .string()
      .min(2)
      .max(12, 'at most 12 characters: it becomes part of NLB, target group and canary names')
      .regex(DEPLOYMENT, 'lowercase letters, digits and hyphens, starting with a letter')
      .default('drctl')
      .describe('name of this deployment: prefixes every AWS name; the value of the drctl:deployment tag'),
    primary: regionSchema({ region: 'sa-east-1', vpcCidr: '10.0.0.0/16' }).describe(
      'the region that serves while healthy: `region` and `vpcCidr`',
    ),
    secondary: regionSchema({ region: 'us-west-1', vpcCidr: '172.16.0.0/16' }).describe(
      'the failover region: `region` and `vpcCidr` (must not overlap the primary)',
    ),
    domain: z
      .string()
      .toLowerCase()
      .regex(DOMAIN, 'must be a DNS domain like octank.com')
      .default('octank.com')
      .describe('the private hosted zone and certificate domain; lower-cased (DNS ignores case)'),
    // DNS names are case-insensitive (RFC 4343) and Route 53 keeps them in lower case: `domain`
    // and `host` are both lower-cased, and configWarnings says so when that changed them.
    host: z
      .string()
      .toLowerCase()
      .regex(HOST, 'must be one DNS label like api')
      .default('api')
      .describe('clients call `https://<host>.<domain>/`; lower-cased, like `domain`'),
    ttl: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .default(60)
      .describe(
        'TTL (seconds) of the records the traffic policy makes, with `routing: "traffic-policy"` only; the ' +
          "default failover alias records answer with the load balancer's own TTL (60 s)",
      ),
    sshCidr: z
      .string()
      .refine((c) => parseCidr(c) !== undefined, 'must be an IPv4 CIDR block like 203.0.113.7/32')
      .nullable()
      .default(null)
      .describe(
        'CIDR allowed to SSH to the client instances; null keeps SSH closed (the workshop opened 0.0.0.0/0)',
      ),
    clientInstanceType: z
      .string()
      .regex(/^[a-z0-9]+\.[a-z0-9]+$/, 'must be an EC2 instance type like t3.micro')
      .default('t3.micro')
      .describe('instance type of the small client instance in each VPC'),
    natGateway: z
      .boolean()
      .default(false)
      .describe(
        "add a NAT gateway (one AZ) for the private subnets; drctl's canary does not need it (VPC endpoints)",
      ),
    ca: z
      .object({
        commonName: z.string().min(1).max(64).default('drctl root CA').describe('subject CN of each root CA'),
        organization: z.string().min(1).max(64).default('Octank').describe('subject O of each root CA'),
        country: z
          .string()
          .regex(/^[A-Z]{2}$/, 'two-letter country code')
          .default('US')
          .describe('subject C of each root CA'),
        // A CA issues nothing that outlives it (ACM's PCA_INVALID_DURATION), and ACM's private
        // certificates are valid 395 days (https://docs.aws.amazon.com/acm/latest/userguide/exceptions.html,
        // https://docs.aws.amazon.com/acm/latest/userguide/private-certificates.title.html).
        validityYears: z
          .number()
          .int()
          .min(
            2,
            'at least 2: ACM private certificates are valid 395 days (13 months) and a CA ' +
              'cannot issue past its own end (PCA_INVALID_DURATION)',
          )
          .max(30)
          .default(10)
          .describe(
            'validity of the root CA certificate; at least 2 years, as a CA issues no certificate ' +
              'that outlives it and ACM private certificates are valid 395 days',
          ),
        permanentDeletionTimeInDays: z
          .number()
          .int()
          .min(7)
          .max(30)
          .default(7)
          .describe('restore window after `down` (DeleteCertificateAuthority accepts 7-30 days)'),
      })
      .strict()
      .prefault({})
      .describe('the root CA made in each region (ACM Private CA, about $400/month each)'),
    domainMode: z
      .enum(['regional', 'private'])
      .default('regional')
      .describe(
        'regional: a REGIONAL custom domain reached through an internal NLB (the workshop; the name must be free in every account of the region); private: a PRIVATE custom domain reached at the execute-api endpoint, no NLB (see docs/domain-modes.md)',
      ),
    certificateArn: z
      .record(z.string(), z.string().regex(/^arn:aws[a-z-]*:acm:/, 'must be an ACM certificate ARN'))
      .optional()
      .describe(
        'per region, an ACM certificate ARN to use instead of making a private CA (e.g. {"sa-east-1": "arn:aws:acm:..."})',
      ),
    tlsPolicy: z
      .string()
      .superRefine((p, ctx) => {
        if (NLB_TLS_POLICIES.includes(p)) return;
        const guess = closest(p, NLB_TLS_POLICIES);
        ctx.addIssue({
          code: 'custom',
          message:
            `${JSON.stringify(p)} is not a security policy for NLB TLS listeners` +
            (guess ? ` (did you mean ${guess}?)` : '') +
            '; `drctl config --reference` lists them',
        });
      })
      .default('ELBSecurityPolicy-TLS13-1-2-2021-06')
      .describe(
        'NLB TLS listener policy (TLS 1.2 and 1.3; the workshop used 2016-08, which allows TLS 1.0); one ' +
          `of those AWS documents for NLB TLS listeners: ${NLB_TLS_POLICIES.join(', ')}`,
      ),
    topology: z
      .enum(['active-passive', 'active-active'])
      .default('active-passive')
      .describe(
        'active-passive: the primary serves, the secondary takes over when it fails (failover records); active-active: both regions serve, each client is answered by its nearest healthy region (latency records, a canary, alarm and health check in each region; see docs/topology.md)',
      ),
    routing: z
      .enum(['failover-records', 'traffic-policy'])
      .default('failover-records')
      .describe(
        "failover-records: PRIMARY/SECONDARY alias records; traffic-policy: the workshop's traffic policy (public zones only, per AWS docs)",
      ),
    canary: z
      .object({
        artifactExpiryDays: z
          .number()
          .int()
          .min(1)
          .max(365)
          .default(7)
          .describe('days before canary artifacts expire in S3'),
        secondary: z
          .boolean()
          .default(false)
          .describe('also run a canary and alarm in the secondary (a fail-back signal)'),
        evaluationPeriods: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(3)
          .describe(
            "N: the alarm looks at the canary's last N one-minute runs (SuccessPercent < 100 is a failed run); " +
              "Route 53's copy of the alarm, which decides the failover, has N and no M: N failed runs in a row",
          ),
        datapointsToAlarm: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(2)
          .describe(
            'M: failed runs among the last N that put the CloudWatch alarm in ALARM (1 <= M <= N), which you ' +
              "see and are notified by; Route 53's health check evaluates its own copy of the alarm, which has no M",
          ),
      })
      .strict()
      .prefault({})
      .describe('the CloudWatch Synthetics canary and its alarm (see docs/canary-and-alarm.md)'),
    rtoTargetSeconds: z
      .number()
      .int()
      .min(30)
      .max(3_600)
      .default(300)
      .describe('failover-test fails (exit 3) when the measured recovery takes longer'),
    api: apiSourceSchema,
    peering: z
      .enum(['create', 'existing'])
      .default('create')
      .describe(
        'create: drctl peers the two VPCs and adds the routes; existing: the VPCs are already connected (peering, transit gateway), drctl makes no peering and no routes and `verify` proves the path with the probe',
      ),
    hostedZoneId: z
      .string()
      .regex(/^Z[0-9A-Z]+$/, 'must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ')
      .optional()
      .describe(
        'an existing private hosted zone for `domain` to use instead of making one; drctl adds and removes only its own records and VPC associations',
      ),
    allowedAccountIds: z
      .array(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id like 111122223333'))
      .min(1)
      .optional()
      .describe(
        "AWS account ids drctl may run in (as Terraform's allowed_account_ids); a command whose " +
          'credentials are of another account stops before any change. Unset: any account',
      ),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.primary.region === c.secondary.region) {
      ctx.addIssue({
        code: 'custom',
        path: ['secondary', 'region'],
        message: 'must differ from primary.region',
      });
    }
    if (c.canary.datapointsToAlarm > c.canary.evaluationPeriods) {
      ctx.addIssue({
        code: 'custom',
        path: ['canary', 'datapointsToAlarm'],
        message: `must be at most canary.evaluationPeriods (${c.canary.evaluationPeriods}): M of N needs M <= N`,
      });
    }
    if (c.domainMode === 'private' && c.routing === 'traffic-policy') {
      ctx.addIssue({
        code: 'custom',
        path: ['routing'],
        message:
          'traffic-policy cannot route to an execute-api endpoint (a traffic policy has no endpoint type for it): use "failover-records" with domainMode private',
      });
    }
    if (c.topology === 'active-active' && c.routing === 'traffic-policy') {
      ctx.addIssue({
        code: 'custom',
        path: ['topology'],
        message:
          'active-active needs latency records, which drctl makes with routing "failover-records" only (its traffic policy has a failover rule): set routing to "failover-records", or topology to "active-passive"',
      });
    }
    const [p, s] = [partitionOf(c.primary.region), partitionOf(c.secondary.region)];
    if (p !== s) {
      ctx.addIssue({
        code: 'custom',
        path: ['secondary', 'region'],
        message:
          `${c.secondary.region} is in partition ${s}, primary.region ${c.primary.region} in ${p}; ` +
          'no VPC peering or account spans two partitions: choose regions of one',
      });
    }
    if (c.peering === 'create' && (c.primary.vpcId || c.secondary.vpcId)) {
      // drctl's routes go into the route tables its own stack made; it does not edit yours.
      ctx.addIssue({
        code: 'custom',
        path: ['peering'],
        message:
          'must be "existing" with primary.vpcId or secondary.vpcId: connect your VPCs (peering, transit gateway) yourself; drctl peers only the VPCs it makes',
      });
    }
    if (c.peering === 'existing' && (!c.primary.vpcId || !c.secondary.vpcId)) {
      ctx.addIssue({
        code: 'custom',
        path: ['peering'],
        message:
          '"existing" needs primary.vpcId and secondary.vpcId: only VPCs you own can be connected already; use "create" for the VPCs drctl makes',
      });
    }
    if (cidrsOverlap(c.primary.vpcCidr, c.secondary.vpcCidr)) {
      ctx.addIssue({
        code: 'custom',
        path: ['secondary', 'vpcCidr'],
        message: `overlaps primary.vpcCidr ${c.primary.vpcCidr}: VPC peering fails on overlapping CIDRs`,
      });
    }
  });

export type Config = z.infer<typeof configSchema>;
export type RegionRole = 'primary' | 'secondary';

export const DEFAULT_CONFIG_FILE = 'drctl.config.json';

export function defaultConfig(): Config {
  return configSchema.parse({});
}

export function regionsOf(config: Config): [string, string] {
  return [config.primary.region, config.secondary.region];
}

export function roleOf(config: Config, region: string): RegionRole {
  return region === config.primary.region ? 'primary' : 'secondary';
}

/**
 * A config recorded by an earlier `up` (state `applied.config`) with today's defaults filled in,
 * so a field added since (e.g. `topology`) is not shown as changed; as recorded if it no longer parses.
 */
export function withDefaults(recorded: Record<string, unknown>): Record<string, unknown> {
  const parsed = configSchema.safeParse(recorded);
  return parsed.success ? parsed.data : recorded;
}

/** Whether both regions serve: latency records, and a canary, alarm and health check in each. */
export const activeActive = (config: Pick<Config, 'topology'>) => config.topology === 'active-active';

/** Whether the secondary runs a canary and alarm: always in active-active, else with canary.secondary. */
export const secondaryCanary = (config: Pick<Config, 'topology' | 'canary'>) =>
  activeActive(config) || config.canary.secondary;

export function regionConfig(config: Config, region: string) {
  return roleOf(config, region) === 'primary' ? config.primary : config.secondary;
}

/** Every config key, dotted (`primary.region`), for "did you mean" on an unknown field. */
function knownFields(
  node: z.core.JSONSchema.BaseSchema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
  prefix = '',
): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return typeof child === 'object' && child.properties ? [path, ...knownFields(child, path)] : [path];
  });
}

/** One line per problem: `field: message`. An unknown key is one problem each. */
function problems(err: z.ZodError, what: string, prefix: string): Array<{ field: string; message: string }> {
  return err.issues.flatMap((issue) => {
    const at = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      const fields = prefix ? [] : knownFields();
      return (issue as { keys: string[] }).keys.map((key) => {
        const field = [at, key].filter(Boolean).join('.');
        const guess = closest(field, fields);
        return { field, message: `unknown field${guess ? ` (did you mean ${guess}?)` : ''}` };
      });
    }
    return [{ field: at || what, message: issue.message }];
  });
}

/** A zod error as one UsageError that lists every problem, each naming its field (`primary.vpcCidr`). */
export function usageErrorFromZod(err: z.ZodError, what: string, prefix = ''): UsageError {
  const all = problems(err, what, prefix);
  const first = all[0]!;
  if (all.length === 1)
    return new UsageError(first.message, {
      field: first.field,
      resolution: `Fix ${first.field} in ${what}.`,
    });
  return new UsageError(
    `${all.length} problems in ${what}:\n${all.map((p) => `  ${p.field}: ${p.message}`).join('\n')}`,
    { field: first.field, resolution: `Fix each of them in ${what}.`, omitFieldPrefix: true },
  );
}

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or undefined when the workshop defaults were used. */
  path: string | undefined;
  /** Valid but risky or ineffective settings, one sentence each, naming the field. */
  warnings: string[];
}

/** Settings that are valid but open something up or do nothing; `raw` is the file as written. */
export function configWarnings(config: Config, raw: Record<string, unknown>): string[] {
  const warnings: string[] = [];
  const ssh = config.sshCidr === null ? undefined : parseCidr(config.sshCidr);
  if (ssh && ssh.prefix < 8)
    warnings.push(
      `sshCidr: ${config.sshCidr} opens SSH on the client instances to ${ssh.prefix === 0 ? 'the whole internet' : `${2 ** (32 - ssh.prefix)} addresses`}; use your own address, like 203.0.113.7/32, or null to keep SSH closed`,
    );
  if (allowsOldTls(config.tlsPolicy))
    warnings.push(
      `tlsPolicy: ${config.tlsPolicy} allows TLS 1.0 or 1.1 on the load balancers; the default ELBSecurityPolicy-TLS13-1-2-2021-06 allows TLS 1.2 and 1.3 only`,
    );
  for (const field of ['domain', 'host'] as const) {
    if (typeof raw[field] === 'string' && raw[field] !== config[field])
      warnings.push(
        `${field}: ${JSON.stringify(raw[field])} is used as ${JSON.stringify(config[field])} (DNS names ignore case)`,
      );
  }
  if (!EC2_INSTANCE_TYPES.includes(config.clientInstanceType)) {
    const guess = closest(config.clientInstanceType, EC2_INSTANCE_TYPES);
    warnings.push(
      `clientInstanceType: ${config.clientInstanceType} is not an instance type drctl knows${guess ? ` (did you mean ${guess}?)` : ''}; if EC2 lacks it, up fails at step vpc`,
    );
  }
  if ('ttl' in raw && config.routing === 'failover-records')
    warnings.push(
      `ttl: has no effect with routing "failover-records": alias records answer with the load balancer's TTL (60 s); it applies to routing "traffic-policy" only`,
    );
  return warnings;
}

const BOMS: Array<[string, number[]]> = [
  ['UTF-32 LE', [0xff, 0xfe, 0x00, 0x00]],
  ['UTF-32 BE', [0x00, 0x00, 0xfe, 0xff]],
  ['UTF-16 LE', [0xff, 0xfe]],
  ['UTF-16 BE', [0xfe, 0xff]],
];

/** `--config PATH`, else drctl.config.json in the working directory, else the workshop's defaults. */
export function loadConfig(
  opts: {
    path?: string;
    cwd?: string;
    /** false: api.openapi's file is not read nor checked (commands that do not import it). */
    readApiFile?: boolean;
  } = {},
): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const path = resolve(cwd, opts.path ?? DEFAULT_CONFIG_FILE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && opts.path === undefined) {
      return { config: defaultConfig(), path: undefined, warnings: [] };
    }
    const why = (e as NodeJS.ErrnoException).code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new UsageError(`cannot read config file ${path}: ${why}`, { field: '--config' });
  }
  const warnings: string[] = [];
  for (const [name, bom] of BOMS) {
    if (bom.every((b, i) => bytes[i] === b))
      throw new UsageError(`${path} is encoded as ${name} (it starts with that byte order mark)`, {
        field: '--config',
        resolution: 'Save it as UTF-8 and run the same command again.',
      });
  }
  let text = bytes.toString('utf8');
  if (text.startsWith('\uFEFF')) {
    // Windows editors (Notepad, PowerShell's Out-File) write one; JSON.parse would fail on it.
    text = text.slice(1);
    warnings.push(`--config: ${path} starts with a UTF-8 byte order mark; drctl ignored it`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw jsonError(path, text, (e as Error).message);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new UsageError(`${path} must hold one JSON object, like {"deployment": "drctl"}`, {
      field: '--config',
    });
  const parsed = configSchema.safeParse(raw, { error: plainIssue });
  if (!parsed.success) throw usageErrorFromZod(parsed.error, path);
  const config = {
    ...parsed.data,
    api: loadApiSource(parsed.data.api, regionsOf(parsed.data), dirname(path), opts.readApiFile ?? true),
  };
  return {
    config,
    path,
    warnings: [...warnings, ...configWarnings(config, raw as Record<string, unknown>)],
  };
}
