import { type Config, regionsOf } from '../config/config.js';
import { STEPS } from '../steps/index.js';
import type { StepInfo, StepName } from '../steps/types.js';
import { GLOBAL } from '../state/schema.js';

// The node graph the runner walks: one node per step and region (one for a global step), its
// edges from the catalogue's `after` and `uses` (src/steps/index.ts), and what waits for what.

export interface PlanNode {
  step: StepName;
  scope: string;
  region: string;
  info: StepInfo;
  /** Nodes that must finish first (during `up`). */
  deps: string[];
  /** Nodes whose outputs this one may await part-way. */
  uses: string[];
}

export const nodeKey = (step: string, scope: string) => `${step}@${scope}`;

/** A node's outcome, settled by the node itself; the nodes that wait for it await its promise. */
export class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (v: T) => void;
  reject!: (e: unknown) => void;
  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    this.promise.catch(() => undefined); // a failure is reported once, by the node itself
  }
}

/** Of `keys`, those whose promise failed (each awaited: a node settles only after all of them). */
export async function unfinished(
  keys: string[],
  settled: ReadonlyMap<string, { readonly promise: Promise<unknown> }>,
): Promise<string[]> {
  const out: string[] = [];
  for (const k of keys) {
    try {
      await settled.get(k)!.promise;
    } catch {
      out.push(k);
    }
  }
  return out;
}

/** Where a regional or global step runs, and which nodes an edge from it reaches. */
function scopesOf(info: StepInfo, config: Config): string[] {
  return info.scope === 'global' ? [GLOBAL] : regionsOf(config);
}

function edgeTargets(from: StepInfo, scope: string, to: StepInfo, config: Config): string[] {
  if (to.scope === 'global') return [nodeKey(to.name, GLOBAL)];
  if (from.scope === 'regional') return [nodeKey(to.name, scope)];
  return regionsOf(config).map((r) => nodeKey(to.name, r));
}

/**
 * Builds the node graph (step × region) and rejects, before anything runs, an unknown edge or a
 * cycle through `after` and `uses` edges: a cycle would otherwise be a hang at run time.
 */
export function planGraph(config: Config, steps: readonly StepInfo[] = STEPS): PlanNode[] {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const nodes: PlanNode[] = [];
  for (const info of steps) {
    for (const scope of scopesOf(info, config)) {
      const region = scope === GLOBAL ? config.primary.region : scope;
      const edges = (names: StepName[]) =>
        names.flatMap((n) => {
          const to = byName.get(n);
          if (!to) throw new Error(`step ${info.name} names unknown step ${n}`);
          return edgeTargets(info, scope, to, config);
        });
      nodes.push({ step: info.name, scope, region, info, deps: edges(info.after), uses: edges(info.uses) });
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const byKey = new Map(nodes.map((n) => [nodeKey(n.step, n.scope), n]));
  const visit = (key: string, path: string[]) => {
    if (state.get(key) === 'done') return;
    if (state.get(key) === 'visiting')
      throw new Error(`step graph has a cycle: ${[...path, key].join(' -> ')}`);
    state.set(key, 'visiting');
    const n = byKey.get(key)!;
    for (const d of [...n.deps, ...n.uses]) visit(d, [...path, key]);
    state.set(key, 'done');
  };
  for (const k of byKey.keys()) visit(k, []);
  return nodes;
}

/** `down`'s reverse edges: per node, the nodes that depend on it (`after` or `uses`), deleted first. */
export function dependentsOf(nodes: readonly PlanNode[]): Map<string, string[]> {
  const dependents = new Map<string, string[]>(nodes.map((n) => [nodeKey(n.step, n.scope), []]));
  for (const n of nodes) {
    for (const d of new Set([...n.deps, ...n.uses])) dependents.get(d)!.push(nodeKey(n.step, n.scope));
  }
  return dependents;
}

/**
 * Of the graph, the nodes `drctl step <name> [--region]` runs (the step, in one region or all), or
 * with `region` alone every regional step of that region (what the benchmark compares).
 */
export function selectNodes(nodes: PlanNode[], only?: { step?: StepName; region?: string }): PlanNode[] {
  if (!only) return nodes;
  return nodes.filter(
    (n) =>
      (only.step === undefined ? n.scope !== GLOBAL : n.step === only.step) &&
      (only.region === undefined || n.scope === only.region || n.scope === GLOBAL),
  );
}
