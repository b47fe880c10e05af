import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { AwsClients } from '../aws/clients.js';
import type { Config } from '../config/config.js';
import { HOLD_ON, holdAlarm } from '../config/traffic-hold.js';

/**
 * Trip the traffic hold away from `awayFrom` again, as the switch does: one datapoint of HOLD_ON on
 * the hold metric, in the region the alarm lives in (the other one), a data-plane call
 * (src/config/traffic-hold.ts). `up` (src/commands/up-down-step.ts) sends it when the recorded switch's hold is not in force (the
 * alarm or the hold check remade); a repeat only writes 1 again. PutMetricData:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
 */
export async function tripHold(config: Config, aws: AwsClients, awayFrom: string): Promise<void> {
  const a = holdAlarm(config, awayFrom);
  await aws.client(CloudWatchClient, a.region).send(
    new PutMetricDataCommand({
      Namespace: a.Namespace,
      MetricData: [{ MetricName: a.MetricName, Dimensions: a.Dimensions, Value: HOLD_ON }],
    }),
  );
}
