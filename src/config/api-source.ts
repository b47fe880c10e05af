import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../errors/errors.js';
import { AWS_REGIONS } from './regions.js';
import { jsonError, yamlError } from './wording.js';

// Where the REST API comes from (config `api`): the workshop's PetStore, or the team's own
// OpenAPI 3 / Swagger 2 file with API Gateway extensions, imported in both regions with per-region
// values substituted. Everything here runs before any AWS call, so a bad file is exit 2 with
// nothing made.

/** A parsed JSON object (the definition, or any object in it). */
export type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

const PATH = /^\/[^\s?#]*$/;

export const openApiSourceSchema = z
  .object({
    openapi: z.string().min(1).describe('path of the OpenAPI 3 or Swagger 2 file, JSON or YAML'),
    regionValues: z
      .record(z.string(), z.record(z.string(), z.string()))
      .default({})
      .describe('per region, the value of each ${name} placeholder in the file'),
    healthPath: z
      .string()
      .regex(PATH, 'must be a path like /health')
      .default('/health')
      .describe('the GET path the canary calls; it must be in the file'),
    definitionSha: z
      .string()
      .optional()
      .describe('set by drctl when it reads the file (its SHA-256), so `plan` shows a change of it'),
  })
  .strict();

/**
 * An existing PRIVATE API in the primary that drctl does not own: read (GetExport) and copied into
 * the secondary. Whether it exists, is PRIVATE and has healthPath needs AWS: checked before `up`
 * makes anything (src/steps/api-existing.ts), not here.
 */
export const existingApiSourceSchema = z
  .object({
    restApiId: z
      .string()
      .regex(/^[a-z0-9]{10}$/, 'must be a REST API id like a1b2c3d4e5')
      .describe('the id of your PRIVATE REST API in the primary region'),
    healthPath: z
      .string()
      .regex(PATH, 'must be a path like /health')
      .default('/health')
      .describe('the GET path the canary calls; it must be in the API'),
    deploy: z
      .boolean()
      .default(false)
      .describe(
        "true: after adding its policy statement drctl deploys stage prod itself (shipping the API's " +
          'current definition); false: you deploy it (`verify` fails until you do)',
      ),
    secondaryValues: z
      .record(z.string().min(1), z.string())
      .default({})
      .describe(
        "each exact string of the primary's export (a Lambda ARN, a host) and what the secondary's " +
          'copy uses instead, so the copy does not call the primary region',
      ),
  })
  .strict();

export const apiSourceSchema = z
  .union([z.literal('petstore'), openApiSourceSchema, existingApiSourceSchema])
  .default('petstore')
  .describe(
    '"petstore" (the workshop\'s example API), or {"openapi": "<file>", "regionValues": {"<region>": ' +
      '{"<name>": "<value>"}}, "healthPath": "/health"}: your own OpenAPI 3 or Swagger 2 file, its ${name} ' +
      'placeholders replaced per region, imported PRIVATE in both regions; or {"restApiId": "<id>", ' +
      '"healthPath": "/health", "deploy": false, "secondaryValues": {}}: your PRIVATE API in the primary, ' +
      'copied into the secondary ' +
      '(see docs/configuration.md)',
  );

export type ApiSource = z.infer<typeof apiSourceSchema>;
export type OpenApiSource = z.infer<typeof openApiSourceSchema>;
export type ExistingApiSource = z.infer<typeof existingApiSourceSchema>;

export const isOpenApi = (api: ApiSource): api is OpenApiSource =>
  typeof api === 'object' && 'openapi' in api;

export const isExistingApi = (api: ApiSource): api is ExistingApiSource =>
  typeof api === 'object' && 'restApiId' in api;

/** The path the canary calls: the PetStore's MOCK /health, or the source's `healthPath`. */
export const healthPathOf = (api: ApiSource): string => (api === 'petstore' ? '/health' : api.healthPath);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * YAML when the name says so or the text does not start as a JSON object: teams keep OpenAPI in
 * either, and a .json file that is broken should get the JSON wording, not YAML's.
 */
const isYaml = (path: string, text: string) =>
  /\.ya?ml$/i.test(path) || (!/\.json$/i.test(path) && !text.trimStart().startsWith('{'));

/**
 * YAML's anchors and aliases resolved (toJS), merge keys (`<<`) honoured; duplicate keys and a
 * tree of aliases past yaml's limit (a "billion laughs" file) are refused by the parser.
 */
function parseYaml(path: string, text: string): unknown {
  const doc = parseDocument(text, { merge: true });
  const error = doc.errors[0];
  if (error) throw yamlError(path, text, error.message, error.linePos?.[0], 'api.openapi');
  try {
    return doc.toJS();
  } catch (e) {
    throw refused(path, `cannot be read as YAML: ${(e as Error).message}`);
  }
}

/** The file as text and parsed; exit 2 naming the file, with line and column when it does not parse. */
export function readOpenApiFile(path: string): { text: string; doc: JsonObject } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the OpenAPI file ${path}: ${(e as Error).message}`, {
      field: 'api.openapi',
      resolution: 'Give api.openapi the path of your OpenAPI file (relative to the config file).',
    });
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  let parsed: unknown;
  const yaml = isYaml(path, text);
  if (yaml) parsed = parseYaml(path, text);
  else
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw jsonError(path, text, (e as Error).message, 'api.openapi');
    }
  if (!isObject(parsed)) throw refused(path, `must hold one ${yaml ? 'YAML mapping' : 'JSON object'}`);
  const doc = parsed;
  const swagger2 = doc.swagger === '2.0';
  const oas3 = typeof doc.openapi === 'string' && /^3\.0\./.test(doc.openapi);
  // API Gateway imports OpenAPI 2.0 and 3.0 (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-import-api.html).
  if (!swagger2 && !oas3)
    throw refused(path, 'is neither Swagger 2.0 ("swagger": "2.0") nor OpenAPI 3.0 ("openapi": "3.0.x")');
  if (!isObject(doc.paths) || !Object.keys(doc.paths).length)
    throw refused(path, 'has no paths: API Gateway cannot deploy an API without methods');
  return { text, doc };
}

const refused = (path: string, why: string, resolution?: string) =>
  new UsageError(`the OpenAPI file ${path} ${why}`, {
    field: 'api.openapi',
    resolution: resolution ?? 'Fix the file and run the same command again.',
  });

// `${name}`: a name without dots, so API Gateway's own `${stageVariables.x}` is left alone.
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_-]*)\}/g;

function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, f)]));
  return v;
}

/** A value of the definition that names what API Gateway calls: where it is and what it is. */
export interface Call {
  /** `paths./orders.get` or `authorizers.<name>`, as the openapi source's messages name it. */
  at: string;
  /** `GET /orders`, or `authorizer <name>`. */
  method: string;
  field: 'uri' | 'credentials' | 'authorizerUri' | 'authorizerCredentials';
  value: string;
}

/**
 * Every value that names what API Gateway calls: each integration's uri and credentials, each
 * Lambda authorizer's (x-amazon-apigateway-authorizer) authorizerUri and authorizerCredentials.
 */
export function callsOf(doc: JsonObject): Call[] {
  const out: Call[] = [];
  for (const [path, item] of Object.entries(isObject(doc.paths) ? doc.paths : {}))
    for (const [verb, op] of Object.entries(isObject(item) ? item : {})) {
      const integration = isObject(op) ? op['x-amazon-apigateway-integration'] : undefined;
      if (!isObject(integration)) continue;
      const method = `${verb === 'x-amazon-apigateway-any-method' ? 'ANY' : verb.toUpperCase()} ${path}`;
      for (const field of ['uri', 'credentials'] as const) {
        const value = integration[field];
        if (typeof value === 'string') out.push({ at: `paths.${path}.${verb}`, method, field, value });
      }
    }
  const components = isObject(doc.components) ? doc.components : {};
  const schemes = doc.swagger === '2.0' ? doc.securityDefinitions : components.securitySchemes;
  for (const [name, scheme] of Object.entries(isObject(schemes) ? schemes : {})) {
    const a = isObject(scheme) ? scheme['x-amazon-apigateway-authorizer'] : undefined;
    if (!isObject(a)) continue;
    for (const field of ['authorizerUri', 'authorizerCredentials'] as const) {
      const value = a[field];
      if (typeof value === 'string')
        out.push({ at: `authorizers.${name}`, method: `authorizer ${name}`, field, value });
    }
  }
  return out;
}

const REGION_IN = /[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+/g;

/**
 * The AWS region other than `region` that a value names (in an ARN, a regional host), if any:
 * imported into `region`, what it calls would be in that other region.
 */
export const otherRegionIn = (value: string, region: string): string | undefined =>
  (value.match(REGION_IN) ?? []).find((r) => r !== region && AWS_REGIONS.includes(r));

/**
 * The team's API's export as the secondary's copy has it: each exact string of
 * api.secondaryValues replaced by its value (longest first, so a host inside an ARN does not
 * split it). Used for the copy's import, its definition hash and verify's comparison alike.
 */
export function withSecondaryValues(api: ExistingApiSource, doc: JsonObject): JsonObject {
  const values = api.secondaryValues ?? {};
  const keys = Object.keys(values).sort((a, b) => b.length - a.length);
  if (!keys.length) return doc;
  // One pass: a value that contains another key is not replaced again.
  const any = new RegExp(keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return mapStrings(doc, (s) => s.replace(any, (k) => values[k]!)) as JsonObject;
}

/**
 * The definition for one region: each `${name}` replaced by regionValues[region][name] (`region`
 * is this region unless given). Exit 2 for a placeholder with no value, or an integration that
 * names another region (a Lambda ARN, an apigateway service ARN, a regional host): imported as is
 * into the secondary it would call the primary, and fail with it.
 */
export function regionDefinition(
  api: OpenApiSource,
  doc: JsonObject,
  path: string,
  region: string,
): JsonObject {
  const values: Record<string, string> = { region, ...(api.regionValues[region] ?? {}) };
  const missing = new Set<string>();
  const out = mapStrings(doc, (s) =>
    s.replace(PLACEHOLDER, (all, name: string) => {
      if (name in values) return values[name]!;
      missing.add(name);
      return all;
    }),
  ) as JsonObject;
  if (missing.size) {
    const names = [...missing].sort();
    throw new UsageError(
      `the OpenAPI file ${path} uses ${names.map((n) => `\${${n}}`).join(', ')} with no value for ${region}`,
      {
        field: `api.regionValues.${region}`,
        resolution: `Add ${names.map((n) => `"${n}"`).join(', ')} to api.regionValues.${region}.`,
      },
    );
  }
  for (const { at, field, value } of callsOf(out)) {
    const other = field === 'uri' && at.startsWith('paths.') ? otherRegionIn(value, region) : undefined;
    if (other)
      throw new UsageError(
        `the OpenAPI file ${path}: the integration of ${at} calls ${other}, ` +
          `but this copy is imported into ${region}`,
        {
          field: 'api.regionValues',
          resolution:
            'Write a placeholder there (like ${ordersFunctionArn}) and give its value per ' +
            'region in api.regionValues.',
        },
      );
  }
  return out;
}

/** Exit 2 unless `healthPath` is a GET method of the definition (the canary calls it). */
export function checkHealthPath(api: OpenApiSource, doc: JsonObject, path: string): void {
  const item = isObject(doc.paths) ? doc.paths[api.healthPath] : undefined;
  if (isObject(item) && (item.get || item['x-amazon-apigateway-any-method'])) return;
  throw new UsageError(`api.healthPath ${api.healthPath} is not a GET method in ${path}`, {
    field: 'api.healthPath',
    resolution: `Set api.healthPath to a GET path of the file (the canary calls it), or add GET ${api.healthPath}.`,
  });
}

/** The absolute path of the file: a relative one is read from the config file's folder. */
export const openApiPath = (api: OpenApiSource, baseDir: string) =>
  isAbsolute(api.openapi) ? api.openapi : resolve(baseDir, api.openapi);

/**
 * The file's SHA when it can be read, nothing when it cannot: what a command that does not import
 * the file (down, plan, status...) needs, so a moved or deleted file does not stop a teardown, and
 * plan still shows a changed one. Not parsed: the commands that import it check it.
 */
function fileSha(path: string): { definitionSha?: string } {
  try {
    const text = readFileSync(path, 'utf8');
    return { definitionSha: sha256(text.startsWith('\uFEFF') ? text.slice(1) : text).slice(0, 16) };
  } catch {
    return {};
  }
}

/**
 * Read and check the file for both regions, before anything is made (`readFile` false: the
 * command does not import it, see fileSha). Returns the source with its
 * path made absolute and `definitionSha` set, so the state records what `up` imported and `plan`
 * shows a change of the file.
 */
export function loadApiSource(
  api: ApiSource,
  regions: readonly string[],
  baseDir: string,
  readFile = true,
): ApiSource {
  if (api === 'petstore' || !isOpenApi(api)) return api;
  const path = openApiPath(api, baseDir);
  if (!readFile) return { ...api, openapi: path, ...fileSha(path) };
  const { text, doc } = readOpenApiFile(path);
  for (const region of Object.keys(api.regionValues))
    if (!regions.includes(region))
      throw new UsageError(`api.regionValues.${region}: ${region} is neither region of this deployment`, {
        field: `api.regionValues.${region}`,
        resolution: `Use ${regions.join(' and ')}.`,
      });
  checkHealthPath(api, doc, path);
  for (const region of regions) regionDefinition(api, doc, path, region);
  return { ...api, openapi: path, definitionSha: sha256(text).slice(0, 16) };
}
