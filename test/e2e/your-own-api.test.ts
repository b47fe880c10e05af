import '../support/fast-tmp.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness, type RunOutput } from '../support/harness.js';

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
