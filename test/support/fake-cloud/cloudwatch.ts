import { FakeService, mapToTags, tagsToMap } from './cloud.js';
import { awsError } from './errors.js';
import { page } from './paging.js';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';
type Statistic = 'SampleCount' | 'Average' | 'Sum' | 'Minimum' | 'Maximum';

export interface Dimension {
  Name: string;
  Value: string;
}

export interface Datapoint {
  t: number;
  value: number;
}

/** What an alarm (or a Route 53 health check's copy of it) evaluates. */
export interface MetricAlarmConfig {
  Namespace: string;
  MetricName: string;
  Dimensions: Dimension[];
  Statistic?: Statistic;
  ExtendedStatistic?: string;
  Period: number;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData?: TreatMissingData;
}

export interface MetricAlarm extends MetricAlarmConfig {
  AlarmName: string;
  AlarmArn: string;
  region: string;
  AlarmDescription?: string;
  ActionsEnabled: boolean;
  tags: Record<string, string>;
  createdAt: number;
  /** SetAlarmState: holds until the next evaluation, then the data decides again. */
  forced?: { state: AlarmState; reason: string; at: number };
  /** PutMetricAlarm on this existing alarm: the state it had, kept until the next evaluation. */
  kept?: { state: AlarmState; reason: string; at: number };
}

const STATISTICS = new Set(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']);
const OPERATORS = new Set([
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
]);
const MISSING = new Set(['breaching', 'notBreaching', 'ignore', 'missing']);
const EVALUATION_MS = 60_000;
/** PutMetricData (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html). */
const MAX_DIMENSIONS = 30;
const MAX_METRICS = 1000;
const MAX_VALUE = 2 ** 360;
const PAST_MS = 14 * 24 * 3_600_000;
const FUTURE_MS = 2 * 3_600_000;

export const metricKey = (region: string, namespace: string, name: string, dims: Dimension[]) =>
  [
    region,
    namespace,
    name,
    ...[...dims].sort((a, b) => a.Name.localeCompare(b.Name)).map((d) => `${d.Name}=${d.Value}`),
  ].join('|');

function aggregate(stat: Statistic, values: number[]): number {
  switch (stat) {
    case 'SampleCount':
      return values.length;
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
  }
}

function breaches(op: string, value: number, threshold: number): boolean {
  switch (op) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    default:
      return value <= threshold;
  }
}

/**
 * CloudWatch metrics and metric alarms. Metric data comes from PutMetricData and from the canary
 * model (its runs publish CloudWatchSynthetics metrics). An alarm's state is a function of that
 * data: evaluated once a minute on the data seen 'alarm.react' late (docs/design/timings.md row 10), with
 * TreatMissingData deciding empty periods. SetAlarmState holds only until the next evaluation
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html).
 */
export class FakeCloudWatch extends FakeService {
  readonly service = 'cloudwatch';
  readonly metrics = new Map<string, Datapoint[]>();
  private readonly alarms = new Map<string, Map<string, MetricAlarm>>();
  private readonly sources: Array<() => void> = [];

  /** Lazily producing models (the canary's runs) publish everything due up to now before a read. */
  addMetricSource(settle: () => void): void {
    if (!this.sources.includes(settle)) this.sources.push(settle);
  }

  private settle(): void {
    for (const s of this.sources) s();
  }

  publish(
    region: string,
    namespace: string,
    name: string,
    dims: Dimension[],
    value: number,
    t = this.now(),
  ): void {
    const key = metricKey(region, namespace, name, dims);
    const list = this.metrics.get(key) ?? [];
    list.push({ t, value });
    this.metrics.set(key, list);
  }

  /** Datapoints with from <= t < to. */
  datapoints(
    region: string,
    namespace: string,
    name: string,
    dims: Dimension[],
    from: number,
    to: number,
  ): Datapoint[] {
    this.settle();
    return (this.metrics.get(metricKey(region, namespace, name, dims)) ?? []).filter(
      (d) => d.t >= from && d.t < to,
    );
  }

  /** The time of the metric's latest datapoint before `before`, however old (Route 53's LastKnownStatus). */
  lastDatapoint(
    region: string,
    namespace: string,
    name: string,
    dims: Dimension[],
    before: number,
  ): number | undefined {
    this.settle();
    let last: number | undefined;
    for (const d of this.metrics.get(metricKey(region, namespace, name, dims)) ?? []) {
      if (d.t < before && (last === undefined || d.t > last)) last = d.t;
    }
    return last;
  }

