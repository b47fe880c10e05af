import { FakeService, type FakeCloud } from './cloud.js';
import { FakeCloudWatch, type MetricAlarmConfig } from './cloudwatch.js';
import { awsError } from './errors.js';
import { pageSize } from './paging.js';
import { FakeRoute53 } from './route53.js';

type InsufficientDataHealthStatus = 'Healthy' | 'Unhealthy' | 'LastKnownStatus';

interface HealthCheckConfig {
  Type: string;
  AlarmIdentifier?: { Region: string; Name: string };
  InsufficientDataHealthStatus?: InsufficientDataHealthStatus;
  Inverted?: boolean;
  Disabled?: boolean;
  ChildHealthChecks?: string[];
  HealthThreshold?: number;
}

export interface FakeHealthCheck {
  Id: string;
  CallerReference: string;
  /** The settings of the create request, for CallerReference replays. */
  requested: string;
  config: HealthCheckConfig;
  /**
   * CLOUDWATCH_METRIC: Route 53 copies the alarm's settings when the check is created or its alarm
   * changes. Undefined for CALCULATED.
   */
  alarm?: MetricAlarmConfig;
  version: number;
  createdAt: number;
}

const CHECKERS = ['us-east-1', 'us-west-1', 'eu-west-1'];
/** "Valid Range: Minimum value of 0. Maximum value of 256." and at most 256 children (API_HealthCheckConfig.html). */
const MAX_CHILDREN = 256;

/**
 * Route 53 health checks (global), beside FakeRoute53 on the same client: that model owns the
 * tag commands and asks this one (registerTagTarget) whether a health check id exists.
 *
 * - CallerReference as AWS scopes it: the same reference and settings return the existing check;
 *   other settings, or the reference of a deleted check, give HealthCheckAlreadyExists
 *   (https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHealthCheck.html).
 * - CLOUDWATCH_METRIC: the alarm must exist and be on a standard-resolution metric with a
 *   plain statistic; its settings are copied into CloudWatchAlarmConfiguration.
 * - Status follows the alarm's metric data 'r53.healthReact' late, never the alarm state
 *   (SetAlarmState does not move it); Inverted flips it at once; no data means
 *   InsufficientDataHealthStatus (docs/design/aws-behaviour.md §2). LastKnownStatus is remembered
 *   however old the last data is (a hold written once holds for weeks), not looked back for.
 * - CALCULATED: ChildHealthChecks (existing ids, at most 256) and HealthThreshold (0-256: 0 is
 *   always healthy, more than the children always unhealthy); the status is the children's now
 *   (https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html).
 *   A child cannot be deleted while a calculated check lists it; GetHealthCheckStatus refuses a
 *   calculated check (API_GetHealthCheckStatus.html).
 */
export class FakeRoute53Health extends FakeService {
  readonly service = 'route53';
  override readonly global = true;
  private readonly checks = new Map<string, FakeHealthCheck>();
  private readonly usedReferences = new Map<string, string>();
  private hooked = false;
  /**
   * Whether Route 53 applies the alarm's DatapointsToAlarm (M of N) when it reads the metric data.
   * Route 53 "monitors the data stream for the corresponding alarm instead of monitoring the alarm
   * state" (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html)
   * with its copy of the alarm, CloudWatchAlarmConfiguration: EvaluationPeriods, Threshold,
   * ComparisonOperator, Period, Statistic, no DatapointsToAlarm, no TreatMissingData
   * (https://docs.aws.amazon.com/Route53/latest/APIReference/API_CloudWatchAlarmConfiguration.html).
   * An alarm configuration without DatapointsToAlarm is CloudWatch's "number of consecutive data
   * points be breaching" alarm, EvaluationPeriods being that number; DatapointsToAlarm "is used
   * only if you are setting an 'M out of N' alarm"
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
   * So the default, `ignored`, is what the copy documents: all N periods breaching. `honoured`
   * (Route 53 using the alarm's M after all) is kept so that tests run both. Missing data is always
   * read as `missing`, CloudWatch's default without TreatMissingData (then
   * InsufficientDataHealthStatus decides).
   */
  datapointsToAlarm: 'honoured' | 'ignored' = 'ignored';

  constructor(cloud: FakeCloud) {
    super(cloud);
    try {
      this.hook();
    } catch {
      // FakeRoute53 registered after this model: hooked on the first call instead.
    }
  }

