import type { HealthCheck } from '@aws-sdk/client-route-53';
import { canaryAlarmMetric } from '../../config/canary-alarm.js';
import { holdAlarm } from '../../config/traffic-hold.js';
import type { Slot } from './checks.js';
import type { Ctx } from './outputs.js';

// The three kinds of check the step owns, as slots for checks.ts: per region a canary check (on the
// canary's alarm), a hold check (on the hold alarm) and the record check (CALCULATED on both).

export interface Alarm {
  Name: string;
  Region: string;
}
/** The alarm settings Route 53 copies into CloudWatchAlarmConfiguration. */
interface AlarmCopy {
  Namespace: string;
  MetricName: string;
  Statistic: string;
  Period: number;
  EvaluationPeriods: number;
  Threshold: number;
  ComparisonOperator: string;
}

const pointsAt = (hc: HealthCheck, alarm: Alarm) =>
  hc.HealthCheckConfig?.AlarmIdentifier?.Name === alarm.Name &&
  hc.HealthCheckConfig.AlarmIdentifier.Region === alarm.Region;

/**
 * Route 53 keeps its own copy of the alarm's settings (CloudWatchAlarmConfiguration), made when the
 * check is created or its AlarmIdentifier is updated; nothing documented refreshes it when the
 * alarm changes (https://docs.aws.amazon.com/Route53/latest/APIReference/API_CloudWatchAlarmConfiguration.html).
 * A copy that differs from the alarm drctl puts (an older drctl's Failed >= 1) is renewed with an
 * UpdateHealthCheck naming the same alarm.
 */
function copyIsCurrent(hc: HealthCheck, want: AlarmCopy): boolean {
  const have = hc.CloudWatchAlarmConfiguration;
  return (
    have?.Namespace === want.Namespace &&
    have.MetricName === want.MetricName &&
    have.Statistic === want.Statistic &&
    have.Period === want.Period &&
    have.EvaluationPeriods === want.EvaluationPeriods &&
    have.Threshold === want.Threshold &&
    have.ComparisonOperator === want.ComparisonOperator
  );
}

type Status = 'Unhealthy' | 'LastKnownStatus';

function metricSlot(
  base: Pick<Slot, 'label' | 'prefix' | 'name' | 'id' | 'ref' | 'setId' | 'setRef'>,
  alarm: Alarm,
  copy: AlarmCopy,
  noData: Status,
): Slot {
  const AlarmIdentifier = { Name: alarm.Name, Region: alarm.Region as never };
  return {
    ...base,
    desired: {
      Type: 'CLOUDWATCH_METRIC',
      AlarmIdentifier,
      InsufficientDataHealthStatus: noData,
      Inverted: false,
    },
    matches: (hc) => pointsAt(hc, alarm),
    fix: (hc) => {
      const cfg = hc.HealthCheckConfig;
      const right =
        pointsAt(hc, alarm) &&
        cfg?.InsufficientDataHealthStatus === noData &&
        !cfg.Inverted &&
        copyIsCurrent(hc, copy);
      return right ? undefined : { AlarmIdentifier, InsufficientDataHealthStatus: noData, Inverted: false };
    },
  };
}

export type Which = 'primary' | 'secondary';
export const canaryPrefix = (ctx: Ctx, which: Which) => `drctl-${ctx.config.deployment}-${which}-`;
export const holdPrefix = (ctx: Ctx, region: string) => `drctl-${ctx.config.deployment}-hold-${region}-`;
export const recordPrefix = (ctx: Ctx, region: string) => `drctl-${ctx.config.deployment}-record-${region}-`;

/** The check on a region's canary alarm (`primary`, `secondary`: the outputs' older flat keys). */
export function canarySlot(ctx: Ctx, which: Which, alarm: Alarm): Slot {
  const idKey = `${which}HealthCheckId` as const;
  const refKey = `${which}CallerReference` as const;
  return metricSlot(
    {
      label: which,
      prefix: canaryPrefix(ctx, which),
      name: `${ctx.config.deployment}-${which}-canary`,
      id: () => ctx.recorded[idKey],
      ref: () => ctx.recorded[refKey],
      setId: (v) => ctx.record({ [idKey]: v }),
      setRef: (v) => ctx.record({ [refKey]: v }),
    },
    alarm,
    canaryAlarmMetric(ctx.config),
    // No data means the canary is dead or cut off: fail over rather than trust the last status
    // (the default, LastKnownStatus, keeps a silent primary healthy: docs/design/aws-behaviour.md §12.15).
    'Unhealthy',
  );
}

type MapKey =
  | 'holdHealthCheckIds'
  | 'holdCallerReferences'
  | 'recordHealthCheckIds'
  | 'recordCallerReferences'
  | 'holdAlarmNames';

/** Read and write one region's entry of a Record<region, string> output. */
export function entry(ctx: Ctx, key: MapKey, region: string) {
  return {
    get: () => ctx.recorded[key]?.[region],
    set: (v: string | undefined) => {
      const next: Record<string, string> = { ...ctx.recorded[key] };
      if (v === undefined) delete next[region];
      else next[region] = v;
      ctx.record({ [key]: next });
    },
  };
}

function mapSlot(ctx: Ctx, kind: 'hold' | 'record', region: string) {
  const id = entry(ctx, `${kind}HealthCheckIds`, region);
  const ref = entry(ctx, `${kind}CallerReferences`, region);
  return {
    label: `${kind} ${region}`,
    prefix: kind === 'hold' ? holdPrefix(ctx, region) : recordPrefix(ctx, region),
    name: `${ctx.config.deployment}-${kind}-${region}`,
    id: id.get,
    ref: ref.get,
    setId: id.set,
    setRef: ref.set,
  };
}

/**
 * The check on the hold alarm that keeps traffic away from `region` (config/traffic-hold.ts).
 * LastKnownStatus: the switch writes one datapoint, and the hold must outlast the minute it is in
 * the evaluation range; a new check with no data yet counts as healthy
 * (https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html).
 */
export function holdSlot(ctx: Ctx, region: string): Slot {
  const a = holdAlarm(ctx.config, region);
  return metricSlot(
    mapSlot(ctx, 'hold', region),
    { Name: a.AlarmName, Region: a.region },
    a,
    'LastKnownStatus',
  );
}

/**
 * The CALCULATED check `region`'s record uses: healthy while all `children` are (HealthThreshold
 * = their number), so either the canary failing or the hold tripped takes the region out of DNS
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html#health-checks-creating-values-calculated).
 */
export function recordSlot(ctx: Ctx, region: string, children: string[]): Slot {
  const same = (hc: HealthCheck) => {
    const have = [...(hc.HealthCheckConfig?.ChildHealthChecks ?? [])].sort();
    return JSON.stringify(have) === JSON.stringify([...children].sort());
  };
  return {
    ...mapSlot(ctx, 'record', region),
    desired: {
      Type: 'CALCULATED',
      ChildHealthChecks: children,
      HealthThreshold: children.length,
      Inverted: false,
    },
    matches: (hc) => hc.HealthCheckConfig?.Type === 'CALCULATED',
    fix: (hc) => {
      const cfg = hc.HealthCheckConfig;
      const right = same(hc) && cfg?.HealthThreshold === children.length && !cfg.Inverted && !cfg.Disabled;
      return right
        ? undefined
        : { ChildHealthChecks: children, HealthThreshold: children.length, Inverted: false, Disabled: false };
    },
  };
}