  /**
   * Evaluate an alarm configuration at `windowEnd` as CloudWatch does
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html):
   * it reads an evaluation range longer than EvaluationPeriods (N), here N + 2 periods (the docs'
   * example: N = 3, range 5; no figure is given per period length). With N real datapoints in the
   * range, the most recent N are compared and ALARM needs DatapointsToAlarm (M) of them breaching;
   * TreatMissingData is not used. With fewer, the missing ones are filled in as TreatMissingData
   * says, as few times as possible: `breaching`/`notBreaching` fill N - real points; `missing`
   * compares the real ones only, and is INSUFFICIENT_DATA when the whole range is empty; `ignore`
   * does the same but keeps the state of the evaluation before where `missing` would go to
   * INSUFFICIENT_DATA or alarm early. The docs' "premature alarm" rule: with `missing`, a
   * range whose real points all breach goes to ALARM once the oldest breaching one inside the last
   * N periods is at least M periods old (their tables: `- - X - -` ALARM for 3 of 3, `- - - X -` for
   * 2 of 3, but `0 - X - -` OK). `undefined` TreatMissingData (Route 53's reading) is `missing`.
   */
  evaluate(
    region: string,
    cfg: MetricAlarmConfig,
    windowEnd: number,
    depth = 0,
  ): { state: AlarmState; reason: string } {
    const periodMs = cfg.Period * 1000;
    const stat = cfg.Statistic ?? 'Average';
    const treat = cfg.TreatMissingData ?? 'missing';
    const n = cfg.EvaluationPeriods;
    const m = cfg.DatapointsToAlarm ?? n;
    const range = n + 2;
    // Oldest first; undefined = no datapoint in that period.
    const periods: Array<number | undefined> = [];
    for (let i = range - 1; i >= 0; i--) {
      const to = windowEnd - i * periodMs;
      const values = this.datapoints(
        region,
        cfg.Namespace,
        cfg.MetricName,
        cfg.Dimensions,
        to - periodMs,
        to,
      ).map((d) => d.value);
      periods.push(values.length ? aggregate(stat, values) : undefined);
    }
    const breach = (v: number) => breaches(cfg.ComparisonOperator, v, cfg.Threshold);
    const real = periods.filter((p): p is number => p !== undefined);
    const shown = `[${periods.map((v) => (v === undefined ? '-' : v.toFixed(1))).join(', ')}]`;
    if (real.length === 0) {
      if (treat === 'breaching')
        return { state: 'ALARM', reason: 'no datapoints were received (treated as breaching)' };
      if (treat === 'notBreaching')
        return { state: 'OK', reason: 'no datapoints were received (treated as not breaching)' };
      if (treat === 'ignore') {
        // `ignore` keeps the state however long the metric is silent: evaluate where its last
        // datapoint was (a hold written once stays ALARM for weeks); never any data: still
        // INSUFFICIENT_DATA, the state of a new alarm.
        const last = this.lastDatapoint(region, cfg.Namespace, cfg.MetricName, cfg.Dimensions, windowEnd);
        if (last !== undefined && depth < range)
          return this.evaluate(region, cfg, last + periodMs, depth + 1);
      }
      return { state: 'INSUFFICIENT_DATA', reason: 'Insufficient Data: no datapoints were received' };
    }
    let evaluated: boolean[];
    if (real.length >= n) evaluated = real.slice(-n).map(breach);
    else if (treat === 'breaching' || treat === 'notBreaching')
      evaluated = [...real.map(breach), ...Array<boolean>(n - real.length).fill(treat === 'breaching')];
    else evaluated = real.map(breach);
    const breaching = evaluated.filter(Boolean).length;
    const alarm = (why: string) => ({
      state: 'ALARM' as const,
      reason: `Threshold Crossed: ${why} ${shown} (threshold ${cfg.Threshold}, ${m} of ${n}).`,
    });
    if (breaching >= m) return alarm(`${breaching} datapoint(s) crossed the threshold`);
    if ((treat === 'missing' || treat === 'ignore') && real.length < n && real.every(breach)) {
      const lastN = periods.slice(-n);
      const oldest = lastN.findIndex((v) => v !== undefined);
      if (oldest >= 0 && n - oldest >= m) {
        // Where `missing` goes to ALARM early, `ignore` keeps the state it had (the docs' tables).
        if (treat === 'ignore' && depth < range)
          return this.evaluate(region, cfg, windowEnd - periodMs, depth + 1);
        return alarm('the only datapoints, all breaching and old enough,');
      }
    }
    return {
      state: 'OK',
      reason: `Threshold Crossed: datapoints ${shown} were not ${cfg.ComparisonOperator} the threshold (${cfg.Threshold}) ${m} of ${n} times.`,
    };
  }

