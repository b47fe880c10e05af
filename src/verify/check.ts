import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { callProbe } from '../aws/probe-invoke.js';
import {
  ACMPCAClient,
  DescribeCertificateAuthorityCommand,
  paginateListPermissions,
} from '@aws-sdk/client-acm-pca';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import {
  DescribeRouteTablesCommand,
  DescribeVpcPeeringConnectionsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  GetHealthCheckCommand,
  GetHealthCheckStatusCommand,
  GetTrafficPolicyInstanceCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type { ProbeResult } from '../assets/probe-function.js';
import { ROUTE53_REGION, type AwsClients } from '../aws/clients.js';
import { isNotFound, unlessNotFound } from '../aws/errors.js';
import { collect, leadingInPages } from '../aws/pages.js';
import { recordSetPages } from '../aws/route53-records.js';
import type { Clock } from '../lib/clock.js';
import { type Config, activeActive, regionsOf, withDefaults } from '../config/config.js';
import { GLOBAL, type State } from '../state/store.js';
import type { StepInfo } from '../steps/index.js';
import { configChanges } from './config-diff.js';
import { PRIVATE_DOMAIN_PROVISIONING_WINDOW_MS } from '../steps/probe.js';

// The checks behind `drctl verify`: each is a small function of the recorded state and read-only
// AWS calls, returning one line per thing it checked (ok / warn / fail, with the fix). A check that
// cannot read what it needs throws; the caller turns that into "could not check" (exit 1).
// Nothing here may send a mutating call: `verify` runs from cron and CI. The one Invoke is the
// probe function, which only resolves a name and GETs /health (src/assets/probe-function.ts).

export type Verdict = 'ok' | 'warn' | 'fail' | 'error';

export interface CheckLine {
  /** The check's id (stable, for scripts): `probe`, `certificate`, ... */
  check: string;
  /** The region it is about, when it is about one. */
  region?: string;
  status: Verdict;
  text: string;
  /** What to do when it is not ok. */
  fix?: string;
}

export interface VerifyContext {
  config: Config;
  state: Readonly<State>;
  aws: AwsClients;
  clock: Clock;
  steps: readonly StepInfo[];
  /** `status --refresh`'s look-up: the recorded resources each step finds gone. */
  missingResources(): Promise<Array<{ step: string; scope: string; missing: string[] }>>;
}

export interface VerifyCheck {
  id: string;
  title: string;
  run(ctx: VerifyContext): Promise<CheckLine[]>;
}

/** Under this many days a certificate is a warning (ACM renews 60 days ahead: renewal is failing). */
export const CERT_WARN_DAYS = 30;
/** Under this many days it is a failure: a failover next week would land on an expired certificate. */
export const CERT_FAIL_DAYS = 7;
/** The alarm must have had data this recently (the canary runs every minute). */
export const ALARM_DATA_WINDOW_MS = 10 * 60_000;
/** What ACM needs on a private CA to renew the certificates it issued. */
export const ACM_RENEWAL_ACTIONS = ['IssueCertificate', 'GetCertificate', 'ListPermissions'] as const;

const DAY_MS = 86_400_000;
const UP = 'Run `drctl up`: it puts back what it built.';

/** A recorded field a check needs is missing: the check fails with "run up" rather than erroring. */
class NotRecorded extends Error {}

function field(ctx: VerifyContext, step: string, scope: string, key: string): string {
  const v = ctx.state.steps[step]?.[scope]?.resources[key];
  if (typeof v !== 'string' || !v)
    throw new NotRecorded(`${key} of step ${step} in ${scope} is not recorded`);
  return v;
}

/** Where clients reach a region: its NLB, or with domainMode private its execute-api endpoint. */
function entryOf(ctx: VerifyContext, region: string): { dns: string; what: string } {
  return ctx.config.domainMode === 'private'
    ? { dns: field(ctx, 'domain', region, 'endpointDnsName'), what: `${region} endpoint` }
    : { dns: field(ctx, 'nlb', region, 'dnsName'), what: `${region} NLB` };
}

/** domainMode private has no NLB: the NLB checks have nothing to look at. */
const noNlb = (ctx: VerifyContext) => ctx.config.domainMode === 'private';

function optionalField(ctx: VerifyContext, step: string, scope: string, key: string): unknown {
  return ctx.state.steps[step]?.[scope]?.resources[key];
}

const ok = (check: string, text: string, region?: string): CheckLine => ({
  check,
  region,
  status: 'ok',
  text,
});
const fail = (check: string, text: string, fix: string, region?: string): CheckLine => ({
  check,
  region,
  status: 'fail',
  text,
  fix,
});
const warn = (check: string, text: string, fix: string, region?: string): CheckLine => ({
  check,
  region,
  status: 'warn',
  text,
  fix,
});

const fqdn = (n: string | undefined) => (n ?? '').toLowerCase().replace(/\.$/, '');
const route53 = (ctx: VerifyContext) => ctx.aws.client(Route53Client, ROUTE53_REGION);

/** Run a per-region body for both regions; a NotRecorded becomes that region's failure. */
async function perRegion(
  ctx: VerifyContext,
  check: string,
  body: (region: string) => Promise<CheckLine[]>,
): Promise<CheckLine[]> {
  const lines = await Promise.all(
    regionsOf(ctx.config).map((r) =>
      body(r).catch((e: unknown) => {
        if (e instanceof NotRecorded) return [fail(check, e.message, UP, r)];
        throw e;
      }),
    ),
  );
  return lines.flat();
}

async function global(check: string, body: () => Promise<CheckLine[]>): Promise<CheckLine[]> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof NotRecorded) return [fail(check, e.message, UP)];
    throw e;
  }
}

