import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BuiltCli, assertBuilt, root } from '../support/built-cli.js';
import {
  BIN,
  type Exit,
  type LocalServer,
  blackHole,
  closedPort,
  fakeStsEndpoint,
  runDrctl,
  spawnDrctl,
  userEnv,
} from '../support/cli-process.js';

// drctl under bad conditions (issue 12), as a user meets it: the built CLI as a child process, a
// local TCP server that accepts and never answers, two processes sharing one state, a real pipe,
// and a pseudo-terminal (util-linux `script`) where there is a question. Each case checks the exit
// code, the message, and what is on disk afterwards. The last test holds docs/exit-codes.md to
// these cases: every code it documents for a command is one a case here produces.

beforeAll(() => assertBuilt());

const dirs: BuiltCli[] = [];
const servers: LocalServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) d.cleanup();
});

function workdir(): BuiltCli {
  const d = new BuiltCli();
  dirs.push(d);
  return d;
}

async function serve<T extends LocalServer>(s: Promise<T>): Promise<T> {
  const server = await s;
  servers.push(server);
  return server;
}

const KEYS = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example-secret' };
/** Small time-outs and one retry, so a stalled endpoint fails in about a second. */
const FAST = { DRCTL_HTTP_TIMEOUT_MS: '200', AWS_MAX_ATTEMPTS: '2' };
const SSO_CONFIG = [
  '[profile sso-dev]',
  'sso_session = corp',
  'sso_account_id = 111122223333',
  'sso_role_name = Operator',
  'region = sa-east-1',
  '[sso-session corp]',
  'sso_start_url = https://corp.awsapps.com/start',
  'sso_region = us-east-1',
  '',
].join('\n');

const lockPath = (d: BuiltCli) => join(d.dir, '.drctl/state.json.lock');
const text = (r: Pick<Exit, 'stdout' | 'stderr'>) => `${r.stdout}\n${r.stderr}`;
const noStack = (r: Exit) => expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);

/** STS answers; every other service is a black hole: `up` takes the lock and then hangs mid-call. */
async function stalledAfterSts(extra: Record<string, string> = {}) {
  const d = workdir();
  const sts = await serve(fakeStsEndpoint());
  const hole = await serve(blackHole());
  const env = userEnv(d.dir, {
    ...KEYS,
    AWS_ENDPOINT_URL: hole.url,
    AWS_ENDPOINT_URL_STS: sts.url,
    DRCTL_HTTP_TIMEOUT_MS: '60000',
    ...extra,
  });
  return { d, sts, hole, env };
}

/** STS answers; every other service refuses the connection at once (small time-outs, one retry). */
async function refusedAfterSts() {
  const d = workdir();
  const sts = await serve(fakeStsEndpoint());
  const refused = await closedPort();
  const env = userEnv(d.dir, {
    ...KEYS,
    ...FAST,
    AWS_ENDPOINT_URL: refused,
    AWS_ENDPOINT_URL_STS: sts.url,
  });
  return { d, refused, env };
}

/** `drctl ARGS` run to the end in a new working directory, as a new user (plus `env`). */
async function inNewDir(args: string[], o: { env?: Record<string, string>; fakeCloud?: boolean } = {}) {
  const d = workdir();
  const r = await runDrctl(args, { cwd: d.dir, env: userEnv(d.dir, o.env), fakeCloud: o.fakeCloud });
  return { d, r };
}

/** `drctl ARGS | READER` in bash: drctl's own exit code is printed to stderr as `drctl=N`. */
function piped(d: BuiltCli, args: string, reader: string, env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve) => {
    const started = Date.now();
    const sh = spawn(
      'bash',
      ['-c', `"${process.execPath}" "${BIN}" ${args} | ${reader}; echo "drctl=\${PIPESTATUS[0]}" >&2`],
      { cwd: d.dir, env },
    );
    let stdout = '';
    let stderr = '';
    sh.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    sh.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    sh.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
}

/** A pid that is certainly gone: a process that ran and exited. */
async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => p.on('close', r));
  return p.pid!;
}

function writeLock(d: BuiltCli, pid: number, id: string, host = hostname()): void {
  mkdirSync(join(d.dir, '.drctl'), { recursive: true });
  writeFileSync(
    lockPath(d),
    JSON.stringify({ pid, host, user: 'ana', command: 'up', startedAt: '2026-12-01T10:00:00.000Z', id }),
  );
}

