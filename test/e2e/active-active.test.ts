import '../support/fast-tmp.js';
import { rmSync, writeFileSync } from 'node:fs';
import { GetHealthCheckCommand, Route53Client, UpdateHealthCheckCommand } from '@aws-sdk/client-route-53';
import type { StepName } from '../../src/steps/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeNetwork, FakeRoute53, FakeSynthetics } from '../support/fake-cloud/index.js';
import type { RecordSet } from '../support/fake-cloud/route53.js';
import { expectReadOnlyRerun } from '../support/crash.js';
import { Harness } from '../support/harness.js';

// topology "active-active": both regions serve. A canary, alarm and health check in each region;
// <host>.<domain> is two latency alias records, one per region with that region's health check.
// Switching topology with `up` replaces one record pair with the other in one change batch.

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';
const NAME = 'api.octank.com';
const AA = { topology: 'active-active' };

let h: Harness;
afterEach(() => h?.cleanup());

const rec = <N extends StepName>(step: N, scope: string) => h.outputs(step, scope);
const r53 = () => new Route53Client({ region: 'us-east-1' });
const zoneId = () => rec('hosted-zone', 'global').hostedZoneId;
const apiRecords = (records: RecordSet[]) => records.filter((r) => r.Name === `${NAME}.` && r.Type === 'A');
const records = () => apiRecords(h.cloud.model(FakeRoute53).recordsOf(zoneId()));
/** Which region's entry the resolver of `vpcRegion`'s VPC answers now. */
const answeredIn = (vpcRegion: string) => {
  const a = h.cloud.model(FakeNetwork).resolve(vpcRegion, rec('vpc', vpcRegion).vpcId, NAME);
  return a.addresses[0]!.startsWith('10.0.') ? PRIMARY : SECONDARY;
};
const invert = async (id: string, inverted: boolean) => {
  const hc = (await r53().send(new GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck!;
  await r53().send(
    new UpdateHealthCheckCommand({
      HealthCheckId: id,
      HealthCheckVersion: hc.HealthCheckVersion,
      Inverted: inverted,
    }),
  );
  // Past the resolver's cache (the ELB alias's 60 s).
  h.cloud.clock.advance(61_000);
};
const checks = () => h.cloud.snapshot().filter((x) => x.startsWith('route53/global/health-check/'));
/** Beside the canary checks: per region a hold check and the calculated check its record uses. */
const HOLD_CHECKS = 4;
const canaries = () => h.cloud.snapshot().filter((x) => x.startsWith('synthetics/'));

function expectLatencyPair(): void {
  const hc = rec('health-check', 'global');
  expect(
    records().map((r) => ({
      set: r.SetIdentifier,
      region: r.Region,
      failover: r.Failover,
      hc: r.HealthCheckId,
      alias: r.AliasTarget?.DNSName.replace(/\.$/, ''),
      evaluate: r.AliasTarget?.EvaluateTargetHealth,
    })),
  ).toEqual(
    [
      // Each latency record routes on its region's calculated check (canary and traffic hold).
      [PRIMARY, hc.recordHealthCheckIds![PRIMARY]],
      [SECONDARY, hc.recordHealthCheckIds![SECONDARY]],
    ].map(([region, id]) => ({
      set: `drctl-${region}`,
      region,
      failover: undefined,
      hc: id,
      alias: rec('nlb', region!).dnsName,
      evaluate: true,
    })),
  );
}

/** Every version of the zone since the name first had records: it has records in each, of one policy. */
function expectNameAlwaysAnswered(): Array<{ command: string; sets: string[] }> {
  const history = h.cloud.model(FakeRoute53).recordHistory(zoneId());
  const first = history.findIndex((v) => apiRecords(v.records).length > 0);
  expect(first).toBeGreaterThan(0);
  const versions = history.slice(first).map((v) => ({
    command: v.command,
    sets: apiRecords(v.records).map((r) => r.SetIdentifier!),
  }));
  for (const [i, v] of versions.entries()) {
    expect(v.sets.length, `version ${first + i} (${v.command}) has no record for ${NAME}`).toBeGreaterThan(0);
  }
  return versions;
}

describe('topology active-active', () => {
  it('up makes a canary, alarm and health check in each region and two latency records; each VPC is answered by its own region, by the other when its own is unhealthy, and down leaves nothing', async () => {
    h = new Harness();
    h.writeConfig(AA);
    await h.ok(['up']);

    const hc = rec('health-check', 'global');
    expect(checks()).toHaveLength(2 + HOLD_CHECKS);
    for (const [region, name] of [
      [PRIMARY, 'drctl-pri'],
      [SECONDARY, 'drctl-sec'],
    ] as const) {
      const c = h.cloud.model(FakeSynthetics).find(region, name);
      expect(c?.state, `canary in ${region}`).toBe('RUNNING');
      // Each canary probes its own region's API through its own NLB.
      expect(rec('canary', region).probeVia).toBe(rec('nlb', region).dnsName);
      const check = (
        await r53().send(
          new GetHealthCheckCommand({
            HealthCheckId: region === PRIMARY ? hc.primaryHealthCheckId : hc.secondaryHealthCheckId,
          }),
        )
      ).HealthCheck!;
      expect(check.HealthCheckConfig).toMatchObject({
        Type: 'CLOUDWATCH_METRIC',
        AlarmIdentifier: { Name: `drctl-canary-${region}`, Region: region },
        InsufficientDataHealthStatus: 'Unhealthy',
      });
    }
    expectLatencyPair();
    expect(rec('traffic-policy', 'global').setIdentifiers).toEqual([
      `drctl-${PRIMARY}`,
      `drctl-${SECONDARY}`,
    ]);

    h.cloud.clock.advance(5 * 60_000); // the alarms settle
    expect(answeredIn(PRIMARY)).toBe(PRIMARY);
    expect(answeredIn(SECONDARY)).toBe(SECONDARY);
    await invert(hc.secondaryHealthCheckId!, true);
    expect(answeredIn(SECONDARY)).toBe(PRIMARY);
    expect(answeredIn(PRIMARY)).toBe(PRIMARY);
    // Both unhealthy: Route 53 answers as if both were healthy (each VPC its nearest).
    await invert(hc.primaryHealthCheckId, true);
    expect(answeredIn(PRIMARY)).toBe(PRIMARY);
    expect(answeredIn(SECONDARY)).toBe(SECONDARY);
    await invert(hc.secondaryHealthCheckId!, false);
    expect(answeredIn(PRIMARY)).toBe(SECONDARY);
    await invert(hc.primaryHealthCheckId, false);

    // A second up changes nothing.
    await expectReadOnlyRerun(h, ['up']);

    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it("with domainMode private the latency records alias each region's execute-api endpoint", async () => {
    h = new Harness();
    h.writeConfig({ ...AA, domainMode: 'private' });
    await h.ok(['up']);
    expect(
      records().map((r) => [
        r.Region,
        r.AliasTarget?.DNSName.replace(/\.$/, ''),
        r.AliasTarget?.EvaluateTargetHealth,
      ]),
    ).toEqual([
      [PRIMARY, rec('domain', PRIMARY).endpointDnsName, false],
      [SECONDARY, rec('domain', SECONDARY).endpointDnsName, false],
    ]);
    h.cloud.clock.advance(5 * 60_000);
    expect(answeredIn(PRIMARY)).toBe(PRIMARY);
    expect(answeredIn(SECONDARY)).toBe(SECONDARY);
    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('switching active-passive -> active-active -> active-passive with up: plan shows it, the name has records at every version, each switch is one change batch', async () => {
    h = new Harness();
    await h.ok(['up']);
    expect(checks()).toHaveLength(1 + HOLD_CHECKS);
    expect(canaries()).toHaveLength(1);
    const before = h.cloud.model(FakeRoute53).recordHistory(zoneId()).length;

    h.writeConfig(AA);
    const plan = await h.run(['plan']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('topology: "active-passive" -> "active-active"');
    expect(plan.stdout).toMatch(/canary +sa-east-1: no change, us-west-1: create \(topology\)/);
    expect(plan.stdout).toMatch(/health-check +global: update in place \(topology\)/);
    expect(plan.stdout).toMatch(/traffic-policy +global: replace \(topology\)/);
    await h.ok(['up']);
    expect(checks()).toHaveLength(2 + HOLD_CHECKS);
    expect(canaries()).toHaveLength(2);
    expectLatencyPair();
    let history = h.cloud.model(FakeRoute53).recordHistory(zoneId());
    expect(
      history.slice(before).map((v) => [v.command, apiRecords(v.records).map((r) => r.SetIdentifier)]),
    ).toEqual([['ChangeResourceRecordSets', [`drctl-${PRIMARY}`, `drctl-${SECONDARY}`]]]);

    h.writeConfig({});
    const back = await h.run(['plan']);
    expect(back.stdout).toMatch(/canary +sa-east-1: no change, us-west-1: delete \(topology\)/);
    const mid = history.length;
    await h.ok(['up']);
    expect(checks()).toHaveLength(1 + HOLD_CHECKS);
    expect(canaries()).toHaveLength(1);
    expect(rec('health-check', 'global').secondaryHealthCheckId).toBeUndefined();
    expect(rec('canary', SECONDARY).enabled).toBe(false);
    history = h.cloud.model(FakeRoute53).recordHistory(zoneId());
    expect(
      history.slice(mid).map((v) => [v.command, apiRecords(v.records).map((r) => r.SetIdentifier)]),
    ).toEqual([['ChangeResourceRecordSets', ['drctl-primary', 'drctl-secondary']]]);
    expect(records().map((r) => [r.SetIdentifier, r.Failover, r.Region])).toEqual([
      ['drctl-primary', 'PRIMARY', undefined],
      ['drctl-secondary', 'SECONDARY', undefined],
    ]);
    const versions = expectNameAlwaysAnswered();
    expect(versions.map((v) => v.sets.join(','))).toEqual([
      'drctl-primary,drctl-secondary',
      `drctl-${PRIMARY},drctl-${SECONDARY}`,
      'drctl-primary,drctl-secondary',
    ]);

    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('a state written before topology existed shows no change for it (the recorded config gets its defaults)', async () => {
    h = new Harness();
    await h.ok(['up']);
    const state = h.state()!;
    delete state.applied!.config.topology;
    writeFileSync(h.statePath, JSON.stringify(state));
    const r = await h.run(['plan']);
    expect(r.stdout).toMatch(/config: unchanged since the last complete up/);
    const v = await h.run(['--json', 'verify']);
    const config = (v.summary as { checks: Array<{ check: string; status: string }> }).checks.find(
      (l) => l.check === 'config',
    );
    expect(config?.status).toBe('ok');
  });

  it('down after a switch to active-active leaves nothing', async () => {
    h = new Harness();
    await h.ok(['up']);
    h.writeConfig(AA);
    await h.ok(['up']);
    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()?.steps ?? {}).toEqual({});
  });

  it("verify checks both regions' health checks, alarms and latency records, and fails the one inverted", async () => {
    h = new Harness();
    h.writeConfig(AA);
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000);
    const r = await h.run(['--json', 'verify']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const lines = (
      r.summary as { checks: Array<{ check: string; region?: string; status: string; text: string }> }
    ).checks;
    expect(lines.filter((l) => l.status !== 'ok')).toEqual([]);
    const of = (check: string) => lines.filter((l) => l.check === check).map((l) => [l.region, l.text]);
    expect(of('health-check').map(([region]) => region)).toEqual([PRIMARY, SECONDARY]);
    expect(of('alarm').map(([region]) => region)).toEqual([PRIMARY, SECONDARY]);
    expect(of('targets').map(([region]) => region)).toEqual([PRIMARY, SECONDARY]);
    expect(of('dns')).toEqual([
      [
        PRIMARY,
        expect.stringMatching(/^latency sa-east-1 api\.octank\.com -> sa-east-1 NLB with health check /),
      ],
      [
        SECONDARY,
        expect.stringMatching(/^latency us-west-1 api\.octank\.com -> us-west-1 NLB with health check /),
      ],
    ]);
    await invert(rec('health-check', 'global').secondaryHealthCheckId!, true);
    const bad = await h.run(['--json', 'verify']);
    expect(bad.code).not.toBe(0);
    const failed = (
      bad.summary as { checks: Array<{ check: string; region?: string; status: string }> }
    ).checks
      .filter((l) => l.status === 'fail')
      .map((l) => `${l.check} ${l.region}`);
    expect(failed).toContain(`health-check ${SECONDARY}`);
    expect(failed).not.toContain(`health-check ${PRIMARY}`);
  });

  it('with the state file lost, down --discover lists the latency records and --yes deletes them with the rest', async () => {
    h = new Harness();
    h.writeConfig(AA);
    await h.ok(['up']);
    rmSync(h.statePath);
    const r = await h.run(['down', '--discover']);
    expect(r.code, r.stderr).toBe(0);
    for (const region of [PRIMARY, SECONDARY]) {
      expect(r.stdout).toContain(`hosted-zone global: record ${NAME}. A (drctl-${region})`);
    }
    const gone = await h.run(['down', '--discover', '--yes']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('down with a state that lost the Route 53 records (no zone id, no SetIdentifiers) leaves nothing', async () => {
    h = new Harness();
    h.writeConfig(AA);
    await h.ok(['up']);
    const state = h.state()!;
    delete state.steps['traffic-policy'];
    delete state.steps['hosted-zone'];
    writeFileSync(h.statePath, JSON.stringify(state));
    const r = await h.run(['down', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('refuses topology active-active with routing traffic-policy, naming both fields (exit 2, nothing made)', async () => {
    h = new Harness();
    h.writeConfig({ ...AA, routing: 'traffic-policy' });
    const r = await h.run(['up']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('topology');
    expect(r.stderr).toContain('routing');
    expect(h.cloud.snapshot()).toEqual([]);
    const bad = h.writeConfig({ topology: 'active-standby' });
    const r2 = await h.run(['plan', '--config', bad]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('topology');
  });
});
