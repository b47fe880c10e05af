import '../support/fast-tmp.js';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepName } from '../../src/steps/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeNetwork, FakeRoute53Health, FakeSynthetics } from '../support/fake-cloud/index.js';
import { expectReadOnlyRerun } from '../support/crash.js';
import { Harness } from '../support/harness.js';

// Issue 21 item f: changing what the canary is made of on a running deployment (a config setting,
// the CA bundle it trusts) must never fail live traffic over. While no canary publishes, the
// alarm's range empties and the CLOUDWATCH_METRIC health check (InsufficientDataHealthStatus
// Unhealthy) turns unhealthy: the canary is changed in place (UpdateCanary), never deleted and
// made again.

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';
const NAME = 'api.octank.com';
const AA = { topology: 'active-active' };
const SAMPLE_MS = 10_000;

let h: Harness;
afterEach(() => h?.cleanup());

const rec = <N extends StepName>(step: N, scope: string) => h.outputs(step, scope);
/** Which region's entry the resolver of `vpcRegion`'s VPC answers now. */
const answeredIn = (vpcRegion: string) => {
  const a = h.cloud.model(FakeNetwork).resolve(vpcRegion, rec('vpc', vpcRegion).vpcId, NAME);
  return a.addresses[0]!.startsWith('10.0.') ? PRIMARY : SECONDARY;
};

interface Sample {
  at: number;
  primary: boolean;
  /** Undefined in active-passive (no secondary check). */
  secondary?: boolean;
  answers: Record<string, string>;
}

/**
 * Runs `work` while a task on the virtual clock samples both health checks and what each VPC
 * resolves the name to every SAMPLE_MS, then goes on sampling for `afterMs` (the new canary runs).
 */
async function sampled(work: () => Promise<unknown>, afterMs: number): Promise<Sample[]> {
  const r53 = h.cloud.model(FakeRoute53Health);
  const hc = rec('health-check', 'global');
  const samples: Sample[] = [];
  let until = Number.POSITIVE_INFINITY;
  const loop = (async () => {
    while (h.cloud.clock.now() <= until) {
      samples.push({
        at: h.cloud.clock.now(),
        primary: r53.healthOf(hc.primaryHealthCheckId).healthy,
        secondary: hc.secondaryHealthCheckId ? r53.healthOf(hc.secondaryHealthCheckId).healthy : undefined,
        answers: { [PRIMARY]: answeredIn(PRIMARY), [SECONDARY]: answeredIn(SECONDARY) },
      });
      await h.cloud.clock.sleep(SAMPLE_MS);
    }
  })();
  try {
    await work();
  } finally {
    until = h.cloud.clock.now() + afterMs;
  }
  await loop;
  return samples;
}

/** No sample with an unhealthy check, or a VPC answered by another region than `answers` says. */
function expectNoFailover(samples: Sample[], answers: Record<string, string>): void {
  expect(samples.length).toBeGreaterThan(10);
  const bad = samples.filter(
    (s) =>
      !s.primary ||
      s.secondary === false ||
      s.answers[PRIMARY] !== answers[PRIMARY] ||
      s.answers[SECONDARY] !== answers[SECONDARY],
  );
  expect(bad.map((s) => ({ ...s, at: new Date(s.at).toISOString() }))).toEqual([]);
}

describe('changing the canary on a running deployment', () => {
  it('a changed canary setting (artifactExpiryDays) is applied in place: no health check turns unhealthy, each VPC keeps its own region', async () => {
    h = new Harness();
    h.writeConfig(AA);
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000);
    const syn = h.cloud.model(FakeSynthetics);
    const ids = [syn.find(PRIMARY, 'drctl-pri')!.Id, syn.find(SECONDARY, 'drctl-sec')!.Id];

    h.writeConfig({ ...AA, canary: { artifactExpiryDays: 14 } });
    // Synthetics at its p90 (a VPC canary takes minutes to make: delays.ts).
    h.cloud.profile = 'slow';
    const samples = await sampled(() => h.ok(['up']), 5 * 60_000);
    expectNoFailover(samples, { [PRIMARY]: PRIMARY, [SECONDARY]: SECONDARY });
    h.cloud.profile = 'typical';

    for (const [region, name, id] of [
      [PRIMARY, 'drctl-pri', ids[0]],
      [SECONDARY, 'drctl-sec', ids[1]],
    ] as const) {
      const c = syn.find(region, name)!;
      // The same canary (never deleted), running, with the new setting.
      expect(c.Id, region).toBe(id);
      expect(c.state).toBe('RUNNING');
      expect(c.SuccessRetentionPeriodInDays).toBe(14);
      expect(c.runs.slice(-2).map((r) => r.outcome)).toEqual(['pass', 'pass']);
    }
    // The config tag says the canary is up to date: another up changes nothing.
    await expectReadOnlyRerun(h, ['up']);
  });

  it('a rotated CA bundle (a second CA beside the first) reaches the running canary in place: the primary stays healthy and answers both VPCs', async () => {
    h = new Harness();
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000);
    const c = h.cloud.model(FakeSynthetics).find(PRIMARY, 'drctl-pri')!;
    const id = c.Id;
    // What a CA rotation looks like to clients for a while: the old and the new CA, both trusted.
    const caDir = join(h.dir, '.drctl', 'ca');
    const next = readFileSync(join(caDir, `${SECONDARY}.pem`), 'utf8');
    appendFileSync(join(caDir, `${PRIMARY}.pem`), `\n${next}`);
    const bundle = readFileSync(join(caDir, `${PRIMARY}.pem`), 'utf8');

    h.cloud.profile = 'slow';
    const samples = await sampled(() => h.ok(['up']), 5 * 60_000);
    expectNoFailover(samples, { [PRIMARY]: PRIMARY, [SECONDARY]: PRIMARY });
    h.cloud.profile = 'typical';

    const now = h.cloud.model(FakeSynthetics).find(PRIMARY, 'drctl-pri')!;
    expect(now.Id).toBe(id);
    expect(Object.values(now.files).filter((f) => f === bundle)).toHaveLength(1);
    expect(now.runs.slice(-2).map((r) => r.outcome)).toEqual(['pass', 'pass']);
  });
});