  private hook(): void {
    if (this.hooked) return;
    this.cloud.model(FakeRoute53).registerTagTarget('healthcheck', (id) => this.checks.has(id));
    this.hooked = true;
  }

  /** Whether Route 53 considers the check healthy now, and why (tests and the drill read this). */
  healthOf(id: string): { healthy: boolean; reason: string } {
    const hc = this.checks.get(id);
    if (!hc) throw new Error(`no health check ${id}`);
    const raw = hc.config.Type === 'CALCULATED' ? this.calculatedHealth(hc) : this.dataHealth(hc);
    return hc.config.Inverted ? { healthy: !raw.healthy, reason: `${raw.reason} (inverted)` } : raw;
  }

  /**
   * "Route 53 adds up the number of health checks that Route 53 health checkers consider to be
   * healthy and compares that number with the value of HealthThreshold"; disabled, it stops
   * aggregating and counts as healthy
   * (https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html).
   */
  private calculatedHealth(hc: FakeHealthCheck): { healthy: boolean; reason: string } {
    if (hc.config.Disabled) return { healthy: true, reason: 'the health check is disabled' };
    const children = hc.config.ChildHealthChecks ?? [];
    const threshold = hc.config.HealthThreshold ?? 0;
    // A child deleted some other way (forget) no longer counts as healthy.
    const up = children.filter((c) => this.checks.has(c) && this.healthOf(c).healthy).length;
    return {
      healthy: up >= threshold,
      reason: `${up} of ${children.length} child health checks healthy, HealthThreshold ${threshold}`,
    };
  }

  private dataHealth(hc: FakeHealthCheck): { healthy: boolean; reason: string } {
    if (hc.config.Disabled) return { healthy: true, reason: 'the health check is disabled' };
    const react = this.delay('r53.healthReact');
    // A new check counts as healthy until it has data (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-view-status.html).
    if (this.now() < hc.createdAt + react) return { healthy: true, reason: 'new health check, no data yet' };
    const region = hc.config.AlarmIdentifier!.Region;
    const cw = this.cloud.model(FakeCloudWatch);
    const alarm = hc.alarm!;
    const cfg = {
      ...alarm,
      TreatMissingData: undefined,
      DatapointsToAlarm: this.datapointsToAlarm === 'honoured' ? alarm.DatapointsToAlarm : undefined,
    };
    const seen = cw.evaluate(region, cfg, this.now() - react);
    if (seen.state !== 'INSUFFICIENT_DATA') {
      return { healthy: seen.state === 'OK', reason: `metric data: ${seen.state}: ${seen.reason}` };
    }
    const when = hc.config.InsufficientDataHealthStatus ?? 'LastKnownStatus';
    if (when !== 'LastKnownStatus') {
      return {
        healthy: when === 'Healthy',
        reason: `insufficient data, InsufficientDataHealthStatus ${when}`,
      };
    }
    // LastKnownStatus: "the status of the health check from the last time that CloudWatch had
    // sufficient data" (API_HealthCheckConfig.html), however long ago. The last evaluation with
    // data is one of the N + 2 period windows (cloudwatch.ts evaluate) after the last datapoint
    // seen; the status it gave is what Route 53 remembers. Only evaluations since the check exists.
    const periodMs = alarm.Period * 1000;
    const seenUpTo = this.now() - react;
    const last = cw.lastDatapoint(region, alarm.Namespace, alarm.MetricName, alarm.Dimensions, seenUpTo);
    if (last !== undefined) {
      const reach = last + (alarm.EvaluationPeriods + 2) * periodMs;
      // The same window ends as before (seenUpTo - k periods), from the latest one that reaches back to `last`.
      const k = Math.max(1, Math.ceil((seenUpTo - reach) / periodMs));
      for (let t = seenUpTo - k * periodMs; t > Math.max(hc.createdAt, last); t -= periodMs) {
        const before = cw.evaluate(region, cfg, t);
        if (before.state !== 'INSUFFICIENT_DATA') {
          return { healthy: before.state === 'OK', reason: `insufficient data, last known ${before.state}` };
        }
      }
    }
    return { healthy: true, reason: 'insufficient data, no known status (new checks count as healthy)' };
  }

  private check(id: string | undefined): FakeHealthCheck {
    this.hook();
    const hc = this.checks.get(id ?? '');
    if (!hc) throw awsError('NoSuchHealthCheck', `No health check exists with the specified ID ${id}`, 404);
    return hc;
  }

