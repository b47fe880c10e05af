import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeSts } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';

// The account guard (issue 23 point 2): the state records the AWS account (and partition) it was
// made in, and every command that calls AWS refuses credentials of another account before any
// change: exit 2, both account ids, the profile in use, what to do. The config may pin
// `allowedAccountIds`. In-process on the fake cloud: its STS says which account the caller is of.

const OTHER = '444455556666';
const OWN = '111122223333'; // the fake cloud's account

const h = new Harness();
const sts = () => h.cloud.model(FakeSts);
const stateText = () => readFileSync(h.statePath, 'utf8');

beforeAll(async () => {
  await h.ok(['up']);
  h.cloud.clock.advance(5 * 60_000);
}, 120_000);
afterAll(() => h.cleanup());
afterEach(() => {
  sts().callerAccount = undefined;
});

/** Runs `args` as a caller of `OTHER`: refused, exit 2, nothing changed in the cloud or the state. */
async function refused(args: string[]) {
  const before = { calls: h.cloud.mutatingCalls.length, state: stateText(), snap: h.cloud.snapshot() };
  sts().callerAccount = OTHER;
  const r = await h.run(args);
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
  expect(h.cloud.mutatingCalls.length, 'no mutating call').toBe(before.calls);
  expect(h.cloud.snapshot()).toEqual(before.snap);
  expect(stateText(), 'the state file is untouched').toBe(before.state);
  expect(existsSync(`${h.statePath}.lock`)).toBe(false);
  return r;
}

describe('the account guard', () => {
  it('up records the account and partition in the state', () => {
    expect(h.state()?.account).toBe(OWN);
    expect(h.state()?.partition).toBe('aws');
  });

  it.each([
    ['up', ['up', '--yes']],
    ['down', ['down', '--yes']],
    ['step', ['step', 'vpc']],
    ['failover-test', ['failover-test']],
    ['verify', ['verify']],
    ['status --refresh', ['status', '--refresh']],
  ])('%s with credentials of another account: exit 2, both ids, the profile, what to do', async (_, args) => {
    const r = await refused(args);
    expect(r.stderr).toContain(`error: credentials: the credentials in use are of AWS account ${OTHER},`);
    expect(r.stderr).toContain(`but the state is of account ${OWN}; nothing was changed`);
    expect(r.stderr).toContain('credentials: the default credentials (no --profile, no AWS_PROFILE)');
    expect(r.stderr).toContain(`state: ${h.statePath}`);
    expect(r.stderr).toMatch(/what to do: Run again with credentials of account 111122223333 \(--profile/);
    expect(r.stderr).toContain('use another --state');
  });

  it('names the profile in use (--profile)', async () => {
    const r = await refused(['--profile', 'prod', 'down', '--yes']);
    expect(r.stderr).toContain('credentials: profile prod (from --profile), arn:aws:sts::444455556666:');
  });

  it('down refuses before it asks for the deployment name', async () => {
    const asked: string[] = [];
    const before = stateText();
    sts().callerAccount = OTHER;
    const r = await h.run(['down'], {
      isTTY: true,
      confirm: (q) => {
        asked.push(q);
        return Promise.resolve('drctl');
      },
    });
    expect(r.code).toBe(2);
    expect(asked).toEqual([]);
    expect(stateText()).toBe(before);
  });

  it('a state written before the account was recorded: the account of its ARNs', async () => {
    const saved = stateText();
    const old = JSON.parse(saved) as Record<string, unknown>;
    delete old.account;
    delete old.partition;
    writeFileSync(h.statePath, `${JSON.stringify(old, null, 2)}\n`);
    try {
      const r = await refused(['down', '--yes']);
      expect(r.stderr).toContain(`but the state is of account ${OWN};`);
    } finally {
      writeFileSync(h.statePath, saved);
    }
  });

  it('--json: the error code is credentials.account', async () => {
    const r = await refused(['--json', 'verify']);
    const error = r.summary?.error as { code: string; field: string } | undefined;
    expect(error?.code).toBe('credentials.account');
    expect(error?.field).toBe('credentials');
  });

  it('the right account passes (status --refresh in sync)', async () => {
    const r = await h.run(['status', '--refresh']);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('allowedAccountIds in the config', () => {
  it('a caller outside it: exit 2 before anything is made, no state written', async () => {
    const x = new Harness();
    try {
      x.writeConfig({ allowedAccountIds: [OTHER] });
      const r = await x.run(['up', '--yes']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`the credentials in use are of AWS account ${OWN},`);
      expect(r.stderr).toContain(`not one of allowedAccountIds (${OTHER}); nothing was changed`);
      expect(r.stderr).toMatch(/what to do: Run again with credentials of account 444455556666 \(/);
      expect(x.cloud.mutatingCalls).toEqual([]);
      expect(x.state()).toBeUndefined();
    } finally {
      x.cleanup();
    }
  });

  it('a caller inside it: runs (plan-free up of the first step)', async () => {
    const x = new Harness();
    try {
      x.writeConfig({ allowedAccountIds: [OWN, OTHER] });
      const r = await x.run(['step', 'keypairs']);
      expect(r.code, r.stderr).toBe(0);
      expect(x.state()?.account).toBe(OWN);
    } finally {
      x.cleanup();
    }
  });

  it('an id that is not 12 digits: exit 2 naming the field', async () => {
    const x = new Harness();
    try {
      x.writeConfig({ allowedAccountIds: ['1234'] });
      const r = await x.run(['up', '--yes']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/allowedAccountIds/);
      expect(r.stderr).toContain('12-digit');
      expect(x.cloud.mutatingCalls).toEqual([]);
    } finally {
      x.cleanup();
    }
  });
});
