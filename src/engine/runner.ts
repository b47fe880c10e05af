import type { AwsClients } from '../aws/clients.js';
import { awsCode, isCredentialsError, notResentCommand } from '../aws/errors.js';
import type { Clock } from '../lib/clock.js';
import type { Config } from '../config/config.js';
import { DrctlError, UsageError, errorMessage, stackWithCauses } from '../errors/errors.js';
import type { EventSink, Outcome } from '../io/events.js';
import { STEPS } from '../steps/index.js';
import type { AnyStepImpl, Remains, StepContext, StepInfo, StepName, StepPaths } from '../steps/types.js';
import { GLOBAL } from '../state/schema.js';
import type { StateStore } from '../state/store.js';
import { type OutputSource, type RunContext, stepContext } from './context.js';
import { type DiscoverResult, recordedIds } from './discover.js';
import { wrapFailure } from './failure.js';
import { checkRecords } from './records.js';
import {
  Deferred,
  type PlanNode,
  dependentsOf,
  nodeKey,
  planGraph,
  selectNodes,
  unfinished,
} from './graph.js';

// Running the graph (src/engine/graph.ts): `up`, `down`, a single `step`, `status --refresh` and
// discovery, each node with its StepContext (context.ts), events and failures (failure.ts).

// Where test/aws/retry.test.ts (and perhaps src/errors/ next) finds it; it lives in failure.ts.
export { resolutionFor } from './failure.js';

export interface RunnerOptions {
  config: Config;
  store: StateStore;
  aws: AwsClients;
  clock: Clock;
  sink: EventSink;
  signal: AbortSignal;
  paths: StepPaths;
  /** The step catalogue; tests may pass a smaller one. */
  steps?: readonly StepInfo[];
}

export interface NodeResult {
  step: StepName;
  scope: string;
  status: 'ok' | 'failed' | 'skipped';
  outcome?: Outcome;
  error?: DrctlError;
  reason?: string;
}

export interface RunResult {
  command: 'up' | 'down' | 'step';
  results: NodeResult[];
  interrupted: boolean;
  /** After `down`: what the state still records (step@scope), i.e. what is left in AWS. */
  left: string[];
  /** After `down`: what stays in AWS on purpose, with its cost (ctx.remains). */
  remains: Array<Remains & { step: string; scope: string }>;
  /**
   * The first error that said the credentials stopped working part-way (expired token, SSO session
   * ended): the run stopped starting steps, and the steps it cut short are skipped, not failed.
   */
  credentials?: unknown;
}

/** Why a step the credentials cut short, or never reached, is not done (its record stays as it was). */
export const CREDENTIALS_STOPPED = 'not done: the AWS credentials stopped working';

/** How often a step runs in all when a call it made failed ambiguously (see Runner.rerunning). */
const STEP_RUNS = 4;
const RERUN_PAUSE_MS = 5_000;

export class Runner {
  private readonly steps: readonly StepInfo[];
  private readonly modules = new Map<StepName, AnyStepImpl>();
  private readonly remains: RunResult['remains'] = [];
  /** Set by the first step that fails on credentials that no longer work (see RunResult.credentials). */
  private credentials: unknown;

  constructor(private readonly o: RunnerOptions) {
    this.steps = o.steps ?? STEPS;
  }

  get graph(): PlanNode[] {
    return planGraph(this.o.config, this.steps);
  }

  /** Load every step module and check the state's records against their schemas (exit 2 on a bad id). */
  async load(): Promise<void> {
    await Promise.all(
      this.steps.map(async (s) => {
        if (!this.modules.has(s.name)) this.modules.set(s.name, await s.load());
      }),
    );
    checkRecords(this.o.store, this.modules, this.o.config);
  }

