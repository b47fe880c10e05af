import { isThrottlingError, isTransientError } from '@smithy/core/retry';
import { mockClient } from 'aws-sdk-client-mock';
import { Authorizer, refusal } from './authz/authorizer.js';
import { VirtualClock } from './clock.js';
import { type DelayKey, type DelayProfile, delayMs } from './delays.js';
import { FakeAwsError, SimulatedCrash, awsError } from './errors.js';

export interface CallLogEntry {
  seq: number;
  service: string;
  command: string;
  region: string;
  input: unknown;
  t: number;
  mutating: boolean;
  outcome: 'ok' | string;
  /** 1 for the call drctl made; 2, 3... for the SDK's own resends of it (see `sdkSend`). */
  attempt: number;
  /**
   * What AWS answered a mutating call it applied (also when drctl never heard it: a crash or a
   * 500 after applying), so a test can check drctl recorded every id it was told (test/support/crash.ts).
   */
  output?: unknown;
}

export interface Faults {
  /** Crash right after the Nth (1-based) mutating call succeeded: AWS did it, drctl never hears. */
  crashAfterMutating?: number;
  /** Refuse the Nth mutating call with an InternalError before applying it. */
  failMutating?: number;
  /**
   * Apply the Nth (1-based) mutating call, then answer as if it failed: AWS did the work, but
   * drctl hears a 500 (InternalError or InternalFailure, as the service names it) or, with
   * `failAfterApplyingAs: 'connection-reset'`, a dropped connection (ECONNRESET). What a resend
   * then does is up to the SDK's retry (emulated, see `sdkSend`) and drctl.
   */
  failAfterApplyingMutating?: number;
  failAfterApplyingAs?: 'server-error' | 'connection-reset';
  /** Fraction of calls refused with a throttling error before they run (0..1). */
  throttleRate?: number;
  /** Calls (by command name) refused with a throttling error `throttleRate` of the time; all if unset. */
  throttleOnly?: string[];
  /** Refuse the first N calls (of `throttleOnly`, else any) with a throttling error, then let them through. */
  throttleFirst?: number;
  /**
   * Fraction of read-only calls answered with a server error (500 or 503) before they run (0..1):
   * AWS's InternalError / ServiceUnavailable on a bad day. Reads only: a 5xx on a create leaves
   * unknown whether it happened, which `crashAfterMutating` already models.
   */
  serverErrorRate?: number;
  /** Services (`sts`, `ec2`...) that `serverErrorRate` spares, e.g. the who-pays check before a command. */
  serverErrorSpare?: string[];
  /** Answer the first N read-only calls (of `serverErrorOnly`, else any) with a 503 ServiceUnavailable. */
  serverErrorFirst?: number;
  serverErrorOnly?: string[];
  /**
   * Calls (by command name) refused as IAM refuses an action the caller's policy lacks: 403
   * AccessDenied (AccessDeniedException on JSON services, UnauthorizedOperation on EC2).
   */
  accessDenied?: string[];
  /**
   * A regional outage: every call to these regions (of `unavailableServices`, else any service)
   * is answered 503 ServiceUnavailable before it runs, writes too (nothing applied). What an
   * incident switch must live with in the region it leaves.
   */
  unavailableRegions?: string[];
  unavailableServices?: string[];
  /**
   * Credentials that expire part-way: the first N calls (any service, counted from when the fault
   * is set) go through, then every call is refused. `credentialsExpireAs` 'token' (default): the
   * service's answer to an expired session token, 403 "The security token included in the request
   * is expired" as ExpiredToken (query and XML services) or ExpiredTokenException (JSON ones), S3's
   * 400 ExpiredToken; 'sso': the SDK's SSO provider refuses before anything is sent, a
   * CredentialsProviderError "The SSO session associated with this profile has expired". Clearing
   * the faults (`revive()`) is the login.
   */
  credentialsExpireAfter?: number;
  credentialsExpireAs?: 'token' | 'sso';
}

