import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DrillHistoryRecord } from '../../src/drill/history.js';
import { Harness } from '../support/harness.js';

// The report in a real browser: Debian's chromium driven by puppeteer-core, with every request
// that is not data: or file: refused, so the page must stand on its own. `.ci/run` installs
// chromium; without it (a developer's machine) this test is skipped, and says why.

const ROOT = new URL('../..', import.meta.url).pathname;
const ARTIFACTS = join(ROOT, 'test', '.artifacts');

function findChromium(): string | undefined {
  for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (p && existsSync(p)) return p;
  }
  const r = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], {
    encoding: 'utf8',
  });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

const chromium = findChromium();
if (!chromium) {
  const why = 'chromium not found (apt-get install -y chromium, or set CHROMIUM_PATH)';
  if (process.env.CI) throw new Error(`report browser test: ${why}; CI must have it (.ci/run installs it)`);
  console.warn(`skipping the report browser test: ${why}`);
}

let h: Harness | undefined;
afterEach(() => {
  h?.cleanup();
  h = undefined;
});

const drills = (dir: string): DrillHistoryRecord[] =>
  spawnSync('ls', [join(dir, '.drctl', 'drills')], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, '.drctl', 'drills', f), 'utf8')) as DrillHistoryRecord);

describe.skipIf(!chromium)('drctl report in a headless browser', () => {
  it('loads with no network, no console error, with the timeline and trend charts of the drills', async () => {
    h = new Harness();
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000);
    expect((await h.run(['failover-test', '--mode', 'invert'])).code).toBe(0);
    h.cloud.clock.advance(20 * 60_000);
    expect((await h.run(['failover-test', '--mode', 'outage'])).code).toBe(0);
    h.cloud.clock.advance(10 * 60_000);
    const verify = await h.run(['verify']);
    expect([0, 3]).toContain(verify.code);
    const out = join(h.dir, 'report.html');
    const r = await h.run(['report', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).size).toBeGreaterThan(10_000);
    const [first, last] = drills(h.dir);

    const { default: puppeteer } = await import('puppeteer-core');
    const browser = await puppeteer.launch({
      executablePath: chromium!,
      args: ['--no-sandbox', '--disable-gpu', '--headless=new'],
    });
    try {
      const page = await browser.newPage();
      const refused: string[] = [];
      const errors: string[] = [];
      await page.setRequestInterception(true);
      page.on('request', (req) => {
        const url = req.url();
        if (url.startsWith('data:') || url.startsWith('file:')) void req.continue();
        else {
          refused.push(url);
          void req.abort();
        }
      });
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.setViewport({ width: 1100, height: 900 });
      await page.goto(`file://${out}`, { waitUntil: 'load' });
      expect(refused, 'requests the page tried to make').toEqual([]);
      expect(errors, 'console errors').toEqual([]);

      const charts = await page.$$eval('figure[data-chart]', (figs) =>
        figs.map((f) => {
          const svg = f.querySelector('svg');
          return {
            id: f.getAttribute('data-chart'),
            role: svg?.getAttribute('role'),
            title: svg?.querySelector('title')?.textContent ?? '',
            desc: svg?.querySelector('desc')?.textContent ?? '',
            text: [...(svg?.querySelectorAll('text') ?? [])].map((t) => t.textContent).join(' | '),
            width: svg?.getBoundingClientRect().width ?? 0,
            table: f.querySelector('table')?.textContent ?? '',
          };
        }),
      );
      expect(charts.map((c) => c.id)).toEqual(['timeline', 'recovery', 'trend']);
      for (const c of charts) {
        expect(c.role, c.id).toBe('img');
        expect(c.title, c.id).not.toBe('');
        expect(c.desc, c.id).not.toBe('');
        expect(c.width, c.id).toBeGreaterThan(300);
      }
      const [timeline, recovery, trend] = charts;
      // The last drill (outage): its lanes, its fault and restore, its numbers.
      expect(timeline!.text).toMatch(/fault injected/);
      expect(timeline!.text).toMatch(/restored/);
      expect(timeline!.text).toMatch(/alarm \(primary\)/);
      expect(timeline!.desc).toContain(`recovery ${last!.recoverySeconds} s`);
      expect(timeline!.table).toContain(`+${last!.recoverySeconds} s`);
      expect(recovery!.text).toContain(String(last!.recoverySeconds));
      expect(recovery!.text).toContain(String(last!.boundSeconds));
      // Both drills in the trend, each with its recovery time.
      expect(trend!.desc).toContain(`${first!.recoverySeconds} s, ${last!.recoverySeconds} s`);
      expect(trend!.text).toContain(`${last!.recoverySeconds} s`);
      expect(trend!.table).toContain('invert');
      expect(trend!.table).toContain('outage');
      // Which region answered each probe: one mark per probe answer of the last drill.
      const probeMarks = await page.$$eval(
        'figure[data-chart="timeline"] svg g.mark-symbol.role-mark path',
        (paths) => paths.length,
      );
      expect(probeMarks).toBe(last!.samples.length);
      // The readiness and deployment sections.
      const body = await page.$eval('body', (b) => b.innerText);
      expect(body).toMatch(/Readiness \(last verify\)/);
      expect(body).toMatch(/per month/);

      // In print, every data table is shown (no collapsed details) and the charts keep their size.
      await page.emulateMediaType('print');
      const printed = await page.$$eval('details table', (tables) =>
        tables.map((t) => t.getBoundingClientRect().height),
      );
      expect(printed.length).toBeGreaterThanOrEqual(3);
      expect(
        printed.every((height) => height > 0),
        'every data table is laid out in print',
      ).toBe(true);
      const summaries = await page.$$eval('details > summary', (ss) =>
        ss.map((x) => x.getBoundingClientRect().height),
      );
      expect(summaries.every((height) => height === 0)).toBe(true);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.emulateMediaType('screen');
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
      expect(statSync(join(ARTIFACTS, 'report.png')).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
