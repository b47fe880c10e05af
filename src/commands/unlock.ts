import { LockedError, UsageError, type ExitCode } from '../errors/errors.js';
import type { UnlockResult } from '../io/results.js';
import { StateStore } from '../state/store.js';
import { describeHolder, isHolderAlive, isStale } from '../state/lock.js';
import { storeOptions } from '../cli/aws-session.js';
import { ask, requireConfirmable } from '../cli/prompts.js';
import type { Session } from '../cli/session.js';

export interface UnlockArgs {
  /** The lock id, as shown when a run is refused. */
  id?: string;
}

/**
 * `drctl unlock [id]`, like Terraform's force-unlock: the id shown when a run is refused. A lock
 * whose drctl still runs on this host is never removed; any other is removed after a confirmation.
 */
export async function run(s: Session, { id }: UnlockArgs): Promise<ExitCode> {
  s.signals.stop.throwIfAborted();
  const opts = storeOptions(s);
  const holder = await StateStore.readLock(s.statePath, opts);
  if (!holder) {
    s.reporter.line(`no lock is held on ${s.statePath}`);
    s.reporter.result({ ok: true, command: 'unlock', unlocked: false } satisfies UnlockResult);
    return 0;
  }
  const who = describeHolder(holder);
  const alive = isHolderAlive(holder);
  const stillRunning = `That drctl is still running on this host: let it finish, or stop it (Ctrl-C in its terminal, or \`kill ${holder.pid}\`); it saves the state and releases the lock itself.`;
  if (id === undefined) {
    throw new UsageError(`state ${s.statePath} is locked by ${who}, lock id ${holder.id}`, {
      field: 'lock id',
      resolution: alive ? stillRunning : `If it is gone, run \`drctl unlock ${holder.id}\`.`,
    });
  }
  if (id !== holder.id) {
    throw new UsageError(`the lock on ${s.statePath} has id ${holder.id}, not ${id}`, {
      field: 'lock id',
      resolution: `It is held by ${who}, maybe taken since you looked: check that before removing it.`,
    });
  }
  if (alive)
    throw new LockedError(`state ${s.statePath} is locked by ${who}, which is still running`, {
      resolution: stillRunning,
    });
  const stale = isStale(holder);
  if (!s.opts.yes) {
    requireConfirmable(s, `unlock removes the lock of ${who}`);
    const why = stale
      ? 'its process is gone'
      : `drctl cannot tell from here whether it still runs on ${holder.host}; if it does, two runs would change one deployment`;
    if (!(await ask(s, `Remove the lock of ${who} (${why})?`)))
      throw new UsageError('not confirmed; the lock is left in place', { field: '--yes' });
  }
  if (!(await StateStore.removeLock(s.statePath, id, opts))) {
    throw new UsageError(`the lock on ${s.statePath} is no longer ${id}; nothing was removed`, {
      field: 'lock id',
      resolution: 'Run `drctl unlock` again to see who holds it now.',
    });
  }
  s.reporter.line(`removed lock ${id} of ${who}${stale ? ' (its process was gone)' : ''}`);
  s.reporter.result({ ok: true, command: 'unlock', unlocked: true, holder } satisfies UnlockResult);
  return 0;
}