// ---- the checks ----------------------------------------------------------------------------

export const stateComplete: VerifyCheck = {
  id: 'state',
  title: 'every step recorded as ready',
  run(ctx) {
    const regions = regionsOf(ctx.config);
    const notReady: string[] = [];
    for (const info of ctx.steps) {
      if (info.unusedWhen?.(ctx.config)) continue; // records nothing with this config
      for (const scope of info.scope === 'global' ? [GLOBAL] : regions) {
        const status = ctx.state.steps[info.name]?.[scope]?.status;
        if (status !== 'ready') notReady.push(`${info.name} ${scope} (${status ?? 'not done'})`);
      }
    }
    if (optionalField(ctx, 'probe', GLOBAL, 'drill') !== undefined)
      return Promise.resolve([
        fail(
          'state',
          'an interrupted failover drill is recorded: its fault may still be in place',
          'Run `drctl up` (or `drctl failover-test`): it puts the drill back first.',
        ),
      ]);
    return Promise.resolve(
      notReady.length
        ? [
            fail(
              'state',
              `not built: ${notReady.join(', ')}`,
              'Run `drctl up` (it resumes where it stopped).',
            ),
          ]
        : [ok('state', `every step of ${regions.join(' and ')} is recorded as ready`)],
    );
  },
};

export const resourcesExist: VerifyCheck = {
  id: 'resources',
  title: 'every recorded resource exists',
  async run(ctx) {
    const drift = (await ctx.missingResources()).filter((d) => d.missing.length);
    if (!drift.length) return [ok('resources', 'every recorded resource exists in AWS')];
    return drift.map((d) =>
      fail(
        'resources',
        `step ${d.step} ${d.scope}: gone from AWS: ${d.missing.join(', ')}`,
        UP,
        d.scope === GLOBAL ? undefined : d.scope,
      ),
    );
  },
};

export const configUnchanged: VerifyCheck = {
  id: 'config',
  title: 'the config is the one `up` built',
  run(ctx) {
    const applied = ctx.state.applied;
    if (!applied)
      return Promise.resolve([
        warn(
          'config',
          'no record of the config `up` built with (state written by an older drctl, or `up` never finished)',
          'Run `drctl up` once: it records the config it built.',
        ),
      ]);
    const changes = configChanges(withDefaults(applied.config), ctx.config);
    return Promise.resolve(
      changes.length
        ? [
            fail(
              'config',
              `changed since \`up\` (${applied.at}): ${changes.join('; ')}`,
              'Run `drctl up` to build what the config now says, or put the config back.',
            ),
          ]
        : [ok('config', `unchanged since \`up\` (${applied.at})`)],
    );
  },
};

