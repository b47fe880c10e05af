import { createHash, randomUUID } from 'node:crypto';
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
import { hostname, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { AwsClientFactoryOptions } from '../aws/clients.js';
import { type Clock, realClock } from '../lib/clock.js';
import type { Config } from '../config/config.js';
import { AwsStepError, LockedError, UsageError } from '../errors/errors.js';
import { writeFileAtomic } from '../lib/files.js';

export const STATE_VERSION = 1;
export const DEFAULT_STATE_PATH = '.drctl/state.json';
/** The key a global step (one per deployment, e.g. the hosted zone) is recorded under. */
export const GLOBAL = 'global';

const json: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);

const stepRecordSchema = z
  .object({
    /** creating: ids may be partial (a crash mid-step); ready: `up` finished and verified. */
    status: z.enum(['creating', 'ready', 'deleting']),
    updatedAt: z.iso.datetime(),
    resources: z.record(z.string(), json),
  })
  .strict();

export const stateSchema = z
  .object({
    version: z.literal(STATE_VERSION, {
      error: `unsupported state version (this drctl reads version ${STATE_VERSION})`,
    }),
    deployment: z.string().min(1),
    regions: z.object({ primary: z.string(), secondary: z.string() }).strict(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    steps: z.record(z.string(), z.record(z.string(), stepRecordSchema)),
    /** The config the last complete `up` built with: `verify` says when the one in use differs. */
    applied: z
      .object({ at: z.iso.datetime(), config: z.record(z.string(), json) })
      .strict()
      .optional(),
  })
  .strict();

export type StepRecord = z.infer<typeof stepRecordSchema>;
export type State = z.infer<typeof stateSchema>;

export function emptyState(config: Config, now = new Date()): State {
  return {
    version: STATE_VERSION,
    deployment: config.deployment,
    regions: { primary: config.primary.region, secondary: config.secondary.region },
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    steps: {},
  };
}

export interface LockInfo {
  pid: number;
  host: string;
  user: string;
  command: string;
  startedAt: string;
  /** Random per lock, so a release never removes a lock someone else took after a forced unlock. */
  id?: string;
}

/** The stored state text and a tag that changes whenever the text does (S3: the ETag). */
export interface StoredText {
  text: string;
  etag: string;
}

/** acquired, and `tookOver` names the stale lock (its process on this host gone) it replaced. */
export type LockAttempt =
  { acquired: true; tookOver?: LockInfo } | { acquired: false; holder: LockInfo | undefined };

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

export interface LockOptions {
  /** Keep retrying a held lock this long (0: fail at once). */
  timeoutMs?: number;
  /** Called once when the lock is held and drctl starts waiting, with who holds it. */
  onWait?: (holder: string) => void;
  /** Called when a stale lock (its process on this host gone) was replaced by ours. */
  onTakeOver?: (stale: LockInfo) => void;
  signal?: AbortSignal;
}

export const isS3Location = (location: string) => location.startsWith('s3://');

export interface S3Location {
  bucket: string;
  key: string;
  region?: string;
}

// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
const BUCKET = /^(?!xn--|sthree-|amzn-s3-demo-)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

/** `s3://bucket/key[?region=r]`, checked before any AWS call. */
export function parseS3Location(url: string): S3Location {
  const bad = (message: string) =>
    new UsageError(`${message} (${url})`, {
      field: '--state',
      resolution: 'Give the state as s3://<bucket>/<key>, e.g. s3://my-team-state/drctl/prod.json.',
    });
  const m = /^s3:\/\/([^/?]*)(?:\/([^?]*))?(?:\?(.*))?$/.exec(url);
  if (!m) throw bad('not an s3://bucket/key URL');
  const [, bucket = '', key = '', query] = m;
  if (
    !BUCKET.test(bucket) ||
    bucket.includes('..') ||
    /^\d+\.\d+\.\d+\.\d+$/.test(bucket) ||
    bucket.endsWith('-s3alias')
  ) {
    throw bad(`"${bucket}" is not a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)`);
  }
  if (!key || key.endsWith('/')) throw bad('the state needs an object key after the bucket');
  if (Buffer.byteLength(key) > 1000) throw bad('the object key is too long');
  let region: string | undefined;
  for (const part of query ? query.split('&') : []) {
    const [name, value = ''] = part.split('=');
    if (name !== 'region' || !REGION.test(value))
      throw bad(`unknown or malformed parameter "${part}" (only region=<aws region>)`);
    region = value;
  }
  return region ? { bucket, key, region } : { bucket, key };
}

function isAlive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // After a reboot the pid may belong to another program: on Linux, a live pid counts only if it
  // runs node (drctl's own process). Elsewhere a live pid is taken at its word.
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /node|drctl/i.test(cmdline);
  } catch {
    return true;
  }
}

/** The holder is a drctl still running on this host (same host, its process alive). */
export function isHolderAlive(holder: LockInfo | undefined): boolean {
  return !!holder && holder.host === hostname() && isAlive(holder.pid);
}

/** A lock its holder cannot still be using: its process on this very host is gone. */
export function isStale(holder: LockInfo | undefined): boolean {
  return !!holder && holder.host === hostname() && !isAlive(holder.pid);
}

export function describeHolder(holder: LockInfo | undefined): string {
  return holder && holder.pid > 0
    ? `pid ${holder.pid} on ${holder.host} (${holder.user}, \`drctl ${holder.command}\`, since ${holder.startedAt})`
    : 'an unreadable lock';
}

/** A lock's id, as `drctl unlock <id>` takes it; a lock without one (older drctl, unreadable) gets one from its text. */
const lockIdOf = (text: string, id: unknown): string =>
  typeof id === 'string' && id ? id : `text-${sha256(text).slice(0, 16)}`;

