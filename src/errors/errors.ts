/**
 * The typed error family. One central handler (src/cli/exit.ts) turns these into text and an exit code
 * (docs/design/conventions.md: Amplify's user errors carry a resolution; faults of the tool are a separate class).
 * Code that decides what happened reads `code`, never the message: messages are for people and change.
 */
export type ExitCode = 0 | 1 | 2 | 3 | 130;

/**
 * What went wrong, stable across wording changes. The part before the dot is the family:
 * usage (config, flag or state file; nothing changed), lock, credentials, aws (AWS refused or
 * failed, or a wait ran out; src/errors/aws.ts maps AWS's own codes onto these), domain, drill,
 * interrupted, and fault (a bug in drctl: the one family that is not the user's to fix).
 */
export type ErrorCode =
  | 'usage'
  | 'usage.config'
  | 'usage.flag'
  | 'usage.state'
  | 'lock.held'
  | 'credentials.missing'
  | 'credentials.expired'
  | 'credentials.invalid'
  | 'credentials.account'
  | 'aws.failed'
  | 'aws.access-denied'
  | 'aws.throttled'
  | 'aws.server-error'
  | 'aws.quota'
  | 'aws.unreachable'
  | 'aws.timeout'
  | 'domain.provisioning'
  | 'drill.missed-bound'
  | 'switch.refused'
  | 'interrupted'
  | 'fault.internal';

export interface ErrorContext {
  step?: string;
  region?: string;
  resource?: string;
  awsCode?: string;
}

export interface ErrorOptions extends ErrorContext {
  resolution?: string;
  cause?: unknown;
  /** Overrides the class's default code. */
  code?: ErrorCode;
}

export abstract class DrctlError extends Error {
  abstract readonly exitCode: ExitCode;
  readonly code: ErrorCode;
  readonly context: ErrorContext;
  /** What the person should do next. */
  readonly resolution: string | undefined;

  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = opts.code ?? this.defaultCode(opts);
    this.resolution = opts.resolution;
    this.context = { step: opts.step, region: opts.region, resource: opts.resource, awsCode: opts.awsCode };
  }

  /** The class's code when the throw site names none (existing throw sites name none). */
  protected abstract defaultCode(opts: ErrorOptions & { field?: string }): ErrorCode;

  /** True for a bug in drctl; false for everything the person (or AWS) can fix. */
  get fault(): boolean {
    return this.code.startsWith('fault.');
  }
}

/** Bad config, flag or state file: exit 2, and nothing was changed. */
export class UsageError extends DrctlError {
  readonly exitCode = 2 as const;
  /** The config key, flag or state path at fault, e.g. `primary.vpcCidr` or `--region`. */
  readonly field: string | undefined;
  constructor(
    message: string,
    opts: {
      field?: string;
      resolution?: string;
      cause?: unknown;
      omitFieldPrefix?: boolean;
      code?: ErrorCode;
    } = {},
  ) {
    // omitFieldPrefix: the message already names its fields (a list of several problems).
    super(opts.field && !opts.omitFieldPrefix ? `${opts.field}: ${message}` : message, opts);
    this.field = opts.field;
  }

  /** From the field at fault: `--state` is the state, another `--flag` a flag, else a config key. */
  protected defaultCode(opts: { field?: string }): ErrorCode {
    const f = opts.field;
    if (!f) return 'usage';
    if (f === 'credentials') return 'credentials.invalid';
    if (f === '--state' || f === 'state') return 'usage.state';
    return f.startsWith('--') ? 'usage.flag' : 'usage.config';
  }
}

/** Another drctl holds the state lock. Nothing was changed, so it is a usage-class exit. */
export class LockedError extends DrctlError {
  readonly exitCode = 2 as const;
  protected defaultCode(): ErrorCode {
    return 'lock.held';
  }
}

/** AWS refused or failed, or something took longer than its deadline. */
export class AwsStepError extends DrctlError {
  readonly exitCode = 1 as const;
  protected defaultCode(): ErrorCode {
    return 'aws.failed';
  }
}

/** The failover drill ran but missed its bound. */
export class DrillFailedError extends DrctlError {
  readonly exitCode = 3 as const;
  protected defaultCode(): ErrorCode {
    return 'drill.missed-bound';
  }
}

export class InterruptedError extends DrctlError {
  readonly exitCode = 130 as const;
  constructor(message = 'interrupted') {
    super(message, { resolution: 'Run the same command again to resume; the state file is consistent.' });
  }
  protected defaultCode(): ErrorCode {
    return 'interrupted';
  }
}

/**
 * A bug in drctl, said as one: an invariant broke. Anything thrown that is not a DrctlError is
 * treated the same way (errorCode below).
 */
export class DrctlFault extends DrctlError {
  readonly exitCode = 1 as const;
  protected defaultCode(): ErrorCode {
    return 'fault.internal';
  }
}

export function isDrctlError(e: unknown): e is DrctlError {
  return e instanceof DrctlError;
}

/** The code of any thrown value: a DrctlError's own, 'fault.internal' for anything else. */
export function errorCode(e: unknown): ErrorCode {
  return e instanceof DrctlError ? e.code : 'fault.internal';
}

/** The person (or AWS) can fix it: a DrctlError that is not a fault. Everything else is drctl's bug. */
export function isUserError(e: unknown): e is DrctlError {
  return e instanceof DrctlError && !e.fault;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An error's stack followed by each cause's ("caused by: ..."), for --verbose. */
export function stackWithCauses(e: unknown): string | undefined {
  const parts: string[] = [];
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 5; x = x.cause, depth++)
    parts.push(depth === 0 ? (x.stack ?? String(x)) : `caused by: ${x.stack ?? String(x)}`);
  return parts.length ? parts.join('\n') : undefined;
}
