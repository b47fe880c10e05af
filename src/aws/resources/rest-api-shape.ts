import {
  type APIGatewayClient,
  type Authorizer,
  GetAuthorizersCommand,
  GetExportCommand,
  GetRestApiCommand,
  GetStageCommand,
  type Stage,
  paginateGetModels,
  paginateGetResources,
} from '@aws-sdk/client-api-gateway';
import { createHash } from 'node:crypto';
import { collect } from '../pages.js';
import { canonicalStatements, parsePolicy } from '../resource-policy.js';

// A REST API as a flat list of "<path> -> value" lines that can be compared between regions: what
// its definition made (resources, methods, integrations, authorizers, models), its stage's settings
// and variables, and its resource policy. Region names, account ids, endpoint ids and the API's
// own id are masked, so two regions' copies of one definition read the same. Shared by the api
// step (which puts drctl's definition back in a region changed by hand) and `drctl verify`.

export type Shape = Map<string, string>;

export interface Masks {
  region: string;
  restApiId: string;
}

/** The region-independent form of a value: region, account, endpoint and API ids masked. */
export function mask(v: string, m: Masks): string {
  return v
    .split(m.region)
    .join('{region}')
    .split(m.restApiId)
    .join('{api}')
    .replace(/\b\d{12}\b/g, '{account}')
    .replace(/\bvpce-[0-9a-f]+\b/g, '{vpce}');
}

const put = (shape: Shape, key: string, v: unknown, m: Masks) => {
  if (v === undefined || v === null) return;
  shape.set(key, mask(typeof v === 'string' ? v : JSON.stringify(v), m));
};

/** GetAuthorizers pages by position as the others do, but the SDK has no paginator for it. */
async function authorizersOf(client: APIGatewayClient, restApiId: string): Promise<Authorizer[]> {
  const out: Authorizer[] = [];
  let position: string | undefined;
  do {
    const p = await client.send(new GetAuthorizersCommand({ restApiId, limit: 500, position }));
    out.push(...(p.items ?? []));
    position = p.position;
  } while (position);
  return out;
}

/** What the definition made: the part PutRestApi overwrites. */
export async function definitionShape(client: APIGatewayClient, m: Masks): Promise<Shape> {
  const restApiId = m.restApiId;
  const [resources, authorizers, models] = await Promise.all([
    collect(paginateGetResources({ client }, { restApiId, embed: ['methods'], limit: 500 }), (p) => p.items),
    authorizersOf(client, restApiId),
    collect(paginateGetModels({ client }, { restApiId, limit: 500 }), (p) => p.items),
  ]);
  const shape: Shape = new Map();
  const authorizerName = new Map(authorizers.map((a) => [a.id, a.name]));
  for (const r of resources) {
    shape.set(`${r.path}`, 'resource');
    for (const [verb, method] of Object.entries(r.resourceMethods ?? {})) {
      const at = `${r.path} ${verb}`;
      shape.set(at, 'method');
      put(shape, `${at} authorizationType`, method.authorizationType, m);
      put(shape, `${at} authorizer`, method.authorizerId && authorizerName.get(method.authorizerId), m);
      put(shape, `${at} apiKeyRequired`, method.apiKeyRequired, m);
      const i = method.methodIntegration;
      if (!i) continue;
      for (const f of ['type', 'httpMethod', 'uri', 'connectionType', 'timeoutInMillis'] as const)
        put(shape, `${at} integration ${f}`, i[f], m);
    }
  }
  for (const a of authorizers) {
    for (const f of ['type', 'authorizerUri', 'identitySource', 'authorizerResultTtlInSeconds'] as const)
      put(shape, `authorizer ${a.name} ${f}`, a[f], m);
  }
  for (const md of models) {
    put(shape, `model ${md.name} contentType`, md.contentType, m);
    put(shape, `model ${md.name} schema`, md.schema, m);
  }
  return shape;
}

/** The stage drctl deploys, and the team's API's it copies (config api.restApiId). */
export const STAGE = 'prod';

/**
 * A stage's deployed definition, parsed: GetExport "exports a deployed version of a RestApi"
 * (https://docs.aws.amazon.com/apigateway/latest/api/API_GetExport.html), with the API Gateway
 * extensions. Copied by the api step (the team's API), compared by `drctl verify`.
 */
export async function exportOf(
  client: Pick<APIGatewayClient, 'send'>,
  restApiId: string,
): Promise<Record<string, unknown>> {
  const out = await client.send(
    new GetExportCommand({
      restApiId,
      stageName: STAGE,
      exportType: 'oas30',
      parameters: { extensions: 'apigateway' },
      accepts: 'application/json',
    }),
  );
  return JSON.parse(new TextDecoder().decode(out.body)) as Record<string, unknown>;
}

const EXT = 'x-amazon-apigateway-';
/** Leaves of a JSON value as "<key> <key> ..." lines (arrays whole), the extensions' prefix dropped. */
function flatten(shape: Shape, at: string, v: unknown, m: Masks): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return put(shape, at, v, m);
  for (const [k, child] of Object.entries(v)) flatten(shape, `${at} ${k.replace(EXT, '')}`, child, m);
}

/**
 * What a stage's deployment serves, from its export (GetExport oas30 with the API Gateway
 * extensions, as exportOf reads it): with api.restApiId the primary is the team's API, whose
 * working copy may hold changes not deployed yet, which the copy does not follow. Both regions
 * are read this way so the two sides go through one function. The export's info, servers[],
 * policy and endpoint configuration name the API, not its definition: left out.
 */