/** Ends the process in a pseudo-terminal once `re` shows, by typing `keys` (Ctrl-C is \x03). */
async function answerAtPrompt(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  re: RegExp,
  keys: string,
  columns?: number,
) {
  const r = spawnDrctl(args, { cwd, env, pty: true, columns });
  await r.waitFor(re);
  r.child.stdin!.write(keys);
  return r.exited;
}

/**
 * A case that is one run in a new directory: its exit code, what it prints (`stdout` / `stderr`
 * contain), and nothing left on disk.
 */
function oneRun(
  command: string,
  code: number,
  name: string,
  args: string[],
  says: { stdout?: string; stderr?: string } = {},
): Case {
  return {
    command,
    code,
    name,
    run: async () => {
      const { d, r } = await inNewDir(args);
      expect(r.code, text(r)).toBe(code);
      if (says.stdout) expect(r.stdout).toContain(says.stdout);
      if (says.stderr) expect(r.stderr).toContain(says.stderr);
      expect(d.listing()).toEqual({});
    },
  };
}

interface Case {
  /** The command whose row of docs/exit-codes.md this case proves. */
  command: string;
  code: number;
  name: string;
  run: () => Promise<void>;
}

const cases: Case[] = [
  // ---- 1. time-outs and interrupts ------------------------------------------------------------
  {
    command: 'up',
    code: 1,
    name: 'an endpoint that accepts and never answers: the call is retried, then fails naming service, region and endpoint',
    run: async () => {
      const d = workdir();
      const hole = await serve(blackHole());
      const r = await runDrctl(['up', '--yes'], {
        cwd: d.dir,
        env: userEnv(d.dir, { ...KEYS, ...FAST, AWS_ENDPOINT_URL: hole.url }),
      });
      expect(r.code, text(r)).toBe(1);
      expect(r.stderr).toContain(
        `error (sa-east-1): STS GetCallerIdentity at ${hole.url}: no answer within 200 ms (2 attempts)`,
      );
      expect(hole.connections, 'retried').toBeGreaterThanOrEqual(2);
      expect(r.ms, 'gives up, within a bound').toBeLessThan(30_000);
      expect(d.listing()).toEqual({});
    },
  },
  {
    command: 'step',
    code: 1,
    name: 'a refused connection fails the step naming the service, command and endpoint, and the lock is released',
    run: async () => {
      const { d, refused, env } = await refusedAfterSts();
      const r = await runDrctl(['step', 'keypairs', '--region', 'sa-east-1'], { cwd: d.dir, env });
      expect(r.code, text(r)).toBe(1);
      expect(text(r)).toContain(`EC2 DescribeKeyPairs at ${refused}: ECONNREFUSED`);
      expect(existsSync(lockPath(d))).toBe(false);
      expect(d.listing()).toEqual({});
    },
  },
  ...(['SIGINT', 'SIGTERM'] as const).map((signal): Case => ({
    command: 'up',
    code: 130,
    name: `${signal} mid-call: up ends within seconds with 130, the state saved and the lock released`,
    run: async () => {
      const { d, hole, env } = await stalledAfterSts();
      const r = spawnDrctl(['up', '--yes'], { cwd: d.dir, env });
      await hole.connected();
      expect(existsSync(lockPath(d)), 'up holds the lock while its calls hang').toBe(true);
      const sent = Date.now();
      r.child.kill(signal);
      const e = await r.exited;
      expect(e.code, text(e)).toBe(130);
      expect(Date.now() - sent, 'ends within seconds (a 3 s grace for calls in flight)').toBeLessThan(15_000);
      expect(text(e)).toContain('interrupted: stopping and saving the state');
      expect(text(e)).toContain('up: interrupted after');
      expect(existsSync(lockPath(d))).toBe(false);
      const state = join(d.dir, '.drctl/state.json');
      if (existsSync(state)) expect(() => JSON.parse(readFileSync(state, 'utf8')) as unknown).not.toThrow();
    },
  })),
  {
    command: 'step',
    code: 130,
    name: 'a second Ctrl-C cancels the calls in flight at once; the lock is still released',
    run: async () => {
      const { d, hole, env } = await stalledAfterSts();
      const r = spawnDrctl(['step', 'keypairs'], { cwd: d.dir, env });
      await hole.connected();
      r.child.kill('SIGINT');
      await r.waitFor(/interrupted: stopping/);
      const sent = Date.now();
      r.child.kill('SIGINT');
      const e = await r.exited;
      expect(e.code, text(e)).toBe(130);
      expect(text(e)).toContain('interrupted again: cancelling the AWS calls in flight');
      expect(Date.now() - sent).toBeLessThan(10_000);
      expect(existsSync(lockPath(d))).toBe(false);
    },
  },

  // ---- 2. the lock, between two processes ---------------------------------------------------------
  {
    command: 'unlock',
    code: 2,
    name: 'a second drctl is refused with the lock id; unlock refuses while the holder runs; SIGTERM releases it',
    run: async () => {
      const { d, hole, env } = await stalledAfterSts();
      const first = spawnDrctl(['up', '--yes'], { cwd: d.dir, env });
      await hole.connected();
      const lock = JSON.parse(readFileSync(lockPath(d), 'utf8')) as { id: string; pid: number };
      expect(lock.pid).toBe(first.child.pid);
      const before = d.listing();

      const second = await runDrctl(['up', '--yes'], { cwd: d.dir, env });
      expect(second.code, text(second)).toBe(2);
      expect(second.stderr).toContain(`is locked by pid ${lock.pid} on ${hostname()}`);
      expect(second.stderr).toContain(`lock id ${lock.id}`);
      expect(second.stderr).toContain(`run \`drctl unlock ${lock.id}\``);

      const show = await runDrctl(['unlock'], { cwd: d.dir, env });
      expect(show.code).toBe(2);
      expect(show.stderr).toContain(`lock id ${lock.id}`);
      expect(show.stderr).toContain('still running on this host');

      const refused = await runDrctl(['unlock', lock.id, '--yes'], { cwd: d.dir, env });
      expect(refused.code, text(refused)).toBe(2);
      expect(refused.stderr).toContain('which is still running');
      expect(refused.stderr).toContain(`kill ${lock.pid}`);
      expect(d.listing(), 'the lock and the state are untouched').toEqual(before);

      first.child.kill('SIGTERM');
      expect((await first.exited).code).toBe(130);
      expect(existsSync(lockPath(d))).toBe(false);
    },
  },
  {
    command: 'unlock',
    code: 2,
    name: 'unlock with an id that is not the lock’s removes nothing; without a terminal it needs --yes',
    run: async () => {
      const d = workdir();
      writeLock(d, 4242, 'lock-on-ci', 'ci-runner-7');
      const before = d.listing();
      const wrong = await runDrctl(['unlock', 'lock-old'], { cwd: d.dir, env: userEnv(d.dir) });
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain('has id lock-on-ci, not lock-old');
      const unconfirmed = await runDrctl(['unlock', 'lock-on-ci'], { cwd: d.dir, env: userEnv(d.dir) });
      expect(unconfirmed.code).toBe(2);
      expect(unconfirmed.stderr).toContain('needs confirmation');
      expect(unconfirmed.stderr).toContain('--yes');
      expect(d.listing()).toEqual(before);
    },
  },
  {
    command: 'unlock',
    code: 0,
    name: 'unlock of a stale lock asks at a terminal, says its process is gone, and removes it',
    run: async () => {
      const d = workdir();
      const pid = await deadPid();
      writeLock(d, pid, 'lock-stale');
      const r = await answerAtPrompt(
        ['unlock', 'lock-stale'],
        userEnv(d.dir),
        d.dir,
        /Remove the lock/,
        'y\r',
      );
      expect(r.code, text(r)).toBe(0);
      expect(r.stdout).toContain('its process is gone');
      expect(r.stdout).toContain(`removed lock lock-stale of pid ${pid}`);
      expect(existsSync(lockPath(d))).toBe(false);
    },
  },
  oneRun('unlock', 0, 'unlock with no lock held says so', ['unlock'], { stdout: 'no lock is held on' }),
  {
    command: 'up',
    code: 1,
    name: 'up takes over a stale lock and says so',
    run: async () => {
      const { d, env } = await refusedAfterSts();
      const pid = await deadPid();
      writeLock(d, pid, 'lock-left');
      const r = await runDrctl(['up', '--yes'], { cwd: d.dir, env });
      expect(r.code, text(r)).toBe(1);
      expect(r.stdout).toContain(`took over the stale lock lock-left of pid ${pid} on ${hostname()}`);
      expect(existsSync(lockPath(d))).toBe(false);
    },
  },

  // ---- 3. who pays ----------------------------------------------------------------------------------
  ...(['up --yes', 'step keypairs', 'down --yes', 'status --refresh'] as const).map((args): Case => ({
    command: args.split(' ')[0]!,
    code: 2,
    name: `no credentials anywhere: \`${args}\` says so once, names what it tried and what to run`,
    run: async () => {
      const d = workdir();
      const r = await runDrctl(args.split(' '), { cwd: d.dir, env: userEnv(d.dir) });
      expect(r.code, text(r)).toBe(2);
      expect(r.stderr).toContain(
        'error: credentials: no AWS credentials found for the default profile; nothing was changed',
      );
      expect(r.stderr).toMatch(/tried: the environment \(AWS_ACCESS_KEY_ID .*~\/\.aws\/config/);
      expect(r.stderr).toContain('Run `aws configure`');
      expect(r.stderr).toContain('aws sso login --profile <name>');
      expect(r.stderr.match(/credentials/g)!.length, 'one message, not one per step').toBeLessThan(6);
      expect(text(r)).not.toMatch(/✖|failed/);
      expect(d.listing()).toEqual({});
    },
  })),
  {
    command: 'up',
    code: 2,
    name: 'a profile that does not exist is named, with the ones there',
    run: async () => {
      const d = workdir();
      mkdirSync(join(d.dir, '.aws'));
      writeFileSync(join(d.dir, '.aws/config'), SSO_CONFIG);
      const before = d.listing();
      const r = await runDrctl(['--profile', 'prod', 'up', '--yes'], { cwd: d.dir, env: userEnv(d.dir) });
      expect(r.code, text(r)).toBe(2);
      expect(r.stderr).toContain('profile "prod" (from --profile) does not exist');
      expect(r.stderr).toContain('Profiles there: sso-dev');
      expect(r.stderr).toContain('aws configure --profile prod');
      expect(d.listing()).toEqual(before);
    },
  },
  {
    command: 'failover-test',
    code: 2,
    name: 'an SSO profile with no cached token says to run aws sso login for it',
    run: async () => {
      const d = workdir();
      mkdirSync(join(d.dir, '.aws'));
      writeFileSync(join(d.dir, '.aws/config'), SSO_CONFIG);
      copyFileSync(join(root, 'state.example.json'), join(d.dir, 'state.json'));
      const before = d.listing();
      const r = await runDrctl(['--state', 'state.json', 'failover-test', '--dry-run'], {
        cwd: d.dir,
        env: userEnv(d.dir, { AWS_PROFILE: 'sso-dev' }),
      });
      expect(r.code, text(r)).toBe(2);
      expect(r.stderr).toContain(
        'the SSO session of profile "sso-dev" (from AWS_PROFILE) is missing or expired',
      );
      expect(r.stderr).toContain('Run `aws sso login --profile sso-dev`');
      expect(d.listing()).toEqual(before);
    },
  },
  {
    command: 'up',
    code: 2,
    name: 'up without a terminal and without --yes is refused before any AWS call',
    run: async () => {
      const d = workdir();
      const hole = await serve(blackHole());
      const r = await runDrctl(['up'], {
        cwd: d.dir,
        env: userEnv(d.dir, { ...KEYS, AWS_ENDPOINT_URL: hole.url }),
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--yes: up creates billable resources and needs confirmation');
      expect(hole.connections).toBe(0);
      expect(d.listing()).toEqual({});
    },
  },
  {
    command: 'up',
    code: 2,
    name: 'up at a terminal shows the account, the plan and its cost, and creates nothing when the answer is no',
    run: async () => {
      const { d, hole, env } = await stalledAfterSts();
      // A wide terminal: at 80 columns (the width a terminal that reports none is taken as) the
      // account line folds (test/cli/width.test.ts); this case is about what it says.
      const r = await answerAtPrompt(['up'], env, d.dir, /Create them in account/, 'n\r', 200);
      expect(r.code, text(r)).toBe(2);
      expect(r.stdout).toContain(
        'AWS account 111122223333 as arn:aws:iam::111122223333:user/ana; regions sa-east-1 (primary) and us-west-1 (secondary)',
      );
      expect(r.stdout).toMatch(/up will create or resume 2\d step\(s\): keypairs sa-east-1/);
      expect(r.stdout).toMatch(/total\s+\$[\d.]+\s+\$[\d.]+/);
      expect(r.stdout).toContain('not confirmed; nothing was created');
      expect(hole.connections).toBe(0);
      expect(d.listing()).toEqual({});
    },
  },

  // ---- 5. exit codes ------------------------------------------------------------------------------
  {
    command: 'up',
    code: 130,
    name: 'Ctrl-C at the up prompt is 130, nothing changed',
    run: async () => {
      const { d, hole, env } = await stalledAfterSts();
      const r = await answerAtPrompt(['up'], env, d.dir, /Create them in account/, '\x03');
      expect(r.code, text(r)).toBe(130);
      expect(r.stdout).toContain('interrupted at the prompt; nothing was changed');
      expect(hole.connections).toBe(0);
      expect(d.listing()).toEqual({});
    },
  },
  {
    command: 'down',
    code: 130,
    name: 'Ctrl-C at the down prompt (type the deployment name) is 130, nothing deleted',
    run: async () => {
      const { d, hole, env } = await stalledAfterSts();
      copyFileSync(join(root, 'state.example.json'), join(d.dir, 'state.json'));
      const before = d.listing();
      const r = await answerAtPrompt(
        ['--state', 'state.json', 'down'],
        env,
        d.dir,
        /Type the deployment name/,
        '\x03',
      );
      expect(r.code, text(r)).toBe(130);
      expect(hole.connections).toBe(0);
      expect(d.listing()).toEqual(before);
    },
  },
  {
    command: 'down',
    code: 2,
    name: 'down without a terminal and without --yes is refused before any AWS call',
    run: async () => {
      const d = workdir();
      const hole = await serve(blackHole());
      const r = await runDrctl(['down'], {
        cwd: d.dir,
        env: userEnv(d.dir, { ...KEYS, AWS_ENDPOINT_URL: hole.url }),
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        '--yes: down deletes every resource of this deployment and needs confirmation',
      );
      expect(hole.connections).toBe(0);
    },
  },
  {
    command: 'down',
    code: 1,
    name: 'down against a refused endpoint fails with 1 and keeps the state',
    run: async () => {
      const { d, env } = await refusedAfterSts();
      copyFileSync(join(root, 'state.example.json'), join(d.dir, 'state.json'));
      const r = await runDrctl(['--state', 'state.json', 'down', '--yes'], { cwd: d.dir, env });
      expect(r.code, text(r)).toBe(1);
      expect(r.stdout).toContain('still recorded (left in AWS)');
      expect(existsSync(join(d.dir, 'state.json.lock'))).toBe(false);
    },
  },
  {
    command: 'status',
    code: 1,
    name: 'status --refresh that cannot look is 1 and never "nothing recorded"',
    run: async () => {
      const { d, env } = await refusedAfterSts();
      const empty = await runDrctl(['status', '--refresh'], { cwd: d.dir, env });
      expect(empty.code, text(empty)).toBe(1);
      expect(empty.stdout).not.toContain('nothing recorded');
      expect(empty.stdout).toMatch(/could not check \S+ \S+: .*ECONNREFUSED/);
      expect(empty.stdout).toContain('look-up(s) failed, so drift is unknown');
      copyFileSync(join(root, 'state.example.json'), join(d.dir, 'state.json'));
      const recorded = await runDrctl(['--state', 'state.json', '--json', 'status', '--refresh'], {
        cwd: d.dir,
        env,
      });
      expect(recorded.code).toBe(1);
      const summary = JSON.parse(recorded.stdout.trim().split('\n').at(-1)!) as {
        ok: boolean;
        errors: unknown[];
      };
      expect(summary.ok).toBe(false);
      expect(summary.errors.length).toBeGreaterThan(0);
    },
  },
  {
    command: 'status',
    code: 0,
    name: 'status --refresh in sync is 0 (fake cloud)',
    run: async () => {
      const { r } = await inNewDir(['status', '--refresh'], { fakeCloud: true });
      expect(r.code, text(r)).toBe(0);
      expect(r.stdout).toContain('status --refresh: in sync with AWS');
    },
  },
  {
    command: 'status',
    code: 2,
    name: 'status --refresh with drift is 2, like terraform plan -detailed-exitcode (fake cloud)',
    run: async () => {
      const { r } = await inNewDir(['status', '--refresh'], {
        env: { DRCTL_FAKE_SEED: 'up', DRCTL_FAKE_DELETE: 'ec2:key-pair:drctl-us-west-1' },
        fakeCloud: true,
      });
      expect(r.code, text(r)).toBe(2);
      expect(r.stdout).toContain('DRIFT: gone from AWS: key pair drctl-us-west-1');
      expect(r.stdout).toContain('status --refresh: drift found (exit 2)');
    },
  },
  ...(
    [
      [
        'a directory',
        (d: BuiltCli) => (mkdirSync(join(d.dir, 'somewhere')), 'somewhere'),
        /somewhere is a directory, not a state file/,
      ],
      [
        'a Terraform state',
        (d: BuiltCli) => (
          writeFileSync(
            join(d.dir, 'terraform.tfstate'),
            JSON.stringify({
              version: 4,
              terraform_version: '1.9.0',
              serial: 3,
              lineage: 'x',
              outputs: {},
              resources: [],
            }),
          ),
          'terraform.tfstate'
        ),
        /terraform\.tfstate is not a drctl state file \(a Terraform state\); it was not changed/,
      ],
      [
        'a package.json',
        (d: BuiltCli) => (
          copyFileSync(join(root, 'package.json'), join(d.dir, 'package.json')),
          'package.json'
        ),
        /package\.json is not a drctl state file \(a package\.json\); it was not changed/,
      ],
    ] as const
  ).flatMap(([what, make, message]) =>
    (['plan', 'status'] as const).map((command): Case => ({
      command,
      code: 2,
      name: `${command} --state pointing at ${what} is 2, and the message does not suggest editing it`,
      run: async () => {
        const d = workdir();
        const path = make(d);
        const before = d.listing();
        const r = await runDrctl(['--state', path, command], { cwd: d.dir, env: userEnv(d.dir) });
        expect(r.code, text(r)).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/edit|by hand|\.bak/);
        expect(d.listing()).toEqual(before);
      },
    })),
  ),
  {
    command: 'plan',
    code: 2,
    name: 'a broken drctl state names its .bak only when there is one',
    run: async () => {
      const d = workdir();
      const broken = readFileSync(join(root, 'state.example.json'), 'utf8').replace(
        '"version": 1',
        '"version": 9',
      );
      writeFileSync(join(d.dir, 'state.json'), broken);
      const without = await runDrctl(['--state', 'state.json', 'plan'], { cwd: d.dir, env: userEnv(d.dir) });
      expect(without.code).toBe(2);
      expect(without.stderr).toContain('unsupported state version');
      expect(without.stderr).not.toContain('.bak');
      copyFileSync(join(root, 'state.example.json'), join(d.dir, 'state.json.bak'));
      const before = d.listing();
      const withBak = await runDrctl(['--state', 'state.json', 'plan'], { cwd: d.dir, env: userEnv(d.dir) });
      expect(withBak.code).toBe(2);
      expect(withBak.stderr).toContain(`Restore ${join(d.dir, 'state.json.bak')}`);
      expect(d.listing()).toEqual(before);
    },
  },
  {
    command: 'plan',
    code: 0,
    name: 'a closed pipe (drctl plan | head -1, | true) ends quietly: no EPIPE, no stack',
    run: async () => {
      const d = workdir();
      for (const reader of ['head -1', 'true']) {
        const r = await piped(d, 'plan', reader, userEnv(d.dir));
        expect(r.stderr, reader).toContain('drctl=0');
        expect(r.stderr).not.toMatch(/EPIPE|Error/);
        noStack(r);
        if (reader === 'head -1') expect(r.stdout).toMatch(/^deployment drctl: primary sa-east-1/);
      }
      expect(d.listing()).toEqual({});
    },
  },
  {
    command: 'up',
    code: 1,
    name: 'a closed pipe under `up --json` leaves no lock and no EPIPE stack',
    run: async () => {
      const { d, env } = await refusedAfterSts();
      const r = await piped(d, '--json up --yes', 'head -1 >/dev/null', env);
      expect(r.stderr).toContain('drctl=1');
      expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
      expect(existsSync(lockPath(d))).toBe(false);
    },
  },

  // ---- the rest of the exit-code table, on the fake cloud -------------------------------------------
  {
    command: 'up',
    code: 0,
    name: 'up --yes on the fake cloud is 0',
    run: async () => {
      const { r } = await inNewDir(['up', '--yes'], { fakeCloud: true });
      expect(r.code, text(r)).toBe(0);
      expect(r.stdout).toContain(
        'AWS account 111122223333 as arn:aws:sts::111122223333:assumed-role/drctl-operator/ana',
      );
      expect(r.stdout).toMatch(/up: done/);
    },
  },
  {
    command: 'step',
    code: 0,
    name: 'step keypairs on the fake cloud is 0',
    run: async () => {
      const { r } = await inNewDir(['step', 'keypairs'], { fakeCloud: true });
      expect(r.code, text(r)).toBe(0);
    },
  },
  oneRun('step', 2, 'step with inputs missing is 2 before any AWS call', ['step', 'vpc'], {
    stderr: 'Run `drctl step keypairs',
  }),
  {
    command: 'down',
    code: 0,
    name: 'down --yes after up on the fake cloud is 0',
    run: async () => {
      const { r } = await inNewDir(['down', '--yes'], { env: { DRCTL_FAKE_SEED: 'up' }, fakeCloud: true });
      expect(r.code, text(r)).toBe(0);
      expect(r.stdout).toContain('down: everything deleted');
    },
  },
  {
    command: 'failover-test',
    code: 0,
    name: 'failover-test after up on the fake cloud is 0',
    run: async () => {
      const { r } = await inNewDir(['failover-test'], { env: { DRCTL_FAKE_SEED: 'up' }, fakeCloud: true });
      expect(r.code, text(r)).toBe(0);
      expect(r.stdout).toContain('result: PASS');
    },
  },
  {
    command: 'failover-test',
    code: 3,
    name: 'failover-test that misses its timeout is 3, after the restore (fake cloud)',
    run: async () => {
      const { r } = await inNewDir(['failover-test', '--timeout', '30'], {
        env: { DRCTL_FAKE_SEED: 'up' },
        fakeCloud: true,
      });
      expect(r.code, text(r)).toBe(3);
    },
  },
  {
    command: 'failover-test',
    code: 1,
    name: 'failover-test whose fault injection AWS keeps throttling is 1, with nothing left changed (fake cloud)',
    run: async () => {
      const { r } = await inNewDir(['failover-test'], {
        env: {
          DRCTL_FAKE_SEED: 'up',
          DRCTL_FAKE_FAULTS: '{"throttleRate":1,"throttleOnly":["UpdateHealthCheck"]}',
        },
        fakeCloud: true,
      });
      expect(r.code, text(r)).toBe(1);
      expect(r.stderr).toContain('error: failover-test: Throttling: Rate exceeded');
      expect(r.stderr).toContain('What the drill changed is back');
    },
  },
  {
    command: 'failover-test',
    code: 130,
    name: 'Ctrl-C while the drill checks its preconditions is 130 within seconds; nothing to restore',
    run: async () => {
      const { d, hole, env } = await stalledAfterSts();
      copyFileSync(join(root, 'state.example.json'), join(d.dir, 'state.json'));
      const before = d.listing();
      const r = spawnDrctl(['--state', 'state.json', 'failover-test'], { cwd: d.dir, env });
      await hole.connected();
      r.child.kill('SIGINT');
      const e = await r.exited;
      expect(e.code, text(e)).toBe(130);
      expect(e.ms).toBeLessThan(30_000);
      // The state is untouched; the drill history (drills/) keeps a record of the interrupted run.
      const after = Object.fromEntries(Object.entries(d.listing()).filter(([f]) => !f.startsWith('drills/')));
      expect(after).toEqual(before);
    },
  },
  oneRun(
    'failover-test',
    2,
    'failover-test before up is complete is 2, before any AWS call',
    ['failover-test'],
    { stderr: 'needs a complete `up`' },
  ),
  {
    command: 'verify',
    code: 0,
    name: 'verify a while after up is 0 (fake cloud)',
    run: async () => {
      const { r } = await inNewDir(['verify'], {
        env: { DRCTL_FAKE_SEED: 'up', DRCTL_FAKE_WAIT_S: '600' },
        fakeCloud: true,
      });
      expect(r.code, text(r)).toBe(0);
      expect(text(r)).toContain('verify: ready');
    },
  },
  {
    command: 'verify',
    code: 3,
    name: 'verify with a recorded resource gone is 3, not ready (fake cloud)',
    run: async () => {
      const { r } = await inNewDir(['verify'], {
        env: {
          DRCTL_FAKE_SEED: 'up',
          DRCTL_FAKE_WAIT_S: '600',
          DRCTL_FAKE_DELETE: 'ec2:key-pair:drctl-us-west-1',
        },
        fakeCloud: true,
      });
      expect(r.code, text(r)).toBe(3);
      expect(text(r)).toContain('verify: NOT READY');
    },
  },
  {
    command: 'verify',
    code: 1,
    name: 'verify that cannot reach AWS is 1, could not check',
    run: async () => {
      const d = workdir();
      copyFileSync(join(root, 'state.example.json'), join(d.dir, 'state.json'));
      const r = await runDrctl(['--state', 'state.json', 'verify'], {
        cwd: d.dir,
        env: userEnv(d.dir, { ...KEYS, ...FAST, AWS_ENDPOINT_URL: await closedPort() }),
      });
      expect(r.code, text(r)).toBe(1);
      expect(text(r)).toContain('verify: COULD NOT CHECK');
    },
  },
  oneRun('verify', 2, 'verify with no state is 2', ['verify'], { stderr: 'nothing to verify' }),
  {
    command: 'verify',
    code: 130,
    name: 'Ctrl-C during verify is 130 within seconds',
    run: async () => {
      const { d, hole, env } = await stalledAfterSts();
      copyFileSync(join(root, 'state.example.json'), join(d.dir, 'state.json'));
      const r = spawnDrctl(['--state', 'state.json', 'verify'], { cwd: d.dir, env });
      await hole.connected();
      const sent = Date.now();
      r.child.kill('SIGINT');
      const e = await r.exited;
      expect(e.code, text(e)).toBe(130);
      expect(Date.now() - sent).toBeLessThan(15_000);
    },
  },
  oneRun('plan', 0, 'plan needs no credentials', ['plan']),
  // GetCallerIdentity needs no permission, so the policy no longer names it (least privilege).
  oneRun('iam-policy', 0, 'iam-policy prints the policy', ['iam-policy'], {
    stdout: 'cloudformation:CreateStack',
  }),
  oneRun('iam-policy', 2, 'iam-policy with a bad account id is 2', ['iam-policy', '--account', '12'], {
    stderr: '--account',
  }),
  oneRun('config', 0, 'config prints the config in use', ['config']),
  oneRun('config', 2, 'config with a --config that is missing is 2', ['--config', 'nope.json', 'config'], {
    stderr: '--config',
  }),
];

describe('drctl under bad conditions (the built CLI as a child process)', () => {
  for (const c of cases) it(`${c.command} → ${c.code}: ${c.name}`, c.run, 60_000);
});

describe('docs/exit-codes.md', () => {
  it('every exit code it documents for a command is produced by a case above, and every case’s code is documented', () => {
    const doc = readFileSync(join(root, 'docs/exit-codes.md'), 'utf8');
    const documented = new Set<string>();
    for (const line of doc.split('\n')) {
      const m = /^\|\s*`drctl ([a-z-]+)[^`]*`\s*\|(.*)\|\s*$/.exec(line);
      if (!m) continue;
      const cells = m[2]!.split('|').map((c) => c.trim());
      ['0', '1', '2', '3', '130'].forEach((code, i) => {
        if (cells[i] && cells[i] !== '-') documented.add(`${m[1]} ${code}`);
      });
    }
    const tested = new Set(cases.map((c) => `${c.command} ${c.code}`));
    expect(
      [...documented].filter((k) => !tested.has(k)),
      'documented, not tested',
    ).toEqual([]);
    expect(
      [...tested].filter((k) => !documented.has(k)),
      'tested, not documented',
    ).toEqual([]);
  });
});
