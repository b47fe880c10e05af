import { UsageError, type ExitCode } from '../errors/errors.js';
import {
  type FailoverTestArgs,
  failoverTest,
  parseDrillArgs,
  refuseWhileSwitched,
} from '../drill/command.js';
import { pendingDrill, requireComplete } from '../drill/index.js';
import type { StateStore } from '../state/store.js';
import { drillClients, evidenceOf, loadStore, makeRunner, whoPays } from '../cli/aws-session.js';
import { type Session, drillDeps, parseLockTimeout, tookOver } from '../cli/session.js';

// `drctl failover-test`: the drill engine is src/drill/ (its options, run, record and rendering
// in src/drill/command.ts); this is the command around it: state, lock, clients, credentials.

export type { FailoverTestArgs } from '../drill/command.js';

/** `failover-test`: the drill runs with the state lock held; a dry run changes nothing and takes none. */
export async function run(s: Session, drillArgs: FailoverTestArgs): Promise<ExitCode> {
  const signal = s.signals.stop;
  parseDrillArgs(drillArgs, s.config); // bad flags are exit 2 before anything is read or locked
  const store = await loadStore(s);
  const { runner } = await makeRunner(s, store);
  await runner.load(); // the state's records against the step schemas: a hand-broken one is exit 2
  const deps = {
    ...drillDeps(s, store),
    aws: await drillClients(s, store),
    stderr: s.deps.stderr,
    json: !!s.opts.json,
    evidence: await evidenceOf(s),
  };
  requireComplete(deps); // before any AWS call
  refuseWhileSwitched(store.state);
  await whoPays(s, deps.aws, store);
  if (drillArgs.dryRun) return failoverTest(deps, drillArgs);
  await store.lock('failover-test', {
    timeoutMs: parseLockTimeout(s.opts.lockTimeout),
    signal,
    onTakeOver: tookOver(s),
  });
  const releaseNow = () => store.unlockNow();
  s.signals.onForcedExit.add(releaseNow);
  try {
    return await failoverTest(deps, drillArgs);
  } catch (e) {
    throw await drillCredentialsStop(s, store, e, signal);
  } finally {
    s.signals.onForcedExit.delete(releaseNow);
    await store.flush();
    await store.unlock();
  }
}

/**
 * Credentials that stop working part-way through a drill: the one credentials message (what to run),
 * and whether the fault is still in place. When the restore could not be sent either, the fault stays
 * recorded in the state and the next failover-test, up, step or down puts it back first.
 */
async function drillCredentialsStop(
  s: Session,
  store: StateStore,
  e: unknown,
  signal: AbortSignal,
): Promise<unknown> {
  if (signal.aborted) return e;
  const { credentialSource, credentialsError } = await import('../aws/identity.js');
  const c = credentialsError(e, credentialSource(s.opts.profile, s.deps.env));
  if (!c) return e;
  const pending = pendingDrill(store);
  const sdk = c.message.split('\n').find((l) => l.trim().startsWith('the SDK said:'));
  return new UsageError(
    `the AWS credentials stopped working during \`failover-test\`: ${
      pending
        ? 'what the drill changed is NOT back yet (it is recorded in the state)'
        : 'what the drill changed is back'
    }${sdk ? `\n${sdk}` : ''}`,
    {
      field: 'credentials',
      resolution: `${c.resolution?.replace(/, then the same drctl command again\.$/, '.') ?? ''} Then run \`drctl failover-test\` again${
        pending
          ? ': it puts back what the last drill changed before anything else (as `up`, `step` and `down` do)'
          : ''
      }.`,
      cause: e,
    },
  );
}
