import { AwsStepError, UsageError, type ExitCode } from '../errors/errors.js';
import { regionsOf } from '../config/config.js';
import type { JsonObject } from '../config/api-source.js';
import { fmtDuration } from '../io/reporter.js';
import type { DownNothingToDeleteResult, LifecycleResult } from '../io/results.js';
import { GLOBAL } from '../state/schema.js';
import { type StateStore } from '../state/store.js';
import type { AwsClients } from '../aws/clients.js';
import type { RunResult } from '../engine/runner.js';
import { STEP_NAMES, type StepName } from '../steps/types.js';
import { drillClients, loadStore, makeRunner, whoPays } from '../cli/aws-session.js';
import { requireConfirmable } from '../cli/prompts.js';
import { confirmDown, confirmUp, previewCloud, previewUp } from './up-questions.js';
import { type Session, drillDeps, parseLockTimeout, tookOver } from '../cli/session.js';
import { recordedOutputs } from '../state/outputs.js';

// `drctl up`, `drctl step <name> [--region]` and `drctl down`: the step graph run forwards or
// backwards with the state lock held (`down --discover` is src/commands/discover-down.ts).

export type UpDownStepArgs =
  { command: 'up' } | { command: 'down' } | { command: 'step'; name: string; region?: string };

export async function run(s: Session, args: UpDownStepArgs): Promise<ExitCode> {
  switch (args.command) {
    case 'up':
      return lifecycle(s, 'up');
    case 'step':
      return lifecycle(s, 'step', stepOf(s, args));
    case 'down':
      // Asked to confirm, with nothing recorded: look first, and ask only when there is something.
      // Without a terminal and without --yes it is refused before any AWS call.
      if (!s.opts.yes) requireConfirmable(s, 'down deletes every resource of this deployment');
      if (!s.opts.yes && (await nothingToDelete(s))) return 0;
      return lifecycle(s, 'down');
  }
}

/** `step <name> [--region]`: a known step of this catalogue, and one of this deployment's regions. */
function stepOf(s: Session, args: { name: string; region?: string }): { step: StepName; region?: string } {
  const { name, region } = args;
  if (!isStepName(name)) {
    throw new UsageError(`unknown step "${name}"`, {
      field: 'step',
      resolution: `Valid steps: ${STEP_NAMES.join(', ')}.`,
    });
  }
  if (region !== undefined && !regionsOf(s.config).includes(region)) {
    throw new UsageError(
      `${region} is not one of this deployment's regions (${regionsOf(s.config).join(', ')})`,
      { field: '--region' },
    );
  }
  if (!s.steps.some((x) => x.name === name)) {
    throw new UsageError(`step "${name}" is not available in this version of drctl`, { field: 'step' });
  }
  return { step: name, region };
}

const isStepName = (name: string): name is StepName => (STEP_NAMES as readonly string[]).includes(name);

const recordsAny = (store: StateStore) =>
  Object.values(store.state.steps).some((scopes) => Object.keys(scopes ?? {}).length > 0);

/**
 * `down` when the state records nothing: the steps would find this deployment's resources by tag
 * anyway, so look (read-only) first. Nothing there: say so, ask nothing, exit 0. Something: the
 * normal `down` deletes it, after the question.
 */
async function nothingToDelete(s: Session): Promise<boolean> {
  const store = await loadStore(s);
  if (recordsAny(store)) return false;
  const { runner } = await makeRunner(s, store);
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
  } satisfies DownNothingToDeleteResult);
  return true;
}

