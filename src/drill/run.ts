import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { callProbe } from '../aws/probe-invoke.js';
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  type IpPermission,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetHealthCheckCommand,
  GetHealthCheckStatusCommand,
  type HealthCheck,
  Route53Client,
  UpdateHealthCheckCommand,
} from '@aws-sdk/client-route-53';
import type { ProbeResult } from '../assets/probe-function.js';
import { ROUTE53_REGION, type AwsClients } from '../aws/clients.js';
import { awsCode, isNotFound, isServerError, unlessNotFound } from '../aws/errors.js';
import { pollUntil } from '../aws/wait.js';
import type { Clock } from '../lib/clock.js';
import { type Config, activeActive, cidrsOverlap, regionsOf } from '../config/config.js';
import { AwsStepError, UsageError, errorMessage } from '../errors/errors.js';
import { GLOBAL, type StateStore } from '../state/store.js';
import type { StepInfo } from '../steps/index.js';
import { type DrillMode, type FailoverBound, defaultTimeoutSeconds, failoverBound } from './bound.js';
import { type DrillChange, type DrillRecord, type IngressRuleRecord, drillRecordSchema } from '../state/drill-record.js';

// The failover drill (`drctl failover-test`): check, inject one fault, watch what a client inside
// the VPC sees until it is served by the secondary, put the fault back whatever happens, watch the
// fail-back, and report the timeline against the bound and config.rtoTargetSeconds.
// With topology active-active, `--region` picks the region to fail (either one): the drill
// watches from a probe in that region's VPC (whose clients must move to the other region, through
// the peering, and come back) and from one in the other region's VPC (whose clients must stay
// served by their own region throughout). In active-passive only the primary can be failed: the
// secondary serves nobody while the primary is healthy (docs/topology.md).
// Modes (docs/design/aws-behaviour.md §2): `invert` sets the primary health check's Inverted flag, the documented way
// to force a failover (SetAlarmState cannot: Route 53 reads the alarm's data, not its state);
// `outage` revokes the 443 ingress of the primary endpoint's security group, a real fault that the
// canary, the alarm, the health check and DNS each notice on their own.
// The engine never prints: it hands typed events to `emit` and returns the result.

export type { DrillMode } from './bound.js';

export type MarkKey = 'fault' | 'alarm' | 'health-check' | 'dns' | 'served';

export interface Mark {
  key: MarkKey;
  label: string;
  /** Epoch ms when it was seen; undefined if not (yet). */
  at?: number;
  /** Why there is no time (not applicable, not seen before the timeout). */
  note?: string;
}

export type DrillEvent =
  | { type: 'precondition'; text: string; t: number }
  | { type: 'wait'; text: string; t: number }
  | { type: 'restored-pending'; text: string; t: number }
  | { type: 'change'; phase: 'inject' | 'restore'; text: string; t: number }
  | { type: 'mark'; phase: 'failover' | 'failback'; key: MarkKey; label: string; t: number; sinceMs: number }
  | { type: 'probe'; phase: 'failover' | 'failback'; text: string; t: number };

/** One probe answer while watching: what a client in a VPC got, and when. */
export interface ProbeSampleAt {
  t: number;
  phase: 'failover' | 'failback';
  /** The region whose VPC the probe ran in (the vantage point). */
  vantage: string;
  /** The region whose NLB the DNS answer named; none when it named neither (or no answer). */
  answered: 'primary' | 'secondary' | 'none';
  status?: number;
  /** The region whose API answered (from the body). */
  servedBy?: string;
  error?: string;
}

export interface DrillOptions {
  mode: DrillMode;
  /** The region the drill fails, by role (default primary; secondary in active-active only). */
  failRole?: 'primary' | 'secondary';
  /** How long each switch may take; default twice the bound. */
  timeoutMs?: number;
  dryRun?: boolean;
  /** How often the probe is invoked while watching (default 5 s). */
  pollIntervalMs?: number;
}

export interface DrillContext {
  config: Config;
  store: StateStore;
  aws: AwsClients;
  clock: Clock;
  signal: AbortSignal;
  steps: readonly StepInfo[];
  emit(e: DrillEvent): void;
}

/** Where a drill watches from: a probe in that region's VPC. */
export interface Vantage {
  region: string;
  /**
   * true: clients here must leave the failed region and come back (the recovery is measured here);
   * false: clients here are served by the other region throughout (active-active).
   */
  moves: boolean;
}

interface Common {
  mode: DrillMode;
  topology: Config['topology'];
  primary: string;
  secondary: string;
  /** The region the drill fails, and the one its clients must be served by meanwhile. */
  failedRegion: string;
  otherRegion: string;
  vantages: Vantage[];
  name: string;
  bound: FailoverBound;
  rtoTargetSeconds: number;
  timeoutSeconds: number;
  preconditions: string[];
}

export interface DryRunResult extends Common {
  dryRun: true;
  /** What the drill would change, then put back. */
  wouldChange: string[];
}

