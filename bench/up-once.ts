/** One full `up` on the fake cloud; prints this process's peak RSS in MB (for bench/run.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeCloud } from '../test/support/fake-cloud/index.js';
import { benchRunner } from './runner.js';

const cloud = createFakeCloud();
const dir = mkdtempSync(join(tmpdir(), 'drctl-rss-'));
const runner = benchRunner(cloud, dir);
const r = await runner.up();
rmSync(dir, { recursive: true, force: true });
if (r.results.some((x) => x.status !== 'ok')) process.exit(1);
process.stdout.write(`${process.resourceUsage().maxRSS / 1024}\n`);
