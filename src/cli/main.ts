import { Command, CommanderError, Option } from 'commander';
import type { AwsClientFactoryOptions } from '../aws/clients.js';
import { type Clock, realClock } from '../lib/clock.js';
import type { GlobalOpts } from '../commands/all.js';
import type { ExitCode } from '../errors/errors.js';
import { drctlVersion } from '../lib/version.js';
import type { StepInfo } from '../steps/index.js';
import { STEP_NAMES } from '../steps/types.js';

// Start-up imports only commander and type declarations: `drctl --help` stays light. The commands
// (src/commands/: zod, the state store, pricing), and through the runner the AWS SDK, load when
// a command runs.

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

export function buildProgram(
  run: (cmd: string, args: Record<string, unknown>, opts: GlobalOpts) => Promise<ExitCode>,
): Command {
  const program = new Command('drctl')
    .description(
      'Build, drill and tear down a cross-region DR setup for a private Amazon API Gateway REST API.',
    )
    .addOption(
      new Option('--config <path>', 'config file (default: ./drctl.config.json, else the workshop defaults)'),
    )
    .addOption(
      new Option('--state <path>', `state file, or s3://bucket/key for a team (default: .drctl/state.json)`),
    )
    .addOption(
      new Option(
        '--lock-timeout <seconds>',
        'wait this long for a state lock held by another drctl (default: 0, fail at once)',
      ),
    )
    .addOption(
      new Option(
        '--profile <name>',
        'AWS profile from ~/.aws/config (SSO profiles included); default: the standard chain',
      ),
    )
    .option('--json', 'machine-readable output: newline-delimited JSON events and a summary on stdout')
    .option('--verbose', 'more detail, and stack traces on errors')
    .option('--debug', 'log every AWS call (service, command, region, HTTP status, time) to stderr')
    .option('-y, --yes', 'do not ask before destructive changes (required for `down` without a terminal)')
    .option('--no-color', 'no colours (NO_COLOR is honoured too)')
    .version(drctlVersion(), '-V, --version', 'print the drctl version')
    .showHelpAfterError('(run `drctl --help` for usage)')
    .exitOverride();

  const globals = (cmd: Command) => cmd.optsWithGlobals<GlobalOpts>();
  program
    .command('up')
    .description('create or resume every step, both regions; safe to re-run')
    .action(async (_o, cmd: Command) => {
      await run('up', {}, globals(cmd));
    });
  program
    .command('step')
    .description(`run one step: ${STEP_NAMES.join(', ')}`)
    .argument('<name>', 'step name')
    .option('--region <region>', 'only this region (default: both)')
    .action(async (name: string, o: { region?: string }, cmd: Command) => {
      await run('step', { name, region: o.region }, globals(cmd));
    });
  program
    .command('plan')
    .description('show the steps and what each will create or has recorded; makes no AWS call')
    .action(async (_o, cmd: Command) => {
      await run('plan', {}, globals(cmd));
    });
  program
    .command('status')
    .description('show the recorded resources')
    .option('--refresh', 'check the recorded resources against AWS')
    .action(async (o: { refresh?: boolean }, cmd: Command) => {
      await run('status', { refresh: !!o.refresh }, globals(cmd));
    });
  program
    .command('failover-test')
    .description(
      'drill: fail a region (the primary by default), measure from inside the VPC(s) that its clients move and come back, and restore',
    )
    .option(
      '--mode <mode>',
      "invert (default): invert the failed region's health check; outage: revoke its endpoint's 443 ingress",
    )
    .option(
      '--timeout <seconds>',
      'how long each switch may take (default: twice the worst case `plan` shows)',
    )
    .option(
      '--region <region>',
      'the region to fail: primary (default), or with topology active-active secondary (or a region name)',
    )
    .option('--dry-run', 'check the preconditions and print what would change; change nothing')
    .action(
      async (o: { mode?: string; timeout?: string; region?: string; dryRun?: boolean }, cmd: Command) => {
        await run('failover-test', { ...o }, globals(cmd));
      },
    );
  program
    .command('verify')
    .description(
      'check, read-only, that a failover would work now (about a minute; for cron and CI): exit 0 ready, 3 not ready, 1 could not check',
    )
    .action(async (_o, cmd: Command) => {
      await run('verify', {}, globals(cmd));
    });
  program
    .command('drills')
    .description('list the drills kept beside the state (every failover-test, dry runs marked)')
    .action(async (_o, cmd: Command) => {
      await run('drills', {}, globals(cmd));
    });
  program
    .command('report')
    .description(
      'one self-contained HTML page (or Markdown) of the deployment, the last verify and the drills, with charts; no AWS call',
    )
    .option('--out <file>', 'write it to this file (default: stdout)')
    .option('--format <format>', 'html (default) or md (Markdown, for a ticket); .md in --out implies md')
    .action(async (o: { out?: string; format?: string }, cmd: Command) => {
      await run('report', { ...o }, globals(cmd));
    });
  program
    .command('down')
    .description('delete everything this deployment made, in reverse order; safe to re-run')
    .option(
      '--discover',
      'find what this deployment has in AWS by its tags and names, without the state file, and list it; with --yes, delete it',
    )
    .action(async (o: { discover?: boolean }, cmd: Command) => {
      await run('down', { discover: !!o.discover }, globals(cmd));
    });
  program
    .command('config')
    .description('show the configuration: the one in use, the defaults, or the field reference')
    .option('--print-defaults', 'print the default config as JSON (a starting drctl.config.json)')
    .option('--reference', 'print every field with type, default and meaning (Markdown)')
    .action(async (o: { printDefaults?: boolean; reference?: boolean }, cmd: Command) => {
      await run('config', { ...o }, globals(cmd));
    });
  program
    .command('iam-policy')
    .description('print the least-privilege IAM policy that up, failover-test and down need (no AWS call)')
    .option('--account <id>', 'AWS account id for the ARNs (default: * in the account field)')
    .option('--part <n>', 'print only part n when the policy is split to fit IAM size limits')
    .option('--read-only', 'only what verify, status --refresh, drills and report need (for cron and CI)')
    .action(async (o: { account?: string; part?: string; readOnly?: boolean }, cmd: Command) => {
      await run('iam-policy', { ...o }, globals(cmd));
    });
  program
    .command('unlock')
    .description('remove a state lock left by a drctl that is gone; without an id, show the lock and its id')
    .argument('[id]', 'the lock id, as shown when a run is refused')
    .action(async (id: string | undefined, _o, cmd: Command) => {
      await run('unlock', { id }, globals(cmd));
    });
  return program;
}

export async function main(argv: string[], deps: CliDeps = {}): Promise<ExitCode> {
  // drctl supports Node.js 20 on purpose (package.json engines); the SDK's notice that its future
  // versions will not would otherwise land in the middle of the progress output, once per run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const d = {
    cwd: deps.cwd ?? process.cwd(),
    env: deps.env ?? process.env,
    stdout: deps.stdout ?? process.stdout,
    stderr: deps.stderr ?? process.stderr,
    clock: deps.clock ?? realClock,
    ...deps,
  };
  // This call's own exit code: two drctl runs in one process (tests) must not share one.
  let code: ExitCode = 0;
  const program = buildProgram(async (cmd, args, opts) => {
    const { runCommand } = await import('../commands/all.js');
    code = await runCommand(cmd, args, opts, d);
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
