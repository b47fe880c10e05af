import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BuiltCli, builtCliWorkdirs } from '../support/built-cli.js';
import { type Exit, runDrctl, userEnv } from '../support/cli-process.js';
import { normalised } from '../support/normalise.js';

// Credentials that expire part-way through `up` (issue 12 item 3): the check before the run passes,
// then every call is refused (the fake cloud's `credentialsExpireAfter`). The built CLI, as a child
// process on the fake cloud: one message like the pre-run check's, exit 2, no new step started,
// the steps cut short left as not done (not failed), and `up` after the login resumes.

const workdir = builtCliWorkdirs();

/** After the who-pays check and the first steps' calls: two steps done, others part-way. */
const EXPIRE = { credentialsExpireAfter: 40 };
const text = (r: Pick<Exit, 'stdout' | 'stderr'>) => `${r.stdout}\n${r.stderr}`;
const count = (s: string, sub: string) => s.split(sub).length - 1;

interface StateFile {
  steps: Record<string, Record<string, { status: string; resources: Record<string, unknown> }>>;
}
const stateOf = (d: BuiltCli) =>
  JSON.parse(readFileSync(join(d.dir, '.drctl/state.json'), 'utf8')) as StateFile;
const records = (s: StateFile) =>
  Object.entries(s.steps).flatMap(([step, byScope]) =>
    Object.entries(byScope).map(([scope, r]) => ({ step, scope, status: r.status })),
  );

/** What the fake cloud held when the process ended, ids replaced (test/support/normalise.ts). */
const cloudIn = (file: string) =>
  normalised((JSON.parse(readFileSync(file, 'utf8')) as { resources: string[] }).resources);

describe('credentials that expire during up (the built CLI on the fake cloud)', () => {
  it('an expired session token: one message naming the profile and what to run, exit 2, steps cut short left not done', async () => {
    const d = workdir();
    const r = await runDrctl(['up', '--yes'], {
      cwd: d.dir,
      env: userEnv(d.dir, { DRCTL_FAKE_FAULTS: JSON.stringify(EXPIRE) }),
      fakeCloud: true,
    });
    expect(r.code, text(r)).toBe(2);
    expect(r.stderr).toMatch(
      /^error: credentials: the credentials of the default profile have expired during `up`: 2 step\(s\) done and recorded, (\d+) not done \(none marked failed\)$/m,
    );
    expect(r.stderr).toContain('the SDK said: The security token included in the request is expired');
    expect(r.stderr).toMatch(
      /what to do: Get new ones: `aws sso login` for an SSO profile, `aws configure` for/,
    );
    expect(r.stderr).toContain('Then run `drctl up` again: it resumes with the');
    // One message, not one per step and region.
    expect(count(text(r), 'expired'), text(r)).toBe(2); // the message and the SDK's words in it
    expect(count(text(r), 'what to do:')).toBe(1);
    expect(count(text(r), 'aws sso login')).toBe(1);
    expect(text(r)).not.toMatch(/✖|step\(s\) failed|ExpiredToken/);
    // What finished is recorded as ready; what was cut short keeps its partial record, not failed.
    const recs = records(stateOf(d));
    expect(recs.filter((x) => x.status === 'ready').map((x) => `${x.step} ${x.scope}`)).toEqual([
      'keypairs sa-east-1',
      'keypairs us-west-1',
    ]);
    expect(recs.filter((x) => x.status === 'creating').length, 'cut short part-way').toBeGreaterThan(0);
    expect(recs.every((x) => x.status === 'ready' || x.status === 'creating')).toBe(true);
    expect(existsSync(join(d.dir, '.drctl/state.json.lock'))).toBe(false);
  }, 60_000);

  it('an SSO session that ends: names the profile and says `aws sso login --profile X`, exit 2', async () => {
    const d = workdir();
    mkdirSync(join(d.dir, '.aws'));
    writeFileSync(
      join(d.dir, '.aws/config'),
      '[profile sso-dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Operator\n',
    );
    const r = await runDrctl(['up', '--yes'], {
      cwd: d.dir,
      env: userEnv(d.dir, {
        AWS_PROFILE: 'sso-dev',
        DRCTL_FAKE_FAULTS: JSON.stringify({ ...EXPIRE, credentialsExpireAs: 'sso' }),
      }),
      fakeCloud: true,
    });
    expect(r.code, text(r)).toBe(2);
    expect(r.stderr).toMatch(
      /^error: credentials: the SSO session of profile "sso-dev" \(from AWS_PROFILE\) has expired during `up`: 2 step\(s\) done/m,
    );
    expect(r.stderr).toContain(
      'what to do: Run `aws sso login --profile sso-dev`. Then run `drctl up` again: it resumes with the',
    );
    expect(count(text(r), 'aws sso login')).toBe(2); // ours, and the SDK's own words quoted once
    expect(count(text(r), 'what to do:')).toBe(1);
    expect(text(r)).not.toMatch(/✖|step\(s\) failed|CredentialsProviderError/);
  }, 60_000);

  it('after the login, up resumes: what was done is kept, the rest is built, and the cloud ends as a clean up leaves it', async () => {
    const clean = workdir();
    const cleanSnapshot = join(clean.dir, 'cloud.json');
    const first = await runDrctl(['up', '--yes'], {
      cwd: clean.dir,
      env: userEnv(clean.dir, { DRCTL_FAKE_SNAPSHOT: cleanSnapshot }),
      fakeCloud: true,
    });
    expect(first.code, text(first)).toBe(0);

    const d = workdir();
    const snapshot = join(d.dir, 'cloud.json');
    // In one process: `up` whose credentials expire (exit 2), the login, then the `up` under test.
    const r = await runDrctl(['up', '--yes'], {
      cwd: d.dir,
      env: userEnv(d.dir, {
        DRCTL_FAKE_SEED: 'up',
        DRCTL_FAKE_SEED_FAULTS: JSON.stringify(EXPIRE),
        DRCTL_FAKE_SEED_EXIT: '2',
        DRCTL_FAKE_SNAPSHOT: snapshot,
      }),
      fakeCloud: true,
    });
    expect(r.code, text(r)).toBe(0);
    expect(r.stderr).toContain('✔ keypairs sa-east-1: ok, already in place');
    expect(r.stderr).toContain('✔ keypairs us-west-1: ok, already in place');
    // Cut short: the stack it had started is adopted; not started: built now.
    expect(r.stderr).toMatch(/✔ vpc sa-east-1: (done|ok, already in place)/);
    expect(r.stderr).toMatch(/✔ api sa-east-1: done/);
    expect(text(r)).not.toMatch(/✖|credentials/);
    expect(r.stdout).toMatch(/up: done/);
    expect(records(stateOf(d)).every((x) => x.status === 'ready')).toBe(true);
    expect(cloudIn(snapshot), 'each resource once: nothing the first run made was made again').toEqual(
      cloudIn(cleanSnapshot),
    );
  }, 90_000);
});
