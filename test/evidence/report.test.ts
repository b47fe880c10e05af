import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeLambda } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';

let h: Harness;
afterEach(() => h?.cleanup());

async function drilled(): Promise<Record<string, any>> {
  h = new Harness();
  await h.ok(['up']);
  h.cloud.clock.advance(5 * 60_000);
  const r = await h.ok(['failover-test']);
  await h.run(['verify']);
  return r.summary!;
}

describe('drctl report', () => {
  it('writes one self-contained HTML file: no script, nothing to fetch, the drill and verify in it', async () => {
    const drill = await drilled();
    h.cloud.resetCalls();
    const r = await h.run(['--json', 'report', '--out', 'out/report.html']);
    expect(r.code, r.stderr).toBe(0);
    expect(h.cloud.calls).toEqual([]); // a local state: no AWS call at all
    expect(r.summary).toMatchObject({
      ok: true,
      format: 'html',
      drills: 1,
      charts: ['timeline', 'recovery', 'trend'],
    });
    const path = join(h.dir, 'out', 'report.html');
    expect(statSync(path).mode & 0o777).toBe(0o644);
    const html = readFileSync(path, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|url\(/i);
    expect(html).toMatch(/Content-Security-Policy" content="default-src 'none'/);
    expect(html.match(/<svg/g)).toHaveLength(3);
    expect(html).toContain(`recovery ${drill.recoverySeconds} s`);
    expect(html).toMatch(/Readiness \(last verify\)/);
    expect(html).toMatch(/@media print/);
  }, 60_000);

  it('--format md gives the same for a ticket: tables and the charts as text', async () => {
    const drill = await drilled();
    const r = await h.run(['report', '--format', 'md']);
    expect(r.code, r.stderr).toBe(0);
    const md = r.stdout;
    expect(md).toMatch(/^# DR report: drctl/);
    expect(md).toMatch(/^## Readiness \(last verify\)$/m);
    expect(md).toMatch(/^## Last drill$/m);
    expect(md).toMatch(/^## Recovery over all drills$/m);
    expect(md).toMatch(/^## Deployment$/m);
    expect(md).toContain(`**PASS: recovery ${drill.recoverySeconds} s, within the target of 300 s`);
    expect(md).toMatch(/^\| failover \| first 200 from us-west-1 \| .* \| \+\d+ s \|$/m);
    expect(md).toMatch(/\*\*Last drill: which region answered each probe/);
    expect(md).not.toMatch(/<svg/);
    // .md in --out means Markdown too.
    expect((await h.run(['report', '--out', 'r.md'])).code).toBe(0);
    expect(readFileSync(join(h.dir, 'r.md'), 'utf8')).toMatch(/^# DR report/);
  }, 60_000);

  it('before any drill or verify, says what to run', async () => {
    h = new Harness();
    const r = await h.run(['report', '--format', 'md']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/No verify kept yet: run `drctl verify`/);
    expect(r.stdout).toMatch(/No drill has run yet: run `drctl failover-test`/);
  });

  it('after errored drills only: "last drill" and the table agree, and each row shows why', async () => {
    h = new Harness();
    await h.ok(['up']);
    h.cloud.clock.advance(5 * 60_000);
    for (const f of h.cloud.model(FakeLambda).functions.values()) f.files = {};
    for (let i = 0; i < 3; i++) {
      expect((await h.run(['failover-test'])).code).toBe(1);
      h.cloud.clock.advance(60_000);
    }
    const md = (await h.run(['report', '--format', 'md'])).stdout;
    expect(md).not.toMatch(/No drill has run yet/);
    expect(md).toMatch(
      /\*\*None of the 3 recorded drill\(s\) measured a failover; the last, .*, error: the probe function drctl-probe in us-west-1 could not run/,
    );
    const rows = md.split('\n').filter((l) => /^\| \d{4}-/.test(l));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/\| error \|.*could not run .*\|$/);
    expect((await h.run(['report', '--out', 'r.html'])).code).toBe(0);
    const html = readFileSync(join(h.dir, 'r.html'), 'utf8');
    expect(html).not.toMatch(/No drill has run yet/);
    expect(html).toMatch(/None of the 3 recorded drill\(s\) measured a failover/);
    expect(html.match(/could not run/g)!.length).toBeGreaterThanOrEqual(4);
    // `drctl drills` gives the same reason.
    expect((await h.run(['drills'])).stdout).toMatch(
      /ERROR +the probe function drctl-probe in us-west-1 could not run/,
    );
  }, 60_000);

  it('errored drills after a measured one: the last measured drill, and above it what came since', async () => {
    await drilled();
    for (const f of h.cloud.model(FakeLambda).functions.values()) f.files = {};
    h.cloud.clock.advance(60_000);
    expect((await h.run(['failover-test'])).code).toBe(1);
    const md = (await h.run(['report', '--format', 'md'])).stdout;
    expect(md).toMatch(
      /\*\*1 later drill\(s\) did not measure a failover; the last, .*, error: the probe function/,
    );
    expect(md).toMatch(/\*\*PASS: recovery \d+ s/);
  }, 60_000);

  it('bad usage is exit 2 naming the flag, and writes nothing', async () => {
    h = new Harness();
    const bad = await h.run(['report', '--format', 'pdf', '--out', 'x.pdf']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format: must be html or md, not "pdf"/);
    const json = await h.run(['--json', 'report']);
    expect(json.code).toBe(2);
    expect(json.stderr).toMatch(/--out/);
    expect(() => statSync(join(h.dir, 'x.pdf'))).toThrow();
  });
});
