/**
 * IAM in front of the fake cloud: every request is authorized, before it takes effect, against the
 * caller's identity policies, with the checks `table.ts` lists for its command and the request's
 * condition context. A refusal answers as the service does (see `refusal`).
 *
 * The caller is, unless a test says otherwise, a user whose only policy is the one `drctl
 * iam-policy --account <this account>` prints for the test's config (all its parts): what the
 * README tells a user to attach. `Harness` and the CLI preload point it at the config a command
 * runs with (`actAs`); a test of the denied path may change it (`policies`).
 *
 * Every allowed check records which statements allowed it (`grants`), so a test can show each
 * statement, action and resource of drctl's policy is the only one that allows some request.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig, loadConfig, type Config } from '../../../../src/config/config.js';
import { parseS3Location } from '../../../../src/state/location.js';
import { iamPolicy, splitPolicy } from '../../../../src/iam/policy.js';
import type { FakeCloud } from '../cloud.js';
import { awsError } from '../errors.js';
import {
  evaluate,
  statementApplies,
  wildcard,
  type ContextValue,
  type Decision,
  type Policy,
  type Statement,
} from './evaluate.js';
import { AUTHZ, requestTags, type Check } from './table.js';

/** One allowed check and the statement elements that allowed it. */
export interface Grant {
  service: string;
  command: string;
  action: string;
  resource: string;
  /** `Sid|action pattern|resource pattern` of every statement that allowed it. */
  by: string[];
}

type Lookup = (region: string, key: string) => string | undefined;

export class Authorizer {
  /** The caller's identity policies; undefined: drctl's policy for the default config. */
  private own: Policy[] | undefined;
  /** Off only for tests of the fake itself that do not care who calls. */
  enabled = true;
  private admin = 0;

  /**
   * Calls made inside `fn` come from another user of the account, one allowed everything: a test's
   * set-up of what drctl did not make (a bucket the team made, look-alikes, a resource deleted by
   * hand), and tests of the fake's own behaviour. Never for what drctl itself does.
   */
  async asAdmin<T>(fn: () => Promise<T>): Promise<T> {
    this.admin++;
    try {
      return await fn();
    } finally {
      this.admin--;
    }
  }
  /** Every allowed check, with what allowed it (see `Grant`). Cleared with `grants.length = 0`. */
  readonly grants: Grant[] = [];
  /** Every distinct check asked (action, resource, the condition keys of its context). */
  get checked(): Array<{ action: string; resource: string; context: string[] }> {
    return [...this.asked.values()];
  }
  private readonly asked = new Map<string, { action: string; resource: string; context: string[] }>();
  /** Every refusal, for tests and for a readable failure. */
  readonly refusals: Array<{ service: string; command: string; action: string; resource: string }> = [];
  private readonly lookups = new Map<string, Lookup>();

  constructor(private readonly cloud: FakeCloud) {}

  readonly principalArn = (): string => `arn:aws:iam::${this.cloud.account}:user/drctl`;

  /** The caller's policies now. */
  get policies(): Policy[] {
    return (this.own ??= this.drctlPolicy(defaultConfig()));
  }

  /** Replace the caller's policies (a test of the denied path); `actAs` then leaves them alone. */
  set policies(p: Policy[]) {
    this.own = p;
    this.pinned = true;
  }
  private pinned = false;

  /**
   * The caller holds exactly what `drctl iam-policy` prints for this config (and S3 state), unless
   * a test pinned other policies.
   */
  actAs(config: Config, opts: { stateS3?: { bucket: string; key: string } } = {}): void {
    if (this.pinned) return;
    const next = this.drctlPolicy(config, opts);
    // The same policy again (every Harness.run asks): keep it, and what was decided under it.
    if (!this.own || JSON.stringify(next) !== JSON.stringify(this.own)) this.own = next;
  }

  /**
   * `actAs` for the config and state a drctl command line would use (`--config`, `--state`, else
   * drctl.config.json in `cwd`). A config drctl would refuse leaves the caller as it was.
   */
  actAsFor(argv: readonly string[], cwd: string): void {
    const value = (flag: string) => {
      const i = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
      if (i < 0) return undefined;
      return argv[i]!.includes('=') ? argv[i]!.slice(flag.length + 1) : argv[i + 1];
    };
    let config: Config;
    try {
      config = loadConfig({ path: value('--config'), cwd }).config;
    } catch {
      return;
    }
    const state = value('--state');
    let stateS3: { bucket: string; key: string } | undefined;
    if (state?.startsWith('s3://')) {
      try {
        const where = parseS3Location(state);
        stateS3 = { bucket: where.bucket, key: where.key };
      } catch {
        stateS3 = undefined;
      }
    }
    this.actAs(config, { stateS3 });
  }

