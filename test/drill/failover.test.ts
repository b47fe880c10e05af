import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetHealthCheckCommand, Route53Client } from '@aws-sdk/client-route-53';
import { afterEach, describe, expect, it } from 'vitest';
import { failoverBound } from '../../src/drill/bound.js';
import { defaultConfig } from '../../src/config/config.js';
import {
  FakeCloudWatch,
  FakeEc2,
  FakeLambda,
  FakeRoute53Health,
  FakeSynthetics,
} from '../support/fake-cloud/index.js';
import type { StepName } from '../../src/steps/types.js';
import { Harness, type RunOutput } from '../support/harness.js';

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';
const MODES = ['invert', 'outage'] as const;

let h: Harness;
afterEach(() => h?.cleanup());

interface TimelineEntry {
  event: 'fault' | 'alarm' | 'health-check' | 'dns' | 'served';
  at: string | null;
  seconds: number | null;
  note?: string;
}
interface Summary {
  ok: boolean;
  exitCode: number;
  mode: string;
  recoverySeconds: number | null;
  failbackSeconds: number | null;
  boundSeconds: number;
  timeoutSeconds: number;
  failover: TimelineEntry[];
  failback: TimelineEntry[];
  problems: string[];
  changes: unknown[];
  wouldChange?: string[];
}

const summaryOf = (r: RunOutput) => r.summary as unknown as Summary;
const rec = <N extends StepName>(step: N, scope: string) => h.outputs(step, scope);
const drillRecord = () => h.state()!.steps.probe!.global!.resources.drill;
const at = (list: TimelineEntry[], event: TimelineEntry['event']) => {
  const e = list.find((x) => x.event === event)!;
  return e.at === null ? undefined : Date.parse(e.at);
};

async function upAll(config?: Record<string, unknown>): Promise<void> {
  h = new Harness();
  if (config) h.writeConfig(config);
  await h.ok(['up']);
  // A few minutes later, as people drill: the canary's alarm has its first data by then.
  h.cloud.clock.advance(5 * 60_000);
}

async function inverted(): Promise<boolean> {
  const id = rec('health-check', 'global').primaryHealthCheckId;
  const r = await new Route53Client({ region: 'us-east-1' }).send(
    new GetHealthCheckCommand({ HealthCheckId: id }),
  );
  return !!r.HealthCheck!.HealthCheckConfig!.Inverted;
}

async function endpointIngress(): Promise<string[]> {
  const sg = rec('vpc', PRIMARY).endpointSecurityGroupId;
  const r = await new EC2Client({ region: PRIMARY }).send(
    new DescribeSecurityGroupsCommand({ GroupIds: [sg] }),
  );
  return r
    .SecurityGroups![0]!.IpPermissions!.flatMap((p) =>
      p.IpRanges!.map((x) => `${p.IpProtocol}:${p.FromPort}-${p.ToPort}:${x.CidrIp}`),
    )
    .sort();
}

/** Everything the drill may touch is as `up` left it. */
async function expectRestored(ingressBefore: string[]): Promise<void> {
  expect(await inverted()).toBe(false);
  expect(await endpointIngress()).toEqual(ingressBefore);
  expect(drillRecord()).toBeUndefined();
}

