import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { type Clock, realClock } from '../clock.js';
import type { CallInfo, RetryInfo } from './calls.js';
import { isServerError, isTransient, markNotResent } from './errors.js';
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
  signal?: AbortSignal,
  onRetry?: (info: Omit<RetryInfo, 'service' | 'region'>, command: object) => void,
): C {
  const c = client as unknown as { send: Sender };
  const send = c.send.bind(c);
  c.send = async (command, ...rest) => {
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
      try {
        return await target(command, ...rest);
      } catch (e) {
        if (!resendable && isServerError(e)) markNotResent(e, name);
        if (!isTransient(e) || clock.now() - start + delayMs > deadlineMs) throw e;
        // Full jitter keeps two regions' steps from retrying in lockstep.
        const sleepMs = delayMs / 2 + Math.random() * (delayMs / 2);
        onRetry?.({ command: name, attempt: ++attempt, delayMs: sleepMs, error: e }, command);
        await clock.sleep(sleepMs, signal);
        delayMs = Math.min(20_000, delayMs * 2);
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
      const config: ClientConfig = { region };
      if (this.credentials) config.credentials = this.credentials;
      if (!process.env.AWS_RETRY_MODE) config.retryMode = 'standard';
      if (!process.env.AWS_MAX_ATTEMPTS) config.maxAttempts = 6;
      const service = ctor.name.replace(/Client$/, '');
      const onRetry = this.opts.onRetry;
      const onCall = this.opts.onCall;
      const build = (cfg: ClientConfig) => {
        const client = new ctor(cfg);
        if (onCall) logCalls(client, service, region, onCall);
        return client;
      };
      let once: C | undefined;
      c = withRetries(
        build(config),
        () => (once ??= build({ ...config, maxAttempts: 1 })),
        this.clock,
        this.opts.retryDeadlineMs ?? 5 * 60_000,
        this.opts.signal,
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
      provider = fromNodeProviderChain({ profile });
    }
    return provider(props);
  };
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
