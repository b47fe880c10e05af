import type { StateBackend, StoredText } from './backend.js';
import type { LockAttempt, LockInfo } from './lock.js';

/**
 * A state that could not be read (corrupt, hand-edited) stands in as an empty one kept in memory:
 * discovery needs no record, and `down --discover --yes` must not overwrite the unreadable file,
 * which the user may still want to restore from. The lock is still the real one, when there is one.
 */
export class UnreadableStateBackend implements StateBackend {
  readonly location: string;
  readonly backupLocation: string;
  readonly lockLocation: string;
  private version = 0;
  /** What this run wrote, so a re-read after the lock sees it (the real file is never touched). */
  private stored: StoredText | undefined;

  constructor(
    location: string,
    private readonly lockHolder?: Pick<
      StateBackend,
      'tryLock' | 'unlock' | 'readLock' | 'removeLock' | 'lockLocation'
    >,
  ) {
    this.location = location;
    this.backupLocation = `${location} (unreadable: not backed up)`;
    this.lockLocation = lockHolder?.lockLocation ?? `${location}.lock`;
  }

  read(): Promise<StoredText | undefined> {
    return Promise.resolve(this.stored);
  }

  write(text: string): Promise<string> {
    this.version++;
    this.stored = { text, etag: `memory-${this.version}` };
    return Promise.resolve(this.stored.etag);
  }

  tryLock(info: LockInfo): Promise<LockAttempt> {
    return this.lockHolder ? this.lockHolder.tryLock(info) : Promise.resolve({ acquired: true });
  }

  unlock(info: LockInfo): Promise<void> {
    return this.lockHolder ? this.lockHolder.unlock(info) : Promise.resolve();
  }

  readLock(): Promise<LockInfo | undefined> {
    return this.lockHolder ? this.lockHolder.readLock() : Promise.resolve(undefined);
  }

  removeLock(id: string): Promise<boolean> {
    return this.lockHolder ? this.lockHolder.removeLock(id) : Promise.resolve(false);
  }
}