function expectOrdered(s: Summary, mode: (typeof MODES)[number]): void {
  const f = (e: TimelineEntry['event']) => at(s.failover, e);
  const b = (e: TimelineEntry['event']) => at(s.failback, e);
  // Complete: every mark of the mode has a time; the alarm does not move in invert mode.
  for (const e of ['fault', 'health-check', 'dns', 'served'] as const) {
    expect(f(e), `failover ${e}`).toBeDefined();
    expect(b(e), `fail-back ${e}`).toBeDefined();
  }
  if (mode === 'outage') {
    expect(f('alarm')).toBeDefined();
    expect(b('alarm')).toBeDefined();
  } else {
    expect(s.failover.find((x) => x.event === 'alarm')!.note).toMatch(/n\/a/);
  }
  // Ordered: nothing before the fault; a client is served once DNS points at the region; the
  // restore comes after the failover and everything of the fail-back after the restore.
  for (const e of ['alarm', 'health-check', 'dns', 'served'] as const) {
    if (f(e) !== undefined) expect(f(e)!).toBeGreaterThanOrEqual(f('fault')!);
    if (b(e) !== undefined) expect(b(e)!).toBeGreaterThanOrEqual(b('fault')!);
  }
  expect(f('served')!).toBeGreaterThanOrEqual(f('dns')!);
  expect(b('served')!).toBeGreaterThanOrEqual(b('dns')!);
  expect(b('fault')!).toBeGreaterThanOrEqual(f('served')!);
  expect(s.recoverySeconds).toBe(Math.round((f('served')! - f('fault')!) / 1000));
}

