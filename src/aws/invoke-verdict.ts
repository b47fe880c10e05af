import { parsePolicy } from './resource-policy.js';

// Whether a private API's resource policy lets execute-api:Invoke through from one VPC endpoint,
// judged as IAM does: an explicit Deny in any matching statement wins over every Allow, then an
// Allow is needed (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
// AWS's own private-API example is Allow + `Deny StringNotEquals aws:SourceVpce [endpoints]`
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies-examples.html):
// such a Deny beats the Allow drctl adds, so reading the Allows alone says "admitted" while AWS
// answers 403. Only what drctl can know is judged (aws:SourceVpce, aws:SourceVpc); any other
// condition, principal or resource scope is "cannot tell", never a guess.

/** The caller: its endpoint and VPC ids; undefined when not known (a condition on it: cannot tell). */
export interface InvokeCaller {
  vpce?: string;
  vpc?: string;
}

/** An id drctl has not made yet: equal to no id a policy can list, but still `vpce-*`/`vpc-*`. */
export const NEW_ENDPOINT = 'vpce-(made-by-drctl)';
export const NEW_VPC = 'vpc-(made-by-drctl)';

export type InvokeVerdict =
  | { decision: 'allow' }
  | { decision: 'explicit-deny'; statement: string; key: string }
  | { decision: 'implicit-deny' }
  | { decision: 'cannot-tell'; effect: 'Deny' | 'Allow'; statement: string; why: string };

type Statement = Record<string, unknown>;
const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const wildcard = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);

/** The statement as the fix text names it: its Sid, or its place in the list. */
const labelOf = (s: Statement, i: number) =>
  typeof s.Sid === 'string' && s.Sid ? `Sid ${s.Sid}` : `statement #${i + 1}`;

const unknown = Symbol('cannot tell');
type Match = boolean | { [unknown]: string };

function actionMatches(s: Statement): Match {
  const hit = (v: unknown) =>
    list(v).some((a) => typeof a === 'string' && wildcard(a.toLowerCase(), 'execute-api:invoke'));
  if (s.NotAction !== undefined) return !hit(s.NotAction);
  return hit(s.Action);
}

function principalMatches(s: Statement): Match {
  if (s.NotPrincipal !== undefined) return { [unknown]: 'it has a NotPrincipal' };
  const p = s.Principal;
  if (p === '*' || (p && typeof p === 'object' && list((p as Statement).AWS).includes('*'))) return true;
  return { [unknown]: 'its Principal is not "*"' };
}

/** A statement scoped to some methods or paths may or may not cover the health path: cannot tell. */
function resourceMatches(s: Statement): Match {
  if (s.NotResource !== undefined) return { [unknown]: 'it has a NotResource' };
  const whole = list(s.Resource).some(
    (r) =>
      typeof r === 'string' &&
      (r === '*' || r === 'execute-api:/*' || /^arn:aws[\w-]*:execute-api:[^:]*:[^:]*:[^/]+\/\*$/.test(r)),
  );
  return whole || { [unknown]: `its Resource ${JSON.stringify(s.Resource)} is not the whole API` };
}

const KEYS = ['aws:sourcevpce', 'aws:sourcevpc'] as const;

function conditionMatches(s: Statement, caller: InvokeCaller): Match {
  const cond = (s.Condition ?? {}) as Record<string, Record<string, unknown>>;
  for (const [rawOp, block] of Object.entries(cond)) {
    // ForAnyValue/ForAllValues on a single-valued key: the base operator on its one value.
    const op = rawOp.replace(/^For(AnyValue|AllValues):/, '');
    const ifExists = op.endsWith('IfExists');
    const base = ifExists ? op.slice(0, -'IfExists'.length) : op;
    const test = {
      StringEquals: (w: string, h: string) => w === h,
      StringNotEquals: (w: string, h: string) => w === h,
      StringLike: wildcard,
      StringNotLike: wildcard,
    }[base];
    if (!test) return { [unknown]: `its condition operator ${rawOp}` };
    const negated = base.includes('Not');
    for (const [rawKey, wanted] of Object.entries(block ?? {})) {
      // Condition key names are case-insensitive (real exports show "aws:sourceVpce"):
      // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
      const key = rawKey.toLowerCase();
      if (!(KEYS as readonly string[]).includes(key)) return { [unknown]: `its condition key ${rawKey}` };
      const have = key === 'aws:sourcevpce' ? caller.vpce : caller.vpc;
      if (have === undefined) return { [unknown]: `its condition on ${rawKey} (drctl does not know it)` };
      const any = list(wanted).some((w) => typeof w === 'string' && test(w, have));
      if (negated ? any : !any) return false;
    }
  }
  return true;
}

function matches(s: Statement, caller: InvokeCaller): Match {
  for (const m of [actionMatches(s), principalMatches(s), resourceMatches(s), conditionMatches(s, caller)]) {
    if (m !== true) return m;
  }
  return true;
}

/** The decision for execute-api:Invoke of the whole API from `caller`, or why it cannot tell. */
export function invokeVerdict(policy: unknown, caller: InvokeCaller): InvokeVerdict {
  const doc = (typeof policy === 'string' ? parsePolicy(policy) : policy) as
    { Statement?: unknown } | undefined;
  const statements = list(doc?.Statement).filter((s): s is Statement => !!s && typeof s === 'object');
  let doubt: InvokeVerdict | undefined;
  // Deny first: one that applies decides, whatever the Allows say.
  for (const [i, s] of statements.entries()) {
    if (s.Effect !== 'Deny' || actionMatches(s) !== true) continue;
    const m = matches(s, caller);
    if (m === true) {
      const keys = Object.values((s.Condition ?? {}) as Record<string, Record<string, unknown>>).flatMap(
        Object.keys,
      );
      return { decision: 'explicit-deny', statement: labelOf(s, i), key: keys[0] ?? '' };
    }
    if (m !== false)
      doubt ??= { decision: 'cannot-tell', effect: 'Deny', statement: labelOf(s, i), why: m[unknown] };
  }
  if (doubt) return doubt;
  let allowDoubt: InvokeVerdict | undefined;
  for (const [i, s] of statements.entries()) {
    if (s.Effect !== 'Allow') continue;
    const m = matches(s, caller);
    if (m === true) return { decision: 'allow' };
    if (m !== false)
      allowDoubt ??= { decision: 'cannot-tell', effect: 'Allow', statement: labelOf(s, i), why: m[unknown] };
  }
  return allowDoubt ?? { decision: 'implicit-deny' };
}
