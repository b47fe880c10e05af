import { createHash } from 'node:crypto';

// What API Gateway makes of an imported definition, as its read APIs show it: resources (one per
// path segment), methods with their integrations, authorizers and models. The fake keeps the
// definition and derives these on read, so PutRestApi (overwrite or merge) changes them as AWS does.
// Shapes: https://docs.aws.amazon.com/apigateway/latest/api/API_Resource.html, API_Method.html,
// API_Integration.html, API_Authorizer.html, API_Model.html; what the import maps to what:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions.html

type Json = any;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

/** A stable 10-character id for a thing of an API (the real ids are random; stable is enough). */
export const childId = (apiId: string, what: string) =>
  createHash('sha256').update(`${apiId}|${what}`).digest('hex').slice(0, 10);

/** The API's authorizer schemes: securityDefinitions (Swagger 2) or components.securitySchemes. */
function schemes(doc: Json): Record<string, Json> {
  return (doc.swagger === '2.0' ? doc.securityDefinitions : doc.components?.securitySchemes) ?? {};
}

export function authorizersOf(apiId: string, doc: Json): Json[] {
  return Object.entries(schemes(doc))
    .filter(([, s]) => s?.['x-amazon-apigateway-authorizer'])
    .map(([name, s]) => {
      const a = s['x-amazon-apigateway-authorizer'];
      return {
        id: childId(apiId, `authorizer ${name}`),
        name,
        type: String(a.type ?? 'TOKEN').toUpperCase(),
        authorizerUri: a.authorizerUri,
        identitySource: a.identitySource ?? (s.name ? `method.request.header.${s.name}` : undefined),
        authorizerResultTtlInSeconds: a.authorizerResultTtlInSeconds ?? 300,
      };
    });
}

export function modelsOf(apiId: string, doc: Json): Json[] {
  const all: Record<string, Json> = (doc.swagger === '2.0' ? doc.definitions : doc.components?.schemas) ?? {};
  return Object.entries(all).map(([name, schema]) => ({
    id: childId(apiId, `model ${name}`),
    name,
    contentType: 'application/json',
    schema: JSON.stringify(schema),
  }));
}

function integrationOf(op: Json): Json | undefined {
  const i = op?.['x-amazon-apigateway-integration'];
  if (!i) return undefined;
  return {
    type: String(i.type).toUpperCase(),
    httpMethod: i.httpMethod ? String(i.httpMethod).toUpperCase() : undefined,
    uri: i.uri,
    connectionType: i.connectionType ?? 'INTERNET',
    passthroughBehavior: i.passthroughBehavior ?? 'WHEN_NO_MATCH',
    // "The default value is 29,000 milliseconds" (API_Integration.html).
    timeoutInMillis: i.timeoutInMillis ?? 29_000,
  };
}

function methodOf(apiId: string, doc: Json, verb: string, op: Json): Json {
  const names = ((op?.security ?? []) as Json[]).flatMap((s) => Object.keys(s ?? {}));
  const custom = names.find((n) => schemes(doc)[n]?.['x-amazon-apigateway-authorizer']);
  const apiKey = names.some(
    (n) => schemes(doc)[n]?.type === 'apiKey' && !schemes(doc)[n]?.['x-amazon-apigateway-authorizer'],
  );
  return {
    httpMethod: verb.toUpperCase(),
    authorizationType: custom ? 'CUSTOM' : 'NONE',
    ...(custom ? { authorizerId: childId(apiId, `authorizer ${custom}`) } : {}),
    apiKeyRequired: apiKey,
    methodIntegration: integrationOf(op),
  };
}

/** Every resource: '/' and each prefix of each path, with its methods. */
export function resourcesOf(apiId: string, rootId: string, doc: Json): Json[] {
  const byPath = new Map<string, Json>();
  const idOf = (path: string) => (path === '/' ? rootId : childId(apiId, `resource ${path}`));
  const ensure = (path: string): Json => {
    let r = byPath.get(path);
    if (r) return r;
    const cut = path.lastIndexOf('/');
    const parent = path === '/' ? undefined : ensure(cut === 0 ? '/' : path.slice(0, cut));
    r = {
      id: idOf(path),
      ...(parent ? { parentId: parent.id, pathPart: path.slice(cut + 1) } : {}),
      path,
      methods: {} as Record<string, Json>,
    };
    byPath.set(path, r);
    return r;
  };
  ensure('/');
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    const r = ensure(path);
    for (const [verb, op] of Object.entries<Json>(item ?? {})) {
      if (HTTP_METHODS.includes(verb)) r.methods[verb.toUpperCase()] = methodOf(apiId, doc, verb, op);
    }
  }
  return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * PutRestApi mode merge: "the new API definition is merged with the existing API definition"
 * (API_PutRestApi.html); a method given replaces the same method, the rest stays.
 */
export function mergeDefinition(old: Json, add: Json): Json {
  const out = structuredClone(old);
  for (const [path, item] of Object.entries<Json>(add.paths ?? {})) {
    out.paths = out.paths ?? {};
    out.paths[path] = { ...(out.paths[path] ?? {}), ...item };
  }
  const section = (doc: Json, keys: string[]) => keys.reduce((d, k) => d?.[k], doc);
  for (const keys of [
    ['definitions'],
    ['securityDefinitions'],
    ['components', 'schemas'],
    ['components', 'securitySchemes'],
  ]) {
    const extra = section(add, keys);
    if (!extra) continue;
    let target = out;
    for (const k of keys) target = target[k] = target[k] ?? {};
    Object.assign(target, extra);
  }
  return out;
}
