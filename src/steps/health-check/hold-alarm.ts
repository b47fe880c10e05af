import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  ListTagsForResourceCommand,
  type MetricAlarm,
  PutMetricAlarmCommand,
} from '@aws-sdk/client-cloudwatch';
import { isNotFound } from '../../aws/errors.js';
import { isOwnedBy } from '../../aws/tags.js';
import { type HoldAlarm, holdAlarm } from '../../config/traffic-hold.js';
import type { Ctx } from './outputs.js';
import { entry } from './slots.js';

// The hold alarm per region (config/traffic-hold.ts), made in the OTHER region. `up` makes and
// converges it and never writes its metric: the switch alone does (PutMetricData).

function spec(ctx: Ctx, a: HoldAlarm, awayFrom: string) {
  const { region: _, ...fields } = a;
  return {
    ...fields,
    AlarmDescription: `drctl ${ctx.config.deployment}: holds traffic away from ${awayFrom} while its metric is ${a.Threshold} (drctl failover / failback). Watched by a Route 53 health check.`,
  };
}

function same(have: MetricAlarm, want: ReturnType<typeof spec>): boolean {
  return (
    have.AlarmDescription === want.AlarmDescription &&
    have.Namespace === want.Namespace &&
    have.MetricName === want.MetricName &&
    JSON.stringify(have.Dimensions ?? []) === JSON.stringify(want.Dimensions) &&
    have.Statistic === want.Statistic &&
    have.Period === want.Period &&
    have.EvaluationPeriods === want.EvaluationPeriods &&
    have.Threshold === want.Threshold &&
    have.ComparisonOperator === want.ComparisonOperator &&
    have.TreatMissingData === want.TreatMissingData
  );
}

const cw = (ctx: Ctx, region: string) => ctx.aws.client(CloudWatchClient, region);

async function describe(ctx: Ctx, a: HoldAlarm): Promise<MetricAlarm | undefined> {
  const r = await cw(ctx, a.region).send(new DescribeAlarmsCommand({ AlarmNames: [a.AlarmName] }));
  return r.MetricAlarms?.find((x) => x.AlarmName === a.AlarmName);
}

/**
 * Make or converge the alarm that holds traffic away from `awayFrom`. An update keeps the alarm's
 * state ("When you update an existing alarm, its state is left unchanged":
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html), and
 * Route 53 reads the metric, which `up` never writes: a held switch survives `up`.
 */
export async function ensureHoldAlarm(ctx: Ctx, awayFrom: string): Promise<void> {
  const a = holdAlarm(ctx.config, awayFrom);
  ctx.progress(`hold alarm ${a.AlarmName} in ${a.region}`);
  const want = spec(ctx, a, awayFrom);
  const have = await describe(ctx, a);
  const recorded = entry(ctx, 'holdAlarmNames', awayFrom);
  if (!have || !same(have, want)) {
    // PutMetricAlarm is an upsert by name (no duplicate after a crash); tags apply when it creates.
    await cw(ctx, a.region).send(new PutMetricAlarmCommand({ ...want, Tags: ctx.tags() }));
  }
  if (recorded.get() !== a.AlarmName) recorded.set(a.AlarmName);
}

/** Delete the hold alarm if it is tagged as ours; warn about one that is not. */
export async function removeHoldAlarm(ctx: Ctx, awayFrom: string): Promise<void> {
  const a = holdAlarm(ctx.config, awayFrom);
  const alarm = await describe(ctx, a);
  if (!alarm) return;
  const tags = await cw(ctx, a.region).send(new ListTagsForResourceCommand({ ResourceARN: alarm.AlarmArn }));
  if (!isOwnedBy(tags.Tags, ctx.config.deployment)) {
    ctx.warn(`left alarm ${a.AlarmName} in ${a.region}: it is not drctl's`);
    return;
  }
  ctx.progress(`hold alarm ${a.AlarmName} in ${a.region}`);
  try {
    await cw(ctx, a.region).send(new DeleteAlarmsCommand({ AlarmNames: [a.AlarmName] }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  entry(ctx, 'holdAlarmNames', awayFrom).set(undefined);
}

/** For `discover`: the hold alarm, if it exists and is tagged as ours. */
export async function ownedHoldAlarm(ctx: Ctx, awayFrom: string): Promise<MetricAlarm | undefined> {
  const a = holdAlarm(ctx.config, awayFrom);
  const alarm = await describe(ctx, a);
  if (!alarm) return undefined;
  const tags = await cw(ctx, a.region).send(new ListTagsForResourceCommand({ ResourceARN: alarm.AlarmArn }));
  return isOwnedBy(tags.Tags, ctx.config.deployment) ? alarm : undefined;
}
