/** The commands behind src/cli/main.ts, loaded only once a command runs. */
import { setMaxListeners } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { type Config, loadConfig, regionsOf } from '../config/config.js';
import {
  DrctlError,
  InterruptedError,
  LockedError,
  UsageError,
  errorMessage,
  stackWithCauses,
  type ExitCode,
  AwsStepError,
} from '../errors/errors.js';
import { type Reporter, createReporter, fmtDuration } from '../io/reporter.js';
import { estimateCost, formatCost } from '../plan/pricing.js';
import { type DrillMode, describeBound, failoverBound } from '../drill/bound.js';
import {
  DEFAULT_STATE_PATH,
  FileBackend,
  GLOBAL,
  type LockInfo,
  StateStore,
  type StoreOptions,
  describeHolder,
  isHolderAlive,
  isS3Location,
  isStale,
  parseS3Location,
} from '../state/store.js';
import type { CallerIdentity } from '../aws/identity.js';
import { STEPS, type StepInfo } from '../steps/index.js';
import { STEP_NAMES, type StepName, type StepPaths } from '../steps/types.js';

import type { CliDeps } from '../cli/main.js';
import type { AwsClientFactoryOptions } from '../aws/clients.js';
import { type CallInfo, callText, retryText } from '../aws/calls.js';

export interface GlobalOpts {
  config?: string;
  state?: string;
  lockTimeout?: string;
  profile?: string;
  json?: boolean;
  verbose?: boolean;
  debug?: boolean;
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
  signals: Signals;
  /** Who pays, once asked (one STS call per run). */
  identity?: CallerIdentity;
}

/**
 * Ctrl-C (SIGINT) and SIGTERM. The first: no new AWS call starts, waits end, and the calls in
 * flight get GRACE_MS to answer (a create's answer is recorded) before they are cancelled; the
 * state is saved and the lock released as on any other end. The second cancels every call at
 * once, including a drill's restore, and the process leaves within FORCE_EXIT_MS whatever hangs,
 * releasing a file lock on its way out.
 */
interface Signals {
  /** The first Ctrl-C. */
  stop: AbortSignal;
  /** GRACE_MS after the first Ctrl-C, or the second. */
  cancelCalls: AbortSignal;
  /** The second Ctrl-C. */
  forced: AbortSignal;
  /** Run just before a forced exit (synchronous: release a file lock). */
  onForcedExit: Set<() => void>;
}

const GRACE_MS = 3_000;
const FORCE_EXIT_MS = 5_000;

async function configCommand(
  args: Record<string, unknown>,
  d: Session['deps'],
  opts: GlobalOpts,
  reporter: Reporter,
): Promise<ExitCode> {
  const { configReference, printDefaults } = await import('../config/reference.js');
  if (args.reference) d.stdout.write(`${configReference()}\n`);
  else if (args.printDefaults) d.stdout.write(printDefaults());
  else {
    const { config, path, warnings } = loadConfig({ path: opts.config, cwd: d.cwd });
    warnConfig(warnings, reporter, d);
    if (!opts.json) d.stderr.write(`# ${path ?? 'no config file: the workshop defaults'}\n`);
    d.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
  }
  return 0;
}

/** Risky or ineffective config values: said before anything runs, on stderr (and as --json events). */
function warnConfig(warnings: string[], reporter: Reporter, d: Session['deps']): void {
  for (const message of warnings) reporter.emit({ type: 'log', level: 'warn', message, t: d.clock.now() });
}

export async function runCommand(
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
  const cancelCalls = new AbortController();
  const forced = new AbortController();
  // Every AWS call in flight listens to these (one listener each): no leak warning past ten.
  setMaxListeners(0, controller.signal, cancelCalls.signal, forced.signal);
  const signals: Signals = {
    stop: controller.signal,
    cancelCalls: cancelCalls.signal,
    forced: forced.signal,
    onForcedExit: new Set(),
  };
  const onSignal = () => {
    if (controller.signal.aborted) {
      reporter.line('interrupted again: cancelling the AWS calls in flight');
      cancelCalls.abort(new InterruptedError());
      forced.abort(new InterruptedError());
      setTimeout(() => {
        for (const f of signals.onForcedExit) f();
        process.exit(130);
      }, FORCE_EXIT_MS).unref();
      return;
    }
    reporter.line('interrupted: stopping and saving the state (Ctrl-C again to stop at once)');
    controller.abort(new InterruptedError());
    setTimeout(() => cancelCalls.abort(new InterruptedError()), GRACE_MS).unref();
  };
  if (deps.signal)
    deps.signal.addEventListener(
      'abort',
      () => {
        controller.abort(new InterruptedError());
        cancelCalls.abort(new InterruptedError());
      },
      { once: true },
    );
  else {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    if (cmd === 'config') return await configCommand(args, deps, opts, reporter);
    const { config, path: configPath, warnings } = loadConfig({ path: opts.config, cwd: deps.cwd });
    warnConfig(warnings, reporter, deps);
    // With the state on S3, keys and CA certificates still go to the local .drctl directory.
    if (opts.state !== undefined && /^s3:/i.test(opts.state) && !isS3Location(opts.state))
      throw new UsageError(
        `"${opts.state}" looks like an S3 location, but those are written s3://<bucket>/<key>`,
        {
          field: '--state',
          resolution:
            'Write s3:// in lower case with two slashes; for a local file named "s3:...", write ./ before it.',
        },
      );
    const onS3 = opts.state !== undefined && isS3Location(opts.state);
    if (onS3) parseS3Location(opts.state!);
    const statePath = onS3 ? opts.state! : resolve(deps.cwd, opts.state ?? DEFAULT_STATE_PATH);
    const root = onS3 ? resolve(deps.cwd, dirname(DEFAULT_STATE_PATH)) : dirname(statePath);
    const s: Session = {
      deps,
      opts,
      config,
      configPath,
      statePath,
      paths: { root, keys: join(root, 'keys'), ca: join(root, 'ca') },
      reporter,
      steps: deps.steps ?? STEPS,
      signals,
    };
    const code = await dispatch(cmd, args, s, controller.signal);
    // Calls cut short by Ctrl-C fail as any other would: the run was interrupted, not broken.
    return code === 1 && controller.signal.aborted ? 130 : code;
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
  const stack = opts.verbose ? stackWithCauses(e) : undefined;
  if (stack) deps.stderr.write(`${stack}\n`);
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
      return await plan(s);
    case 'status':
      return status(s, !!args.refresh, signal);
    case 'iam-policy':
      return iamPolicyCommand(s, args);
    case 'unlock':
      return unlockCommand(s, args.id as string | undefined, signal);
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
      if (args.discover) return discoverDown(s, signal);
      // Asked to confirm, with nothing recorded: look first, and ask only when there is something.
      // Without a terminal and without --yes it is refused before any AWS call.
      if (!s.opts.yes) requireConfirmable(s, 'down deletes every resource of this deployment');
      if (!s.opts.yes && (await nothingToDelete(s, signal))) return 0;
      return lifecycle(s, 'down', signal);
    case 'failover-test':
      return failoverTestCommand(s, args, signal);
    case 'verify':
      return verifyCommandOf(s, signal);
    case 'report': {
      const { reportCommand, parseReportArgs } = await import('./report.js');
      const reportArgs = { out: args.out as string | undefined, format: args.format as string | undefined };
      parseReportArgs(reportArgs);
      if (s.opts.json && !reportArgs.out)
        throw new UsageError('with --json, the report needs a file: stdout carries the JSON summary', {
          field: '--out',
        });
      const store = await StateStore.load(s.statePath, s.config, storeOptions(s));
      return reportCommand({
        config: s.config,
        state: store.state,
        evidence: await evidenceOf(s),
        reporter: s.reporter,
        stdout: s.deps.stdout,
        now: s.deps.clock.now(),
        args: reportArgs,
        resolvePath: (p) => resolve(s.deps.cwd, p),
      });
    }
    case 'drills': {
      const { drillsCommand } = await import('./drills.js');
      return drillsCommand({ config: s.config, evidence: await evidenceOf(s), reporter: s.reporter });
    }
    default:
      throw new UsageError(`unknown command ${cmd}`);
  }
}