/** Ask the probe in the secondary VPC to GET https://<host>.<domain>/health through `via`. */
export async function invokeProbe(ctx: VerifyContext, via: string): Promise<ProbeResult> {
  const functionName = field(ctx, 'probe', GLOBAL, 'functionName');
  const region = field(ctx, 'probe', GLOBAL, 'region');
  const { result, functionError, text } = await callProbe(ctx.aws, region, functionName, via);
  if (functionError || !result) {
    return {
      answer: [],
      error: `the probe ${functionName} failed${functionError ? ` (${functionError})` : ''}: ${text.slice(0, 200)}`,
    };
  }
  return result;
}

const TLS_ERROR = /CERT|certificate|self[- ]signed|SSL|TLS|ERR_TLS|UNABLE_TO|altname/i;

export const probeThroughNlb: VerifyCheck = {
  id: 'probe',
  title: 'each region answers /health through its own NLB, with a certificate that verifies',
  run: (ctx) =>
    perRegion(ctx, 'probe', async (region) => {
      const name = `${ctx.config.host}.${ctx.config.domain}`;
      const entry = entryOf(ctx, region);
      const p = await invokeProbe(ctx, entry.dns);
      const url = `https://${name}/health`;
      if (p.status === 200 && p.region === region)
        return [
          ok('probe', `${url} through the ${entry.what}: 200 from ${region}, certificate verified`, region),
        ];
      // A new private custom domain or access association serves nothing for about 15 minutes
      // each (AWS): a failure that soon is provisioning, not a broken path.
      const associatedAt = noNlb(ctx)
        ? optionalField(ctx, 'domain', region, 'accessAssociationCreatedAt')
        : undefined;
      const age = typeof associatedAt === 'string' ? ctx.clock.now() - Date.parse(associatedAt) : NaN;
      if (age >= 0 && age < PRIVATE_DOMAIN_PROVISIONING_WINDOW_MS)
        return [
          warn(
            'probe',
            `${url} through the ${entry.what}: still provisioning (access association made ${Math.round(age / 60_000)} min ago; AWS takes about 15 min, and as long again for a new domain)`,
            'Wait, then run `drctl verify` again (or `drctl up`, which waits until it answers).',
            region,
          ),
        ];
      if (p.error && TLS_ERROR.test(p.error))
        return [
          fail(
            'probe',
            `${url} through the ${entry.what}: the certificate does not verify (${p.error})`,
            noNlb(ctx)
              ? `The ${region} private custom domain must hold the ${region} CA's certificate for ${name} and an access association with the endpoint: run \`drctl up\`.`
              : `The NLB listener must serve the ${region} CA's certificate for ${name}: run \`drctl up\`.`,
            region,
          ),
        ];
      const got = p.error ? p.error : `${p.status ?? 'no status'}${p.region ? ` from ${p.region}` : ''}`;
      return [
        fail(
          'probe',
          `${url} through the ${entry.what}, from inside the VPC: ${got}`,
          `Check the ${region} path (${noNlb(ctx) ? 'VPC endpoint, access association, custom domain policy' : 'NLB listener and targets, VPC endpoint, custom domain'}, API): \`drctl status --refresh\`, then \`drctl up\`.`,
          region,
        ),
      ];
    }),
};

