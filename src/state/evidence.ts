import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/files.js';

/**
 * What drctl keeps beside the state as evidence: a record of every drill (`drills/<time>-<mode>.json`)
 * and the last `verify` (`verify/last.json`). Beside a local state file, in its directory (.drctl/);
 * beside an S3 state object, under the same key prefix (src/state/s3.ts). Files are written
 * atomically, mode 0600, like the state; they hold ids and timings, never keys or credentials.
 */
export interface EvidenceStore {
  /** Where a name lives, as people read it (a path or an s3:// URL). */
  where(name: string): string;
  put(name: string, text: string): Promise<void>;
  get(name: string): Promise<string | undefined>;
  /** The names under `dir/`, sorted. */
  list(dir: string): Promise<string[]>;
}

export const DRILLS_DIR = 'drills';
export const LAST_VERIFY = 'verify/last.json';

export class FileEvidence implements EvidenceStore {
  constructor(readonly root: string) {}

  where(name: string): string {
    return join(this.root, name);
  }

  put(name: string, text: string): Promise<void> {
    writeFileAtomic(this.where(name), text);
    return Promise.resolve();
  }

  get(name: string): Promise<string | undefined> {
    const p = this.where(name);
    return Promise.resolve(existsSync(p) ? readFileSync(p, 'utf8') : undefined);
  }

  list(dir: string): Promise<string[]> {
    const p = this.where(dir);
    if (!existsSync(p)) return Promise.resolve([]);
    return Promise.resolve(
      readdirSync(p)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => `${dir}/${f}`),
    );
  }
}
