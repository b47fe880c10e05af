import { awsCode } from '../aws/errors.js';
import { awsAdvice } from '../errors/aws.js';
import type { ExitCode } from '../errors/errors.js';
import { errorMessage } from '../errors/errors.js';
import type { EvidenceStore } from '../state/evidence.js';
import { LAST_VERIFY } from '../state/evidence.js';
import type { Reporter } from '../io/reporter.js';
import { wrapLine } from '../io/wrap.js';
import type { VerifyCommandResult, VerifyResult } from '../io/results.js';
import { CHECKS, type CheckLine, type VerifyCheck, type VerifyContext } from './checks.js';

// `drctl verify`: every check at once (they are independent reads), one line each, and the
// verdict as the exit code: 0 ready, 3 not ready (a check failed), 1 could not check (a read
// failed and nothing failed outright). The result is kept beside the state for `drctl report`.

export type { VerifyResult } from '../io/results.js';

async function runOne(c: VerifyCheck, ctx: VerifyContext): Promise<CheckLine[]> {
  try {
    return await c.run(ctx);
  } catch (e) {
    const code = awsCode(e);
    return [
      {
        check: c.id,
        status: 'error',
        text: `could not check ${c.title}: ${code ? `${code}: ` : ''}${errorMessage(e)}`,
        fix: awsAdvice(code, 'verify'),
      },
    ];
  }
}

export async function verify(
  ctx: VerifyContext,
  checks: readonly VerifyCheck[] = CHECKS,
): Promise<VerifyResult> {
  const started = ctx.clock.now();
  const lines = (await Promise.all(checks.map((c) => runOne(c, ctx)))).flat();
  const counts = { ok: 0, warn: 0, fail: 0, error: 0 };
  for (const l of lines) counts[l.status]++;
  // A certain "not ready" outranks "could not check" the rest: it is the answer a pager wants.
  const exitCode: ExitCode = counts.fail ? 3 : counts.error ? 1 : 0;
  const [primary, secondary] = [ctx.config.primary.region, ctx.config.secondary.region];
  return {
    command: 'verify',
    ready: exitCode === 0,
    exitCode,
    checkedAt: new Date(started).toISOString(),
    elapsedMs: ctx.clock.now() - started,
    deployment: ctx.config.deployment,
    regions: [primary, secondary],
    counts,
    checks: lines,
  };
}

/**
 * One line a check (and its fix), or, at a terminal's `columns`, folded so that the words continue
 * under the check's text (under the label when the labels take half the width); piped, unfolded.
 */
export function renderVerify(r: VerifyResult, columns?: number): string[] {
  const width = Math.max(...r.checks.map((l) => label(l).length));
  const textAt = 6 + width + 2;
  const hang = columns !== undefined && textAt > columns / 2 ? 8 : textAt;
  const out = r.checks.flatMap((l) => {
    const head = `${l.status === 'error' ? 'ERROR' : l.status.padEnd(5)} ${label(l).padEnd(width)}  ${l.text}`;
    const lines = wrapLine(head, columns, hang);
    if (l.fix && l.status !== 'ok')
      lines.push(...wrapLine(`${' '.repeat(hang)}fix: ${l.fix}`, columns, hang + 5));
    return lines;
  });
  const verdict =
    r.exitCode === 0
      ? `ready${r.counts.warn ? ` (${r.counts.warn} warning(s))` : ''}`
      : r.exitCode === 3
        ? `NOT READY: ${r.counts.fail} check(s) failed${r.counts.error ? `, ${r.counts.error} could not be checked` : ''}`
        : `COULD NOT CHECK: ${r.counts.error} check(s) could not read what they need`;
  return [...out, '', `verify: ${verdict} (${Math.round(r.elapsedMs / 1000)} s)`];
}

const label = (l: CheckLine) => `${l.check}${l.region ? ` ${l.region}` : ''}`;

export async function verifyCommand(
  ctx: VerifyContext,
  o: { reporter: Reporter; evidence: EvidenceStore; json: boolean },
): Promise<ExitCode> {
  const r = await verify(ctx);
  // Kept for `drctl report`; a verify that cannot save its result still gives its verdict.
  let saved: string | undefined;
  try {
    await o.evidence.put(LAST_VERIFY, `${JSON.stringify(r, null, 2)}\n`);
    saved = o.evidence.where(LAST_VERIFY);
  } catch (e) {
    o.reporter.line(`could not keep the result beside the state: ${errorMessage(e)}`);
  }
  for (const line of renderVerify(r, o.reporter.width)) o.reporter.line(line);
  o.reporter.result({ ok: r.ready, ...r, saved } satisfies VerifyCommandResult);
  return r.exitCode;
}