type Handler = (region: string, input: any) => unknown;

/** Base of every service model: the handlers are its methods named as the SDK commands. */
export abstract class FakeService {
  abstract readonly service: string;
  /** Global services (Route 53, IAM) keep one set of resources whatever the client's region. */
  readonly global: boolean = false;
  constructor(protected readonly cloud: FakeCloud) {}
  protected now(): number {
    return this.cloud.clock.now();
  }
  protected delay(key: DelayKey): number {
    return this.cloud.delay(key);
  }
  protected id(prefix: string): string {
    return this.cloud.newId(prefix);
  }
  /** Every live resource, one line each: `service/region/type/id`. */
  abstract snapshot(): string[];
  /** The tags of the resource this ARN names, if this model holds it (IAM's aws:ResourceTag). */
  tagsOfArn(_arn: string): Record<string, string> | undefined {
    return undefined;
  }
}

export interface Binding {
  clientClass: any;
  sdk: Record<string, unknown>;
  model: FakeService;
}

/**
 * The fake AWS account. Each service model is wired into its SDK client with aws-sdk-client-mock,
 * one handler per command, each a thin call into the model: never a canned answer.
 */
export class FakeCloud {
  readonly clock: VirtualClock;
  readonly account = '111122223333';
  readonly calls: CallLogEntry[] = [];
  /** IAM: every request is authorized against the caller's policies (authz/authorizer.ts). */
  readonly authorizer = new Authorizer(this);
  faults: Faults = {};
  /** How many calls `faults.throttleFirst` has refused so far. */
  private throttledFirst = 0;
  /** How many calls `faults.serverErrorFirst` has answered so far. */
  private serverErroredFirst = 0;
  /** Calls seen since the faults were set: what `faults.credentialsExpireAfter` counts. */
  private callsSeen = 0;
  profile: DelayProfile = 'typical';
  delayOverrides: Partial<Record<DelayKey, number>> = {};
  crashed = false;
  /**
   * At most this many items in every page of every list call (see paging.ts); unset, each call
   * pages at its AWS default. FAKE_CLOUD_PAGE_SIZE sets it for a whole test run.
   */
  pageSize: number | undefined = envPageSize();
  private mutatingSeen = 0;
  /** Mutating calls that succeeded: what `crashAfterMutating` counts (a refused call did nothing). */
  private mutatingDone = 0;
  private ids = 0;
  private rngState = 42;
  private readonly bindings: Binding[] = [];
  private restorers: Array<() => void> = [];

  constructor(opts: { clock?: VirtualClock } = {}) {
    this.clock = opts.clock ?? new VirtualClock();
  }

  register(b: Binding): void {
    this.bindings.push(b);
  }

  /** The registered model of that class (models reach each other's data through this). */
  model<T extends FakeService>(ctor: abstract new (cloud: FakeCloud) => T): T {
    const b = this.bindings.find((x) => x.model instanceof ctor);
    if (!b) throw new Error(`fake cloud has no ${ctor.name} model`);
    return b.model as T;
  }

  private readonly probes = new Map<string, Array<(id: string, region: string) => string[]>>();

  /**
   * Cross-service "who uses this?" checks, so a delete can fail while dependants exist as AWS's
   * does: e.g. the ELB model registers a probe for kind 'acm-certificate' that lists the listeners
   * using a certificate, and the ACM model's DeleteCertificate refuses while the list is not empty.
   */
  addDependencyProbe(kind: string, probe: (id: string, region: string) => string[]): void {
    const list = this.probes.get(kind) ?? [];
    list.push(probe);
    this.probes.set(kind, list);
  }

  dependents(kind: string, id: string, region: string): string[] {
    return (this.probes.get(kind) ?? []).flatMap((p) => p(id, region));
  }

