import { it } from 'vitest';
import { rmSync } from 'node:fs';
import { Harness } from '../support/harness.js';
it('lost', async () => {
  const h = new Harness();
  const cfg = process.env.CFG ? JSON.parse(process.env.CFG) : undefined;
  if (cfg) h.writeConfig(cfg);
  let r = await h.run(['--json', 'up']);
  console.log('up', r.code);
  rmSync(h.statePath);
  r = await h.run(['--json', 'down', '--discover', '--yes']);
  console.log('down --discover', r.code, r.stdout.slice(-1500), r.stderr.slice(0, 500));
  console.log('refusals', JSON.stringify(h.cloud.authorizer.refusals.slice(0, 10)));
  console.log('left', h.cloud.snapshot());
}, 300000);