export interface DrillResult extends Common {
  dryRun: false;
  ok: boolean;
  /** Why it is not ok (empty when ok). */
  problems: string[];
  failover: Mark[];
  failback: Mark[];
  /** Fault injected -> first 200 from the other region, where clients move. */
  recoverySeconds?: number;
  /** Restored -> first 200 from the failed region again. */
  failbackSeconds?: number;
  changes: DrillChange[];
  probes: number;
  /** Every probe answer of both phases, in order (the report's timeline). */
  samples: ProbeSampleAt[];
}

/** 3 probe answers in a row that name the secondary but are not a 200 from it: stop and restore. */
const STOP_AFTER_FAILURES = 3;
/** How long an outage drill waits for the primary's alarm to be OK before it refuses. */
const ALARM_SETTLE_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_POLL_MS = 5_000;

// ---- AWS clients ---------------------------------------------------------------------------

const route53 = (ctx: DrillContext) => ctx.aws.client(Route53Client, ROUTE53_REGION);

/** One region as the drill sees it. */
interface Side {
  role: 'primary' | 'secondary';
  region: string;
  /** Its health check (the secondary's only with canary.secondary or active-active). */
  healthCheckId?: string;
  alarmName?: string;
  /**
   * Where clients reach it: its NLB, or with domainMode private its execute-api endpoint (the
   * records' alias targets).
   */
  entryDnsName: string;
  /** regional mode: its NLB's targets must be healthy before clients are sent to it. */
  targetGroupArn?: string;
  /** domainMode private: its endpoint must be available before clients are sent to it. */
  vpcEndpointId?: string;
  endpointSecurityGroupId: string;
}

interface Targets {
  primary: string;
  secondary: string;
  name: string;
  functionName: string;
  entry: 'NLB' | 'endpoint';
  /** The region the drill fails, and the one its clients move to. */
  failed: Side & { healthCheckId: string };
  other: Side;
  /** The probes it watches from: the one whose clients move first. */
  vantages: Vantage[];
}

/** Every step recorded as ready: checked before any AWS call. */
export function requireComplete(ctx: Pick<DrillContext, 'config' | 'store' | 'steps'>): void {
  const regions = regionsOf(ctx.config);
  for (const info of ctx.steps) {
    // A step this config does not use (the NLB with domainMode private) records nothing.
    if (info.unusedWhen?.(ctx.config)) continue;
    for (const scope of info.scope === 'global' ? [GLOBAL] : regions) {
      const status = ctx.store.get(info.name, scope)?.status;
      if (status !== 'ready') {
        throw new UsageError(
          `failover-test needs a complete \`up\`: step ${info.name} in ${scope} is ${status ?? 'not done'}`,
          { field: 'failover-test', resolution: 'Run `drctl up` first (it resumes where it stopped).' },
        );
      }
    }
  }
}

function field(ctx: DrillContext, step: string, scope: string, key: string): string {
  const v = ctx.store.get(step, scope)?.resources[key];
  if (typeof v !== 'string' || !v) {
    throw new UsageError(`failover-test needs ${key} of step ${step} in ${scope}, which is not recorded`, {
      field: 'failover-test',
      resolution: `Run \`drctl up\` (or \`drctl step ${step}\`) first.`,
    });
  }
  return v;
}

function optionalField(ctx: DrillContext, step: string, scope: string, key: string): string | undefined {
  const v = ctx.store.get(step, scope)?.resources[key];
  return typeof v === 'string' && v ? v : undefined;
}

function sideOfRegion(ctx: DrillContext, role: 'primary' | 'secondary'): Side {
  const region = role === 'primary' ? ctx.config.primary.region : ctx.config.secondary.region;
  const hc = optionalField(ctx, 'health-check', GLOBAL, `${role}HealthCheckId`);
  const alarm = optionalField(ctx, 'canary', region, 'alarmName');
  return {
    role,
    region,
    ...(hc ? { healthCheckId: hc } : {}),
    ...(alarm ? { alarmName: alarm } : {}),
    ...(ctx.config.domainMode === 'private'
      ? {
          entryDnsName: field(ctx, 'domain', region, 'endpointDnsName'),
          vpcEndpointId: field(ctx, 'endpoints', region, 'vpcEndpointId'),
        }
      : {
          entryDnsName: field(ctx, 'nlb', region, 'dnsName'),
          targetGroupArn: field(ctx, 'nlb', region, 'targetGroupArn'),
        }),
    endpointSecurityGroupId: field(ctx, 'vpc', region, 'endpointSecurityGroupId'),
  };
}

function targetsOf(ctx: DrillContext, failRole: 'primary' | 'secondary'): Targets {
  const [primary, secondary] = regionsOf(ctx.config);
  const failed = sideOfRegion(ctx, failRole);
  const other = sideOfRegion(ctx, failRole === 'primary' ? 'secondary' : 'primary');
  // The failed side's health check and alarm are what the drill moves and watches.
  failed.healthCheckId = field(ctx, 'health-check', GLOBAL, `${failRole}HealthCheckId`);
  failed.alarmName = field(ctx, 'canary', failed.region, 'alarmName');
  const functionName = field(ctx, 'probe', GLOBAL, 'functionName');
  const aa = activeActive(ctx.config);
  if (aa) {
    const pp = ctx.store.get('probe', GLOBAL)?.resources.primaryProbe as { region?: string } | undefined;
    if (pp?.region !== primary) {
      throw new UsageError(
        `failover-test in active-active needs the probe in ${primary}, which is not recorded`,
        {
          field: 'failover-test',
          resolution: 'Run `drctl up` (it makes a probe in each VPC with topology active-active) first.',
        },
      );
    }
  }
  return {
    primary,
    secondary,
    name: `${ctx.config.host}.${ctx.config.domain}`,
    functionName,
    entry: ctx.config.domainMode === 'private' ? 'endpoint' : 'NLB',
    failed: failed as Side & { healthCheckId: string },
    other,
    // Active-passive: clients in the secondary VPC move (the only probe). Active-active: clients
    // in the failed region's VPC move (through the peering); those in the other region's stay.
    vantages: aa
      ? [
          { region: failed.region, moves: true },
          { region: other.region, moves: false },
        ]
      : [{ region: field(ctx, 'probe', GLOBAL, 'region'), moves: true }],
  };
}

