import '../support/fast-tmp.js';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetHealthCheckCommand, Route53Client } from '@aws-sdk/client-route-53';
import { afterEach, describe, expect, it } from 'vitest';
import type { StepName } from '../../src/steps/types.js';
import { Harness, type RunOutput } from '../support/harness.js';

// failover-test --region R in active-active: fail region R (invert its health check, or revoke
// its endpoint's 443 ingress), watch from a probe in R's VPC (whose clients must move to the other
// region through the peering, and come back) and from one in the other region's VPC (whose
// clients stay with their own region throughout); record and report both vantage points.

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';
const MODES = ['invert', 'outage'] as const;
const REGIONS = [
  ['primary', PRIMARY, SECONDARY],
  ['secondary', SECONDARY, PRIMARY],
] as const;

let h: Harness;
afterEach(() => h?.cleanup());

interface Mark {
  event: string;
  label: string;
  at: string | null;
  note?: string;
}
interface Summary {
  ok: boolean;
  exitCode: number;
  topology: string;
  failedRegion: string;
  otherRegion: string;
  recoverySeconds: number | null;
  failbackSeconds: number | null;
  failover: Mark[];
  failback: Mark[];
  problems: string[];
  watched: Array<{ region: string; moves: boolean; answers: number; servedBy: Record<string, number> }>;
}
const summaryOf = (r: RunOutput) => r.summary as unknown as Summary;
const rec = <N extends StepName>(step: N, scope: string) => h.outputs(step, scope);

async function upActiveActive(extra: Record<string, unknown> = {}): Promise<void> {
  h = new Harness();
  h.writeConfig({ topology: 'active-active', ...extra });
  await h.ok(['up']);
  h.cloud.clock.advance(5 * 60_000); // both alarms have data by then
}

async function inverted(role: 'primary' | 'secondary'): Promise<boolean> {
  const id = rec('health-check', 'global')[`${role}HealthCheckId`] as string;
  const r = await new Route53Client({ region: 'us-east-1' }).send(
    new GetHealthCheckCommand({ HealthCheckId: id }),
  );
  return !!r.HealthCheck!.HealthCheckConfig!.Inverted;
}
async function ingress(region: string): Promise<string[]> {
  const sg = rec('vpc', region).endpointSecurityGroupId;
  const r = await new EC2Client({ region }).send(new DescribeSecurityGroupsCommand({ GroupIds: [sg] }));
  return r
    .SecurityGroups![0]!.IpPermissions!.flatMap((p) => p.IpRanges!.map((x) => `${p.IpProtocol}:${x.CidrIp}`))
    .sort();
}
const invokedIn = () =>
  [...new Set(h.cloud.calls.filter((c) => c.command === 'Invoke').map((c) => c.region))].sort();

describe('active-active: up makes a probe in each VPC', () => {
  it('the same function in both VPCs (one role); switching back to active-passive removes the primary one; down leaves nothing', async () => {
    await upActiveActive();
    const probes = () => h.cloud.snapshot().filter((x) => /^lambda\/[^/]+\/function\/drctl-probe$/.test(x));
    expect(probes().sort()).toEqual([
      `lambda/${PRIMARY}/function/drctl-probe`,
      `lambda/${SECONDARY}/function/drctl-probe`,
    ]);
    expect(rec('probe', 'global').primaryProbe).toMatchObject({ region: PRIMARY });
    h.writeConfig({});
    await h.ok(['up']);
    expect(probes()).toEqual([`lambda/${SECONDARY}/function/drctl-probe`]);
    expect(rec('probe', 'global').primaryProbe).toBeUndefined();
    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
  });
});

