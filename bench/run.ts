/**
 * `npm run bench`: drctl's `up`, `down`, `failover-test` (both modes) and `verify` on the fake cloud
 * in virtual time, with the delay table of
 * test/support/fake-cloud/delays.ts (sources in docs/design/timings.md). Virtual time makes the
 * figures exact and repeatable: they measure drctl's scheduling and polling, not this machine.
 * Start-up time and memory are real measurements of this machine.
 *
 *   npm run bench                 # table for people
 *   npm run --silent bench -- --json   # one JSON object (keys listed in docs/performance.md)
 *   npm run bench -- --slow       # the p90 ("slow") delay column instead of the typical one
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../src/config/config.js';
import { type DrillMode, failoverBound, switchBound } from '../src/drill/bound.js';
import { createFakeCloud, type FakeCloud } from '../test/support/fake-cloud/index.js';
import { Harness } from '../test/support/harness.js';
import {
  OBSERVERS,
  lowerBoundS,
  teardownBaselineS,
  teardownLowerBoundS,
  workshopBaselineS,
} from './graph.js';
import { benchRunner } from './runner.js';

const args = new Set(process.argv.slice(2));
const json = args.has('--json');
const profile = args.has('--slow') ? 'slow' : 'typical';
const root = new URL('..', import.meta.url).pathname;

interface RunFigures {
  makespanS: number;
  mutating: number;
  read: number;
  cloud: FakeCloud;
  dir: string;
  startedAt: number;
}

async function run(
  only?: { region: string },
  reuse?: RunFigures,
  delays: 'typical' | 'slow' = profile,
): Promise<RunFigures> {
  const cloud = reuse?.cloud ?? createFakeCloud();
  cloud.profile = delays;
  const dir = reuse?.dir ?? mkdtempSync(join(tmpdir(), 'drctl-bench-'));
  const runner = benchRunner(cloud, dir);
  const before = cloud.calls.length;
  const startedAt = cloud.clock.now();
  const result = await runner.up(only);
  const failed = result.results.filter((r) => r.status !== 'ok');
  if (failed.length)
    throw new Error(
      `bench: up failed: ${JSON.stringify(failed.map((f) => [f.step, f.scope, f.error?.message]))}`,
    );
  const calls = cloud.calls.slice(before);
  return {
    makespanS: (cloud.clock.now() - startedAt) / 1000,
    mutating: calls.filter((c) => c.mutating).length,
    read: calls.filter((c) => !c.mutating).length,
    cloud,
    dir,
    startedAt,
  };
}

/** `down` on what `up` made in `r`'s cloud: virtual makespan and calls. */
async function down(
  cloud: FakeCloud,
  dir: string,
): Promise<{ makespanS: number; mutating: number; read: number }> {
  const before = cloud.calls.length;
  const startedAt = cloud.clock.now();
  const result = await benchRunner(cloud, dir).down();
  const failed = result.results.filter((r) => r.status !== 'ok');
  if (failed.length || cloud.snapshot().length)
    throw new Error(
      `bench: down failed: ${JSON.stringify(failed.map((f) => [f.step, f.scope, f.error?.message]))}`,
    );
  const calls = cloud.calls.slice(before);
  return {
    makespanS: (cloud.clock.now() - startedAt) / 1000,
    mutating: calls.filter((c) => c.mutating).length,
    read: calls.filter((c) => !c.mutating).length,
  };
}

/**
 * `up`, `verify` (timed on the wall clock too), `failover-test --mode <mode>`, then `down`, through
 * the CLI on a fresh fake cloud: the drill's recovery against its bound, what the drill's own
 * watching costs, and `down` after a drill.
 */