const inCidr = (ip: string | undefined, cidr: string) => !!ip && cidrsOverlap(`${ip}/32`, cidr);

/** Which region an answer points at, by the VPC its address (internal NLB or endpoint) lies in. */
function sideOf(ctx: DrillContext, p: ProbeResult): 'primary' | 'secondary' | undefined {
  const first = p.answer[0];
  if (inCidr(first, ctx.config.primary.vpcCidr)) return 'primary';
  if (inCidr(first, ctx.config.secondary.vpcCidr)) return 'secondary';
  return undefined;
}

function describeProbe(p: ProbeResult): string {
  const answer = p.answer.length ? p.answer.join(',') : 'no answer';
  const outcome = p.error ? p.error : `${p.status ?? '?'}${p.region ? ` from ${p.region}` : ''}`;
  return `${p.via ?? p.host ?? ''} -> ${answer}${p.ttlSeconds !== undefined ? ` (ttl ${p.ttlSeconds}s)` : ''} -> ${outcome}`;
}

async function invokeProbe(ctx: DrillContext, t: Targets, v: Vantage, via?: string): Promise<ProbeResult> {
  const { result, functionError, text } = await callProbe(ctx.aws, v.region, t.functionName, via);
  if (functionError) {
    throw new AwsStepError(`probe ${t.functionName} failed (${functionError}): ${text.slice(0, 300)}`, {
      resource: t.functionName,
      awsCode: functionError,
      resolution: 'Run `drctl step probe` to deploy it again, then the drill.',
    });
  }
  if (!result) {
    throw new AwsStepError(
      `probe ${t.functionName} returned something else than a probe result: ${text.slice(0, 200)}`,
      {
        resource: t.functionName,
        resolution: 'Run `drctl step probe` to deploy the current probe, then the drill.',
      },
    );
  }
  return result;
}

