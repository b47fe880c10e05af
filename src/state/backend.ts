import type { LockAttempt, LockInfo } from './lock.js';

// What a state backend is, shared by the store and every backend (file, S3, memory) so that none
// of them imports another: the store loads the S3 one lazily (src/state/store.ts openBackend).

/** The stored state text and a tag that changes whenever the text does (S3: the ETag). */
export interface StoredText {
  text: string;
  etag: string;
}

/**
 * Where the state lives. StateStore keeps the logic (schema, records, lock waiting); a backend only
 * moves text and guards it: a write names the tag of the version it replaces, so a writer that
 * bypassed the lock is detected instead of overwritten (WriteConflict).
 */
export interface StateBackend {
  /** As the user names it: a file path or s3://bucket/key. */
  readonly location: string;
  readonly backupLocation: string;
  readonly lockLocation: string;
  /** The AWS region the state lives in (S3: the bucket's); undefined for a local file. */
  readonly region?: string;
  read(): Promise<StoredText | undefined>;
  /**
   * Replace the state with `text` if it is still at `etag` (undefined: if there is none yet), after
   * keeping `previous` as the backup. Returns the new tag; throws WriteConflict otherwise.
   */
  write(text: string, etag: string | undefined, previous: string | undefined): Promise<string>;
  /** One attempt at the exclusive lock; a lock left by a dead process on this host is taken over. */
  tryLock(info: LockInfo): Promise<LockAttempt>;
  /** Release the lock if it is still `info`'s. */
  unlock(info: LockInfo): Promise<void>;
  /** The lock as stored (undefined: none); an unreadable one has pid 0 and an id from its text. */
  readLock(): Promise<LockInfo | undefined>;
  /** Remove the lock if it is still the one with this id; false if it is gone or another one now. */
  removeLock(id: string): Promise<boolean>;
}

/** A backend whose writes are synchronous: a record is stored before record() returns. */
export interface SyncStateBackend extends StateBackend {
  readSync(): StoredText | undefined;
  writeSync(text: string, etag: string | undefined, previous: string | undefined): string;
}

/** The stored state changed since it was read: another writer bypassed the lock. */
export class WriteConflict extends Error {
  constructor(readonly location: string) {
    super(`${location} was changed by another writer since drctl read it`);
    this.name = 'WriteConflict';
  }
}

export const isSync = (b: StateBackend): b is SyncStateBackend =>
  typeof (b as Partial<SyncStateBackend>).writeSync === 'function';
