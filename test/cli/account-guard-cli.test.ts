import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtCliWorkdirs } from '../support/built-cli.js';
import { type Exit, runDrctl, userEnv } from '../support/cli-process.js';

// The account guard (issue 23 point 2) as a user meets it: the built CLI in a child process on the
// fake cloud. The seed (`up`, in the same process) records the fake's account 111122223333; then
// DRCTL_FAKE_ACCOUNT makes STS answer as a caller of another account, as credentials of the wrong
// profile would. Each command refuses: exit 2, both account ids, the profile in use, what to do, no
// mutating call after the seed, the state file as the seed left it, no lock.
// test/cli/account-guard.test.ts has the same in-process, with the wording in full.

const OWN = '111122223333'; // the fake cloud's account
const OTHER = '444455556666';

const workdir = builtCliWorkdirs();
const text = (r: Pick<Exit, 'stdout' | 'stderr'>) => `${r.stdout}\n${r.stderr}`;

interface Snapshot {
  mutatingAfterSeed: number;
  stateAfterSeed?: string;
}

/** `drctl ARGS` after a seeding `up`, as a caller of `account`, with AWS_PROFILE=prod. */
async function asOther(args: string[], opts: { files?: Record<string, string>; account?: string } = {}) {
  const d = workdir();
  // A profile as a user has one: the name drctl must show is the one in AWS_PROFILE.
  mkdirSync(join(d.dir, '.aws'));
  writeFileSync(join(d.dir, '.aws/config'), '[profile prod]\nregion = sa-east-1\n');
  for (const [name, body] of Object.entries(opts.files ?? {})) writeFileSync(join(d.dir, name), body);
  const snapshot = join(d.dir, 'cloud.json');
  const r = await runDrctl(args, {
    cwd: d.dir,
    env: userEnv(d.dir, {
      AWS_PROFILE: 'prod',
      DRCTL_FAKE_SEED: 'up',
      DRCTL_FAKE_SNAPSHOT: snapshot,
      DRCTL_FAKE_ACCOUNT: opts.account ?? OTHER,
    }),
    fakeCloud: true,
  });
  const cloud = JSON.parse(readFileSync(snapshot, 'utf8')) as Snapshot;
  const statePath = join(d.dir, '.drctl/state.json');
  return { r, cloud, statePath, state: readFileSync(statePath, 'utf8') };
}

describe('the account guard, through the built CLI', () => {
  it.each([
    ['up', ['up', '--yes']],
    ['down --yes', ['down', '--yes']],
    ['step vpc', ['step', 'vpc']],
    ['failover-test', ['failover-test']],
    ['verify', ['verify']],
    ['status --refresh', ['status', '--refresh']],
    ['plan --refresh', ['plan', '--refresh']],
  ])(
    '%s with credentials of another account: exit 2, both ids, the profile, what to do, nothing changed',
    async (_, args) => {
      const { r, cloud, statePath, state } = await asOther(args);
      expect(r.code, text(r)).toBe(2);
      expect(r.stderr).toContain(`error: credentials: the credentials in use are of AWS account ${OTHER},`);
      expect(r.stderr).toContain(`but the state is of account ${OWN}; nothing was changed`);
      expect(r.stderr).toContain(`credentials: profile prod (from AWS_PROFILE), arn:aws:sts::${OTHER}:`);
      expect(r.stderr).toContain(`state: ${statePath}`);
      expect(r.stderr).toMatch(/what to do: Run again with credentials of account 111122223333 \(--profile/);
      expect(r.stderr).toContain('use another --state');
      expect(text(r)).not.toMatch(/internal error|a bug in drctl/);
      expect(cloud.mutatingAfterSeed, 'no mutating call after the seed').toBe(0);
      expect(cloud.stateAfterSeed, 'the seed wrote a state').toBeDefined();
      expect(state, 'the state file is byte-identical to what the seed left').toBe(cloud.stateAfterSeed);
      expect(existsSync(`${statePath}.lock`), 'no lock left').toBe(false);
    },
    60_000,
  );

  it('allowedAccountIds in the config refusing the seeded account: exit 2, nothing changed', async () => {
    // The seed runs on the workshop defaults in account 111122223333; the command under test reads a
    // config that pins another account, with the caller's own (right-for-the-state) credentials.
    const { r, cloud, statePath, state } = await asOther(['--config', 'pinned.json', 'up', '--yes'], {
      files: { 'pinned.json': JSON.stringify({ allowedAccountIds: [OTHER] }) },
      account: OWN,
    });
    expect(r.code, text(r)).toBe(2);
    expect(r.stderr).toContain(`error: allowedAccountIds: the credentials in use are of AWS account ${OWN},`);
    expect(r.stderr).toContain(`not one of allowedAccountIds (${OTHER}); nothing was changed`);
    expect(r.stderr).toContain(`credentials: profile prod (from AWS_PROFILE), arn:aws:sts::${OWN}:`);
    expect(r.stderr).toMatch(/what to do: Run again with credentials of account 444455556666 \(/);
    expect(r.stderr).toContain(`If ${OWN} is right, add it to allowedAccountIds.`);
    expect(cloud.mutatingAfterSeed, 'no mutating call after the seed').toBe(0);
    expect(state, 'the state file is byte-identical to what the seed left').toBe(cloud.stateAfterSeed);
    expect(existsSync(`${statePath}.lock`), 'no lock left').toBe(false);
  }, 60_000);
});
