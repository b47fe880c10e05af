import { regionsOf } from '../config/config.js';
import { UsageError, errorMessage, type ExitCode } from '../errors/errors.js';
import type { PlanResult } from '../io/results.js';
import { estimateCost, formatCost } from '../plan/pricing.js';
import { type DrillMode, describeBound, failoverBound } from '../drill/bound.js';
import { type StateStore } from '../state/store.js';
import { isS3Location } from '../state/location.js';
import { isCredentialsError } from '../aws/errors.js';
import { loadStore } from '../cli/aws-session.js';
import type { Session } from '../cli/session.js';
import type { CloudFacts } from '../plan/cloud-facts.js';

// `drctl plan`: the steps, what each will create or has recorded, the config diff since the last
// complete up, the cost and the worst-case failover. Loaded at start-up by nothing: it must stay
// free of the AWS SDK (test/cli/plan-cost.test.ts scans its imports).

export interface PlanArgs {
  /** Read AWS (read-only) for what up would change that the config does not show. */
  refresh?: boolean;
}

/**
 * `plan` makes no AWS call, except to read a state kept on S3: that read needs credentials, and
 * when they are missing the message says why plan asks for them.
 */
async function loadPlanState(s: Session): Promise<StateStore> {
  try {
    return await loadStore(s);
  } catch (e) {
    if (!isS3Location(s.statePath) || !isCredentialsError(e)) throw e;
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
 * `plan --refresh`: the caller and the account guard as `status --refresh` (before any other
 * call), then the reads of src/plan/refresh.ts. Loaded only here: plain plan imports no SDK.
 */
async function readCloud(s: Session, store: StateStore): Promise<CloudFacts> {
  const { awsClients, whoPays } = await import('../cli/aws-session.js');
  const aws = await awsClients(s, { abortSignal: s.signals.cancelCalls });
  await whoPays(s, aws, store);
  const refresh = await import('../plan/refresh.js');
  return refresh.readCloud(s.config, store.existed ? store.state : undefined, aws);
}

export async function run(s: Session, args: PlanArgs): Promise<ExitCode> {
  const store = await loadPlanState(s);
  const cloud = args.refresh ? await readCloud(s, store) : undefined;
  const { planDiff, renderPlanDiff, scopeText } = await import('../plan/diff.js');
  const { renderUsed } = await import('../plan/used.js');
  const { copyLine, withCloud } = await import('../plan/cloud-facts.js');
  const diff = withCloud(
    planDiff(s.config, store.existed ? store.state : undefined, s.steps),
    s.config,
    cloud,
  );
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
      ...(cloud ? { refreshed: cloud } : {}),
      cost: estimateCost(s.config),
      worstCaseFailover: (['outage', 'invert'] as DrillMode[]).map((mode) => failoverBound(s.config, mode)),
    } satisfies PlanResult);
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
  const used = renderUsed(s.config, copyLine(s.config, cloud));
  if (used.length) {
    used.forEach(out);
    out('');
  }
  // Like `terraform plan`: what changed in the config since the last complete up, and the count.
  renderPlanDiff(diff).forEach(out);
  out('');
  formatCost(estimateCost(s.config), s.reporter.width).forEach(out);
  out('');
  out(`worst-case failover: ${describeBound(failoverBound(s.config, 'outage'))}`);
  out(`  with failover-test --mode invert: ${describeBound(failoverBound(s.config, 'invert'))}`);
  return 0;
}