  /** The alarm's state now: SetAlarmState until the next evaluation, else the data seen 'alarm.react' late. */
  stateOf(a: MetricAlarm): { state: AlarmState; reason: string; at: number } {
    const evaluatedAt = Math.floor(this.now() / EVALUATION_MS) * EVALUATION_MS;
    if (a.forced && a.forced.at >= evaluatedAt) return a.forced;
    // "When you update an existing alarm, its state is left unchanged" until it is evaluated again
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
    if (a.kept && a.kept.at >= evaluatedAt) return a.kept;
    if (evaluatedAt < a.createdAt)
      return { state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', at: a.createdAt };
    // Alarm state lags the datapoint by 'alarm.react' on average: half a period of it is the
    // wait for the next evaluation, the rest is ingestion delay.
    const lagMs = Math.max(0, this.delay('alarm.react') - (a.Period * 1000) / 2);
    return { ...this.evaluate(a.region, a, evaluatedAt - lagMs), at: evaluatedAt };
  }

  alarm(region: string, name: string): MetricAlarm | undefined {
    return this.alarms.get(region)?.get(name);
  }

  private regionAlarms(region: string): Map<string, MetricAlarm> {
    let m = this.alarms.get(region);
    if (!m) this.alarms.set(region, (m = new Map()));
    return m;
  }

  private describe(a: MetricAlarm) {
    const s = this.stateOf(a);
    return {
      AlarmName: a.AlarmName,
      AlarmArn: a.AlarmArn,
      AlarmDescription: a.AlarmDescription,
      ActionsEnabled: a.ActionsEnabled,
      StateValue: s.state,
      StateReason: s.reason,
      StateUpdatedTimestamp: new Date(s.at),
      MetricName: a.MetricName,
      Namespace: a.Namespace,
      Statistic: a.Statistic,
      ExtendedStatistic: a.ExtendedStatistic,
      Dimensions: a.Dimensions.map((d) => ({ ...d })),
      Period: a.Period,
      EvaluationPeriods: a.EvaluationPeriods,
      DatapointsToAlarm: a.DatapointsToAlarm,
      Threshold: a.Threshold,
      ComparisonOperator: a.ComparisonOperator,
      TreatMissingData: a.TreatMissingData,
    };
  }

  PutMetricAlarm(
    region: string,
    input: Partial<MetricAlarmConfig> & {
      AlarmName: string;
      AlarmDescription?: string;
      ActionsEnabled?: boolean;
      Metrics?: unknown[];
      Tags?: Array<{ Key: string; Value: string }>;
    },
  ) {
    if (!input.AlarmName || input.AlarmName.length > 255) {
      throw awsError('ValidationError', 'AlarmName must be 1 to 255 characters');
    }
    if (input.Metrics) throw awsError('InvalidParameterCombination', 'metric math alarms are not modelled');
    if ((input.Statistic === undefined) === (input.ExtendedStatistic === undefined)) {
      throw awsError(
        'InvalidParameterCombination',
        'Exactly one of Statistic and ExtendedStatistic must be specified.',
      );
    }
    if (input.Statistic !== undefined && !STATISTICS.has(input.Statistic)) {
      throw awsError('ValidationError', `Invalid Statistic ${input.Statistic}`);
    }
    const period = input.Period ?? 0;
    if (![10, 20, 30].includes(period) && (period < 60 || period % 60 !== 0)) {
      throw awsError('InvalidParameterValue', 'Period must be 10, 20, 30 or a multiple of 60.');
    }
    if (!input.EvaluationPeriods || input.EvaluationPeriods < 1) {
      throw awsError('ValidationError', 'EvaluationPeriods must be at least 1');
    }
    if (!OPERATORS.has(input.ComparisonOperator ?? '')) {
      throw awsError('ValidationError', `Invalid ComparisonOperator ${input.ComparisonOperator}`);
    }
    if (input.TreatMissingData !== undefined && !MISSING.has(input.TreatMissingData)) {
      throw awsError('ValidationError', `Invalid TreatMissingData ${input.TreatMissingData}`);
    }
    if (!input.Namespace || !input.MetricName || input.Threshold === undefined) {
      throw awsError('ValidationError', 'Namespace, MetricName and Threshold are required');
    }
    const alarms = this.regionAlarms(region);
    const existing = alarms.get(input.AlarmName);
    const alarm: MetricAlarm = {
      AlarmName: input.AlarmName,
      AlarmArn: `arn:aws:cloudwatch:${region}:${this.cloud.account}:alarm:${input.AlarmName}`,
      region,
      AlarmDescription: input.AlarmDescription,
      ActionsEnabled: input.ActionsEnabled ?? true,
      Namespace: input.Namespace,
      MetricName: input.MetricName,
      Dimensions: input.Dimensions ?? [],
      Statistic: input.Statistic,
      ExtendedStatistic: input.ExtendedStatistic,
      Period: period,
      EvaluationPeriods: input.EvaluationPeriods,
      DatapointsToAlarm: input.DatapointsToAlarm,
      Threshold: input.Threshold,
      ComparisonOperator: input.ComparisonOperator!,
      TreatMissingData: input.TreatMissingData,
      // Tags given when updating an existing alarm are ignored (PutMetricAlarm, Tags).
      tags: existing ? existing.tags : tagsToMap(input.Tags),
      createdAt: existing?.createdAt ?? this.now(),
      ...(existing ? { kept: { ...this.stateOf(existing), at: this.now() } } : {}),
    };
    alarms.set(alarm.AlarmName, alarm);
    return {};
  }

  DescribeAlarms(
    region: string,
    input: {
      AlarmNames?: string[];
      AlarmNamePrefix?: string;
      StateValue?: AlarmState;
      AlarmTypes?: string[];
      MaxRecords?: number;
      NextToken?: string;
    },
  ) {
    if (input.AlarmNames && input.AlarmNamePrefix) {
      throw awsError(
        'InvalidParameterCombination',
        'AlarmNames and AlarmNamePrefix cannot be used together.',
      );
    }
    const all = [...this.regionAlarms(region).values()]
      .filter((a) => !input.AlarmNames || input.AlarmNames.includes(a.AlarmName))
      .filter((a) => !input.AlarmNamePrefix || a.AlarmName.startsWith(input.AlarmNamePrefix))
      .sort((a, b) => a.AlarmName.localeCompare(b.AlarmName))
      .map((a) => this.describe(a))
      .filter((a) => !input.StateValue || a.StateValue === input.StateValue);
    // "MaxRecords: The maximum number of alarm descriptions to retrieve. Valid Range: 1-100."
    const { items, next } = page(
      this.cloud,
      all,
      { token: input.NextToken, limit: input.MaxRecords },
      { command: 'DescribeAlarms', defaultSize: 50, maxSize: 100, key: (a) => a.AlarmName },
    );
    return { MetricAlarms: items, CompositeAlarms: [], ...(next ? { NextToken: next } : {}) };
  }

  DeleteAlarms(region: string, input: { AlarmNames: string[] }) {
    const alarms = this.regionAlarms(region);
    const missing = input.AlarmNames.filter((n) => !alarms.has(n));
    if (missing.length) throw awsError('ResourceNotFound', `Alarm ${missing[0]} does not exist`, 404);
    for (const n of input.AlarmNames) alarms.delete(n);
    return {};
  }

  SetAlarmState(region: string, input: { AlarmName: string; StateValue: AlarmState; StateReason: string }) {
    const a = this.alarm(region, input.AlarmName);
    if (!a) throw awsError('ResourceNotFound', `Alarm ${input.AlarmName} does not exist`, 404);
    if (!['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(input.StateValue)) {
      throw awsError('InvalidFormat', `Invalid StateValue ${String(input.StateValue)}`);
    }
    a.forced = { state: input.StateValue, reason: input.StateReason, at: this.now() };
    return {};
  }

  /**
   * PutMetricData refuses what the API reference documents: a namespace beginning with "AWS/"
   * (reserved) or ":" (pattern [^:].*), names over 255, more than 30 dimensions, more than 1000
   * metrics, NaN, Infinity and values outside -2^360..2^360, Value with Values, timestamps over two
   * weeks old or over two hours ahead
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html,
   * API_MetricDatum.html, API_Dimension.html). Nothing is stored unless the whole request is valid.
   * The data lands in THIS region's metric only: alarms and Route 53 checks on it elsewhere see nothing.
   */
  PutMetricData(
    region: string,
    input: {
      Namespace?: string;
      MetricData?: Array<{
        MetricName?: string;
        Dimensions?: Dimension[];
        Value?: number;
        Values?: number[];
        Counts?: number[];
        Timestamp?: Date;
      }>;
    },
  ) {
    const bad = (message: string) => awsError('InvalidParameterValue', message);
    const ns = input.Namespace;
    if (!ns) throw awsError('MissingParameter', 'The parameter Namespace is required.');
    if (ns.length > 255 || ns.startsWith(':'))
      throw bad(`The value ${ns} for parameter Namespace is invalid.`);
    if (ns.startsWith('AWS/')) {
      throw bad(
        'The value AWS/ for parameter Namespace is invalid. Namespaces beginning with AWS/ are reserved.',
      );
    }
    const data = input.MetricData ?? [];
    if (data.length === 0) throw awsError('MissingParameter', 'The parameter MetricData is required.');
    if (data.length > MAX_METRICS)
      throw bad(`The collection MetricData must not have more than ${MAX_METRICS} members.`);
    const points: Array<{ name: string; dims: Dimension[]; values: number[]; t: number }> = [];
    data.forEach((m, i) => {
      const at = `MetricData.member.${i + 1}`;
      if (!m.MetricName || m.MetricName.length > 255)
        throw bad(`The parameter ${at}.MetricName must be 1 to 255 characters.`);
      const dims = m.Dimensions ?? [];
      if (dims.length > MAX_DIMENSIONS) {
        throw bad(`The collection ${at}.Dimensions must not have more than ${MAX_DIMENSIONS} members.`);
      }
      for (const d of dims) {
        if (
          !d.Name ||
          d.Name.length > 255 ||
          d.Name.startsWith(':') ||
          !d.Value?.trim() ||
          d.Value.length > 1024
        ) {
          throw bad(`The dimension ${d.Name}=${d.Value} in ${at}.Dimensions is invalid.`);
        }
      }
      if (m.Value !== undefined && m.Values !== undefined) {
        throw awsError(
          'InvalidParameterCombination',
          `The parameters ${at}.Value and ${at}.Values are mutually exclusive.`,
        );
      }
      // UNSURE: a datum with no value at all; the fake refuses it rather than invent a 0.
      const values = m.Values ?? (m.Value !== undefined ? [m.Value] : []);
      if (values.length === 0) throw awsError('MissingParameter', `The parameter ${at}.Value is required.`);
      for (const v of values) {
        if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > MAX_VALUE) {
          throw bad(`The value ${String(v)} for parameter ${at}.Value is invalid.`);
        }
      }
      const t = m.Timestamp ? new Date(m.Timestamp).getTime() : this.now();
      if (t < this.now() - PAST_MS || t > this.now() + FUTURE_MS) {
        throw bad(
          `The parameter ${at}.Timestamp must specify a time no more than two weeks in the past or two hours in the future.`,
        );
      }
      // Counts repeat a value that many times (API_MetricDatum.html: Values and Counts).
      const repeated = values.flatMap((v, j) =>
        Array<number>(Math.max(1, Math.round(m.Counts?.[j] ?? 1))).fill(v),
      );
      points.push({ name: m.MetricName, dims, values: repeated, t });
    });
    for (const p of points) {
      for (const v of p.values) this.publish(region, ns, p.name, p.dims, v, p.t);
    }
    return {};
  }

  GetMetricStatistics(
    region: string,
    input: {
      Namespace: string;
      MetricName: string;
      Dimensions?: Dimension[];
      StartTime: Date;
      EndTime: Date;
      Period: number;
      Statistics: Statistic[];
    },
  ) {
    const from = new Date(input.StartTime).getTime();
    const to = new Date(input.EndTime).getTime();
    const periodMs = input.Period * 1000;
    const Datapoints = [];
    for (let t = from; t < to; t += periodMs) {
      const values = this.datapoints(
        region,
        input.Namespace,
        input.MetricName,
        input.Dimensions ?? [],
        t,
        Math.min(t + periodMs, to),
      ).map((d) => d.value);
      if (!values.length) continue;
      Datapoints.push({
        Timestamp: new Date(t),
        ...Object.fromEntries(input.Statistics.map((s) => [s, aggregate(s, values)])),
      });
    }
    return { Label: input.MetricName, Datapoints };
  }

  private byArn(arn: string): MetricAlarm {
    for (const m of this.alarms.values()) {
      for (const a of m.values()) if (a.AlarmArn === arn) return a;
    }
    throw awsError('ResourceNotFoundException', `${arn} not found`, 404);
  }

  TagResource(_region: string, input: { ResourceARN: string; Tags: Array<{ Key: string; Value: string }> }) {
    Object.assign(this.byArn(input.ResourceARN).tags, tagsToMap(input.Tags));
    return {};
  }

  ListTagsForResource(_region: string, input: { ResourceARN: string }) {
    return { Tags: mapToTags(this.byArn(input.ResourceARN).tags) };
  }

  snapshot(): string[] {
    const out: string[] = [];
    for (const [region, m] of this.alarms) {
      for (const a of m.values()) out.push(`cloudwatch/${region}/alarm/${a.AlarmName}`);
    }
    return out;
  }
}
