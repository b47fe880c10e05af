/**
 * `npm run bench`: drctl's `up` on the fake cloud in virtual time, with the delay table of
 * test/support/fake-cloud/delays.ts (sources in ../shared/design/delays.md). Virtual time makes the
 * figures exact and repeatable: they measure drctl's scheduling and polling, not this machine.
 *
 *   npm run bench                 # table for people
 *   npm run bench -- --json       # one JSON object
 *   npm run bench -- --slow       # the p90 ("slow") delay column instead of the typical one
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsClients } from '../src/aws/clients.js';
import { defaultConfig } from '../src/config.js';
import { nullSink } from '../src/events.js';
import { Runner } from '../src/runner.js';
import { StateStore } from '../src/state.js';
import { STEPS } from '../src/steps/index.js';
import { createFakeCloud, type FakeCloud } from '../test/support/fake-cloud/index.js';

const args = new Set(process.argv.slice(2));
const json = args.has('--json');
const profile = args.has('--slow') ? 'slow' : 'typical';
// The steps measured: those implemented end to end so far.
const MEASURED = new Set(STEPS.map((s) => s.name));
const steps = STEPS.filter((s) => MEASURED.has(s.name));

interface RunFigures {
  makespanS: number;
  mutating: number;
  read: number;
}

async function run(
  only?: { region: string },
  cloud: FakeCloud = createFakeCloud(),
  dir?: string,
): Promise<RunFigures & { cloud: FakeCloud; dir: string }> {
  cloud.profile = profile;
  const workdir = dir ?? mkdtempSync(join(tmpdir(), 'drctl-bench-'));
  const config = defaultConfig();
  const store = StateStore.open(join(workdir, 'state.json'), config);
  const runner = new Runner({
    config,
    store,
    aws: new AwsClients({
      clock: cloud.clock,
      credentials: () => Promise.resolve({ accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' }),
    }),
    clock: cloud.clock,
    sink: nullSink,
    signal: new AbortController().signal,
    paths: { root: workdir, keys: join(workdir, 'keys'), ca: join(workdir, 'ca') },
    steps,
  });
  const before = cloud.calls.length;
  const t0 = cloud.clock.now();
  const result = await runner.up(only);
  const failed = result.results.filter((r) => r.status !== 'ok');
  if (failed.length) throw new Error(`bench: up failed: ${JSON.stringify(failed)}`);
  const calls = cloud.calls.slice(before);
  return {
    makespanS: (cloud.clock.now() - t0) / 1000,
    mutating: calls.filter((c) => c.mutating).length,
    read: calls.filter((c) => !c.mutating).length,
    cloud,
    dir: workdir,
  };
}

const both = await run();
const rerun = await run(undefined, both.cloud, both.dir);
both.cloud.uninstall();
rmSync(both.dir, { recursive: true, force: true });
const one = await run({ region: defaultConfig().primary.region });
one.cloud.uninstall();
rmSync(one.dir, { recursive: true, force: true });

const figures = {
  profile,
  steps: steps.map((s) => s.name),
  makespanS: both.makespanS,
  oneRegionS: one.makespanS,
  regionsRatio: Number((both.makespanS / one.makespanS).toFixed(3)),
  calls: { mutating: both.mutating, read: both.read },
  rerun: { mutating: rerun.mutating, read: rerun.read, virtualS: rerun.makespanS },
};

if (json) {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} else {
  const goal = (ok: boolean) => (ok ? 'meets goal' : 'MISSES goal');
  const lines = [
    `drctl up benchmark (fake cloud, virtual time, ${profile} delays), steps: ${figures.steps.join(', ')}`,
    `  two regions:        ${figures.makespanS.toFixed(1)} s`,
    `  one region:         ${figures.oneRegionS.toFixed(1)} s`,
    `  two / one:          ${figures.regionsRatio} (goal <= 1.05: ${goal(figures.regionsRatio <= 1.05)})`,
    `  calls:              ${figures.calls.mutating} mutating, ${figures.calls.read} read`,
    `  second up:          ${figures.rerun.mutating} mutating (goal 0: ${goal(figures.rerun.mutating === 0)}), ${figures.rerun.read} read, ${figures.rerun.virtualS.toFixed(1)} s`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