export const certificates: VerifyCheck = {
  id: 'certificate',
  title: 'certificates issued, days to expiry',
  run: (ctx) =>
    perRegion(ctx, 'certificate', async (region) => {
      const arn = field(ctx, 'ca', region, 'certificateArn');
      const c = (
        await unlessNotFound(async () =>
          ctx.aws.client(ACMClient, region).send(new DescribeCertificateCommand({ CertificateArn: arn })),
        )
      )?.Certificate;
      if (!c) return [fail('certificate', `certificate ${arn} is gone`, UP, region)];
      if (c.Status !== 'ISSUED')
        return [fail('certificate', `certificate ${arn} is ${c.Status}`, UP, region)];
      if (!c.NotAfter) return [ok('certificate', `certificate ${arn} is issued (no expiry given)`, region)];
      const days = Math.floor((c.NotAfter.getTime() - ctx.clock.now()) / DAY_MS);
      const when = c.NotAfter.toISOString().slice(0, 10);
      const renew =
        'ACM renews a private certificate 60 days before it expires if its CA lets it (the ca-renewal check); ' +
        "if it did not, see the certificate's RenewalSummary in ACM, or run `drctl step ca` to issue a new one.";
      const summary = c.RenewalSummary;
      const renewal =
        summary?.RenewalStatus === 'FAILED'
          ? `; ACM's last renewal attempt FAILED${summary.RenewalStatusReason ? ` (${summary.RenewalStatusReason})` : ''}`
          : c.RenewalEligibility === 'INELIGIBLE'
            ? '; ACM will not renew it (RenewalEligibility INELIGIBLE)'
            : '';
      if (days < 0)
        return [fail('certificate', `certificate ${arn} expired on ${when}${renewal}`, renew, region)];
      if (days < CERT_FAIL_DAYS)
        return [
          fail('certificate', `certificate expires in ${days} days (${when})${renewal}`, renew, region),
        ];
      if (days < CERT_WARN_DAYS || renewal)
        return [
          warn('certificate', `certificate expires in ${days} days (${when})${renewal}`, renew, region),
        ];
      return [ok('certificate', `certificate issued, expires in ${days} days (${when})`, region)];
    }),
};

export const caRenewal: VerifyCheck = {
  id: 'ca-renewal',
  title: 'ACM may renew: the CA grants acm.amazonaws.com its renewal actions',
  run: (ctx) =>
    perRegion(ctx, 'ca-renewal', async (region) => {
      const arn = optionalField(ctx, 'ca', region, 'certificateAuthorityArn');
      if (arn === null)
        return [
          ok(
            'ca-renewal',
            'the certificate is your own (config.certificateArn): its renewal is yours',
            region,
          ),
        ];
      const caArn = field(ctx, 'ca', region, 'certificateAuthorityArn');
      const pca = ctx.aws.client(ACMPCAClient, region);
      const ca = (
        await unlessNotFound(async () =>
          pca.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn })),
        )
      )?.CertificateAuthority;
      if (!ca) return [fail('ca-renewal', `CA ${caArn} is gone`, UP, region)];
      if (ca.Status !== 'ACTIVE')
        return [
          fail('ca-renewal', `CA ${caArn} is ${ca.Status}: it issues nothing, renewals included`, UP, region),
        ];
      const permissions = await collect(
        paginateListPermissions({ client: pca }, { CertificateAuthorityArn: caArn }),
        (p) => p.Permissions,
      );
      const granted = new Set(
        permissions.filter((p) => p.Principal === 'acm.amazonaws.com').flatMap((p) => p.Actions ?? []),
      );
      const missing = ACM_RENEWAL_ACTIONS.filter((a) => !granted.has(a));
      if (!missing.length)
        return [ok('ca-renewal', `CA grants acm.amazonaws.com ${ACM_RENEWAL_ACTIONS.join(', ')}`, region)];
      return [
        fail(
          'ca-renewal',
          `CA ${caArn} does not grant acm.amazonaws.com ${missing.join(', ')}: ACM cannot renew the certificate`,
          `Run \`drctl up\`, or \`aws acm-pca create-permission --region ${region} --certificate-authority-arn ${caArn} --principal acm.amazonaws.com --actions IssueCertificate GetCertificate ListPermissions\`.`,
          region,
        ),
      ];
    }),
};

