import { resolve } from 'node:path';
import type { AwsClientFactoryOptions } from '../aws/clients.js';
import { type Clock, realClock } from '../lib/clock.js';
import type { Config } from '../config/config.js';
import { AwsStepError } from '../errors/errors.js';
import { writeFileAtomic } from '../lib/files.js';
import { type StateBackend, type StoredText, WriteConflict, isSync } from './backend.js';
import { FileBackend } from './file.js';
import { type LockInfo, type LockOptions, acquireLock } from './lock.js';
import { isS3Location, parseS3Location } from './location.js';
import { type State, type StepRecord, emptyState, validate } from './schema.js';

export interface StoreOptions {
  /** Resolves a relative file path (default: process.cwd()). */
  cwd?: string;
  /** Lock waits sleep on it (virtual in tests). */
  clock?: Clock;
  /** S3 state: how to build the S3 client (profile, credentials, clock). */
  aws?: AwsClientFactoryOptions;
  /** S3 state: the region to ask for the bucket's region from when s3://…?region= is not given. */
  region?: string;
  /** Where this run's records go if the stored state was changed under it (so no id is lost). */
  rescuePath?: string;
}

async function openBackend(location: string, opts: StoreOptions): Promise<StateBackend> {
  if (!isS3Location(location)) return new FileBackend(resolve(opts.cwd ?? '.', location));
  const where = parseS3Location(location);
  // The S3 client (and the SDK behind it) loads only for an s3:// state.
  const { S3Backend } = await import('./s3.js');
  return S3Backend.create(where, {
    aws: opts.aws ?? {},
    clock: opts.clock ?? realClock,
    fallbackRegion: opts.region ?? 'us-east-1',
  });
}

/**
 * The deployment's state: per step and region, the ids recorded so far. record() is synchronous
 * and cheap; with a file the record is on disk when it returns, with S3 saves are queued one at a
 * time (the newest snapshot wins) and `flush()` waits for them.
 */
export class StateStore {
  private lockInfo: LockInfo | undefined;
  /** The text last read or written, i.e. what the backup of the next write holds. */
  private stored: StoredText | undefined;
  private pending: string | undefined;
  private writing: Promise<void> | undefined;
  private writeError: Error | undefined;
  /** The caller's account, once learned: written with the next record (never on its own). */
  private learned: { account: string; partition: string } | undefined;

  private constructor(
    private readonly backend: StateBackend,
    private current: State,
    private readonly config: Config,
    private readonly opts: StoreOptions,
    stored: StoredText | undefined,
  ) {
    this.stored = stored;
  }

  /** The state's location as given (file path or s3://bucket/key). */
  get path(): string {
    return this.backend.location;
  }

  /** The region the state lives in: an S3 state's bucket region; undefined for a local file. */
  get region(): string | undefined {
    return this.backend.region;
  }

  get lockPath(): string {
    return this.backend.lockLocation;
  }

  /** Whether a state existed when it was read. */
  get existed(): boolean {
    return this.stored !== undefined;
  }

  get state(): Readonly<State> {
    return this.current;
  }

  /**
   * A local state file, synchronously (the benchmark, tests). Nothing is written until the first
   * record. A corrupt, truncated, foreign or future file is a UsageError and is left as is.
   */
  static open(path: string, config: Config): StateStore {
    const backend = new FileBackend(resolve(path));
    const stored = backend.readSync();
    return new StateStore(
      backend,
      stored ? validate(stored.text, backend.location, config) : emptyState(config),
      config,
      {},
      stored,
    );
  }

  /** A file path or s3://bucket/key: reads and validates the state (or starts an empty one in memory). */
  static async load(location: string, config: Config, opts: StoreOptions = {}): Promise<StateStore> {
    const backend = await openBackend(location, opts);
    return StateStore.over(backend, config, opts);
  }

  /** A store over a given backend (tests). */
  static async over(backend: StateBackend, config: Config, opts: StoreOptions = {}): Promise<StateStore> {
    const stored = await backend.read();
    const state = stored ? validate(stored.text, backend.location, config) : emptyState(config);
    return new StateStore(backend, state, config, opts, stored);
  }

  /** Who holds the lock on a state (undefined: nobody), without taking it. */
  static async readLock(location: string, opts: StoreOptions = {}): Promise<LockInfo | undefined> {
    return (await openBackend(location, opts)).readLock();
  }

  /** `drctl unlock <id>`: remove the lock if it is still the one with this id. */
  static async removeLock(location: string, id: string, opts: StoreOptions = {}): Promise<boolean> {
    return (await openBackend(location, opts)).removeLock(id);
  }

  /**
   * Take the exclusive lock, or say who holds it; with a timeout, retry until it is free. The state
   * is read again once the lock is ours: whoever held it may have changed it meanwhile.
   */
  async lock(command: string, o: LockOptions = {}): Promise<void> {
    const info = await acquireLock(this.backend, command, this.opts.clock ?? realClock, o);
    this.lockInfo = info;
    try {
      await this.reread();
    } catch (e) {
      await this.unlock();
      throw e;
    }
  }

