import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig, configSchema } from '../../src/config/config.js';
import { CANARY_RUNS_PER_MONTH, HOURS_PER_MONTH, REGIONAL_PRICES, estimateCost } from '../../src/plan/pricing.js';
import { Harness } from '../support/harness.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Modules a module loads at start-up: its static imports (not `await import()`), followed transitively. */
function staticImports(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^import\s+(?!type\s)[^'"]*from\s+'([^']+)'/gm)) {
    const spec = m[1]!;
    if (spec.startsWith('.')) staticImports(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), seen);
    else seen.add(spec);
  }
  return seen;
}

describe('drctl plan: what it costs', () => {
  let h: Harness | undefined;
  afterEach(() => {
    h?.cleanup();
    h = undefined;
  });

  it('prints per resource and in total, per hour and per month, with no credentials and no AWS call', async () => {
    h = new Harness();
    const r = await h.run(['plan'], { aws: {}, env: {} });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cost while it runs \(USD list prices as of \d{4}-\d{2}-\d{2}/);
    expect(r.stdout).toMatch(/ACM Private CA, general-purpose\s+sa-east-1\s+\$0\.5479\s+\$400\.00/);
    expect(r.stdout).toMatch(/ACM Private CA, general-purpose\s+us-west-1\s+\$0\.5479\s+\$400\.00/);
    expect(r.stdout).toMatch(
      /CloudWatch monitoring interface endpoint \(2 AZs\)\s+sa-east-1\s+\$0\.0300\s+\$21\.90/,
    );
    expect(r.stdout).not.toMatch(/NAT gateway \(natGateway/);
    expect(r.stdout).toMatch(/^\s+total\s+\$\d+\.\d{4}\s+\$\d+\.\d{2}$/m);
    expect(r.stdout).toContain('30-day free trial');
    expect(h.cloud.calls).toEqual([]);

    const json = await h.run(['--json', 'plan'], { aws: {}, env: {} });
    const cost = json.summary?.cost as ReturnType<typeof estimateCost>;
    expect(cost.totalMonthlyUsd).toBeGreaterThan(800); // two CAs alone are $800: not "3 USD"
    expect(cost.lines.every((l) => l.monthlyUsd >= 0 && l.hourlyUsd >= 0)).toBe(true);
    expect(h.cloud.calls).toEqual([]);
  });

  it("shows the canary's way out: endpoints in both AZs by default, a NAT gateway only with natGateway: true", () => {
    const base = estimateCost(defaultConfig());
    const nat = estimateCost(configSchema.parse({ natGateway: true }));
    const line = (c: typeof base, re: RegExp) => c.lines.filter((l) => re.test(l.resource));
    expect(line(base, /NAT gateway/)).toEqual([]);
    expect(line(base, /monitoring interface endpoint/).map((l) => [l.where, l.monthlyUsd])).toEqual([
      ['sa-east-1', 21.9],
      ['us-west-1', 16.06],
    ]);
    expect(line(nat, /NAT gateway/).map((l) => [l.where, l.monthlyUsd])).toEqual([
      ['sa-east-1', 67.89],
      ['us-west-1', 35.04],
    ]);
    // The NAT costs its hours and its public address on top of the endpoints, in each region.
    const sa = REGIONAL_PRICES['sa-east-1']!;
    const usw = REGIONAL_PRICES['us-west-1']!;
    expect(nat.totalMonthlyUsd - base.totalMonthlyUsd).toBeCloseTo(
      (sa.natGatewayHour.usd + sa.publicIpv4Hour.usd + usw.natGatewayHour.usd + usw.publicIpv4Hour.usd) *
        HOURS_PER_MONTH,
      2,
    );
    expect(base.notes.join(' ')).toMatch(
      /the canary's way out: VPC endpoints in both AZs \(\$21\.90 a month in sa-east-1\) instead of one NAT gateway in one AZ \(\$71\.54 plus data\)/,
    );
  });

  it('follows the config: another region, a given certificate, a secondary canary, traffic policy, no NLB', () => {
    const base = estimateCost(defaultConfig());
    const cert = estimateCost(
      configSchema.parse({
        certificateArn: { 'sa-east-1': 'arn:aws:acm:sa-east-1:111122223333:certificate/x' },
      }),
    );
    expect(base.totalMonthlyUsd - cert.totalMonthlyUsd).toBeCloseTo(400, 2);
    const canary = estimateCost(configSchema.parse({ canary: { secondary: true } }));
    const runs = CANARY_RUNS_PER_MONTH * REGIONAL_PRICES['us-west-1']!.canaryRun.usd;
    expect(canary.totalMonthlyUsd - base.totalMonthlyUsd).toBeGreaterThan(runs);
    const policy = estimateCost(configSchema.parse({ routing: 'traffic-policy' }));
    expect(policy.totalMonthlyUsd - base.totalMonthlyUsd).toBeCloseTo(50, 2);
    // domainMode private makes no NLB: the estimate drops the two NLB lines.
    const nlbs = ['sa-east-1', 'us-west-1'].reduce((sum, r) => sum + REGIONAL_PRICES[r]!.nlbHour.usd, 0);
    const noNlb = estimateCost(configSchema.parse({ domainMode: 'private' }));
    expect(base.totalMonthlyUsd - noNlb.totalMonthlyUsd).toBeCloseTo(nlbs * HOURS_PER_MONTH, 2);
    expect(noNlb.lines.some((l) => /Network Load Balancer/.test(l.resource))).toBe(false);
    const elsewhere = estimateCost(
      configSchema.parse({ primary: { region: 'eu-west-1', vpcCidr: '10.0.0.0/16' } }),
    );
    expect(elsewhere.notes.join(' ')).toContain('no prices for eu-west-1');
    expect(elsewhere.lines.filter((l) => l.where === 'eu-west-1').every((l) => l.estimate)).toBe(true);
    // A client type the table has no price for is said once, not once per region.
    const small = estimateCost(configSchema.parse({ clientInstanceType: 't3.small' }));
    expect(small.notes.filter((n) => n.includes('no price for t3.small'))).toHaveLength(1);
    expect(small.lines.some((l) => /EC2 client instance/.test(l.resource))).toBe(false);
  });

  it('active-active adds the secondary canary (runs, Lambda time, API requests), its alarm and a second health check', () => {
    const base = estimateCost(defaultConfig());
    const aa = estimateCost(configSchema.parse({ topology: 'active-active' }));
    const lines = (c: typeof base) => c.lines.map((l) => `${l.resource} @ ${l.where}`);
    const added = lines(aa).filter((l) => !lines(base).includes(l));
    expect(added).toEqual([
      'Synthetics canary, 1 run a minute @ us-west-1',
      'canary Lambda time @ us-west-1',
      'API requests from the canary @ us-west-1',
      'CloudWatch alarm on the canary @ us-west-1',
      'Route 53 health checks (CloudWatch metric), one per region @ global',
    ]);
    const r = REGIONAL_PRICES['us-west-1']!;
    const secondaryLines = aa.lines.filter((l) => l.where === 'us-west-1' && /canary/i.test(l.resource));
    expect(secondaryLines.find((l) => l.resource.startsWith('Synthetics'))!.monthlyUsd).toBeCloseTo(
      CANARY_RUNS_PER_MONTH * r.canaryRun.usd,
      2,
    );
    expect(aa.lines.find((l) => /health checks/.test(l.resource))!.monthlyUsd).toBeCloseTo(1, 2);
    // The same as the secondary canary of active-passive: one more canary and alarm, one more check.
    const canary = estimateCost(configSchema.parse({ canary: { secondary: true } }));
    expect(aa.totalMonthlyUsd).toBeCloseTo(canary.totalMonthlyUsd, 2);
  });

  it('a month is 730 hours in every line', () => {
    for (const l of estimateCost(defaultConfig()).lines)
      expect(l.monthlyUsd).toBeCloseTo(l.hourlyUsd * HOURS_PER_MONTH, 1);
  });

  it('every price names its source; the table covers the workshop regions and us-east-1', () => {
    for (const region of ['sa-east-1', 'us-west-1', 'us-east-1']) {
      const prices = REGIONAL_PRICES[region];
      expect(prices, region).toBeDefined();
      for (const [k, p] of Object.entries(prices!))
        expect(p.source, `${region} ${k}`).toMatch(/^https:\/\/aws\.amazon\.com\//);
    }
  });

  it('plan, iam-policy and --help load no AWS SDK at start-up (start-up time is measured)', () => {
    const loaded = [
      ...staticImports(join(SRC, 'cli/main.ts')),
      ...staticImports(join(SRC, 'cli/run.ts')),
      ...staticImports(join(SRC, 'commands/index.ts')),
      ...staticImports(join(SRC, 'commands/plan.ts')),
      ...staticImports(join(SRC, 'commands/iam-policy.ts')),
      ...staticImports(join(SRC, 'iam/policy.ts')),
    ];
    expect(loaded).toContain('commander'); // the scan follows the imports
    expect(loaded).toContain(join(SRC, 'plan/pricing.ts'));
    expect(loaded.filter((m) => m.startsWith('@aws-sdk/') || m.startsWith('@smithy/'))).toEqual([]);
  });
});
