import { dirname, join } from 'node:path';
import type { AwsClientFactoryOptions, AwsClients } from '../aws/clients.js';
import { type CallInfo, callText, retryText } from '../aws/calls.js';
import { regionsOf } from '../config/config.js';
import { GLOBAL, accountOfState } from '../state/schema.js';
import type { CallerIdentity, CredentialSource } from '../aws/identity.js';
import { UsageError } from '../errors/errors.js';
import { StateStore, type StoreOptions } from '../state/store.js';
import { isS3Location, parseS3Location } from '../state/location.js';
import type { Session } from './session.js';
import { recordedOutputs } from '../state/outputs.js';

// THE factory of AWS clients for a command run: every client a command makes (the steps', the
// drill's, verify's, the state store's) gets the same profile, clock, HTTP time-outs, retry notices
// and --debug call log. The SDK itself loads only when a client is made (`await import`).

/**
 * What the client factory tells while calls happen: each retry made outside a step (a step's own
 * go to its progress line: the runner's scoped clients) as a plain line, and with --debug each call.
 */
export function awsHooks(s: Session): Pick<AwsClientFactoryOptions, 'onRetry' | 'onCall'> {
  return {
    onRetry: (info) => {
      s.reporter.emit({
        type: 'log',
        level: 'info',
        message: `${info.service} ${info.region}: ${retryText(info)}`,
        t: s.deps.clock.now(),
      });
    },
    ...(s.opts.debug ? { onCall: (c: CallInfo) => s.deps.stderr.write(`debug ${callText(c)}\n`) } : {}),
  };
}

export interface ClientOptions {
  /** Stops new calls (the first Ctrl-C). */
  signal?: AbortSignal;
  /** Cancels the calls in flight. */
  abortSignal: AbortSignal;
  /** A read still failing after this long is given up (verify: about a minute). */
  retryDeadlineMs?: number;
}

export async function awsClients(s: Session, o: ClientOptions): Promise<AwsClients> {
  const { AwsClients, httpTimeoutsFromEnv } = await import('../aws/clients.js');
  return new AwsClients({
    profile: s.opts.profile,
    clock: s.deps.clock,
    ...(o.signal ? { signal: o.signal } : {}),
    abortSignal: o.abortSignal,
    ...httpTimeoutsFromEnv(s.deps.env),
    ...(o.retryDeadlineMs !== undefined ? { retryDeadlineMs: o.retryDeadlineMs } : {}),
    ...awsHooks(s),
    ...s.deps.aws,
  });
}

/** The state store's own client (an S3 state) keeps saving after Ctrl-C: no signal. */
export function storeOptions(s: Session): StoreOptions {
  return {
    clock: s.deps.clock,
    aws: { profile: s.opts.profile, clock: s.deps.clock, ...awsHooks(s), ...s.deps.aws },
    region: s.config.primary.region,
    rescuePath: join(s.paths.root, 'state.rejected.json'),
  };
}

export async function loadStore(s: Session): Promise<StateStore> {
  try {
    return await StateStore.load(s.statePath, s.config, storeOptions(s));
  } catch (e) {
    throw await inCredentialsWords(s, e);
  }
}

/**
 * An S3 state is read before the caller check (whoPays), so credentials that are missing or
 * expired fail there first: say so in the one credentials message, naming the profile and where
 * its name came from, not as the S3 call's failure in the SDK's words.
 */
async function inCredentialsWords(s: Session, e: unknown): Promise<unknown> {
  if (!isS3Location(s.statePath)) return e;
  const { credentialSource, credentialsError } = await import('../aws/identity.js');
  return credentialsError(e, credentialSource(s.opts.profile, s.deps.env)) ?? e;
}

/** Where drills and the last verify are kept: beside the state (src/state/evidence.ts). */
export async function evidenceOf(s: Session) {
  const { FileEvidence } = await import('../state/evidence.js');
  if (!isS3Location(s.statePath)) return new FileEvidence(dirname(s.statePath));
  const { s3Evidence } = await import('../state/s3.js');
  try {
    return await s3Evidence(parseS3Location(s.statePath), storeOptions(s));
  } catch (e) {
    throw await inCredentialsWords(s, e);
  }
}

/**
 * The step runner and its clients. The signal stops new AWS calls at Ctrl-C, and cancels those in
 * flight after a grace (the state store's own client keeps saving).
 */
