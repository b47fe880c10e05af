import { dirname, join, resolve } from 'node:path';
import type { AwsClientFactoryOptions } from '../aws/clients.js';
import type { CallerIdentity } from '../aws/identity.js';
import { type Config, loadConfig } from '../config/config.js';
import { UsageError } from '../errors/errors.js';
import type { Reporter } from '../io/reporter.js';
import type { Clock } from '../lib/clock.js';
import { DEFAULT_STATE_PATH, isS3Location, parseS3Location } from '../state/location.js';
import { type LockInfo, describeHolder } from '../state/lock.js';
import type { StateStore } from '../state/store.js';
import { STEPS, type StepInfo } from '../steps/index.js';
import type { StepPaths } from '../steps/types.js';
import type { Signals } from './signals.js';

// What every command runs with: the global options, the config, where the state is, the reporter
// and the signals. Loaded once a command runs (it pulls in zod and the state store).

export type { Signals } from './signals.js';

export interface GlobalOpts {
  config?: string;
  state?: string;
  lockTimeout?: string;
  profile?: string;
  json?: boolean;
  verbose?: boolean;
  debug?: boolean;
  yes?: boolean;
  color?: boolean;
}

export interface CliDeps {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Whether stderr is an interactive terminal (spinners, prompts). */
  isTTY?: boolean;
  clock?: Clock;
  aws?: AwsClientFactoryOptions;
  /** Aborting it is Ctrl-C (tests); otherwise SIGINT/SIGTERM are wired to it. */
  signal?: AbortSignal;
  /** Answer to the `down` confirmation prompt (tests). */
  confirm?: (question: string) => Promise<string>;
  /** The step catalogue (tests run a prefix of it). */
  steps?: readonly StepInfo[];
}

export type SessionDeps = Required<Pick<CliDeps, 'cwd' | 'env' | 'stdout' | 'stderr' | 'clock'>> & CliDeps;

/** What a command that reads no config and no state (`config`) runs with. */
export interface BareSession {
  deps: SessionDeps;
  opts: GlobalOpts;
  reporter: Reporter;
  signals: Signals;
}

export interface Session extends BareSession {
  config: Config;
  configPath: string | undefined;
  statePath: string;
  paths: StepPaths;
  steps: readonly StepInfo[];
  /** Who pays, once asked (one STS call per run). */
  identity?: CallerIdentity;
}

/** Risky or ineffective config values: said before anything runs, on stderr (and as --json events). */
export function warnConfig(warnings: string[], s: BareSession): void {
  for (const message of warnings)
    s.reporter.emit({ type: 'log', level: 'warn', message, t: s.deps.clock.now() });
}

/**
 * The config loaded and the state located: a malformed s3:// location is exit 2 here.
 * `readApiFile`: whether the command imports api.openapi's file (up, step api, verify); the others
 * must run without it (a `down` after the file was moved).
 */
export function openSession(bare: BareSession, readApiFile = true): Session {
  const { opts, deps } = bare;
  const { config, path: configPath, warnings } = loadConfig({ path: opts.config, cwd: deps.cwd, readApiFile });
  warnConfig(warnings, bare);
  // With the state on S3, keys and CA certificates still go to the local .drctl directory.
  if (opts.state !== undefined && /^s3:/i.test(opts.state) && !isS3Location(opts.state))
    throw new UsageError(
      `"${opts.state}" looks like an S3 location, but those are written s3://<bucket>/<key>`,
      {
        field: '--state',
        resolution:
          'Write s3:// in lower case with two slashes; for a local file named "s3:...", write ./ before it.',
      },
    );
  const onS3 = opts.state !== undefined && isS3Location(opts.state);
  if (onS3) parseS3Location(opts.state!);
  const statePath = onS3 ? opts.state! : resolve(deps.cwd, opts.state ?? DEFAULT_STATE_PATH);
  const root = onS3 ? resolve(deps.cwd, dirname(DEFAULT_STATE_PATH)) : dirname(statePath);
  return {
    ...bare,
    config,
    configPath,
    statePath,
    paths: { root, keys: join(root, 'keys'), ca: join(root, 'ca') },
    steps: deps.steps ?? STEPS,
  };
}

export function parseLockTimeout(value: string | undefined): number {
  const seconds = value === undefined ? 0 : Number(value);
  if (!Number.isFinite(seconds) || seconds < 0 || value?.trim() === '') {
    throw new UsageError(`must be a number of seconds (0 or more), not "${value}"`, {
      field: '--lock-timeout',
    });
  }
  return seconds * 1000;
}

/** Tells that a stale lock was taken over (its process on this host is gone). */
export function tookOver(s: Session) {
  return (stale: LockInfo) =>
    s.reporter.line(`took over the stale lock ${stale.id} of ${describeHolder(stale)}: its process is gone`);
}

/** What the drill engine runs with (failover-test, and the restore of a drill left half done). */
export function drillDeps(s: Session, store: StateStore) {
  return {
    config: s.config,
    store,
    clock: s.deps.clock,
    signal: s.signals.stop,
    steps: s.steps,
    reporter: s.reporter,
  };
}
