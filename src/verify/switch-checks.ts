import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetHealthCheckStatusCommand, Route53Client } from '@aws-sdk/client-route-53';
import { ROUTE53_REGION, type AwsClients } from '../aws/clients.js';
import { type Config, regionsOf } from '../config/config.js';
import { HOLD_METRIC, HOLD_NAMESPACE, holdAlarm } from '../config/traffic-hold.js';
import { recordedOutputs } from '../state/outputs.js';
import { GLOBAL, type State } from '../state/schema.js';
import { healthyShare } from './failover-checks.js';
import { heldSwitchText } from '../state/switch-text.js';
import { type CheckLine, type VerifyCheck, fail, ok, warn } from './check.js';

// Does the traffic hold in the cloud match the incident switch the state records (state.switch)?
// What decides where clients go is each region's hold check in Route 53 (src/config/traffic-hold.ts):
// it reads the hold metric's data and, with no data, keeps its last status (LastKnownStatus,
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html), so it is
// read here (GetHealthCheckStatus), with the hold alarm beside it for the operator. The alarm's own
// state is not the test: a remade alarm is INSUFFICIENT_DATA while its check still holds, and a new
// check (no data) counts as healthy whatever the alarm says. A hold not in force is tripped again by
// `up` (src/commands/up-down-step.ts).

export interface HoldReading {
  /** The region traffic is held away from while the hold check is unhealthy. */
  awayFrom: string;
  alarmName: string;
  /** Where the alarm (and the PutMetricData that trips it) lives. */
  alarmRegion: string;
  /** The alarm's state, or `missing` when it does not exist. */
  alarm: string;
  /** The hold check's id as the health-check step records it; undefined: not made. */
  checkId?: string;
  /** Route 53's checkers say the hold check is unhealthy: traffic is held away from `awayFrom`. */
  holding: boolean;
  /** What the checkers report (`Failure: ...`), or why there is nothing to read. */
  status: string;
}

/** Each region's hold check (Route 53) and hold alarm (in the other region): reads only. */
export async function readHolds(
  config: Config,
  state: Readonly<State>,
  aws: AwsClients,
): Promise<HoldReading[]> {
  const ids = recordedOutputs(state, 'health-check', GLOBAL)?.holdHealthCheckIds ?? {};
  return Promise.all(
    regionsOf(config).map(async (awayFrom): Promise<HoldReading> => {
      const a = holdAlarm(config, awayFrom);
      const found = (
        await aws
          .client(CloudWatchClient, a.region)
          .send(new DescribeAlarmsCommand({ AlarmNames: [a.AlarmName] }))
      ).MetricAlarms?.[0];
      const checkId = ids[awayFrom];
      const base = {
        awayFrom,
        alarmName: a.AlarmName,
        alarmRegion: a.region,
        alarm: found?.StateValue ?? 'missing',
      };
      if (!checkId) return { ...base, holding: false, status: 'no hold check recorded' };
      const s = healthyShare(
        (
          await aws
            .client(Route53Client, ROUTE53_REGION)
            .send(new GetHealthCheckStatusCommand({ HealthCheckId: checkId }))
        ).HealthCheckObservations,
      );
      return { ...base, checkId, holding: !s.healthy, status: s.status };
    }),
  );
}

/** The regions the recorded switch holds traffic away from (none while no switch is held). */
export function heldAway(state: Readonly<State>): string[] {
  return state.switch?.phase === 'held' ? state.switch.awayFrom : [];
}

/** The readings whose hold the recorded switch needs and the cloud does not have in force. */
export const holdsNotInForce = (state: Readonly<State>, readings: readonly HoldReading[]) =>
  readings.filter((h) => heldAway(state).includes(h.awayFrom) && !h.holding);

/** The hold as one phrase: its check's status and its alarm's state. */
export const holdText = (h: HoldReading) =>
  `hold check ${h.checkId ?? '(none)'}: ${h.status}; alarm ${h.alarmName} in ${h.alarmRegion}: ${h.alarm === 'missing' ? 'gone' : h.alarm}`;

const releaseByHand = (h: HoldReading, config: Config) =>
  `aws cloudwatch put-metric-data --region ${h.alarmRegion} --namespace ${HOLD_NAMESPACE} --metric-name ${HOLD_METRIC} --dimensions Deployment=${config.deployment},AwayFrom=${h.awayFrom} --value 0`;

export const switchHeld: VerifyCheck = {
  id: 'switch',
  title: 'the traffic hold matches the recorded switch',
  async run(ctx) {
    const sw = ctx.state.switch;
    const readings = await readHolds(ctx.config, ctx.state, ctx.aws);
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
      const tripped = h.holding;
      if (wanted && !tripped)
        lines.push(
          fail(
            'switch',
            `the switch holds traffic away from ${h.awayFrom}, but the hold is not in force (${holdText(h)}): clients may be answered by ${h.awayFrom}`,
            `Run \`drctl up\`: it keeps the switch and trips the hold again (PutMetricData in ${h.alarmRegion}); or run \`drctl failback\` to release the switch.`,
            h.awayFrom,
          ),
        );
      else if (!wanted && tripped && sw?.phase !== 'switching' && sw?.phase !== 'releasing')
        lines.push(
          fail(
            'switch',
            `traffic is held away from ${h.awayFrom} (${holdText(h)}), and the state records no switch that does so`,
            `Release it: \`${releaseByHand(h, ctx.config)}\`; or, if it is wanted, record it with \`drctl failover\`.`,
            h.awayFrom,
          ),
        );
      else if (wanted)
        lines.push(ok('switch', `traffic is held away from ${h.awayFrom} (${holdText(h)})`, h.awayFrom));
    }
    if (!lines.length) lines.push(ok('switch', 'no incident switch: traffic follows the health checks'));
    return lines;
  },
};
