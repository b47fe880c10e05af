import {
  DrctlError,
  type UsageError,
  errorCode,
  errorMessage,
  stackWithCauses,
  type ExitCode,
} from '../errors/errors.js';
import type { Reporter } from '../io/reporter.js';
import type { ErrorResult } from '../io/results.js';

// The one place an error becomes what the user sees: a message, what to do, and the exit code
// (the DrctlError's own; anything else is a bug in drctl, exit 1).

export function reportError(
  e: unknown,
  reporter: Reporter,
  o: { json?: boolean; verbose?: boolean; stderr: NodeJS.WritableStream },
): ExitCode {
  const err = e instanceof DrctlError ? e : undefined;
  const code: ExitCode = err?.exitCode ?? 1;
  const where = err ? [err.context.step, err.context.region].filter(Boolean).join(' ') : '';
  const lines = [
    `error${where ? ` (${where})` : ''}: ${err ? err.message : `internal error: ${errorMessage(e)}`}`,
    err?.resolution
      ? `what to do: ${err.resolution}`
      : err
        ? ''
        : 'This is a bug in drctl; please report it with --verbose output.',
  ].filter(Boolean);
  if (o.json) {
    const result: ErrorResult = {
      ok: false,
      exitCode: code,
      error: {
        code: errorCode(e),
        message: err?.message ?? errorMessage(e),
        ...err?.context,
        field: (err as UsageError | undefined)?.field,
        resolution: err?.resolution,
      },
    };
    reporter.result(result);
  }
  o.stderr.write(`${lines.join('\n')}\n`);
  const stack = o.verbose ? stackWithCauses(e) : undefined;
  if (stack) o.stderr.write(`${stack}\n`);
  return code;
}
