import type { DiscoverResult } from '../engine/discover.js';
import { type ExitCode, UsageError } from '../errors/errors.js';
import type { DiscoverDownResult, FoundDoc } from '../io/results.js';
import { regionsOf } from '../config/config.js';
import { FileBackend } from '../state/file.js';
import { StateStore } from '../state/store.js';
import { isS3Location } from '../state/location.js';
import { UnreadableStateBackend } from '../state/memory.js';
import { loadStore, makeRunner, storeOptions, whoPays } from '../cli/aws-session.js';
import type { Session } from '../cli/session.js';
import { lifecycle } from './up-down-step.js';

// `drctl down --discover`: finding this deployment's resources without (or beside) the state
// file. The look-ups themselves are the steps' `discover` functions.

export type DiscoverDownArgs = Record<string, never>;

/** A state file that cannot be read or fails its schemas (not one of another deployment). */
const isUnreadableState = (e: unknown): e is UsageError =>
  e instanceof UsageError && /^state(\.|$)/.test(e.field ?? '');

/**
 * `down --discover`: list what AWS holds of this deployment, found by ownership tag and name (the
 * state file may be lost or unreadable); with --yes, delete it with the normal `down`, whose steps
 * find resources the same way. An unreadable state file is left as it is.
 */
export async function run(s: Session, _args: DiscoverDownArgs): Promise<ExitCode> {
  let store: StateStore;
  let made: Awaited<ReturnType<typeof makeRunner>>;
  let unreadable: string | undefined;
  try {
    store = await loadStore(s);
    made = await makeRunner(s, store);
    await made.runner.load();
  } catch (e) {
    if (!isUnreadableState(e)) throw e;
    unreadable = e.message;
    const lockHolder = isS3Location(s.statePath) ? undefined : new FileBackend(s.statePath);
    store = await StateStore.over(
      new UnreadableStateBackend(s.statePath, lockHolder),
      s.config,
      storeOptions(s),
    );
    made = await makeRunner(s, store);
    s.reporter.line(
      `the state ${s.statePath} cannot be read (${unreadable}); it is left as it is, and this run works from AWS alone`,
    );
  }
  await whoPays(s, made.aws, store);
  const results = await made.runner.discover();
  const count = results.reduce((n, r) => n + r.found.length, 0);
  const failed = results.filter((r) => r.error);
  const where = `${regionsOf(s.config).join(' and ')}, Route 53 and IAM`;
  s.reporter.line(
    count
      ? `found ${count} resource(s) of deployment "${s.config.deployment}" in ${where}:`
      : `nothing of deployment "${s.config.deployment}" found in ${where}`,
  );
  for (const l of foundLines(results)) s.reporter.line(l);
  const doc = { command: 'down' as const, discover: true as const, found: foundDoc(results) };
  if (failed.length) {
    s.reporter.line('some look-ups failed (above), so nothing was deleted: fix the cause and run it again');
    s.reporter.result({
      ...doc,
      ok: false,
      exitCode: 1,
      errors: failed.map((r) => ({ step: r.step, scope: r.scope, message: r.error!.message })),
    } satisfies DiscoverDownResult);
    return 1;
  }
  if (!s.opts.yes) {
    if (count)
      s.reporter.line('nothing was deleted: `drctl down --discover --yes` deletes these, in reverse order');
    s.reporter.result({ ...doc, ok: true, deleted: false } satisfies DiscoverDownResult);
    return 0;
  }
  if (s.opts.json) {
    for (const r of results)
      for (const f of r.found)
        s.reporter.emit({
          type: 'log',
          level: 'info',
          step: r.step,
          scope: r.scope,
          message: `found: ${f.what}`,
          t: s.deps.clock.now(),
        });
  }
  const nodes = new Set(results.filter((r) => r.found.length).map((r) => `${r.step}@${r.scope}`));
  const code = await lifecycle(s, 'down', undefined, { store, nodes });
  if (unreadable && code === 0) {
    s.reporter.line(
      `the unreadable state ${s.statePath} was left untouched; nothing it could name is left in AWS, so delete it before the next \`drctl up\``,
    );
  }
  return code;
}

/** What discovery found, one line per resource, grouped by step and region; errors named. */
export function foundLines(results: DiscoverResult[], o: { onlyUnrecorded?: boolean } = {}): string[] {
  const lines: string[] = [];
  for (const r of results) {
    const found = o.onlyUnrecorded ? r.found.filter((f) => !f.recorded) : r.found;
    for (const f of found) {
      lines.push(
        `  ${r.step} ${r.scope}: ${f.what}${f.recorded || o.onlyUnrecorded ? '' : ' (not in the state)'}`,
      );
    }
    if (r.error) lines.push(`  ${r.step} ${r.scope}: could not look: ${r.error.message}`);
  }
  return lines;
}

/** The JSON form: step, scope, what, id and whether the state records it. */
export function foundDoc(results: DiscoverResult[]): FoundDoc[] {
  return results.flatMap((r) =>
    r.found.map((f) => ({ step: r.step, scope: r.scope, what: f.what, id: f.id, recorded: f.recorded })),
  );
}
