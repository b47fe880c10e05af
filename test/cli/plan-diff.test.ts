import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BuiltCli } from '../support/built-cli.js';
import { Harness } from '../support/harness.js';

// `plan` after a config change says what `up` would do, per step and region, like `terraform plan`:
// `up` runs on the fake cloud (in process), then the built CLI's `plan` reads the state it left.

let h: Harness;
afterEach(() => h?.cleanup());
beforeAll(() => assertBuilt());

async function afterUp(): Promise<BuiltCli> {
  h = new Harness();
  await h.ok(['up']);
  return new BuiltCli(h.dir);
}

function plan(cli: BuiltCli, args: string[] = []) {
  const before = cli.listing();
  const r = cli.run([...args, 'plan']);
  expect(r.code, r.stderr).toBe(0);
  expect(cli.listing(), 'plan changed nothing on disk').toEqual(before);
  return r;
}

describe('plan shows what up would change', () => {
  it('nothing changed since up: no change anywhere', async () => {
    const r = plan(await afterUp());
    expect(r.stdout).toMatch(/^ 7\. nlb +sa-east-1: no change, us-west-1: no change$/m);
    expect(r.stdout).toMatch(/^config: unchanged since the last complete up \(/m);
    expect(r.stdout).toMatch(/^plan: no changes$/m);
  });

  it('tlsPolicy: the NLB listeners are updated in place, nothing else', async () => {
    const cli = await afterUp();
    h.writeConfig({ tlsPolicy: 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06' });
    const r = plan(cli);
    expect(r.stdout).toContain(
      'tlsPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" -> "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"',
    );
    expect(r.stdout).toMatch(
      /^ 7\. nlb +sa-east-1: update in place \(tlsPolicy\), us-west-1: update in place \(tlsPolicy\)$/m,
    );
    expect(r.stdout).toMatch(/^ 2\. vpc +sa-east-1: no change, us-west-1: no change$/m);
    expect(r.stdout).toMatch(/^plan: 0 to create, 2 to update in place, 0 to replace, 0 to delete$/m);
  });

  it('natGateway: the VPC stacks are updated in place (the NAT gateway added), so up asks first', async () => {
    const cli = await afterUp();
    h.writeConfig({ natGateway: true });
    const r = plan(cli);
    expect(r.stdout).toContain('natGateway: false -> true');
    expect(r.stdout).toMatch(
      /^ 2\. vpc +sa-east-1: update in place \(natGateway\), us-west-1: update in place \(natGateway\)$/m,
    );
    expect(r.stdout).toMatch(/^plan: 0 to create, 2 to update in place, 0 to replace, 0 to delete$/m);
  });

  it('domainMode regional -> private: up refuses it in place (the endpoints served the public domain), so down, then up', async () => {
    const cli = await afterUp();
    h.writeConfig({ domainMode: 'private' });
    const r = plan(cli);
    expect(r.stdout).toMatch(
      /^ 6\. domain +sa-east-1: replace: down, then up \(domainMode\), us-west-1: replace: down, then up \(domainMode\)$/m,
    );
  });

  it('host: what up cannot replace itself says down, then up', async () => {
    const cli = await afterUp();
    h.writeConfig({ host: 'www' });
    const r = plan(cli);
    expect(r.stdout).toMatch(/^ 6\. domain +sa-east-1: replace: down, then up \(host\)/m);
    expect(r.stdout).toMatch(/^13\. probe +global: update in place \(host\)$/m);
    expect(r.stdout).toMatch(/that up cannot replace itself: `drctl down`, then `drctl up`/);
  });

  it("a region's CIDR: that VPC is rebuilt, the peer's updated", async () => {
    const cli = await afterUp();
    h.writeConfig({ secondary: { vpcCidr: '172.17.0.0/16' } });
    const r = plan(cli);
    expect(r.stdout).toMatch(
      /^ 2\. vpc +sa-east-1: update in place \(secondary\.vpcCidr\), us-west-1: replace: down, then up \(secondary\.vpcCidr\)$/m,
    );
  });

  it('canary.secondary on: the secondary canary is created, the health check updated', async () => {
    const cli = await afterUp();
    h.writeConfig({ canary: { secondary: true } });
    const r = plan(cli);
    expect(r.stdout).toMatch(/^10\. canary +sa-east-1: no change, us-west-1: create \(canary\.secondary\)$/m);
    expect(r.stdout).toMatch(/^11\. health-check +global: update in place \(canary\.secondary\)$/m);
  });

  it("canary.datapointsToAlarm: the alarms are updated; Route 53's copy has no M, so the health check is not, and up leaves it alone", async () => {
    const cli = await afterUp();
    h.writeConfig({ canary: { datapointsToAlarm: 3 } });
    const r = plan(cli);
    expect(r.stdout).toMatch(
      /^10\. canary +sa-east-1: update in place \(canary\.datapointsToAlarm\), us-west-1: update in place/m,
    );
    expect(r.stdout).toMatch(/^11\. health-check +global: no change$/m);
    h.cloud.resetCalls();
    await h.ok(['up']);
    const changed = h.cloud.mutatingCalls.map((c) => c.command);
    expect(changed).toContain('PutMetricAlarm');
    expect(changed).not.toContain('UpdateHealthCheck');
  });

  it('--json carries the changes, the counts and each action', async () => {
    const cli = await afterUp();
    h.writeConfig({ tlsPolicy: 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06' });
    const r = plan(cli, ['--json']);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary.changes).toEqual([
      {
        field: 'tlsPolicy',
        from: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
        to: 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
      },
    ]);
    expect(summary.counts).toMatchObject({ create: 0, update: 2, replace: 0, rebuild: 0, delete: 0 });
    const nlb = summary.steps.find((s: { step: string }) => s.step === 'nlb');
    expect(nlb.actions['sa-east-1']).toEqual({ action: 'update', fields: ['tlsPolicy'] });
  });
});

describe('up shows the same before it starts, and does what plan said', () => {
  it('tlsPolicy: up prints the change first, updates the listeners, and plan then shows no change', async () => {
    const cli = await afterUp();
    h.writeConfig({ tlsPolicy: 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06' });
    h.cloud.resetCalls();
    const r = await h.run(['up']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n');
    const preview = lines.findIndex((l) => l.includes('config changed since the last complete up'));
    const firstStep = lines.findIndex((l) => l.startsWith('> '));
    expect(preview).toBeGreaterThanOrEqual(0);
    expect(preview).toBeLessThan(firstStep === -1 ? Infinity : firstStep);
    expect(r.stderr).toContain('nlb sa-east-1: update in place (tlsPolicy)');
    expect(h.cloud.mutatingCalls.map((c) => c.command)).toEqual(['ModifyListener', 'ModifyListener']);
    expect(plan(cli).stdout).toMatch(/^plan: no changes$/m);
  });
});
