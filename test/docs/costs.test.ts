import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Harness } from '../support/harness.js';

// docs/costs.md shows `drctl plan`'s cost table for the default config, and docs/switch.md and
// costs.md name what the traffic hold costs: both must agree with src/plan/pricing.ts to the cent.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const text = (file: string) => readFileSync(join(root, file), 'utf8');

/** The cost table, from its heading line to its last note. */
const costBlock = (s: string) => {
  const from = s.indexOf('cost while it runs');
  const to = s.indexOf('\n', s.indexOf('  not counted:', from));
  return s.slice(from, to);
};

describe('docs/costs.md and docs/switch.md: the prices `drctl plan` gives', () => {
  const h = new Harness();
  afterAll(() => h.cleanup());
  let plan: string | undefined;
  const planText = async () => {
    if (plan === undefined) {
      const r = await h.run(['plan']);
      expect(r.code, r.stderr).toBe(0);
      plan = r.stdout;
    }
    return plan;
  };

  it("costs.md's table is what `drctl plan` prints for the defaults", async () => {
    expect(costBlock(text('docs/costs.md'))).toBe(costBlock(await planText()));
  });

  it('the hold costs, in both pages, the sum of its lines in the plan', async () => {
    const lines = (await planText())
      .split('\n')
      .filter((l) => /traffic hold/.test(l))
      .map((l) => Number(/\$(\d+\.\d\d) /.exec(l.slice(l.indexOf('$', l.indexOf('$') + 1)))![1]));
    expect(lines.length).toBe(3);
    const total = `$${lines.reduce((a, b) => a + b, 0).toFixed(2)}`;
    for (const file of ['docs/costs.md', 'docs/switch.md'])
      expect(text(file).replace(/\s+/g, ' ').includes(`**${total} a month**`), `${file}: ${total}`).toBe(
        true,
      );
    const all = /total\s+\$\S+\s+\$(\d+\.\d\d)/.exec(await planText())![1]!;
    const shown = `$${Number(all).toLocaleString('en-US')}`;
    expect(text('docs/switch.md').includes(shown), `docs/switch.md: the total ${shown}`).toBe(true);
  });
});
