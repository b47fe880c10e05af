import { Command, CommanderError, Option } from 'commander';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { AwsClientFactoryOptions } from './aws/clients.js';
import { type Clock, realClock } from './clock.js';
import { type Config, loadConfig, regionsOf } from './config.js';
import { DrctlError, InterruptedError, UsageError, errorMessage, type ExitCode } from './errors.js';
import { type Reporter, createReporter, fmtDuration } from './report.js';
import { DEFAULT_STATE_PATH, GLOBAL, StateStore } from './state.js';
import { STEPS, type StepInfo } from './steps/index.js';
import { STEP_NAMES, type StepName, type StepPaths } from './steps/types.js';

// Only light modules are imported at start-up: commander, config (zod), state and the step
// catalogue. The runner's step modules, and with them the AWS SDK, load when a command needs them.

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

interface GlobalOpts {
  config?: string;
  state?: string;
  profile?: string;
  json?: boolean;
  verbose?: boolean;
  yes?: boolean;
  color?: boolean;
}

interface Session {
  deps: Required<Pick<CliDeps, 'cwd' | 'env' | 'stdout' | 'stderr' | 'clock'>> & CliDeps;
  opts: GlobalOpts;
  config: Config;
  configPath: string | undefined;
  statePath: string;
  paths: StepPaths;
  reporter: Reporter;
  steps: readonly StepInfo[];
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
    .addOption(new Option('--state <path>', `state file (default: ${DEFAULT_STATE_PATH})`))
    .addOption(
      new Option(
        '--profile <name>',
        'AWS profile from ~/.aws/config (SSO profiles included); default: the standard chain',
      ),
    )
    .option('--json', 'machine-readable output: newline-delimited JSON events and a summary on stdout')
    .option('--verbose', 'more detail, and stack traces on errors')
    .option('-y, --yes', 'do not ask before destructive changes (required for `down` without a terminal)')
    .option('--no-color', 'no colours (NO_COLOR is honoured too)')
    .showHelpAfterError('(run `drctl --help` for usage)')
    .exitOverride();

  const globals = (cmd: Command) => cmd.optsWithGlobals<GlobalOpts>();
  program
    .command('up')
    .description('create or resume every step, both regions; safe to re-run')
    .action(async (_o, cmd: Command) => {
      exit = await run('up', {}, globals(cmd));
    });
  program
    .command('step')
    .description(`run one step: ${STEP_NAMES.join(', ')}`)
    .argument('<name>', 'step name')
    .option('--region <region>', 'only this region (default: both)')
    .action(async (name: string, o: { region?: string }, cmd: Command) => {
      exit = await run('step', { name, region: o.region }, globals(cmd));
    });
  program
    .command('plan')
    .description('show the steps and what each will create or has recorded; makes no AWS call')
    .action(async (_o, cmd: Command) => {
      exit = await run('plan', {}, globals(cmd));
    });
  program
    .command('status')
    .description('show the recorded resources')
    .option('--refresh', 'check the recorded resources against AWS')
    .action(async (o: { refresh?: boolean }, cmd: Command) => {
      exit = await run('status', { refresh: !!o.refresh }, globals(cmd));
    });
  program
    .command('failover-test')
    .description('drill: force a failover to the secondary, measure it, and restore')
    .action(async (_o, cmd: Command) => {
      exit = await run('failover-test', {}, globals(cmd));
    });
  program
    .command('down')
    .description('delete everything this deployment made, in reverse order; safe to re-run')
    .action(async (_o, cmd: Command) => {
      exit = await run('down', {}, globals(cmd));
    });
  program
    .command('config')
    .description('show the configuration: the one in use, the defaults, or the field reference')
    .option('--print-defaults', 'print the default config as JSON (a starting drctl.config.json)')
    .option('--reference', 'print every field with type, default and meaning (Markdown)')
    .action(async (o: { printDefaults?: boolean; reference?: boolean }, cmd: Command) => {
      exit = await run('config', { ...o }, globals(cmd));
    });
  program
    .command('unlock')
    .description('remove a state lock left by a drctl that is gone')
    .action(async (_o, cmd: Command) => {
      exit = await run('unlock', {}, globals(cmd));
    });
  return program;
}