export const listeners: VerifyCheck = {
  id: 'listener',
  title: 'each NLB has its TLS 443 listener with the certificate, forwarding to the targets',
  run: (ctx) =>
    perRegion(ctx, 'listener', async (region) => {
      if (noNlb(ctx)) return [ok('listener', 'no NLB with domainMode private: nothing to check', region)];
      const arn = field(ctx, 'nlb', region, 'listenerArn');
      const tg = field(ctx, 'nlb', region, 'targetGroupArn');
      const cert = field(ctx, 'ca', region, 'certificateArn');
      const l = (
        await unlessNotFound(async () =>
          ctx.aws
            .client(ElasticLoadBalancingV2Client, region)
            .send(new DescribeListenersCommand({ ListenerArns: [arn] })),
        )
      )?.Listeners?.[0];
      if (!l)
        return [fail('listener', `listener ${arn} is gone: the NLB answers nothing on 443`, UP, region)];
      const problems: string[] = [];
      if (l.Port !== 443 || l.Protocol !== 'TLS') problems.push(`it is ${l.Protocol} ${l.Port}, not TLS 443`);
      if (!(l.Certificates ?? []).some((c) => c.CertificateArn === cert))
        problems.push(`it does not serve certificate ${cert}`);
      const forwards = (l.DefaultActions ?? []).some(
        (a) =>
          a.TargetGroupArn === tg ||
          (a.ForwardConfig?.TargetGroups ?? []).some((t) => t.TargetGroupArn === tg),
      );
      if (!forwards) problems.push(`it does not forward to target group ${tg}`);
      return problems.length
        ? [fail('listener', `listener ${arn}: ${problems.join('; ')}`, UP, region)]
        : [ok('listener', 'TLS 443 with the certificate, forwarding to the endpoint targets', region)];
    }),
};

/** Route 53's checkers agree for a CLOUDWATCH_METRIC check; healthy when more than 18% say so. */
function healthyShare(observations: Array<{ StatusReport?: { Status?: string } }> | undefined) {
  const reports = (observations ?? []).map((o) => o.StatusReport?.Status ?? '');
  const healthy = reports.filter((s) => s.startsWith('Success')).length;
  return {
    healthy: reports.length > 0 && healthy / reports.length > 0.18,
    status: reports[0] ?? 'no observations',
  };
}

/** The regions whose health check decides where clients go: the primary, and in active-active both. */
const servingRegions = (ctx: VerifyContext) => {
  const [primary, secondary] = regionsOf(ctx.config);
  return activeActive(ctx.config) ? [primary, secondary] : [primary];
};

export const primaryHealthCheck: VerifyCheck = {
  id: 'health-check',
  title: "the primary health check is healthy (in active-active: each region's)",
  run: (ctx) =>
    global('health-check', async () => {
      const [primary] = regionsOf(ctx.config);
      const lines: CheckLine[] = [];
      for (const region of servingRegions(ctx)) {
        const role = region === primary ? 'primary' : 'secondary';
        // One line per region in active-active; the one line of active-passive names none.
        const where = activeActive(ctx.config) ? region : undefined;
        const id = field(ctx, 'health-check', GLOBAL, `${role}HealthCheckId`);
        const hc = (
          await unlessNotFound(async () =>
            route53(ctx).send(new GetHealthCheckCommand({ HealthCheckId: id })),
          )
        )?.HealthCheck;
        if (!hc) {
          lines.push(fail('health-check', `health check ${id} (${role}) is gone`, UP, where));
          continue;
        }
        if (hc.HealthCheckConfig?.Inverted) {
          lines.push(
            fail(
              'health-check',
              `health check ${id} (${role}) is inverted (a drill left it, or a hand change)`,
              'Run `drctl up`: it sets Inverted back to false.',
              where,
            ),
          );
          continue;
        }
        const s = healthyShare(
          (await route53(ctx).send(new GetHealthCheckStatusCommand({ HealthCheckId: id })))
            .HealthCheckObservations,
        );
        const away = activeActive(ctx.config)
          ? `clients are answered by the other region, not ${region}`
          : 'clients are sent to the secondary now';
        lines.push(
          s.healthy
            ? ok('health-check', `health check ${id} (${role}) is healthy`, where)
            : fail(
                'health-check',
                `health check ${id} (${role}) reports "${s.status}": ${away}`,
                `${region} is failing (see the probe and alarm lines), or its canary has no data.`,
                where,
              ),
        );
      }
      return lines;
    }),
};

/** The alarm's metric, as GetMetricStatistics takes it (a plain metric or the first of a math expression). */
function metricOf(a: MetricAlarm) {
  if (a.MetricName && a.Namespace)
    return {
      Namespace: a.Namespace,
      MetricName: a.MetricName,
      Dimensions: a.Dimensions,
      Period: a.Period ?? 60,
    };
  const m = a.Metrics?.find((x) => x.MetricStat)?.MetricStat;
  if (!m?.Metric?.MetricName || !m.Metric.Namespace) return undefined;
  return {
    Namespace: m.Metric.Namespace,
    MetricName: m.Metric.MetricName,
    Dimensions: m.Metric.Dimensions,
    Period: m.Period ?? 60,
  };
}

