import { setMaxListeners } from 'node:events';
import { AwsStepError, UsageError, errorMessage, type ExitCode } from '../errors/errors.js';
import type { StateStore } from '../state/store.js';
import { verifyCommand } from '../verify/command.js';
import { awsClients, evidenceOf, loadStore, makeRunner, whoPays } from '../cli/aws-session.js';
import type { Session } from '../cli/session.js';

// `drctl verify`: the checks are src/verify/ (engine and rendering); this is the command around
// them: the state, the clients, where the result is kept.

export type VerifyArgs = Record<string, never>;

const VERIFY_RETRY_DEADLINE_MS = 60_000;

/**
 * Credentials of another account than the state's (or not in allowedAccountIds): exit 2 before any
 * check. verify changes nothing in AWS, so when STS itself cannot answer (throttled, a 5xx) the
 * checks still run and say what they could not read; it asks STS for 15 s at most, so the whole
 * run stays within about a minute of retries.
 */
async function accountGuard(s: Session, store: StateStore): Promise<void> {
  const sts = await awsClients(s, {
    signal: s.signals.stop,
    abortSignal: s.signals.cancelCalls,
    retryDeadlineMs: 15_000,
  });
  try {
    await whoPays(s, sts, store);
  } catch (e) {
    if (!(e instanceof AwsStepError)) throw e;
    s.reporter.emit({
      type: 'log',
      level: 'warn',
      message: `the account was not checked (${errorMessage(e)}); verify changes nothing, so it goes on`,
      t: s.deps.clock.now(),
    });
  }
}

/** `verify`: read-only, no lock (it changes nothing); its result is kept beside the state. */
export async function run(s: Session, _args: VerifyArgs): Promise<ExitCode> {
  const signal = s.signals.stop;
  const store = await loadStore(s);
  const { runner } = await makeRunner(s, store, VERIFY_RETRY_DEADLINE_MS);
  await runner.load(); // a hand-broken state is exit 2 before any AWS call
  if (!store.existed)
    throw new UsageError(`nothing to verify: no state at ${s.statePath}`, {
      field: '--state',
      resolution: 'Run `drctl up` first, or give the --state of the deployment to verify.',
    });
  // Every check waits on Ctrl-C at once while AWS is slow: more listeners than Node's default 10.
  setMaxListeners(100, signal);
  // About a minute, whatever AWS does: a read still failing after 60 s is "could not check".
  const aws = await awsClients(s, {
    signal,
    abortSignal: s.signals.cancelCalls,
    retryDeadlineMs: VERIFY_RETRY_DEADLINE_MS,
  });
  await accountGuard(s, store);
  return verifyCommand(
    {
      config: s.config,
      state: store.state,
      aws,
      clock: s.deps.clock,
      steps: s.steps,
      missingResources: () => runner.refresh(),
    },
    { reporter: s.reporter, evidence: await evidenceOf(s), json: !!s.opts.json },
  );
}
