import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { type Clock, realClock } from '../lib/clock.js';
import { awsErrorRow } from '../errors/aws.js';
import { AwsStepError } from '../errors/errors.js';
import type { CallInfo, RetryInfo } from './calls.js';
import { isServerError, isTransient, markNotResent, notResentCommand } from './errors.js';
import { isResendable } from './idempotency.js';

/**
 * The one place SDK clients are built. Every AWS call goes through a client from here, so
 * credentials, retries and endpoints are decided once:
 * - credentials: the SDK's standard chain (env, SSO, shared config, IMDS); `--profile` selects a
 *   profile exactly as AWS_PROFILE would, SSO included;
 * - retries: standard mode with more attempts than the default 3, because API Gateway and
 *   Route 53 control-plane quotas are low (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html);
 *   AWS_RETRY_MODE / AWS_MAX_ATTEMPTS still win when set, except that a call idempotency.ts lists
 *   as not resendable always goes out once (see withRetries);
 * - endpoints: never set here. The SDK reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> itself
 *   (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), so LocalStack or
 *   moto work without a code path of ours.
 * Client classes are passed in by the (lazily imported) step modules, so `drctl --help` loads no SDK.
 */
export interface ClientConfig {
  region: string;
  credentials?: AwsCredentialIdentityProvider;
  retryMode?: string;
  maxAttempts?: number;
  /**
   * The SDK's own Node HTTP handler, in its options form: each client builds it with its own
   * @smithy/node-http-handler version. Without time-outs a call to an endpoint that accepts and
   * never answers waits for ever. Since @smithy/node-http-handler 4.4 a request time-out only
   * warns unless throwOnRequestTimeout is set (older versions always throw, ignoring the flag):
   * https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html
   */
  requestHandler?: {
    connectionTimeout: number;
    requestTimeout: number;
    throwOnRequestTimeout: boolean;
  };
}

/** Defaults like the AWS CLI's (60 s each), shorter: drctl's calls are small and the probe's Lambda runs 15 s at most. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** DRCTL_HTTP_TIMEOUT_MS: the request time-out of every AWS call (the connection time-out is at most 5 s). */
export function httpTimeoutsFromEnv(env: NodeJS.ProcessEnv): {
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
} {
  const raw = env.DRCTL_HTTP_TIMEOUT_MS;
  const ms = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  const requestTimeoutMs = Number.isFinite(ms) && ms > 0 ? ms : DEFAULT_REQUEST_TIMEOUT_MS;
  return { requestTimeoutMs, connectionTimeoutMs: Math.min(DEFAULT_CONNECTION_TIMEOUT_MS, requestTimeoutMs) };
}

export type ClientClass<C> = new (config: ClientConfig) => C;

/** Route 53 is a global service whose control plane lives in us-east-1. */
export const ROUTE53_REGION = 'us-east-1';

export interface AwsClientFactoryOptions {
  profile?: string;
  /** Tests pass fixed credentials so the chain never touches the disk or IMDS. */
  credentials?: AwsCredentialIdentityProvider;
  /** The clock our own retry layer sleeps on (virtual in tests and benchmarks). */
  clock?: Clock;
  /** How long one call may keep failing transiently before the error is passed on. */
  retryDeadlineMs?: number;
  /**
   * Ctrl-C: once aborted, no call starts (nor is retried); the ones in flight finish, so their
   * answers are still recorded. Without it a step would run on to its next wait, creating more.
   */
  signal?: AbortSignal;
  /** Aborting it cancels the calls in flight (Ctrl-C, after a short grace, or the second Ctrl-C). */
  abortSignal?: AbortSignal;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Told before each retry of our layer sleeps, so the wait shows on the progress line. */
  onRetry?: (info: RetryInfo) => void;
  /** Told after each HTTP attempt the SDK makes (`--debug`): service, command, region, status, time. */
  onCall?: (info: CallInfo) => void;
}

type Sender = (command: SdkCommand, ...rest: unknown[]) => Promise<unknown>;
interface SdkCommand {
  constructor: { name: string };
  input?: unknown;
}

const commandName = (command: SdkCommand) => command.constructor.name.replace(/Command$/, '');

/**
 * Our retry layer above the SDK's: the SDK retries a throttled call a few times within seconds;
 * this keeps going with capped backoff up to a deadline, because API Gateway's control plane allows
 * one DeleteRestApi per 30 s per account and Route 53 answers PriorRequestNotComplete while a change
 * is in flight (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
 *
 * Throttling is refused before AWS does anything, so every call is resent on it. A server error
 * (5xx, dropped connection) may come after the work was done: only a call idempotency.ts lists as
 * resendable is sent again. The others go through `once`, a twin client with the SDK's retry off
 * (maxAttempts 1: the SDK would otherwise resend every 5xx of any operation), and their server
 * error is marked so that no caller resends it either; the runner re-runs the step, which looks
 * for what the call may have made before it creates anything.
 */
