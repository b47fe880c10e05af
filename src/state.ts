import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { Config } from './config.js';
import { LockedError, UsageError } from './errors.js';
import { writeFileAtomic } from './files.js';

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
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The state file. Synchronous I/O on purpose: each save is one small file, and a synchronous
 * write cannot interleave with another step's save in the same process, so records never race.
 */
export class StateStore {
  private lockHeld = false;

  private constructor(
    readonly path: string,
    private current: State,
    readonly existed: boolean,
  ) {}

  get lockPath(): string {
    return `${this.path}.lock`;
  }

  get state(): Readonly<State> {
    return this.current;
  }

  /**
   * Reads and validates the state file (or starts an empty one in memory; nothing is written until
   * the first record). A corrupt, truncated, foreign or future file is a UsageError and is left as is.
   */
  static open(path: string, config: Config): StateStore {
    const abs = resolve(path);
    if (!existsSync(abs)) return new StateStore(abs, emptyState(config), false);
    const state = parseState(readFileSync(abs, 'utf8'), abs);
    if (state.deployment !== config.deployment) {
      throw new UsageError(
        `${abs} belongs to deployment "${state.deployment}", but the config says "${config.deployment}"`,
        {
          field: 'deployment',
          resolution: 'Use the matching --config, or another --state path for this deployment.',
        },
      );
    }
    for (const role of ['primary', 'secondary'] as const) {
      if (state.regions[role] !== config[role].region) {
        throw new UsageError(
          `${abs} was made for ${role} region ${state.regions[role]}, but the config says ${config[role].region}`,
          {
            field: `${role}.region`,
            resolution: 'Run `drctl down` with the old config first, or use another --state path.',
          },
        );
      }
    }
    return new StateStore(abs, state, true);
  }

  /** Take the exclusive lock, or say who holds it. A lock left by a dead process on this host is taken over. */
  lock(command: string): void {
    const info: LockInfo = {
      pid: process.pid,
      host: hostname(),
      user: safeUser(),
      command,
      startedAt: new Date().toISOString(),
    };
    mkdirSync(dirname(this.lockPath), { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600);
        writeSync(fd, JSON.stringify(info));
        closeSync(fd);
        this.lockHeld = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = readLock(this.lockPath);
      if (holder && holder.host === hostname() && !isAlive(holder.pid)) {
        unlinkSync(this.lockPath); // stale: its process is gone
        continue;
      }
      const who = holder
        ? `pid ${holder.pid} on ${holder.host} (${holder.user}, \`drctl ${holder.command}\`, since ${holder.startedAt})`
        : 'an unreadable lock file';
      throw new LockedError(`state ${this.path} is locked by ${who}`, {
        resolution: `Wait for it to finish. If it is gone for good, run \`drctl unlock\` (removes ${this.lockPath}).`,
      });
    }
  }

  unlock(): void {
    if (!this.lockHeld) return;
    this.lockHeld = false;
    try {
      unlinkSync(this.lockPath);
    } catch {
      // already gone (`drctl unlock` from another shell)
    }
  }

  static forceUnlock(path: string): LockInfo | undefined {
    const lockPath = `${resolve(path)}.lock`;
    const holder = readLock(lockPath);
    try {
      unlinkSync(lockPath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    return holder ?? { pid: 0, host: '?', user: '?', command: '?', startedAt: '?' };
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

  private save(): void {
    this.current.updatedAt = new Date().toISOString();
    if (existsSync(this.path)) copyFileSync(this.path, `${this.path}.bak`);
    writeFileAtomic(this.path, `${JSON.stringify(this.current, null, 2)}\n`);
  }
}

export function parseState(text: string, path: string): State {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON (truncated or corrupt?): ${(e as Error).message}`, {
      field: 'state',
      resolution: `Restore ${path}.bak (the previous version), or run \`drctl down --discover\` to find resources by tag.`,
    });
  }
  const parsed = stateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ['state', ...issue.path.map(String)].join('.');
    throw new UsageError(`${issue.message} (in ${path})`, {
      field,
      resolution: `The file was left untouched. Restore ${path}.bak, or fix ${field} by hand.`,
    });
  }
  return parsed.data;
}

function readLock(path: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
