import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeAll } from 'vitest';

/**
 * The built CLI (`bin/drctl.js`, which imports dist/) run as a child process in a directory of its
 * own, the way a person meets it: real argv, real exit code, real stdout and stderr, no TTY.
 */
export const root = new URL('../..', import.meta.url).pathname;
export const denySdkHook = join(root, 'test/support/deny-sdk-hook.mjs');

function newest(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
}

/** Fails with what to do when dist/ is missing or older than src/ (tests of the built CLI need a build). */
export function assertBuilt(): void {
  const cli = join(root, 'dist/cli/main.js');
  if (!existsSync(cli) || statSync(cli).mtimeMs < newest(join(root, 'src')))
    throw new Error('dist/ is missing or older than src/: run `npm run build` before these tests');
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class BuiltCli {
  readonly dir: string;
  private readonly owned: boolean;

  /** In a new temporary directory, or in `dir` (e.g. a Harness's, after an `up` on the fake cloud). */
  constructor(dir?: string) {
    this.owned = dir === undefined;
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'drctl-cli-'));
  }

  /** `drctl ARGS` in this directory; HOME is the directory too, so no real ~/.aws is read. */
  run(
    args: string[],
    opts: { env?: Record<string, string>; input?: string; nodeArgs?: string[] } = {},
  ): CliRun {
    const r = spawnSync(process.execPath, [...(opts.nodeArgs ?? []), join(root, 'bin/drctl.js'), ...args], {
      cwd: this.dir,
      encoding: 'utf8',
      input: opts.input ?? '',
      timeout: 30_000,
      env: this.env(opts.env),
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /**
   * The same, without blocking this process: for a CLI that talks to a server the test runs
   * (test/support/local-aws.ts). `onStderr` sees stderr as it comes and may answer on stdin.
   */
  runAsync(
    args: string[],
    opts: {
      env?: Record<string, string>;
      onStderr?: (soFar: string, stdin: NodeJS.WritableStream) => void;
    } = {},
  ): Promise<CliRun> {
    const child = spawn(process.execPath, [join(root, 'bin/drctl.js'), ...args], {
      cwd: this.dir,
      env: this.env(opts.env),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onStderr?.(stderr, child.stdin);
    });
    if (!opts.onStderr) child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    return new Promise((resolve) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      }),
    );
  }

  /** No real AWS: HOME is this directory (no ~/.aws), and the SDK never asks the EC2 metadata service. */
  private env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH, HOME: this.dir, AWS_EC2_METADATA_DISABLED: 'true', ...extra };
  }

  /** Every file under the directory with a hash of its content: equal listings mean nothing changed. */
  listing(dir = this.dir): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) Object.assign(out, this.listing(p));
      else out[relative(this.dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
    return out;
  }

  cleanup(): void {
    if (this.owned) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * For a test file: a new working directory of the built CLI per call, each removed after its
 * test. Also checks dist/ is built before the file's tests run.
 */
export function builtCliWorkdirs(): () => BuiltCli {
  const dirs: BuiltCli[] = [];
  beforeAll(() => assertBuilt());
  afterEach(() => {
    for (const d of dirs.splice(0)) d.cleanup();
  });
  return () => {
    const d = new BuiltCli();
    dirs.push(d);
    return d;
  };
}
