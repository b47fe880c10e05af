import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BuiltCli, root } from '../support/built-cli.js';
import { spawnDrctl, userEnv } from '../support/cli-process.js';
import { FAKE_CREDENTIALS, LocalAws, s3Error } from '../support/local-aws.js';

// What drctl says, run as a person runs it: the built CLI in a child process, against a local
// stand-in endpoint where AWS is needed (AWS_ENDPOINT_URL, as for LocalStack).

let cli: BuiltCli;
let server: LocalAws | undefined;
beforeAll(() => assertBuilt());
afterEach(async () => {
  cli?.cleanup();
  await server?.stop();
  server = undefined;
});

const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

describe('flags and locations', () => {
  it('--version prints the version from package.json', () => {
    cli = new BuiltCli();
    const r = cli.run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
    expect(cli.listing()).toEqual({});
  });

  it.each(['S3://team-state/drctl.json', 's3:/team-state/drctl.json', 's3:team-state/drctl.json'])(
    '--state %s is refused, not taken as a local path',
    (state) => {
      cli = new BuiltCli();
      const r = cli.run(['--state', state, 'plan']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error: --state: "${state}" looks like an S3 location`);
      expect(r.stderr).toContain('s3://');
      expect(cli.listing()).toEqual({});
    },
  );

  it('plan with the state on S3 and no credentials says why it needs them (exit 2)', () => {
    cli = new BuiltCli();
    const r = cli.run(['--state', 's3://team-state/drctl.json?region=us-east-1', 'plan']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--state: plan reads the state from s3:\/\/team-state\/drctl\.json.*, and reading S3 needs AWS credentials/,
    );
    expect(r.stderr).toContain('with a local --state, plan needs none');
    expect(cli.listing()).toEqual({});
  });

  it('plan with a local state needs no credentials', () => {
    cli = new BuiltCli();
    const r = cli.run(['plan']);
    expect(r.code, r.stderr).toBe(0);
    expect(cli.listing()).toEqual({});
  });

  it('--verbose gives the stack trace of an error', () => {
    cli = new BuiltCli();
    const quiet = cli.run(['--state', 'S3://x/y', 'plan']);
    const verbose = cli.run(['--verbose', '--state', 'S3://x/y', 'plan']);
    expect(quiet.stderr).not.toMatch(/^\s+at /m);
    expect(verbose.code).toBe(2);
    expect(verbose.stderr).toMatch(/UsageError: --state: .*\n\s+at /);
  });
});

describe('AWS calls, against a local endpoint', () => {
  /** `drctl plan` with the state on S3: its one AWS call is the state's GetObject. */
  async function planOnS3(
    answer: ConstructorParameters<typeof LocalAws>[0],
    args: string[] = [],
    env: Record<string, string> = {},
  ) {
    server = new LocalAws(answer);
    const endpoint = await server.start();
    cli = new BuiltCli();
    return cli.runAsync([...args, '--state', 's3://team-state/drctl.json?region=us-east-1', 'plan'], {
      env: { ...FAKE_CREDENTIALS, AWS_ENDPOINT_URL: endpoint, ...env },
    });
  }

  it('--debug logs each call (service, command, region, status, time), and no credentials', async () => {
    const r = await planOnS3(() => s3Error(404, 'NoSuchKey'), ['--debug']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^debug aws: S3 GetObject us-east-1 404 NoSuchKey \d+ ms$/m);
    expect(r.stderr).not.toContain(FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID);
    expect(r.stderr).not.toContain(FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY);
    expect(r.stdout).toContain('state: s3://team-state/drctl.json');
  });

  it('without --debug, calls are not logged', async () => {
    const r = await planOnS3(() => s3Error(404, 'NoSuchKey'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('debug');
  });

  it("the SDK's Node.js version notice does not land in the output", async () => {
    const r = await planOnS3(() => s3Error(404, 'NoSuchKey'));
    expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|upgrade to node/);
  });

  it('a 5xx is retried on a visible line and called a server error, never throttling', async () => {
    // AWS_MAX_ATTEMPTS=1: the SDK does not retry on its own (it would, 5 times, silently, within
    // seconds), so drctl's own layer, which shows each retry, takes over at once.
    const r = await planOnS3(
      (_req, n) => (n <= 2 ? s3Error(500, 'InternalError') : s3Error(404, 'NoSuchKey')),
      [],
      { AWS_MAX_ATTEMPTS: '1' },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/S3 us-east-1: \w+ server error 500 \(InternalError\), retry 1 in \d+ s/);
    expect(r.stderr).not.toMatch(/throttl/i);
  });

  it("S3's SlowDown is throttling, and says so", async () => {
    const r = await planOnS3(
      (_req, n) => (n <= 2 ? s3Error(503, 'SlowDown') : s3Error(404, 'NoSuchKey')),
      [],
      { AWS_MAX_ATTEMPTS: '1' },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/S3 us-east-1: \w+ throttled \(SlowDown\), retry 1 in \d+ s/);
  });
});

describe('the prompt, in a pseudo-terminal', () => {
  // The built CLI on the fake cloud through util-linux `script` (a sized terminal, so the spinner is
  // live once steps run), answered by typing. The question is @inquirer's (src/cli/prompts.ts), asked
  // with the reporter suspended: while it waits nothing may be drawn, no spinner frame may land
  // between the question and the answer, and the answer line stays on the screen.
  const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
  // eslint-disable-next-line no-control-regex
  const plain = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r\n/g, '\n');

  interface Asked {
    code: number | null;
    /** Everything drctl wrote to the terminal. */
    out: string;
    /** What it wrote while the question waited for an answer. */
    whileWaiting: string;
    /** From the question's first appearance to inquirer's final line with the answer. */
    asking: string;
    /** After that line. */
    after: string;
    cloud: { resources: string[]; mutatingAfterSeed: number };
  }

  /** Runs `drctl ARGS` in a terminal, waits for `question`, lets 2.5 s pass, then types `keys`. */
  async function ask(args: string[], question: string, keys: string, env: Record<string, string> = {}) {
    const snapshot = join(cli.dir, 'cloud.json');
    const r = spawnDrctl(args, {
      cwd: cli.dir,
      env: userEnv(cli.dir, { DRCTL_FAKE_SNAPSHOT: snapshot, ...env }),
      fakeCloud: true,
      pty: true,
      columns: 200,
    });
    await r.waitFor(new RegExp(question.replace(/[.*+?^${}()|[\]\\`]/g, '\\$&')));
    const at = r.stdout.length;
    // Long enough for the reporter's once-a-second redraw (and ora's 80 ms frames) to come round.
    await new Promise((done) => setTimeout(done, 2_500));
    const whileWaiting = r.stdout.slice(at);
    r.child.stdin!.write(keys);
    const e = await r.exited;
    const out = e.stdout;
    const first = out.indexOf(question);
    // inquirer redraws the question on each key; its last frame (marked ✔) ends with a new line.
    const last = out.lastIndexOf(question);
    const end = out.indexOf('\n', last) + 1 || out.length;
    const cloud = JSON.parse(readFileSync(snapshot, 'utf8')) as Asked['cloud'];
    return { code: e.code, out, whileWaiting, asking: out.slice(first, end), after: out.slice(end), cloud };
  }

  /** The line inquirer leaves on the screen (its last frame, marked ✔): the question, then the answer. */
  const answerLine = (a: Asked) => {
    const text = plain(a.asking);
    return text.slice(text.lastIndexOf('✔')).trim();
  };

  function quietWhileAsking(a: Asked): void {
    expect(a.whileWaiting, 'nothing is drawn while the question waits').toBe('');
    expect(a.asking, 'no spinner frame between the question and the answer').not.toMatch(SPINNER);
    // The spinner's own redraws start with a carriage return or a cursor move to column 1.
    // eslint-disable-next-line no-control-regex
    expect(a.asking).not.toMatch(/\u001b\[\?2026h|\u001b\[1G\u001b\[0K/);
  }

  const stateRecords = () => {
    const path = join(cli.dir, '.drctl/state.json');
    if (!existsSync(path)) return [];
    const s = JSON.parse(readFileSync(path, 'utf8')) as {
      steps: Record<string, Record<string, { status: string }>>;
    };
    return Object.values(s.steps).flatMap((byScope) => Object.values(byScope).map((r) => r.status));
  };

  const DOWN_Q = 'Type the deployment name to confirm:';
  const UP_Q = 'Create them in account 111122223333';

  it('`down` asks; nothing redraws over the question or the answer; a wrong name deletes nothing (exit 2)', async () => {
    cli = new BuiltCli();
    const a = await ask(['down'], DOWN_Q, 'nope\r', { DRCTL_FAKE_SEED: 'up' });
    quietWhileAsking(a);
    expect(plain(a.asking)).toContain(
      'Delete everything drctl made for deployment "drctl" in sa-east-1 and us-west-1',
    );
    expect(answerLine(a)).toMatch(/^✔ .*Type the deployment name to confirm: nope$/);
    expect(a.code, a.out).toBe(2);
    expect(plain(a.after)).toContain('error: --yes: not confirmed; nothing was deleted');
    expect(a.cloud.mutatingAfterSeed, 'nothing deleted').toBe(0);
    expect(stateRecords().length).toBeGreaterThan(0);
    expect(stateRecords().every((s) => s === 'ready')).toBe(true);
  }, 60_000);

  it('`down` with the name typed: the answer stays on its line, the spinner runs below it, everything is deleted', async () => {
    cli = new BuiltCli();
    const a = await ask(['down'], DOWN_Q, 'drctl\r', { DRCTL_FAKE_SEED: 'up' });
    quietWhileAsking(a);
    expect(answerLine(a)).toMatch(/^✔ .*Type the deployment name to confirm: drctl$/);
    expect(a.code, plain(a.out)).toBe(0);
    expect(a.after, 'the spinner ran once the answer was given').toMatch(SPINNER);
    expect(plain(a.after)).toContain('down: everything deleted');
    expect(a.cloud.resources).toEqual([]);
    expect(stateRecords()).toEqual([]);
  }, 90_000);

  it('`up` shows the account, the plan and its cost before it asks; yes builds everything', async () => {
    cli = new BuiltCli();
    const a = await ask(['up'], UP_Q, 'y\r');
    quietWhileAsking(a);
    const before = plain(a.out.slice(0, a.out.indexOf(UP_Q)));
    expect(before).toContain(
      'AWS account 111122223333 as arn:aws:sts::111122223333:assumed-role/drctl-operator/ana',
    );
    expect(before).toMatch(/up will create or resume 2\d step\(s\): keypairs sa-east-1/);
    expect(before).toMatch(/total\s+\$[\d.]+\s+\$[\d.]+/);
    expect(answerLine(a)).toMatch(
      /^✔ Create them in account 111122223333 \(billed until `drctl down`\)\? Yes$/,
    );
    expect(a.code, plain(a.out)).toBe(0);
    expect(a.after).toMatch(SPINNER);
    expect(plain(a.after)).toMatch(/up: done/);
    expect(stateRecords().length).toBeGreaterThan(0);
    expect(stateRecords().every((s) => s === 'ready')).toBe(true);
  }, 90_000);

  it('`up` answered no creates nothing (exit 2)', async () => {
    cli = new BuiltCli();
    const a = await ask(['up'], UP_Q, 'n\r');
    quietWhileAsking(a);
    expect(answerLine(a)).toMatch(/^✔ Create them in account 111122223333 .* No$/);
    expect(a.code).toBe(2);
    expect(plain(a.after)).toContain('error: --yes: not confirmed; nothing was created');
    expect(a.cloud).toMatchObject({ resources: [], mutatingAfterSeed: 0 });
    expect(existsSync(join(cli.dir, '.drctl/state.json'))).toBe(false);
  }, 60_000);

  it('Ctrl-C at `up`’s question is 130, and nothing is created', async () => {
    cli = new BuiltCli();
    const a = await ask(['up'], UP_Q, '\x03');
    quietWhileAsking(a);
    expect(a.code).toBe(130);
    expect(plain(a.out)).toContain('interrupted at the prompt; nothing was changed');
    expect(a.cloud).toMatchObject({ resources: [], mutatingAfterSeed: 0 });
    expect(existsSync(join(cli.dir, '.drctl/state.json'))).toBe(false);
    expect(existsSync(join(cli.dir, '.drctl/state.json.lock'))).toBe(false);
  }, 60_000);

  it('`up` after a config change, every step built: the diff and the cost come before the question; no changes nothing', async () => {
    cli = new BuiltCli();
    writeFileSync(join(cli.dir, 'bigger.json'), JSON.stringify({ clientInstanceType: 't3.small' }));
    const q = 'Apply these changes in account 111122223333?';
    const a = await ask(['--config', 'bigger.json', 'up'], q, 'n\r', { DRCTL_FAKE_SEED: 'up' });
    quietWhileAsking(a);
    const before = plain(a.out.slice(0, a.out.indexOf(q)));
    expect(before).toMatch(
      /config changed since the last complete up \(.+\):\n\s+clientInstanceType: "t3\.micro" -> "t3\.small"/,
    );
    expect(before).toMatch(/vpc sa-east-1: update/);
    expect(before).toMatch(/up will apply the config changes above: 0 to create, 2 to update in place/);
    expect(before).toMatch(/total\s+\$[\d.]+\s+\$[\d.]+/);
    expect(a.code).toBe(2);
    expect(plain(a.after)).toContain('error: --yes: not confirmed; nothing was changed');
    expect(a.cloud.mutatingAfterSeed).toBe(0);
  }, 60_000);

  it('in a terminal that reports no width, progress is plain lines and up ends (no endless redraw)', async () => {
    cli = new BuiltCli();
    const r = spawnDrctl(['up', '--yes'], {
      cwd: cli.dir,
      env: userEnv(cli.dir),
      fakeCloud: true,
      pty: true,
    });
    const killer = setTimeout(() => r.child.kill('SIGKILL'), 45_000);
    const e = await r.exited;
    clearTimeout(killer);
    expect(e.code, plain(e.stdout).slice(-2000)).toBe(0);
    expect(e.stdout.length, 'bounded output').toBeLessThan(200_000);
    expect(e.stdout).not.toMatch(SPINNER);
    expect(plain(e.stdout)).toMatch(/✔ keypairs sa-east-1: done/);
  }, 60_000);
});