  /**
   * `drctl up` (all steps), `drctl step <name> [--region]` (one step), or every regional step of
   * one region (`{ region }`, what the benchmark compares two regions against).
   */
  async up(only?: { step?: StepName; region?: string }): Promise<RunResult> {
    await this.load();
    this.credentials = undefined;
    const nodes = this.nodesFor(only);
    const inRun = new Map(nodes.map((n) => [nodeKey(n.step, n.scope), n]));
    const done = new Map(
      nodes.map((n) => [nodeKey(n.step, n.scope), new Deferred<Record<string, unknown>>()]),
    );
    const results: NodeResult[] = [];
    const fieldWaiters = new Map<string, Array<() => void>>();
    const recordedThisRun = new Set<string>();

    const runNode = async (n: PlanNode): Promise<void> => {
      const key = nodeKey(n.step, n.scope);
      const mine = done.get(key)!;
      const blockers = await unfinished(
        n.deps.filter((d) => inRun.has(d)),
        done,
      );
      const stop = this.stopReason(blockers, `needs ${blockers.join(', ')}, which did not finish`);
      if (stop) {
        this.skip(n, stop, results);
        mine.reject(new Error(stop));
        return;
      }
      const unused = n.info.unusedWhen?.(this.o.config);
      if (unused) {
        try {
          await this.retire(n);
        } catch (e) {
          mine.reject(this.failed(e, n, {}, this.o.clock.now(), results));
          return;
        }
        this.skip(n, `not used: ${unused}`, results);
        mine.resolve({});
        return;
      }
      const started = this.o.clock.now();
      this.o.sink.emit({ type: 'step-start', step: n.step, scope: n.scope, title: n.info.title, t: started });
      const { ctx, changed } = this.context(
        n,
        'up',
        (step, scope, fields) => {
          const k = nodeKey(step, scope);
          if (!n.uses.includes(k) && !n.deps.includes(k)) {
            throw new Error(
              `step ${n.step} awaited ${k} without declaring it in steps/index.ts (after/uses)`,
            );
          }
          if (!inRun.has(k)) return Promise.resolve(this.readyRecord(step, scope, n));
          if (!fields) return done.get(k)!.promise;
          return new Promise((resolve, reject) => {
            // Only values recorded during this run count: a stale record from an earlier run
            // could name a resource that is being replaced now.
            const check = () => {
              const rec = this.o.store.get(step, scope)?.resources;
              if (recordedThisRun.has(k) && rec && fields.every((f) => rec[f] !== undefined)) resolve(rec);
            };
            check();
            fieldWaiters.set(k, [...(fieldWaiters.get(k) ?? []), check]);
            done.get(k)!.promise.then(resolve, reject);
          });
        },
        () => {
          recordedThisRun.add(key);
          for (const w of fieldWaiters.get(key) ?? []) w();
        },
      );
      try {
        const impl = this.modules.get(n.step)!;
        const out = (await this.rerunning(ctx, () => impl.up(ctx))) as Record<string, unknown>;
        this.o.store.record(n.step, n.scope, 'ready', out, 'replace');
        // A step is done once its record is stored (S3 saves are queued; a file's are already on disk).
        await this.o.store.flush();
        const outcome: Outcome = changed() ? 'created' : 'unchanged';
        this.o.sink.emit({
          type: 'step-done',
          step: n.step,
          scope: n.scope,
          outcome,
          elapsedMs: this.o.clock.now() - started,
          t: this.o.clock.now(),
          resources: out,
        });
        results.push({ step: n.step, scope: n.scope, status: 'ok', outcome });
        mine.resolve(out);
      } catch (e) {
        mine.reject(this.failed(e, n, ctx, started, results));
      }
    };

    await Promise.all(nodes.map(runNode));
    return {
      command: only ? 'step' : 'up',
      results,
      interrupted: this.o.signal.aborted,
      left: [],
      remains: [],
      credentials: this.credentials,
    };
  }

  /**
   * `drctl down`: the reverse graph. A node is deleted once everything that depends on it is gone;
   * a failure keeps what it depends on and the run goes on with everything independent of it.
   */
  async down(o: { discovered?: ReadonlySet<string> } = {}): Promise<RunResult> {
    await this.load();
    this.credentials = undefined;
    const nodes = this.graph;
    const dependents = dependentsOf(nodes);
    const gone = new Map(nodes.map((n) => [nodeKey(n.step, n.scope), new Deferred<void>()]));
    const results: NodeResult[] = [];

    const runNode = async (n: PlanNode): Promise<void> => {
      const key = nodeKey(n.step, n.scope);
      const mine = gone.get(key)!;
      const blockers = await unfinished(dependents.get(key)!, gone);
      const stop = this.stopReason(blockers, `kept: ${blockers.join(', ')} still exist(s)`);
      if (stop) {
        this.skip(n, stop, results);
        mine.reject(new Error(stop));
        return;
      }
      const started = this.o.clock.now();
      const hadRecord = this.o.store.get(n.step, n.scope) !== undefined;
      this.o.sink.emit({ type: 'step-start', step: n.step, scope: n.scope, title: n.info.title, t: started });
      const { ctx } = this.context(n, 'down', this.recordedOutputs);
      try {
        if (hadRecord) this.o.store.record(n.step, n.scope, 'deleting', {});
        const impl = this.modules.get(n.step)!;
        await this.rerunning(ctx, () => impl.down(ctx));
        this.o.store.forget(n.step, n.scope);
        await this.o.store.flush();
        // Without a record, `down --discover` knows whether the step found something to delete.
        const outcome: Outcome = hadRecord || o.discovered?.has(key) ? 'deleted' : 'absent';
        const now = this.o.clock.now();
        this.o.sink.emit({
          type: 'step-done',
          step: n.step,
          scope: n.scope,
          outcome,
          elapsedMs: now - started,
          t: now,
        });
        results.push({ step: n.step, scope: n.scope, status: 'ok', outcome });
        mine.resolve();
      } catch (e) {
        mine.reject(this.failed(e, n, ctx, started, results));
      }
    };

    await Promise.all(nodes.map(runNode));
    const left = Object.entries(this.o.store.state.steps).flatMap(([step, byScope]) =>
      Object.keys(byScope).map((scope) => nodeKey(step, scope)),
    );
    return {
      command: 'down',
      results,
      interrupted: this.o.signal.aborted,
      left,
      remains: [...this.remains],
      credentials: this.credentials,
    };
  }

