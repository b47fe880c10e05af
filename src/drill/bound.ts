import { CANARY_PERIOD_S, canaryAlarmMetric } from '../canary-alarm.js';
import type { Config } from '../config.js';

/**
 * The longest a failover may take with this configuration, part by part, for `plan` and for the
 * drill's default timeout. Kept free of the AWS SDK: `plan` makes no AWS call and loads no client.
 *
 * A real fault travels: the canary's next run fails (up to one schedule period), then every run
 * fails until M of the last N periods hold a failed run (config canary.datapointsToAlarm of
 * canary.evaluationPeriods). Route 53 reads the alarm's metric data with its own copy of the
 * alarm, which carries EvaluationPeriods but not DatapointsToAlarm
 * (https://docs.aws.amazon.com/Route53/latest/APIReference/API_CloudWatchAlarmConfiguration.html):
 * if it does not apply M of N it waits for all N, so the worst case counts N periods. Route 53
 * then reacts (no documented figure: delays.md gives 30 s typical, 90 s slow, an ESTIMATE), and
 * resolvers keep the old answer for up to the record's TTL. An inverted health check skips the
 * canary and the alarm.
 */
export type DrillMode = 'invert' | 'outage';

export { CANARY_PERIOD_S } from '../canary-alarm.js';
/** delays.md §8, "CLOUDWATCH_METRIC health check reacting to an alarm change": the slow value, an ESTIMATE. */
export const ROUTE53_REACTION_S = 90;
/** An alias record to a load balancer answers with the ELB record's TTL, 60 s (traffic-policy.ts). */
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
            what: `alarm period x ${alarm.EvaluationPeriods} (${alarm.DatapointsToAlarm} of ${alarm.EvaluationPeriods} runs failed; Route 53 may need ${alarm.EvaluationPeriods})`,
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

/** How long the drill waits for each switch by default: twice the bound, so a slow AWS is measured, not cut off. */
export function defaultTimeoutSeconds(config: Config, mode: DrillMode): number {
  return 2 * failoverBound(config, mode).seconds;
}

export function describeBound(b: FailoverBound): string {
  return `${b.seconds} s (${b.parts.map((p) => `${p.what} ${p.seconds}`).join(' + ')})`;
}