export const alarmFed: VerifyCheck = {
  id: 'alarm',
  title: "the primary canary's alarm is OK and fed with recent data (in active-active: each region's)",
  run: (ctx) =>
    global('alarm', async () => {
      const lines: CheckLine[] = [];
      for (const region of servingRegions(ctx)) lines.push(await alarmLine(ctx, region));
      return lines;
    }),
};

async function alarmLine(ctx: VerifyContext, region: string): Promise<CheckLine> {
  const name = field(ctx, 'canary', region, 'alarmName');
  const cw = ctx.aws.client(CloudWatchClient, region);
  const a = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms?.[0];
  if (!a) return fail('alarm', `alarm ${name} is gone: the health check has nothing to follow`, UP, region);
  const metric = metricOf(a);
  if (!metric) return fail('alarm', `alarm ${name} watches no metric drctl knows`, UP, region);
  const now = ctx.clock.now();
  const stats = await cw.send(
    new GetMetricStatisticsCommand({
      Namespace: metric.Namespace,
      MetricName: metric.MetricName,
      Dimensions: metric.Dimensions,
      StartTime: new Date(now - ALARM_DATA_WINDOW_MS),
      EndTime: new Date(now),
      Period: metric.Period,
      Statistics: ['SampleCount'],
    }),
  );
  const points = stats.Datapoints ?? [];
  const minutes = ALARM_DATA_WINDOW_MS / 60_000;
  if (!points.length)
    return fail(
      'alarm',
      `alarm ${name}: no ${metric.MetricName} data in the last ${minutes} minutes (the canary is not running, or cannot publish)`,
      `Check the canary in ${region} (running? its VPC's way to S3 and CloudWatch?); \`drctl up\` starts it again.`,
      region,
    );
  if (a.StateValue !== 'OK')
    return fail(
      'alarm',
      `alarm ${name} is ${a.StateValue}: ${a.StateReason ?? ''}`.trim(),
      `${region} is failing from its canary's view: see the probe line for what a client gets.`,
      region,
    );
  return ok(
    'alarm',
    `alarm ${name} is OK, ${points.length} data point(s) in the last ${minutes} minutes`,
    region,
  );
}

export const failoverRecords: VerifyCheck = {
  id: 'dns',
  title:
    'the failover records point at the NLBs (or endpoints), the primary with its health check (in active-active: the latency records, each with its own)',
  run: (ctx) =>
    global('dns', async () => {
      const [primary, secondary] = regionsOf(ctx.config);
      const name = field(ctx, 'traffic-policy', GLOBAL, 'recordName');
      const mode = field(ctx, 'traffic-policy', GLOBAL, 'mode');
      if (mode === 'traffic-policy') {
        const id = field(ctx, 'traffic-policy', GLOBAL, 'trafficPolicyInstanceId');
        const i = (
          await unlessNotFound(async () => route53(ctx).send(new GetTrafficPolicyInstanceCommand({ Id: id })))
        )?.TrafficPolicyInstance;
        if (!i) return [fail('dns', `traffic policy instance ${id} for ${name} is gone`, UP)];
        return i.State === 'Applied'
          ? [ok('dns', `traffic policy instance ${id} for ${name} is Applied`)]
          : [fail('dns', `traffic policy instance ${id} is ${i.State}: ${i.Message ?? ''}`.trim(), UP)];
      }
      const zoneId = field(ctx, 'traffic-policy', GLOBAL, 'hostedZoneId');
      const hcId = field(ctx, 'health-check', GLOBAL, 'primaryHealthCheckId');
      if (activeActive(ctx.config)) return latencyRecordLines(ctx, zoneId, name, hcId);
      const want = {
        PRIMARY: { ...entryOf(ctx, primary), region: primary, hc: hcId },
        SECONDARY: { ...entryOf(ctx, secondary), region: secondary, hc: undefined },
      };
      const sets = await leadingInPages(
        recordSetPages(ctx, zoneId, { name, type: 'A' }),
        (p) => p.ResourceRecordSets,
        (s) => fqdn(s.Name) === fqdn(name) && s.Type === 'A',
      );
      const lines: CheckLine[] = [];
      for (const role of ['PRIMARY', 'SECONDARY'] as const) {
        const w = want[role];
        const s = sets.find((x) => x.Failover === role);
        if (!s) {
          lines.push(fail('dns', `no ${role} record for ${name}`, UP));
          continue;
        }
        const target = fqdn(s.AliasTarget?.DNSName);
        if (target !== fqdn(w.dns))
          lines.push(
            fail(
              'dns',
              `the ${role} record for ${name} points at ${target || 'no alias'}, not the ${w.what} ${w.dns}`,
              UP,
            ),
          );
        else if (w.hc && s.HealthCheckId !== w.hc)
          lines.push(
            fail(
              'dns',
              `the ${role} record for ${name} has ${s.HealthCheckId ? `health check ${s.HealthCheckId}` : 'no health check'}, not ${w.hc}: it would never fail over`,
              UP,
            ),
          );
        else lines.push(ok('dns', `${role} ${name} -> ${w.what}${w.hc ? ` with health check ${w.hc}` : ''}`));
      }
      return lines;
    }),
};