async function getHealthCheck(ctx: DrillContext, id: string): Promise<HealthCheck | undefined> {
  return unlessNotFound(
    async () => (await route53(ctx).send(new GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck,
  );
}

/**
 * Route 53's checkers agree for a CLOUDWATCH_METRIC check; a check counts healthy when more than
 * 18% of them say so (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html).
 */
async function healthCheckStatus(
  ctx: DrillContext,
  id: string,
): Promise<{ healthy: boolean; status: string }> {
  const r = await route53(ctx).send(new GetHealthCheckStatusCommand({ HealthCheckId: id }));
  const reports = (r.HealthCheckObservations ?? []).map((o) => o.StatusReport?.Status ?? '');
  const healthy = reports.filter((s) => s.startsWith('Success')).length;
  return {
    healthy: reports.length > 0 && healthy / reports.length > 0.18,
    status: reports[0] ?? 'no observations',
  };
}

async function alarmState(ctx: DrillContext, t: Targets): Promise<{ state: string; updatedAt?: number }> {
  const r = await ctx.aws
    .client(CloudWatchClient, t.failed.region)
    .send(new DescribeAlarmsCommand({ AlarmNames: [t.failed.alarmName!] }));
  const a = r.MetricAlarms?.[0];
  return { state: a?.StateValue ?? 'missing', updatedAt: a?.StateUpdatedTimestamp?.getTime() };
}

async function describeGroup(
  ctx: DrillContext,
  region: string,
  groupId: string,
): Promise<SecurityGroup | undefined> {
  try {
    const r = await ctx.aws
      .client(EC2Client, region)
      .send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    return r.SecurityGroups?.[0];
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** The group's ingress rules that let TCP 443 in, one per CIDR (what `outage` revokes). */
function https443Rules(g: SecurityGroup | undefined): IngressRuleRecord[] {
  return (g?.IpPermissions ?? [])
    .filter(
      (p) =>
        p.IpProtocol === '-1' ||
        (p.IpProtocol === 'tcp' && (p.FromPort ?? 0) <= 443 && 443 <= (p.ToPort ?? 65535)),
    )
    .flatMap((p) =>
      (p.IpRanges ?? []).map((r) => ({
        ipProtocol: p.IpProtocol!,
        ...(p.IpProtocol === '-1' ? {} : { fromPort: p.FromPort, toPort: p.ToPort }),
        cidrIp: r.CidrIp ?? '',
        ...(r.Description ? { description: r.Description } : {}),
      })),
    );
}

const sameRule = (a: IngressRuleRecord, b: IngressRuleRecord) =>
  a.ipProtocol === b.ipProtocol &&
  a.fromPort === b.fromPort &&
  a.toPort === b.toPort &&
  a.cidrIp === b.cidrIp;

function permissions(rules: IngressRuleRecord[]): IpPermission[] {
  return rules.map((r) => ({
    IpProtocol: r.ipProtocol,
    FromPort: r.fromPort,
    ToPort: r.toPort,
    IpRanges: [{ CidrIp: r.cidrIp, ...(r.description ? { Description: r.description } : {}) }],
  }));
}

// ---- the drill record in the state ---------------------------------------------------------

export function pendingDrill(store: StateStore): DrillRecord | undefined {
  const raw = store.get('probe', GLOBAL)?.resources.drill;
  if (raw === undefined) return undefined;
  const parsed = drillRecordSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UsageError('the recorded failover drill is not readable (hand-edited?)', {
      field: 'state.steps.probe.global.resources.drill',
      resolution: `Restore ${store.path}.bak, or put back by hand what the drill changed and remove that field.`,
    });
  }
  return parsed.data;
}

async function writeDrill(ctx: DrillContext, record: DrillRecord | undefined): Promise<void> {
  const rec = ctx.store.get('probe', GLOBAL);
  if (!rec) return;
  ctx.store.record('probe', GLOBAL, rec.status, { drill: record });
  // Before the change it describes is made: a remote state must hold it, not just a queue.
  await ctx.store.flush();
}

// ---- inject and restore --------------------------------------------------------------------

async function setInverted(ctx: DrillContext, id: string, inverted: boolean): Promise<boolean> {
  let unknown: unknown;
  for (let attempt = 0; ; attempt++) {
    const hc = await getHealthCheck(ctx, id);
    if (!hc) return false;
    // After a server error the update may have been applied: the check says whether it was.
    if (!!hc.HealthCheckConfig?.Inverted === inverted) return unknown !== undefined;
    try {
      await route53(ctx).send(
        new UpdateHealthCheckCommand({
          HealthCheckId: id,
          HealthCheckVersion: hc.HealthCheckVersion,
          Inverted: inverted,
        }),
      );
      return true;
    } catch (e) {
      // A server error leaves unknown whether it was applied, and the client does not resend it
      // (a resend meets HealthCheckVersionMismatch once it was: idempotency.ts). Another writer
      // between our read and write is a HealthCheckVersionMismatch. Either way: read again.
      if (isServerError(e) && attempt < 2) unknown = e;
      else if (awsCode(e) !== 'HealthCheckVersionMismatch' || attempt >= 2) throw e;
    }
  }
}

/** Put one change back; idempotent (a change not made, or already undone, is fine). */
async function undo(ctx: DrillContext, change: DrillChange): Promise<string> {
  if (change.kind === 'health-check-inverted') {
    const changed = await setInverted(ctx, change.healthCheckId, false);
    return changed
      ? `health check ${change.healthCheckId}: Inverted=false`
      : `health check ${change.healthCheckId}: not inverted (nothing to put back)`;
  }
  const g = await describeGroup(ctx, change.region, change.groupId);
  if (!g) return `security group ${change.groupId} is gone (nothing to put back)`;
  const present = https443Rules(g);
  const missing = change.rules.filter((r) => !present.some((p) => sameRule(p, r)));
  if (!missing.length) return `security group ${change.groupId}: 443 ingress in place (nothing to put back)`;
  try {
    await ctx.aws.client(EC2Client, change.region).send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: change.groupId,
        IpPermissions: permissions(missing),
      }),
    );
  } catch (e) {
    if (awsCode(e) !== 'InvalidPermission.Duplicate') throw e;
  }
  return `security group ${change.groupId}: 443 ingress from ${missing.map((r) => r.cidrIp).join(', ')} authorized again`;
}

async function restoreAll(ctx: DrillContext, record: DrillRecord): Promise<string[]> {
  const done: string[] = [];
  for (const change of record.changes) {
    try {
      done.push(await undo(ctx, change));
    } catch (e) {
      throw new AwsStepError(`could not put back what the drill changed: ${errorMessage(e)}`, {
        resource: change.kind === 'health-check-inverted' ? change.healthCheckId : change.groupId,
        awsCode: awsCode(e),
        cause: e,
        resolution:
          'Run `drctl failover-test` or `drctl up` again: both put back a recorded drill first. The change is recorded in the state until then.',
      });
    }
  }
  await writeDrill(ctx, undefined);
  return done;
}

/**
 * A drill a killed drctl left behind: put its changes back (the next `failover-test`, `up`, `step`
 * and `down` call this first). Returns what was done, or undefined when nothing was pending.
 */
export async function restorePendingDrill(ctx: DrillContext): Promise<string[] | undefined> {
  const record = pendingDrill(ctx.store);
  if (!record) return undefined;
  const done = await restoreAll(ctx, record);
  ctx.emit({
    type: 'restored-pending',
    text: `put back what an interrupted ${record.mode} drill (started ${record.startedAt}) changed: ${done.join('; ')}`,
    t: ctx.clock.now(),
  });
  return done;
}

