import { expect } from 'vitest';
import type { CliDeps } from '../../src/cli/main.js';
import type { CallLogEntry } from './fake-cloud/cloud.js';
import { Harness, type RunOutput } from './harness.js';

/**
 * The id each create call answers that drctl must record the moment the call returns (the step
 * contract, src/steps/types.ts `record`): a crash right after, and the next run can still find it
 * without relying on tags alone. A command not listed here and not in NOT_RECORDED fails the check,
 * so a new kind of create call needs a decision.
 */
const RECORDED_ID: Record<string, (o: any, input: any) => string | undefined> = {
  CreateKeyPair: (o) => o.KeyPairId,
  CreateStack: (o) => o.StackId,
  CreateVpcEndpoint: (o) => o.VpcEndpoint?.VpcEndpointId,
  ImportRestApi: (o) => o.id,
  CreateCertificateAuthority: (o) => o.CertificateAuthorityArn,
  RequestCertificate: (o) => o.CertificateArn,
  CreateLoadBalancer: (o) => o.LoadBalancers?.[0]?.LoadBalancerArn,
  CreateTargetGroup: (o) => o.TargetGroups?.[0]?.TargetGroupArn,
  CreateListener: (o) => o.Listeners?.[0]?.ListenerArn,
  CreateVpcPeeringConnection: (o) => o.VpcPeeringConnection?.VpcPeeringConnectionId,
  CreateHostedZone: (o) => (o.HostedZone?.Id as string | undefined)?.replace(/^\/hostedzone\//, ''),
  // Its id is recorded once tagged; until then the CallerReference recorded before the call
  // replays to the same check (src/steps/health-check/checks.ts, ensureCheck).
  CreateHealthCheck: (o, input) => (o.HealthCheck?.Id ? input.CallerReference : undefined),
  CreateFunction: (o) => o.FunctionArn,
  CreateTrafficPolicy: (o) => o.TrafficPolicy?.Id,
  CreateTrafficPolicyVersion: (o) => o.TrafficPolicy?.Id,
  CreateTrafficPolicyInstance: (o) => o.TrafficPolicyInstance?.Id,
  CreateDomainNameAccessAssociation: (o) => o.domainNameAccessAssociationArn,
};

/** Creates whose answer need not be recorded, and why. */
const NOT_RECORDED: Record<string, string> = {
  IssueCertificate: "the CA's own certificate, imported into the CA: it lives and dies with the CA",
  CreateRole: 'a deterministic name, recorded before the call',
  CreateBucket: 'a deterministic name, recorded before the call',
  CreateCanary: 'a deterministic name (its id is not used by any call)',
  CreateDomainName: 'the domain name is its id, known from the config',
  CreateDeployment: 'found again through the stage; the step records the deployed fingerprint',
  CreateBasePathMapping: 'keyed by domain name and base path',
  CreatePermission: 'keyed by the CA and the principal',
  CreateRoute: 'keyed by route table and destination; the peering step records each after it',
  ImportCertificateAuthorityCertificate: 'answers no id',
};

const isCreate = (command: string) => /^(Create|Import|Request|Issue|Allocate|Run)/.test(command);

/**
 * Every id a create call returned to drctl (the call succeeded and drctl heard the answer), that is
 * not yet in the state file: the records a crash at this moment would lose.
 */
export function unrecordedIds(h: Harness, calls: readonly CallLogEntry[] = h.cloud.calls): string[] {
  const state = JSON.stringify(h.state() ?? {});
  const lost: string[] = [];
  for (const c of calls) {
    if (!c.mutating || c.outcome !== 'ok' || !isCreate(c.command)) continue;
    const id = RECORDED_ID[c.command];
    if (!id) {
      if (!(c.command in NOT_RECORDED))
        lost.push(`${c.region} ${c.command}: not in RECORDED_ID or NOT_RECORDED (test/support/crash.ts)`);
      continue;
    }
    const v = id(c.output, c.input);
    // Deleted again by the same run (the traffic-policy step's probe instance): nothing to find later.
    const deletedSince = calls.some(
      (d) =>
        d.seq > c.seq &&
        (d.outcome === 'ok' || d.outcome === 'SimulatedCrash') &&
        d.command.startsWith('Delete') &&
        JSON.stringify(d.input).includes(v ?? '\0'),
    );
    if (v && !deletedSince && !state.includes(v))
      lost.push(`${c.region} ${c.command} returned ${v}, not in the state`);
  }
  return lost;
}

/** The mutating calls of a run as "region Command", in order. */
export const mutatingOf = (h: Harness): string[] =>
  h.cloud.mutatingCalls.map((c) => `${c.region} ${c.command}`);

export interface CrashLoop {
  /** What exists before the crashed command (e.g. `up` of the prior steps); run on each fresh harness. */
  prepare?: (h: Harness) => Promise<void>;
  /** The command a crash is injected into (run with --json), and its step set. */
  args: string[];
  deps?: Partial<CliDeps>;
  /** Assertions on the clean run's mutating calls ("region Command") and its harness, before any crash. */
  clean?: (mutating: string[], clean: Harness) => void;
  /** The exit code of a crashed run (default: anything but 0). */
  crashedCode?: number;
  /** Between the crash and the re-run (e.g. let the clock pass a token window). */
  afterCrash?: (h: Harness, where: string) => void | Promise<void>;
  /** The run after the crash; default `up` with `deps`, which must exit 0. */
  rerun?: (h: Harness) => Promise<unknown>;
  /** The test's own assertions once the re-run is done; `where` names the injection point. */
  check?: (h: Harness, where: string, n: number) => void | Promise<void>;
}

/**
 * The crash-then-converge loop: a clean run of `args` counts its mutating calls; then, for each N,
 * a fresh harness runs `args` with a crash right after the Nth (AWS did it, drctl never heard),
 * asserts it failed and that every id an earlier create returned is already in the state file,
 * re-runs, and hands over to `check`. Returns the clean run's mutating calls ("region Command").
 */
export async function crashEachMutatingCall(o: CrashLoop): Promise<string[]> {
  const deps = o.deps ?? {};
  const clean = new Harness();
  let mutating: string[];
  try {
    await o.prepare?.(clean);
    clean.cloud.resetCalls();
    await clean.ok(o.args, deps);
    mutating = mutatingOf(clean);
    expect(mutating.length, `no mutating call in ${o.args.join(' ')}`).toBeGreaterThan(0);
    o.clean?.(mutating, clean);
  } finally {
    clean.cleanup();
  }
  for (let n = 1; n <= mutating.length; n++) {
    const h = new Harness();
    try {
      await o.prepare?.(h);
      const where = `crash after #${n} ${mutating[n - 1]}`;
      const crashed = await crashAt(h, n, o.args, deps);
      if (o.crashedCode !== undefined) expect(crashed.code, where).toBe(o.crashedCode);
      else expect(crashed.code, where).not.toBe(0);
      await o.afterCrash?.(h, where);
      if (o.rerun) await o.rerun(h);
      else await h.ok(['up'], deps);
      await o.check?.(h, where, n);
    } finally {
      h.cleanup();
    }
  }
  return mutating;
}

/**
 * Run `args` (with --json) with a crash right after the Nth mutating call from now; checks it did
 * crash and lost no record, and revives the cloud for the next drctl.
 */
export async function crashAt(
  h: Harness,
  n: number,
  args: string[],
  deps: Partial<CliDeps> = {},
): Promise<RunOutput> {
  h.cloud.revive();
  const from = h.cloud.calls.length;
  h.cloud.faults = { crashAfterMutating: n };
  const r = await h.run(['--json', ...args], deps);
  expect(h.cloud.crashed, `no crash at mutating call ${n} of ${args.join(' ')}`).toBe(true);
  expect(
    unrecordedIds(h, h.cloud.calls.slice(from)),
    `records lost by a crash after mutating call ${n}`,
  ).toEqual([]);
  h.cloud.revive();
  return r;
}

/** `args` again makes no mutating call (a finished deployment re-run is read-only). */
export async function expectReadOnlyRerun(
  h: Harness,
  args: string[] = ['up'],
  deps: Partial<CliDeps> = {},
  what = 'a re-run',
): Promise<RunOutput> {
  h.cloud.resetCalls();
  const r = await h.ok(args, deps);
  expect(mutatingOf(h), `${what} of ${args.join(' ')} is read-only`).toEqual([]);
  return r;
}