/** Active-active: one latency record per region, aliasing that region's entry, with its health check. */
async function latencyRecordLines(
  ctx: VerifyContext,
  zoneId: string,
  name: string,
  primaryHc: string,
): Promise<CheckLine[]> {
  const [primary, secondary] = regionsOf(ctx.config);
  const secondaryHc = field(ctx, 'health-check', GLOBAL, 'secondaryHealthCheckId');
  const sets = await leadingInPages(
    recordSetPages(ctx, zoneId, { name, type: 'A' }),
    (p) => p.ResourceRecordSets,
    (s) => fqdn(s.Name) === fqdn(name) && s.Type === 'A',
  );
  const lines: CheckLine[] = [];
  if (sets.some((s) => s.Failover))
    lines.push(
      fail('dns', `${name} still has failover records: topology active-active wants latency records`, UP),
    );
  for (const [region, hc] of [
    [primary, primaryHc],
    [secondary, secondaryHc],
  ] as const) {
    const w = entryOf(ctx, region);
    const s = sets.find((x) => x.Region === region);
    if (!s) lines.push(fail('dns', `no latency record for ${name} in ${region}`, UP, region));
    else if (fqdn(s.AliasTarget?.DNSName) !== fqdn(w.dns))
      lines.push(
        fail(
          'dns',
          `the ${region} latency record for ${name} points at ${fqdn(s.AliasTarget?.DNSName) || 'no alias'}, not the ${w.what} ${w.dns}`,
          UP,
          region,
        ),
      );
    else if (s.HealthCheckId !== hc)
      lines.push(
        fail(
          'dns',
          `the ${region} latency record for ${name} has ${s.HealthCheckId ? `health check ${s.HealthCheckId}` : 'no health check'}, not ${hc}: clients would stay on ${region} when it fails`,
          UP,
          region,
        ),
      );
    else lines.push(ok('dns', `latency ${region} ${name} -> ${w.what} with health check ${hc}`, region));
  }
  return lines;
}

