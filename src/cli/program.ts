import { Command, Option } from 'commander';
import type { CommandArgs, CommandName } from '../commands/index.js';
import type { ExitCode } from '../errors/errors.js';
import { drctlVersion } from '../lib/version.js';
import { STEP_NAMES } from '../steps/types.js';
import type { GlobalOpts } from './session.js';

// The commander tree: options, help texts, and each command's typed arguments made from its
// options once. Side-effect free: it parses nothing and runs nothing until `run` is called.

/** Runs one command with its typed arguments and the global options. */
export type RunCommand = <K extends CommandName>(
  name: K,
  args: CommandArgs[K],
  opts: GlobalOpts,
) => Promise<ExitCode>;

export function buildProgram(run: RunCommand): Command {
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
      await run('up', { command: 'up' }, globals(cmd));
    });
  program
    .command('step')
    .description(`run one step: ${STEP_NAMES.join(', ')}`)
    .argument('<name>', 'step name')
    .option('--region <region>', 'only this region (default: both)')
    .action(async (name: string, o: { region?: string }, cmd: Command) => {
      await run('step', { command: 'step', name, region: o.region }, globals(cmd));
    });
  program
    .command('plan')
    .description('show the steps and what each will create or has recorded; no AWS call without --refresh')
    .option('--refresh', "also read AWS (read-only): is the secondary's copy behind the primary's API")
    .action(async (o: { refresh?: boolean }, cmd: Command) => {
      await run('plan', o.refresh ? { refresh: true } : {}, globals(cmd));
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
        await run(
          'failover-test',
          { mode: o.mode, timeout: o.timeout, region: o.region, dryRun: !!o.dryRun },
          globals(cmd),
        );
      },
    );
  program
    .command('failover')
    .description('incident switch: move client traffic to a region and hold it there until `failback`')
    .option('--to <region>', 'active-passive: the region that answers clients')
    .option('--drain <region>', 'active-active: the region that stops answering clients')
    .option('--reason <text>', 'why (required): kept in the state and the drill history')
    .option('--force', 'switch even if the target is not healthy from inside its VPC')
    .action(async (o: { to?: string; drain?: string; reason?: string; force?: boolean }, cmd: Command) => {
      await run('failover', { to: o.to, drain: o.drain, reason: o.reason, force: !!o.force }, globals(cmd));
    });
  program
    .command('failback')
    .description('release the held switch: clients answered as before `failover`')
    .option('--reason <text>', 'why: kept in the drill history')
    .option('--force', 'fail back even if the region returned to is not healthy from inside its VPC')
    .action(async (o: { reason?: string; force?: boolean }, cmd: Command) => {
      await run('failback', { reason: o.reason, force: !!o.force }, globals(cmd));
    });
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
      await run('report', { out: o.out, format: o.format }, globals(cmd));
    });
  program
    .command('down')
    .description('delete everything this deployment made, in reverse order; safe to re-run')
    .option(
      '--discover',
      'find what this deployment has in AWS by its tags and names, without the state file, and list it; with --yes, delete it',
    )
    .action(async (o: { discover?: boolean }, cmd: Command) => {
      // `down --discover` is a command of its own (src/commands/discover-down.ts).
      if (o.discover) await run('discover-down', {}, globals(cmd));
      else await run('down', { command: 'down' }, globals(cmd));
    });
  program
    .command('config')
    .description('show the configuration: the one in use, the defaults, or the field reference')
    .option('--print-defaults', 'print the default config as JSON (a starting drctl.config.json)')
    .option('--reference', 'print every field with type, default and meaning (Markdown)')
    .action(async (o: { printDefaults?: boolean; reference?: boolean }, cmd: Command) => {
      await run('config', { printDefaults: !!o.printDefaults, reference: !!o.reference }, globals(cmd));
    });
  program
    .command('iam-policy')
    .description('print the least-privilege IAM policy that up, failover-test and down need (no AWS call)')
    .option('--account <id>', 'AWS account id for the ARNs (default: * in the account field)')
    .option('--part <n>', 'print only part n when the policy is split to fit IAM size limits')
    .option('--read-only', 'only what verify, status --refresh, drills and report need (for cron and CI)')
    .action(async (o: { account?: string; part?: string; readOnly?: boolean }, cmd: Command) => {
      await run('iam-policy', { account: o.account, part: o.part, readOnly: !!o.readOnly }, globals(cmd));
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