describe.each(MODES)('failover-test --mode %s on the fake cloud', (mode) => {
  it('fails over, measures it from inside the VPC, restores, and exits 0', async () => {
    await upAll();
    const ingress = await endpointIngress();
    const snapshot = h.cloud.snapshot();
    const r = await h.run(['--json', 'failover-test', '--mode', mode]);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r);
    expect(s).toMatchObject({ ok: true, exitCode: 0, mode, problems: [] });
    expectOrdered(s, mode);
    expect(s.recoverySeconds!).toBeLessThanOrEqual(failoverBound(defaultConfig(), mode).seconds);
    expect(s.recoverySeconds!).toBeLessThanOrEqual(300);
    await expectRestored(ingress);
    expect(h.cloud.snapshot()).toEqual(snapshot);
  });

  it('restores on a timeout and exits 3', async () => {
    await upAll();
    const ingress = await endpointIngress();
    const r = await h.run(['--json', 'failover-test', '--mode', mode, '--timeout', '30']);
    expect(r.code).toBe(3);
    const s = summaryOf(r);
    expect(s.ok).toBe(false);
    expect(s.problems.join(' ')).toMatch(/no failover within the timeout of 30 s/);
    expect(at(s.failover, 'served')).toBeUndefined();
    expect(s.failover.find((x) => x.event === 'served')!.note).toMatch(/not seen within 30 s/);
    expect(r.stderr).toMatch(/error: failover-test: no failover/);
    await expectRestored(ingress);
  });

  it('restores when AWS fails mid-drill (the probe function deleted behind drctl) and exits 1', async () => {
    await upAll();
    const ingress = await endpointIngress();
    void h.cloud.clock
      .sleep(20_000)
      .then(() => h.cloud.model(FakeLambda).DeleteFunction(SECONDARY, { FunctionName: 'drctl-probe' }));
    const r = await h.run(['--json', 'failover-test', '--mode', mode]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: failover-test: ResourceNotFoundException: Function not found/);
    expect(r.stderr).toMatch(/What the drill changed is back/);
    expect(r.stderr).not.toMatch(/bug in drctl/);
    await expectRestored(ingress);
    const restores = h.cloud.calls.filter(
      (c) => c.command === 'UpdateHealthCheck' || c.command === 'AuthorizeSecurityGroupIngress',
    );
    expect(restores.at(-1)!.outcome).toBe('ok');
  });

  it('restores on Ctrl-C and exits 130', async () => {
    await upAll();
    const ingress = await endpointIngress();
    const ctrlC = new AbortController();
    void h.cloud.clock.sleep(20_000).then(() => ctrlC.abort());
    const r = await h.run(['--json', 'failover-test', '--mode', mode], { signal: ctrlC.signal });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/failover-test interrupted; what the drill changed is back/);
    await expectRestored(ingress);
  });

  it('a drctl killed right after the fault leaves a record; the next up puts the fault back first', async () => {
    await upAll();
    const ingress = await endpointIngress();
    h.cloud.revive();
    h.cloud.resetCalls();
    // Mutating calls: the two precondition probes, then the fault.
    h.cloud.faults = { crashAfterMutating: 3 };
    const r = await h.run(['--json', 'failover-test', '--mode', mode]);
    expect(r.code).toBe(1);
    const fault = h.cloud.calls.filter((c) => c.mutating)[2]!;
    expect(fault.command).toBe(mode === 'invert' ? 'UpdateHealthCheck' : 'RevokeSecurityGroupIngress');
    expect(drillRecord()).toMatchObject({
      mode,
      changes: [{ kind: mode === 'invert' ? 'health-check-inverted' : 'ingress-revoked' }],
    });
    h.cloud.revive(); // the next drctl process
    if (mode === 'invert') expect(await inverted()).toBe(true);
    else expect(await endpointIngress()).toEqual([]);
    const up = await h.ok(['up']);
    expect(
      up.events.some(
        (e) => e.type === 'log' && /interrupted .* drill/.test((e as { message: string }).message),
      ),
    ).toBe(true);
    await expectRestored(ingress);
  });

  it('credentials that expire right after the fault: one credentials message saying the fault is not back, exit 2; after the login the next run puts it back', async () => {
    await upAll();
    const ingress = await endpointIngress();
    // Where the fault falls among all calls: a clean drill first (it leaves the cloud as it was).
    h.cloud.revive();
    h.cloud.resetCalls();
    await h.ok(['failover-test', '--mode', mode]);
    const faultAt = h.cloud.calls.indexOf(h.cloud.calls.filter((c) => c.mutating)[2]!);
    h.cloud.revive();
    h.cloud.resetCalls();
    h.cloud.faults = { credentialsExpireAfter: faultAt + 1 };
    const r = await h.run(['--json', 'failover-test', '--mode', mode]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.match(/stopped working during `failover-test`/g)).toHaveLength(1);
    expect(r.stderr).toContain('NOT back yet');
    expect(r.stderr).toMatch(/what to do: .*Then run `drctl failover-test` again: it puts back/);
    expect(r.summary).toMatchObject({ ok: false, exitCode: 2, error: { field: 'credentials' } });
    expect(drillRecord()).toMatchObject({ mode });
    h.cloud.revive(); // the login
    if (mode === 'invert') expect(await inverted()).toBe(true);
    else expect(await endpointIngress()).toEqual([]);
    await h.ok(['failover-test', '--mode', mode]);
    await expectRestored(ingress);
  });

  it('a drctl killed mid-drill: the next failover-test restores first, then drills normally', async () => {
    await upAll();
    const ingress = await endpointIngress();
    h.cloud.revive();
    h.cloud.faults = { crashAfterMutating: 5 };
    expect((await h.run(['--json', 'failover-test', '--mode', mode])).code).toBe(1);
    expect(drillRecord()).toBeDefined();
    h.cloud.revive();
    // The primary needs a while to heal after an outage before it passes the preconditions.
    let r = await h.run(['--json', 'failover-test', '--mode', mode]);
    for (let i = 0; r.code === 2 && i < 10; i++) {
      await h.cloud.clock.sleep(60_000);
      r = await h.run(['--json', 'failover-test', '--mode', mode]);
    }
    expect(r.code, r.stderr).toBe(0);
    await expectRestored(ingress);
  });

  it('--dry-run prints the change and the bound and changes nothing', async () => {
    await upAll();
    const snapshot = h.cloud.snapshot();
    h.cloud.resetCalls();
    const r = await h.run(['--json', 'failover-test', '--mode', mode, '--dry-run']);
    expect(r.code).toBe(0);
    expect(h.cloud.mutatingCalls).toEqual([]);
    expect(h.cloud.snapshot()).toEqual(snapshot);
    const s = summaryOf(r);
    expect(s.boundSeconds).toBe(mode === 'invert' ? 150 : 390);
    expect(s.timeoutSeconds).toBe(2 * s.boundSeconds);
    expect(s.wouldChange!.join(' ')).toMatch(
      mode === 'invert' ? /UpdateHealthCheck .* Inverted=true/ : /RevokeSecurityGroupIngress sg-/,
    );
    const people = await h.run(['failover-test', '--mode', mode, '--dry-run']);
    expect(people.stdout).toMatch(/would change, then put back:/);
    expect(people.stdout).toMatch(/nothing was changed/);
  });
});

