import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * One AWS SDK line (issue 23). Clients of different SDK releases each bring their own copies of
 * the @smithy/* runtime (38 copies of @smithy/types once): a bigger install, and middleware of one
 * release meeting objects of another. package.json pins the stragglers with `overrides`; this test
 * fails when the lockfile holds two versions of any @smithy/*, @aws-sdk/* or @aws-crypto/* package.
 */
interface Lock {
  packages: Record<string, { version?: string }>;
}
interface Manifest {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const read = <T>(file: string) => JSON.parse(readFileSync(file, 'utf8')) as T;

/** Every package name in the lockfile with the set of its versions. */
export function versionsByName(lock: Lock): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const at = path.lastIndexOf('node_modules/');
    if (at < 0 || entry.version === undefined) continue;
    const name = path.slice(at + 'node_modules/'.length);
    const versions = out.get(name) ?? new Set<string>();
    versions.add(entry.version);
    out.set(name, versions);
  }
  return out;
}

describe('dependencies', () => {
  it('the lockfile has one version of each @smithy/*, @aws-sdk/* and @aws-crypto/* package', () => {
    const dups = [...versionsByName(read<Lock>('package-lock.json'))]
      .filter(([name, versions]) => /^@(smithy|aws-sdk|aws-crypto)\//.test(name) && versions.size > 1)
      .map(([name, versions]) => `${name}: ${[...versions].join(', ')}`);
    expect(dups).toEqual([]);
  });

  it('Node 22 and 24 (the maintained LTS lines): engines, @types/node and the README agree', () => {
    const manifest = read<Manifest>('package.json');
    expect(manifest.engines.node).toBe('>=22');
    expect(manifest.devDependencies['@types/node']).toMatch(/^\^22\./);
    expect(readFileSync('README.md', 'utf8')).toContain('Node.js 22 or newer');
  });
});
