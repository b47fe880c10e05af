import type { ExitCode } from '../errors/errors.js';
import { type FailbackArgs, parseReason } from '../switch/args.js';
import { runFailback } from '../switch/command.js';
import { evidenceOf } from '../cli/aws-session.js';
import type { Session } from '../cli/session.js';
import type { StateStore } from '../state/store.js';
import { withSwitch } from './failover.js';

// `drctl failback [--reason <text>]`: release the held switch (src/switch/).

export type { FailbackArgs } from '../switch/args.js';

export async function run(s: Session, args: FailbackArgs): Promise<ExitCode> {
  const reason = parseReason(args.reason, false);
  const force = !!args.force;
  const q = (store: StateStore) => {
    const back = store.state.switch?.awayFrom.join(' and ');
    return (
      'release the held switch: {state}' +
      (back ? `\n  first checks ${back} from inside its VPC (probe, canary alarm)` : '') +
      (force ? '\n  --force: even if it is not healthy' : '') +
      (reason ? `\n  reason: "${reason}"` : '')
    );
  };
  return withSwitch(s, 'failback', q, async (ctx) =>
    runFailback({ ctx, reporter: s.reporter, evidence: await evidenceOf(s) }, reason, force),
  );
}
