/**
 * `npm run state-example`: regenerates state.example.json from a full `up` on the fake cloud, so
 * the example shows every field every step records (test/docs/state-example.test.ts checks it
 * against the schemas).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Harness } from '../test/support/harness.js';

const h = new Harness();
try {
  const r = await h.run(['--json', 'up']);
  if (r.code !== 0) throw new Error(`up failed: ${r.stderr}`);
  copyFileSync(h.statePath, new URL('../state.example.json', import.meta.url));
  process.stdout.write('state.example.json updated\n');
} finally {
  h.cleanup();
  rmSync(mkdtempSync(join(tmpdir(), 'x')), { recursive: true });
}
