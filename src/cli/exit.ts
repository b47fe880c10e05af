import {
  DrctlError,
  UsageError,
  errorCode,
  errorMessage,
  isUserError,
  stackWithCauses,
  type ExitCode,
} from '../errors/errors.js';
import type { Reporter } from '../io/reporter.js';
import { terminalWidth, wrapLabelled } from '../io/wrap.js';
import type { ErrorResult } from '../io/results.js';

// The one place an error becomes what the user sees: a message, what to do, and the exit code
// (the DrctlError's own; a fault, or anything that is not a DrctlError, is a bug in drctl, exit 1).

export function reportError(
  e: unknown,
  reporter: Reporter,
  o: { json?: boolean; verbose?: boolean; stderr: NodeJS.WritableStream },
): ExitCode {
  const err = e instanceof DrctlError ? e : undefined;
  const code: ExitCode = err?.exitCode ?? 1;
  const where = err ? [err.context.step, err.context.region].filter(Boolean).join(' ') : '';
  // A fault (anything not a DrctlError, or a DrctlFault) is drctl's bug, said as one.
  const lines = isUserError(e)
    ? [`error${where ? ` (${where})` : ''}: ${e.message}`, e.resolution ? `what to do: ${e.resolution}` : '']
    : [
        `error${where ? ` (${where})` : ''}: internal error: ${errorMessage(e)}`,
        'This is a bug in drctl; please report it with --verbose output.',
      ];
  if (o.json) {
    const result: ErrorResult = {
      ok: false,
      exitCode: code,
      error: {
        code: errorCode(e),
        message: err?.message ?? errorMessage(e),
        ...err?.context,
        field: err instanceof UsageError ? err.field : undefined,
        resolution: err?.resolution,
      },
    };
    reporter.result(result);
  }
  // Folded to the terminal's width (80 when it reports none; piped, one line each for logs and
  // grep), each continuation hung under the text after its label ("error: ", "  tried: ").
  const width = terminalWidth(o.stderr);
  const folded = lines.filter(Boolean).flatMap((text) => wrapLabelled(text, width));
  o.stderr.write(`${folded.join('\n')}\n`);
  const stack = o.verbose ? stackWithCauses(e) : undefined;
  if (stack) o.stderr.write(`${stack}\n`);
  return code;
}
