/**
 * API Gateway execute-api resource policies as drctl reads them back: parsed, never compared as
 * text, with API Gateway's own rewriting undone.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * GetRestApi returns the policy with its quotes backslash-escaped ({\"Version\":...}); terraform
 * unquotes it the same way (terraform-provider-aws internal/service/apigateway/rest_api.go).
 */
export function parsePolicy(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    try {
      return JSON.parse(JSON.parse(`"${text}"`) as string);
    } catch {
      return undefined;
    }
  }
}

/**
 * The policy's statements, sorted, with API Gateway's expansion of `execute-api:/*` (to
 * arn:aws:execute-api:<region>:<account>:<api-id>/* for an API, or
 * arn:aws:execute-api:<region>:<account>:/domainnames/<name>+<id>/* for a private domain) undone,
 * so ours compares equal to what AWS holds.
 */
export function canonicalStatements(policy: unknown): string {
  const doc = policy as { Statement?: unknown } | undefined;
  const list = [doc?.Statement ?? []].flat() as Array<Record<string, Json>>;
  const short = (r: Json): Json =>
    typeof r === 'string'
      ? r.replace(
          /^arn:aws[a-z-]*:execute-api:[^:]+:[^:]+:([a-z0-9]+|\/domainnames\/[^/]+)\//,
          'execute-api:/',
        )
      : r;
  return JSON.stringify(
    list
      .map((s) => ({
        ...s,
        Resource: Array.isArray(s.Resource) ? s.Resource.map(short) : short(s.Resource ?? null),
      }))
      .map(sortedJson)
      .sort(),
  );
}

/**
 * JSON with every object's keys sorted, at every depth. (A key list as JSON.stringify's replacer
 * would filter nested keys too, and drop a statement's Condition operators.)
 */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** Whether the policy AWS holds (as text) says what `wanted` says. */
export function samePolicy(held: string | undefined, wanted: unknown): boolean {
  const parsed = parsePolicy(held);
  return parsed !== undefined && canonicalStatements(parsed) === canonicalStatements(wanted);
}