async function drill(mode: DrillMode) {
  const h = new Harness();
  h.cloud.profile = profile;
  try {
    await h.ok(['up']);
    let before = h.cloud.calls.length;
    const virtual0 = h.cloud.clock.now();
    const wall0 = process.hrtime.bigint();
    const v = await h.run(['--json', 'verify']);
    const verifyWallS = Number(process.hrtime.bigint() - wall0) / 1e9;
    if (v.code !== 0) throw new Error(`bench: verify exited ${v.code}: ${v.stderr}`);
    const vCalls = h.cloud.calls.slice(before);
    const verifyVirtualS = (h.cloud.clock.now() - virtual0) / 1000;
    before = h.cloud.calls.length;
    const r = await h.run(['--json', 'failover-test', '--mode', mode]);
    if (r.code !== 0) throw new Error(`bench: failover-test --mode ${mode} exited ${r.code}: ${r.stderr}`);
    const calls = h.cloud.calls.slice(before);
    // The watch starts with the fault (the first mutating call other than the probe's Invoke);
    // before it, the preconditions probe twice (through DNS, then through the secondary).
    const injected = calls.findIndex((c) => c.mutating && c.command !== 'Invoke');
    const invokes = calls.slice(injected).filter((c) => c.command === 'Invoke');
    const gaps = invokes.slice(1).map((c, i) => (c.t - invokes[i]!.t) / 1000);
    const bound = failoverBound(defaultConfig(), mode).seconds;
    const recoveryS = Number(r.summary?.recoverySeconds);
    const afterDrill = await down(h.cloud, join(h.dir, '.drctl'));
    return {
      verify: {
        wallS: verifyWallS,
        virtualS: verifyVirtualS,
        calls: vCalls.length,
        mutating: vCalls.filter((c) => c.mutating && c.command !== 'Invoke').length,
        probeInvocations: vCalls.filter((c) => c.command === 'Invoke').length,
      },
      drill: {
        recoveryS,
        failbackS: Number(r.summary?.failbackSeconds),
        boundS: bound,
        ratio: recoveryS / bound,
        calls: calls.length,
        probeCalls: invokes.length,
        // Every Invoke is one Lambda invocation (billed), the preconditions' two included.
        invocations: calls.filter((c) => c.command === 'Invoke').length,
        minProbeIntervalS: gaps.length ? Math.min(...gaps) : 0,
        watchedS: calls.length ? (calls.at(-1)!.t - calls[0]!.t) / 1000 : 0,
      },
      down: afterDrill,
    };
  } finally {
    h.cleanup();
  }
}

function done(r: RunFigures): void {
  r.cloud.uninstall();
  rmSync(r.dir, { recursive: true, force: true });
}

/** For each state change AWS made during `up`, how long until drctl's next read could see it. */
function detectionLags(r: RunFigures): number[] {
  const lags: number[] = [];
  const end = r.startedAt + r.makespanS * 1000;
  // A model may recompute the same change on every read (an NLB target's next health check):
  // only the first moment counts, per kind of change, region and scheduling command.
  const first = new Map<string, (typeof r.cloud.transitions)[number]>();
  for (const t of r.cloud.transitions) {
    const k = `${t.key}|${t.region}|${t.command}`;
    const seen = first.get(k);
    if (!seen || t.at < seen.at) first.set(k, t);
  }
  for (const t of first.values()) {
    const observers = OBSERVERS[t.key];
    if (!observers || !Number.isFinite(t.at) || t.at < r.startedAt || t.at > end) continue;
    const observes = (c: (typeof r.cloud.calls)[number]) =>
      c.service === t.service && c.region === t.region && observers.includes(c.command);
    // Only the transitions drctl was waiting for: it read the resource between the change being
    // scheduled and the change happening (an NLB turning active is never polled on its own: its
    // targets turning healthy, which needs it, is).
    if (!r.cloud.calls.some((c) => observes(c) && c.seq > t.seq && c.t < t.at)) continue;
    const seen = r.cloud.calls.find((c) => observes(c) && c.t >= t.at);
    if (seen) lags.push((seen.t - t.at) / 1000);
  }
  return lags.sort((a, b) => a - b);
}

