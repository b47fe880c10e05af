import '../support/fast-tmp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isResendable } from '../../src/aws/idempotency.js';
import { FakeRoute53 } from '../support/fake-cloud/index.js';
import { unrecordedIds } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { extra, normalised } from '../support/normalise.js';

// The whole lifecycle, every step in both regions (and an active-active up, last): drctl is killed right after AWS accepted each
// mutating call of a clean run and before drctl could record the answer (`crashAfterMutating`),
// then the next drctl runs. It must end exactly where a clean run ends: the same resources, none
// twice. One clean run is the baseline for every injection point; a failing point is listed with
// the call it followed, and all of them are reported at once.
//
// The same for a call AWS applied and then answered with a 500 (`failAfterApplyingMutating`): the
// SDK's standard retry (emulated by the fake) resends it unless drctl's client says not to, so a
// create without an idempotency token that is resent makes a second resource.

interface Baseline {
  /** "region Command" of each mutating call of a clean `up`, then of a clean `down`. */
  up: string[];
  down: string[];
  snapshot: string[];
  /** The shape of what a clean `up` records (see recordedShape). */
  recorded: string;
}

let baseline: Baseline;
/** The same for `topology: "active-active"` (a canary, alarm and health check per region, latency records). */
let aaBaseline: Baseline;
const ACTIVE_ACTIVE = { topology: 'active-active' };
const covered = {
  up: 0,
  upThenDown: 0,
  down: 0,
  applied500: 0,
  applied500SameRun: 0,
  applied500Down: 0,
  applied500OfDown: 0,
  aaUp: 0,
  aaDown: 0,
  switchPoints: 0,
};

async function cleanRun(config?: Record<string, unknown>): Promise<Baseline> {
  const h = new Harness();
  try {
    if (config) h.writeConfig(config);
    await h.ok(['up']);
    const up = h.cloud.mutatingCalls.map((c) => `${c.region} ${c.command}`);
    const snapshot = normalised(h.cloud.snapshot());
    const recorded = recordedShape(h);
    h.cloud.resetCalls();
    await h.ok(['down', '--yes']);
    const down = h.cloud.mutatingCalls.map((c) => `${c.region} ${c.command}`);
    expect(h.cloud.snapshot()).toEqual([]);
    return { up, down, snapshot, recorded };
  } finally {
    h.cleanup();
  }
}

beforeAll(async () => {
  baseline = await cleanRun();
  aaBaseline = await cleanRun(ACTIVE_ACTIVE);
});

afterAll(() => {
  console.log(
    `crash matrix: ${covered.up} injection points in up (then up), ${covered.upThenDown} in up (then down), ` +
      `${covered.down} in down (then down); clean run: ${baseline.up.length} mutating calls up, ${baseline.down.length} down; ` +
      `a 500 after an applied call of up at ${covered.applied500} points, ${covered.applied500SameRun} of them absorbed by that same up, down run at ${covered.applied500Down}; ` +
      `a 500 after an applied call of down at ${covered.applied500OfDown} points; ` +
      `active-active: ${covered.aaUp} injection points in up (then up; down at ${covered.aaDown}), clean run ${aaBaseline.up.length} mutating calls up; ` +
      `a switch of topology (both ways): ${covered.switchPoints} injection points`,
  );
});

/** Every step's status and what it records (field names, list lengths), without the values. */
function recordedShape(h: Harness): string {
  const shape = (v: unknown): unknown =>
    Array.isArray(v)
      ? `list of ${v.length}`
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, shape(x)]),
          )
        : typeof v;
  return JSON.stringify(
    Object.entries(h.state()!.steps)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([step, byScope]) => [step, shape(byScope)]),
  );
}

/** How the cloud and state after a resumed up differ from the clean run's (empty when they do not). */
function unlikeCleanRun(h: Harness, where: string, clean: Baseline): string[] {
  const failures: string[] = [];
  const got = normalised(h.cloud.snapshot());
  if (JSON.stringify(got) !== JSON.stringify(clean.snapshot)) {
    failures.push(
      `${where}: extra ${JSON.stringify(extra(got, clean.snapshot))}, missing ${JSON.stringify(extra(clean.snapshot, got))}`,
    );
  }
  const notReady = Object.entries(h.state()!.steps).flatMap(([step, byScope]) =>
    Object.entries(byScope)
      .filter(([, rec]) => rec.status !== 'ready')
      .map(([scope]) => `${step}@${scope}`),
  );
  if (notReady.length) failures.push(`${where}: not ready after up: ${notReady.join(', ')}`);
  return failures;
}

