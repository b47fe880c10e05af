import type { z } from 'zod';
import type { AwsClients } from '../aws/clients.js';
import type { PollOptions } from '../aws/wait.js';
import type { Tag } from '../aws/tags.js';
import type { Clock } from '../lib/clock.js';
import type { Config, RegionRole } from '../config/config.js';

export const STEP_NAMES = [
  'keypairs',
  'vpc',
  'endpoints',
  'api',
  'ca',
  'domain',
  'nlb',
  'peering',
  'hosted-zone',
  'canary',
  'health-check',
  'traffic-policy',
  'probe',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

/**
 * What each step records and hands to later steps. Each step module adds its own entry by
 * declaration merging (`declare module './types.js' { interface StepOutputs { vpc: VpcOutputs } }`),
 * so `ctx.outputOf('vpc', region)` is typed without steps importing each other.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface StepOutputs {}

export type OutputsOf<N extends StepName> = N extends keyof StepOutputs
  ? StepOutputs[N]
  : Record<string, unknown>;

export interface StepPaths {
  /** The .drctl directory beside the state file. */
  root: string;
  keys: string;
  ca: string;
}

export interface StepContext<Out> {
  readonly step: StepName;
  /** The region this run of the step works in; for a global step, the primary region. */
  readonly region: string;
  /** The region key the state records under: the region, or 'global'. */
  readonly scope: string;
  readonly role: RegionRole | 'global';
  /** The other region of the pair (for a global step: the secondary). */
  readonly peerRegion: string;
  readonly config: Config;
  readonly aws: AwsClients;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly paths: StepPaths;
  /** What the state file holds for this step and region (partial after a crash). */
  readonly recorded: Partial<Out>;
  /** Persist ids at once, the moment a create call returns, before any wait. */
  record(patch: Partial<Out>): void;
  /** Another step's outputs; during `up`, waits until that step has finished in that region. */
  outputOf<N extends StepName>(step: N, region?: string): Promise<OutputsOf<N>>;
  /**
   * Some of another step's outputs, as soon as that step has recorded them in this run (or has
   * finished): e.g. an NLB's DNS name exists the moment CreateLoadBalancer returns, minutes before
   * the nlb step is done, so DNS records need not wait for its targets to turn healthy.
   */
  fieldsOf<N extends StepName, K extends keyof OutputsOf<N> & string>(
    step: N,
    region: string | undefined,
    fields: K[],
  ): Promise<Pick<OutputsOf<N>, K>>;
  /** Another step's recorded outputs without waiting (for `down`); undefined if none. */
  peek<N extends StepName>(step: N, region?: string): Partial<OutputsOf<N>> | undefined;
  /** Ownership tags for a resource of this step (drctl:deployment, drctl:step, drctl:region, Name). */
  tags(): Tag[];
  /** What the step is waiting for now: shown beside its spinner with the elapsed time. */
  progress(text: string): void;
  info(message: string): void;
  warn(message: string): void;
  /** Something `down` leaves in AWS on purpose (a CA in its restore window): listed when `down` ends. */
  remains?(item: Remains): void;
  /** pollUntil on this step's clock, signal and progress line. */
  poll<T>(o: Omit<PollOptions<T>, 'clock' | 'signal' | 'onProgress'>): Promise<T>;
  /** Retry a call while it fails transiently (throttling, eventual consistency), with backoff. */
  retry<T>(what: string, call: () => Promise<T>, retryOn?: (e: unknown) => boolean): Promise<T>;
}

/** What stays in AWS after `down`, and what it costs: printed at the end of `down` and in its --json summary. */
export interface Remains {
  what: string;
  id: string;
  region: string;
  /** ISO date until which it can be restored (a private CA's restore window). */
  restorableUntil?: string;
  /** What it costs from now on, in words (with the figure). */
  cost: string;
}

/**
 * A step as the catalogue (steps/index.ts) lists it: name, scope and edges, known before its module
 * loads; `load()` brings its StepImpl, whose `outputs` schema is the StepOutputs entry the module adds.
 */
export interface StepInfo {
  name: StepName;
  title: string;
  scope: 'regional' | 'global';
  /** Steps that must finish before this one starts (same region for regional steps). */
  after: StepName[];
  /**
   * Steps whose outputs this one may await part-way through `up` (ctx.outputOf), so it can start
   * its long-lead resources sooner. Declared here so plan can reject cycles before anything runs.
   */
  uses: StepName[];
  /** One line for `plan`: what it makes per region (or once). */
  creates: string;
  /**
   * Why this config makes nothing with the step, if it does not (the NLB with domainMode private).
   * `up` then skips it, after removing what an earlier config recorded for it; `down` runs it always.
   */
  unusedWhen?: (config: Config) => string | undefined;
  load: () => Promise<AnyStepImpl>;
}

/**
 * A catalogue entry as steps/index.ts writes it: `load` must bring the module whose outputs are
 * the StepOutputs entry of the same name, so name, scope, edges and outputs type agree in one place.
 */
export type CheckedStepInfo = {
  [N in StepName]: StepInfo & { name: N; load: () => Promise<StepImpl<OutputsOf<N>>> };
}[StepName];

/** A step module's implementation. Its name, title, scope and edges live in steps/index.ts. */
export interface StepImpl<Out> {
  /** Schema of what the step records; checked when a state file is loaded, so a hand-edited id is exit 2. */
  outputs: z.ZodType<Out>;
  /** Find-or-create, wait until usable, return the ids. Re-running it on a finished step makes no mutating call. */
  up(ctx: StepContext<Out>): Promise<Out>;
  /** Delete what this deployment owns (recorded or tagged); gone already is fine. */
  down(ctx: StepContext<Out>): Promise<void>;
  /** For `status --refresh`: the recorded resources that are gone from AWS (read-only calls). */
  check?(ctx: StepContext<Out>): Promise<string[]>;
  /**
   * For `down --discover` and `status --refresh`: what of this deployment exists in AWS for this
   * step and region, found the way `down` finds it (ownership tags, deterministic names), without
   * the state file. Read-only calls; a resource that is not ours is never listed.
   */
  discover?(ctx: StepContext<Out>): Promise<Found[]>;
}

/** A resource `discover` found. */
export interface Found {
  /** In AWS words, as `down` would name it: "stack drctl-vpc", "root CA arn:…". */
  what: string;
  /**
   * Its id in the form this step records it (an ARN where the step records ARNs, a name where it
   * records names), so a caller can tell whether the state file knows it.
   */
  id: string;
}

export type AnyStepImpl = StepImpl<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
