import '../support/fast-tmp.js';
import { rmSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../support/harness.js';
import { normalised } from '../support/normalise.js';

// Every list and Describe* call of the fake cloud answers one item a page (EC2 applying its
// Filters per page, so some pages come back empty with a NextToken): a read that stops at the
// first page misses resources. The whole lifecycle must see exactly what it sees at AWS's default
// page sizes, and `down` must leave nothing.

let h: Harness;
afterEach(() => h?.cleanup());

type Found = { step: string; scope: string; what: string; recorded: boolean };
const found = (r: { summary?: Record<string, unknown> }) =>
  normalised(
    (r.summary!.found as Found[]).map((f) => `${f.step} ${f.scope} ${f.what} recorded=${f.recorded}`),
  );

/** What a clean `up` makes and what `down --discover` finds at the default page sizes. */
let reference: { snapshot: string[]; found: string[] };
beforeAll(async () => {
  const x = new Harness();
  x.cloud.pageSize = undefined;
  try {
    await x.ok(['up']);
    reference = {
      snapshot: normalised(x.cloud.snapshot()),
      found: found(await x.ok(['down', '--discover'])),
    };
  } finally {
    x.cleanup();
  }
});

const onePerPage = () => {
  const x = new Harness();
  x.cloud.pageSize = 1;
  return x;
};

describe('every list answered one item a page', () => {
  it('up, failover-test in both modes, status --refresh, down --discover, down: nothing missed, an empty cloud', async () => {
    h = onePerPage();
    await h.ok(['up']);
    expect(normalised(h.cloud.snapshot())).toEqual(reference.snapshot);
    const pages = h.cloud.calls.filter((c) => JSON.stringify(c.input).includes('"NextToken":"'));
    expect(pages.length, 'no read followed a page token').toBeGreaterThan(0);

    for (const mode of ['invert', 'outage']) {
      const r = await h.run(['--json', 'failover-test', '--mode', mode]);
      expect(r.code, `failover-test --mode ${mode}: ${r.stderr}`).toBe(0);
    }

    const status = await h.ok(['status', '--refresh']);
    expect(status.summary).toMatchObject({ ok: true, unrecorded: [] });

    h.cloud.resetCalls();
    const discovered = await h.ok(['down', '--discover']);
    expect(h.cloud.mutatingCalls).toEqual([]);
    expect(found(discovered)).toEqual(reference.found);

    await h.ok(['down', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()!.steps).toEqual({});
  });

  it('with the state file lost, down --discover --yes finds and deletes everything, peering routes and Lambda ENIs included', async () => {
    h = onePerPage();
    await h.ok(['up']);
    rmSync(h.statePath);
    const discovered = await h.ok(['down', '--discover']);
    const unrecorded = reference.found.map((l) => l.replace('recorded=true', 'recorded=false')).sort();
    expect(found(discovered)).toEqual(unrecorded);
    await h.ok(['down', '--discover', '--yes']);
    expect(h.cloud.snapshot()).toEqual([]);
  });
});
