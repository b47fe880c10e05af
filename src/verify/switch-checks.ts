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

/** Where the cloud's hold and the recorded switch disagree: what is wrong, and what fixes it. */
export interface HoldDisagreement {
  /** `not-in-force`: the switch needs the hold and the cloud lacks it; `not-recorded`: the reverse. */
  kind: 'not-in-force' | 'not-recorded';
  awayFrom: string;
  text: string;
  fix: string;
}

/**
 * Each hold the cloud has and the state does not record (or the reverse), as `verify` and
 * `status --refresh` tell it. A switch mid-way (switching, releasing) is not judged on its holds:
 * re-running its command finishes it, as the interrupted-switch line says.
 */
export function holdDisagreements(
  config: Config,
  state: Readonly<State>,
  readings: readonly HoldReading[],
): HoldDisagreement[] {
  const sw = state.switch;
  const away = heldAway(state);
  const out: HoldDisagreement[] = [];
  for (const h of readings) {
    const wanted = away.includes(h.awayFrom);
    if (wanted && !h.holding)
      out.push({
        kind: 'not-in-force',
        awayFrom: h.awayFrom,
        text: `the switch holds traffic away from ${h.awayFrom}, but the hold is not in force (${holdText(h)}): clients may be answered by ${h.awayFrom}`,
        fix: `Run \`drctl up\`: it keeps the switch and trips the hold again (PutMetricData in ${h.alarmRegion}); or run \`drctl failback\` to release the switch.`,
      });
    else if (!wanted && h.holding && sw?.phase !== 'switching' && sw?.phase !== 'releasing')
      out.push({
        kind: 'not-recorded',
        awayFrom: h.awayFrom,
        text: `traffic is held away from ${h.awayFrom} (${holdText(h)}), and the state records no switch that does so`,
        fix: `Release it: \`${releaseByHand(h, config)}\`; or, if it is wanted, record it with \`drctl failover\`.`,
      });
  }
  return out;
}

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
    const wrong = holdDisagreements(ctx.config, ctx.state, readings);
    for (const h of readings) {
      const d = wrong.find((x) => x.awayFrom === h.awayFrom);
      if (d) lines.push(fail('switch', d.text, d.fix, h.awayFrom));
      else if (away.includes(h.awayFrom))
        lines.push(ok('switch', `traffic is held away from ${h.awayFrom} (${holdText(h)})`, h.awayFrom));
    }
    if (!lines.length) lines.push(ok('switch', 'no incident switch: traffic follows the health checks'));
    return lines;
  },
};