  drctlPolicy(config: Config, opts: { stateS3?: { bucket: string; key: string } } = {}): Policy[] {
    return splitPolicy(iamPolicy(config, { account: this.cloud.account, ...opts }));
  }

  /** Models answer lookups the table needs (a stack's id from its name, a peering's accepter VPC). */
  addLookup(kind: string, fn: Lookup): void {
    this.lookups.set(kind, fn);
  }

  lookup(kind: string, region: string, key: string): string | undefined {
    return this.lookups.get(kind)?.(region, key);
  }

  /**
   * Authorize one request before it takes effect; throws the service's refusal. `region` is the
   * client's (`global` for Route 53 and IAM).
   */
  authorize(service: string, command: string, region: string, input: unknown): void {
    if (!this.enabled || this.admin > 0) return;
    const row = AUTHZ[service]?.[command];
    if (!row) throw new Error(`fake cloud: no authorization row for ${service}:${command} (authz/table.ts)`);
    const requestRegion = region === 'global' ? 'us-east-1' : region;
    const checks = row({
      region: requestRegion,
      account: this.cloud.account,
      partition: 'aws',
      input,
      cloud: this.cloud,
    });
    for (const c of checks) this.require(service, command, requestRegion, c, input);
  }

  /**
   * What a service does with the caller's credentials after accepting a call (CloudFormation
   * creating a template's resources, Synthetics making the canary's function, a first use making a
   * service-linked role): `calledVia` the service principal when AWS marks it so
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-calledvia).
   * Throws the refusal in the acting service's shape.
   */
  onBehalf(
    service: string,
    command: string,
    region: string,
    check: Check,
    opts: { calledVia?: string } = {},
  ): void {
    if (!this.enabled || this.admin > 0) return;
    const requestRegion = region === 'global' ? 'us-east-1' : region;
    const withVia = opts.calledVia
      ? {
          ...check,
          context: {
            ...check.context,
            'aws:CalledVia': [opts.calledVia],
            'aws:CalledViaFirst': opts.calledVia,
          },
        }
      : check;
    this.require(service, command, requestRegion, withVia, {});
  }

  /** Whether the caller may do this, without refusing anything (Lambda's tags on GetFunction). */
  allows(service: string, command: string, region: string, check: Check): boolean {
    if (!this.enabled || this.admin > 0) return true;
    const requestRegion = region === 'global' ? 'us-east-1' : region;
    return this.decide(service, command, requestRegion, check, {}) === 'allow';
  }

  private require(service: string, command: string, region: string, c: Check, input: unknown): void {
    const decision = this.decide(service, command, region, c, input);
    if (decision === 'allow') return;
    this.refusals.push({ service, command, action: c.action, resource: c.resource });
    throw refusal(service, this.principalArn(), c, decision === 'explicit-deny');
  }

  private decide(service: string, command: string, region: string, c: Check, input: unknown) {
    const context: Record<string, ContextValue> = { 'aws:RequestedRegion': region, ...tagContext(input) };
    if (c.resource !== '*') {
      for (const [k, v] of Object.entries(this.cloud.resourceTags(c.resource) ?? {}))
        context[`aws:ResourceTag/${k}`] = v;
    }
    Object.assign(context, c.context);
    const request = { action: c.action, resource: c.resource, context };
    const keys = Object.keys(context).sort();
    this.asked.set(`${c.action}|${c.resource}|${keys.join()}`, {
      action: c.action,
      resource: c.resource,
      context: keys,
    });
    const policies = this.policies;
    // The same request under the same policies gets the same answer (a crash matrix asks the same
    // thousands of times): decided once.
    if (this.memoFor !== policies) {
      this.memo.clear();
      this.memoFor = policies;
    }
    const memoKey = `${c.action}|${c.resource}|${JSON.stringify(context)}`;
    let m = this.memo.get(memoKey);
    if (!m) {
      const decision = evaluate(policies, request);
      const by: string[] = [];
      const elements: Array<[string, string, string]> = [];
      if (decision === 'allow') {
        for (const p of policies) {
          for (const s of (Array.isArray(p.Statement) ? p.Statement : [p.Statement]) as Statement[]) {
            if (s.Effect !== 'Allow' || !statementApplies(s, request)) continue;
            const act = list(s.Action).filter((a) => wildcard(a, c.action, true));
            const res = list(s.Resource).filter((r) => wildcard(r, c.resource, false));
            for (const a of act)
              for (const r of res) {
                by.push(`${s.Sid ?? '?'}|${a}|${r}`);
                elements.push([statementKey(s), a, r]);
              }
          }
        }
        if (!this.pinned) LEDGER.allowedBy(elements);
      }
      this.memo.set(memoKey, (m = { decision, by }));
    }
    if (m.decision === 'allow')
      this.grants.push({ service, command, action: c.action, resource: c.resource, by: m.by });
    return m.decision;
  }