  /**
   * Every state transition a model schedules while serving a call: what, where, and when it will
   * happen. The benchmark reads it to measure detection lag (how long after a resource became
   * ready drctl's next read saw it).
   */
  readonly transitions: Array<{
    seq: number;
    /** The command whose handling scheduled it. */
    command: string;
    key: DelayKey;
    service: string;
    region: string;
    scheduledAt: number;
    at: number;
  }> = [];
  private serving: CallLogEntry | undefined;

  delay(key: DelayKey): number {
    const ms = delayMs(key, this.profile, this.delayOverrides);
    if (this.serving) {
      const at = this.clock.now() + ms;
      const { service, region } = this.serving;
      if (!this.transitions.some((t) => t.key === key && t.at === at && t.region === region)) {
        this.transitions.push({
          seq: this.serving.seq,
          command: this.serving.command,
          key,
          service,
          region,
          scheduledAt: this.clock.now(),
          at,
        });
      }
    }
    return ms;
  }

  newId(prefix: string): string {
    this.ids++;
    return `${prefix}${this.ids.toString(16).padStart(8, '0')}${(this.random() * 0xffffffff).toString(16).slice(0, 9).replace('.', '')}`;
  }

  /** Deterministic pseudo-random numbers (mulberry32), so fault injection is repeatable. */
  random(): number {
    let t = (this.rngState += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  seed(n: number): void {
    this.rngState = n;
  }

  /** Install every registered model into the SDK clients; returns the function that removes them. */
  install(): () => void {
    // One mock per client class: several models may serve one client (FakeEc2 and the peering
    // model on EC2Client), and a second mockClient() on the same class would drop the first's handlers.
    const byClass = new Map<unknown, Binding[]>();
    for (const b of this.bindings) byClass.set(b.clientClass, [...(byClass.get(b.clientClass) ?? []), b]);
    for (const [clientClass, group] of byClass) {
      const mock = mockClient(clientClass as Binding['clientClass']);
      const services = [...new Set(group.map((b) => b.model.service))].join('/');
      mock.onAnyCommand().callsFake(() => {
        throw new Error(`fake cloud: ${services} received a command it does not model`);
      });
      const served = new Map<string, string>();
      for (const b of group) {
        const proto = Object.getPrototypeOf(b.model) as Record<string, unknown>;
        for (const name of Object.getOwnPropertyNames(proto)) {
          if (!/^[A-Z]/.test(name)) continue;
          const command = b.sdk[`${name}Command`];
          if (!command) throw new Error(`fake cloud: ${b.model.service} models ${name}, which the SDK lacks`);
          const other = served.get(name);
          if (other)
            throw new Error(
              `fake cloud: ${name} is modelled twice (${other} and ${b.model.constructor.name})`,
            );
          served.set(name, b.model.constructor.name);
          mock.on(command as any).callsFake(async (input: unknown, getClient: () => any) => {
            const client = getClient() as SdkClientLike; // now: it names the last client that sent
            // Global services (Route 53, IAM) keep one set of resources whatever the client's region.
            const region = b.model.global ? 'global' : await client.config.region();
            return this.sdkSend(client, (attempt) => this.dispatch(b.model, name, region, input, attempt));
          });
        }
      }
      this.restorers.push(() => mock.restore());
    }
    return () => this.uninstall();
  }

  uninstall(): void {
    for (const r of this.restorers.splice(0)) r();
  }

  /** Off only for a test that wants to see a single attempt whatever the client says. */
  sdkRetries = true;

  /**
   * The SDK's standard retry, which aws-sdk-client-mock bypasses by replacing `send`: a throttling
   * or transient error (every 5xx, a dropped connection) is sent again, up to the client's
   * maxAttempts, of any operation (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html;
   * @smithy/core retryMiddleware). The classification is the SDK's own; the back-off (50 ms base,
   * 1 s for throttling, doubling, full jitter, at most 20 s) runs on the virtual clock. The retry
   * quota is left out: it only matters after hundreds of failures.
   */
  private async sdkSend(client: SdkClientLike, call: (attempt: number) => unknown): Promise<unknown> {
    const maxAttempts = this.sdkRetries ? ((await client.config.maxAttempts?.()) ?? 3) : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call(attempt);
      } catch (e) {
        const err = e as Parameters<typeof isTransientError>[0];
        const throttled = isThrottlingError(err);
        if (attempt >= maxAttempts || e instanceof SimulatedCrash || !(throttled || isTransientError(err)))
          throw e;
        const base = throttled ? 1_000 : 50;
        await this.clock.sleep(Math.min(20_000, base * 2 ** (attempt - 1) * this.random()));
      }
    }
  }

