import type { ExitCode } from '../errors/errors.js';
import { createReporter } from '../io/reporter.js';
import { COMMANDS, type CommandArgs, type CommandName } from '../commands/index.js';
import { reportError } from './exit.js';
import { type BareSession, type GlobalOpts, type SessionDeps, openSession } from './session.js';
import { watchSignals } from './signals.js';

// One command run: the reporter, the signals, the session, the command (from the registry), and
// whatever it throws through the one error handler. Loaded by main.ts once a command is chosen.

export async function runCommand<K extends CommandName>(
  name: K,
  args: CommandArgs[K],
  opts: GlobalOpts,
  deps: SessionDeps,
): Promise<ExitCode> {
  const interactive = (deps.isTTY ?? process.stderr.isTTY === true) && !deps.env.CI;
  const color = opts.color !== false && !deps.env.NO_COLOR && interactive;
  const reporter = await createReporter({
    json: !!opts.json,
    interactive: interactive && !opts.json,
    color,
    verbose: !!opts.verbose,
    stdout: deps.stdout,
    stderr: deps.stderr,
  });
  const { signals, dispose } = watchSignals(reporter, deps.signal);
  const bare: BareSession = { deps, opts, reporter, signals };
  try {
    const entry: CommandEntryOf<K> = COMMANDS[name];
    if (entry.bare) return await (await entry.load()).run(bare, args);
    const session = openSession(bare, entry.readsApiFile?.(args) ?? false);
    const code = await (await entry.load()).run(session, args);
    // Calls cut short by Ctrl-C fail as any other would: the run was interrupted, not broken.
    return code === 1 && signals.stop.aborted ? 130 : code;
  } catch (e) {
    return reportError(e, reporter, { json: opts.json, verbose: opts.verbose, stderr: deps.stderr });
  } finally {
    reporter.close();
    dispose();
  }
}

type CommandEntryOf<K extends CommandName> = (typeof COMMANDS)[K];