/** The lock file's or object's text as a LockInfo, always with an id (unreadable: pid 0). */
export function parseLock(text: string): LockInfo | undefined {
  let v: Partial<LockInfo> | null = null;
  try {
    v = JSON.parse(text) as Partial<LockInfo> | null;
  } catch {
    // unreadable below
  }
  if (!v || typeof v !== 'object' || typeof v.pid !== 'number' || typeof v.host !== 'string')
    return { pid: 0, host: '?', user: '?', command: '?', startedAt: '?', id: lockIdOf(text, undefined) };
  return {
    pid: v.pid,
    host: v.host,
    user: String(v.user ?? '?'),
    command: String(v.command ?? '?'),
    startedAt: String(v.startedAt ?? '?'),
    id: lockIdOf(text, v.id),
  };
}

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

const isSync = (b: StateBackend): b is SyncStateBackend =>
  typeof (b as Partial<SyncStateBackend>).writeSync === 'function';

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
    const clock = this.opts.clock ?? realClock;
    const info: LockInfo = {
      pid: process.pid,
      host: hostname(),
      user: safeUser(),
      command,
      startedAt: new Date(clock.now()).toISOString(),
      id: randomUUID(),
    };
    const timeoutMs = o.timeoutMs ?? 0;
    const started = clock.now();
    let waiting = false;
    for (let delayMs = 1_000; ; delayMs = Math.min(delayMs * 2, 10_000)) {
      const attempt = await this.backend.tryLock(info);
      if (attempt.acquired) {
        if (attempt.tookOver) o.onTakeOver?.(attempt.tookOver);
        break;
      }
      const who = describeHolder(attempt.holder);
      const elapsedMs = clock.now() - started;
      if (elapsedMs >= timeoutMs) {
        const waited = waiting ? ` (waited ${Math.round(elapsedMs / 1000)} s)` : '';
        const id = attempt.holder?.id;
        throw new LockedError(
          `state ${this.path} is locked by ${who}${waited}${id ? `, lock id ${id}` : ''}`,
          {
            resolution: `Wait for it to finish${timeoutMs ? '' : ', or pass --lock-timeout <seconds> to wait'}. If it is gone, run \`drctl unlock ${id ?? '<lock id>'}\`.`,
          },
        );
      }
      if (!waiting) o.onWait?.(who);
      waiting = true;
      await clock.sleep(Math.min(delayMs, timeoutMs - elapsedMs), o.signal);
    }
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

  /** After a complete `up`: the config it built with (no secrets: a config holds names and sizes). */
  recordApplied(config: Config): void {
    this.current.applied = {
      at: new Date().toISOString(),
      config: JSON.parse(JSON.stringify(config)) as Record<string, unknown>,
    };
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

/** Parse, check the schema, and check it belongs to this config's deployment and regions. */
function validate(text: string, location: string, config: Config): State {
  const state = parseState(text, location);
  if (state.deployment !== config.deployment) {
    throw new UsageError(
      `${location} belongs to deployment "${state.deployment}", but the config says "${config.deployment}"`,
      {
        field: 'deployment',
        resolution: 'Use the matching --config, or another --state path for this deployment.',
      },
    );
  }
  for (const role of ['primary', 'secondary'] as const) {
    if (state.regions[role] !== config[role].region) {
      throw new UsageError(
        `${location} was made for ${role} region ${state.regions[role]}, but the config says ${config[role].region}`,
        {
          field: `${role}.region`,
          resolution: 'Run `drctl down` with the old config first, or use another --state path.',
        },
      );
    }
  }
  return state;
}

/** `<path>.bak`, when a local one exists (named only then); an S3 backup is not looked up. */
function backupOf(path: string): string | undefined {
  if (isS3Location(path)) return undefined;
  return existsSync(`${path}.bak`) ? `${path}.bak` : undefined;
}

/** What a JSON file that is not drctl's state looks like, to say so instead of listing its fields. */
function foreignKind(raw: unknown): string | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  if ('terraform_version' in o || 'lineage' in o) return 'a Terraform state';
  if ('name' in o && ('dependencies' in o || 'scripts' in o || typeof o.version === 'string'))
    return 'a package.json';
  if (!('deployment' in o) && !('steps' in o)) return 'not a drctl state';
  return undefined;
}

const notDrctls = (path: string, what: string) =>
  new UsageError(`${path} is not a drctl state file (${what}); it was not changed`, {
    field: '--state',
    resolution: `Point --state at drctl's state file (default ${DEFAULT_STATE_PATH}), or at a path that does not exist yet for a new deployment.`,
  });

export function parseState(text: string, path: string): State {
  let raw: unknown;
  const bak = backupOf(path);
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // A file that does not even start like JSON is someone else's; a cut-off one is ours.
    if (text.trim() !== '' && !/^\s*[{[]/.test(text)) throw notDrctls(path, 'not JSON');
    throw new UsageError(`${path} is not valid JSON (truncated or corrupt?): ${(e as Error).message}`, {
      field: 'state',
      resolution: `${bak ? `Restore ${bak} (the previous version), or run` : 'Run'} \`drctl down --discover\` to find resources by tag.`,
    });
  }
  const foreign = foreignKind(raw);
  if (foreign) throw notDrctls(path, foreign);
  const parsed = stateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ['state', ...issue.path.map(String)].join('.');
    throw new UsageError(`${issue.message} (in ${path})`, {
      field,
      resolution: `The file was left untouched. ${bak ? `Restore ${bak}, or run` : 'Run'} \`drctl down --discover\` to find this deployment's resources by tag.`,
    });
  }
  return parsed.data;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
