import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors/errors.js';
import { writeFileAtomic } from '../lib/files.js';
import { type StoredText, type SyncStateBackend, WriteConflict } from './backend.js';
import { type LockAttempt, type LockInfo, isStale, parseLock } from './lock.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The local file: written atomically (temp file, fsync, rename) with mode 0600, the previous version
 * kept as `.bak`, locked by a `.lock` file created exclusively. Synchronous on purpose: each save is
 * one small file, and a synchronous write cannot interleave with another step's save, so a record
 * is on disk before record() returns.
 */
export class FileBackend implements SyncStateBackend {
  readonly backupLocation: string;
  readonly lockLocation: string;

  constructor(readonly location: string) {
    this.backupLocation = `${location}.bak`;
    this.lockLocation = `${location}.lock`;
  }

  readSync(): StoredText | undefined {
    if (!existsSync(this.location)) return undefined;
    if (statSync(this.location).isDirectory()) {
      throw new UsageError(`${this.location} is a directory, not a state file`, {
        field: '--state',
        resolution: `Give a file path, e.g. --state ${join(this.location, 'state.json')}.`,
      });
    }
    const text = readFileSync(this.location, 'utf8');
    return { text, etag: sha256(text) };
  }

  read(): Promise<StoredText | undefined> {
    return Promise.resolve(this.readSync());
  }

  writeSync(text: string, etag: string | undefined): string {
    const current = this.readSync();
    if (current?.etag !== etag) throw new WriteConflict(this.location);
    if (current) writeFileAtomic(this.backupLocation, current.text);
    writeFileAtomic(this.location, text);
    return sha256(text);
  }

  write(text: string, etag: string | undefined): Promise<string> {
    try {
      return Promise.resolve(this.writeSync(text, etag));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  tryLock(info: LockInfo): Promise<LockAttempt> {
    mkdirSync(dirname(this.lockLocation), { recursive: true, mode: 0o700 });
    let tookOver: LockInfo | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockLocation, 'wx', 0o600);
        writeSync(fd, JSON.stringify(info));
        closeSync(fd);
        return Promise.resolve(tookOver ? { acquired: true, tookOver } : { acquired: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = this.readLockSync();
      if (!isStale(holder)) return Promise.resolve({ acquired: false, holder });
      unlinkSync(this.lockLocation); // stale: its process is gone
      tookOver = holder;
    }
    return Promise.resolve({ acquired: false, holder: this.readLockSync() });
  }

  /** Synchronous release (a forced exit at the second Ctrl-C), if the lock is still `info`'s. */
  unlockSync(info: LockInfo): void {
    if (this.readLockSync()?.id !== info.id) return;
    try {
      unlinkSync(this.lockLocation);
    } catch {
      // already gone
    }
  }

  unlock(info: LockInfo): Promise<void> {
    const holder = this.readLockSync();
    // Someone ran `drctl unlock` and another drctl took the lock since: it is theirs now.
    if (holder && holder.id !== undefined && holder.id !== info.id) return Promise.resolve();
    try {
      unlinkSync(this.lockLocation);
    } catch {
      // already gone (`drctl unlock` from another shell)
    }
    return Promise.resolve();
  }

  readLock(): Promise<LockInfo | undefined> {
    return Promise.resolve(this.readLockSync());
  }

  removeLock(id: string): Promise<boolean> {
    if (this.readLockSync()?.id !== id) return Promise.resolve(false);
    try {
      unlinkSync(this.lockLocation);
      return Promise.resolve(true);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Promise.resolve(false);
      throw e;
    }
  }

  private readLockSync(): LockInfo | undefined {
    let text: string;
    try {
      text = readFileSync(this.lockLocation, 'utf8');
    } catch {
      return undefined;
    }
    return parseLock(text);
  }
}