/** Whether a question can be asked: a terminal, or an answer injected by a test. */
const canAsk = (s: Session) => !!s.deps.confirm || (s.deps.isTTY ?? process.stdin.isTTY === true);

/** Before anything is read from AWS: a change that needs confirmation, no terminal and no --yes, is exit 2. */
function requireConfirmable(s: Session, what: string): void {
  if (s.opts.yes || canAsk(s)) return;
  throw new UsageError(`${what} and needs confirmation`, {
    field: '--yes',
    resolution: 'Pass --yes to confirm when running without a terminal.',
  });
}

/** Ask; `expect`: the answer must be typed exactly (the deployment's name), else yes/no. */
async function ask(s: Session, question: string, expect?: string): Promise<boolean> {
  if (s.deps.confirm) {
    const answer = (await s.deps.confirm(question)).trim();
    return expect !== undefined ? answer === expect : /^y(es)?$/i.test(answer);
  }
  const { askText, askYesNo } = await import('../cli/prompts.js');
  const io = { input: process.stdin, output: s.deps.stderr, signal: s.signals.stop };
  if (expect !== undefined) return (await s.reporter.suspend(() => askText(question, io))).trim() === expect;
  return s.reporter.suspend(() => askYesNo(question, io));
}

/**
 * `down` when the state records nothing: the steps would find this deployment's resources by tag
 * anyway, so look (read-only) first. Nothing there: say so, ask nothing, exit 0. Something: the
 * normal `down` deletes it, after the question.
 */
/** Before `up` runs: what the config change since the last complete up will do (as `plan` shows it). */
async function previewUp(s: Session, store: StateStore): Promise<void> {
  const { planDiff, renderUpPreview } = await import('../plan/diff.js');
  for (const message of renderUpPreview(planDiff(s.config, store.state, s.steps)))
    s.reporter.emit({ type: 'log', level: 'info', message, t: s.deps.clock.now() });
}

const recordsAny = (store: StateStore) =>
  Object.values(store.state.steps).some((scopes) => Object.keys(scopes ?? {}).length > 0);

async function nothingToDelete(s: Session, signal: AbortSignal): Promise<boolean> {
  const store = await StateStore.load(s.statePath, s.config, storeOptions(s));
  if (recordsAny(store)) return false;
  const { runner } = await makeRunner(s, store, signal);
  const results = await runner.discover();
  if (results.some((r) => r.error || r.found.length > 0)) return false;
  const where = `${regionsOf(s.config).join(' and ')}, Route 53 and IAM`;
  s.reporter.line(
    `down: nothing to delete: ${store.existed ? `${s.statePath} records nothing` : `there is no state at ${s.statePath}`}, and nothing of deployment "${s.config.deployment}" was found by its tags and names in ${where}`,
  );
  s.reporter.result({
    ok: true,
    exitCode: 0,
    command: 'down',
    nothingToDelete: true,
    results: [],
    left: [],
    remains: [],
  });
  return true;
}

async function confirmDown(s: Session): Promise<void> {
  const question = `Delete everything drctl made for deployment "${s.config.deployment}" in ${regionsOf(s.config).join(' and ')}? Type the deployment name to confirm:`;
  if (!(await ask(s, question, s.config.deployment)))
    throw new UsageError('not confirmed; nothing was deleted', { field: '--yes' });
}

/**
 * `up`: what it will make or change and what that costs a month, then the question (the config
 * diff since the last complete up is printed above it, by previewUp). Nothing to ask when every
 * step is recorded as ready and the config asks for no change: `up` then only checks (and puts
 * back what is gone).
 */