export function exportShape(doc: Record<string, unknown>, m: Masks): Shape {
  const shape: Shape = new Map();
  const { paths, components, info: _i, servers: _s, openapi: _o, ...rest } = doc;
  for (const [path, item] of Object.entries((paths ?? {}) as Record<string, Record<string, unknown>>)) {
    shape.set(path, 'resource');
    for (const [verb, op] of Object.entries(item ?? {})) {
      const at = `${path} ${verb === `${EXT}any-method` ? 'ANY' : verb.toUpperCase()}`;
      shape.set(at, 'method');
      flatten(shape, at, op, m);
    }
  }
  const c = (components ?? {}) as Record<string, Record<string, unknown> | undefined>;
  for (const [name, schema] of Object.entries(c.schemas ?? {})) put(shape, `model ${name} schema`, schema, m);
  for (const [name, scheme] of Object.entries(c.securitySchemes ?? {}))
    flatten(shape, `authorizer ${name}`, scheme, m);
  for (const [k, v] of Object.entries(rest)) {
    if (k === `${EXT}policy` || k === `${EXT}endpoint-configuration`) continue;
    put(shape, `definition ${k.replace(EXT, '')}`, v, m);
  }
  return shape;
}

/** The stage's settings and variables: what a deployment does not reset. */
export async function stageShape(client: APIGatewayClient, m: Masks, stageName: string): Promise<Shape> {
  return stageShapeOf(await client.send(new GetStageCommand({ restApiId: m.restApiId, stageName })), m);
}

/** stageShape of a stage already read. */
export function stageShapeOf(s: Stage, m: Masks): Shape {
  const stageName = s.stageName ?? '';
  const shape: Shape = new Map();
  const at = `stage ${stageName}`;
  put(shape, `${at} tracingEnabled`, s.tracingEnabled ?? false, m);
  put(shape, `${at} accessLogSettings destinationArn`, s.accessLogSettings?.destinationArn, m);
  put(shape, `${at} accessLogSettings format`, s.accessLogSettings?.format, m);
  for (const [k, v] of Object.entries(s.variables ?? {})) put(shape, `${at} variable ${k}`, v, m);
  for (const [key, settings] of Object.entries(s.methodSettings ?? {})) {
    for (const [f, v] of Object.entries(settings)) put(shape, `${at} method ${key} ${f}`, v, m);
  }
  return shape;
}

/** The resource policy, its statements canonical (endpoint ids masked). */
export async function policyShape(client: APIGatewayClient, m: Masks): Promise<Shape> {
  const api = await client.send(new GetRestApiCommand({ restApiId: m.restApiId }));
  const shape: Shape = new Map();
  put(shape, 'resource policy', canonicalStatements(parsePolicy(api.policy)), m);
  return shape;
}

/**
 * A short hash of a shape: the api step records its definition's right after importing it, so a
 * later hand change shows in that region alone, whatever the other region holds.
 */
export function shapeSha(shape: Shape): string {
  const lines = [...shape.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(lines)).digest('hex').slice(0, 16);
}

export interface ShapeDifference {
  path: string;
  primary: string;
  secondary: string;
}

/** The paths whose values differ, '(none)' where one side lacks it; in path order. */
export function diffShapes(primary: Shape, secondary: Shape): ShapeDifference[] {
  const keys = [...new Set([...primary.keys(), ...secondary.keys()])].sort();
  return keys
    .filter((k) => primary.get(k) !== secondary.get(k))
    .map((k) => ({ path: k, primary: primary.get(k) ?? '(none)', secondary: secondary.get(k) ?? '(none)' }));
}

const SETTING_PATHS: Record<string, string> = {
  throttlingRateLimit: 'throttling/rateLimit',
  throttlingBurstLimit: 'throttling/burstLimit',
  loggingLevel: 'logging/loglevel',
  dataTraceEnabled: 'logging/dataTrace',
  metricsEnabled: 'metrics/enabled',
  cachingEnabled: 'caching/enabled',
};

/**
 * The UpdateStage patch operation that sets one stage path of stageShape to a value, undefined for
 * what a patch cannot set back (a method setting AWS has no patch path for). A method setting's
 * field to remove gives the removal of the whole method setting (`/<path>/<METHOD>`).
 * https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html#UpdateStage-Patch
 */
export function stagePatch(
  stageName: string,
  path: string,
  value: string | undefined,
  m: Masks,
): { op: 'replace' | 'remove'; path: string; value?: string } | undefined {
  const rest = path.slice(`stage ${stageName} `.length);
  const real = value?.split('{region}').join(m.region).split('{api}').join(m.restApiId);
  if (real !== undefined && /\{(account|vpce)\}/.test(real)) return undefined;
  const variable = /^variable (.+)$/.exec(rest);
  if (variable)
    return real === undefined
      ? { op: 'remove', path: `/variables/${variable[1]}` }
      : { op: 'replace', path: `/variables/${variable[1]}`, value: real };
  if (rest === 'tracingEnabled') return { op: 'replace', path: '/tracingEnabled', value: real ?? 'false' };
  const log = /^accessLogSettings (destinationArn|format)$/.exec(rest);
  if (log)
    return real === undefined
      ? { op: 'remove', path: '/accessLogSettings' }
      : { op: 'replace', path: `/accessLogSettings/${log[1]}`, value: real };
  const method = /^method (.+)\/([^/ ]+) (\w+)$/.exec(rest);
  if (!method) return undefined;
  const key = `/${method[1]!.replace(/\//g, '~1')}/${method[2]}`;
  // AWS removes a method setting whole, never one field of it: the caller sets back the fields
  // the other region has for that method after removing it.
  if (real === undefined) return { op: 'remove', path: key };
  const setting = SETTING_PATHS[method[3]!];
  return setting ? { op: 'replace', path: `${key}/${setting}`, value: real } : undefined;
}