export async function lifecycle(
  s: Session,
  cmd: 'up' | 'down' | 'step',
  only?: { step: StepName; region?: string },
  /**
   * `down --discover`: the store to use (with an unreadable state file, an empty one in memory)
   * and the nodes (step@scope) where discovery found something.
   */
  discovered?: { store: StateStore; nodes: ReadonlySet<string> },
): Promise<ExitCode> {
  const signal = s.signals.stop;
  const lockTimeoutMs = parseLockTimeout(s.opts.lockTimeout);
  if (cmd === 'down' && !discovered) requireConfirmable(s, 'down deletes every resource of this deployment');
  const store = discovered?.store ?? (await loadStore(s));
  const recordedAtStart = recordsAny(store);
  if (cmd === 'up') await previewUp(s, store);
  // What up cannot do in place: refused before any AWS client is made.
  if (cmd !== 'down') refuseSwitchToPrivate(s, store);
  if (cmd !== 'down') await refuseWhatPlanCannotApply(s, store, cmd, only);
  const { runner, aws } = await makeRunner(s, store);
  // Validate the state against the step schemas before taking the lock or calling AWS.
  await runner.load();
  if (cmd === 'up') requireConfirmable(s, 'up creates billable resources');
  if (cmd !== 'down') runner.nodesFor(only); // a step whose inputs are missing: exit 2 before any call
  await whoPays(s, aws, store);
  // The user's own VPCs, endpoints and zone: a wrong id is exit 2 before anything is made.
  let exported: JsonObject | undefined;
  if (cmd !== 'down') {
    const { checkUsedNetwork, usesOwnNetwork } = await import('../steps/used-network.js');
    if (usesOwnNetwork(s.config)) await checkUsedNetwork(aws, s.config);
    // The team's API (config api.restApiId): missing, not PRIVATE, or without healthPath: exit 2.
    if (typeof s.config.api === 'object' && 'restApiId' in s.config.api) {
      const { checkExistingApi } = await import('../aws/resources/existing-api.js');
      const checked = await checkExistingApi(aws, s.config);
      exported = checked.exported;
      for (const message of checked.warnings)
        s.reporter.emit({ type: 'log', level: 'warn', message, t: s.deps.clock.now() });
    }
  }
  // The team's API changed since the last up: said here, as `plan --refresh` says it.
  const cloud = cmd === 'up' ? await previewCloud(s, store, aws, exported) : undefined;
  if (cmd === 'up') await confirmUp(s, store, cloud);
  if (cmd === 'down' && !discovered && !s.opts.yes) await confirmDown(s, store);
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
    // A drill a killed drctl left half done is put back before anything else (src/drill/faults.ts).
    if (recordedOutputs(store.state, 'probe', GLOBAL)?.drill !== undefined) {
      const { restoreDrillFirst } = await import('../drill/command.js');
      await restoreDrillFirst({ ...drillDeps(s, store), aws: await drillClients(s, store) });
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
    // A held switch outlives `up`: its hold is put back if up (or anyone) left it not in force.
    const hold = cmd === 'up' && !result.interrupted ? await keepHeldSwitch(s, store, aws) : undefined;
    if (hold?.failed && code === 0) code = 1;
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
    else if (code === 130) {
      // One summary for the whole run: the steps Ctrl-C stopped and those it kept from starting
      // print no advice of their own (src/io/reporter.ts).
      const stopped = failed.map((f) => `${f.step} ${f.scope}`);
      const notStarted = result.results.filter((r) => r.status === 'skipped' && r.reason === 'interrupted');
      s.reporter.line(
        `${cmd}: interrupted after ${took}${stopped.length ? `; stopped: ${stopped.join(', ')}` : ''}${notStarted.length ? `; ${notStarted.length} step(s) not started` : ''}`,
      );
      s.reporter.line(`the state is saved: run the same command to resume`);
    } else if (provisioning)
      s.reporter.line(
        provisioning.code === 'domain.provisioning'
          ? `${cmd}: everything is made (${took}), but ${s.config.host}.${s.config.domain} is still provisioning; run \`drctl up\` again later`
          : `${cmd}: everything is made (${took}), but ${s.config.host}.${s.config.domain} could not be checked: ${provisioning.message}`,
      );
    else if (hold?.failed && !failed.length)
      s.reporter.line(
        `${cmd}: everything is made (${took}), but the held switch's hold could not be checked`,
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
      ...(hold?.tripped.length ? { holdTrippedAgain: hold.tripped } : {}),
      ...(cmd === 'down'
        ? { remains: result.remains, ...(nothingThere ? { nothingToDelete: true } : {}) }
        : {}),
    } satisfies LifecycleResult);
    return code;
  } finally {
    s.signals.onForcedExit.delete(releaseNow);
    await store.unlock();
  }
}

/**
 * After `up`, with a held incident switch recorded (state.switch): every region it holds traffic
 * away from must have its hold in force (the hold alarm in ALARM, src/verify/switch-checks.ts).
 * One that is not (the alarm deleted and remade, the hold check made again: a new check with no
 * data counts as healthy) is tripped again, as the switch trips it, and `up` says so. `up` never
 * releases a hold: only `drctl failback` does.
 */
async function keepHeldSwitch(
  s: Session,
  store: StateStore,
  aws: AwsClients,
): Promise<{ tripped: string[]; failed: boolean } | undefined> {
  const sw = store.state.switch;
  if (sw?.phase !== 'held') return undefined;
  const { readHolds, holdsNotInForce, holdText } = await import('../verify/switch-checks.js');
  const { tripHold } = await import('../switch/hold.js');
  const tripped: string[] = [];
  try {
    for (const h of holdsNotInForce(store.state, await readHolds(s.config, store.state, aws))) {
      await tripHold(s.config, aws, h.awayFrom, s.deps.clock.now());
      tripped.push(h.awayFrom);
      s.reporter.line(
        `up: the switch's hold away from ${h.awayFrom} was not in force (${holdText(h)}); tripped it again with PutMetricData in ${h.alarmRegion}`,
      );
    }
  } catch (e) {
    const { awsCode } = await import('../aws/errors.js');
    s.reporter.line(
      `up: could not check or trip the switch's hold (${awsCode(e) ?? 'error'}: ${e instanceof Error ? e.message : String(e)}); clients may be answered by ${sw.awayFrom.join(', ')}. Run \`drctl up\` again, or \`drctl verify\` to see the hold`,
    );
    return { tripped, failed: true };
  }
  return { tripped, failed: false };
}

/**
 * What `plan` shows as "replace: down, then up" is refused before the lock and any AWS call: the
 * same diff `plan` prints decides (src/plan/diff.ts), so up never starts what its plan says it
 * cannot finish. `step` too: it applies the same config to one step.
 */
async function refuseWhatPlanCannotApply(
  s: Session,
  store: StateStore,
  cmd: 'up' | 'step',
  only: { step: StepName; region?: string } | undefined,
): Promise<void> {
  const { planDiff, refuseUnsafeChanges } = await import('../plan/diff.js');
  refuseUnsafeChanges(planDiff(s.config, store.state, s.steps), cmd === 'step' ? `step ${only!.step}` : cmd);
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
  const served = regionsOf(s.config).filter(
    (r) => recordedOutputs(store.state, 'domain', r)?.mode === 'regional',
  );
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
  aws: AwsClients,
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
  result: RunResult,
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
