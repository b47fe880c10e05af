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
}

export interface FakeHealthCheck {
  Id: string;
  CallerReference: string;
  /** The settings of the create request, for CallerReference replays. */
  requested: string;
  config: HealthCheckConfig;
  /** Route 53 copies the alarm's settings when the check is created or its alarm changes. */
  alarm: MetricAlarmConfig;
  version: number;
  createdAt: number;
}

const CHECKERS = ['us-east-1', 'us-west-1', 'eu-west-1'];
const DAY_MS = 86_400_000;

/**
 * Route 53 health checks (global), beside FakeRoute53 on the same client: that model owns the
 * tag commands and asks this one (registerTagTarget) whether a health check id exists.
 *
 * - CallerReference as AWS scopes it: the same reference and settings return the existing check;
 *   other settings, or the reference of a deleted check, give HealthCheckAlreadyExists
 *   (https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHealthCheck.html).
 * - CLOUDWATCH_METRIC only: the alarm must exist and be on a standard-resolution metric with a
 *   plain statistic; its settings are copied into CloudWatchAlarmConfiguration.
 * - Status follows the alarm's metric data 'r53.healthReact' late, never the alarm state
 *   (SetAlarmState does not move it); Inverted flips it at once; no data means
 *   InsufficientDataHealthStatus (docs/design/aws-behaviour.md §2).
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
    const raw = this.dataHealth(hc);
    return hc.config.Inverted ? { healthy: !raw.healthy, reason: `${raw.reason} (inverted)` } : raw;
  }

  private dataHealth(hc: FakeHealthCheck): { healthy: boolean; reason: string } {
    if (hc.config.Disabled) return { healthy: true, reason: 'the health check is disabled' };
    const react = this.delay('r53.healthReact');
    // A new check counts as healthy until it has data (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-view-status.html).
    if (this.now() < hc.createdAt + react) return { healthy: true, reason: 'new health check, no data yet' };
    const region = hc.config.AlarmIdentifier!.Region;
    const cw = this.cloud.model(FakeCloudWatch);
    const cfg = {
      ...hc.alarm,
      TreatMissingData: undefined,
      DatapointsToAlarm: this.datapointsToAlarm === 'honoured' ? hc.alarm.DatapointsToAlarm : undefined,
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
    const periodMs = hc.alarm.Period * 1000;
    for (
      let t = this.now() - react - periodMs;
      t > Math.max(hc.createdAt, this.now() - DAY_MS);
      t -= periodMs
    ) {
      const before = cw.evaluate(region, cfg, t);
      if (before.state !== 'INSUFFICIENT_DATA') {
        return { healthy: before.state === 'OK', reason: `insufficient data, last known ${before.state}` };
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
    return {
      Id: hc.Id,
      CallerReference: hc.CallerReference,
      HealthCheckConfig: structuredClone(hc.config),
      HealthCheckVersion: hc.version,
      CloudWatchAlarmConfiguration: {
        EvaluationPeriods: hc.alarm.EvaluationPeriods,
        Threshold: hc.alarm.Threshold,
        ComparisonOperator: hc.alarm.ComparisonOperator,
        Period: hc.alarm.Period,
        MetricName: hc.alarm.MetricName,
        Namespace: hc.alarm.Namespace,
        Statistic: hc.alarm.Statistic,
        Dimensions: hc.alarm.Dimensions.map((d) => ({ ...d })),
      },
    };
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
    if (config.Type !== 'CLOUDWATCH_METRIC') {
      throw awsError('InvalidInput', `Health check type ${config.Type} is not modelled by the fake cloud`);
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
      alarm: this.alarmConfig(config),
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
    // Route 53 does not refuse deleting a check that records still use (docs/design/aws-behaviour.md §9); its
    // CallerReference stays used, so a create with it now fails with HealthCheckAlreadyExists.
    this.checks.delete(hc.Id);
    this.cloud.model(FakeRoute53).forgetTags('healthcheck', hc.Id);
    return {};
  }

  GetHealthCheckStatus(_region: string, input: { HealthCheckId?: string }) {
    const hc = this.check(input.HealthCheckId);
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