async function confirmUp(s: Session, store: StateStore): Promise<void> {
  if (s.opts.yes) return;
  const regions = regionsOf(s.config);
  const pending = s.steps.flatMap((info) =>
    (info.scope === 'global' ? [GLOBAL] : regions)
      .filter((scope) => store.get(info.name, scope)?.status !== 'ready')
      .map((scope) => `${info.name} ${scope}`),
  );
  const { planDiff } = await import('../plan/diff.js');
  const c = planDiff(s.config, store.state, s.steps).counts;
  const changes = c.create + c.update + c.replace + c.delete;
  if (pending.length === 0 && changes === 0) return;
  s.reporter.line(
    pending.length
      ? `up will create or resume ${pending.length} step(s): ${pending.join(', ')}`
      : `up will apply the config changes above: ${c.create} to create, ${c.update} to update in place, ${c.replace} to replace, ${c.delete} to delete`,
  );
  formatCost(estimateCost(s.config)).forEach((l) => s.reporter.line(l));
  const question = pending.length
    ? `Create these in account ${s.identity?.account ?? '?'}? They are billed until \`drctl down\`.`
    : `Apply these changes in account ${s.identity?.account ?? '?'}?`;
  if (!(await ask(s, question)))
    throw new UsageError(`not confirmed; nothing was ${pending.length ? 'created' : 'changed'}`, {
      field: '--yes',
    });
}

/** One STS call: the banner naming account, principal and regions; missing credentials are exit 2 here. */
async function whoPays(s: Session, aws: import('../aws/clients.js').AwsClients): Promise<void> {
  if (s.identity) return;
  const { banner, callerIdentity, credentialSource } = await import('../aws/identity.js');
  const source = credentialSource(s.opts.profile, s.deps.env);
  s.identity = await callerIdentity(aws, s.config.primary.region, source);
  s.reporter.line(banner(s.identity, source, regionsOf(s.config)));
}

/** Tells that a stale lock was taken over (its process on this host is gone). */
function tookOver(s: Session) {
  return (stale: LockInfo) =>
    s.reporter.line(`took over the stale lock ${stale.id} of ${describeHolder(stale)}: its process is gone`);
}

/**
 * `drctl unlock [id]`, like Terraform's force-unlock: the id shown when a run is refused. A lock
 * whose drctl still runs on this host is never removed; any other is removed after a confirmation.
 */
async function unlockCommand(s: Session, id: string | undefined, signal: AbortSignal): Promise<ExitCode> {
  signal.throwIfAborted();
  const opts = storeOptions(s);
  const holder = await StateStore.readLock(s.statePath, opts);
  if (!holder) {
    s.reporter.line(`no lock is held on ${s.statePath}`);
    s.reporter.result({ ok: true, command: 'unlock', unlocked: false });
    return 0;
  }
  const who = describeHolder(holder);
  const alive = isHolderAlive(holder);
  const stillRunning = `That drctl is still running on this host: let it finish, or stop it (Ctrl-C in its terminal, or \`kill ${holder.pid}\`); it saves the state and releases the lock itself.`;
  if (id === undefined) {
    throw new UsageError(`state ${s.statePath} is locked by ${who}, lock id ${holder.id}`, {
      field: 'lock id',
      resolution: alive ? stillRunning : `If it is gone, run \`drctl unlock ${holder.id}\`.`,
    });
  }
  if (id !== holder.id) {
    throw new UsageError(`the lock on ${s.statePath} has id ${holder.id}, not ${id}`, {
      field: 'lock id',
      resolution: `It is held by ${who}, maybe taken since you looked: check that before removing it.`,
    });
  }
  if (alive)
    throw new LockedError(`state ${s.statePath} is locked by ${who}, which is still running`, {
      resolution: stillRunning,
    });
  const stale = isStale(holder);
  if (!s.opts.yes) {
    requireConfirmable(s, `unlock removes the lock of ${who}`);
    const why = stale
      ? 'its process is gone'
      : `drctl cannot tell from here whether it still runs on ${holder.host}; if it does, two runs would change one deployment`;
    if (!(await ask(s, `Remove the lock of ${who} (${why})?`)))
      throw new UsageError('not confirmed; the lock is left in place', { field: '--yes' });
  }
  if (!(await StateStore.removeLock(s.statePath, id, opts))) {
    throw new UsageError(`the lock on ${s.statePath} is no longer ${id}; nothing was removed`, {
      field: 'lock id',
      resolution: 'Run `drctl unlock` again to see who holds it now.',
    });
  }
  s.reporter.line(`removed lock ${id} of ${who}${stale ? ' (its process was gone)' : ''}`);
  s.reporter.result({ ok: true, command: 'unlock', unlocked: true, holder });
  return 0;
}

function storeOptions(s: Session): StoreOptions {
  return {
    clock: s.deps.clock,
    aws: { profile: s.opts.profile, clock: s.deps.clock, ...awsHooks(s), ...s.deps.aws },
    region: s.config.primary.region,
    rescuePath: join(s.paths.root, 'state.rejected.json'),
  };
}

function parseLockTimeout(value: string | undefined): number {
  const seconds = value === undefined ? 0 : Number(value);
  if (!Number.isFinite(seconds) || seconds < 0 || value?.trim() === '') {
    throw new UsageError(`must be a number of seconds (0 or more), not "${value}"`, {
      field: '--lock-timeout',
    });
  }
  return seconds * 1000;
}

async function makeRunner(s: Session, store: StateStore, signal: AbortSignal, retryDeadlineMs?: number) {
  const [{ Runner }, { AwsClients, httpTimeoutsFromEnv }] = await Promise.all([
    import('../engine/runner.js'),
    import('../aws/clients.js'),
  ]);
  // The signal stops new AWS calls at Ctrl-C, and cancels those in flight after a grace (the state
  // store's own client keeps saving).
  const aws = new AwsClients({
    profile: s.opts.profile,
    clock: s.deps.clock,
    signal,
    abortSignal: s.signals.cancelCalls,
    ...httpTimeoutsFromEnv(s.deps.env),
    ...(retryDeadlineMs !== undefined ? { retryDeadlineMs } : {}),
    ...awsHooks(s),
    ...s.deps.aws,
  });
  const runner = new Runner({
    config: s.config,
    store,
    aws,
    clock: s.deps.clock,
    sink: s.reporter,
    signal,
    paths: s.paths,
    steps: s.steps,
  });
  return { runner, aws };
}

/**
 * `plan` makes no AWS call, except to read a state kept on S3: that read needs credentials, and
 * when they are missing the message says why plan asks for them.
 */