function withRetries<C>(
  client: C,
  once: () => C,
  clock: Clock,
  deadlineMs: number,
  o: { signal?: AbortSignal; abortSignal?: AbortSignal; requestTimeoutMs: number },
  onRetry?: (info: Omit<RetryInfo, 'service' | 'region'>, command: object) => void,
): C {
  const { signal, abortSignal } = o;
  const c = client as unknown as { send: Sender };
  const send = c.send.bind(c);
  c.send = async (command, options?: unknown, ...rest) => {
    const name = commandName(command);
    const resendable = isResendable(name, command.input);
    const target: Sender = resendable
      ? send
      : (cmd, ...r) => (once() as unknown as { send: Sender }).send(cmd, ...r);
    const start = clock.now();
    let delayMs = 1_000;
    let attempt = 0;
    for (;;) {
      signal?.throwIfAborted();
      // A signal of its own per call: older @smithy/node-http-handler versions (2.x, under some
      // clients) set `abortSignal.onabort`, so calls sharing one signal would cancel only the last.
      const own = abortSignal && new AbortController();
      const cancel = () => own?.abort(abortSignal?.reason);
      abortSignal?.addEventListener('abort', cancel, { once: true });
      if (abortSignal?.aborted) cancel();
      const opts = own ? { abortSignal: own.signal, ...(options as object | undefined) } : options;
      try {
        return await target(command, ...(opts === undefined ? [] : [opts]), ...rest);
      } catch (e) {
        if (!resendable && isServerError(e)) markNotResent(e, name);
        // A stalled or unreachable endpoint: the SDK has retried it already; say where it is.
        if (isUnanswered(e) && !abortSignal?.aborted) {
          const err = unanswered(e, client, name, o.requestTimeoutMs);
          if (notResentCommand(e) !== undefined) markNotResent(err, name);
          throw err;
        }
        if (!isTransient(e) || clock.now() - start + delayMs > deadlineMs) throw e;
        // Full jitter keeps two regions' steps from retrying in lockstep.
        const sleepMs = delayMs / 2 + Math.random() * (delayMs / 2);
        onRetry?.({ command: name, attempt: ++attempt, delayMs: sleepMs, error: e }, command);
        await clock.sleep(sleepMs, signal);
        delayMs = Math.min(20_000, delayMs * 2);
      } finally {
        abortSignal?.removeEventListener('abort', cancel);
      }
    }
  };
  return client;
}

/**
 * Who hears about a retry of one call: set by `scoped` clients for the commands they send (the
 * runner's: each step's progress line), else the factory's `onRetry`. Keyed by the command
 * object, which a step makes for each call.
 */
const RETRY_SINKS = new WeakMap<object, (info: RetryInfo) => void>();

export class AwsClients {
  private readonly cache = new Map<string, unknown>();
  private readonly credentials: AwsCredentialIdentityProvider | undefined;
  private readonly clock: Clock;

  constructor(private readonly opts: AwsClientFactoryOptions = {}) {
    this.credentials = opts.credentials ?? (opts.profile ? profileCredentials(opts.profile) : undefined);
    this.clock = opts.clock ?? realClock;
  }

  client<C>(ctor: ClientClass<C>, region: string): C {
    const key = `${ctor.name}@${region}`;
    let c = this.cache.get(key) as C | undefined;
    if (!c) {
      const config: ClientConfig = {
        region,
        requestHandler: {
          connectionTimeout: this.opts.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
          requestTimeout: this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
          throwOnRequestTimeout: true,
        },
      };
      if (this.credentials) config.credentials = this.credentials;
      if (!process.env.AWS_RETRY_MODE) config.retryMode = 'standard';
      if (!process.env.AWS_MAX_ATTEMPTS) config.maxAttempts = 6;
      const service = ctor.name.replace(/Client$/, '');
      const onRetry = this.opts.onRetry;
      const onCall = this.opts.onCall;
      const build = (cfg: ClientConfig) => {
        const client = new ctor(cfg);
        noteEndpoint(client);
        if (onCall) logCalls(client, service, region, onCall);
        return Object.assign(client as object, { drctlRegion: region }) as C;
      };
      let once: C | undefined;
      c = withRetries(
        build(config),
        () => (once ??= build({ ...config, maxAttempts: 1 })),
        this.clock,
        this.opts.retryDeadlineMs ?? 5 * 60_000,
        {
          signal: this.opts.signal,
          abortSignal: this.opts.abortSignal,
          requestTimeoutMs: config.requestHandler!.requestTimeout,
        },
        (i, command) => (RETRY_SINKS.get(command) ?? onRetry)?.({ ...i, service, region }),
      );
      this.cache.set(key, c);
    }
    return c;
  }

  /**
   * The same clients (same cache, same retry layer), except that a retry of a call sent through
   * them is told to `onRetry`: the runner gives each step its own, so a retry shows on that step's
   * progress line.
   */
  scoped(onRetry: (info: RetryInfo) => void): AwsClients {
    const wrapped = new Map<string, unknown>();
    const scoped = Object.create(this) as AwsClients;
    scoped.client = <C>(ctor: ClientClass<C>, region: string): C => {
      const key = `${ctor.name}@${region}`;
      let w = wrapped.get(key) as C | undefined;
      if (!w) {
        const c = this.client(ctor, region) as unknown as {
          send: (command: object, ...rest: unknown[]) => unknown;
        };
        const proxy = Object.create(c) as typeof c;
        proxy.send = (command, ...rest) => {
          RETRY_SINKS.set(command, onRetry);
          return c.send(command, ...rest);
        };
        w = proxy as unknown as C;
        wrapped.set(key, w);
      }
      return w;
    };
    return scoped;
  }

