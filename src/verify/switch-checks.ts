import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { AwsClients } from '../aws/clients.js';
import { type Config, regionsOf } from '../config/config.js';
import { HOLD_METRIC, HOLD_NAMESPACE, holdAlarm } from '../config/traffic-hold.js';
import type { State } from '../state/schema.js';
import { heldSwitchText } from '../state/switch-text.js';
import { type CheckLine, type VerifyCheck, fail, ok, warn } from './check.js';

// Does the traffic hold in the cloud match the incident switch the state records (state.switch)?
// Read from each region's hold alarm (src/config/traffic-hold.ts), which lives in the OTHER region
// and treats missing data as `ignore`, so its state keeps the last PutMetricData: ALARM while the
// hold is tripped (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html).
// A remade alarm (or one never tripped) has no recent datapoint and is INSUFFICIENT_DATA: the hold is
// not in force, and `up` trips it again (src/commands/up-down-step.ts).

export interface HoldReading {
  /** The region traffic is held away from when the alarm is in ALARM. */
  awayFrom: string;
  alarmName: string;
  /** Where the alarm (and the PutMetricData that trips it) lives. */
  alarmRegion: string;
  /** The alarm's state, or `missing` when it does not exist. */
  state: string;
}

/** Each region's hold alarm, read in the region it lives in (DescribeAlarms only). */
export async function readHolds(config: Config, aws: AwsClients): Promise<HoldReading[]> {
  return Promise.all(
    regionsOf(config).map(async (awayFrom) => {
      const a = holdAlarm(config, awayFrom);
      const found = (
        await aws
          .client(CloudWatchClient, a.region)
          .send(new DescribeAlarmsCommand({ AlarmNames: [a.AlarmName] }))
      ).MetricAlarms?.[0];
      return {
        awayFrom,
        alarmName: a.AlarmName,
        alarmRegion: a.region,
        state: found?.StateValue ?? 'missing',
      };
    }),
  );
}

/** The regions the recorded switch holds traffic away from (none while no switch is held). */
export function heldAway(state: Readonly<State>): string[] {
  return state.switch?.phase === 'held' ? state.switch.awayFrom : [];
}

/** The readings whose hold the recorded switch needs and the cloud does not have in force. */
export const holdsNotInForce = (state: Readonly<State>, readings: readonly HoldReading[]) =>
  readings.filter((h) => heldAway(state).includes(h.awayFrom) && h.state !== 'ALARM');

const releaseByHand = (h: HoldReading, config: Config) =>
  `aws cloudwatch put-metric-data --region ${h.alarmRegion} --namespace ${HOLD_NAMESPACE} --metric-name ${HOLD_METRIC} --dimensions Deployment=${config.deployment},AwayFrom=${h.awayFrom} --value 0`;

export const switchHeld: VerifyCheck = {
  id: 'switch',
  title: 'the traffic hold matches the recorded switch',
  async run(ctx) {
    const sw = ctx.state.switch;
    const readings = await readHolds(ctx.config, ctx.aws);
    const lines: CheckLine[] = [];
    if (sw && sw.phase !== 'held')
      lines.push(
        warn(
          'switch',
          `an interrupted switch is recorded: ${heldSwitchText(sw)}`,
          sw.phase === 'switching'
            ? `Run \`drctl failover\` again to finish it, or \`drctl failback\` to release it.`
            : 'Run `drctl failback` again to finish releasing it.',
        ),
      );
    else if (sw) lines.push(ok('switch', heldSwitchText(sw)));
    const away = heldAway(ctx.state);
    for (const h of readings) {
      const wanted = away.includes(h.awayFrom);
      const tripped = h.state === 'ALARM';
      if (wanted && !tripped)
        lines.push(
          fail(
            'switch',
            `the switch holds traffic away from ${h.awayFrom}, but its hold alarm ${h.alarmName} in ${h.alarmRegion} is ${h.state === 'missing' ? 'gone' : h.state}: clients may be answered by ${h.awayFrom}`,
            `Run \`drctl up\`: it keeps the switch and trips the hold again (PutMetricData in ${h.alarmRegion}); or run \`drctl failback\` to release the switch.`,
            h.awayFrom,
          ),
        );
      else if (!wanted && tripped && sw?.phase !== 'switching' && sw?.phase !== 'releasing')
        lines.push(
          fail(
            'switch',
            `hold alarm ${h.alarmName} in ${h.alarmRegion} is ALARM: traffic is held away from ${h.awayFrom}, and the state records no switch that does so`,
            `Release it: \`${releaseByHand(h, ctx.config)}\`; or, if it is wanted, record it with \`drctl failover\`.`,
            h.awayFrom,
          ),
        );
      else if (wanted)
        lines.push(
          ok(
            'switch',
            `hold alarm ${h.alarmName} in ${h.alarmRegion} is ALARM: traffic is held away from ${h.awayFrom}`,
            h.awayFrom,
          ),
        );
    }
    if (!lines.length) lines.push(ok('switch', 'no incident switch: traffic follows the health checks'));
    return lines;
  },
};
