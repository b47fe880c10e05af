import { readFileSync } from 'node:fs';

let version: string | undefined;

/** drctl's own version, from the package.json two levels above this file (in src/ and in dist/). */
export function drctlVersion(): string {
  if (version) return version;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    version = pkg.version ?? 'unknown';
  } catch {
    version = 'unknown';
  }
  return version;
}