// ---- preconditions -------------------------------------------------------------------------

/** `--region secondary` in active-passive: nothing to measure (docs/topology.md). */
export function secondaryInActivePassive(): UsageError {
  return new UsageError(
    'in active-passive the secondary serves no client while the primary is healthy: failing it moves no answer, so there is nothing to measure',
    {
      field: '--region',
      resolution:
        'Drill the primary (the default). `drctl verify` checks that the secondary serves through its own entry point; with "topology": "active-active" both regions serve and either can be drilled.',
    },
  );
}

function refuse(message: string, resolution: string): UsageError {
  return new UsageError(`refusing to inject: ${message}`, { field: 'failover-test', resolution });
}

async function checkPreconditions(
  ctx: DrillContext,
  t: Targets,
  mode: DrillMode,
  dryRun: boolean,
): Promise<{ texts: string[]; rules: IngressRuleRecord[] }> {
  const texts: string[] = [];
  const note = (text: string) => {
    texts.push(text);
    ctx.emit({ type: 'precondition', text, t: ctx.clock.now() });
  };
  note('up is complete: every step is recorded as ready');
  const { failed, other } = t;

  for (const v of t.vantages) {
    const fn = await ctx.aws
      .client(LambdaClient, v.region)
      .send(new GetFunctionConfigurationCommand({ FunctionName: t.functionName }))
      .catch((e: unknown) => {
        if (isNotFound(e))
          throw refuse(
            `the probe ${t.functionName} in ${v.region} is gone`,
            'Run `drctl up` to make it again.',
          );
        throw e;
      });
    if (fn.State !== 'Active') {
      throw refuse(
        `the probe ${t.functionName} in ${v.region} is ${fn.State}`,
        'Wait a minute (or run `drctl up`), then try again.',
      );
    }
  }

  const hc = await getHealthCheck(ctx, failed.healthCheckId);
  if (!hc)
    throw refuse(`the health check ${failed.healthCheckId} is gone`, 'Run `drctl up` to make it again.');
  if (hc.HealthCheckConfig?.Inverted) {
    throw refuse(
      `the health check ${failed.healthCheckId} is already inverted (changed outside drctl?)`,
      'Run `drctl up`: it sets Inverted back to false.',
    );
  }
  const status = await healthCheckStatus(ctx, failed.healthCheckId);
  if (!status.healthy) {
    throw refuse(
      `the ${failed.role} is not healthy: health check ${failed.healthCheckId} reports "${status.status}"`,
      'There is nothing to fail over from. Fix it (or wait for a previous drill to heal), then try again.',
    );
  }
  note(`${failed.role} health check ${failed.healthCheckId} is healthy`);
  if (activeActive(ctx.config) && other.healthCheckId) {
    // With both unhealthy Route 53 answers as if both were healthy: the failed region would keep
    // its clients, and the drill would measure nothing.
    const o = await healthCheckStatus(ctx, other.healthCheckId);
    if (!o.healthy) {
      throw refuse(
        `the ${other.role} (${other.region}) is not healthy either: health check ${other.healthCheckId} reports "${o.status}"`,
        `Clients of ${failed.region} would have nowhere to go. Fix ${other.region} first, then try again.`,
      );
    }
    note(`${other.role} health check ${other.healthCheckId} is healthy`);
  }

  if (other.targetGroupArn) {
    const th = await ctx.aws
      .client(ElasticLoadBalancingV2Client, other.region)
      .send(new DescribeTargetHealthCommand({ TargetGroupArn: other.targetGroupArn }));
    const states = (th.TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State ?? 'unknown');
    const healthy = states.filter((s) => s === 'healthy').length;
    if (healthy === 0) {
      throw refuse(
        `the ${other.role} has no healthy target (${states.join(', ') || 'none registered'}): a failover would land nowhere`,
        `Check the ${other.role} NLB's targets in ${other.region} (\`drctl status --refresh\`), then try again.`,
      );
    }
    note(`${other.role} NLB targets healthy: ${healthy}/${states.length}`);
  }
  if (other.vpcEndpointId) {
    const r = await ctx.aws
      .client(EC2Client, other.region)
      .send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [other.vpcEndpointId] }))
      .catch((e: unknown) => {
        if (isNotFound(e)) return { VpcEndpoints: [] };
        throw e;
      });
    // The API reports endpoint states in camelCase (`available`), the SDK enum in PascalCase.
    const state = (r.VpcEndpoints?.[0]?.State ?? 'gone').toLowerCase();
    if (state !== 'available') {
      throw refuse(
        `the ${other.role} endpoint ${other.vpcEndpointId} is ${state}: a failover would land nowhere`,
        `Check the ${other.role} endpoint in ${other.region} (\`drctl status --refresh\`), then try again.`,
      );
    }
    note(`${other.role} endpoint ${other.vpcEndpointId} is available`);
  }

  let rules: IngressRuleRecord[] = [];
  if (mode === 'outage') {
    // Just after `up` the alarm has no data yet (INSUFFICIENT_DATA, which the health check counts
    // as Unhealthy): an outage injected then would show a failure that was there before the fault.
    // Wait for it to settle.
    const alarm = await pollUntil({
      clock: ctx.clock,
      signal: ctx.signal,
      what: `alarm ${failed.alarmName} OK`,
      timeoutMs: ALARM_SETTLE_TIMEOUT_MS,
      minDelayMs: 15_000,
      maxDelayMs: 15_000,
      onProgress: (text) => ctx.emit({ type: 'wait', text, t: ctx.clock.now() }),
      check: async () => {
        const a = await alarmState(ctx, t);
        return a.state === 'OK' ? { done: true, value: a } : { done: false, status: a.state };
      },
    }).catch((e: unknown) => {
      if (ctx.signal.aborted) throw e;
      throw refuse(
        `the ${failed.role} canary's alarm ${failed.alarmName} is not OK (${errorMessage(e)})`,
        `${failed.region} is failing, or its canary has no data yet (the first minutes after \`up\`): fix it or wait, then try again.`,
      );
    });
    note(`${failed.role} canary alarm ${failed.alarmName} is ${alarm.state}`);
    rules = https443Rules(await describeGroup(ctx, failed.region, failed.endpointSecurityGroupId));
    if (!rules.length) {
      throw refuse(
        `security group ${failed.endpointSecurityGroupId} has no 443 ingress to revoke (already cut?)`,
        'Run `drctl up` to put the VPC stack back as built, then try again.',
      );
    }
    note(
      `${failed.role} endpoint security group ${failed.endpointSecurityGroupId} admits 443 from ${rules.map((r) => r.cidrIp).join(', ')}`,
    );
  }

  if (dryRun) {
    for (const v of t.vantages) note(`not invoked in a dry run: the probe ${t.functionName} in ${v.region}`);
    return { texts, rules };
  }
  for (const v of t.vantages) {
    // Before the fault: clients that will move are served by the failed region (in
    // active-passive the primary; in active-active the region of their own VPC), the others by
    // the other region.
    const want = v.moves ? failed : other;
    const before = await invokeProbe(ctx, t, v);
    if (sideOf(ctx, before) !== want.role || before.status !== 200 || before.region !== want.region) {
      throw refuse(
        `from inside ${v.region}, ${describeProbe(before)}; expected a 200 from ${want.region} through its ${t.entry}`,
        `Fix the ${want.role} path first (DNS answer, ${t.entry}, certificate, custom domain), then try again.`,
      );
    }
    note(`from inside ${v.region}: ${describeProbe(before)}`);
  }
  const mover = t.vantages[0]!;
  const viaOther = await invokeProbe(ctx, t, mover, other.entryDnsName);
  if (viaOther.status !== 200 || viaOther.region !== other.region) {
    throw refuse(
      `the ${other.role} does not serve ${t.name}: ${describeProbe(viaOther)}`,
      `Fix the ${other.role} path in ${other.region} (${t.entry === 'NLB' ? 'NLB targets' : 'endpoint, its access association'}, certificate, custom domain), then try again.`,
    );
  }
  note(`the ${other.role} serves ${t.name}: ${describeProbe(viaOther)}`);
  return { texts, rules };
}

