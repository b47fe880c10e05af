import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertBuilt, root } from '../support/built-cli.js';

/**
 * README "Install as a command": what `npm pack` makes must install and run outside the clone.
 * Without a `files` field npm packs by .gitignore, which leaves out dist/: `drctl` then fails on
 * its first import. This installs the tarball the way a user would, offline from the npm cache.
 *
 * Slow on purpose (about 35 s: npm unpacks some 375 packages); it is the only test that does.
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

  it('installs from the tarball and answers --help and --version', () => {
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

    // Offline: the npm cache holds the dependencies' tarballs (npm ci filled it) but not the
    // registry's metadata, so the install gets the clone's lockfile, production part, as its own.
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, Record<string, unknown> & { dev?: boolean }>;
    };
    const self = lock.packages['']!;
    const tgz = `file:${packed.filename}`;
    const packages: Record<string, unknown> = { '': { name: 'user', dependencies: { drctl: tgz } } };
    for (const [k, v] of Object.entries(lock.packages))
      if (k.startsWith('node_modules/') && !v.dev) packages[k] = { ...v, devOptional: undefined };
    packages['node_modules/drctl'] = {
      version: self.version,
      resolved: tgz,
      dependencies: self.dependencies,
      bin: self.bin,
      engines: self.engines,
    };
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'user', private: true, dependencies: { drctl: tgz } }),
    );
    writeFileSync(
      join(dir, 'package-lock.json'),
      JSON.stringify({ name: 'user', lockfileVersion: 3, requires: true, packages }),
    );

    const install = npm(['install', '--offline', '--no-audit', '--no-fund', `./${packed.filename}`], dir);
    expect(install.status, install.stderr).toBe(0);

    const drctl = join(dir, 'node_modules/.bin/drctl');
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