  private dispatch(
    model: FakeService,
    command: string,
    region: string,
    input: unknown,
    attempt = 1,
  ): unknown {
    const mutating = !/^(Describe|Get|List|Head|Test|Lookup)/.test(command);
    const entry: CallLogEntry = {
      seq: this.calls.length + 1,
      service: model.service,
      command,
      region,
      input,
      t: this.clock.now(),
      mutating,
      outcome: 'ok',
      attempt,
    };
    this.calls.push(entry);
    const fail = (e: Error) => {
      entry.outcome = e.name;
      throw e;
    };
    if (this.crashed) return fail(new SimulatedCrash('simulated crash: the process is dead'));
    const f = this.faults;
    if (f.credentialsExpireAfter !== undefined && ++this.callsSeen > f.credentialsExpireAfter)
      return fail(expiredCredentials(model.service, f.credentialsExpireAs ?? 'token'));
    const throttleable = !f.throttleOnly || f.throttleOnly.includes(command);
    if (throttleable && f.throttleFirst !== undefined && this.throttledFirst < f.throttleFirst) {
      this.throttledFirst++;
      return fail(awsError(throttleCode(model.service), 'Rate exceeded', 400));
    }
    if (f.throttleRate && throttleable && this.random() < f.throttleRate) {
      return fail(awsError(throttleCode(model.service), 'Rate exceeded', 400));
    }
    if (
      f.unavailableRegions?.includes(region) &&
      (!f.unavailableServices || f.unavailableServices.includes(model.service))
    ) {
      return fail(awsError('ServiceUnavailable', 'Service is unavailable. Please try again.', 503));
    }
    if (f.accessDenied?.includes(command)) {
      const action = { action: `${model.service}:${command}`, resource: '*' };
      return fail(refusal(model.service, this.authorizer.principalArn(), action, true));
    }
    try {
      this.authorizer.authorize(model.service, command, region, input);
    } catch (e) {
      if (e instanceof FakeAwsError) return fail(e);
      throw e;
    }
    if (
      !mutating &&
      f.serverErrorFirst !== undefined &&
      this.serverErroredFirst < f.serverErrorFirst &&
      (!f.serverErrorOnly || f.serverErrorOnly.includes(command))
    ) {
      this.serverErroredFirst++;
      return fail(awsError('ServiceUnavailable', 'Service is unavailable. Please try again.', 503));
    }
    if (
      !mutating &&
      f.serverErrorRate &&
      !f.serverErrorSpare?.includes(model.service) &&
      this.random() < f.serverErrorRate
    ) {
      return fail(
        this.random() < 0.5
          ? awsError(
              serverErrorCode(model.service),
              'We encountered an internal error. Please try again.',
              500,
            )
          : awsError('ServiceUnavailable', 'Service is unavailable. Please try again.', 503),
      );
    }
    if (mutating) {
      this.mutatingSeen++;
      if (f.failMutating === this.mutatingSeen)
        return fail(awsError('InternalError', 'We encountered an internal error.', 500));
    }
    let out: unknown;
    this.serving = entry;
    try {
      out = (model as unknown as Record<string, Handler>)[command]!.call(
        model,
        region,
        structuredClone(input),
      );
    } catch (e) {
      if (e instanceof FakeAwsError) return fail(e);
      throw e;
    } finally {
      this.serving = undefined;
    }
    if (mutating) {
      this.mutatingDone++;
      entry.output = out;
    }
    if (mutating && f.crashAfterMutating === this.mutatingDone) {
      this.crashed = true;
      return fail(new SimulatedCrash());
    }
    if (mutating && f.failAfterApplyingMutating === this.mutatingSeen) {
      return fail(
        f.failAfterApplyingAs === 'connection-reset'
          ? connectionReset()
          : awsError(
              serverErrorCode(model.service),
              'We encountered an internal error. Please try again.',
              500,
            ),
      );
    }
    return structuredClone(out);
  }