  /** `status --refresh`: ask each step with a record which of its recorded resources are gone. */
  async refresh(): Promise<Array<{ step: StepName; scope: string; missing: string[] }>> {
    await this.load();
    const out: Array<{ step: StepName; scope: string; missing: string[] }> = [];
    await Promise.all(
      this.graph
        .filter((n) => this.o.store.get(n.step, n.scope))
        .map(async (n) => {
          const impl = this.modules.get(n.step)!;
          if (!impl.check) return;
          const { ctx } = this.context(n, 'down', () => Promise.reject(new Error('not available in status')));
          out.push({ step: n.step, scope: n.scope, missing: await impl.check(ctx) });
        }),
    );
    return out;
  }

  /**
   * `down --discover` and `status --refresh`: what every step finds of this deployment in AWS by
   * ownership tag and deterministic name (read-only, every step and region at once), each marked
   * with whether the state file knows its id. A step whose look-up fails reports its error.
   */
  async discover(): Promise<DiscoverResult[]> {
    await this.load();
    const known = recordedIds(this.o.store.state.steps);
    const nodes = this.graph;
    const out = await Promise.all(
      nodes.map(async (n): Promise<DiscoverResult> => {
        const impl = this.modules.get(n.step)!;
        if (!impl.discover) return { step: n.step, scope: n.scope, found: [] };
        const { ctx } = this.context(n, 'down', () =>
          Promise.reject(new Error('outputOf is not available in discover')),
        );
        // Discovery works from AWS alone: no record to lean on, and nothing to record.
        const readOnly = {
          ...ctx,
          recorded: {},
          record: () => {
            throw new Error(`step ${n.step}: discover must not record`);
          },
        };
        try {
          const found = await impl.discover(readOnly);
          const unique = [...new Map(found.map((f) => [`${f.id}\n${f.what}`, f])).values()];
          return {
            step: n.step,
            scope: n.scope,
            found: unique.map((f) => ({ ...f, recorded: known.has(f.id) })),
          };
        } catch (e) {
          return { step: n.step, scope: n.scope, found: [], error: this.wrap(e, n, ctx) };
        }
      }),
    );
    return out;
  }

