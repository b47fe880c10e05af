import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { AwsClients } from '../aws/clients.js';
import type { Config } from '../config/config.js';
import { HOLD_ON, type HoldAlarm, holdAlarm } from '../config/traffic-hold.js';

/**
 * The one write that holds traffic away from `awayFrom` (HOLD_ON) or releases it (HOLD_OFF): one
 * datapoint on the hold metric, in the region the hold alarm lives in (the other one), a
 * data-plane call: nothing in `awayFrom`, no Route 53 API (src/config/traffic-hold.ts). Used by
 * `failover` and `failback` (src/switch/run.ts) and by `up` putting a recorded switch's hold back
 * when it is not in force (src/commands/up-down-step.ts). A repeat writes the same value again.
 * The Timestamp is drctl's clock, so the datapoint lands in the period drctl measures from.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
 */
export async function writeHold(
  config: Config,
  aws: AwsClients,
  awayFrom: string,
  value: number,
  now: number,
): Promise<HoldAlarm> {
  const a = holdAlarm(config, awayFrom);
  await aws.client(CloudWatchClient, a.region).send(
    new PutMetricDataCommand({
      Namespace: a.Namespace,
      MetricData: [
        {
          MetricName: a.MetricName,
          Dimensions: a.Dimensions,
          Timestamp: new Date(now),
          Value: value,
          Unit: 'None',
        },
      ],
    }),
  );
  return a;
}

/** `up`: trip the recorded switch's hold away from `awayFrom` again (HOLD_ON), as the switch does. */
export const tripHold = (config: Config, aws: AwsClients, awayFrom: string, now: number) =>
  writeHold(config, aws, awayFrom, HOLD_ON, now);