  /** Mutating calls made so far (excluding throttled or failed ones). */
  get mutatingCalls(): CallLogEntry[] {
    return this.calls.filter((c) => c.mutating && c.outcome === 'ok');
  }

  resetCalls(): void {
    this.calls.length = 0;
  }

  /** Restart after a simulated crash: the next drctl process talks to the same cloud. */
  revive(): void {
    this.crashed = false;
    this.faults = {};
    this.mutatingSeen = 0;
    this.mutatingDone = 0;
    this.throttledFirst = 0;
    this.serverErroredFirst = 0;
    this.callsSeen = 0;
  }

  /** The tags of the resource an ARN names, from whichever model holds it. */
  resourceTags(arn: string): Record<string, string> | undefined {
    for (const b of this.bindings) {
      const tags = b.model.tagsOfArn(arn);
      if (tags) return tags;
    }
    return undefined;
  }

  /** Every live resource of every service in every region, sorted. Empty after a full `down`. */
  snapshot(): string[] {
    return this.bindings.flatMap((b) => b.model.snapshot()).sort();
  }
}

interface SdkClientLike {
  config: { region: () => Promise<string>; maxAttempts?: () => Promise<number> };
}

/** What Node's HTTP stack throws when the connection drops before the answer arrives. */
function connectionReset(): Error {
  return Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
}

/**
 * Expired credentials as each service answers them (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html:
 * ExpiredTokenException, 403; the query and XML protocols name it ExpiredToken, S3 with a 400), or
 * the SDK's SSO credential provider before a request is made (@aws-sdk/credential-provider-sso).
 */
function expiredCredentials(service: string, as: 'token' | 'sso'): Error {
  if (as === 'sso')
    return Object.assign(
      new Error(
        "The SSO session associated with this profile has expired. To refresh this SSO session run 'aws sso login' with the corresponding profile.",
      ),
      { name: 'CredentialsProviderError', tryNextLink: false },
    );
  if (service === 's3') return awsError('ExpiredToken', 'The provided token has expired.', 400);
  const query = ['ec2', 'iam', 'sts', 'cloudformation', 'elasticloadbalancing', 'cloudwatch', 'route53'];
  return awsError(
    query.includes(service) ? 'ExpiredToken' : 'ExpiredTokenException',
    'The security token included in the request is expired',
    403,
  );
}

function envPageSize(): number | undefined {
  const n = Number(process.env.FAKE_CLOUD_PAGE_SIZE);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function serverErrorCode(service: string): string {
  return service === 'ec2' || service === 's3' ? 'InternalError' : 'InternalFailure';
}

function throttleCode(service: string): string {
  switch (service) {
    case 'ec2':
      return 'RequestLimitExceeded';
    case 'cloudformation':
    case 'iam':
    case 'route53':
      return 'Throttling';
    case 'apigateway':
      return 'TooManyRequestsException';
    case 's3':
      return 'SlowDown';
    default:
      return 'ThrottlingException';
  }
}

/** Tags given as [{Key, Value}] or a map, as a map. */
export function tagsToMap(tags: unknown): Record<string, string> {
  if (!tags) return {};
  if (Array.isArray(tags)) {
    return Object.fromEntries((tags as Array<{ Key: string; Value: string }>).map((t) => [t.Key, t.Value]));
  }
  return { ...(tags as Record<string, string>) };
}

export function mapToTags(m: Record<string, string>): Array<{ Key: string; Value: string }> {
  return Object.entries(m).map(([Key, Value]) => ({ Key, Value }));
}
