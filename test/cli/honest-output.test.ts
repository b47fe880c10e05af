import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BuiltCli, root } from '../support/built-cli.js';
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
  // Written for the readline prompt; the prompt is now @inquirer/input (src/prompt.ts), which draws
  // the question itself. Left out until it reads inquirer's screen (see the bad-conditions pty cases).
  it.skip('`down` asks, and the spinner does not redraw over the question or the answer', async () => {
    cli = new BuiltCli();
    mkdirSync(join(cli.dir, '.drctl'));
    copyFileSync(join(root, 'state.example.json'), join(cli.dir, '.drctl/state.json'));
    const before = cli.listing();
    // script(1) gives drctl a terminal; drctl's stderr and our typing pass through it.
    const { spawn } = await import('node:child_process');
    const child = spawn(
      'script',
      // On the fake cloud (its STS answers the who-pays check that comes before the question).
      [
        '-qfec',
        `${process.execPath} --import ${import.meta.resolve('tsx')} --import ${join(root, 'test/support/fake-cloud-preload.ts')} ${join(root, 'bin/drctl.js')} down`,
        '/dev/null',
      ],
      {
        cwd: cli.dir,
        env: { PATH: process.env.PATH, HOME: cli.dir, AWS_EC2_METADATA_DISABLED: 'true', TERM: 'xterm' },
      },
    );
    let out = '';
    let typed = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!typed && out.includes('to confirm: ')) {
        typed = true;
        // Long enough for the spinner's once-a-second redraw to have come round twice.
        setTimeout(() => child.stdin.write('nope\r'), 2_500);
      }
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    const afterPrompt = out.slice(out.indexOf('to confirm: ') + 'to confirm: '.length);
    const beforeAnswer = afterPrompt.slice(0, afterPrompt.indexOf('nope'));
    // Between the question and the echoed answer, only readline's own placing of the cursor after the
    // question: no spinner frame, no carriage return, no line cleared.
    // eslint-disable-next-line no-control-regex
    expect(beforeAnswer).toMatch(/^(\u001b\[\d+G)?$/);
    expect(out).toContain('error: --yes: not confirmed; nothing was deleted');
    expect(code).toBe(2);
    expect(cli.listing()).toEqual(before);
  });
});
