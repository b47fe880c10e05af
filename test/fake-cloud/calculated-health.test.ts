import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateHealthCheckCommand,
  DeleteHealthCheckCommand,
  GetHealthCheckCommand,
  GetHealthCheckStatusCommand,
  Route53Client,
  UpdateHealthCheckCommand,
} from '@aws-sdk/client-route-53';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeCloud, FakeRoute53Health, type FakeCloud } from '../support/fake-cloud/index.js';

// What the incident switch rests on (issue 24, src/config/traffic-hold.ts): a CALCULATED health check
// over a CLOUDWATCH_METRIC "hold" check, whose metric drctl writes with PutMetricData. The AWS
// sources are in test/support/fake-cloud/README.md (Route 53, CloudWatch).

const R1 = 'sa-east-1';
const R2 = 'us-west-1';
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const r53 = () => new Route53Client({ region: 'us-east-1', maxAttempts: 1 });
const cw = (region: string) => new CloudWatchClient({ region, maxAttempts: 1 });
const dims = (awayFrom: string) => [{ Name: 'AwayFrom', Value: awayFrom }];

let cloud: FakeCloud;
afterEach(() => cloud?.uninstall());

async function inCloud<T>(body: () => Promise<T>): Promise<T> {
  cloud = createFakeCloud();
  cloud.pageSize = undefined;
  return cloud.authorizer.asAdmin(body);
}

let refs = 0;
/** A hold alarm in `region` (as traffic-hold.ts makes it) and a LastKnownStatus metric check on it. */
async function holdCheck(region = R2, awayFrom = R1): Promise<string> {
  const name = `hold-${++refs}`;
  await cw(region).send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      Namespace: 'drctl',
      MetricName: 'TrafficHold',
      Dimensions: dims(awayFrom),
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    }),
  );
  const { HealthCheck } = await r53().send(
    new CreateHealthCheckCommand({
      CallerReference: `ref-${name}`,
      HealthCheckConfig: {
        Type: 'CLOUDWATCH_METRIC',
        AlarmIdentifier: { Region: region as 'us-west-1', Name: name },
        InsufficientDataHealthStatus: 'LastKnownStatus',
      },
    }),
  );
  return HealthCheck!.Id!;
}

async function calculated(children: string[], threshold = children.length, extra = {}) {
  const { HealthCheck } = await r53().send(
    new CreateHealthCheckCommand({
      CallerReference: `calc-${++refs}`,
      HealthCheckConfig: {
        Type: 'CALCULATED',
        ChildHealthChecks: children,
        HealthThreshold: threshold,
        ...extra,
      },
    }),
  );
  return HealthCheck!.Id!;
}

const hold = (region: string, value: number, awayFrom = R1) =>
  cw(region).send(
    new PutMetricDataCommand({
      Namespace: 'drctl',
      MetricData: [{ MetricName: 'TrafficHold', Dimensions: dims(awayFrom), Value: value }],
    }),
  );
const healthy = (id: string) => cloud.model(FakeRoute53Health).healthOf(id).healthy;
const pass = (ms: number) => cloud.clock.advance(ms);

