import { S3Client } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { State } from '../../src/state/schema.js';
import { STEPS } from '../../src/steps/index.js';
import { FakeS3 } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';

const FIRST_TWO = { steps: STEPS.slice(0, 2) };
const BUCKET = 'team-state';
const KEY = 'drctl/prod.json';
const STATE = ['--state', `s3://${BUCKET}/${KEY}`];

let harnesses: Harness[] = [];
afterEach(() => {
  for (const h of harnesses) h.cleanup();
  harnesses = [];
});

/** Two team mates' working directories (each with its own .drctl), one AWS account. */
async function team(): Promise<[Harness, Harness]> {
  const a = new Harness();
  const b = new Harness(a.cloud);
  harnesses.push(a, b);
  // The team made the bucket beforehand; drctl only reads and writes its keys.
  await a.teamBucket(BUCKET, 'sa-east-1');
  return [a, b];
}

const stored = (h: Harness, key = KEY) => h.cloud.model(FakeS3).objectText(BUCKET, key);
const storedState = (h: Harness) => JSON.parse(stored(h)!) as State;
const count = (snap: string[], kind: string) => snap.filter((l) => l.includes(kind)).length;

describe('team state on S3 (--state s3://bucket/key)', () => {
  it('up keeps the state in the bucket, not on disk; the other team mate sees it; down empties it', async () => {
    const [a, b] = await team();
    await a.ok([...STATE, 'up'], FIRST_TWO);
    expect(storedState(a).steps.vpc!['sa-east-1']!.status).toBe('ready');
    expect(existsSync(a.statePath)).toBe(false);
    expect(stored(a, `${KEY}.lock`)).toBeUndefined();
    expect(stored(a, `${KEY}.bak`)).toBeDefined();
    expect(stored(a)).not.toContain('PRIVATE KEY');
    // Keys stay local, beside where a local state would be.
    expect(existsSync(join(a.dir, '.drctl', 'keys', 'sa-east-1.pem'))).toBe(true);

    const status = await b.run([...STATE, 'status'], FIRST_TWO);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/vpc sa-east-1: ready/);

    await a.ok([...STATE, 'down', '--yes'], FIRST_TWO);
    expect(storedState(a).steps).toEqual({});
    expect(a.cloud.snapshot()).toEqual([`s3/sa-east-1/bucket/${BUCKET}`]);
  });

  it('two concurrent up runs: exactly one gets the lock, the other exits 2 naming the holder', async () => {
    const [a, b] = await team();
    const [ra, rb] = await Promise.all([
      a.run([...STATE, 'up'], FIRST_TWO),
      b.run([...STATE, 'up'], FIRST_TWO),
    ]);
    expect([ra.code, rb.code].sort()).toEqual([0, 2]);
    const loser = ra.code === 2 ? ra : rb;
    expect(loser.stderr).toContain(
      `state s3://${BUCKET}/${KEY} is locked by pid ${process.pid} on ${hostname()}`,
    );
    expect(loser.stderr).toContain('`drctl up`');
    expect(loser.stderr).toContain('drctl unlock');
    // The winner built everything once; the loser changed nothing.
    const snap = a.cloud.snapshot();
    expect(count(snap, '/key-pair/')).toBe(2);
    expect(count(snap, '/stack/')).toBe(2);
    expect(storedState(a).steps.vpc!['us-west-1']!.status).toBe('ready');
    expect(stored(a, `${KEY}.lock`)).toBeUndefined();
  });

  it('with --lock-timeout the second run waits for the first, then finds everything done', async () => {
    const [a, b] = await team();
    const wait = ['--lock-timeout', '3600'];
    const [ra, rb] = await Promise.all([
      a.run([...STATE, ...wait, '--json', 'up'], FIRST_TWO),
      b.run([...STATE, ...wait, '--json', 'up'], FIRST_TWO),
    ]);
    expect([ra.code, rb.code]).toEqual([0, 0]);
    const outcomes = (r: typeof ra) =>
      r.events.filter((e) => e.type === 'step-done').map((e) => (e as { outcome: string }).outcome);
    const waited = (r: typeof ra) =>
      r.events.some(
        (e) => e.type === 'log' && /waiting up to 3600 s for the state lock held by pid \d+/.test(e.message),
      );
    expect([waited(ra), waited(rb)].sort()).toEqual([false, true]);
    const [first, second] = waited(rb) ? [ra, rb] : [rb, ra];
    expect(outcomes(first)).toEqual(['created', 'created', 'created', 'created']);
    // The second read the state again once it had the lock: the stacks are recorded and unchanged.
    // (Its key pairs are not: their PEM files are in the first one's directory; see the report.)
    const vpc = second.events.filter((e) => e.type === 'step-done' && e.step === 'vpc');
    expect(vpc.map((e) => (e as { outcome: string }).outcome)).toEqual(['unchanged', 'unchanged']);
    expect(count(a.cloud.snapshot(), '/stack/')).toBe(2);
    expect(count(a.cloud.snapshot(), '/key-pair/')).toBe(2);
  });

  it('drctl unlock removes a lock on S3 left by a run that is gone, naming its holder', async () => {
    const [a] = await team();
    await a.ok([...STATE, 'up'], FIRST_TWO);
    const s3 = new S3Client({
      region: 'sa-east-1',
      credentials: () => Promise.resolve({ accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' }),
    });
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    // Ana's run on her laptop left its lock: written by another user, not by this drctl.
    await a.cloud.authorizer.asAdmin(() =>
      s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: `${KEY}.lock`,
          Body: JSON.stringify({
            pid: 4242,
            host: 'laptop-7',
            user: 'ana',
            command: 'down',
            startedAt: 'then',
          }),
        }),
      ),
    );
    const refused = await a.run([...STATE, 'up'], FIRST_TWO);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('locked by pid 4242 on laptop-7 (ana, `drctl down`');
    const id = /lock id (\S+)/.exec(refused.stderr)?.[1];
    expect(refused.stderr).toContain(`drctl unlock ${id}`);
    // Another host: drctl cannot tell whether it still runs, so it asks (no terminal: --yes).
    expect((await a.run([...STATE, 'unlock', id!])).code).toBe(2);
    const r = await a.run([...STATE, 'unlock', id!, '--yes']);
    expect(r.code).toBe(0);
    expect(r.stderr + r.stdout).toContain(`removed lock ${id} of pid 4242 on laptop-7`);
    expect(stored(a, `${KEY}.lock`)).toBeUndefined();
    await a.ok([...STATE, 'up'], FIRST_TWO);
  });
});
