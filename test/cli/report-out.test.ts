import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtCliWorkdirs } from '../support/built-cli.js';

// `report --out` on a path the user got wrong (issue 23, point 5): a usage error naming --out,
// exit 2, never drctl's "internal error", and no temporary file left anywhere.

const workdir = builtCliWorkdirs();

function expectUsage(r: { code: number | null; stderr: string }, words: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--out: /);
  expect(r.stderr).toMatch(words);
  expect(r.stderr).not.toMatch(/internal error|bug in drctl/);
  for (const line of r.stderr.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
}

describe('report --out on a path that cannot take the file', () => {
  it('a directory: usage error, and no temporary file beside it', () => {
    const cli = workdir();
    mkdirSync(join(cli.dir, 'reports'));
    const before = readdirSync(cli.dir);
    expectUsage(cli.run(['report', '--out', 'reports']), /is a directory, not a file/);
    expect(readdirSync(cli.dir)).toEqual(before);
    expect(readdirSync(join(cli.dir, 'reports'))).toEqual([]);
  });

  it('a folder that does not exist is made, as before; a file on the way there is a usage error', () => {
    const cli = workdir();
    expect(cli.run(['report', '--out', 'nosuch/deeper/r.html']).code).toBe(0);
    expect(readdirSync(join(cli.dir, 'nosuch/deeper'))).toEqual(['r.html']);
    writeFileSync(join(cli.dir, 'plain'), 'x');
    const before = readdirSync(cli.dir);
    expectUsage(cli.run(['report', '--out', 'plain/sub/r.html']), /is a file, not a folder/);
    expect(readdirSync(cli.dir)).toEqual(before);
  });

  it('a file where a folder should be: usage error', () => {
    const cli = workdir();
    writeFileSync(join(cli.dir, 'plain'), 'x');
    expectUsage(cli.run(['report', '--out', 'plain/r.html']), /is a file, not a folder/);
    expect(readFileSync(join(cli.dir, 'plain'), 'utf8')).toBe('x');
  });

  it('a read-only folder: usage error, and no temporary file in it', () => {
    const cli = workdir();
    // root writes through permission bits; sysfs refuses to create files even to root.
    const root = process.getuid?.() === 0;
    const ro = root ? '/sys' : join(cli.dir, 'ro');
    if (!root) {
      mkdirSync(ro);
      chmodSync(ro, 0o555);
    }
    const before = readdirSync(ro);
    expectUsage(cli.run(['report', '--out', join(ro, 'r.html')]), /no permission|read-only/);
    expect(readdirSync(ro)).toEqual(before);
    if (!root) chmodSync(ro, 0o755);
  });

  it('a good path still gets the report, and only the report', () => {
    const cli = workdir();
    mkdirSync(join(cli.dir, 'out'));
    const r = cli.run(['report', '--out', 'out/r.md']);
    expect(r.code).toBe(0);
    expect(readdirSync(join(cli.dir, 'out'))).toEqual(['r.md']);
  });
});
