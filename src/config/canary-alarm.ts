import type { Config } from './config.js';

/**
 * The canary alarm's metric settings, from the config: the canary step puts them on the alarm,
 * the health-check step compares Route 53's copy of them (CloudWatchAlarmConfiguration) and
 * `plan` derives the failover bound from them. No AWS SDK here: `plan` loads this.
 *
 * SuccessPercent, Average < 100 on M (datapointsToAlarm) of the last N (evaluationPeriods)
 * one-minute periods; missing data stays missing, so a silent canary leaves the alarm
 * INSUFFICIENT_DATA and the health check's InsufficientDataHealthStatus decides (Unhealthy).
 */
export const CANARY_NAMESPACE = 'CloudWatchSynthetics';
/** The canary runs rate(1 minute); the alarm's period matches it. */
export const CANARY_PERIOD_S = 60;

export function canaryAlarmMetric(config: Config) {
  return {
    Namespace: CANARY_NAMESPACE,
    MetricName: 'SuccessPercent',
    // One run a minute: a period's SuccessPercent is 100 (passed) or 0 (failed).
    Statistic: 'Average' as const,
    Period: CANARY_PERIOD_S,
    EvaluationPeriods: config.canary.evaluationPeriods,
    DatapointsToAlarm: config.canary.datapointsToAlarm,
    Threshold: 100,
    ComparisonOperator: 'LessThanThreshold' as const,
    // `missing`: a late or lost datapoint is not a failed run (CloudWatch compares the real ones),
    // and a canary that stops publishing leaves the alarm INSUFFICIENT_DATA once its evaluation
    // range is empty. `breaching` would count every late datapoint as a failure
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html).
    TreatMissingData: 'missing' as const,
  };
}