async function loadPlanState(s: Session): Promise<StateStore> {
  try {
    return await StateStore.load(s.statePath, s.config, storeOptions(s));
  } catch (e) {
    const credentials = (x: unknown): boolean =>
      x instanceof Error &&
      (/Credential|ExpiredToken|TokenRefresh|InvalidClientTokenId/i.test(x.name) || credentials(x.cause));
    if (!isS3Location(s.statePath) || !credentials(e)) throw e;
    throw new UsageError(
      `plan reads the state from ${s.statePath}, and reading S3 needs AWS credentials: ${errorMessage((e as Error).cause ?? e)}`,
      {
        field: '--state',
        resolution:
          'Give credentials (AWS_PROFILE or --profile, `aws sso login`, or environment variables); with a local --state, plan needs none.',
        cause: e,
      },
    );
  }
}

/**
 * What the client factory tells while calls happen: each retry made outside a step (a step's own
 * go to its progress line: the runner's scoped clients) as a plain line, and with --debug each call.
 */
function awsHooks(s: Session): Pick<AwsClientFactoryOptions, 'onRetry' | 'onCall'> {
  return {
    onRetry: (info) => {
      s.reporter.emit({
        type: 'log',
        level: 'info',
        message: `${info.service} ${info.region}: ${retryText(info)}`,
        t: s.deps.clock.now(),
      });
    },
    ...(s.opts.debug ? { onCall: (c: CallInfo) => s.deps.stderr.write(`debug ${callText(c)}\n`) } : {}),
  };
}

async function lifecycle(
  s: Session,
  cmd: 'up' | 'down' | 'step',
  signal: AbortSignal,
  only?: { step: StepName; region?: string },
  /**
   * `down --discover`: the store to use (with an unreadable state file, an empty one in memory)
   * and the nodes (step@scope) where discovery found something.
   */
  discovered?: { store: StateStore; nodes: ReadonlySet<string> },
): Promise<ExitCode> {
  const lockTimeoutMs = parseLockTimeout(s.opts.lockTimeout);
  if (cmd === 'down' && !discovered) requireConfirmable(s, 'down deletes every resource of this deployment');
  const store = discovered?.store ?? (await StateStore.load(s.statePath, s.config, storeOptions(s)));
  const recordedAtStart = recordsAny(store);
  if (cmd === 'up') await previewUp(s, store);
  const { runner, aws } = await makeRunner(s, store, signal);
  // Validate the state against the step schemas before taking the lock or calling AWS.
  await runner.load();
  if (cmd !== 'down') refuseSwitchToPrivate(s, store);
  if (cmd === 'up') requireConfirmable(s, 'up creates billable resources');
  if (cmd !== 'down') runner.nodesFor(only); // a step whose inputs are missing: exit 2 before any call
  await whoPays(s, aws);
  if (cmd === 'up') await confirmUp(s, store);
  if (cmd === 'down' && !discovered && !s.opts.yes) await confirmDown(s);
  await store.lock(cmd === 'step' ? `step ${only!.step}` : cmd, {
    timeoutMs: lockTimeoutMs,
    signal,
    onTakeOver: tookOver(s),
    onWait: (holder) =>
      s.reporter.emit({
        type: 'log',
        level: 'info',
        message: `waiting up to ${lockTimeoutMs / 1000} s for the state lock held by ${holder}`,
        t: s.deps.clock.now(),
      }),
  });
  const started = s.deps.clock.now();
  const releaseNow = () => store.unlockNow();
  s.signals.onForcedExit.add(releaseNow);
  try {
    // A drill a killed drctl left half done is put back before anything else (src/drill/failover.ts).
    if (store.get('probe', GLOBAL)?.resources.drill !== undefined) {
      const { restoreDrillFirst } = await import('../drill/command.js');
      await restoreDrillFirst({ ...drillDeps(s, store, signal), aws: await makeAws(s, store) });
    }
    const result =
      cmd === 'down' ? await runner.down({ discovered: discovered?.nodes }) : await runner.up(only);
    if (result.credentials !== undefined && !result.interrupted)
      await credentialsStopped(s, store, cmd, only, result);
    const failed = result.results.filter((r) => r.status === 'failed');
    let code: ExitCode = result.interrupted ? 130 : failed.length ? 1 : 0;
    // domainMode private: everything is made, but the name may not answer for ~15 min more.
    const provisioning =
      cmd === 'up' && code === 0 && s.config.domainMode === 'private'
        ? await privateDomainAnswers(s, store, aws, signal)
        : undefined;
    if (provisioning) code = signal.aborted ? 130 : 1;
    if (cmd === 'up' && code === 0) store.recordApplied(s.config);
    await store.flush(); // records of failed or interrupted steps
    const took = fmtDuration(s.deps.clock.now() - started);
    const nothingThere =
      cmd === 'down' && !recordedAtStart && result.results.every((r) => r.outcome === 'absent');
    if (code === 0 && nothingThere)
      s.reporter.line(
        `down: nothing to delete: nothing was recorded, and nothing of deployment "${s.config.deployment}" was found by its tags and names (${took})`,
      );
    else if (code === 0)
      s.reporter.line(cmd === 'down' ? `down: everything deleted (${took})` : `${cmd}: done (${took})`);
    else if (code === 130)
      s.reporter.line(
        `${cmd}: interrupted after ${took}; the state is saved, run the same command to resume`,
      );
    else if (provisioning)
      s.reporter.line(
        / is still provisioning/.test(provisioning.message)
          ? `${cmd}: everything is made (${took}), but ${s.config.host}.${s.config.domain} is still provisioning; run \`drctl up\` again later`
          : `${cmd}: everything is made (${took}), but ${s.config.host}.${s.config.domain} could not be checked: ${provisioning.message}`,
      );
    else {
      s.reporter.line(
        `${cmd}: ${failed.length} step(s) failed after ${took}: ${failed.map((f) => `${f.step} ${f.scope}`).join(', ')}`,
      );
      if (result.left.length) s.reporter.line(`still recorded (left in AWS): ${result.left.join(', ')}`);
    }
    // Printed without --verbose: what the account still holds after `down`, and what it costs.
    if (result.remains.length) {
      s.reporter.line('kept by AWS after down:');
      for (const r of result.remains)
        s.reporter.line(
          `  ${r.what} ${r.id} in ${r.region}${r.restorableUntil ? `, restorable until ${r.restorableUntil}` : ''}: ${r.cost}`,
        );
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
      ...(provisioning ? { privateDomain: { answering: false, message: provisioning.message } } : {}),
      ...(cmd === 'down'
        ? { remains: result.remains, ...(nothingThere ? { nothingToDelete: true } : {}) }
        : {}),
    });
    return code;
  } finally {
    s.signals.onForcedExit.delete(releaseNow);
    await store.unlock();
  }
}