export async function makeRunner(s: Session, store: StateStore, retryDeadlineMs?: number) {
  const { Runner } = await import('../engine/runner.js');
  const signal = s.signals.stop;
  const aws = await awsClients(s, { signal, abortSignal: s.signals.cancelCalls, retryDeadlineMs });
  const runner = new Runner({
    config: s.config,
    store,
    aws,
    clock: s.deps.clock,
    sink: s.reporter,
    signal,
    paths: s.paths,
    steps: s.steps,
  });
  return { runner, aws };
}

/**
 * Clients for the drill. Its restore must still run after the first Ctrl-C: once a fault is
 * recorded (before it is made) only the second Ctrl-C cancels calls in flight; before that, the
 * first does, after the same grace as the steps'.
 */
export async function drillClients(s: Session, store?: StateStore): Promise<AwsClients> {
  const cancel = new AbortController();
  const nothingToRestore = () =>
    (store ? recordedOutputs(store.state, 'probe', GLOBAL)?.drill : undefined) === undefined;
  s.signals.forced.addEventListener('abort', () => cancel.abort(s.signals.forced.reason), { once: true });
  s.signals.cancelCalls.addEventListener(
    'abort',
    () => {
      if (nothingToRestore()) cancel.abort(s.signals.cancelCalls.reason);
    },
    { once: true },
  );
  return awsClients(s, { abortSignal: cancel.signal });
}

/**
 * One STS call: the banner naming account, principal and regions; missing credentials are exit 2
 * here. Then the account guard, before anything is changed: credentials of another account than the
 * state's (or than the config's allowedAccountIds) are exit 2, as Terraform's allowed_account_ids
 * and CDK's environment check refuse them. The state learns the account (written with its next
 * record); a state from before drctl recorded it is read from its ARNs.
 */
export async function whoPays(s: Session, aws: AwsClients, store: StateStore): Promise<void> {
  if (s.identity) return;
  const { banner, callerIdentity, credentialSource } = await import('../aws/identity.js');
  const source = credentialSource(s.opts.profile, s.deps.env);
  s.identity = await callerIdentity(aws, s.config.primary.region, source);
  s.reporter.line(banner(s.identity, source, regionsOf(s.config)));
  guardAccount(s, store, s.identity, source);
}

function guardAccount(s: Session, store: StateStore, id: CallerIdentity, source: CredentialSource): void {
  // The caller's ARN says the partition (arn:aws:..., arn:aws-cn:..., arn:aws-us-gov:...):
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
  const partition = /^arn:(aws[a-z-]*):/.exec(id.arn)?.[1] ?? 'aws';
  const account = id.account;
  const using =
    source.from === 'default'
      ? 'the default credentials (no --profile, no AWS_PROFILE)'
      : `profile ${source.profile} (from ${source.from})`;
  const retry = (of: string) => `Run again with credentials of ${of} (--profile <name>, or AWS_PROFILE).`;
  const allowed = s.config.allowedAccountIds;
  if (allowed && !allowed.includes(account))
    throw new UsageError(
      `the credentials in use are of AWS account ${account},\n` +
        `  not one of allowedAccountIds (${allowed.join(', ')}); nothing was changed\n` +
        `  credentials: ${using}, ${id.arn}\n` +
        `  config: ${s.configPath ?? '(none)'}`,
      {
        field: 'allowedAccountIds',
        code: 'credentials.account',
        resolution: `${retry(allowed.length === 1 ? `account ${allowed[0]}` : 'an allowed account')} If ${account} is right, add it to allowedAccountIds.`,
      },
    );
  const made = accountOfState(store.state);
  if (made && (made.account !== account || made.partition !== partition)) {
    const where = (a: string, p: string) => (made.partition !== partition ? `${a} (partition ${p})` : a);
    throw new UsageError(
      `the credentials in use are of AWS account ${where(account, partition)},\n` +
        `  but the state is of account ${where(made.account, made.partition)}; nothing was changed\n` +
        `  credentials: ${using}, ${id.arn}\n` +
        `  state: ${s.statePath}`,
      {
        field: 'credentials',
        code: 'credentials.account',
        resolution: `${retry(`account ${made.account}`)} For a deployment of its own in account ${account}, use another --state.`,
      },
    );
  }
  store.learnAccount(account, partition);
}