  private alarmConfig(config: HealthCheckConfig): MetricAlarmConfig {
    const a = config.AlarmIdentifier;
    if (!a?.Name || !a.Region)
      throw awsError(
        'InvalidInput',
        'AlarmIdentifier with Name and Region is required for CLOUDWATCH_METRIC',
      );
    const alarm = this.cloud.model(FakeCloudWatch).alarm(a.Region, a.Name);
    if (!alarm)
      throw awsError('InvalidInput', `The CloudWatch alarm ${a.Name} does not exist in ${a.Region}.`);
    // https://docs.aws.amazon.com/Route53/latest/APIReference/API_AlarmIdentifier.html
    if (alarm.ExtendedStatistic || !alarm.Statistic) {
      throw awsError(
        'InvalidInput',
        'Health checks cannot use alarms based on extended (percentile) statistics.',
      );
    }
    if (alarm.Period < 60) {
      throw awsError('InvalidInput', 'Health checks cannot use alarms on high-resolution metrics.');
    }
    return {
      Namespace: alarm.Namespace,
      MetricName: alarm.MetricName,
      Dimensions: alarm.Dimensions.map((d) => ({ ...d })),
      Statistic: alarm.Statistic,
      Period: alarm.Period,
      EvaluationPeriods: alarm.EvaluationPeriods,
      DatapointsToAlarm: alarm.DatapointsToAlarm,
      Threshold: alarm.Threshold,
      ComparisonOperator: alarm.ComparisonOperator,
    };
  }

  private view(hc: FakeHealthCheck) {
    const a = hc.alarm;
    return {
      Id: hc.Id,
      CallerReference: hc.CallerReference,
      HealthCheckConfig: structuredClone(hc.config),
      HealthCheckVersion: hc.version,
      ...(a
        ? {
            CloudWatchAlarmConfiguration: {
              EvaluationPeriods: a.EvaluationPeriods,
              Threshold: a.Threshold,
              ComparisonOperator: a.ComparisonOperator,
              Period: a.Period,
              MetricName: a.MetricName,
              Namespace: a.Namespace,
              Statistic: a.Statistic,
              Dimensions: a.Dimensions.map((d) => ({ ...d })),
            },
          }
        : {}),
    };
  }

  /**
   * A CALCULATED check's children and threshold (API_HealthCheckConfig.html): ids of existing
   * checks, at most 256; HealthThreshold 0-256. UNSURE: AWS's wording for a child that does not
   * exist, and whether it refuses a calculated child; the fake refuses both with InvalidInput
   * (a calculated child is something drctl never makes, and refusing it keeps the status acyclic).
   */
  private validateCalculated(self: string | undefined, children: unknown, threshold: unknown): void {
    if (!Array.isArray(children) || children.length === 0) {
      throw awsError('InvalidInput', 'ChildHealthChecks is required for a CALCULATED health check');
    }
    if (children.length > MAX_CHILDREN) {
      throw awsError('InvalidInput', `ChildHealthChecks can have at most ${MAX_CHILDREN} members`);
    }
    for (const id of children as string[]) {
      const child = this.checks.get(id);
      if (!child || id === self) throw awsError('InvalidInput', `Invalid child health check ID ${id}`);
      if (child.config.Type === 'CALCULATED') {
        throw awsError('InvalidInput', `Child health check ${id} is a CALCULATED health check`);
      }
    }
    if (
      typeof threshold !== 'number' ||
      !Number.isInteger(threshold) ||
      threshold < 0 ||
      threshold > MAX_CHILDREN
    ) {
      throw awsError('InvalidInput', `HealthThreshold must be between 0 and ${MAX_CHILDREN}`);
    }
  }

  /** The calculated checks that list `id` as a child. */
  private parentsOf(id: string): string[] {
    return [...this.checks.values()].filter((c) => c.config.ChildHealthChecks?.includes(id)).map((c) => c.Id);
  }