describe('failover-test: refusals and the bound', () => {
  it('exits 3 when the switch happened but missed rtoTargetSeconds', async () => {
    await upAll({ rtoTargetSeconds: 30 });
    const r = await h.run(['--json', 'failover-test']);
    expect(r.code).toBe(3);
    expect(summaryOf(r).problems.join(' ')).toMatch(/recovery took \d+ s, over the target of 30 s/);
    expect(await inverted()).toBe(false);
  });

  it('refuses to inject when the secondary has no healthy target: exit 2, no change', async () => {
    await upAll();
    const sg = rec('vpc', SECONDARY).endpointSecurityGroupId;
    h.cloud.model(FakeEc2).region(SECONDARY).securityGroups.get(sg)!.ingress.length = 0;
    h.cloud.resetCalls();
    const r = await h.run(['failover-test']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /refusing to inject: the secondary has no healthy target \(unhealthy, unhealthy\)/,
    );
    expect(h.cloud.mutatingCalls).toEqual([]);
  });

  it('an outage drill waits for the primary alarm to be OK first', async () => {
    h = new Harness();
    await h.ok(['up']);
    // The primary has just been failing and is healthy again: Route 53 (30 s behind the data)
    // already says so, the alarm (a minute behind, evaluated each minute) not yet.
    const syn = h.cloud.model(FakeSynthetics);
    syn.setProbeOutcome(PRIMARY, 'fail');
    h.cloud.clock.advance(4 * 60_000);
    syn.clearProbeOutcome(PRIMARY);
    const hcId = rec('health-check', 'global').primaryHealthCheckId;
    const alarmOf = () => h.cloud.model(FakeCloudWatch).alarm(PRIMARY, 'drctl-canary-sa-east-1')!;
    for (let i = 0; i < 60; i++) {
      h.cloud.clock.advance(5_000);
      const healthy = h.cloud.model(FakeRoute53Health).healthOf(hcId).healthy;
      if (healthy && h.cloud.model(FakeCloudWatch).stateOf(alarmOf()).state !== 'OK') break;
    }
    expect(h.cloud.model(FakeRoute53Health).healthOf(hcId).healthy).toBe(true);
    expect(h.cloud.model(FakeCloudWatch).stateOf(alarmOf()).state).toBe('ALARM');
    const r = await h.run(['--json', 'failover-test', '--mode', 'outage']);
    expect(r.code, r.stderr).toBe(0);
    const logs = r.events.filter((e) => e.type === 'log').map((e) => (e as { message: string }).message);
    expect(
      logs.some((m) => /waiting: alarm drctl-canary-sa-east-1 OK: (ALARM|INSUFFICIENT_DATA)/.test(m)),
    ).toBe(true);
    const s = summaryOf(r);
    expect(at(s.failover, 'alarm')!).toBeGreaterThan(at(s.failover, 'fault')!);
  });

  it('refuses before up is complete, and bad flags, with exit 2', async () => {
    h = new Harness();
    const r = await h.run(['failover-test']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs a complete `up`/);
    expect((await h.run(['failover-test', '--mode', 'chaos'])).code).toBe(2);
    expect((await h.run(['failover-test', '--timeout', 'soon'])).code).toBe(2);
    expect(h.cloud.calls).toEqual([]);
  });

  it('plan prints the worst-case failover the configuration allows', async () => {
    h = new Harness();
    const r = await h.run(['plan']);
    expect(r.stdout).toContain(
      "worst-case failover: 390 s (canary period 60 + alarm period x 3 (Route 53's copy of the alarm: 3 failed in a row) 180 + Route 53 reaction (undocumented, slow estimate) 90 + TTL 60)",
    );
    expect(r.stdout).toMatch(/with failover-test --mode invert: 150 s/);
    h.writeConfig({ routing: 'traffic-policy', ttl: 10 });
    expect((await h.run(['plan'])).stdout).toMatch(/worst-case failover: 340 s .* TTL 10\)/);
  });

  it("plan's bound follows canary.evaluationPeriods, not canary.datapointsToAlarm", async () => {
    h = new Harness();
    h.writeConfig({ canary: { evaluationPeriods: 1, datapointsToAlarm: 1 } });
    expect((await h.run(['plan'])).stdout).toMatch(
      /worst-case failover: 270 s .* alarm period x 1 \(Route 53's copy of the alarm: 1 failed in a row\)/,
    );
    // M moves the CloudWatch alarm only: Route 53's copy of it has no DatapointsToAlarm.
    h.writeConfig({ canary: { evaluationPeriods: 5, datapointsToAlarm: 3 } });
    expect((await h.run(['plan'])).stdout).toMatch(/worst-case failover: 510 s .* 5 failed in a row/);
    expect((await h.run(['plan'])).stdout).not.toMatch(/3 of 5/);
    h.writeConfig({ canary: { evaluationPeriods: 5, datapointsToAlarm: 1 } });
    expect((await h.run(['plan'])).stdout).toMatch(/worst-case failover: 510 s/);
  });

  it('the outage drill moves the whole chain on its own: canary runs fail, alarm and health check follow', async () => {
    await upAll();
    const r = await h.run(['--json', 'failover-test', '--mode', 'outage']);
    expect(r.code).toBe(0);
    const s = summaryOf(r);
    const canary = h.cloud.model(FakeSynthetics).find(PRIMARY, 'drctl-pri')!;
    const start = at(s.failover, 'fault')!;
    const restored = at(s.failback, 'fault')!;
    const during = canary.runs.filter((x) => x.at > start && x.at <= restored);
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((x) => x.outcome === 'fail')).toBe(true);
    expect(canary.runs.filter((x) => x.at > restored + 60_000).every((x) => x.outcome === 'pass')).toBe(true);
    expect(at(s.failover, 'alarm')!).toBeGreaterThan(start);
  });

  it.each(['ignored', 'honoured'] as const)(
    "the health check goes unhealthy within the bound's canary, alarm and Route 53 parts (Route 53 applying DatapointsToAlarm: %s)",
    async (applied) => {
      await upAll();
      h.cloud.model(FakeRoute53Health).datapointsToAlarm = applied;
      const r = await h.run(['--json', 'failover-test', '--mode', 'outage']);
      expect(r.code, r.stderr).toBe(0);
      const s = summaryOf(r);
      const bound = failoverBound(defaultConfig(), 'outage');
      const beforeTtl = bound.parts.filter((p) => p.what !== 'TTL').reduce((a, p) => a + p.seconds, 0);
      const unhealthy = (at(s.failover, 'health-check')! - at(s.failover, 'fault')!) / 1000;
      expect(unhealthy).toBeLessThanOrEqual(beforeTtl);
      // Route 53's copy needs N (3) failed runs: never sooner than the third run after the fault.
      if (applied === 'ignored') expect(unhealthy).toBeGreaterThan(2 * 60);
    },
  );
});

