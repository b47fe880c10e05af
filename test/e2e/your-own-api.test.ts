import '../support/fast-tmp.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteRouteCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness, type RunOutput } from '../support/harness.js';
import { removeWayOut, teamNatRoute, teamNetwork } from '../support/team-network.js';

// Issue 25: the team's own API (an OpenAPI file whose health path is not /health), drilled end to
// end: `verify` and `failover-test` call the configured health path through the probe.

const REGIONS = ['sa-east-1', 'us-west-1'] as const;
const SAMPLE = fileURLToPath(new URL('../../examples/orders-api.openapi.json', import.meta.url));
const HEALTH = '/status/live';

let h: Harness;
afterEach(() => h?.cleanup());

interface Line {
  check: string;
  region?: string;
  status: string;
  text: string;
}

/** The sample with its health method moved to HEALTH: a path the PetStore never had. */
function ordersApi(): Record<string, unknown> {
  const doc = JSON.parse(readFileSync(SAMPLE, 'utf8'));
  doc.paths[HEALTH] = doc.paths['/health'];
  delete doc.paths['/health'];
  writeFileSync(join(h.dir, 'orders.json'), JSON.stringify(doc, null, 2));
  const regionValues = Object.fromEntries(
    REGIONS.map((r) => [r, { ordersFunctionArn: `arn:aws:lambda:${r}:111122223333:function:orders` }]),
  );
  return { openapi: 'orders.json', regionValues, healthPath: HEALTH };
}

/** The paths the probe was asked for, from the Invoke calls the fake saw. */
const probedPaths = () =>
  h.cloud.calls
    .filter((c) => c.command === 'Invoke')
    .map((c) => JSON.parse(new TextDecoder().decode((c.input as { Payload: Uint8Array }).Payload)).path);

const checks = (r: RunOutput) => (r.summary as unknown as { checks: Line[] }).checks;

describe('the team’s own API with its own health path', () => {
  it('verify and failover-test call api.healthPath through the probe, and pass', async () => {
    h = new Harness();
    h.writeConfig({ api: ordersApi() });
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000);

    h.cloud.resetCalls();
    const v = await h.run(['--json', 'verify']);
    expect(v.code, v.stderr + v.stdout).toBe(0);
    const probe = checks(v).filter((l) => l.check === 'probe');
    expect(probe.map((l) => l.status)).toEqual(['ok', 'ok']);
    for (const l of probe) expect(l.text).toContain(`https://api.octank.com${HEALTH} through`);
    expect(new Set(probedPaths())).toEqual(new Set([HEALTH]));

    h.cloud.resetCalls();
    const snapshot = h.cloud.snapshot();
    const d = await h.run(['--json', 'failover-test', '--mode', 'invert']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.summary).toMatchObject({ ok: true, problems: [] });
    expect(probedPaths().length).toBeGreaterThan(0);
    expect(new Set(probedPaths())).toEqual(new Set([HEALTH]));
    expect(h.cloud.snapshot()).toEqual(snapshot);
  });
});

describe('the team’s own network, connected by the team (peering "existing")', () => {
  it('up uses it; verify and failover-test prove the path over the team’s peering', async () => {
    h = new Harness();
    const [p, s] = REGIONS;
    const { cidr, vpc, pcx, side } = await teamNetwork(h, REGIONS);
    h.writeConfig({ api: ordersApi(), primary: side(p), secondary: side(s), peering: 'existing' });
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000);
    expect(h.cloud.snapshot().filter((l) => l.includes('vpc-peering'))).toHaveLength(1);
    expect(h.state()!.steps.peering!.global!.resources).toEqual({ ownership: 'used', routes: [] });

    const v = await h.run(['--json', 'verify']);
    expect(v.code, v.stderr + v.stdout).toBe(0);
    const lines = checks(v);
    expect(lines.filter((l) => l.status !== 'ok')).toEqual([]);
    expect(lines.find((l) => l.check === 'peering')!.text).toMatch(/peering "existing"/);
    expect(
      lines
        .filter((l) => l.check === 'probe')
        .map((l) => l.region)
        .sort(),
    ).toEqual([...REGIONS].sort());

    const snapshot = h.cloud.snapshot();
    const d = await h.run(['--json', 'failover-test', '--mode', 'invert']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.summary).toMatchObject({ ok: true, problems: [] });
    expect(h.cloud.snapshot()).toEqual(snapshot);

    // The probe does cross the team's peering: without the route back, the primary is unreachable.
    await h.cloud.authorizer.asAdmin(() =>
      new EC2Client({ region: s }).send(
        new DeleteRouteCommand({ RouteTableId: vpc[s]!.routeTableId, DestinationCidrBlock: cidr[p] }),
      ),
    );
    const broken = await h.run(['--json', 'verify']);
    expect(broken.code).not.toBe(0);
    const failed = checks(broken).filter((l) => l.status === 'fail');
    expect(failed.map((l) => `${l.check} ${l.region}`)).toContain(`probe ${p}`);
    expect(pcx).toMatch(/^pcx-/);
  });

  it('a used VPC without the canary’s way out: up refuses it, naming the subnets, before anything is made', async () => {
    h = new Harness();
    const [p, s] = REGIONS;
    const { vpc, side } = await teamNetwork(h, REGIONS, { [p]: false });
    h.writeConfig({ primary: side(p), secondary: side(s), peering: 'existing' });
    const before = h.cloud.snapshot();
    const r = await h.run(['up']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/primary\.subnetIds/);
    for (const subnet of vpc[p]!.subnets) expect(r.stderr).toContain(subnet);
    expect(r.stderr).toMatch(/NAT/);
    expect(r.stderr).toMatch(/S3 gateway endpoint/);
    expect(r.stderr).toMatch(/monitoring interface endpoint/);
    expect(r.stderr).not.toMatch(/secondary\.subnetIds/);
    expect(h.cloud.snapshot()).toEqual(before);
    expect(h.state()).toBeUndefined();
  });

  it('a used VPC with a NAT route as its way out: up goes ahead', async () => {
    h = new Harness();
    const [p, s] = REGIONS;
    const { vpc, side } = await teamNetwork(h, REGIONS, { [p]: false });
    await teamNatRoute(h, p, vpc[p]!, '10.20.9.0/24');
    h.writeConfig({ primary: side(p), secondary: side(s), peering: 'existing' });
    const r = await h.run(['up']);
    expect(r.stderr).not.toMatch(/subnetIds/);
  });

  it('a used VPC whose way out goes after up: verify names it', async () => {
    h = new Harness();
    const [p, s] = REGIONS;
    const { vpc, side } = await teamNetwork(h, REGIONS);
    h.writeConfig({ primary: side(p), secondary: side(s), peering: 'existing' });
    await h.ok(['up']);
    // The team takes its endpoints away (up refuses a VPC without them; verify is what sees this).
    await removeWayOut(h, p, vpc[p]!);
    h.cloud.clock.advance(5 * 60_000);
    const v = await h.run(['--json', 'verify']);
    expect(v.code).not.toBe(0);
    const alarm = checks(v).find((l) => l.check === 'alarm' && l.region === p)!;
    expect(alarm.status).toBe('fail');
    expect(alarm.text).toMatch(/results do not reach CloudWatch/);
    // The team's VPC: drctl adds nothing to it, so `drctl up` is not the way out; the team's is.
    expect((alarm as Line & { fix?: string }).fix).toContain(`${vpc[p]!.vpcId} is your VPC`);
    expect((alarm as Line & { fix?: string }).fix).toMatch(
      /S3 gateway endpoint .*monitoring interface endpoint .*NAT/s,
    );
  });
});