  private uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.cloud.random() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-b${hex.slice(17, 20)}-${hex.slice(20)}`;
  }

  CreateHealthCheck(
    _region: string,
    input: { CallerReference?: string; HealthCheckConfig?: HealthCheckConfig },
  ) {
    this.hook();
    const ref = input.CallerReference ?? '';
    if (ref.length < 1 || ref.length > 64)
      throw awsError('InvalidInput', 'CallerReference must be 1 to 64 characters');
    const config = input.HealthCheckConfig;
    if (!config) throw awsError('InvalidInput', 'HealthCheckConfig is required');
    const requested = JSON.stringify(config);
    const previous = this.usedReferences.get(ref);
    if (previous !== undefined) {
      const same = [...this.checks.values()].find((c) => c.CallerReference === ref);
      if (same && previous === requested) {
        return {
          HealthCheck: this.view(same),
          Location: `https://route53.amazonaws.com/2013-04-01/healthcheck/${same.Id}`,
        };
      }
      throw awsError(
        'HealthCheckAlreadyExists',
        `A health check with CallerReference ${ref} ${same ? 'exists with other settings' : 'was created and deleted'}.`,
        409,
      );
    }
    if (config.Type !== 'CLOUDWATCH_METRIC' && config.Type !== 'CALCULATED') {
      throw awsError('InvalidInput', `Health check type ${config.Type} is not modelled by the fake cloud`);
    }
    if (config.Type === 'CALCULATED') {
      if (config.AlarmIdentifier) {
        throw awsError('InvalidInput', 'AlarmIdentifier is only valid for CLOUDWATCH_METRIC health checks');
      }
      this.validateCalculated(undefined, config.ChildHealthChecks, config.HealthThreshold);
    } else if (config.ChildHealthChecks !== undefined || config.HealthThreshold !== undefined) {
      throw awsError(
        'InvalidInput',
        'ChildHealthChecks and HealthThreshold are only valid for CALCULATED health checks',
      );
    }
    if (
      config.InsufficientDataHealthStatus !== undefined &&
      !['Healthy', 'Unhealthy', 'LastKnownStatus'].includes(config.InsufficientDataHealthStatus)
    ) {
      throw awsError(
        'InvalidInput',
        `Invalid InsufficientDataHealthStatus ${config.InsufficientDataHealthStatus}`,
      );
    }
    const hc: FakeHealthCheck = {
      Id: this.uuid(),
      CallerReference: ref,
      requested,
      config: structuredClone(config),
      alarm: config.Type === 'CALCULATED' ? undefined : this.alarmConfig(config),
      version: 1,
      createdAt: this.now(),
    };
    this.checks.set(hc.Id, hc);
    this.usedReferences.set(ref, requested);
    return {
      HealthCheck: this.view(hc),
      Location: `https://route53.amazonaws.com/2013-04-01/healthcheck/${hc.Id}`,
    };
  }

  GetHealthCheck(_region: string, input: { HealthCheckId?: string }) {
    return { HealthCheck: this.view(this.check(input.HealthCheckId)) };
  }

  ListHealthChecks(_region: string, input: { Marker?: string; MaxItems?: number }) {
    this.hook();
    const all = [...this.checks.values()];
    const max = pageSize(this.cloud, input.MaxItems, 100, 1000);
    const start = input.Marker ? all.findIndex((c) => c.Id === input.Marker) : 0;
    const page = start < 0 ? [] : all.slice(start, start + max);
    const next = start >= 0 ? all[start + max] : undefined;
    return {
      HealthChecks: page.map((c) => this.view(c)),
      Marker: input.Marker ?? '',
      IsTruncated: next !== undefined,
      NextMarker: next?.Id,
      MaxItems: max,
    };
  }

  UpdateHealthCheck(
    _region: string,
    input: {
      HealthCheckId?: string;
      HealthCheckVersion?: number;
      Inverted?: boolean;
      Disabled?: boolean;
      AlarmIdentifier?: { Region: string; Name: string };
      InsufficientDataHealthStatus?: InsufficientDataHealthStatus;
      ChildHealthChecks?: string[];
      HealthThreshold?: number;
    },
  ) {
    const hc = this.check(input.HealthCheckId);
    if (input.HealthCheckVersion !== undefined && input.HealthCheckVersion !== hc.version) {
      throw awsError(
        'HealthCheckVersionMismatch',
        'The value of HealthCheckVersion in the request does not match the current version.',
        409,
      );
    }
    const calculated = hc.config.Type === 'CALCULATED';
    if (input.ChildHealthChecks !== undefined || input.HealthThreshold !== undefined) {
      if (!calculated) {
        throw awsError(
          'InvalidInput',
          'ChildHealthChecks and HealthThreshold are only valid for CALCULATED health checks',
        );
      }
      // Validated whole before anything changes: a refused update leaves the check as it was.
      this.validateCalculated(
        hc.Id,
        input.ChildHealthChecks ?? hc.config.ChildHealthChecks,
        input.HealthThreshold ?? hc.config.HealthThreshold,
      );
    }
    if (input.AlarmIdentifier && calculated) {
      throw awsError('InvalidInput', 'AlarmIdentifier is only valid for CLOUDWATCH_METRIC health checks');
    }
    if (input.ChildHealthChecks !== undefined) hc.config.ChildHealthChecks = [...input.ChildHealthChecks];
    if (input.HealthThreshold !== undefined) hc.config.HealthThreshold = input.HealthThreshold;
    if (input.AlarmIdentifier) {
      const config = { ...hc.config, AlarmIdentifier: input.AlarmIdentifier };
      hc.alarm = this.alarmConfig(config);
      hc.config = config;
    }
    if (input.Inverted !== undefined) hc.config.Inverted = input.Inverted;
    if (input.Disabled !== undefined) hc.config.Disabled = input.Disabled;
    if (input.InsufficientDataHealthStatus !== undefined) {
      hc.config.InsufficientDataHealthStatus = input.InsufficientDataHealthStatus;
    }
    hc.version++;
    return { HealthCheck: this.view(hc) };
  }

  DeleteHealthCheck(_region: string, input: { HealthCheckId?: string }) {
    const hc = this.check(input.HealthCheckId);
    // Route 53 does not refuse deleting a check that records still use (docs/design/aws-behaviour.md §9):
    // its HealthCheckInUse "has been deprecated. This error code is not in use."
    // (https://docs.aws.amazon.com/Route53/latest/APIReference/API_DeleteHealthCheck.html). It does
    // refuse a child of a calculated check, with InvalidInput "Health check <id> is still referenced
    // from parent health check(s): <ids>" (seen in tools that handle it, e.g. cloudamatic/mu's
    // route53.rb; UNSURE: not in the API reference). Its CallerReference stays used, so a create
    // with it now fails with HealthCheckAlreadyExists.
    const parents = this.parentsOf(hc.Id);
    if (parents.length) {
      throw awsError(
        'InvalidInput',
        `Health check ${hc.Id} is still referenced from parent health check(s): ${parents.join(',')}`,
      );
    }
    this.checks.delete(hc.Id);
    this.cloud.model(FakeRoute53).forgetTags('healthcheck', hc.Id);
    return {};
  }

  GetHealthCheckStatus(_region: string, input: { HealthCheckId?: string }) {
    const hc = this.check(input.HealthCheckId);
    // "You can't use GetHealthCheckStatus to get the status of a calculated health check."
    // (https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHealthCheckStatus.html;
    // UNSURE: the error's wording; InvalidInput is the one error the page lists besides not-found.)
    if (hc.config.Type === 'CALCULATED') {
      throw awsError(
        'InvalidInput',
        `Health check ${hc.Id} is a calculated health check; GetHealthCheckStatus does not report calculated health checks.`,
      );
    }
    const h = this.healthOf(hc.Id);
    const Status = `${h.healthy ? 'Success' : 'Failure'}: ${h.reason}`;
    return {
      HealthCheckObservations: CHECKERS.map((Region, i) => ({
        Region,
        IPAddress: `15.177.${i * 8}.1`,
        StatusReport: { Status, CheckedTime: new Date(this.now()) },
      })),
    };
  }

  /**
   * Test helper: a health check that exists (for Route 53's record validation) under a given id,
   * for tests of steps that only reference one. Its health is not modelled; `forget` removes it.
   */
  seed(id: string): void {
    this.hook();
    const alarm = {
      Namespace: 'Seeded',
      MetricName: 'Seeded',
      Dimensions: [],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    } as unknown as MetricAlarmConfig;
    this.checks.set(id, {
      Id: id,
      CallerReference: `seeded-${id}`,
      requested: '{}',
      config: { Type: 'CLOUDWATCH_METRIC', AlarmIdentifier: { Region: 'us-east-1', Name: 'seeded' } },
      alarm,
      version: 1,
      createdAt: this.now(),
    });
  }

  /** Test helper: drop a health check at once (no call logged). */
  forget(id: string): void {
    this.checks.delete(id);
  }

  snapshot(): string[] {
    return [...this.checks.keys()].map((id) => `route53/global/health-check/${id}`);
  }
}