describe('end to end', () => {
  it('up, failover-test in both modes, down: an empty cloud', async () => {
    await upAll();
    for (const mode of MODES) {
      const r = await h.run(['--json', 'failover-test', '--mode', mode]);
      expect(r.code, r.stderr).toBe(0);
    }
    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()!.steps).toEqual({});
  });
});

describe.each(MODES)('failover-test --mode %s with domainMode private (no NLB) on the fake cloud', (mode) => {
  it('fails over from endpoint to endpoint over the peering, restores, and exits 0', async () => {
    await upAll({ domainMode: 'private' });
    expect(h.cloud.snapshot().filter((l) => l.startsWith('elbv2/'))).toEqual([]);
    const ingress = await endpointIngress();
    const snapshot = h.cloud.snapshot();
    h.cloud.resetCalls(); // up's own Invokes (it waits for the name to answer) are not the drill's
    const r = await h.run(['--json', 'failover-test', '--mode', mode]);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r);
    expect(s).toMatchObject({ ok: true, exitCode: 0, mode, problems: [] });
    expectOrdered(s, mode);
    expect(s.recoverySeconds!).toBeLessThanOrEqual(failoverBound(defaultConfig(), mode).seconds);
    await expectRestored(ingress);
    expect(h.cloud.snapshot()).toEqual(snapshot);
    // The secondary was checked at its endpoint's own DNS name, not at an NLB.
    const vias = h.cloud.calls
      .filter((c) => c.command === 'Invoke')
      .map((c) => JSON.parse(new TextDecoder().decode((c.input as { Payload: Uint8Array }).Payload)).via)
      .filter(Boolean);
    expect(vias).toEqual([rec('domain', SECONDARY).endpointDnsName]);
  });
});