export const peering: VerifyCheck = {
  id: 'peering',
  title: 'peering active, with routes both ways',
  run: (ctx) =>
    global('peering', async () => {
      const [primary] = regionsOf(ctx.config);
      const pcx = field(ctx, 'peering', GLOBAL, 'vpcPeeringConnectionId');
      const routes = (optionalField(ctx, 'peering', GLOBAL, 'routes') ?? []) as Array<{
        region: string;
        routeTableId: string;
        destinationCidrBlock: string;
      }>;
      let conn;
      try {
        conn = (
          await ctx.aws
            .client(EC2Client, primary)
            .send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [pcx] }))
        ).VpcPeeringConnections?.[0];
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      const status = conn?.Status?.Code;
      if (!conn || status !== 'active')
        return [
          fail('peering', `peering ${pcx} is ${status ?? 'gone'}: the regions cannot reach each other`, UP),
        ];
      const lines: CheckLine[] = [];
      for (const region of regionsOf(ctx.config)) {
        const mine = routes.filter((r) => r.region === region);
        if (!mine.length) {
          lines.push(fail('peering', `no route through ${pcx} is recorded in ${region}`, UP, region));
          continue;
        }
        const tables =
          (
            await ctx.aws
              .client(EC2Client, region)
              .send(
                new DescribeRouteTablesCommand({
                  RouteTableIds: [...new Set(mine.map((r) => r.routeTableId))],
                }),
              )
              .catch((e: unknown) => {
                if (isNotFound(e)) return { RouteTables: [] };
                throw e;
              })
          ).RouteTables ?? [];
        const broken = mine.filter((want) => {
          const t = tables.find((x) => x.RouteTableId === want.routeTableId);
          const route = t?.Routes?.find((x) => x.DestinationCidrBlock === want.destinationCidrBlock);
          return !route || route.VpcPeeringConnectionId !== pcx || route.State === 'blackhole';
        });
        // A subnet uses its explicitly associated table, else the main one, which drctl never
        // routes: every subnet clients use must still be associated with a routed table.
        const served = [
          ...((optionalField(ctx, 'vpc', region, 'privateSubnetIds') as string[] | undefined) ?? []),
          optionalField(ctx, 'vpc', region, 'publicSubnetId'),
        ].filter((x): x is string => typeof x === 'string');
        const stray = served.filter(
          (subnet) => !tables.some((t) => t.Associations?.some((a) => a.SubnetId === subnet && !a.Main)),
        );
        lines.push(
          broken.length
            ? fail(
                'peering',
                `missing route(s) through ${pcx}: ${broken.map((b) => `${b.routeTableId} -> ${b.destinationCidrBlock}`).join(', ')}`,
                UP,
                region,
              )
            : stray.length
              ? fail(
                  'peering',
                  `subnet(s) ${stray.join(', ')} lost their route table association: the VPC's main ` +
                    'table they now use has no route to the other VPC',
                  'Run `drctl up`: it names the table each subnet must be associated with again.',
                  region,
                )
              : ok('peering', `${mine.length} route(s) to the other VPC through ${pcx}`, region),
        );
      }
      return [ok('peering', `peering ${pcx} is active`), ...lines];
    }),
};

export const secondaryTargets: VerifyCheck = {
  id: 'targets',
  title:
    "the secondary NLB's targets are healthy (in active-active: each region's, since either takes the other's clients)",
  run: (ctx) =>
    global('targets', async () => {
      const [primary, secondary] = regionsOf(ctx.config);
      if (noNlb(ctx))
        return [ok('targets', 'no NLB targets with domainMode private: nothing to check', secondary)];
      const lines: CheckLine[] = [];
      for (const region of activeActive(ctx.config) ? [primary, secondary] : [secondary]) {
        const tg = field(ctx, 'nlb', region, 'targetGroupArn');
        const th = await ctx.aws
          .client(ElasticLoadBalancingV2Client, region)
          .send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
        const states = (th.TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State ?? 'unknown');
        const healthy = states.filter((s) => s === 'healthy').length;
        const text = `${healthy}/${states.length} targets healthy (${states.join(', ') || 'none registered'})`;
        const fix = `Check the endpoint and its security group in ${region} (\`drctl status --refresh\`), then \`drctl up\`.`;
        if (healthy === 0) lines.push(fail('targets', `${text}: a failover would land nowhere`, fix, region));
        else if (healthy < states.length) lines.push(warn('targets', text, fix, region));
        else lines.push(ok('targets', text, region));
      }
      return lines;
    }),
};

/** In the order people read them: is it built, is it the same, does it answer, would it fail over. */
export const CHECKS: readonly VerifyCheck[] = [
  stateComplete,
  configUnchanged,
  resourcesExist,
  probeThroughNlb,
  certificates,
  caRenewal,
  listeners,
  primaryHealthCheck,
  alarmFed,
  failoverRecords,
  peering,
  secondaryTargets,
];
