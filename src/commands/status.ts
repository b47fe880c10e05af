import { errorMessage, type ExitCode } from '../errors/errors.js';
import type { CertificateLifetime, StatusResult } from '../io/results.js';
import type { StateStore } from '../state/store.js';
import { awsClients, loadStore, makeRunner, whoPays } from '../cli/aws-session.js';
import type { Session } from '../cli/session.js';
import { recordedOutputs } from '../state/outputs.js';
import { heldSwitchText } from '../state/switch-text.js';

// `drctl status [--refresh]`: what the state records, and with --refresh what AWS says of it
// (drift, resources the state does not know, certificate lifetimes).

export interface StatusArgs {
  refresh: boolean;
}

export async function run(s: Session, { refresh }: StatusArgs): Promise<ExitCode> {
  const store = await loadStore(s);
  let drift: Array<{ step: string; scope: string; missing: string[] }> = [];
  let unrecorded: Array<{ step: string; scope: string; resources: Array<{ what: string; id: string }> }> = [];
  // Terraform's -detailed-exitcode: 0 in sync, 2 drift found, 1 could not check.
  const failures: Array<{ step: string; scope: string; message: string }> = [];
  let refreshAws: Awaited<ReturnType<typeof makeRunner>>['aws'] | undefined;
  if (refresh) {
    const { runner, aws } = await makeRunner(s, store);
    refreshAws = aws;
    await whoPays(s, aws, store);
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
  // The canary's health as Synthetics words it (ERROR and its reason, failed runs): issue 23.
  let canaryTroubles = new Map<string, { text: string; fix: string }>();
  if (refreshAws && failures.length === 0) {
    const ctx = { config: s.config, state: store.state, aws: refreshAws, clock: s.deps.clock };
    const verify = await import('../verify/canary-trouble.js');
    canaryTroubles = await verify.canaryTroubles(ctx).catch((e: unknown) => {
      failures.push({ step: 'canary', scope: '', message: errorMessage(e) });
      return canaryTroubles;
    });
  }
  // The team's API (config api.restApiId): drctl's statement not deployed yet refuses its endpoint.
  let admit: StatusResult['admit'];
  if (
    refreshAws &&
    failures.length === 0 &&
    typeof s.config.api === 'object' &&
    'restApiId' in s.config.api
  ) {
    const ctx = { config: s.config, state: store.state, aws: refreshAws, clock: s.deps.clock };
    const { apiAdmits } = await import('../verify/admit-check.js');
    try {
      const line = (
        await apiAdmits.run({ ...ctx, steps: s.steps, missingResources: () => Promise.resolve([]) })
      ).find((l) => l.status === 'fail');
      if (line) admit = { text: line.text, fix: line.fix ?? '' };
    } catch (e) {
      failures.push({ step: 'api', scope: s.config.primary.region, message: errorMessage(e) });
    }
  }
  // The hold in the cloud (Route 53's hold checks, as verify reads them) against state.switch.
  let hold: StatusResult['hold'];
  if (refreshAws && failures.length === 0 && (store.state.switch || steps['health-check'])) {
    const sw = await import('../verify/switch-checks.js');
    try {
      const readings = await sw.readHolds(s.config, store.state, refreshAws);
      hold = { readings, disagreements: sw.holdDisagreements(s.config, store.state, readings) };
    } catch (e) {
      failures.push({ step: 'switch', scope: '', message: errorMessage(e) });
    }
  }
  let certificates: Awaited<ReturnType<typeof certificateLifetimes>>;
  try {
    // After failed look-ups, the recorded lifetimes: one more stalled call would only add waiting.
    certificates = await certificateLifetimes(s, store, refresh && failures.length === 0);
  } catch (e) {
    failures.push({ step: 'ca', scope: '', message: errorMessage(e) });
    certificates = await certificateLifetimes(s, store, false);
  }
  // A hold the state does not record, or a recorded switch not in force, is drift like any other.
  const drifted =
    drift.some((d) => d.missing.length > 0) || unrecorded.length > 0 || !!hold?.disagreements.length;
  const code: ExitCode = failures.length ? 1 : drifted ? 2 : 0;
  if (s.opts.json) {
    s.reporter.result({
      ok: code === 0,
      exitCode: code,
      command: 'status',
      state: s.statePath,
      ...(store.state.switch ? { switch: store.state.switch } : {}),
      hold,
      steps,
      certificates,
      ...(admit ? { admit } : {}),
      drift: refresh ? drift : undefined,
      unrecorded: refresh ? unrecorded : undefined,
      errors: failures.length ? failures : undefined,
    } satisfies StatusResult);
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
  // A held incident switch first: where clients go matters more than any step's record.
  if (store.state.switch)
    s.reporter.line(`${heldSwitchText(store.state.switch)} (\`drctl failback\` releases it)`);
  for (const d of hold?.disagreements ?? []) s.reporter.line(`DRIFT: ${d.text}\n    fix: ${d.fix}`);
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
      const trouble = info.name === 'canary' && !d?.missing.length ? canaryTroubles.get(scope) : undefined;
      if (trouble) s.reporter.line(`    UNHEALTHY: ${trouble.text}\n    fix: ${trouble.fix}`);
      if (admit && info.name === 'api' && scope === s.config.primary.region)
        s.reporter.line(`    NOT IN EFFECT: ${admit.text}\n    fix: ${admit.fix}`);
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

/** Each region's certificate: NotAfter and whether ACM can renew it (ACM's word with --refresh). */
async function certificateLifetimes(
  s: Session,
  store: StateStore,
  refresh: boolean,
): Promise<CertificateLifetime[]> {
  const out: CertificateLifetime[] = [];
  const records = Object.entries(store.state.steps.ca ?? {});
  const aws =
    refresh && records.length ? await awsClients(s, { abortSignal: s.signals.cancelCalls }) : undefined;
  const { certificateFacts } = aws ? await import('../steps/ca/index.js') : { certificateFacts: undefined };
  for (const [region] of records) {
    const r = recordedOutputs(store.state, 'ca', region) ?? {};
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