// ---- watching ------------------------------------------------------------------------------

interface Watch {
  phase: 'failover' | 'failback';
  /** The region clients should end up served by. */
  to: 'primary' | 'secondary';
  marks: Mark[];
  start: number;
  deadline: number;
}

function mark(ctx: DrillContext, w: Watch, key: MarkKey, at: number): void {
  const m = w.marks.find((x) => x.key === key);
  if (!m || m.at !== undefined || m.note) return;
  m.at = at;
  // The fault and the restore are announced as changes when they are made.
  if (key !== 'fault')
    ctx.emit({ type: 'mark', phase: w.phase, key, label: m.label, t: at, sinceMs: at - w.start });
}

const open = (w: Watch) => w.marks.filter((m) => m.at === undefined && !m.note);

interface Counter {
  probes: number;
  samples: ProbeSampleAt[];
  /** Answers at a vantage whose clients must stay with the other region that were not a 200 from it. */
  steadyMisses: ProbeSampleAt[];
}

/**
 * Poll until every mark of the phase is seen, or the deadline. Each poll asks the probe at every
 * vantage point; the marks follow the one whose clients move. Returns the stop-condition text if
 * the clients' new region failed them repeatedly.
 */
async function watch(
  ctx: DrillContext,
  t: Targets,
  w: Watch,
  pollMs: number,
  counter: Counter,
): Promise<string | undefined> {
  const region = w.to === t.failed.role ? t.failed.region : t.other.region;
  let failures = 0;
  const last = new Map<string, string>();
  while (open(w).length) {
    if (ctx.clock.now() + pollMs > w.deadline) break;
    await ctx.clock.sleep(pollMs, ctx.signal);
    const polledAt = ctx.clock.now();
    for (const v of t.vantages) {
      const p = await invokeProbe(ctx, t, v);
      counter.probes++;
      const now = ctx.clock.now();
      const text = `${t.vantages.length > 1 ? `from ${v.region}: ` : ''}${describeProbe(p)}`;
      // A line when what the client gets changes, not when only the answer's remaining TTL does.
      const gist = text.replace(/ \(ttl \d+s\)/, '');
      if (gist !== last.get(v.region)) ctx.emit({ type: 'probe', phase: w.phase, text, t: now });
      last.set(v.region, gist);
      const side = sideOf(ctx, p);
      const sample: ProbeSampleAt = {
        t: now,
        phase: w.phase,
        vantage: v.region,
        answered: side ?? 'none',
        ...(p.status !== undefined ? { status: p.status } : {}),
        ...(p.region ? { servedBy: p.region } : {}),
        ...(p.error ? { error: p.error } : {}),
      };
      counter.samples.push(sample);
      if (!v.moves) {
        if (p.status !== 200 || p.region !== t.other.region) counter.steadyMisses.push(sample);
        continue;
      }
      const served = p.status === 200 && p.region === region;
      if (side === w.to) mark(ctx, w, 'dns', now);
      if (served) mark(ctx, w, 'served', now);
      if (w.phase === 'failover' && side === t.other.role && !served) {
        failures++;
        if (failures >= STOP_AFTER_FAILURES) {
          return `stop condition: ${failures} probes in a row were sent to ${t.other.region} and not served (${text})`;
        }
      } else failures = 0;
    }
    const hcOpen = open(w).some((m) => m.key === 'health-check');
    if (hcOpen) {
      const s = await healthCheckStatus(ctx, t.failed.healthCheckId);
      if (s.healthy === (w.to === t.failed.role)) mark(ctx, w, 'health-check', ctx.clock.now());
    }
    if (open(w).some((m) => m.key === 'alarm')) {
      const a = await alarmState(ctx, t);
      const want = w.to === t.other.role ? 'ALARM' : 'OK';
      // CloudWatch says when the state changed: nearer the truth than our poll.
      if (a.state === want)
        mark(ctx, w, 'alarm', Math.min(ctx.clock.now(), Math.max(w.start, a.updatedAt ?? polledAt)));
    }
  }
  for (const m of open(w)) m.note = `not seen within ${Math.round((w.deadline - w.start) / 1000)} s`;
  return undefined;
}

