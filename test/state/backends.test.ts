import {
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { AwsStepError, LockedError, UsageError } from '../../src/errors/errors.js';
import type { LockInfo } from '../../src/state/lock.js';
import type { State } from '../../src/state/schema.js';
import { StateStore, type StoreOptions } from '../../src/state/store.js';
import { type FakeCloud, FakeS3, createFakeCloud } from '../support/fake-cloud/index.js';

const config = defaultConfig();
const credentials = () => Promise.resolve({ accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' });

/** One place the state can live, with raw access to what is stored there. */
interface Env {
  location: string;
  opts: StoreOptions;
  cloud: FakeCloud;
  dir: string;
  raw(): string | undefined;
  setRaw(text: string): Promise<void>;
  backup(): string | undefined;
  lockText(): string | undefined;
  setLock(info: LockInfo): Promise<void>;
  cleanup(): void;
}

const BUCKET = 'team-state';
const KEY = 'drctl/prod.json';

function fileEnv(): Env {
  const dir = mkdtempSync(join(tmpdir(), 'drctl-state-'));
  const cloud = createFakeCloud();
  const location = join(dir, 'state.json');
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);
  return {
    location,
    cloud,
    dir,
    opts: { cwd: dir, clock: cloud.clock, rescuePath: join(dir, 'state.rejected.json') },
    raw: () => read(location),
    setRaw: (text) => Promise.resolve(writeFileSync(location, text)),
    backup: () => read(`${location}.bak`),
    lockText: () => read(`${location}.lock`),
    setLock: (info) => Promise.resolve(writeFileSync(`${location}.lock`, JSON.stringify(info))),
    cleanup: () => {
      cloud.uninstall();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The backend runs as drctl does with `--state s3://<stateS3>`: under the policy `drctl iam-policy`
 * prints for that location. The bucket, and what the test writes there by hand, are another user's.
 */
async function s3Env(stateS3 = { bucket: BUCKET, key: KEY }): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'drctl-state-'));
  const cloud = createFakeCloud();
  cloud.authorizer.actAs(config, { stateS3 });
  // The bucket is in us-east-1, the deployment's primary region is sa-east-1: the backend looks it up.
  const s3 = new S3Client({ region: 'us-east-1', credentials });
  await cloud.authorizer.asAdmin(() => s3.send(new CreateBucketCommand({ Bucket: BUCKET })));
  const model = cloud.model(FakeS3);
  const put = (key: string, text: string) =>
    cloud.authorizer
      .asAdmin(() => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: text })))
      .then(() => undefined);
  return {
    location: `s3://${BUCKET}/${KEY}`,
    cloud,
    dir,
    opts: {
      clock: cloud.clock,
      aws: { credentials },
      region: config.primary.region,
      rescuePath: join(dir, 'state.rejected.json'),
    },
    raw: () => model.objectText(BUCKET, KEY),
    setRaw: (text) => put(KEY, text),
    backup: () => model.objectText(BUCKET, `${KEY}.bak`),
    lockText: () => model.objectText(BUCKET, `${KEY}.lock`),
    setLock: (info) => put(`${KEY}.lock`, JSON.stringify(info)),
    cleanup: () => {
      cloud.uninstall();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const KINDS: Array<{ name: string; make: () => Env | Promise<Env> }> = [
  { name: 'file', make: fileEnv },
  { name: 's3', make: s3Env },
];

let env: Env | undefined;
afterEach(() => {
  env?.cleanup();
  env = undefined;
});

const load = (e: Env) => StateStore.load(e.location, config, e.opts);
const KEYPAIR = { keyName: 'drctl-sa-east-1', keyPairId: 'key-0123abcd' };

/** record() then wait for the save: a file's is done already, S3's is queued. */
async function recordAndFlush(store: StateStore, step: string, resources: Record<string, unknown>) {
  store.record(step, 'sa-east-1', 'ready', resources);
  await store.flush();
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

for (const kind of KINDS) {
  describe(`the ${kind.name} state backend`, () => {
    it('a new state is empty and nothing is stored until the first record', async () => {
      env = await kind.make();
      const store = await load(env);
      expect(store.existed).toBe(false);
      expect(store.state.steps).toEqual({});
      expect(env.raw()).toBeUndefined();
      await recordAndFlush(store, 'keypairs', KEYPAIR);
      const stored = JSON.parse(env.raw()!) as State;
      expect(stored.steps.keypairs!['sa-east-1']!.resources).toEqual(KEYPAIR);
    });

    it('records, merges and forgets round-trip through a reload', async () => {
      env = await kind.make();
      const store = await load(env);
      store.record('keypairs', 'sa-east-1', 'creating', { keyName: 'drctl-sa-east-1' });
      store.record('keypairs', 'sa-east-1', 'ready', { keyPairId: 'key-0123abcd' });
      store.record('vpc', 'us-west-1', 'creating', { stackId: 'arn:x', subnets: ['a', 'b'], n: 2, ok: null });
      store.record('vpc', 'sa-east-1', 'creating', { stackId: 'arn:y' });
      store.forget('vpc', 'sa-east-1');
      await store.flush();
      const again = await load(env);
      expect(again.existed).toBe(true);
      expect(again.state).toEqual(store.state);
      expect(again.get('keypairs', 'sa-east-1')).toMatchObject({ status: 'ready', resources: KEYPAIR });
      expect(again.get('vpc', 'sa-east-1')).toBeUndefined();
      expect(again.get('vpc', 'us-west-1')!.resources.subnets).toEqual(['a', 'b']);
    });

    const bad: Array<{ name: string; text: (s: State) => string; field: RegExp }> = [
      { name: 'truncated', text: (s) => JSON.stringify(s).slice(0, 40), field: /^state: .*not valid JSON/ },
      { name: 'empty', text: () => '', field: /^state: .*not valid JSON/ },
      { name: 'not an object', text: () => '[]', field: /^state: / },
      {
        name: 'a future version',
        text: (s) => JSON.stringify({ ...s, version: 2 }),
        field: /^state\.version: unsupported state version/,
      },
      {
        name: 'another deployment',
        text: (s) => JSON.stringify({ ...s, deployment: 'other' }),
        field: /^deployment: .*belongs to deployment "other"/,
      },
      {
        name: 'other regions',
        text: (s) => JSON.stringify({ ...s, regions: { primary: 'eu-west-1', secondary: 'us-west-1' } }),
        field: /^primary\.region: .*made for primary region eu-west-1/,
      },
      {
        name: 'a bad status',
        text: (s) => JSON.stringify(s).replace('"ready"', '"done"'),
        field: /^state\.steps\.keypairs\.sa-east-1\.status/,
      },
      {
        name: 'an unknown field',
        text: (s) => JSON.stringify({ ...s, extra: 1 }),
        field: /^state: /,
      },
    ];
    for (const b of bad) {
      it(`a ${b.name} state is refused naming the field, and nothing is changed`, async () => {
        env = await kind.make();
        const store = await load(env);
        await recordAndFlush(store, 'keypairs', KEYPAIR);
        const text = b.text(store.state);
        await env.setRaw(text);
        const backupBefore = env.backup();
        const err = await failure(load(env));
        expect(err).toBeInstanceOf(UsageError);
        expect(err.message).toMatch(b.field);
        expect((err as UsageError).exitCode).toBe(2);
        expect(env.raw()).toBe(text);
        expect(env.backup()).toBe(backupBefore);
        expect(env.lockText()).toBeUndefined();
      });
    }

    it('a second drctl is refused the lock, naming the holder; unlock releases it', async () => {
      env = await kind.make();
      const first = await load(env);
      await first.lock('up');
      expect(JSON.parse(env.lockText()!)).toMatchObject({
        pid: process.pid,
        host: hostname(),
        command: 'up',
      });
      const second = await load(env);
      const err = await failure(second.lock('down'));
      expect(err).toBeInstanceOf(LockedError);
      expect((err as LockedError).exitCode).toBe(2);
      expect(err.message).toContain(`locked by pid ${process.pid} on ${hostname()}`);
      expect(err.message).toContain('`drctl up`');
      expect((err as LockedError).resolution).toContain('drctl unlock');
      await first.unlock();
      expect(env.lockText()).toBeUndefined();
      await second.lock('down');
      await second.unlock();
    });

    it('with a lock timeout the second waits, says for whom, and gets the lock once it is released', async () => {
      env = await kind.make();
      const first = await load(env);
      await first.lock('up');
      const second = await load(env);
      const waits: string[] = [];
      const t0 = env.cloud.clock.now();
      const pending = second.lock('up', { timeoutMs: 600_000, onWait: (who) => waits.push(who) });
      await env.cloud.clock.sleep(30_000);
      await first.unlock();
      await pending;
      expect(waits).toHaveLength(1);
      expect(waits[0]).toContain(`pid ${process.pid}`);
      expect(env.cloud.clock.now() - t0).toBeLessThan(45_000);
      expect(JSON.parse(env.lockText()!).command).toBe('up');
      await second.unlock();
    });

    it('a lock timeout that runs out is refused, naming the holder', async () => {
      env = await kind.make();
      const first = await load(env);
      await first.lock('up');
      const second = await load(env);
      const t0 = env.cloud.clock.now();
      const err = await failure(second.lock('up', { timeoutMs: 20_000 }));
      expect(err).toBeInstanceOf(LockedError);
      expect(err.message).toMatch(new RegExp(`locked by pid ${process.pid} .*\\(waited \\d+ s\\)`));
      expect(env.cloud.clock.now() - t0).toBeLessThanOrEqual(20_000);
    });

    it('a forced unlock takes the lock id and names the holder; the old holder then never removes the new lock', async () => {
      env = await kind.make();
      expect(await StateStore.readLock(env.location, env.opts)).toBeUndefined();
      const first = await load(env);
      await first.lock('up');
      const holder = await StateStore.readLock(env.location, env.opts);
      expect(holder).toMatchObject({ pid: process.pid, command: 'up' });
      expect(await StateStore.removeLock(env.location, 'another-id', env.opts)).toBe(false);
      expect(env.lockText()).toBeDefined();
      expect(await StateStore.removeLock(env.location, holder!.id!, env.opts)).toBe(true);
      expect(env.lockText()).toBeUndefined();
      const second = await load(env);
      await second.lock('down');
      await first.unlock();
      expect(JSON.parse(env.lockText()!).command).toBe('down');
      await second.unlock();
      expect(env.lockText()).toBeUndefined();
    });

    it('a lock left by a dead process on this host is taken over', async () => {
      env = await kind.make();
      await env.setLock({
        pid: 2 ** 22 + 12345,
        host: hostname(),
        user: 'x',
        command: 'up',
        startedAt: 'then',
      });
      const store = await load(env);
      const tookOver: unknown[] = [];
      await store.lock('up', { onTakeOver: (stale) => tookOver.push(stale) });
      expect(JSON.parse(env.lockText()!).pid).toBe(process.pid);
      expect(tookOver).toMatchObject([{ pid: 2 ** 22 + 12345, command: 'up' }]);
      await store.unlock();
    });

    it('a refused lock names its id, the one `drctl unlock` takes', async () => {
      env = await kind.make();
      await env.setLock({
        pid: 1,
        host: 'ci-runner-7',
        user: 'ci',
        command: 'down',
        startedAt: 'then',
        id: 'abc-123',
      });
      const err = await failure((await load(env)).lock('up'));
      expect(err.message).toContain('lock id abc-123');
      expect((err as LockedError).resolution).toContain('drctl unlock abc-123');
    });

    it('a lock held on another host is never taken over', async () => {
      env = await kind.make();
      await env.setLock({ pid: 1, host: 'ci-runner-7', user: 'ci', command: 'down', startedAt: 'then' });
      const err = await failure((await load(env)).lock('up'));
      expect(err.message).toContain('locked by pid 1 on ci-runner-7 (ci, `drctl down`');
    });

    it('the previous version is kept as the backup', async () => {
      env = await kind.make();
      const store = await load(env);
      await recordAndFlush(store, 'keypairs', KEYPAIR);
      expect(env.backup()).toBeUndefined();
      const first = env.raw();
      await recordAndFlush(store, 'vpc', { vpcId: 'vpc-0123abcd' });
      expect(env.backup()).toBe(first);
      expect((JSON.parse(env.backup()!) as State).steps.vpc).toBeUndefined();
    });

    it('a writer that bypassed the lock is detected instead of overwritten, and our records are kept aside', async () => {
      env = await kind.make();
      const a = await load(env);
      const b = await load(env);
      await recordAndFlush(a, 'keypairs', KEYPAIR);
      const aText = env.raw();
      const err = await failure(
        (async () => {
          b.record('vpc', 'sa-east-1', 'creating', { vpcId: 'vpc-0b0b0b0b' });
          await b.flush();
        })(),
      );
      expect(err).toBeInstanceOf(AwsStepError);
      expect(err.message).toContain('changed by another writer');
      expect((err as AwsStepError).context.awsCode).toBe('PreconditionFailed');
      expect(env.raw()).toBe(aText);
      const rescued = JSON.parse(readFileSync(join(env.dir, 'state.rejected.json'), 'utf8')) as State;
      expect(rescued.steps.vpc!['sa-east-1']!.resources.vpcId).toBe('vpc-0b0b0b0b');
      // Further records fail the same way rather than being lost quietly.
      expect(() => b.record('vpc', 'sa-east-1', 'creating', { more: 1 })).toThrow(/another writer/);
    });

    it('the state is read again once the lock is ours: the previous holder may have changed it', async () => {
      env = await kind.make();
      const a = await load(env);
      const b = await load(env);
      await a.lock('up');
      await recordAndFlush(a, 'keypairs', KEYPAIR);
      await a.unlock();
      expect(b.get('keypairs', 'sa-east-1')).toBeUndefined();
      await b.lock('up');
      expect(b.get('keypairs', 'sa-east-1')!.resources).toEqual(KEYPAIR);
      await recordAndFlush(b, 'vpc', { vpcId: 'vpc-0123abcd' });
      expect(Object.keys((JSON.parse(env.raw()!) as State).steps).sort()).toEqual(['keypairs', 'vpc']);
      await b.unlock();
    });
  });
}

describe('the S3 state backend on AWS terms', () => {
  it('finds the bucket region, encrypts with the bucket default, and writes conditionally', async () => {
    env = await s3Env({ bucket: 'eu-state', key: 'drctl.json' });
    const s3 = new S3Client({ region: 'eu-west-1', credentials });
    await env.cloud.authorizer.asAdmin(async () => {
      await s3.send(
        new CreateBucketCommand({
          Bucket: 'eu-state',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      );
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: 'eu-state',
          ServerSideEncryptionConfiguration: {
            Rules: [
              {
                ApplyServerSideEncryptionByDefault: {
                  SSEAlgorithm: 'aws:kms',
                  KMSMasterKeyID: 'alias/state',
                },
              },
            ],
          },
        }),
      );
    });
    env.cloud.resetCalls();
    const store = await StateStore.load('s3://eu-state/drctl.json', config, env.opts);
    await store.lock('up');
    await recordAndFlush(store, 'keypairs', KEYPAIR);
    await recordAndFlush(store, 'vpc', { vpcId: 'vpc-0123abcd' });
    await store.unlock();
    const puts = env.cloud.calls.filter((c) => c.command === 'PutObject');
    expect(puts.every((c) => c.region === 'eu-west-1')).toBe(true);
    const inputs = puts.map((c) => c.input as Record<string, unknown>);
    expect(inputs.every((i) => i.ServerSideEncryption === 'aws:kms' && i.SSEKMSKeyId === 'alias/state')).toBe(
      true,
    );
    expect(inputs.map((i) => [i.Key, i.IfNoneMatch ?? (i.IfMatch ? 'IfMatch' : '-')])).toEqual([
      ['drctl.json.lock', '*'],
      ['drctl.json', '*'],
      ['drctl.json', 'IfMatch'],
      ['drctl.json.bak', '-'],
    ]);
    const deletes = env.cloud.calls.filter((c) => c.command === 'DeleteObject');
    expect(deletes.map((c) => (c.input as { IfMatch?: string }).IfMatch)).toEqual([
      expect.stringMatching(/^"/),
    ]);
  });

  it('a bucket that does not exist is a usage error naming --state', async () => {
    env = await s3Env({ bucket: 'no-such-state-bucket', key: 'x.json' });
    const err = await failure(StateStore.load('s3://no-such-state-bucket/x.json', config, env.opts));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toMatch(/^--state: bucket no-such-state-bucket .* does not exist/);
  });

  it('loads no AWS SDK for a file state', () => {
    // state/store.ts imports the S3 backend only for s3:// locations.
    const text = readFileSync(new URL('../../src/state/store.ts', import.meta.url), 'utf8');
    expect(text).not.toMatch(/from '@aws-sdk/);
    expect(text).not.toMatch(/^import .*\/s3\.js/m);
  });
});