let exit: ExitCode = 0;

export async function main(argv: string[], deps: CliDeps = {}): Promise<ExitCode> {
  const d = {
    cwd: deps.cwd ?? process.cwd(),
    env: deps.env ?? process.env,
    stdout: deps.stdout ?? process.stdout,
    stderr: deps.stderr ?? process.stderr,
    clock: deps.clock ?? realClock,
    ...deps,
  };
  exit = 0;
  const program = buildProgram((cmd, args, opts) => runCommand(cmd, args, opts, d));
  program.configureOutput({
    writeOut: (s) => d.stdout.write(s),
    writeErr: (s) => d.stderr.write(s),
  });
  try {
    await program.parseAsync(argv);
    return exit;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with code 0; anything else is a usage error.
      return e.exitCode === 0 ? 0 : 2;
    }
    throw e;
  }
}

async function configCommand(
  args: Record<string, unknown>,
  d: Session['deps'],
  opts: GlobalOpts,
): Promise<ExitCode> {
  const { configReference, printDefaults } = await import('./config-doc.js');
  if (args.reference) d.stdout.write(`${configReference()}\n`);
  else if (args.printDefaults) d.stdout.write(printDefaults());
  else {
    const { config, path } = loadConfig({ path: opts.config, cwd: d.cwd });
    if (!opts.json) d.stderr.write(`# ${path ?? 'no config file: the workshop defaults'}\n`);
    d.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
  }
  return 0;
}

