import type { Config } from './config.js';

/**
 * The traffic hold behind `drctl failover --to R` and `drctl failover --drain R` (docs/switch.md):
 * per region R, a CloudWatch alarm that lives in the OTHER region, on a metric only drctl writes.
 * Route 53 reads that metric's data stream through a CLOUDWATCH_METRIC health check ("hold R"),
 * which is a child of the CALCULATED health check on R's record, beside R's canary check. Writing 1
 * with PutMetricData in the region traffic moves TO holds it away from R; writing 0 releases it.
 * Both are data-plane calls in the healthy region: no Route 53 change (its control plane is in
 * us-east-1) and nothing in the region being left.
 *
 * Route 53 reads the data stream, not the alarm state
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html),
 * so a minute after the write the stream is empty again and the hold check's
 * InsufficientDataHealthStatus, LastKnownStatus, keeps the status the last datapoint gave
 * (https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html); a new
 * check with no data counts as healthy. The alarm treats missing data as `ignore` so that its own
 * state (what the console and `status` show) keeps the last write too
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html).
 * No SDK here: `plan` and `iam-policy` load this.
 */
export const HOLD_NAMESPACE = 'drctl';
export const HOLD_METRIC = 'TrafficHold';
/** The value that holds traffic away from a region, and the one that releases it. */
export const HOLD_ON = 1;
export const HOLD_OFF = 0;

/** The other region of the deployment. */
export function otherRegion(config: Config, region: string): string {
  return region === config.primary.region ? config.secondary.region : config.primary.region;
}

/** The hold alarm that keeps traffic away from `awayFrom`, and the region it lives in (the other). */
export function holdAlarm(config: Config, awayFrom: string) {
  return {
    AlarmName: `drctl-${config.deployment}-hold-${awayFrom}`,
    /** Where the alarm, its metric and the PutMetricData that trips it live: the other region. */
    region: otherRegion(config, awayFrom),
    Namespace: HOLD_NAMESPACE,
    MetricName: HOLD_METRIC,
    Dimensions: [
      { Name: 'Deployment', Value: config.deployment },
      { Name: 'AwayFrom', Value: awayFrom },
    ],
    // Standard resolution and a plain statistic: what Route 53 can read (API_AlarmIdentifier.html).
    Statistic: 'Maximum' as const,
    Period: 60,
    EvaluationPeriods: 1,
    Threshold: HOLD_ON,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold' as const,
    TreatMissingData: 'ignore' as const,
  };
}
export type HoldAlarm = ReturnType<typeof holdAlarm>;
