import { readFileSync, type PathOrFileDescriptor } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Harness } from '../support/harness.js';
import { upTo } from '../support/steps.js';

// A save cut off part-way (power lost, disk full, the process killed mid-write) must leave the
// previous state file whole: the store writes it atomically (docs/state.md), a temp file renamed
// over the old one (writeFileAtomic in src/lib/files.ts). Here node:fs itself is cut off: once
// armed, the first write of a new state text writes half of it and throws, and every write after
// it throws too (the process is gone), so nothing later can repair what was left on disk.
const cut = vi.hoisted(() => ({ armed: false, dead: false, current: '' }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const interrupt = (data: unknown, writeHalf: (half: string) => void): void => {
    if (cut.dead) throw Object.assign(new Error('EIO: the process is gone'), { code: 'EIO' });
    if (!cut.armed || typeof data !== 'string' || !data.includes('"steps"') || data === cut.current) return;
    cut.armed = false;
    cut.dead = true;
    writeHalf(data.slice(0, Math.floor(data.length / 2)));
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
  const writeSync = ((fd: number, data: unknown, ...rest: unknown[]) => {
    interrupt(data, (half) => fs.writeSync(fd, half));
    return (fs.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
  }) as typeof fs.writeSync;
  const writeFileSync = ((path: PathOrFileDescriptor, data: unknown, ...rest: unknown[]) => {
    interrupt(data, (half) => fs.writeFileSync(path, half));
    return (fs.writeFileSync as (...a: unknown[]) => void)(path, data, ...rest);
  }) as typeof fs.writeFileSync;
  return { ...fs, default: { ...fs, writeSync, writeFileSync }, writeSync, writeFileSync };
});

// The setup file (iam-ledger-flush.ts) loaded src/state before this file's mock existed: load drctl
// afresh so its modules see the mocked node:fs.
async function freshHarness(): Promise<Harness> {
  vi.resetModules();
  const { Harness: Fresh } = await import('../support/harness.js');
  return new Fresh();
}

let h: Harness;
afterEach(() => {
  cut.armed = cut.dead = false;
  h?.cleanup();
});

describe('a state save interrupted part-way', () => {
  it('leaves the previous state file readable and whole, and the next run goes on from it', async () => {
    h = await freshHarness();
    await h.ok(['up'], upTo('keypairs'));
    const before = readFileSync(h.statePath, 'utf8');
    cut.current = before;
    cut.armed = true;
    const r = await h.run(['--json', 'up'], upTo('vpc'));
    expect(cut.dead, 'no state save was interrupted').toBe(true);
    cut.dead = false;
    expect(r.code).not.toBe(0);
    const after = readFileSync(h.statePath, 'utf8');
    expect(() => JSON.parse(after) as unknown, 'the state file after the interrupted save').not.toThrow();
    expect(JSON.parse(after)).toEqual(JSON.parse(before));
    // drctl itself reads it and finishes the job.
    await h.ok(['up'], upTo('vpc'));
    expect(h.outputs('vpc', 'sa-east-1').vpcId).toMatch(/^vpc-/);
  });
});