async function runCommand(
  cmd: string,
  args: Record<string, unknown>,
  opts: GlobalOpts,
  deps: Session['deps'],
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
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl-C: the user means it
    reporter.line('interrupted: finishing the call in flight and saving the state (Ctrl-C again to force)');
    controller.abort(new InterruptedError());
  };
  if (deps.signal)
    deps.signal.addEventListener('abort', () => controller.abort(new InterruptedError()), { once: true });
  else {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    if (cmd === 'config') return await configCommand(args, deps, opts);
    const { config, path: configPath } = loadConfig({ path: opts.config, cwd: deps.cwd });
    const statePath = resolve(deps.cwd, opts.state ?? DEFAULT_STATE_PATH);
    const root = dirname(statePath);
    const s: Session = {
      deps,
      opts,
      config,
      configPath,
      statePath,
      paths: { root, keys: join(root, 'keys'), ca: join(root, 'ca') },
      reporter,
      steps: deps.steps ?? STEPS,
    };
    return await dispatch(cmd, args, s, controller.signal);
  } catch (e) {
    return reportError(e, reporter, opts, deps);
  } finally {
    reporter.close();
    if (!deps.signal) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

function reportError(e: unknown, reporter: Reporter, opts: GlobalOpts, deps: Session['deps']): ExitCode {
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
  if (opts.json) {
    reporter.result({
      ok: false,
      exitCode: code,
      error: {
        message: err?.message ?? errorMessage(e),
        ...err?.context,
        field: (err as UsageError | undefined)?.field,
        resolution: err?.resolution,
      },
    });
  }
  deps.stderr.write(`${lines.join('\n')}\n`);
  if (opts.verbose && e instanceof Error && e.stack) deps.stderr.write(`${e.stack}\n`);
  return code;
}

async function dispatch(
  cmd: string,
  args: Record<string, unknown>,
  s: Session,
  signal: AbortSignal,
): Promise<ExitCode> {
  switch (cmd) {
    case 'plan':
      return plan(s);
    case 'status':
      return status(s, !!args.refresh, signal);
    case 'unlock': {
      const holder = StateStore.forceUnlock(s.statePath);
      s.reporter.line(
        holder
          ? `removed the lock of pid ${holder.pid} on ${holder.host} (${holder.command})`
          : 'no lock was held',
      );
      s.reporter.result({ ok: true, unlocked: !!holder });
      return 0;
    }
    case 'up':
      return lifecycle(s, 'up', signal);
    case 'step': {
      const name = args.name as string;
      if (!(STEP_NAMES as readonly string[]).includes(name)) {
        throw new UsageError(`unknown step "${name}"`, {
          field: 'step',
          resolution: `Valid steps: ${STEP_NAMES.join(', ')}.`,
        });
      }
      const region = args.region as string | undefined;
      if (region !== undefined && !regionsOf(s.config).includes(region)) {
        throw new UsageError(
          `${region} is not one of this deployment's regions (${regionsOf(s.config).join(', ')})`,
          { field: '--region' },
        );
      }
      if (!s.steps.some((x) => x.name === name)) {
        throw new UsageError(`step "${name}" is not available in this version of drctl`, { field: 'step' });
      }
      return lifecycle(s, 'step', signal, { step: name as StepName, region });
    }
    case 'down':
      if (!s.opts.yes) await confirmDown(s);
      return lifecycle(s, 'down', signal);
    case 'failover-test':
      throw new UsageError(
        'failover-test needs the health-check and routing steps, which this version does not have yet',
        {
          field: 'failover-test',
        },
      );
    default:
      throw new UsageError(`unknown command ${cmd}`);
  }
}

async function confirmDown(s: Session): Promise<void> {
  const interactive = s.deps.isTTY ?? process.stdin.isTTY === true;
  if (!interactive && !s.deps.confirm) {
    throw new UsageError('down deletes every resource of this deployment and needs confirmation', {
      field: '--yes',
      resolution: 'Pass --yes to confirm when running without a terminal.',
    });
  }
  const question = `Delete everything drctl made for deployment "${s.config.deployment}" in ${regionsOf(s.config).join(' and ')}? Type the deployment name to confirm: `;
  let answer: string;
  if (s.deps.confirm) answer = await s.deps.confirm(question);
  else {
    const rl = createInterface({ input: process.stdin, output: s.deps.stderr });
    answer = await rl.question(question);
    rl.close();
  }
  if (answer.trim() !== s.config.deployment)
    throw new UsageError('not confirmed; nothing was deleted', { field: '--yes' });
}

async function makeRunner(s: Session, store: StateStore, signal: AbortSignal) {
  const [{ Runner }, { AwsClients }] = await Promise.all([import('./runner.js'), import('./aws/clients.js')]);
  const aws = new AwsClients({ profile: s.opts.profile, clock: s.deps.clock, ...s.deps.aws });
  return new Runner({
    config: s.config,
    store,
    aws,
    clock: s.deps.clock,
    sink: s.reporter,
    signal,
    paths: s.paths,
    steps: s.steps,
  });
}

async function lifecycle(
  s: Session,
  cmd: 'up' | 'down' | 'step',
  signal: AbortSignal,
  only?: { step: StepName; region?: string },
): Promise<ExitCode> {
  const store = StateStore.open(s.statePath, s.config);
  const runner = await makeRunner(s, store, signal);
  // Validate the state against the step schemas before taking the lock or calling AWS.
  await runner.load();
  store.lock(cmd === 'step' ? `step ${only!.step}` : cmd);
  const started = s.deps.clock.now();
  try {
    const result = cmd === 'down' ? await runner.down() : await runner.up(only);
    const failed = result.results.filter((r) => r.status === 'failed');
    const code: ExitCode = result.interrupted ? 130 : failed.length ? 1 : 0;
    const took = fmtDuration(s.deps.clock.now() - started);
    if (code === 0)
      s.reporter.line(cmd === 'down' ? `down: everything deleted (${took})` : `${cmd}: done (${took})`);
    else if (code === 130)
      s.reporter.line(
        `${cmd}: interrupted after ${took}; the state is saved, run the same command to resume`,
      );
    else {
      s.reporter.line(
        `${cmd}: ${failed.length} step(s) failed after ${took}: ${failed.map((f) => `${f.step} ${f.scope}`).join(', ')}`,
      );
      if (result.left.length) s.reporter.line(`still recorded (left in AWS): ${result.left.join(', ')}`);
    }
    s.reporter.result({
      ok: code === 0,
      exitCode: code,
      command: cmd,
      elapsedMs: s.deps.clock.now() - started,
      results: result.results.map((r) => ({
        step: r.step,
        scope: r.scope,
        status: r.status,
        outcome: r.outcome,
        reason: r.reason,
        error: r.error && { message: r.error.message, ...r.error.context, resolution: r.error.resolution },
      })),
      left: result.left,
    });
    return code;
  } finally {
    store.unlock();
  }
}

function plan(s: Session): ExitCode {
  const store = StateStore.open(s.statePath, s.config);
  const regions = regionsOf(s.config);
  const rows = s.steps.map((info) => {
    const scopes = info.scope === 'global' ? [GLOBAL] : regions;
    return {
      step: info.name,
      title: info.title,
      creates: info.creates,
      after: info.after,
      scopes: Object.fromEntries(
        scopes.map((scope) => {
          const rec = store.get(info.name, scope);
          return [scope, rec ? (rec.status === 'ready' ? 'recorded' : `resume (${rec.status})`) : 'create'];
        }),
      ),
    };
  });
  if (s.opts.json) {
    s.reporter.result({
      ok: true,
      command: 'plan',
      deployment: s.config.deployment,
      config: s.configPath ?? 'defaults',
      state: s.statePath,
      steps: rows,
    });
    return 0;
  }
  const out = (t: string) => s.reporter.line(t);
  out(
    `deployment ${s.config.deployment}: primary ${regions[0]}, secondary ${regions[1]}, ${s.config.host}.${s.config.domain}`,
  );
  out(
    `config: ${s.configPath ?? 'none found, using the workshop defaults'}; state: ${s.statePath}${store.existed ? '' : ' (none yet)'}`,
  );
  out('');
  s.steps.forEach((info, i) => {
    const row = rows[i]!;
    const where = Object.entries(row.scopes)
      .map(([scope, what]) => `${scope}: ${what}`)
      .join(', ');
    out(`${String(i + 1).padStart(2)}. ${info.name.padEnd(15)} ${where}`);
    out(`    ${info.creates}${info.after.length ? `; after ${info.after.join(', ')}` : ''}`);
  });
  return 0;
}

async function status(s: Session, refresh: boolean, signal: AbortSignal): Promise<ExitCode> {
  const store = StateStore.open(s.statePath, s.config);
  let drift: Array<{ step: string; scope: string; missing: string[] }> = [];
  if (refresh) {
    const runner = await makeRunner(s, store, signal);
    drift = await runner.refresh();
  }
  const steps = store.state.steps;
  if (s.opts.json) {
    s.reporter.result({
      ok: drift.every((d) => d.missing.length === 0),
      command: 'status',
      state: s.statePath,
      steps,
      drift: refresh ? drift : undefined,
    });
    return 0;
  }
  if (Object.keys(steps).length === 0) {
    s.reporter.line(`nothing recorded in ${s.statePath}`);
    return 0;
  }
  for (const info of s.steps) {
    for (const [scope, rec] of Object.entries(steps[info.name] ?? {})) {
      s.reporter.line(`${info.name} ${scope}: ${rec.status} (updated ${rec.updatedAt})`);
      for (const [k, v] of Object.entries(rec.resources))
        s.reporter.line(`    ${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
      const d = drift.find((x) => x.step === info.name && x.scope === scope);
      if (d?.missing.length) s.reporter.line(`    DRIFT: gone from AWS: ${d.missing.join(', ')}`);
    }
  }
  return 0;
}
