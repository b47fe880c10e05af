import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  ListTagsForResourceCommand as ListAlarmTagsCommand,
  type MetricAlarm,
  PutMetricAlarmCommand,
} from '@aws-sdk/client-cloudwatch';
import { isNotFound } from '../../aws/errors.js';
import { isOwnedBy } from '../../aws/tags.js';
import { canaryAlarmMetric } from '../../config/canary-alarm.js';
import type { Ctx } from './common.js';

// The CloudWatch alarm <deployment>-canary-<region> on the canary's SuccessPercent (M of N runs
// failed), which the health-check step watches.

function alarmSpec(ctx: Ctx, alarmName: string, canaryName: string, probeUrl: string) {
  const metric = canaryAlarmMetric(ctx.config);
  return {
    AlarmName: alarmName,
    AlarmDescription: `drctl ${ctx.config.deployment}: canary ${canaryName} failed ${metric.DatapointsToAlarm} of its last ${metric.EvaluationPeriods} runs probing ${probeUrl}. Watched by a Route 53 health check.`,
    // A Route 53 CLOUDWATCH_METRIC check needs a standard-resolution metric and a plain statistic
    // (https://docs.aws.amazon.com/Route53/latest/APIReference/API_AlarmIdentifier.html).
    ...metric,
    Dimensions: [{ Name: 'CanaryName', Value: canaryName }],
  };
}

function sameAlarm(a: MetricAlarm, want: ReturnType<typeof alarmSpec>): boolean {
  return (
    a.AlarmDescription === want.AlarmDescription &&
    a.Namespace === want.Namespace &&
    a.MetricName === want.MetricName &&
    JSON.stringify(a.Dimensions ?? []) === JSON.stringify(want.Dimensions) &&
    a.Statistic === want.Statistic &&
    a.Period === want.Period &&
    a.EvaluationPeriods === want.EvaluationPeriods &&
    a.DatapointsToAlarm === want.DatapointsToAlarm &&
    a.Threshold === want.Threshold &&
    a.ComparisonOperator === want.ComparisonOperator &&
    a.TreatMissingData === want.TreatMissingData
  );
}

export async function describeAlarm(ctx: Ctx, alarmName: string): Promise<MetricAlarm | undefined> {
  const r = await ctx.aws
    .client(CloudWatchClient, ctx.region)
    .send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] }));
  return r.MetricAlarms?.find((a) => a.AlarmName === alarmName);
}

export async function ensureAlarm(
  ctx: Ctx,
  alarmName: string,
  canaryName: string,
  probeUrl: string,
): Promise<void> {
  ctx.progress(`alarm ${alarmName}`);
  const want = alarmSpec(ctx, alarmName, canaryName, probeUrl);
  const have = await describeAlarm(ctx, alarmName);
  if (have && sameAlarm(have, want)) {
    if (ctx.recorded.alarmName !== alarmName) ctx.record({ alarmName });
    return;
  }
  // PutMetricAlarm is an upsert; tags apply only when it creates.
  await ctx.aws
    .client(CloudWatchClient, ctx.region)
    .send(new PutMetricAlarmCommand({ ...want, Tags: ctx.tags() }));
  ctx.record({ alarmName });
}

/** The alarm's tags (ListTagsForResource: DescribeAlarms gives none). */
export async function alarmTags(ctx: Ctx, alarmArn: string | undefined) {
  const cw = ctx.aws.client(CloudWatchClient, ctx.region);
  return (await cw.send(new ListAlarmTagsCommand({ ResourceARN: alarmArn }))).Tags;
}

/** Delete the alarm if it is recorded or tagged as ours; warn about one that is not. */
export async function removeAlarm(ctx: Ctx, alarmName: string): Promise<void> {
  const cw = ctx.aws.client(CloudWatchClient, ctx.region);
  const alarm = await describeAlarm(ctx, alarmName);
  if (alarm) {
    const owned =
      ctx.recorded.alarmName === alarmName ||
      isOwnedBy(await alarmTags(ctx, alarm.AlarmArn), ctx.config.deployment);
    if (owned) {
      try {
        await cw.send(new DeleteAlarmsCommand({ AlarmNames: [alarmName] }));
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    } else ctx.warn(`left alarm ${alarmName}: it is not drctl's`);
  }
}
