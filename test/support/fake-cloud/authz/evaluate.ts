/**
 * IAM's evaluation of identity-based policies, for the operators a policy of drctl's may use. Written
 * from IAM's documentation, not from src/iam/policy.ts, so the fake judges drctl's policy as AWS would:
 * - an explicit Deny wins, then an Allow is needed, else the request is implicitly denied
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
 * - Action/NotAction match case-insensitively, Resource/NotResource case-sensitively, `*` any run
 *   of characters (slashes included), `?` one (reference_policies_elements_action.html,
 *   _resource.html). Not modelled: AWS lets `*` run past a `:` only from the end of an ARN
 *   segment; here any `*` may (drctl's patterns put `*` only at segment ends or within paths);
 * - within a condition block operators are ANDed, keys are ANDed, the values of one key are ORed
 *   (NOR for the negated operators); a key missing from the request makes the condition false,
 *   except for `...IfExists`, `Null`, `ForAllValues:` and the negated operators
 *   (reference_policies_condition-logic-multiple-context-keys-or-values.html,
 *   reference_policies_condition-single-vs-multi-valued-context-keys.html);
 * - condition key names are case-insensitive, their values case-sensitive for String* operators.
 * The AGPL-licensed @cloud-copilot/iam-simulate does the same for every operator; this evaluator
 * stays small on purpose (docs/development.md says why).
 */

export type ContextValue = string | readonly string[];
export type RequestContext = Readonly<Record<string, ContextValue>>;

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | readonly string[];
  NotAction?: string | readonly string[];
  Resource?: string | readonly string[];
  NotResource?: string | readonly string[];
  Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[] | boolean>>>>;
}

export interface Policy {
  Version?: string;
  Statement: readonly Statement[] | Statement;
}

export interface AuthzRequest {
  action: string;
  resource: string;
  context: RequestContext;
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

const list = <T>(v: T | readonly T[] | undefined): readonly T[] =>
  v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T];

const compiled = new Map<string, RegExp>();

/** IAM's wildcard match. */
export function wildcard(pattern: string, value: string, caseInsensitive: boolean): boolean {
  if (!pattern.includes('*') && !pattern.includes('?'))
    return caseInsensitive ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  const key = `${caseInsensitive ? 'i' : 's'}${pattern}`;
  let re = compiled.get(key);
  if (!re) {
    let src = '^';
    for (const c of pattern)
      src += c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
    compiled.set(key, (re = new RegExp(`${src}$`, caseInsensitive ? 'is' : 's')));
  }
  return re.test(value);
}

/** An ARN pattern matched field by field, as ArnLike does (each field may hold wildcards). */
function arnLike(pattern: string, value: string): boolean {
  const p = pattern.split(':');
  const v = value.split(':');
  if (p.length < 6 || v.length < 6) return wildcard(pattern, value, false);
  const head = (a: string[]) => [...a.slice(0, 5), a.slice(5).join(':')];
  return head(p).every((field, i) => wildcard(field, head(v)[i]!, false));
}

function lookup(context: RequestContext, key: string): readonly string[] | undefined {
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) if (k.toLowerCase() === wanted) return list(v);
  return undefined;
}

type Compare = (want: string, have: string) => boolean;

const COMPARE: Record<string, Compare> = {
  StringEquals: (w, h) => w === h,
  StringNotEquals: (w, h) => w !== h,
  StringEqualsIgnoreCase: (w, h) => w.toLowerCase() === h.toLowerCase(),
  StringNotEqualsIgnoreCase: (w, h) => w.toLowerCase() !== h.toLowerCase(),
  StringLike: (w, h) => wildcard(w, h, false),
  StringNotLike: (w, h) => !wildcard(w, h, false),
  ArnEquals: (w, h) => arnLike(w, h),
  ArnLike: (w, h) => arnLike(w, h),
  ArnNotEquals: (w, h) => !arnLike(w, h),
  ArnNotLike: (w, h) => !arnLike(w, h),
  Bool: (w, h) => w.toLowerCase() === h.toLowerCase(),
};

/** Negated operators are true when no value matches any wanted one (IAM's "none of"). */
const NEGATED = new Set([
  'StringNotEquals',
  'StringNotEqualsIgnoreCase',
  'StringNotLike',
  'ArnNotEquals',
  'ArnNotLike',
]);

function conditionHolds(
  operatorFull: string,
  key: string,
  wantedRaw: unknown,
  context: RequestContext,
): boolean {
  let operator = operatorFull;
  let set: 'ForAnyValue' | 'ForAllValues' | undefined;
  const colon = operator.indexOf(':');
  if (colon > 0) {
    set = operator.slice(0, colon) as 'ForAnyValue' | 'ForAllValues';
    if (set !== 'ForAnyValue' && set !== 'ForAllValues')
      throw new Error(`IAM evaluator: unknown set operator ${operatorFull}`);
    operator = operator.slice(colon + 1);
  }
  const ifExists = operator.endsWith('IfExists');
  if (ifExists) operator = operator.slice(0, -'IfExists'.length);
  const wanted = list(wantedRaw as string | readonly string[]).map(String);
  const have = lookup(context, key);
  if (operator === 'Null') {
    const absent = have === undefined || have.length === 0;
    return wanted.some((w) => (w.toLowerCase() === 'true') === absent);
  }
  const compare = COMPARE[operator];
  if (!compare) throw new Error(`IAM evaluator: condition operator ${operatorFull} is not modelled`);
  // A missing key fails a condition, except one that requires the key NOT to match
  // (StringNotLike, ArnNotLike...): "and the right key is not present, the condition is true"
  // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
  if (have === undefined) return ifExists || set === 'ForAllValues' || NEGATED.has(operator);
  if (set === 'ForAllValues') {
    return have.every((h) =>
      NEGATED.has(operator) ? wanted.every((w) => compare(w, h)) : wanted.some((w) => compare(w, h)),
    );
  }
  // Single-valued keys and ForAnyValue: some request value matches (negated: matches all the "nots").
  return have.some((h) =>
    NEGATED.has(operator) ? wanted.every((w) => compare(w, h)) : wanted.some((w) => compare(w, h)),
  );
}

export function statementApplies(s: Statement, r: AuthzRequest): boolean {
  const actionOk = s.Action
    ? list(s.Action).some((a) => wildcard(a, r.action, true))
    : !list(s.NotAction).some((a) => wildcard(a, r.action, true));
  if (!actionOk) return false;
  const resourceOk = s.Resource
    ? list(s.Resource).some((p) => wildcard(p, r.resource, false))
    : !list(s.NotResource).some((p) => wildcard(p, r.resource, false));
  if (!resourceOk) return false;
  for (const [operator, block] of Object.entries(s.Condition ?? {})) {
    for (const [key, wanted] of Object.entries(block)) {
      if (!conditionHolds(operator, key, wanted, r.context)) return false;
    }
  }
  return true;
}

/** What IAM decides for one request under these identity policies (no SCP, boundary or session policy). */
export function evaluate(policies: readonly Policy[], r: AuthzRequest): Decision {
  let allowed = false;
  for (const p of policies) {
    for (const s of list(p.Statement)) {
      if (!statementApplies(s, r)) continue;
      if (s.Effect === 'Deny') return 'explicit-deny';
      allowed = true;
    }
  }
  return allowed ? 'allow' : 'implicit-deny';
}