/** In active-active the marks name the region (either can be drilled) and where the probe sits. */
function labels(t: Targets) {
  const aa = t.vantages.length > 1;
  const r = aa ? `${t.failed.region} ` : '';
  const seen = aa ? ` (probe in ${t.failed.region})` : '';
  return { r, seen };
}

function failoverMarks(t: Targets, mode: DrillMode): Mark[] {
  const { r, seen } = labels(t);
  return [
    {
      key: 'fault',
      label:
        mode === 'invert'
          ? `fault injected: ${r}health check Inverted`
          : `fault injected: 443 ingress revoked on ${t.failed.endpointSecurityGroupId}${r ? ` (${t.failed.region})` : ''}`,
    },
    mode === 'outage'
      ? { key: 'alarm', label: `${r}alarm in ALARM` }
      : {
          key: 'alarm',
          label: `${r}alarm in ALARM`,
          note: 'n/a: an inverted check leaves the alarm alone',
        },
    { key: 'health-check', label: `${r}health check unhealthy` },
    { key: 'dns', label: `DNS answer switched to ${t.other.region}${seen}` },
    { key: 'served', label: `first 200 from ${t.other.region}${seen}` },
  ];
}

function failbackMarks(t: Targets, mode: DrillMode): Mark[] {
  const { r, seen } = labels(t);
  return [
    {
      key: 'fault',
      label: mode === 'invert' ? `restored: ${r}Inverted=false` : `${r}443 ingress restored`,
    },
    mode === 'outage'
      ? { key: 'alarm', label: `${r}alarm OK` }
      : { key: 'alarm', label: `${r}alarm OK`, note: 'n/a: an inverted check leaves the alarm alone' },
    { key: 'health-check', label: `${r}health check healthy` },
    { key: 'dns', label: `DNS answer back to ${t.failed.region}${seen}` },
    { key: 'served', label: `first 200 from ${t.failed.region}${seen}` },
  ];
}

// ---- the drill -----------------------------------------------------------------------------