/**
 * domainMode regional -> private in place is refused, before any AWS call: the execute-api
 * endpoints served the public (REGIONAL) custom domain, and AWS says "If you have a VPC endpoint
 * that you use to access a public custom domain name, don't use it to create a domain name access
 * association with a private custom domain name"
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains.html).
 * docs/domain-modes.md says why drctl refuses rather than making second endpoints.
 */
function refuseSwitchToPrivate(s: Session, store: StateStore): void {
  if (s.config.domainMode !== 'private') return;
  const served = regionsOf(s.config).filter((r) => store.get('domain', r)?.resources.mode === 'regional');
  if (!served.length) return;
  throw new UsageError(
    `cannot switch from "regional" to "private" in place: the execute-api endpoint in ${served.join(' and ')} served the public (REGIONAL) custom domain, and AWS says not to use such an endpoint for a private custom domain`,
    {
      field: 'domainMode',
      resolution:
        'Run `drctl down`, then `drctl up` with "domainMode": "private" (new endpoints); or use a new `deployment` name; ' +
        'or put "domainMode": "regional" back. Nothing was changed (docs/domain-modes.md).',
    },
  );
}

/**
 * domainMode private, after a complete `up`: wait (shown as its own line) until the name answers
 * from inside the VPC through each region's endpoint. Undefined when it does; the error, already
 * reported, when it is still provisioning.
 */
async function privateDomainAnswers(
  s: Session,
  store: StateStore,
  aws: import('../aws/clients.js').AwsClients,
  signal: AbortSignal,
): Promise<AwsStepError | undefined> {
  const { waitUntilPrivateDomainAnswers } = await import('../steps/probe/private-domain.js');
  const step = 'private-domain';
  const scope = 'global';
  const started = s.deps.clock.now();
  const t = () => s.deps.clock.now();
  s.reporter.emit({
    type: 'step-start',
    step,
    scope,
    title: 'the name answering from inside the VPC',
    t: t(),
  });
  try {
    await waitUntilPrivateDomainAnswers({
      config: s.config,
      recorded: (name, sc) => store.get(name, sc)?.resources,
      aws,
      clock: s.deps.clock,
      signal,
      onProgress: (text, elapsedMs) =>
        s.reporter.emit({ type: 'step-progress', step, scope, text, elapsedMs, t: t() }),
    });
    s.reporter.emit({
      type: 'step-done',
      step,
      scope,
      outcome: 'created', // printed "done": the name answers now
      elapsedMs: t() - started,
      t: t(),
    });
    return undefined;
  } catch (caught) {
    // Ctrl-C while waiting: everything is made; the command ends as interrupted (130).
    const e =
      signal.aborted && !(caught instanceof AwsStepError)
        ? new AwsStepError('interrupted while waiting for the name to answer', {
            resolution: 'Run `drctl up` again: it makes nothing again and waits for the name.',
          })
        : caught;
    if (!(e instanceof AwsStepError)) throw e;
    s.reporter.emit({
      type: 'step-failed',
      step,
      scope,
      elapsedMs: t() - started,
      t: t(),
      error: {
        message: e.message,
        ...(e.context.awsCode ? { code: e.context.awsCode } : {}),
        ...(e.context.resource ? { resource: e.context.resource } : {}),
        ...(e.resolution ? { resolution: e.resolution } : {}),
      },
    });
    return e;
  }
}

/**
 * The credentials stopped working part-way (they passed the check before the run): one message,
 * like that check's, exit 2. What finished is recorded; the steps cut short are not marked failed,
 * so the same command, after a login, resumes with them.
 */
async function credentialsStopped(
  s: Session,
  store: StateStore,
  cmd: 'up' | 'down' | 'step',
  only: { step: StepName; region?: string } | undefined,
  result: import('../engine/runner.js').RunResult,
): Promise<never> {
  await store.flush();
  const { credentialSource, credentialsError } = await import('../aws/identity.js');
  const { CREDENTIALS_STOPPED } = await import('../engine/runner.js');
  const command =
    cmd === 'step' ? `step ${only!.step}${only!.region ? ` --region ${only!.region}` : ''}` : cmd;
  const stop = {
    command,
    done: result.results.filter((r) => r.status === 'ok').length,
    notDone: result.results.filter((r) => r.reason === CREDENTIALS_STOPPED).length,
  };
  throw (
    credentialsError(result.credentials, credentialSource(s.opts.profile, s.deps.env), stop) ??
    new UsageError(`the AWS credentials stopped working during \`${command}\``, { field: 'credentials' })
  );
}

