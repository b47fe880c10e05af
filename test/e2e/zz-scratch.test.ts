import { it } from 'vitest';
import { Harness } from '../support/harness.js';
const norm = (s: string[]) => s.map((l) => l.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID').replace(/\b(?=[0-9A-Za-z]*\d)[0-9A-Za-z]{8,}\b/g, 'ID')).sort();
it('matrix', async () => {
  const clean = new Harness();
  await clean.ok(['up']);
  const N = clean.cloud.mutatingCalls.length;
  const expected = norm(clean.cloud.snapshot());
  clean.cleanup();
  const problems: string[] = [];
  const t0 = Date.now();
  for (let n = 1; n <= N; n++) {
    for (const variant of ['late-up', 'down']) {
    const h = new Harness();
    try {
        h.cloud.faults = { crashAfterMutating: n };
        const c = await h.run(['--json', 'up']);
        const call = h.cloud.calls.find((c) => c.mutating && c.outcome === 'SimulatedCrash');
        h.cloud.revive();
        if (variant === 'late-up') {
          h.cloud.clock.advance(3 * 3600_000);
          const r = await h.run(['--json', 'up']);
          if (r.code !== 0) { problems.push(`${variant} crash ${n} (${call?.region}:${call?.command}): rerun exit ${r.code}: ${r.stderr.slice(0, 600)}`); continue; }
          const got = norm(h.cloud.snapshot());
          if (JSON.stringify(got) !== JSON.stringify(expected)) {
            const extra = got.filter((l) => !expected.includes(l) ); const missing = expected.filter((l) => !got.includes(l));
            problems.push(`${variant} crash ${n} (${call?.region}:${call?.command}): snapshot differs: +${extra.join(' +')} -${missing.join(' -')} counts ${got.length}/${expected.length}`);
          }
        } else {
          const r = await h.run(['--json', 'down', '--yes']);
          if (r.code !== 0) { problems.push(`${variant} crash ${n} (${call?.region}:${call?.command}): down exit ${r.code}: ${r.stderr.slice(0, 600)}`); continue; }
          const left = h.cloud.snapshot();
          if (left.length) problems.push(`${variant} crash ${n} (${call?.region}:${call?.command}): left ${left.join(' ')}`);
        }
    } finally { h.cleanup(); }
    }
  }
  console.log(`N=${N} ms=${Date.now() - t0}\n` + problems.join('\n'));
}, 600_000);