describe.each(MODES)('failover-test --mode %s in active-active', (mode) => {
  it.each(REGIONS)(
    "--region %s: clients in %s's VPC move to %s and come back; the other VPC's stay on their own region; exit 0, all restored",
    async (role, failed, other) => {
      await upActiveActive();
      const before = {
        ingress: [await ingress(PRIMARY), await ingress(SECONDARY)],
        snapshot: h.cloud.snapshot(),
      };
      h.cloud.resetCalls();
      const r = await h.run(['--json', 'failover-test', '--mode', mode, '--region', role]);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const s = summaryOf(r);
      expect(s).toMatchObject({
        ok: true,
        topology: 'active-active',
        failedRegion: failed,
        otherRegion: other,
      });
      expect(s.problems).toEqual([]);
      // Complete marks, each phase after its fault.
      for (const list of [s.failover, s.failback])
        for (const m of list)
          if (m.event !== 'alarm' || mode === 'outage') expect(m.at, m.label).not.toBeNull();
      expect(s.failover.find((m) => m.event === 'served')!.label).toBe(
        `first 200 from ${other} (probe in ${failed})`,
      );
      expect(s.failback.find((m) => m.event === 'served')!.label).toBe(
        `first 200 from ${failed} (probe in ${failed})`,
      );
      expect(s.recoverySeconds).toBeGreaterThan(0);
      expect(s.failbackSeconds).toBeGreaterThan(0);
      // Both vantage points: the failed region's VPC saw both regions serve; the other's only its own.
      const moving = s.watched.find((w) => w.region === failed)!;
      const steady = s.watched.find((w) => w.region === other)!;
      expect(moving.moves).toBe(true);
      expect(Object.keys(moving.servedBy).sort()).toEqual([PRIMARY, SECONDARY]);
      expect(steady.moves).toBe(false);
      expect(Object.keys(steady.servedBy)).toEqual([other]);
      expect(steady.servedBy[other]).toBe(steady.answers);
      expect(invokedIn()).toEqual([PRIMARY, SECONDARY]);
      // The fault was made in the failed region, and put back.
      const changed = h.cloud.mutatingCalls.filter((c) => c.command !== 'Invoke');
      if (mode === 'outage')
        expect(changed.map((c) => `${c.region} ${c.command}`)).toEqual([
          `${failed} RevokeSecurityGroupIngress`,
          `${failed} AuthorizeSecurityGroupIngress`,
        ]);
      else {
        const id = rec('health-check', 'global')[`${role}HealthCheckId`];
        expect(changed.map((c) => [c.command, (c.input as { HealthCheckId: string }).HealthCheckId])).toEqual(
          [
            ['UpdateHealthCheck', id],
            ['UpdateHealthCheck', id],
          ],
        );
      }
      expect(await inverted('primary')).toBe(false);
      expect(await inverted('secondary')).toBe(false);
      expect([await ingress(PRIMARY), await ingress(SECONDARY)]).toEqual(before.ingress);
      expect(h.state()!.steps.probe!.global!.resources.drill).toBeUndefined();
      expect(h.cloud.snapshot()).toEqual(before.snapshot);

      // The drill record kept beside the state shows both vantage points.
      const drills = await h.run(['--json', 'drills']);
      const kept = drills.summary!.drills as Array<{ failedRegion?: string; topology?: string }>;
      expect(kept.at(-1)).toMatchObject({ failedRegion: failed, topology: 'active-active' });
      const report = await h.run(['report', '--format', 'md']);
      expect(report.code, report.stderr).toBe(0);
      expect(report.stdout).toContain(
        `active-active, ${failed} failed, watched from inside ${failed} and ${other}`,
      );
      const html = await h.run(['report']);
      expect(html.code, html.stderr).toBe(0);
      expect(html.stdout).toMatch(/<th[^>]*>probe in<\/th>/);
      expect(html.stdout).toContain(`probe in ${failed}'s VPC: who answered`);
      expect(html.stdout).toContain(`probe in ${other}'s VPC: who answered`);
      expect(html.stdout).toMatch(/<dt>region failed<\/dt><dd>/);
    },
  );
});

describe('failover-test --region, bad or meaningless', () => {
  it('in active-passive, --region secondary is refused (exit 2, naming --region) before any AWS call', async () => {
    h = new Harness();
    await h.ok(['up']);
    h.cloud.resetCalls();
    const r = await h.run(['failover-test', '--region', 'secondary']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--region');
    expect(r.stderr).toMatch(/in active-passive the secondary serves no client while the primary is healthy/);
    expect(h.cloud.calls).toEqual([]);
    const byName = await h.run(['failover-test', '--region', SECONDARY]);
    expect(byName.code).toBe(2);
    const other = await h.run(['failover-test', '--region', 'eu-west-3']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /--region.*must be primary, secondary, sa-east-1 or us-west-1, not "eu-west-3"/s,
    );
    // The primary by role or by name: today's drill.
    const primary = await h.run(['--json', 'failover-test', '--region', PRIMARY, '--dry-run']);
    expect(primary.code, primary.stderr).toBe(0);
  });

  it("in active-active a region name works, and --dry-run names the failed region's change", async () => {
    await upActiveActive();
    h.cloud.resetCalls();
    const r = await h.run([
      '--json',
      'failover-test',
      '--region',
      SECONDARY,
      '--mode',
      'outage',
      '--dry-run',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = r.summary as { wouldChange: string[]; failedRegion: string };
    expect(s.failedRegion).toBe(SECONDARY);
    expect(s.wouldChange.join(' ')).toContain(
      `RevokeSecurityGroupIngress ${rec('vpc', SECONDARY).endpointSecurityGroupId} in ${SECONDARY}`,
    );
    expect(h.cloud.mutatingCalls).toEqual([]);
  });

  it('in active-active the drill refuses when the other region is unhealthy too (it would measure nothing)', async () => {
    await upActiveActive();
    const id = rec('health-check', 'global').secondaryHealthCheckId as string;
    const r53 = new Route53Client({ region: 'us-east-1' });
    const hc = (await r53.send(new GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck!;
    const { UpdateHealthCheckCommand } = await import('@aws-sdk/client-route-53');
    await r53.send(
      new UpdateHealthCheckCommand({
        HealthCheckId: id,
        HealthCheckVersion: hc.HealthCheckVersion,
        Inverted: true,
      }),
    );
    h.cloud.resetCalls();
    const r = await h.run(['failover-test']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to inject: the secondary \(us-west-1\) is not healthy either/);
    expect(h.cloud.mutatingCalls).toEqual([]);
  });
});
