import { regionsOf } from '../config/config.js';
import type { JsonObject } from '../config/api-source.js';
import { UsageError } from '../errors/errors.js';
import { renderTable } from '../io/wrap.js';
import { type CostEstimate, estimateCost } from '../plan/pricing.js';
import { accountOfState } from '../state/schema.js';
import { type StateStore } from '../state/store.js';
import { ask } from '../cli/prompts.js';
import { type Session } from '../cli/session.js';
import type { AwsClients } from '../aws/clients.js';
import type { CloudFacts } from '../plan/cloud-facts.js';

// What `up` and `down` show and ask before they change anything: up's short preview and its
// question, down's list of what the state records and its typed confirmation.

/** Before `up` runs: what the config change since the last complete up will do (as `plan` shows it). */
export async function previewUp(s: Session, store: StateStore): Promise<void> {
  const { planDiff, renderHeld, renderUpPreview } = await import('../plan/diff.js');
  const diff = planDiff(s.config, store.state, s.steps);
  // A held incident switch: said before anything else, whatever up is about to do.
  const held = renderHeld(diff);
  if (held) s.reporter.line(held);
  for (const message of renderUpPreview(diff))
    s.reporter.emit({ type: 'log', level: 'info', message, t: s.deps.clock.now() });
}

/**
 * After the account guard, before the question: `up` may read the cloud, so it says what
 * `plan --refresh` says of the team's API (the secondary's copy behind the primary's stage prod),
 * and up then does it. Returns what it read, for confirmUp's counts.
 */
export async function previewCloud(
  s: Session,
  store: StateStore,
  aws: AwsClients,
  exported?: JsonObject,
): Promise<CloudFacts> {
  const { readCloud } = await import('../plan/refresh.js');
  const cloud = await readCloud(s.config, store.existed ? store.state : undefined, aws, exported);
  const { copyLine } = await import('../plan/cloud-facts.js');
  const line = cloud.copyBehind ? copyLine(s.config, cloud) : undefined;
  if (line) s.reporter.emit({ type: 'log', level: 'info', message: line, t: s.deps.clock.now() });
  return cloud;
}

export async function confirmDown(s: Session, store: StateStore): Promise<void> {
  const account = accountOfState(store.state)?.account;
  s.reporter.line(
    `down deletes what the state records${account ? ` in account ${account}` : ''}, and what it finds by this deployment's tags:`,
  );
  for (const line of recordedSummary(store)) s.reporter.line(line);
  const question = `Delete everything drctl made for deployment "${s.config.deployment}" in ${regionsOf(s.config).join(' and ')}? Type the deployment name to confirm:`;
  let typed: string | undefined;
  const confirmed = await ask(s, question, s.config.deployment, (answer) => (typed = answer));
  if (!confirmed)
    throw new UsageError('not confirmed; nothing was deleted', {
      field: '--yes',
      resolution: typed
        ? `The name did not match: you typed "${typed}", the deployment is "${s.config.deployment}". Run \`drctl down\` again and type it exactly.`
        : undefined,
    });
}

/** Per step and scope, what the state records: how many ids, and the first names (one line each, 80 columns). */
function recordedSummary(store: StateStore): string[] {
  const lines: string[] = [];
  for (const [step, scopes] of Object.entries(store.state.steps)) {
    for (const [scope, rec] of Object.entries(scopes ?? {})) {
      const ids = idsOf(rec.resources);
      if (!ids.length) continue;
      const head = `  ${step} ${scope}: ${ids.length} ${ids.length === 1 ? 'id' : 'ids'}: `;
      let names = ids.map((id) => id.split(/[/:]/).filter(Boolean).at(-1) ?? id).join(', ');
      if (head.length + names.length > 80) names = `${names.slice(0, Math.max(0, 76 - head.length))}...`;
      lines.push(`${head}${names}`);
    }
  }
  return lines;
}

/** The AWS ids a record holds (its `...Id`/`...Arn` fields, lists too), each once. */
function idsOf(resources: Record<string, unknown>): string[] {
  const out = new Set<string>();
  for (const [key, v] of Object.entries(resources)) {
    if (!/(Id|Arn)s?$/.test(key)) continue;
    for (const x of Array.isArray(v) ? v : [v]) if (typeof x === 'string' && x) out.add(x);
  }
  return [...out];
}

/**
 * `up`: a short summary of what it will make or change (counts per region) and what that costs,
 * then the question; the config diff since the last complete up is printed above it, by
 * previewUp. The details, step by step and price by price, are `drctl plan`'s (issue 23: about 60
 * folded lines used to scroll past an 80-column terminal before the question). The counts and the
 * total come from the diff and the estimate plan prints, so the two cannot disagree. Nothing to
 * ask when every step is recorded as ready and the config asks for no change: `up` then only
 * checks (and puts back what is gone).
 */
export async function confirmUp(s: Session, store: StateStore, cloud?: CloudFacts): Promise<void> {
  if (s.opts.yes) return;
  const { planDiff, renderCountsByScope } = await import('../plan/diff.js');
  const { withCloud } = await import('../plan/cloud-facts.js');
  const d = withCloud(planDiff(s.config, store.state, s.steps), s.config, cloud);
  const pending = d.steps.flatMap(({ step, scopes }) =>
    Object.entries(scopes)
      .filter(([, x]) => x.action === 'create' || x.action === 'resume')
      .map(([scope]) => `${step} ${scope}`),
  );
  const c = d.counts;
  const changes = c.create + c.update + c.replace + c.delete;
  if (pending.length === 0 && changes === 0) return;
  const more = pending.length > 1 ? ` and ${pending.length - 1} more` : '';
  s.reporter.line(
    pending.length
      ? `up will create or resume ${pending.length} step(s): ${pending[0]}${more}:`
      : `up will apply the ${d.changes.length ? 'config changes' : 'change'} above: ${c.create} to create, ${c.update} to update in place, ${c.replace} to replace, ${c.delete} to delete`,
  );
  if (pending.length) renderCountsByScope(d).forEach((l) => s.reporter.line(l));
  costTotal(estimateCost(s.config), s.reporter.width).forEach((l) => s.reporter.line(l));
  s.reporter.line('details and prices per resource: drctl plan');
  const question = pending.length
    ? `Create them in account ${s.identity?.account ?? '?'} (billed until \`drctl down\`)?`
    : `Apply these changes in account ${s.identity?.account ?? '?'}?`;
  if (!(await ask(s, question)))
    throw new UsageError(`not confirmed; nothing was ${pending.length ? 'created' : 'changed'}`, {
      field: '--yes',
    });
}

/** The total row of plan's cost table, under its column names: per hour and per month. */
function costTotal(c: CostEstimate, width: number | undefined): string[] {
  const money = (n: number, digits: number) => `$${n.toFixed(digits)}`;
  return [
    `cost while it runs (USD list prices as of ${c.asOf}):`,
    ...renderTable(
      [
        { cells: ['', 'per hour', 'per month'] },
        { cells: ['total', money(c.totalHourlyUsd, 4), money(c.totalMonthlyUsd, 2)] },
      ],
      [{}, { align: 'right' }, { align: 'right' }],
      { width, indent: '  ' },
    ),
  ];
}