/** Resource ids recorded in the state file: the budget for a second `up`'s reads. */
function recordedIds(dir: string): number {
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
    steps: Record<string, Record<string, { resources: Record<string, unknown> }>>;
  };
  let n = 0;
  for (const byScope of Object.values(state.steps)) {
    for (const rec of Object.values(byScope)) {
      for (const [k, v] of Object.entries(rec.resources)) {
        if (/(Id|Ids|Arn|Name)$/.test(k) && v) n += Array.isArray(v) ? v.length : 1;
      }
    }
  }
  return n;
}

const median = (xs: number[]) => (xs.length ? xs[Math.floor((xs.length - 1) / 2)]! : 0);

function timeCommand(argv: string[], runs = 7): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, argv, { cwd: root, stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`bench: ${argv.join(' ')} exited ${r.status}`);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(samples.sort((a, b) => a - b));
}

/**
 * Peak RSS of a whole `up` in a process of its own (fake cloud included), compiled to plain
 * JavaScript first: under tsx the same run costs ~60 MB more, which is the loader, not drctl.
 */
function peakRssMb(): number {
  const build = spawnSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.bench.json'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (build.status !== 0) throw new Error(`bench: compiling for the RSS run failed: ${build.stdout}`);
  cpSync(join(root, 'templates'), join(root, '.bench-build/templates'), { recursive: true });
  const r = spawnSync(process.execPath, [join(root, '.bench-build/bench/up-once.js')], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  if (r.status !== 0) throw new Error(`bench: up-once failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

const both = await run();
const lags = detectionLags(both);
const rerun = await run(undefined, both);
const recorded = recordedIds(both.dir);
const downAfterUp = await down(both.cloud, both.dir);
done(both);
/**
 * `drctl failover --to <secondary>` after `up`: the switch's recovery (first change to both VPCs
 * answered by the target, as the drill measures it) against its bound (src/drill/bound.ts), then
 * `failback`.
 */
async function incidentSwitch() {
  const h = new Harness();
  h.cloud.profile = profile;
  try {
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000); // the canary has data, as an operator would find it
    const before = h.cloud.calls.length;
    const to = defaultConfig().secondary.region;
    const r = await h.run(['--json', '--yes', 'failover', '--to', to, '--reason', 'bench']);
    if (r.code !== 0) throw new Error(`bench: failover --to ${to} exited ${r.code}: ${r.stderr}`);
    const calls = h.cloud.calls.slice(before);
    const back = await h.run(['--json', '--yes', 'failback', '--reason', 'bench']);
    if (back.code !== 0) throw new Error(`bench: failback exited ${back.code}: ${back.stderr}`);
    const bound = switchBound(defaultConfig()).seconds;
    const recoveryS = Number(r.summary?.recoverySeconds);
    return {
      recoveryS,
      failbackS: Number(back.summary?.recoverySeconds),
      boundS: bound,
      ratio: recoveryS / bound,
      calls: calls.length,
      mutating: calls.filter((c) => c.mutating && c.command !== 'Invoke').length,
    };
  } finally {
    h.cleanup();
  }
}

const one = await run({ region: defaultConfig().primary.region });
done(one);
// The call and lag goals hold for the slow column too: one more `up` with it.
const slow = profile === 'slow' ? undefined : await run(undefined, undefined, 'slow');
const slowLags = slow && detectionLags(slow);
if (slow) done(slow);

const invert = await drill('invert');
const outage = await drill('outage');
const held = await incidentSwitch();

const lowerBound = lowerBoundS(profile);
const downBound = teardownLowerBoundS(profile);
const downBaseline = teardownBaselineS(profile);
const baseline = workshopBaselineS(profile);
const helpMs = timeCommand(['bin/drctl.js', '--help']);
const planMs = timeCommand(['bin/drctl.js', 'plan']);
const nodeMs = timeCommand(['-e', '0']);
const rss = peakRssMb();

const round = (x: number, d = 2) => Number(x.toFixed(d));
const downFigures = (d: Awaited<ReturnType<typeof down>>) => ({
  makespanS: round(d.makespanS, 1),
  lowerBoundS: downBound,
  ratio: round(d.makespanS / downBound, 3),
  baselineS: downBaseline,
  speedup: round(downBaseline / d.makespanS, 2),
  calls: { mutating: d.mutating, read: d.read, total: d.mutating + d.read },
});
const drillFigures = (d: Awaited<ReturnType<typeof drill>>['drill']) => ({
  recoveryS: d.recoveryS,
  failbackS: d.failbackS,
  boundS: d.boundS,
  ratio: round(d.ratio, 3),
  calls: d.calls,
  probeCalls: d.probeCalls,
  invocations: d.invocations,
  minProbeIntervalS: round(d.minProbeIntervalS, 1),
});
const figures = {
  profile,
  makespanS: round(both.makespanS, 1),
  lowerBoundS: round(lowerBound, 1),
  ratio: round(both.makespanS / lowerBound, 3),
  baselineS: round(baseline, 1),
  speedup: round(baseline / both.makespanS, 2),
  oneRegionS: round(one.makespanS, 1),
  oneRegionLowerBoundS: round(lowerBoundS(profile, ['primary']), 1),
  calls: { mutating: both.mutating, read: both.read, total: both.mutating + both.read },
  detectionLagS: { median: round(median(lags), 1), max: round(lags.at(-1) ?? 0, 1), samples: lags.length },
  ...(slow && slowLags
    ? {
        slowColumn: {
          makespanS: round(slow.makespanS, 1),
          lowerBoundS: round(lowerBoundS('slow'), 1),
          calls: { mutating: slow.mutating, read: slow.read, total: slow.mutating + slow.read },
          detectionLagS: {
            median: round(median(slowLags), 1),
            max: round(slowLags.at(-1) ?? 0, 1),
            samples: slowLags.length,
          },
        },
      }
    : {}),
  rerun: {
    mutating: rerun.mutating,
    read: rerun.read,
    recordedIds: recorded,
    virtualS: round(rerun.makespanS, 1),
  },
  startup: {
    helpMs: round(helpMs, 1),
    planMs: round(planMs, 1),
    nodeMs: round(nodeMs, 1),
    ratio: round(helpMs / nodeMs, 2),
  },
  peakRssMb: round(rss, 1),
  down: {
    lowerBoundS: downBound,
    baselineS: downBaseline,
    afterUp: downFigures(downAfterUp),
    afterInvertDrill: downFigures(invert.down),
    afterOutageDrill: downFigures(outage.down),
  },
  drill: { invert: drillFigures(invert.drill), outage: drillFigures(outage.drill) },
  switch: { ...held, ratio: round(held.ratio, 3) },
  verify: {
    wallS: round(Math.max(invert.verify.wallS, outage.verify.wallS), 2),
    virtualS: invert.verify.virtualS,
    calls: invert.verify.calls,
    mutating: Math.max(invert.verify.mutating, outage.verify.mutating),
    probeInvocations: invert.verify.probeInvocations,
  },
};

if (json) {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} else {
  const goal = (ok: boolean, text: string) => `(goal ${text}: ${ok ? 'met' : 'MISSED'})`;
  const f = figures;
  const lines = [
    `drctl up, fake cloud, virtual time, ${profile} delays (test/support/fake-cloud/delays.ts)`,
    `  makespan, both regions      ${f.makespanS} s`,
    `  lower bound (resource graph) ${f.lowerBoundS} s   ratio ${f.ratio} ${goal(f.ratio <= 1.1, '<= 1.10')}`,
    `  workshop order, serial      ${f.baselineS} s   speed-up x${f.speedup}`,
    `  one region alone            ${f.oneRegionS} s (its lower bound ${f.oneRegionLowerBoundS} s)`,
    `  AWS calls                   ${f.calls.mutating} mutating + ${f.calls.read} read = ${f.calls.total} ${goal(f.calls.total <= 400, '<= 400')}`,
    `  detection lag               median ${f.detectionLagS.median} s, max ${f.detectionLagS.max} s over ${f.detectionLagS.samples} transitions ${goal(f.detectionLagS.median <= 5, 'median <= 5 s')}`,
    ...(f.slowColumn
      ? [
          `  with the slow delays        ${f.slowColumn.makespanS} s (bound ${f.slowColumn.lowerBoundS} s), ${f.slowColumn.calls.total} calls ${goal(f.slowColumn.calls.total <= 400, '<= 400')}, detection lag median ${f.slowColumn.detectionLagS.median} s ${goal(f.slowColumn.detectionLagS.median <= 5, 'median <= 5 s')}`,
        ]
      : []),
    `  second up                   ${f.rerun.mutating} mutating ${goal(f.rerun.mutating === 0, '0')}, ${f.rerun.read} read for ${f.rerun.recordedIds} recorded ids ${goal(f.rerun.read <= f.rerun.recordedIds, '<= 1 each')}, ${f.rerun.virtualS} s`,
    `  start-up (median of 7)      drctl --help ${f.startup.helpMs} ms, drctl plan ${f.startup.planMs} ms, node -e 0 ${f.startup.nodeMs} ms: x${f.startup.ratio} ${goal(f.startup.ratio <= 2.5, '<= 2.5')}`,
    `  peak RSS of a full up       ${f.peakRssMb} MB ${goal(f.peakRssMb <= 200, '<= 200 MB')}`,
    `drctl down (lower bound ${f.down.lowerBoundS} s from the teardown graph; workshop cleanup, serial, ${f.down.baselineS} s)`,
    ...(
      [
        ['after up', f.down.afterUp],
        ['after up + invert drill', f.down.afterInvertDrill],
        ['after up + outage drill', f.down.afterOutageDrill],
      ] as const
    ).map(
      ([what, d]) =>
        `  ${what.padEnd(27)} ${d.makespanS} s   ratio ${d.ratio} ${goal(d.ratio <= 1.1, '<= 1.10')}, speed-up x${d.speedup}, ${d.calls.mutating} mutating + ${d.calls.read} read = ${d.calls.total} calls`,
    ),
    `drctl failover-test (bound: src/drill/bound.ts, what \`plan\` shows)`,
    ...(['invert', 'outage'] as const).map((m) => {
      const d = f.drill[m];
      return `  ${m.padEnd(27)} recovery ${d.recoveryS} s of ${d.boundS} s: ratio ${d.ratio} ${goal(d.ratio <= 1.05, '<= 1.05')}; fail-back ${d.failbackS} s; ${d.calls} calls, ${d.probeCalls} probe calls while watching (${d.invocations} Lambda invocations in all), every ${d.minProbeIntervalS} s or more ${goal(d.minProbeIntervalS >= 5, '>= 5 s')}`;
    }),
    `drctl failover (incident switch; bound: switchBound in src/drill/bound.ts)`,
    `  ${'failover --to, failback'.padEnd(27)} recovery ${f.switch.recoveryS} s of ${f.switch.boundS} s: ratio ${f.switch.ratio} ${goal(f.switch.ratio <= 1.05, '<= 1.05')}; failback ${f.switch.failbackS} s; ${f.switch.calls} calls, ${f.switch.mutating} mutating besides the probes`,
    `drctl verify                  ${f.verify.wallS} s wall ${goal(f.verify.wallS <= 60, '<= 60 s')}, ${f.verify.calls} calls, ${f.verify.mutating} mutating ${goal(f.verify.mutating === 0, '0')} (+ ${f.verify.probeInvocations} probe Invoke, how verify probes from inside the VPC)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