describe('failover-test --mode invert when AWS applies an UpdateHealthCheck and answers 500', () => {
  it('the inject and the restore are each sent once, read back, and the drill ends restored with exit 0', async () => {
    await upAll();
    const ingress = await endpointIngress();
    const snapshot = h.cloud.snapshot();
    h.cloud.revive();
    h.cloud.resetCalls();
    // Where the two UpdateHealthCheck calls fall among a clean drill's mutating calls.
    const clean = await h.run(['--json', 'failover-test', '--mode', 'invert']);
    expect(clean.code, clean.stderr).toBe(0);
    const updates = h.cloud.mutatingCalls
      .map((c, i) => [c.command, i + 1] as const)
      .filter(([c]) => c === 'UpdateHealthCheck')
      .map(([, n]) => n);
    expect(updates).toHaveLength(2);
    for (const n of updates) {
      h.cloud.clock.advance(5 * 60_000);
      h.cloud.revive();
      h.cloud.resetCalls();
      h.cloud.faults = { failAfterApplyingMutating: n };
      const r = await h.run(['--json', 'failover-test', '--mode', 'invert']);
      expect(r.code, `500 after call #${n}: ${r.stderr}`).toBe(0);
      const sent = h.cloud.calls.filter((c) => c.command === 'UpdateHealthCheck').map((c) => c.outcome);
      expect(sent.filter((o) => o !== 'ok')).toEqual(['InternalFailure']);
      expect(sent).toHaveLength(2);
      expect(summaryOf(r)).toMatchObject({ ok: true, problems: [] });
      await expectRestored(ingress);
      expect(h.cloud.snapshot()).toEqual(snapshot);
    }
  });
});

describe('failover-test when the probe function cannot run (issue 23: advice that leads somewhere)', () => {
  it('says the invocation failed, with its error and what to check, not "run drctl step probe"', async () => {
    await upAll();
    // The code is current (its hash is drctl's, `step probe` would find it in place) but it crashes.
    for (const f of h.cloud.model(FakeLambda).functions.values()) f.files = {};
    const before = h.cloud.mutatingCalls.length;
    const r = await h.run(['--json', 'failover-test', '--mode', 'invert']);
    expect(r.code).toBe(1);
    const err = r.stderr.replace(/\s+/g, ' ');
    expect(err).toMatch(
      /the probe function drctl-probe in us-west-1 could not run \(Lambda FunctionError Unhandled\)/,
    );
    expect(err).toMatch(/NotModelled: the fake cloud runs only the drctl probe/);
    expect(err).toMatch(/The invocation failed, not the network path/);
    expect(err).toMatch(/aws logs tail \/aws\/lambda\/drctl-probe --region us-west-1/);
    expect(err).not.toMatch(/drctl step probe/);
    // The preconditions stop it before any fault: nothing was changed (an Invoke counts as mutating).
    expect(h.cloud.mutatingCalls.slice(before).filter((c) => c.command !== 'Invoke')).toEqual([]);
  });
});