describe('CALCULATED health checks', () => {
  it('are healthy while HealthThreshold children are, and follow a hold written in the alarm region', async () => {
    await inCloud(async () => {
      const a = await holdCheck();
      const b = await holdCheck(R2, 'elsewhere');
      const calc = await calculated([a, b]);
      const anyOne = await calculated([a, b], 1);
      pass(10 * MINUTE);
      expect([healthy(calc), healthy(anyOne)]).toEqual([true, true]);
      await hold(R2, 1);
      pass(5 * MINUTE);
      expect([healthy(a), healthy(calc), healthy(anyOne)]).toEqual([false, false, true]);
    });
  });

  it('HealthThreshold 0 is always healthy; above the number of children, always unhealthy', async () => {
    await inCloud(async () => {
      const a = await holdCheck();
      const zero = await calculated([a], 0);
      const above = await calculated([a], 2);
      pass(10 * MINUTE);
      expect([healthy(a), healthy(zero), healthy(above)]).toEqual([true, true, false]);
      await hold(R2, 1);
      pass(5 * MINUTE);
      expect([healthy(a), healthy(zero), healthy(above)]).toEqual([false, true, false]);
    });
  });

  it('Inverted flips the result; Disabled is always healthy', async () => {
    await inCloud(async () => {
      const a = await holdCheck();
      const inverted = await calculated([a], 1, { Inverted: true });
      const disabled = await calculated([a], 1, { Disabled: true });
      pass(10 * MINUTE);
      expect([healthy(inverted), healthy(disabled)]).toEqual([false, true]);
      await hold(R2, 1);
      pass(5 * MINUTE);
      expect([healthy(inverted), healthy(disabled)]).toEqual([true, true]);
    });
  });

  it('data written in another region than the alarm’s feeds nothing', async () => {
    await inCloud(async () => {
      const a = await holdCheck(R2);
      const calc = await calculated([a]);
      await hold(R1, 1);
      pass(10 * MINUTE);
      expect([healthy(a), healthy(calc)]).toEqual([true, true]);
    });
  });

  it('UpdateHealthCheck changes ChildHealthChecks and HealthThreshold at the version read', async () => {
    await inCloud(async () => {
      const a = await holdCheck();
      const b = await holdCheck(R2, 'elsewhere');
      const calc = await calculated([a]);
      await hold(R2, 1);
      pass(5 * MINUTE);
      expect(healthy(calc)).toBe(false);
      const { HealthCheck } = await r53().send(new GetHealthCheckCommand({ HealthCheckId: calc }));
      await r53().send(
        new UpdateHealthCheckCommand({
          HealthCheckId: calc,
          HealthCheckVersion: HealthCheck!.HealthCheckVersion,
          ChildHealthChecks: [a, b],
          HealthThreshold: 1,
        }),
      );
      expect(healthy(calc)).toBe(true);
      const after = (await r53().send(new GetHealthCheckCommand({ HealthCheckId: calc }))).HealthCheck!;
      expect(after.HealthCheckConfig).toMatchObject({ ChildHealthChecks: [a, b], HealthThreshold: 1 });
      await expect(
        r53().send(
          new UpdateHealthCheckCommand({
            HealthCheckId: calc,
            HealthCheckVersion: HealthCheck!.HealthCheckVersion,
            HealthThreshold: 2,
          }),
        ),
      ).rejects.toMatchObject({ name: 'HealthCheckVersionMismatch' });
      await expect(
        r53().send(new UpdateHealthCheckCommand({ HealthCheckId: calc, ChildHealthChecks: ['nope'] })),
      ).rejects.toMatchObject({ name: 'InvalidInput' });
    });
  });

  it('a child of a calculated check cannot be deleted until its parent is', async () => {
    await inCloud(async () => {
      const a = await holdCheck();
      const calc = await calculated([a]);
      await expect(r53().send(new DeleteHealthCheckCommand({ HealthCheckId: a }))).rejects.toMatchObject({
        name: 'InvalidInput',
        message: expect.stringMatching(/still referenced from parent health check/),
      });
      expect(healthy(a)).toBe(true);
      await r53().send(new DeleteHealthCheckCommand({ HealthCheckId: calc }));
      await r53().send(new DeleteHealthCheckCommand({ HealthCheckId: a }));
      expect(cloud.model(FakeRoute53Health).snapshot()).toEqual([]);
    });
  });

  it('refuses children that do not exist, more than 256, a HealthThreshold out of 0-256', async () => {
    await inCloud(async () => {
      const a = await holdCheck();
      await expect(calculated(['0d9a1c52-64f4-4c0e-9d3a-5b3f0a1e2c11'])).rejects.toMatchObject({
        name: 'InvalidInput',
      });
      await expect(calculated(Array<string>(257).fill(a), 1)).rejects.toMatchObject({ name: 'InvalidInput' });
      await expect(calculated([a], 257)).rejects.toMatchObject({ name: 'InvalidInput' });
      await expect(calculated([a], -1)).rejects.toMatchObject({ name: 'InvalidInput' });
    });
  });

  it('GetHealthCheckStatus answers for a metric check and refuses a calculated one', async () => {
    await inCloud(async () => {
      const a = await holdCheck();
      const calc = await calculated([a]);
      pass(10 * MINUTE);
      await hold(R2, 1);
      pass(5 * MINUTE);
      const { HealthCheckObservations } = await r53().send(
        new GetHealthCheckStatusCommand({ HealthCheckId: a }),
      );
      expect(HealthCheckObservations!.length).toBeGreaterThan(0);
      for (const o of HealthCheckObservations!) {
        expect(o.StatusReport?.Status).toMatch(/^Failure/);
        expect(o.StatusReport?.CheckedTime).toBeInstanceOf(Date);
      }
      await expect(
        r53().send(new GetHealthCheckStatusCommand({ HealthCheckId: calc })),
      ).rejects.toMatchObject({ name: 'InvalidInput' });
    });
  });
});