  private memoFor: Policy[] | undefined;
  private readonly memo = new Map<string, { decision: Decision; by: string[] }>();
}

const list = (v: string | readonly string[] | undefined): readonly string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : v;

/** A statement by its content (Sids are numbered per policy, so they differ between configs). */
const keys = new WeakMap<Statement, string>();
const statementKey = (s: Statement): string => {
  let k = keys.get(s);
  if (k === undefined) keys.set(s, (k = JSON.stringify({ ...s, Sid: undefined })));
  return k;
};

/**
 * Across every request this process authorized under drctl's own policies: which statements,
 * actions and resources (by content) were the only grant of some request (what removing or
 * narrowing them would have refused), and the policies a test names as the subject of the
 * least-privilege check (`subject`). With DRCTL_IAM_LEDGER set to a folder it is written there;
 * test/support/iam-ledger.ts reads every process's after the suite.
 */
class Ledger {
  readonly subjects = new Map<string, Statement>();
  readonly needed = new Set<string>();
  private hooked = false;

  /** These policies must be least: every statement, action and resource needed by some request. */
  subject(policies: readonly Policy[]): void {
    for (const p of policies)
      for (const s of (Array.isArray(p.Statement) ? p.Statement : [p.Statement]) as Statement[])
        this.subjects.set(statementKey(s), s);
  }

  allowedBy(elements: ReadonlyArray<readonly [string, string, string]>): void {
    // A drctl process (the built CLI on the fake cloud) writes at exit; test files flush after
    // their last test (test/support/iam-ledger-flush.ts), since a worker may be stopped, not exit.
    if (!this.hooked) {
      this.hooked = true;
      process.on('exit', () => this.flush());
    }
    const one = (keys: string[]) => (new Set(keys).size === 1 ? keys[0] : undefined);
    const s = one(elements.map(([k]) => k));
    if (s) this.needed.add(`S|${s}`);
    const a = one(elements.map(([k, act]) => `${k}|${act}`));
    if (a) this.needed.add(`A|${a}`);
    const r = one(elements.map(([k, , res]) => `${k}|${res}`));
    if (r) this.needed.add(`R|${r}`);
  }

  private flushed = 0;

  /** Writes what this process saw so far to DRCTL_IAM_LEDGER, if set. */
  flush(): void {
    const dir = process.env.DRCTL_IAM_LEDGER;
    if (!dir || (this.needed.size === 0 && this.subjects.size === 0)) return;
    writeFileSync(
      join(dir, `${process.pid}-${++this.flushed}-${Math.random().toString(16).slice(2, 8)}.json`),
      JSON.stringify({ subjects: [...this.subjects.values()], needed: [...this.needed] }),
    );
  }
}

export const LEDGER = new Ledger();

/**
 * IAM's refusal as each service answers it. The message is IAM's own wording
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html#access-denied-error-examples);
 * EC2 adds an encoded authorization message that sts:DecodeAuthorizationMessage would decode
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html: UnauthorizedOperation).
 */
export function refusal(service: string, principal: string, c: Check, explicit: boolean): Error {
  const why = explicit
    ? `with an explicit deny in an identity-based policy`
    : `because no identity-based policy allows the ${c.action} action`;
  const text = `User: ${principal} is not authorized to perform: ${c.action} on resource: ${c.resource} ${why}`;
  switch (service) {
    case 'ec2': {
      const encoded = Buffer.from(
        JSON.stringify({ allowed: false, explicitDeny: explicit, action: c.action, resource: c.resource }),
      ).toString('base64');
      return awsError(
        'UnauthorizedOperation',
        `You are not authorized to perform this operation. ${text}. Encoded authorization failure message: ${encoded}`,
        403,
      );
    }
    case 's3':
    case 'route53':
    case 'iam':
    case 'cloudformation':
    case 'elasticloadbalancing':
    case 'cloudwatch':
      return awsError('AccessDenied', text, 403);
    case 'acm':
    case 'acm-pca':
      // ACM and Private CA model AccessDeniedException as a 400 (their API references' common errors).
      return awsError('AccessDeniedException', text, 400);
    default:
      return awsError('AccessDeniedException', text, 403);
  }
}

/** The request's tags as IAM's context keys (aws:RequestTag/*, aws:TagKeys). */
function tagContext(input: any): Record<string, ContextValue> {
  const tags = requestTags(input);
  const out: Record<string, ContextValue> = {};
  for (const [k, v] of Object.entries(tags)) out[`aws:RequestTag/${k}`] = v;
  if (Object.keys(tags).length) out['aws:TagKeys'] = Object.keys(tags);
  return out;
}