export async function runDrill(ctx: DrillContext, o: DrillOptions): Promise<DrillResult | DryRunResult> {
  const bound = failoverBound(ctx.config, o.mode);
  const timeoutSeconds =
    o.timeoutMs !== undefined ? Math.round(o.timeoutMs / 1000) : defaultTimeoutSeconds(ctx.config, o.mode);
  const timeoutMs = timeoutSeconds * 1000;
  const pollMs = o.pollIntervalMs ?? DEFAULT_POLL_MS;

  if (!o.dryRun) await restorePendingDrill(ctx);
  else if (pendingDrill(ctx.store)) {
    ctx.emit({
      type: 'precondition',
      text: 'an interrupted drill is recorded: a real run puts its changes back first',
      t: ctx.clock.now(),
    });
  }
  requireComplete(ctx);
  const failRole = o.failRole ?? 'primary';
  if (failRole === 'secondary' && !activeActive(ctx.config)) throw secondaryInActivePassive();
  const t = targetsOf(ctx, failRole);
  const common = {
    mode: o.mode,
    topology: ctx.config.topology,
    primary: t.primary,
    secondary: t.secondary,
    failedRegion: t.failed.region,
    otherRegion: t.other.region,
    vantages: t.vantages,
    name: t.name,
    bound,
    rtoTargetSeconds: ctx.config.rtoTargetSeconds,
    timeoutSeconds,
  };
  const pre = await checkPreconditions(ctx, t, o.mode, !!o.dryRun);
  const change: DrillChange =
    o.mode === 'invert'
      ? { kind: 'health-check-inverted', healthCheckId: t.failed.healthCheckId }
      : {
          kind: 'ingress-revoked',
          region: t.failed.region,
          groupId: t.failed.endpointSecurityGroupId,
          rules: pre.rules,
        };
  if (o.dryRun) {
    const wouldChange =
      change.kind === 'health-check-inverted'
        ? [`UpdateHealthCheck ${change.healthCheckId} Inverted=true, then Inverted=false`]
        : [
            `RevokeSecurityGroupIngress ${change.groupId} in ${change.region}: ${change.rules.map((r) => `${r.ipProtocol} ${r.fromPort ?? 'all'}-${r.toPort ?? 'all'} from ${r.cidrIp}`).join(', ')}, then AuthorizeSecurityGroupIngress of the same rules`,
          ];
    return { ...common, dryRun: true, preconditions: pre.texts, wouldChange };
  }

  const failover: Mark[] = failoverMarks(t, o.mode);
  const failback: Mark[] = failbackMarks(t, o.mode);
  const counter: Counter = { probes: 0, samples: [], steadyMisses: [] };
  const problems: string[] = [];
  const record: DrillRecord = {
    mode: o.mode,
    startedAt: new Date(ctx.clock.now()).toISOString(),
    changes: [change],
  };
  // Recorded before the change: if drctl dies between the call and the next line, the next run
  // still knows what to put back (undo is idempotent, so a change never made is fine).
  await writeDrill(ctx, record);
  let injectedAt: number | undefined;
  let restoredAt: number | undefined;
  let interrupted = false;
  try {
    if (change.kind === 'health-check-inverted') await setInverted(ctx, change.healthCheckId, true);
    else {
      await ctx.aws.client(EC2Client, change.region).send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: change.groupId,
          IpPermissions: permissions(change.rules),
        }),
      );
    }
    injectedAt = ctx.clock.now();
    ctx.emit({ type: 'change', phase: 'inject', text: failover[0]!.label, t: injectedAt });
    const w: Watch = {
      phase: 'failover',
      to: t.other.role,
      marks: failover,
      start: injectedAt,
      deadline: injectedAt + timeoutMs,
    };
    mark(ctx, w, 'fault', injectedAt);
    const stop = await watch(ctx, t, w, pollMs, counter);
    if (stop) problems.push(stop);
  } catch (e) {
    interrupted = ctx.signal.aborted;
    throw e;
  } finally {
    // Always, also on an error or Ctrl-C: what the drill changed goes back now.
    const done = await restoreAll(ctx, record);
    restoredAt = ctx.clock.now();
    ctx.emit({
      type: 'change',
      phase: 'restore',
      text: `${done.join('; ')}${interrupted ? ' (interrupted: the fail-back is not watched)' : ''}`,
      t: restoredAt,
    });
  }

  const w: Watch = {
    phase: 'failback',
    to: t.failed.role,
    marks: failback,
    start: restoredAt,
    deadline: restoredAt + timeoutMs,
  };
  mark(ctx, w, 'fault', restoredAt);
  await watch(ctx, t, w, pollMs, counter);

  const at = (marks: Mark[], key: MarkKey) => marks.find((m) => m.key === key)?.at;
  const served = at(failover, 'served');
  const recoverySeconds = served !== undefined ? Math.round((served - injectedAt) / 1000) : undefined;
  const back = at(failback, 'served');
  const failbackSeconds = back !== undefined ? Math.round((back - restoredAt) / 1000) : undefined;
  if (recoverySeconds === undefined) {
    problems.push(
      `no failover within the timeout of ${timeoutSeconds} s: clients were never served by ${t.other.region}`,
    );
  } else if (recoverySeconds > ctx.config.rtoTargetSeconds) {
    problems.push(
      `recovery took ${recoverySeconds} s, over the target of ${ctx.config.rtoTargetSeconds} s (rtoTargetSeconds)`,
    );
  }
  if (failbackSeconds === undefined) {
    problems.push(
      `no fail-back within ${timeoutSeconds} s: clients were not served by ${t.failed.region} again`,
    );
  }
  const miss = counter.steadyMisses[0];
  if (miss) {
    const steady = counter.samples.filter((x) => x.vantage === miss.vantage).length;
    problems.push(
      `clients in ${miss.vantage} must stay with ${t.other.region} while ${t.failed.region} is failed, but ${counter.steadyMisses.length} of ${steady} answers there were not a 200 from it (the first: ${miss.status !== undefined ? `HTTP ${miss.status}${miss.servedBy ? ` from ${miss.servedBy}` : ''}` : (miss.error ?? 'no answer')})`,
    );
  }
  return {
    ...common,
    dryRun: false,
    preconditions: pre.texts,
    ok: problems.length === 0,
    problems,
    failover,
    failback,
    recoverySeconds,
    failbackSeconds,
    changes: record.changes,
    probes: counter.probes,
    samples: counter.samples,
  };
}
