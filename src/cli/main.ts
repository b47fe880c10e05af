import { CommanderError } from 'commander';
import { realClock } from '../lib/clock.js';
import type { ExitCode } from '../errors/errors.js';
import type { CliDeps, SessionDeps } from './session.js';
import { buildProgram } from './program.js';

// `drctl`'s entry. Start-up imports only commander, the program and type declarations: `drctl
// --help` stays light. The commands (src/commands/: zod, the state store, pricing), and through
// the runner the AWS SDK, load when a command runs (src/cli/run.ts, then the command registry).

export type { CliDeps, GlobalOpts } from './session.js';

export async function main(argv: string[], deps: CliDeps = {}): Promise<ExitCode> {
  // drctl supports the maintained LTS lines (package.json engines: 22 and 24). On an older Node the
  // SDK's notice about its own future support would land in the middle of the progress output,
  // once per client: `npm install` already says the engine is not supported, once.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const d: SessionDeps = {
    cwd: deps.cwd ?? process.cwd(),
    env: deps.env ?? process.env,
    stdout: deps.stdout ?? process.stdout,
    stderr: deps.stderr ?? process.stderr,
    clock: deps.clock ?? realClock,
    ...deps,
  };
  // This call's own exit code: two drctl runs in one process (tests) must not share one.
  let code: ExitCode = 0;
  const program = buildProgram(async (name, args, opts) => {
    const { runCommand } = await import('./run.js');
    code = await runCommand(name, args, opts, d);
    return code;
  });
  // A reader that went away (`drctl plan | head -1`): the rest of the output is dropped, the command
  // ends as it would (its lock released), and no EPIPE stack is printed.
  for (const stream of [d.stdout, d.stderr]) {
    if (stream === process.stdout || stream === process.stderr) quietOnClosedPipe(stream);
  }
  const output = { writeOut: (s: string) => d.stdout.write(s), writeErr: (s: string) => d.stderr.write(s) };
  // Subcommands copied the output settings when they were made: theirs (e.g. an unknown option of
  // `down`) must go to the same streams.
  for (const c of [program, ...program.commands]) c.configureOutput(output);
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with code 0; anything else is a usage error.
      return e.exitCode === 0 ? 0 : 2;
    }
    throw e;
  }
}

const guarded = new WeakSet<NodeJS.WritableStream>();

function quietOnClosedPipe(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
    throw e;
  });
}
