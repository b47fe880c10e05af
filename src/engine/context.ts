import type { AwsClients } from '../aws/clients.js';
import { retryText } from '../aws/calls.js';
import { ownershipTags } from '../aws/tags.js';
import { pollUntil, retrying } from '../aws/wait.js';
import { type Config, regionsOf, roleOf } from '../config/config.js';
import type { EventSink } from '../io/events.js';
import type { Clock } from '../lib/clock.js';
import type { OutputsOf, Remains, StepContext, StepInfo, StepName, StepPaths } from '../steps/types.js';
import { GLOBAL } from '../state/schema.js';
import type { StateStore } from '../state/store.js';
import type { PlanNode } from './graph.js';

// The StepContext the runner hands a step: where it runs, its record, the other steps' outputs
// (through the runner's `outputOf`), its events, and polling and retries on its clock and signal.

/** A step's context as the runner holds it: the last progress text names the resource of a failure. */
export type RunContext = StepContext<Record<string, unknown>> & { lastProgress?: string };

/** Where another step's outputs come from: a live node during `up`, the state during `down`. */
export type OutputSource = (
  step: StepName,
  scope: string,
  fields?: string[],
) => Promise<Record<string, unknown>>;

export interface ContextDeps {
  config: Config;
  store: StateStore;
  aws: AwsClients;
  clock: Clock;
  sink: EventSink;
  signal: AbortSignal;
  paths: StepPaths;
  steps: readonly StepInfo[];
  /** Collects what `down` leaves in AWS on purpose (RunResult.remains). */
  remains: (item: Remains & { step: string; scope: string }) => void;
}

/** One node's context; `changed()` tells whether the step recorded anything (created or changed). */
export function stepContext(
  n: PlanNode,
  mode: 'up' | 'down',
  deps: ContextDeps,
  outputOf: OutputSource,
  onRecord?: () => void,
): { ctx: RunContext; changed: () => boolean } {
  const { config, clock, signal, sink, store, aws, paths, steps } = deps;
  const [primary, secondary] = regionsOf(config);
  let changed = false;
  const started = clock.now();
  const scopeFor = (step: StepName, region?: string) => {
    const info = steps.find((s) => s.name === step);
    return info?.scope === 'global' ? GLOBAL : (region ?? n.region);
  };
  const progress = (text: string) => {
    ctx.lastProgress = text;
    sink.emit({
      type: 'step-progress',
      step: n.step,
      scope: n.scope,
      text,
      elapsedMs: clock.now() - started,
      t: clock.now(),
    });
  };
  const ctx: RunContext = {
    step: n.step,
    region: n.region,
    scope: n.scope,
    role: n.scope === GLOBAL ? 'global' : roleOf(config, n.region),
    peerRegion: n.region === primary ? secondary : primary,
    config,
    // A retry of a call this step makes shows on its progress line.
    aws: aws.scoped((info) => progress(retryText(info))),
    clock,
    signal,
    paths,
    recorded: { ...(store.get(n.step, n.scope)?.resources ?? {}) },
    record: (patch) => {
      changed = true;
      Object.assign(ctx.recorded, patch);
      const status = store.get(n.step, n.scope)?.status;
      store.record(
        n.step,
        n.scope,
        mode === 'down' ? 'deleting' : status === 'ready' ? 'ready' : 'creating',
        patch,
      );
      onRecord?.();
    },
    outputOf: <N extends StepName>(step: N, region?: string) =>
      outputOf(step, scopeFor(step, region)) as Promise<OutputsOf<N>>,
    fieldsOf: <N extends StepName, K extends keyof OutputsOf<N> & string>(
      step: N,
      region: string | undefined,
      fields: K[],
    ) => outputOf(step, scopeFor(step, region), fields) as Promise<Pick<OutputsOf<N>, K>>,
    peek: <N extends StepName>(step: N, region?: string) =>
      store.get(step, scopeFor(step, region))?.resources as Partial<OutputsOf<N>> | undefined,
    tags: () => ownershipTags(config.deployment, n.step, n.scope),
    progress,
    info: (message) =>
      sink.emit({ type: 'log', level: 'info', step: n.step, scope: n.scope, message, t: clock.now() }),
    warn: (message) =>
      sink.emit({ type: 'log', level: 'warn', step: n.step, scope: n.scope, message, t: clock.now() }),
    remains: (item) => deps.remains({ step: n.step, scope: n.scope, ...item }),
    poll: (o) => pollUntil({ ...o, clock, signal, onProgress: (text) => progress(text) }),
    retry: (what, call, retryOn) =>
      retrying({ clock, what, signal, retryOn, onProgress: (text) => progress(text) }, call),
  };
  return { ctx, changed: () => changed };
}