/** Run `args` with a crash after mutating call n; returns the call it crashed after. */
async function crashAt(h: Harness, n: number, args: string[]): Promise<string> {
  h.cloud.revive(); // counts mutating calls from here
  h.cloud.resetCalls();
  h.cloud.faults = { crashAfterMutating: n };
  const r = await h.run(['--json', ...args]);
  const crashed = h.cloud.calls.find((c) => c.mutating && c.outcome === 'SimulatedCrash');
  if (!h.cloud.crashed || !crashed) throw new Error(`no crash at mutating call ${n} of ${args.join(' ')}`);
  expect(r.code, `crash at ${n}`).not.toBe(0);
  // Every id a create answered before the crash is already in the state file (test/support/crash.ts).
  expect(
    unrecordedIds(h),
    `records lost by a crash after #${n} ${crashed.region} ${crashed.command}`,
  ).toEqual([]);
  h.cloud.revive();
  return `#${n} ${crashed.region} ${crashed.command}`;
}

describe('a crash after any mutating call of the whole lifecycle', () => {
  it('then up again: the same resources as a clean run, each once, every step recorded ready', async () => {
    const failures: string[] = [];
    for (let n = 1; n <= baseline.up.length; n++) {
      const h = new Harness();
      try {
        const where = await crashAt(h, n, ['up']);
        const r = await h.run(['--json', 'up']);
        if (r.code !== 0) {
          failures.push(`${where}: up after the crash exited ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
          continue;
        }
        failures.push(...unlikeCleanRun(h, where, baseline));
        covered.up++;
      } finally {
        h.cleanup();
      }
    }
    expect(failures).toEqual([]);
    expect(covered.up).toBe(baseline.up.length);
  });

  it('then down: nothing is left, not even what the crashed run made but never recorded', async () => {
    const failures: string[] = [];
    for (let n = 1; n <= baseline.up.length; n++) {
      const h = new Harness();
      try {
        const where = await crashAt(h, n, ['up']);
        const r = await h.run(['--json', 'down', '--yes']);
        if (r.code !== 0) failures.push(`${where}: down exited ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
        else if (h.cloud.snapshot().length) failures.push(`${where}: left ${h.cloud.snapshot().join(', ')}`);
        else covered.upThenDown++;
      } finally {
        h.cleanup();
      }
    }
    expect(failures).toEqual([]);
  });

  it('of down, then down again: nothing is left', async () => {
    const failures: string[] = [];
    for (let n = 1; n <= baseline.down.length; n++) {
      const h = new Harness();
      try {
        await h.ok(['up']);
        const where = await crashAt(h, n, ['down', '--yes']);
        const r = await h.run(['--json', 'down', '--yes']);
        if (r.code !== 0) failures.push(`${where}: down exited ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
        else if (h.cloud.snapshot().length) failures.push(`${where}: left ${h.cloud.snapshot().join(', ')}`);
        else if (Object.keys(h.state()!.steps).length)
          failures.push(`${where}: the state still records steps`);
        else covered.down++;
      } finally {
        h.cleanup();
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('a 500 after AWS applied any mutating call of up', () => {
  it('a create answered 500 after it was applied is adopted, not repeated: up converges with each resource once, and down leaves nothing', async () => {
    const failures: string[] = [];
    for (let n = 1; n <= baseline.up.length; n++) {
      const h = new Harness();
      try {
        h.cloud.faults = { failAfterApplyingMutating: n };
        const first = await h.run(['--json', 'up']);
        const hit = h.cloud.calls.filter((c) => c.mutating)[n - 1];
        const where = `#${n} ${hit?.region} ${hit?.command}`;
        h.cloud.faults = {};
        const r = first.code === 0 ? first : await h.run(['--json', 'up']);
        if (r.code !== 0) {
          failures.push(`${where}: up after the 500 exited ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
          continue;
        }
        const got = normalised(h.cloud.snapshot());
        const sameCloud = JSON.stringify(got) === JSON.stringify(baseline.snapshot);
        if (!sameCloud) {
          failures.push(
            `${where}: extra ${JSON.stringify(extra(got, baseline.snapshot))}, missing ${JSON.stringify(extra(baseline.snapshot, got))}`,
          );
        }
        // `down` is a function of the cloud and of what the state records: where both are shaped as
        // a clean run's, it does what the clean run's `down` did (checked in beforeAll), so to keep
        // the matrix fast it runs there only at every fourth point.
        const asClean = sameCloud && recordedShape(h) === baseline.recorded;
        if (!asClean || n % 4 === 0) {
          covered.applied500Down++;
          const d = await h.run(['--json', 'down', '--yes']);
          if (d.code !== 0) {
            failures.push(`${where}: down exited ${d.code}: ${d.stderr.trim().split('\n')[0]}`);
            continue;
          }
          if (h.cloud.snapshot().length) {
            failures.push(`${where}: down left ${h.cloud.snapshot().join(', ')}`);
            continue;
          }
        }
        covered.applied500++;
        if (first.code === 0) covered.applied500SameRun++;
      } finally {
        h.cleanup();
      }
    }
    expect(failures).toEqual([]);
    expect(covered.applied500).toBe(baseline.up.length);
  });
});

describe('a 500 after AWS applied a mutating call of down', () => {
  // At every mutating call of a clean down, and that same down must absorb it. A call sent once
  // only (idempotency.ts: not resendable) fails its step, which the runner runs again and which
  // must find the work done (DeleteCertificateAuthority resent would meet a DELETED CA:
  // InvalidStateException); a resendable one is resent by the SDK and must find nothing to do.
  it('that same down converges: nothing is left and the state records no step', async () => {
    const failures: string[] = [];
    const points = baseline.down.map((call, i) => ({ n: i + 1, command: call.split(' ')[1]! }));
    expect(points.filter((p) => !isResendable(p.command, {})).map((p) => p.command)).toContain(
      'DeleteCertificateAuthority',
    );
    for (const { n } of points) {
      const h = new Harness();
      try {
        await h.ok(['up']);
        h.cloud.revive(); // counts mutating calls from here
        h.cloud.resetCalls();
        h.cloud.faults = { failAfterApplyingMutating: n };
        const first = await h.run(['--json', 'down', '--yes']);
        const hit = h.cloud.calls.filter((c) => c.mutating)[n - 1];
        const where = `#${n} ${hit?.region} ${hit?.command}`;
        h.cloud.faults = {};
        if (first.code !== 0) {
          const said = first.events
            .flatMap((e) =>
              e.type === 'step-failed' ? [JSON.stringify((e as { error: unknown }).error)] : [],
            )
            .join(' | ');
          failures.push(`${where}: down exited ${first.code}: ${said}`);
          continue;
        }
        if (h.cloud.snapshot().length) failures.push(`${where}: left ${h.cloud.snapshot().join(', ')}`);
        else if (Object.keys(h.state()!.steps).length)
          failures.push(`${where}: the state still records steps`);
        else covered.applied500OfDown++;
      } finally {
        h.cleanup();
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

// Every other injection point, to keep the suite fast: the first matrix covers each one.
describe('a crash after a mutating call, with every list answered one item a page (cloud.pageSize = 1)', () => {
  const STRIDE = 2;
  const paged = () => {
    const h = new Harness();
    h.cloud.pageSize = 1;
    return h;
  };

  it('a crash after every other mutating call of up, then up: the clean result; then down: nothing left', async () => {
    const failures: string[] = [];
    for (let n = 1; n <= baseline.up.length; n += STRIDE) {
      const h = paged();
      try {
        const where = await crashAt(h, n, ['up']);
        const up = await h.run(['--json', 'up']);
        const got = normalised(h.cloud.snapshot());
        if (up.code !== 0)
          failures.push(`${where}: up exited ${up.code}: ${up.stderr.trim().split('\n')[0]}`);
        else if (JSON.stringify(got) !== JSON.stringify(baseline.snapshot))
          failures.push(`${where}: extra ${JSON.stringify(extra(got, baseline.snapshot))}`);
        const down = await h.run(['--json', 'down', '--yes']);
        if (down.code !== 0)
          failures.push(`${where}: down exited ${down.code}: ${down.stderr.trim().split('\n')[0]}`);
        else if (h.cloud.snapshot().length) failures.push(`${where}: left ${h.cloud.snapshot().join(', ')}`);
      } finally {
        h.cleanup();
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('a crash after every other mutating call of down, then down: nothing left', async () => {
    const failures: string[] = [];
    for (let n = 1; n <= baseline.down.length; n += STRIDE) {
      const h = paged();
      try {
        await h.ok(['up']);
        const where = await crashAt(h, n, ['down', '--yes']);
        const r = await h.run(['--json', 'down', '--yes']);
        if (r.code !== 0) failures.push(`${where}: down exited ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
        else if (h.cloud.snapshot().length) failures.push(`${where}: left ${h.cloud.snapshot().join(', ')}`);
      } finally {
        h.cleanup();
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

describe('a crash after any mutating call of an active-active up', () => {
  it('then up again: the clean active-active result, each resource once, every step ready; then down (every fourth point): nothing left', async () => {
    const failures: string[] = [];
    expect(aaBaseline.up.length).toBeGreaterThan(baseline.up.length);
    for (let n = 1; n <= aaBaseline.up.length; n++) {
      const h = new Harness();
      try {
        h.writeConfig(ACTIVE_ACTIVE);
        const where = await crashAt(h, n, ['up']);
        const r = await h.run(['--json', 'up']);
        if (r.code !== 0) {
          failures.push(`${where}: up after the crash exited ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
          continue;
        }
        failures.push(...unlikeCleanRun(h, where, aaBaseline));
        if (recordedShape(h) !== aaBaseline.recorded)
          failures.push(`${where}: the state is shaped otherwise`);
        covered.aaUp++;
        // As in the 500 matrix: where cloud and state are as a clean run's, down does what the
        // clean run's down did, so it runs at every fourth point only.
        if (n % 4 === 0) {
          const d = await h.run(['--json', 'down', '--yes']);
          if (d.code !== 0)
            failures.push(`${where}: down exited ${d.code}: ${d.stderr.trim().split('\n')[0]}`);
          else if (h.cloud.snapshot().length)
            failures.push(`${where}: down left ${h.cloud.snapshot().join(', ')}`);
          else covered.aaDown++;
        }
      } finally {
        h.cleanup();
      }
    }
    expect(failures).toEqual([]);
    expect(covered.aaUp).toBe(aaBaseline.up.length);
  }, 120_000);
});

const LAMBDA_ENIS_GONE_MS = 60 * 60_000;

describe('a crash after any mutating call of an up that switches topology', () => {
  // Both directions: the records move in one change batch, so at every crash point the name has
  // the old pair or the new one, and the next up finishes the switch.
  const directions = [
    ['active-passive -> active-active', {}, ACTIVE_ACTIVE, () => aaBaseline],
    ['active-active -> active-passive', ACTIVE_ACTIVE, {}, () => baseline],
  ] as const;

  it.each(directions)(
    '%s: the name has records at every version of the zone, and up again ends as a clean up of the new topology',
    async (_, from, to, target) => {
      // The switching up's mutating calls, from a clean switch.
      const clean = new Harness();
      let calls: number;
      try {
        clean.writeConfig(from);
        await clean.ok(['up']);
        clean.cloud.resetCalls();
        clean.writeConfig(to);
        await clean.ok(['up']);
        calls = clean.cloud.mutatingCalls.length;
        // The network interfaces of a removed canary or probe linger 20-45 minutes (docs/design/timings.md).
        clean.cloud.clock.advance(LAMBDA_ENIS_GONE_MS);
        expect(normalised(clean.cloud.snapshot())).toEqual(target().snapshot);
      } finally {
        clean.cleanup();
      }
      const failures: string[] = [];
      for (let n = 1; n <= calls; n++) {
        const h = new Harness();
        try {
          h.writeConfig(from);
          await h.ok(['up']);
          h.writeConfig(to);
          const where = await crashAt(h, n, ['up']);
          const r = await h.run(['--json', 'up']);
          if (r.code !== 0) {
            failures.push(`${where}: up after the crash exited ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
            continue;
          }
          h.cloud.clock.advance(LAMBDA_ENIS_GONE_MS);
          const got = normalised(h.cloud.snapshot());
          if (JSON.stringify(got) !== JSON.stringify(target().snapshot))
            failures.push(
              `${where}: extra ${JSON.stringify(extra(got, target().snapshot))}, missing ${JSON.stringify(extra(target().snapshot, got))}`,
            );
          const zone = h.outputs('hosted-zone', 'global').hostedZoneId;
          const history = h.cloud.model(FakeRoute53).recordHistory(zone);
          const named = (v: (typeof history)[number]) =>
            v.records.filter((x) => x.Name === 'api.octank.com.' && x.Type === 'A').length;
          const first = history.findIndex((v) => named(v) > 0);
          const empty = history.slice(first).filter((v) => named(v) === 0);
          if (empty.length)
            failures.push(`${where}: ${empty.length} version(s) of the zone without the name`);
        } finally {
          h.cleanup();
        }
      }
      expect(failures).toEqual([]);
      covered.switchPoints += calls;
    },
    120_000,
  );
});
