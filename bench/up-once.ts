/** One full `up` on the fake cloud; prints this process's peak RSS in MB (for bench/run.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsClients } from '../src/aws/clients.js';
import { defaultConfig } from '../src/config.js';
import { nullSink } from '../src/events.js';
import { Runner } from '../src/runner.js';
import { StateStore } from '../src/state.js';
import { createFakeCloud } from '../test/support/fake-cloud/index.js';

const cloud = createFakeCloud();
const dir = mkdtempSync(join(tmpdir(), 'drctl-rss-'));
const config = defaultConfig();
const runner = new Runner({
  config,
  store: StateStore.open(join(dir, 'state.json'), config),
  aws: new AwsClients({
    clock: cloud.clock,
    credentials: () => Promise.resolve({ accessKeyId: 'A', secretAccessKey: 'B' }),
  }),
  clock: cloud.clock,
  sink: nullSink,
  signal: new AbortController().signal,
  paths: { root: dir, keys: join(dir, 'keys'), ca: join(dir, 'ca') },
});
const r = await runner.up();
rmSync(dir, { recursive: true, force: true });
if (r.results.some((x) => x.status !== 'ok')) process.exit(1);
process.stdout.write(`${process.resourceUsage().maxRSS / 1024}\n`);
