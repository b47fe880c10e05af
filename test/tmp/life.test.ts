import { it } from 'vitest';
import { Harness } from '../support/harness.js';
it('life', async () => {
  const h = new Harness();
  const cfg = process.env.CFG ? JSON.parse(process.env.CFG) : undefined;
  if (cfg) h.writeConfig(cfg);
  for (const args of [
    ['up'],
    ['failover-test'],
    ['failover-test', '--mode', 'outage'],
    ['verify'],
    ['status', '--refresh'],
    ['down', '--yes'],
  ]) {
    const r = await h.run(['--json', ...args]);
    console.log(
      args.join(' '),
      '=>',
      r.code,
      r.code
        ? ((r.stdout + r.stderr).match(/not authorized[^"]*/g)?.slice(0, 3) ??
            r.stderr.slice(0, 600) + r.stdout.slice(-800))
        : '',
    );
  }
  console.log('refusals', JSON.stringify(h.cloud.authorizer.refusals.slice(0, 10)));
  console.log('left', h.cloud.snapshot());
}, 300000);
