import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import {
  GetHealthCheckCommand,
  GetHealthCheckStatusCommand,
  GetTrafficPolicyInstanceCommand,
} from '@aws-sdk/client-route-53';
import { unlessNotFound } from '../aws/errors.js';
import { leadingInPages } from '../aws/pages.js';
import { recordSetPages } from '../aws/route53-records.js';
import { activeActive, regionsOf } from '../config/config.js';
import { outputField, recordedOutputs } from '../state/outputs.js';
import { canaryTrouble } from './canary-trouble.js';
import { GLOBAL } from '../state/schema.js';
import {
  type CheckLine,
  UP,
  type VerifyCheck,
  type VerifyContext,
  entryOf,
  fail,
  fqdn,
  global,
  healthCheckKey,
  ok,
  route53,
} from './check.js';

// Would it fail over: the health checks are healthy and not inverted, the canary alarms they follow
// are OK and fed, and the DNS records point at the right entry points with the right health checks.

/** The alarm must have had data this recently (the canary runs every minute). */
export const ALARM_DATA_WINDOW_MS = 10 * 60_000;

/** Route 53's checkers agree for a CLOUDWATCH_METRIC check; healthy when more than 18% say so. */
export function healthyShare(observations: Array<{ StatusReport?: { Status?: string } }> | undefined) {
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
        const id = outputField(ctx.state, 'health-check', GLOBAL, healthCheckKey(role));
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

/**
 * What to do when the canary's results do not reach CloudWatch. drctl's own VPC has its way out
 * (S3 gateway and monitoring endpoints, or the NAT) and `up` puts it back; a team's VPC
 * (`vpcId` in the config) is the team's to give one, since drctl changes nothing in it.
 */
function wayOutFix(ctx: VerifyContext, region: string): string {
  const vpc = recordedOutputs(ctx.state, 'vpc', region);
  if (vpc?.ownership !== 'used')
    return `Check the way out of the VPC of the canary in ${region} (to S3 and CloudWatch); \`drctl up\` puts it back.`;
  return (
    `${vpc.vpcId} is your VPC: drctl adds no way out to it. Give its subnets ` +
    `${(vpc.privateSubnetIds ?? []).join(', ')} a way to S3 and CloudWatch: an S3 gateway endpoint ` +
    `on their route table and a com.amazonaws.${region}.monitoring interface endpoint with ` +
    'private DNS, or a NAT gateway (docs/your-own-api.md).'
  );
}

async function alarmLine(ctx: VerifyContext, region: string): Promise<CheckLine> {
  const name = outputField(ctx.state, 'canary', region, 'alarmName');
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
  if (!points.length) {
    const noData = `alarm ${name}: no ${metric.MetricName} data in the last ${minutes} minutes`;
    // Synthetics' own word first: a canary that is stopped, in ERROR or cannot run its Lambda
    // is not a network problem.
    const trouble = await canaryTrouble(ctx, region);
    if (trouble) return fail('alarm', `${noData}: ${trouble.text}`, trouble.fix, region);
    return fail(
      'alarm',
      `${noData} (the canary runs, but its results do not reach CloudWatch)`,
      wayOutFix(ctx, region),
      region,
    );
  }
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
      const name = outputField(ctx.state, 'traffic-policy', GLOBAL, 'recordName');
      const mode = outputField(ctx.state, 'traffic-policy', GLOBAL, 'mode');
      if (mode === 'traffic-policy') {
        const id = outputField(ctx.state, 'traffic-policy', GLOBAL, 'trafficPolicyInstanceId');
        const i = (
          await unlessNotFound(async () => route53(ctx).send(new GetTrafficPolicyInstanceCommand({ Id: id })))
        )?.TrafficPolicyInstance;
        if (!i) return [fail('dns', `traffic policy instance ${id} for ${name} is gone`, UP)];
        return i.State === 'Applied'
          ? [ok('dns', `traffic policy instance ${id} for ${name} is Applied`)]
          : [fail('dns', `traffic policy instance ${id} is ${i.State}: ${i.Message ?? ''}`.trim(), UP)];
      }
      const zoneId = outputField(ctx.state, 'traffic-policy', GLOBAL, 'hostedZoneId');
      const hcId =
        recordCheckOf(ctx, primary) ?? outputField(ctx.state, 'health-check', GLOBAL, 'primaryHealthCheckId');
      if (activeActive(ctx.config)) return latencyRecordLines(ctx, zoneId, name, hcId);
      const want = {
        PRIMARY: { ...entryOf(ctx, primary), region: primary, hc: hcId },
        // Its CALCULATED check (the traffic hold); none in a state from before the hold.
        SECONDARY: { ...entryOf(ctx, secondary), region: secondary, hc: recordCheckOf(ctx, secondary) },
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

/**
 * The health check `region`'s record uses: its CALCULATED check (canary and traffic hold:
 * steps/health-check/), or its canary check in a state from before the traffic hold.
 */
function recordCheckOf(ctx: VerifyContext, region: string): string | undefined {
  const hc = recordedOutputs(ctx.state, 'health-check', GLOBAL);
  const which = region === ctx.config.primary.region ? 'primary' : 'secondary';
  return hc?.recordHealthCheckIds?.[region] ?? hc?.[`${which}HealthCheckId`];
}

/** Active-active: one latency record per region, aliasing that region's entry, with its health check. */
async function latencyRecordLines(
  ctx: VerifyContext,
  zoneId: string,
  name: string,
  primaryHc: string,
): Promise<CheckLine[]> {
  const [primary, secondary] = regionsOf(ctx.config);
  const secondaryHc =
    recordCheckOf(ctx, secondary) ?? outputField(ctx.state, 'health-check', GLOBAL, 'secondaryHealthCheckId');
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