describe('LastKnownStatus is remembered, however long ago the data was', () => {
  it('one hold written once keeps the check unhealthy for weeks; one release makes it healthy again', async () => {
    await inCloud(async () => {
      const a = await holdCheck();
      const calc = await calculated([a]);
      pass(10 * MINUTE);
      await hold(R2, 1);
      pass(5 * MINUTE);
      expect(healthy(calc)).toBe(false);
      pass(30 * DAY);
      expect([healthy(a), healthy(calc)]).toEqual([false, false]);
      expect(cloud.model(FakeRoute53Health).healthOf(a).reason).toMatch(/last known ALARM/);
      await hold(R2, 0);
      pass(5 * MINUTE);
      expect([healthy(a), healthy(calc)]).toEqual([true, true]);
      pass(30 * DAY);
      expect([healthy(a), healthy(calc)]).toEqual([true, true]);
    });
  });
});

describe('CloudWatch under the switch', () => {
  const stateOf = async (name: string) =>
    (await cw(R2).send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms![0]!.StateValue;
  const putAlarm = (name: string, Threshold: number) =>
    cw(R2).send(
      new PutMetricAlarmCommand({
        AlarmName: name,
        Namespace: 'drctl',
        MetricName: 'TrafficHold',
        Dimensions: dims(R1),
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'ignore',
      }),
    );

  it('PutMetricAlarm on an existing alarm leaves its state as it was until the next evaluation', async () => {
    await inCloud(async () => {
      await putAlarm('hold', 1);
      await hold(R2, 1);
      pass(5 * MINUTE);
      expect(await stateOf('hold')).toBe('ALARM');
      // Just after an evaluation: the update must not move the state before the next one.
      pass(MINUTE - (cloud.clock.now() % MINUTE) + 1000);
      await putAlarm('hold', 5);
      expect(await stateOf('hold')).toBe('ALARM');
      pass(MINUTE);
      expect(await stateOf('hold')).toBe('OK');
      // A state set by SetAlarmState is kept by an update too, until the next evaluation.
      pass(1000);
      await cw(R2).send(
        new SetAlarmStateCommand({ AlarmName: 'hold', StateValue: 'ALARM', StateReason: 'test' }),
      );
      await putAlarm('hold', 5);
      expect(await stateOf('hold')).toBe('ALARM');
    });
  });
  it('an alarm that ignores missing data keeps the state of its last datapoint however old it is', async () => {
    await inCloud(async () => {
      await putAlarm('hold', 1);
      expect(await stateOf('hold')).toBe('INSUFFICIENT_DATA');
      await hold(R2, 1);
      pass(30 * 24 * 60 * MINUTE);
      expect(await stateOf('hold')).toBe('ALARM');
      await hold(R2, 0);
      pass(7 * 24 * 60 * MINUTE);
      expect(await stateOf('hold')).toBe('OK');
    });
  });
});