  /**
   * Release a file lock at once, without waiting for saves (a file's are synchronous anyway): the
   * second Ctrl-C, just before the process exits. An S3 lock is left for `drctl unlock`.
   */
  unlockNow(): void {
    const info = this.lockInfo;
    if (!info || !(this.backend instanceof FileBackend)) return;
    this.lockInfo = undefined;
    this.backend.unlockSync(info);
  }

  async unlock(): Promise<void> {
    const info = this.lockInfo;
    if (!info) return;
    await this.writing; // never release the lock under a write in flight
    this.lockInfo = undefined;
    await this.backend.unlock(info);
  }

  /** Wait for queued saves; throws if one failed (the stored state was changed by another writer). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.writeError) throw this.writeError;
  }

  record(
    step: string,
    scope: string,
    status: StepRecord['status'],
    resources: Record<string, unknown>,
    /** replace: the step finished and `resources` is its whole output; fields it no longer returns go. */
    how: 'merge' | 'replace' = 'merge',
  ): void {
    const now = new Date().toISOString();
    const byScope = (this.current.steps[step] ??= {});
    const prev = how === 'merge' ? byScope[scope]?.resources : undefined;
    byScope[scope] = { status, updatedAt: now, resources: { ...prev, ...resources } };
    this.save();
  }

  /**
   * The account and partition the caller's credentials are of (checked against the state's before):
   * kept in memory and written with the next record, so a read-only command (verify, status)
   * writes nothing and an empty state is not created by it.
   */
  learnAccount(account: string, partition: string): void {
    this.learned = { account, partition };
    this.applyLearned();
  }

  private applyLearned(): void {
    if (!this.learned || this.current.account) return;
    this.current.account = this.learned.account;
    this.current.partition = this.learned.partition;
  }

  /** After a complete `up`: the config it built with (no secrets: a config holds names and sizes). */
  recordApplied(config: Config): void {
    this.current.applied = {
      at: new Date().toISOString(),
      config: JSON.parse(JSON.stringify(config)) as Record<string, unknown>,
    };
    this.save();
  }

  /**
   * The incident switch (`drctl failover`/`failback`): set before its first change, updated as it
   * goes, removed when released. Callers flush after it: the switch must be stored before it acts.
   */
  recordSwitch(record: State['switch']): void {
    if (record) this.current.switch = record;
    else delete this.current.switch;
    this.save();
  }

  forget(step: string, scope: string): void {
    const byScope = this.current.steps[step];
    if (!byScope?.[scope]) return;
    delete byScope[scope];
    if (Object.keys(byScope).length === 0) delete this.current.steps[step];
    this.save();
  }

  get(step: string, scope: string): StepRecord | undefined {
    return this.current.steps[step]?.[scope];
  }

  private async reread(): Promise<void> {
    const now = await this.backend.read();
    if (now?.etag === this.stored?.etag) return;
    this.current = now ? validate(now.text, this.backend.location, this.config) : emptyState(this.config);
    this.stored = now;
    this.applyLearned();
  }

  private save(): void {
    if (this.writeError) throw this.writeError;
    this.current.updatedAt = new Date().toISOString();
    const text = `${JSON.stringify(this.current, null, 2)}\n`;
    if (isSync(this.backend)) {
      try {
        const etag = this.backend.writeSync(text, this.stored?.etag, this.stored?.text);
        this.stored = { text, etag };
      } catch (e) {
        throw this.failed(e, text);
      }
      return;
    }
    this.pending = text;
    this.writing ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending !== undefined) {
        const text = this.pending;
        this.pending = undefined;
        try {
          const etag = await this.backend.write(text, this.stored?.etag, this.stored?.text);
          this.stored = { text, etag };
        } catch (e) {
          this.writeError = this.failed(e, this.pending ?? text);
          this.pending = undefined;
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  /** A failed save: on a conflict, this run's records are kept in the rescue file and named. */
  private failed(e: unknown, text: string): Error {
    if (!(e instanceof WriteConflict)) return e as Error;
    let kept = '';
    if (this.opts.rescuePath) {
      try {
        writeFileAtomic(this.opts.rescuePath, text);
        kept = ` This run's records are in ${this.opts.rescuePath}.`;
      } catch {
        // the conflict is the news; a failed rescue must not hide it
      }
    }
    return new AwsStepError(`${e.message}: not overwritten.${kept}`, {
      resource: this.backend.location,
      awsCode: 'PreconditionFailed',
      resolution:
        'Someone wrote the state without holding the lock (or after `drctl unlock`). Make sure no other drctl runs on this state, merge the records if needed, then run the same command again.',
    });
  }
}
