import { type ChildProcess, spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { root } from './built-cli.js';

/**
 * The built CLI as a running child process (signals, pipes, a pseudo-terminal), and the local
 * servers it is pointed at through the SDK's own AWS_ENDPOINT_URL variables.
 */

export const BIN = join(root, 'bin/drctl.js');
const PRELOAD = join(root, 'test/support/fake-cloud-preload.ts');
// By URL: `--import tsx` would be resolved from the child's working directory, a temp dir.
const TSX = import.meta.resolve('tsx');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit (a bound, not a benchmark). */
  ms: number;
}

export interface Running {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<Exit>;
  /** Resolves once stdout or stderr matches (or rejects when the process ends first). */
  waitFor(re: RegExp): Promise<void>;
}

export interface SpawnOptions {
  cwd: string;
  env: Record<string, string>;
  /** Run on the fake cloud: the built CLI with test/support/fake-cloud-preload.ts loaded first. */
  fakeCloud?: boolean;
  /** Through util-linux `script`, so drctl's stdin, stdout and stderr are a pseudo-terminal. */
  pty?: boolean;
  /**
   * The pseudo-terminal's width (`stty cols`). Unset, it is the size `script` gives a terminal
   * made without one: 0 columns and 0 rows.
   */
  columns?: number;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function spawnDrctl(args: string[], o: SpawnOptions): Running {
  const node = [
    process.execPath,
    ...(o.fakeCloud ? ['--import', TSX, '--import', PRELOAD] : []),
    BIN,
    ...args,
  ];
  const started = Date.now();
  const size = o.columns ? `stty cols ${o.columns} rows 40 && exec ` : '';
  const child = o.pty
    ? // -e: script exits with drctl's code; -q: no banner; -f: each write passed on at once;
      // /dev/null: no typescript file.
      spawn('script', ['-qfec', `${size}${node.map(quote).join(' ')}`, '/dev/null'], {
        cwd: o.cwd,
        env: { TERM: 'xterm', ...o.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    : spawn(node[0]!, node.slice(1), { cwd: o.cwd, env: o.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<{ re: RegExp; resolve: () => void; reject: (e: Error) => void }>();
  const check = () => {
    for (const w of waiters)
      if (w.re.test(stdout) || w.re.test(stderr)) {
        waiters.delete(w);
        w.resolve();
      }
  };
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    check();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    check();
  });
  const exited = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => {
      for (const w of waiters) w.reject(new Error(`drctl ended before ${w.re}:\n${stdout}\n${stderr}`));
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    waitFor: (re) =>
      new Promise<void>((resolve, reject) => {
        waiters.add({ re, resolve, reject });
        check();
      }),
  };
}

/** Run to the end (stdin closed at once). */
export async function runDrctl(args: string[], o: SpawnOptions): Promise<Exit> {
  const r = spawnDrctl(args, o);
  if (!o.pty) r.child.stdin!.end();
  return r.exited;
}

/** An environment as a new user's shell has it: PATH and HOME only, plus what a case adds. */
export function userEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    // On Node 20 the SDK's notice about its own future support is not under test (engines: >= 22).
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

export interface LocalServer {
  url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Resolves at the n-th connection. */
  connected(n?: number): Promise<void>;
  close(): Promise<void>;
}

/** A TCP server that accepts every connection and never answers: a stalled AWS endpoint. */
export async function blackHole(): Promise<LocalServer> {
  const sockets = new Set<Socket>();
  let count = 0;
  const waits: Array<{ n: number; resolve: () => void }> = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    count++;
    for (const w of waits.filter((x) => count >= x.n)) w.resolve();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return count;
    },
    connected: (n = 1) =>
      new Promise<void>((resolve) => (count >= n ? resolve() : waits.push({ n, resolve }))),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A port nothing listens on: connections are refused at once. */
export async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/**
 * STS answering GetCallerIdentity as AWS does (the awsQuery protocol's XML), for
 * AWS_ENDPOINT_URL_STS: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 */
export async function fakeStsEndpoint(arn = 'arn:aws:iam::111122223333:user/ana'): Promise<LocalServer> {
  let count = 0;
  const server = createHttpServer((req, res) => {
    count++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
          `<Arn>${arn}</Arn><UserId>AIDAEXAMPLE</UserId><Account>${arn.split(':')[4]}</Account>` +
          `</GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return count;
    },
    connected: () => Promise.resolve(),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
