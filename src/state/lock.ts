import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import type { Clock } from '../lib/clock.js';
import { LockedError } from '../errors/errors.js';

// The state's exclusive lock: who holds it, whether the holder is still alive, and the waiting
// loop. Each backend stores the lock its own way (a `.lock` file, a `<key>.lock` object).

export interface LockInfo {
  pid: number;
  host: string;
  user: string;
  command: string;
  startedAt: string;
  /** Random per lock, so a release never removes a lock someone else took after a forced unlock. */
  id?: string;
}

/** acquired, and `tookOver` names the stale lock (its process on this host gone) it replaced. */
export type LockAttempt =
  { acquired: true; tookOver?: LockInfo } | { acquired: false; holder: LockInfo | undefined };

export interface LockOptions {
  /** Keep retrying a held lock this long (0: fail at once). */
  timeoutMs?: number;
  /** Called once when the lock is held and drctl starts waiting, with who holds it. */
  onWait?: (holder: string) => void;
  /** Called when a stale lock (its process on this host gone) was replaced by ours. */
  onTakeOver?: (stale: LockInfo) => void;
  signal?: AbortSignal;
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

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Take the backend's exclusive lock for `command`, or say who holds it (a LockedError); with a
 * timeout, retry until it is free. Returns the lock taken, which the caller releases. `backend` is
 * a StateBackend, named by its shape: backend.ts imports this file's types, so this one imports none.
 */
export async function acquireLock(
  backend: { readonly location: string; tryLock(info: LockInfo): Promise<LockAttempt> },
  command: string,
  clock: Clock,
  o: LockOptions = {},
): Promise<LockInfo> {
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
    const attempt = await backend.tryLock(info);
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
        `state ${backend.location} is locked by ${who}${waited}${id ? `, lock id ${id}` : ''}`,
        {
          resolution: `Wait for it to finish${timeoutMs ? '' : ', or pass --lock-timeout <seconds> to wait'}. If it is gone, run \`drctl unlock ${id ?? '<lock id>'}\`.`,
        },
      );
    }
    if (!waiting) o.onWait?.(who);
    waiting = true;
    await clock.sleep(Math.min(delayMs, timeoutMs - elapsedMs), o.signal);
  }
  return info;
}
