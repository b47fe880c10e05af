/**
 * The typed error family. One central handler in cli.ts turns these into text and an exit code
 * (docs/design/conventions.md: Amplify's user errors carry a resolution; faults of the tool are a separate class).
 */
export type ExitCode = 0 | 1 | 2 | 3 | 130;

export interface ErrorContext {
  step?: string;
  region?: string;
  resource?: string;
  awsCode?: string;
}

export abstract class DrctlError extends Error {
  abstract readonly exitCode: ExitCode;
  readonly context: ErrorContext;
  /** What the person should do next. */
  readonly resolution: string | undefined;

  constructor(message: string, opts: { resolution?: string; cause?: unknown } & ErrorContext = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.resolution = opts.resolution;
    this.context = { step: opts.step, region: opts.region, resource: opts.resource, awsCode: opts.awsCode };
  }
}

/** Bad config, flag or state file: exit 2, and nothing was changed. */
export class UsageError extends DrctlError {
  readonly exitCode = 2 as const;
  /** The config key, flag or state path at fault, e.g. `primary.vpcCidr` or `--region`. */
  readonly field: string | undefined;
  constructor(
    message: string,
    opts: { field?: string; resolution?: string; cause?: unknown; omitFieldPrefix?: boolean } = {},
  ) {
    // omitFieldPrefix: the message already names its fields (a list of several problems).
    super(opts.field && !opts.omitFieldPrefix ? `${opts.field}: ${message}` : message, opts);
    this.field = opts.field;
  }
}

/** Another drctl holds the state lock. Nothing was changed, so it is a usage-class exit. */
export class LockedError extends DrctlError {
  readonly exitCode = 2 as const;
}

/** AWS refused or failed, or something took longer than its deadline. */
export class AwsStepError extends DrctlError {
  readonly exitCode = 1 as const;
}

/** The failover drill ran but missed its bound. */
export class DrillFailedError extends DrctlError {
  readonly exitCode = 3 as const;
}

export class InterruptedError extends DrctlError {
  readonly exitCode = 130 as const;
  constructor(message = 'interrupted') {
    super(message, { resolution: 'Run the same command again to resume; the state file is consistent.' });
  }
}

export function isDrctlError(e: unknown): e is DrctlError {
  return e instanceof DrctlError;
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