async function plan(s: Session): Promise<ExitCode> {
  const store = await loadPlanState(s);
  const { planDiff, renderPlanDiff, scopeText } = await import('../plan/diff.js');
  const diff = planDiff(s.config, store.existed ? store.state : undefined, s.steps);
  const rows = s.steps.map((info, i) => {
    // A step this config does not use (the NLB with domainMode private): up deletes what it made.
    const unused = info.unusedWhen?.(s.config);
    return {
      step: info.name,
      title: info.title,
      creates: info.creates,
      after: info.after,
      scopes: Object.fromEntries(
        Object.entries(diff.steps[i]!.scopes).map(([scope, d]) => {
          if (!unused) return [scope, scopeText(d)];
          return [
            scope,
            store.get(info.name, scope) ? `delete (not used: ${unused})` : `not used (${unused})`,
          ];
        }),
      ),
      actions: diff.steps[i]!.scopes,
    };
  });
  const regions = regionsOf(s.config);
  if (s.opts.json) {
    s.reporter.result({
      ok: true,
      command: 'plan',
      deployment: s.config.deployment,
      config: s.configPath ?? 'defaults',
      state: s.statePath,
      steps: rows,
      changes: diff.changes,
      appliedAt: diff.appliedAt,
      counts: diff.counts,
      cost: estimateCost(s.config),
      worstCaseFailover: (['outage', 'invert'] as DrillMode[]).map((mode) => failoverBound(s.config, mode)),
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
  out('');
  // Like `terraform plan`: what changed in the config since the last complete up, and the count.
  renderPlanDiff(diff).forEach(out);
  out('');
  formatCost(estimateCost(s.config)).forEach(out);
  out('');
  out(`worst-case failover: ${describeBound(failoverBound(s.config, 'outage'))}`);
  out(`  with failover-test --mode invert: ${describeBound(failoverBound(s.config, 'invert'))}`);
  return 0;
}

/**
 * Clients for the drill. Its restore must still run after the first Ctrl-C: once a fault is
 * recorded (before it is made) only the second Ctrl-C cancels calls in flight; before that, the
 * first does, after the same grace as the steps'.
 */
async function makeAws(s: Session, store?: StateStore) {
  const { AwsClients, httpTimeoutsFromEnv } = await import('../aws/clients.js');
  const cancel = new AbortController();
  const nothingToRestore = () => store?.get('probe', GLOBAL)?.resources.drill === undefined;
  s.signals.forced.addEventListener('abort', () => cancel.abort(s.signals.forced.reason), { once: true });
  s.signals.cancelCalls.addEventListener(
    'abort',
    () => {
      if (nothingToRestore()) cancel.abort(s.signals.cancelCalls.reason);
    },
    { once: true },
  );
  return new AwsClients({
    profile: s.opts.profile,
    clock: s.deps.clock,
    abortSignal: cancel.signal,
    ...httpTimeoutsFromEnv(s.deps.env),
    ...awsHooks(s),
    ...s.deps.aws,
  });
}

function drillDeps(s: Session, store: StateStore, signal: AbortSignal) {
  return { config: s.config, store, clock: s.deps.clock, signal, steps: s.steps, reporter: s.reporter };
}

/** `failover-test`: the drill runs with the state lock held; a dry run changes nothing and takes none. */
async function failoverTestCommand(
  s: Session,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<ExitCode> {
  const { failoverTest, parseDrillArgs } = await import('../drill/command.js');
  const drillArgs = {
    mode: args.mode as string | undefined,
    timeout: args.timeout as string | undefined,
    region: args.region as string | undefined,
    dryRun: !!args.dryRun,
  };
  parseDrillArgs(drillArgs, s.config); // bad flags are exit 2 before anything is read or locked
  const store = await StateStore.load(s.statePath, s.config, storeOptions(s));
  const { runner } = await makeRunner(s, store, signal);
  await runner.load(); // the state's records against the step schemas: a hand-broken one is exit 2
  const deps = {
    ...drillDeps(s, store, signal),
    aws: await makeAws(s, store),
    stderr: s.deps.stderr,
    json: !!s.opts.json,
    evidence: await evidenceOf(s),
  };
  const { requireComplete } = await import('../drill/failover.js');
  requireComplete(deps); // before any AWS call
  await whoPays(s, deps.aws);
  if (drillArgs.dryRun) return failoverTest(deps, drillArgs);
  await store.lock('failover-test', {
    timeoutMs: parseLockTimeout(s.opts.lockTimeout),
    signal,
    onTakeOver: tookOver(s),
  });
  const releaseNow = () => store.unlockNow();
  s.signals.onForcedExit.add(releaseNow);
  try {
    return await failoverTest(deps, drillArgs);
  } catch (e) {
    throw await drillCredentialsStop(s, store, e, signal);
  } finally {
    s.signals.onForcedExit.delete(releaseNow);
    await store.flush();
    await store.unlock();
  }
}

/**
 * Credentials that stop working part-way through a drill: the one credentials message (what to run),
 * and whether the fault is still in place. When the restore could not be sent either, the fault stays
 * recorded in the state and the next failover-test, up, step or down puts it back first.
 */
async function drillCredentialsStop(
  s: Session,
  store: StateStore,
  e: unknown,
  signal: AbortSignal,
): Promise<unknown> {
  if (signal.aborted) return e;
  const { credentialSource, credentialsError } = await import('../aws/identity.js');
  const c = credentialsError(e, credentialSource(s.opts.profile, s.deps.env));
  if (!c) return e;
  const { pendingDrill } = await import('../drill/failover.js');
  const pending = pendingDrill(store);
  const sdk = c.message.split('\n').find((l) => l.trim().startsWith('the SDK said:'));
  return new UsageError(
    `the AWS credentials stopped working during \`failover-test\`: ${
      pending
        ? 'what the drill changed is NOT back yet (it is recorded in the state)'
        : 'what the drill changed is back'
    }${sdk ? `\n${sdk}` : ''}`,
    {
      field: 'credentials',
      resolution: `${c.resolution?.replace(/, then the same drctl command again\.$/, '.') ?? ''} Then run \`drctl failover-test\` again${
        pending
          ? ': it puts back what the last drill changed before anything else (as `up`, `step` and `down` do)'
          : ''
      }.`,
      cause: e,
    },
  );
}

/** Where drills and the last verify are kept: beside the state (src/evidence.ts). */
async function evidenceOf(s: Session) {
  const { FileEvidence } = await import('../state/evidence.js');
  if (!isS3Location(s.statePath)) return new FileEvidence(dirname(s.statePath));
  const { s3Evidence } = await import('../state/s3.js');
  return s3Evidence(parseS3Location(s.statePath), storeOptions(s));
}

const VERIFY_RETRY_DEADLINE_MS = 60_000;

/** `verify`: read-only, no lock (it changes nothing); its result is kept beside the state. */
async function verifyCommandOf(s: Session, signal: AbortSignal): Promise<ExitCode> {
  const store = await StateStore.load(s.statePath, s.config, storeOptions(s));
  const { runner } = await makeRunner(s, store, signal, VERIFY_RETRY_DEADLINE_MS);
  await runner.load(); // a hand-broken state is exit 2 before any AWS call
  if (!store.existed)
    throw new UsageError(`nothing to verify: no state at ${s.statePath}`, {
      field: '--state',
      resolution: 'Run `drctl up` first, or give the --state of the deployment to verify.',
    });
  const [{ verifyCommand }, { AwsClients, httpTimeoutsFromEnv }] = await Promise.all([
    import('../verify/command.js'),
    import('../aws/clients.js'),
  ]);
  // Every check waits on Ctrl-C at once while AWS is slow: more listeners than Node's default 10.
  setMaxListeners(100, signal);
  // About a minute, whatever AWS does: a read still failing after 60 s is "could not check".
  const aws = new AwsClients({
    profile: s.opts.profile,
    clock: s.deps.clock,
    signal,
    abortSignal: s.signals.cancelCalls,
    ...httpTimeoutsFromEnv(s.deps.env),
    retryDeadlineMs: VERIFY_RETRY_DEADLINE_MS,
    ...s.deps.aws,
  });
  return verifyCommand(
    {
      config: s.config,
      state: store.state,
      aws,
      clock: s.deps.clock,
      steps: s.steps,
      missingResources: () => runner.refresh(),
    },
    { reporter: s.reporter, evidence: await evidenceOf(s), json: !!s.opts.json },
  );
}

async function iamPolicyCommand(s: Session, args: Record<string, unknown>): Promise<ExitCode> {
  const { iamPolicy, splitPolicy, MANAGED_POLICY_MAX_CHARS } = await import('../iam/policy.js');
  const account = args.account as string | undefined;
  if (account !== undefined && !/^\d{12}$/.test(account))
    throw new UsageError(`--account must be a 12-digit AWS account id, not "${account}"`, {
      field: '--account',
    });
  const stateS3 = isS3Location(s.statePath) ? parseS3Location(s.statePath) : undefined;
  const parts = splitPolicy(iamPolicy(s.config, { account, stateS3, readOnly: !!args.readOnly }));
  const part = args.part === undefined ? undefined : Number(args.part);
  if (part !== undefined && !(Number.isInteger(part) && part >= 1 && part <= parts.length))
    throw new UsageError(`--part must be a number from 1 to ${parts.length}`, { field: '--part' });
  if (s.opts.json) {
    s.reporter.result({ ok: true, command: 'iam-policy', account: account ?? '*', policies: parts });
    return 0;
  }
  const doc = part ? parts[part - 1] : parts.length === 1 ? parts[0] : parts;
  s.deps.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  if (!part && parts.length > 1)
    s.deps.stderr.write(
      `# ${parts.length} policy documents (a customer managed policy holds ${MANAGED_POLICY_MAX_CHARS} characters): ` +
        `attach all of them; \`drctl iam-policy --part N\` prints document N alone\n`,
    );
  return 0;
}

/** A state file that cannot be read or fails its schemas (not one of another deployment). */
const isUnreadableState = (e: unknown): e is UsageError =>
  e instanceof UsageError && /^state(\.|$)/.test(e.field ?? '');

/**
 * `down --discover`: list what AWS holds of this deployment, found by ownership tag and name (the
 * state file may be lost or unreadable); with --yes, delete it with the normal `down`, whose steps
 * find resources the same way. An unreadable state file is left as it is.
 */
async function discoverDown(s: Session, signal: AbortSignal): Promise<ExitCode> {
  const { UnreadableStateBackend, foundDoc, foundLines } = await import('../engine/discover.js');
  let store: StateStore;
  let made: Awaited<ReturnType<typeof makeRunner>>;
  let unreadable: string | undefined;
  try {
    store = await StateStore.load(s.statePath, s.config, storeOptions(s));
    made = await makeRunner(s, store, signal);
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
    made = await makeRunner(s, store, signal);
    s.reporter.line(
      `the state ${s.statePath} cannot be read (${unreadable}); it is left as it is, and this run works from AWS alone`,
    );
  }
  await whoPays(s, made.aws);
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
  const doc = { command: 'down', discover: true, found: foundDoc(results) };
  if (failed.length) {
    s.reporter.line('some look-ups failed (above), so nothing was deleted: fix the cause and run it again');
    s.reporter.result({
      ...doc,
      ok: false,
      exitCode: 1,
      errors: failed.map((r) => ({ step: r.step, scope: r.scope, message: r.error!.message })),
    });
    return 1;
  }
  if (!s.opts.yes) {
    if (count)
      s.reporter.line('nothing was deleted: `drctl down --discover --yes` deletes these, in reverse order');
    s.reporter.result({ ...doc, ok: true, deleted: false });
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
  const code = await lifecycle(s, 'down', signal, undefined, { store, nodes });
  if (unreadable && code === 0) {
    s.reporter.line(
      `the unreadable state ${s.statePath} was left untouched; nothing it could name is left in AWS, so delete it before the next \`drctl up\``,
    );
  }
  return code;
}

async function status(s: Session, refresh: boolean, signal: AbortSignal): Promise<ExitCode> {
  const store = await StateStore.load(s.statePath, s.config, storeOptions(s));
  let drift: Array<{ step: string; scope: string; missing: string[] }> = [];
  let unrecorded: Array<{ step: string; scope: string; resources: Array<{ what: string; id: string }> }> = [];
  // Terraform's -detailed-exitcode: 0 in sync, 2 drift found, 1 could not check.
  const failures: Array<{ step: string; scope: string; message: string }> = [];
  if (refresh) {
    const { runner, aws } = await makeRunner(s, store, signal);
    await whoPays(s, aws);
    try {
      drift = await runner.refresh();
    } catch (e) {
      failures.push({ step: 'refresh', scope: '', message: errorMessage(e) });
    }
    // Tagged resources the state does not know: left by a crash, or by a lost or older state.
    const found = await runner.discover();
    for (const r of found)
      if (r.error) failures.push({ step: r.step, scope: r.scope, message: r.error.message });
    unrecorded = found
      .map((r) => ({
        step: r.step,
        scope: r.scope,
        resources: r.found.filter((f) => !f.recorded).map(({ what, id }) => ({ what, id })),
      }))
      .filter((r) => r.resources.length > 0);
  }
  const steps = store.state.steps;
  let certificates: Awaited<ReturnType<typeof certificateLifetimes>>;
  try {
    // After failed look-ups, the recorded lifetimes: one more stalled call would only add waiting.
    certificates = await certificateLifetimes(s, store, refresh && failures.length === 0);
  } catch (e) {
    failures.push({ step: 'ca', scope: '', message: errorMessage(e) });
    certificates = await certificateLifetimes(s, store, false);
  }
  const drifted = drift.some((d) => d.missing.length > 0) || unrecorded.length > 0;
  const code: ExitCode = failures.length ? 1 : drifted ? 2 : 0;
  if (s.opts.json) {
    s.reporter.result({
      ok: code === 0,
      exitCode: code,
      command: 'status',
      state: s.statePath,
      steps,
      certificates,
      drift: refresh ? drift : undefined,
      unrecorded: refresh ? unrecorded : undefined,
      errors: failures.length ? failures : undefined,
    });
    return code;
  }
  if (failures.length) {
    // What was recorded is not shown as the answer: it could not be checked.
    for (const f of failures)
      s.reporter.line(`could not check ${f.step}${f.scope ? ` ${f.scope}` : ''}: ${f.message}`);
    s.reporter.line(
      `status --refresh: ${failures.length} look-up(s) failed, so drift is unknown: fix the cause and run it again`,
    );
    return 1;
  }
  const notRecorded = (step: string, scope: string) =>
    unrecorded.find((u) => u.step === step && u.scope === scope)?.resources ?? [];
  if (Object.keys(steps).length === 0) s.reporter.line(`nothing recorded in ${s.statePath}`);
  for (const info of s.steps) {
    const scopes = new Set([
      ...Object.keys(steps[info.name] ?? {}),
      ...unrecorded.filter((u) => u.step === info.name).map((u) => u.scope),
    ]);
    for (const scope of scopes) {
      const rec = steps[info.name]?.[scope];
      s.reporter.line(
        rec
          ? `${info.name} ${scope}: ${rec.status} (updated ${rec.updatedAt})`
          : `${info.name} ${scope}: not recorded`,
      );
      for (const [k, v] of Object.entries(rec?.resources ?? {}))
        s.reporter.line(`    ${k}: ${formatValue(v)}`);
      const cert = info.name === 'ca' ? certificates.find((c) => c.region === scope) : undefined;
      if (cert) s.reporter.line(`    ${describeLifetime(cert, s.deps.clock.now())}`);
      const d = drift.find((x) => x.step === info.name && x.scope === scope);
      if (d?.missing.length) s.reporter.line(`    DRIFT: gone from AWS: ${d.missing.join(', ')}`);
      for (const f of notRecorded(info.name, scope))
        s.reporter.line(`    DRIFT: in AWS with this deployment's tags, not in the state: ${f.what}`);
    }
  }
  if (unrecorded.length)
    s.reporter.line(
      'not in the state: the next `drctl up` adopts what it can use, and `drctl down` deletes all of it (`drctl down --discover` lists it)',
    );
  if (refresh)
    s.reporter.line(
      drifted ? 'status --refresh: drift found (exit 2)' : 'status --refresh: in sync with AWS',
    );
  return code;
}

interface CertificateLifetime {
  region: string;
  certificateArn: string;
  /** 'aws': read now (--refresh); 'recorded': what the last `up` saw. */
  source: 'aws' | 'recorded';
  status?: string;
  notAfter?: string;
  renewalEligibility?: string;
  renewalStatus?: string;
  renewalPermission?: 'granted' | 'missing';
}

/** Each region's certificate: NotAfter and whether ACM can renew it (ACM's word with --refresh). */
async function certificateLifetimes(
  s: Session,
  store: StateStore,
  refresh: boolean,
): Promise<CertificateLifetime[]> {
  const out: CertificateLifetime[] = [];
  const records = Object.entries(store.state.steps.ca ?? {});
  const aws = refresh && records.length ? await makeAws(s) : undefined;
  const { certificateFacts } = aws ? await import('../steps/ca/index.js') : { certificateFacts: undefined };
  for (const [region, rec] of records) {
    const r = rec.resources as {
      certificateArn?: string;
      certificateAuthorityArn?: string | null;
      certificateNotAfter?: string;
      renewalEligibility?: string;
      renewalPermission?: 'granted';
    };
    if (!r.certificateArn) continue;
    if (aws && certificateFacts) {
      const facts = await certificateFacts(aws, region, r.certificateArn, r.certificateAuthorityArn);
      out.push({
        region,
        certificateArn: r.certificateArn,
        source: 'aws',
        status: facts?.status ?? 'gone',
        ...facts,
      });
    } else {
      out.push({
        region,
        certificateArn: r.certificateArn,
        source: 'recorded',
        ...(r.certificateNotAfter ? { notAfter: r.certificateNotAfter } : {}),
        ...(r.renewalEligibility ? { renewalEligibility: r.renewalEligibility } : {}),
        ...(r.renewalPermission ? { renewalPermission: r.renewalPermission } : {}),
      });
    }
  }
  return out;
}

function describeLifetime(c: CertificateLifetime, now: number): string {
  const parts: string[] = [];
  if (c.status && c.status !== 'ISSUED') parts.push(c.status);
  if (c.notAfter) {
    const days = Math.floor((Date.parse(c.notAfter) - now) / 86_400_000);
    parts.push(
      `${days < 0 ? 'expired' : 'expires'} ${c.notAfter.slice(0, 10)} (${days < 0 ? `${-days} days ago` : `in ${days} days`})`,
    );
  } else parts.push('expiry unknown (run `drctl status --refresh`)');
  parts.push(`renewal ${c.renewalEligibility ?? 'unknown'}`);
  if (c.renewalStatus) parts.push(`last renewal ${c.renewalStatus}`);
  if (c.renewalPermission === 'granted') parts.push('CA grants ACM renewal');
  if (c.renewalPermission === 'missing') parts.push('CA does NOT grant ACM renewal');
  if (c.status === 'EXPIRED') parts.push('run `drctl up`: it requests a new certificate');
  else if (c.renewalPermission === 'missing') parts.push('run `drctl up` before it expires');
  return `certificate: ${parts.join('; ')} [${c.source === 'aws' ? 'ACM now' : 'as recorded'}]`;
}

/** A recorded value for people: lists comma-separated, objects as compact JSON. */
function formatValue(v: unknown): string {
  if (Array.isArray(v))
    return v.map((x) => (typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x))).join(', ');
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}