  /** Number of distinct clients built so far (a benchmark figure). */
  get size(): number {
    return this.cache.size;
  }
}

function profileCredentials(profile: string): AwsCredentialIdentityProvider {
  let provider: AwsCredentialIdentityProvider | undefined;
  return async (props) => {
    if (!provider) {
      const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
      // With keys in the environment too, the chain warns on stderr in its own words that it
      // takes the profile (AWS_PROFILE wins over the key variables). drctl says which profile it
      // uses in its banner and in its credentials errors, so the SDK's warning is not repeated;
      // other warnings still reach stderr.
      const quiet = {
        debug: () => undefined,
        info: () => undefined,
        warn: (...a: unknown[]) => {
          if (!String(a[0]).includes('Multiple credential sources detected')) console.warn(...a);
        },
        error: (...a: unknown[]) => console.error(...a),
      };
      provider = fromNodeProviderChain({ profile, logger: quiet });
    }
    return provider(props);
  };
}

/** The connection or the answer did not come: refused, unreachable, or timed out (each attempt). */
const UNANSWERED = new Set([
  'ETIMEDOUT',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function isUnanswered(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as NodeJS.ErrnoException).code;
  return e.name === 'TimeoutError' || (code !== undefined && UNANSWERED.has(code));
}

const ENDPOINT = Symbol('drctl.endpoint');

/**
 * Each attempt's error carries the endpoint it went to (the SDK's own errors do not name it): a
 * middleware in the innermost step, where the request has its final URL.
 */
function noteEndpoint(client: unknown): void {
  const stack = (client as { middlewareStack?: { add: (...a: unknown[]) => void } }).middlewareStack;
  if (!stack) return;
  stack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: { request?: unknown }) => {
      try {
        return await next(args);
      } catch (e) {
        const r = args.request as { protocol?: string; hostname?: string; port?: number } | undefined;
        if (e instanceof Error && r?.hostname)
          Object.assign(e, {
            [ENDPOINT]: `${r.protocol ?? 'https:'}//${r.hostname}${r.port ? `:${r.port}` : ''}`,
          });
        throw e;
      }
    },
    { step: 'deserialize', name: 'drctlNoteEndpoint', priority: 'low' },
  );
}

function unanswered(e: unknown, client: unknown, command: string, timeoutMs: number): AwsStepError {
  const config = (client as { config?: { serviceId?: string; region?: unknown } }).config;
  const ctorName = (client as { constructor: { name: string } }).constructor.name;
  const service = config?.serviceId ?? ctorName.replace(/Client$/, '');
  const endpoint = (e as { [ENDPOINT]?: string })[ENDPOINT] ?? 'its endpoint';
  const attempts = (e as { $metadata?: { attempts?: number } }).$metadata?.attempts;
  const err = e as NodeJS.ErrnoException;
  const why =
    err.name === 'TimeoutError' || err.code === 'ETIMEDOUT'
      ? `no answer within ${timeoutMs} ms`
      : `${err.code ?? err.name}`;
  const region = (client as { drctlRegion?: string }).drctlRegion;
  return new AwsStepError(
    `${service} ${command} at ${endpoint}: ${why}${attempts ? ` (${attempts} attempt${attempts === 1 ? '' : 's'})` : ''}`,
    {
      region,
      resource: endpoint,
      awsCode: err.code ?? err.name,
      code: 'aws.unreachable',
      cause: e,
      resolution: awsErrorRow('aws.unreachable').resolution.run,
    },
  );
}

/**
 * `--debug`: a middleware in the deserialize step, inside the SDK's retry loop, so each HTTP
 * attempt is told once with its status and time. It reads only names and the status, never the
 * request (no parameters, headers or credentials).
 */
function logCalls(client: unknown, service: string, region: string, onCall: (info: CallInfo) => void): void {
  const stack = (client as { middlewareStack?: { add: (mw: unknown, o: unknown) => void } }).middlewareStack;
  if (!stack) return;
  stack.add(
    (
      next: (args: unknown) => Promise<{ response?: { statusCode?: number } }>,
      context: { commandName?: string },
    ) =>
      async (args: unknown) => {
        const started = Date.now();
        const command = (context.commandName ?? 'call').replace(/Command$/, '');
        try {
          const out = await next(args);
          onCall({ service, command, region, status: out.response?.statusCode, ms: Date.now() - started });
          return out;
        } catch (e) {
          const err = e as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
          onCall({
            service,
            command,
            region,
            status: err.$metadata?.httpStatusCode,
            error: err.code ?? err.name,
            ms: Date.now() - started,
          });
          throw e;
        }
      },
    { step: 'deserialize', priority: 'high', name: 'drctlCallLog' },
  );
}