  /**
   * A call the client factory does not resend (idempotency.ts) failed with a server error: AWS may
   * have applied it. The step runs again from the top after a pause (reads can lag a create by a
   * moment), and its find-or-create looks for what the call made (token, tag, name, owner mark)
   * before creating: the contract the crash matrix holds every step to.
   */
  private async rerunning<T>(ctx: StepContext<Record<string, unknown>>, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (e) {
        const command = notResentCommand(e);
        if (command === undefined || attempt >= STEP_RUNS || this.o.signal.aborted) throw e;
        ctx.warn(
          `${command} failed with ${awsCode(e) ?? errorMessage(e)} (an AWS error; it may have been applied, so it is not resent): looking for its result before creating anything`,
        );
        await this.o.clock.sleep(RERUN_PAUSE_MS * attempt, this.o.signal);
      }
    }
  }

  /** The nodes `up` (or `step`) would run; a step whose inputs are not recorded is a UsageError. */
  nodesFor(only?: { step?: StepName; region?: string }): PlanNode[] {
    const nodes = selectNodes(this.graph, only);
    if (only) this.checkInputsRecorded(nodes);
    return nodes;
  }

  /** During `down` (and a retire), a step's inputs are what the state recorded, never a live step. */
  private readonly recordedOutputs = (step: StepName, scope: string): Promise<Record<string, unknown>> => {
    const rec = this.o.store.get(step, scope);
    return rec
      ? Promise.resolve(rec.resources)
      : Promise.reject(new UsageError(`nothing recorded for ${step} in ${scope}`));
  };

  /**
   * A step this config does not use, during `up`: what an earlier config recorded for it (the NLB
   * of regional mode) is deleted with the step's own `down`, and the record goes.
   */
  private async retire(n: PlanNode): Promise<void> {
    if (!this.o.store.get(n.step, n.scope)) return;
    const started = this.o.clock.now();
    this.o.sink.emit({ type: 'step-start', step: n.step, scope: n.scope, title: n.info.title, t: started });
    const { ctx } = this.context(n, 'down', this.recordedOutputs);
    ctx.warn(`${n.step} is not used with this config: deleting what it made before`);
    this.o.store.record(n.step, n.scope, 'deleting', {});
    await this.modules.get(n.step)!.down(ctx);
    this.o.store.forget(n.step, n.scope);
    await this.o.store.flush();
  }

  /** `drctl step X` alone: every input must already be recorded as ready, else name the step to run first. */
  private checkInputsRecorded(nodes: PlanNode[]): void {
    const inRun = new Set(nodes.map((n) => nodeKey(n.step, n.scope)));
    for (const n of nodes) {
      for (const d of [...n.deps, ...n.uses].filter((k) => !inRun.has(k))) {
        const [step, scope] = d.split('@') as [StepName, string];
        if (this.isUnused(step)) continue;
        if (this.o.store.get(step, scope)?.status !== 'ready') {
          const where = scope === GLOBAL ? '' : ` --region ${scope}`;
          throw new UsageError(
            `step ${n.step} in ${n.scope} needs step ${step} in ${scope}, which has not run`,
            {
              field: 'step',
              resolution: `Run \`drctl step ${step}${where}\` first, or \`drctl up\` for everything.`,
            },
          );
        }
      }
    }
  }

  private isUnused(step: StepName): boolean {
    return this.steps.find((s) => s.name === step)?.unusedWhen?.(this.o.config) !== undefined;
  }

  private readyRecord(step: StepName, scope: string, n: PlanNode): Record<string, unknown> {
    if (this.isUnused(step)) return {};
    const rec = this.o.store.get(step, scope);
    if (rec?.status !== 'ready') {
      throw new UsageError(`step ${n.step} needs step ${step} in ${scope}, which has not run`, {
        resolution: `Run \`drctl step ${step}\` first.`,
      });
    }
    return rec.resources;
  }

  /** Why a node does not start: Ctrl-C, credentials known bad, or nodes it waits for that did not finish. */
  private stopReason(blockers: string[], blocked: string): string | undefined {
    if (this.o.signal.aborted) return 'interrupted';
    if (this.credentials !== undefined) return CREDENTIALS_STOPPED;
    return blockers.length ? blocked : undefined;
  }

  private skip(n: PlanNode, reason: string, results: NodeResult[]): void {
    const quiet = reason === CREDENTIALS_STOPPED ? { quiet: true } : {};
    this.o.sink.emit({
      type: 'step-skipped',
      step: n.step,
      scope: n.scope,
      reason,
      t: this.o.clock.now(),
      ...quiet,
    });
    results.push({ step: n.step, scope: n.scope, status: 'skipped', reason });
  }

  /**
   * A node's failure, told and listed; the error its dependants see. Credentials that stopped
   * working are one problem of the run, said once by the command: the node is skipped as not done.
   */
  private failed(
    e: unknown,
    n: PlanNode,
    ctx: { lastProgress?: string },
    started: number,
    results: NodeResult[],
  ): DrctlError {
    const err = this.wrap(e, n, ctx);
    if (!this.o.signal.aborted && isCredentialsError(e)) {
      this.credentials ??= e;
      this.skip(n, CREDENTIALS_STOPPED, results);
      return err;
    }
    this.fail(n, err, started);
    results.push({ step: n.step, scope: n.scope, status: 'failed', error: err });
    return err;
  }

  private fail(n: PlanNode, err: DrctlError, started: number): void {
    const now = this.o.clock.now();
    this.o.sink.emit({
      type: 'step-failed',
      step: n.step,
      scope: n.scope,
      elapsedMs: now - started,
      t: now,
      error: {
        message: err.message,
        code: err.context.awsCode,
        resource: err.context.resource,
        resolution: err.resolution,
        stack: stackWithCauses(err),
      },
    });
  }

  /** Every failure leaves the runner as a DrctlError naming step, region, resource and AWS code. */
  private wrap(e: unknown, n: PlanNode, ctx: { lastProgress?: string }): DrctlError {
    return wrapFailure(e, n, ctx, this.o.signal.aborted);
  }

  private context(
    n: PlanNode,
    mode: 'up' | 'down',
    outputOf: OutputSource,
    onRecord?: () => void,
  ): { ctx: RunContext; changed: () => boolean } {
    return stepContext(
      n,
      mode,
      { ...this.o, steps: this.steps, remains: (item) => this.remains.push(item) },
      outputOf,
      onRecord,
    );
  }
}
