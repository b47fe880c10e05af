import { UsageError, type ExitCode } from '../errors/errors.js';
import type { StateStore } from '../state/store.js';
import {
  type FailoverArgs,
  type SwitchIntent,
  describeSwitch,
  parseFailover,
  staticStabilityWarning,
} from '../switch/args.js';
import { runFailover } from '../switch/command.js';
import type { SwitchContext } from '../switch/run.js';
import { drillClients, evidenceOf, loadStore, makeRunner, whoPays } from '../cli/aws-session.js';
import { ask, requireConfirmable } from '../cli/prompts.js';
import { type Session, drillDeps, parseLockTimeout, tookOver } from '../cli/session.js';

// `drctl failover --to <region> | --drain <region> --reason <text>`: the engine is src/switch/;
// this is the command around it: flags, state, lock, clients, the question.

export type { FailoverArgs } from '../switch/args.js';

/** State, lock and clients for a switch; `body` runs with the lock held. */
export async function withSwitch(
  s: Session,
  command: 'failover' | 'failback',
  confirmWhat: string | ((store: StateStore) => string),
  body: (ctx: SwitchContext, store: StateStore) => Promise<ExitCode>,
): Promise<ExitCode> {
  requireConfirmable(s, `${command} moves client traffic`);
  const store = await loadStore(s);
  const { runner } = await makeRunner(s, store);
  await runner.load();
  const base = drillDeps(s, store);
  const aws = await drillClients(s, store);
  await whoPays(s, aws, store);
  await store.lock(command, {
    timeoutMs: parseLockTimeout(s.opts.lockTimeout),
    signal: s.signals.stop,
    onTakeOver: tookOver(s),
  });
  const releaseNow = () => store.unlockNow();
  s.signals.onForcedExit.add(releaseNow);
  try {
    const ctx: SwitchContext = {
      ...base,
      aws,
      principal: s.identity?.arn ?? 'unknown',
      emit: () => {},
      say: (text) => s.reporter.line(text),
    };
    const what = typeof confirmWhat === 'string' ? confirmWhat : confirmWhat(store);
    const question = what.replace('{state}', describeHeld(store));
    if (
      !s.opts.yes &&
      !(await ask(
        s,
        `${question}\n  account ${s.identity?.account ?? '?'}, as ${ctx.principal}\n  Go ahead?`,
      ))
    ) {
      throw new UsageError(`${command} not confirmed; nothing was changed`, {
        field: '--yes',
        resolution: `Run \`drctl ${command}\` again and answer yes, or pass --yes.`,
      });
    }
    return await body(ctx, store);
  } finally {
    s.signals.onForcedExit.delete(releaseNow);
    await store.flush();
    await store.unlock();
  }
}

function describeHeld(store: StateStore): string {
  const h = store.state.switch;
  return h ? `${describeSwitch(h)} (${h.phase})` : 'none';
}

export async function run(s: Session, args: FailoverArgs): Promise<ExitCode> {
  const intent: SwitchIntent = parseFailover(s.config, args); // exit 2 before anything is read
  const q =
    `${describeSwitch(intent)}\n  first checks ${intent.to} from inside its VPC (probe, canary alarm)` +
    `\n  reason: "${intent.reason}"${intent.force ? '\n  --force: even if the target is not healthy' : ''}` +
    '\n  switch held now: {state}';
  const question = (store: StateStore) => {
    // Said before the question, so the person weighs it (and it is in a --yes run's log).
    const warning = staticStabilityWarning(s.config, intent, store.region);
    if (warning) s.reporter.line(warning);
    return q;
  };
  return withSwitch(s, 'failover', question, async (ctx) =>
    runFailover({ ctx, reporter: s.reporter, evidence: await evidenceOf(s) }, intent),
  );
}
