// Resource-policy evaluation as IAM does it, for API Gateway's execute-api policies (a private
// API's resource policy, a private custom domain's `policy`). The policy is parsed, never
// compared as text. The rules (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html):
// - an explicit Deny in any matching statement wins;
// - else an Allow in a matching statement is needed: with no Allow the request is implicitly denied
//   (for a private API there is no IAM identity policy to allow it instead);
// - a statement matches when its Principal, Action (or NotAction), Resource (or NotResource) and
//   every Condition operator match; `*` and `?` are wildcards in actions and resources;
// - `execute-api:/*` in a Resource is API Gateway's shorthand for the resource's own ARN + `/*`;
// - Condition operators modelled: String(Not)Equals, String(Not)EqualsIgnoreCase, String(Not)Like,
//   each also with IfExists. A key missing from the request fails a positive operator and passes
//   a negated one (IAM: "...Not..." operators match when the key is absent), IfExists passes.
//   Multiple values of one key are ORed; keys and operators are ANDed.

export type PolicyDecision = 'allow' | 'explicit-deny' | 'implicit-deny';

export interface PolicyRequest {
  action: string;
  /** The ARN of what is invoked, e.g. arn:aws:execute-api:us-west-1:111122223333:a1b2c3d4e5/prod/GET/health. */
  resource: string;
  /** The `execute-api:/*` shorthand expands to `${shorthandBase}/*`. */
  shorthandBase: string;
  /** Condition keys of the request (aws:SourceVpce, aws:SourceVpc, ...). */
  context: Record<string, string | undefined>;
}

type Json = Record<string, unknown>;

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, ignoreCase ? 'i' : '').test(value);
}

function principalMatches(p: unknown): boolean {
  // Anonymous callers (a private API has no signed caller): only "*" or {"AWS": "*"} admit them.
  if (p === '*') return true;
  if (p && typeof p === 'object') return list((p as Json).AWS).includes('*');
  return false;
}

function resourceMatches(patterns: unknown[], req: PolicyRequest): boolean {
  return patterns.some((r) => {
    if (typeof r !== 'string') return false;
    const expanded = r.startsWith('execute-api:/')
      ? `${req.shorthandBase}/${r.slice('execute-api:/'.length)}`
      : r;
    return wildcard(expanded, req.resource);
  });
}

function operatorMatches(op: string, block: Json, context: PolicyRequest['context']): boolean {
  const ifExists = op.endsWith('IfExists');
  const base = ifExists ? op.slice(0, -'IfExists'.length) : op;
  const negated = /^String(Not)/.test(base);
  const test: ((want: string, have: string) => boolean) | undefined = {
    StringEquals: (w: string, h: string) => w === h,
    StringNotEquals: (w: string, h: string) => w === h,
    StringEqualsIgnoreCase: (w: string, h: string) => w.toLowerCase() === h.toLowerCase(),
    StringNotEqualsIgnoreCase: (w: string, h: string) => w.toLowerCase() === h.toLowerCase(),
    StringLike: (w: string, h: string) => wildcard(w, h),
    StringNotLike: (w: string, h: string) => wildcard(w, h),
  }[base];
  if (!test) throw new Error(`the fake cloud does not model the condition operator ${op}`);
  return Object.entries(block).every(([key, wanted]) => {
    const have = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
    if (have === undefined) return ifExists || negated;
    const any = list(wanted).some((w) => typeof w === 'string' && test(w, have));
    return negated ? !any : any;
  });
}

function statementMatches(st: Json, req: PolicyRequest): boolean {
  if (st.Principal !== undefined && !principalMatches(st.Principal)) return false;
  if (st.NotPrincipal !== undefined) return false;
  if (
    st.Action !== undefined &&
    !list(st.Action).some((a) => typeof a === 'string' && wildcard(a, req.action, true))
  )
    return false;
  if (
    st.NotAction !== undefined &&
    list(st.NotAction).some((a) => typeof a === 'string' && wildcard(a, req.action, true))
  )
    return false;
  if (st.Resource !== undefined && !resourceMatches(list(st.Resource), req)) return false;
  if (st.NotResource !== undefined && resourceMatches(list(st.NotResource), req)) return false;
  const conditions = (st.Condition ?? {}) as Json;
  return Object.entries(conditions).every(([op, block]) => operatorMatches(op, block as Json, req.context));
}

/** The decision for one request; a policy that is not JSON, or undefined, is a deny (nothing allows). */
export function evaluatePolicy(policy: string | undefined, req: PolicyRequest): PolicyDecision {
  let doc: Json;
  try {
    doc = JSON.parse(policy ?? '') as Json;
  } catch {
    return 'implicit-deny';
  }
  const statements = list(doc.Statement).filter((s): s is Json => !!s && typeof s === 'object');
  const matching = statements.filter((st) => statementMatches(st, req));
  if (matching.some((st) => st.Effect === 'Deny')) return 'explicit-deny';
  return matching.some((st) => st.Effect === 'Allow') ? 'allow' : 'implicit-deny';
}
