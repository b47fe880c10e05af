import { extname } from 'node:path';
import type { Config } from '../config/config.js';
import { loadDrills } from '../drill/history.js';
import { UsageError, type ExitCode } from '../errors/errors.js';
import { outputPathProblem, outputWriteProblem, writeFileAtomic } from '../lib/files.js';
import type { Reporter } from '../io/reporter.js';
import type { State } from '../state/schema.js';
import type { VerifyResult } from '../verify/command.js';
import { renderCharts, renderHtml, renderMarkdown, reportData } from '../report/html.js';
import { DRILLS_DIR, type EvidenceStore, LAST_VERIFY } from '../state/evidence.js';
import type { ReportResult } from '../io/results.js';
import { resolve } from 'node:path';
import { evidenceOf, loadStore } from '../cli/aws-session.js';
import type { Session } from '../cli/session.js';

// `drctl report [--out FILE] [--format html|md]`: reads the state and what is kept beside it (the
// last verify, the drills); makes no AWS call beyond reading an S3 state.

export type ReportFormat = 'html' | 'md';

export interface ReportArgs {
  out?: string;
  format?: string;
}

export async function run(s: Session, args: ReportArgs): Promise<ExitCode> {
  parseReportArgs(args);
  if (s.opts.json && !args.out)
    throw new UsageError('with --json, the report needs a file: stdout carries the JSON summary', {
      field: '--out',
    });
  // Before reading anything: a bad --out is the user's to fix, said before any work.
  if (args.out) checkOut(resolve(s.deps.cwd, args.out));
  const store = await loadStore(s);
  return reportCommand({
    config: s.config,
    state: store.state,
    evidence: await evidenceOf(s),
    reporter: s.reporter,
    stdout: s.deps.stdout,
    now: s.deps.clock.now(),
    args,
    resolvePath: (p) => resolve(s.deps.cwd, p),
  });
}

export function parseReportArgs(a: { out?: string; format?: string }): {
  out?: string;
  format: ReportFormat;
} {
  const inferred = a.out && extname(a.out).toLowerCase() === '.md' ? 'md' : 'html';
  const format = a.format ?? inferred;
  if (format !== 'html' && format !== 'md')
    throw new UsageError(`must be html or md, not "${format}"`, { field: '--format' });
  if (a.out !== undefined && !a.out.trim()) throw new UsageError('needs a file name', { field: '--out' });
  return { out: a.out, format };
}

function parseVerify(text: string | undefined): VerifyResult | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as Partial<VerifyResult>;
    return v && v.command === 'verify' && Array.isArray(v.checks) && v.counts
      ? (v as VerifyResult)
      : undefined;
  } catch {
    return undefined;
  }
}

export async function reportCommand(o: {
  config: Config;
  state: Readonly<State>;
  evidence: EvidenceStore;
  reporter: Reporter;
  stdout: NodeJS.WritableStream;
  now: number;
  args: { out?: string; format?: string };
  /** Resolves --out against the working directory. */
  resolvePath: (p: string) => string;
}): Promise<ExitCode> {
  const args = parseReportArgs(o.args);
  const [verifyText, { drills, unreadable }] = await Promise.all([
    o.evidence.get(LAST_VERIFY),
    loadDrills(o.evidence, o.config),
  ]);
  const data = reportData({
    config: o.config,
    state: o.state,
    verify: parseVerify(verifyText),
    verifyLocation: o.evidence.where(LAST_VERIFY),
    drills,
    drillsLocation: o.evidence.where(DRILLS_DIR),
    now: o.now,
  });
  const charts = await renderCharts(data);
  const text = args.format === 'md' ? renderMarkdown(data, charts) : renderHtml(data, charts);
  for (const u of unreadable) o.reporter.line(`unreadable drill record (skipped): ${u}`);
  let written: string | undefined;
  if (args.out) {
    written = o.resolvePath(args.out);
    writeOut(written, text);
    o.reporter.line(
      `report written: ${written} (${data.drills.length} drill(s), ${data.verify ? 'last verify included' : 'no verify kept yet'})`,
    );
  } else o.stdout.write(text);
  o.reporter.result({
    ok: true,
    command: 'report',
    format: args.format,
    out: written,
    drills: data.drills.length,
    lastDrill: data.lastDrill?.startedAt,
    verify: data.verify?.checkedAt,
    charts: Object.entries(charts)
      .filter(([, c]) => c)
      .map(([k]) => k),
  } satisfies ReportResult);
  return 0;
}

const OUT_HELP = 'give --out a file name in a folder you can write to';

function checkOut(path: string): void {
  const problem = outputPathProblem(path);
  if (problem) throw new UsageError(problem, { field: '--out', resolution: OUT_HELP });
}

/** The report, written atomically; a failure the user can fix is a usage error naming --out. */
function writeOut(path: string, text: string): void {
  checkOut(path);
  try {
    // A report is made to be shared: readable by others, unlike the state.
    writeFileAtomic(path, text, 0o644);
  } catch (e) {
    const problem = outputWriteProblem(path, e);
    if (!problem) throw e;
    throw new UsageError(problem, { field: '--out', resolution: OUT_HELP, cause: e });
  }
}
