import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertBuilt, root } from '../support/built-cli.js';

/**
 * README "Install as a command": what `npm pack` makes must install and run outside the clone.
 * Without a `files` field npm packs by .gitignore, which leaves out dist/: `drctl` then fails on
 * its first import. This packs, unpacks the tarball outside the clone and runs its `drctl`.
 */
const npm = (args: string[], cwd: string) =>
  spawnSync('npm', args, {
    cwd,
    encoding: 'utf8',
    timeout: 170_000,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });

describe('npm pack yields a package that runs as a command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drctl-pack-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('packs what runs: the unpacked tarball answers --help and --version', () => {
    assertBuilt();
    // --ignore-scripts: `prepare` would rebuild dist/ under the feet of the other tests; it is fresh.
    const pack = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root);
    expect(pack.status, pack.stderr).toBe(0);
    const [packed] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('dist/cli/main.js');
    expect(paths).toContain('bin/drctl.js');
    expect(paths).toContain('templates/vpc.template.json');
    expect(paths.filter((p) => /^(src|test|bench|scripts)\//.test(p))).toEqual([]);

    // The package as npm would unpack it, its dependencies the clone's (an install from the
    // registry cannot run here, offline; which files the package holds is what this checks).
    const unpacked = spawnSync('tar', ['xzf', join(dir, packed.filename), '-C', dir], { encoding: 'utf8' });
    expect(unpacked.status, unpacked.stderr).toBe(0);
    symlinkSync(join(root, 'node_modules'), join(dir, 'package/node_modules'), 'dir');
    const self = JSON.parse(readFileSync(join(dir, 'package/package.json'), 'utf8')) as { version: string };

    const drctl = join(dir, 'package/bin/drctl.js');
    const help = spawnSync(drctl, ['--help'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, HOME: dir },
    });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: drctl /);
    const version = spawnSync(drctl, ['--version'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, HOME: dir },
    });
    expect(version.stdout.trim()).toContain(String(self.version));
  }, 180_000);
});
