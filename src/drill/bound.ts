import { CANARY_PERIOD_S, canaryAlarmMetric } from '../config/canary-alarm.js';
import type { Config } from '../config/config.js';
import { holdAlarm } from '../config/traffic-hold.js';

/**
 * The longest a failover may take with this configuration, part by part, for `plan` and for the
 * drill's default timeout. Kept free of the AWS SDK: `plan` makes no AWS call and loads no client.
 *
 * A real fault travels: the canary's next run fails (up to one schedule period), then every run
 * fails. The CloudWatch alarm (what the user sees and is notified by) goes to ALARM on M of the
 * last N periods (canary.datapointsToAlarm of canary.evaluationPeriods), but that is not what fails
 * the region over: Route 53 "monitors the data stream for the corresponding alarm instead of
 * monitoring the alarm state"
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html),
 * with its own copy of the alarm, which has EvaluationPeriods and no DatapointsToAlarm
 * (https://docs.aws.amazon.com/Route53/latest/APIReference/API_CloudWatchAlarmConfiguration.html).
 * Without DatapointsToAlarm an alarm needs EvaluationPeriods consecutive breaching periods
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html), so the
 * bound counts N periods; M does not enter it. Route 53 then reacts (no documented figure:
 * the fake's delay table estimates 30 s typical, 90 s slow), and resolvers keep the old answer for up
 * to the record's TTL. An inverted health check skips the canary and the alarm.
 */
export type DrillMode = 'invert' | 'outage';

export { CANARY_PERIOD_S } from '../config/canary-alarm.js';
/** docs/design/timings.md §8, "CLOUDWATCH_METRIC health check reacting to an alarm change": the slow value, an ESTIMATE. */
export const ROUTE53_REACTION_S = 90;
/** An alias record to a load balancer answers with the ELB record's TTL, 60 s (steps/traffic-policy/records.ts). */
export const ELB_ALIAS_TTL_S = 60;

export interface BoundPart {
  what: string;
  seconds: number;
}

export interface FailoverBound {
  mode: DrillMode;
  seconds: number;
  parts: BoundPart[];
}

/** The TTL clients cache the answer for: failover records are aliases (the ELB's 60 s); a traffic policy uses config.ttl. */
export function answerTtlSeconds(config: Config): number {
  return config.routing === 'failover-records' ? ELB_ALIAS_TTL_S : config.ttl;
}

export function failoverBound(config: Config, mode: DrillMode): FailoverBound {
  const alarm = canaryAlarmMetric(config);
  const parts: BoundPart[] =
    mode === 'outage'
      ? [
          { what: 'canary period', seconds: CANARY_PERIOD_S },
          {
            what: `alarm period x ${alarm.EvaluationPeriods} (Route 53's copy of the alarm: ${alarm.EvaluationPeriods} failed in a row)`,
            seconds: alarm.Period * alarm.EvaluationPeriods,
          },
          { what: 'Route 53 reaction (undocumented, slow estimate)', seconds: ROUTE53_REACTION_S },
          { what: 'TTL', seconds: answerTtlSeconds(config) },
        ]
      : [
          {
            what: 'Route 53 reaction to Inverted (undocumented, slow estimate)',
            seconds: ROUTE53_REACTION_S,
          },
          { what: 'TTL', seconds: answerTtlSeconds(config) },
        ];
  return { mode, seconds: parts.reduce((a, p) => a + p.seconds, 0), parts };
}

/**
 * The longest an incident switch (`drctl failover`) may take, part by part: its PutMetricData lands
 * in the hold metric's current period, which Route 53's copy of the hold alarm (one period,
 * EvaluationPeriods 1: src/config/traffic-hold.ts) reads when the period is complete; then Route 53
 * reacts (the same undocumented estimate as the drill's), the CALCULATED check follows its child, and
 * resolvers keep the old answer up to the TTL. No canary in the path: the switch is not detected.
 */
export function switchBound(config: Config): { seconds: number; parts: BoundPart[] } {
  const hold = holdAlarm(config, config.primary.region);
  const parts: BoundPart[] = [
    { what: `hold alarm period x ${hold.EvaluationPeriods}`, seconds: hold.Period * hold.EvaluationPeriods },
    { what: 'Route 53 reaction (undocumented, slow estimate)', seconds: ROUTE53_REACTION_S },
    { what: 'TTL', seconds: answerTtlSeconds(config) },
  ];
  return { seconds: parts.reduce((a, p) => a + p.seconds, 0), parts };
}

/** How long a switch is measured before drctl stops watching: twice its bound, as the drill's timeout. */
export function switchTimeoutSeconds(config: Config): number {
  return 2 * switchBound(config).seconds;
}

/** How long the drill waits for each switch by default: twice the bound, so a slow AWS is measured, not cut off. */
export function defaultTimeoutSeconds(config: Config, mode: DrillMode): number {
  return 2 * failoverBound(config, mode).seconds;
}

export function describeBound(b: FailoverBound): string {
  return `${b.seconds} s (${b.parts.map((p) => `${p.what} ${p.seconds}`).join(' + ')})`;
}
