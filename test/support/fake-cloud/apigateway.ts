// Over 500 lines: REST APIs, deployments, stages, quotas and invoke share a store.
import { type FakeCloud, FakeService } from './cloud.js';
import { FakeEc2Endpoints } from './ec2-endpoints.js';
import { awsError } from './errors.js';
import { evaluatePolicy } from './resource-policy.js';

import { page } from './paging.js';
import { authorizersOf, childId, mergeDefinition, modelsOf, resourcesOf } from './apigateway-definition.js';

/**
 * API Gateway pages with `position` and `limit`: "The maximum number of returned results per page.
 * The default value is 25 and the maximum value is 500." (API Gateway REST API, GetRestApis)
 */
export function apigwPage<T>(
  cloud: Pick<FakeCloud, 'pageSize'>,
  command: string,
  all: T[],
  input: { position?: string; limit?: number },
  key: (item: T) => string,
): { items: T[]; position?: string } {
  const { items, next } = page(
    cloud,
    all,
    { token: input.position, limit: input.limit },
    { command, defaultSize: 25, maxSize: 500, key, badToken: { name: 'BadRequestException' } },
  );
  return next ? { items, position: next } : { items };
}

// API Gateway (REST, v1), per region: REST APIs, deployments, stages and tags (the `api` step's).
// Custom domains live in apigateway-domains.ts, a second model on APIGatewayClient; it reaches
// these APIs through cloud.model(FakeApiGateway), blocks DeleteRestApi with the
// 'apigateway-restapi' dependency probe, and can make its ARNs taggable with addTagResolver().
// Behaviours modelled, each from docs/design/aws-behaviour.md §5 or docs/design/timings.md:
// - ImportRestApi / CreateRestApi make a new API on every call, even with the same name (no token).
// - The API's name and description come from the definition's info.title / info.description.
// - x-amazon-apigateway-endpoint-configuration is read at the top level of a Swagger 2.0 document
//   and only inside servers[] of an OpenAPI 3 one (aws/serverless-application-model#2396).
// - x-amazon-apigateway-policy is applied, its `execute-api:/*` shorthand expanded to the API's ARN.
// - GetRestApi returns `policy` as an escaped JSON string ({\"Version\":...}), as the real service
//   does (terraform-provider-aws internal/service/apigateway/rest_api.go unquotes it).
// - CreateDeployment is refused for an API without methods, a method without integration, and a
//   PRIVATE API without a resource policy.
// - Control-plane quotas per account and region
//   (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html):
//   ImportRestApi/CreateRestApi/PutRestApi 1 per 3 s, CreateDeployment 1 per 5 s, DeleteRestApi and
//   Create/Update/DeleteDomainName 1 per 30 s: a faster call gets TooManyRequestsException (429) and does nothing.
// - The data plane (`invoke`, asked by the network model): a private API answers only a request
//   that came through a VPC endpoint and that its resource policy allows, evaluated as IAM does
//   (resource-policy.ts: an explicit Deny wins, an Allow is needed, aws:SourceVpce / aws:SourceVpc
//   compared) as deployed: invoke evaluates the stage's deployment (its policy and methods), so a
//   policy change waits for CreateDeployment (apigateway-resource-policies-create-attach.html);
//   a refusal is 403 AccessDeniedException with AWS's "User: anonymous is not authorized"
//   message. Unknown API or stage: 403 ForbiddenException; unknown method and path: 403
//   MissingAuthenticationTokenException (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).

type Json = any;
type Tags = Record<string, string>;

export interface ApiMethod {
  path: string;
  httpMethod: string;
  integrationType: string | undefined;
  /** x-amazon-apigateway-integration.uri as imported (a Lambda integration's function ARN is in it). */
  integrationUri: string | undefined;
}

export interface RestApi {
  id: string;
  name: string;
  description: string | undefined;
  createdDate: Date;
  endpointTypes: string[];
  vpcEndpointIds: string[];
  /** The unescaped JSON policy text, shorthand expanded; undefined when none. */
  policy: string | undefined;
  tags: Tags;
  methods: ApiMethod[];
  rootResourceId: string;
  disableExecuteApiEndpoint: boolean;
  /** The definition as imported or last put (parsed). */
  definition: Json;
}

export interface Deployment {
  id: string;
  description: string | undefined;
  createdDate: Date;
  /** The definition as deployed: GetExport exports a stage's deployment, not the latest edits. */
  definition: Json;
  /** The API's policy when deployed (an export with extensions=apigateway carries it). */
  policy: string | undefined;
}

export interface Stage {
  stageName: string;
  deploymentId: string;
  description: string | undefined;
  variables: Record<string, string>;
  // '<resourcePath>/<httpMethod>' ('*/*' for all) -> its settings (API_MethodSetting.html).
  methodSettings: Record<string, Record<string, string | number | boolean>>;
  tracingEnabled: boolean;
  accessLogSettings: { destinationArn?: string; format?: string } | undefined;
  createdDate: Date;
  lastUpdatedDate: Date;
  tags: Tags;
  /** A canary release on the stage (API_CanarySettings.html): its own deployment, a share of traffic. */
  canarySettings?: { deploymentId: string; percentTraffic: number };
}

export class ApiGatewayRegion {
  readonly restApis = new Map<string, RestApi>();
  /** restApiId -> deployment id -> deployment. */
  readonly deployments = new Map<string, Map<string, Deployment>>();
  /** restApiId -> stage name -> stage. */
  readonly stages = new Map<string, Map<string, Stage>>();
  /** Per-command time of the last accepted call, for the control-plane quotas. */
  readonly lastAccepted = new Map<string, number>();
  constructor(readonly name: string) {}
}

const QUOTA_INTERVAL_MS: Record<string, number> = {
  ImportRestApi: 3_000,
  CreateRestApi: 3_000,
  PutRestApi: 3_000,
  CreateDeployment: 5_000,
  DeleteRestApi: 30_000,
  CreateDomainName: 30_000,
  UpdateDomainName: 30_000,
  DeleteDomainName: 30_000,
};

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch']);

export class FakeApiGateway extends FakeService {
  readonly service = 'apigateway';
  private readonly regions = new Map<string, ApiGatewayRegion>();

  region(name: string): ApiGatewayRegion {
    let r = this.regions.get(name);
    if (!r) this.regions.set(name, (r = new ApiGatewayRegion(name)));
    return r;
  }

  /** API Gateway ids are 10 lowercase letters and digits. */
  private apiId(): string {
    const unique = this.id('').slice(4, 8);
    const random = Math.floor(this.cloud.random() * 36 ** 6)
      .toString(36)
      .padStart(6, '0');
    return `${unique}${random}`;
  }

  /**
   * Refuse a call that comes sooner than its quota allows; remember the accepted ones. Public so
   * the custom-domain model can apply the DomainName quotas listed above.
   */
  throttle(region: string, command: string): void {
    const interval = QUOTA_INTERVAL_MS[command];
    if (interval === undefined) return;
    const r = this.region(region);
    const last = r.lastAccepted.get(command);
    if (last !== undefined && this.now() - last < interval) {
      throw awsError('TooManyRequestsException', 'Too Many Requests', 429);
    }
    r.lastAccepted.set(command, this.now());
  }

  protected api(region: string, restApiId: string): RestApi {
    const api = this.region(region).restApis.get(restApiId);
    if (!api) {
      throw awsError(
        'NotFoundException',
        `Invalid API identifier specified ${this.cloud.account}:${restApiId}`,
        404,
      );
    }
    return api;
  }

  restApiArn(region: string, restApiId: string): string {
    return `arn:aws:apigateway:${region}::/restapis/${restApiId}`;
  }

  // ---- REST APIs (api step) ------------------------------------------------------------------
  ImportRestApi(
    region: string,
    input: { body?: Uint8Array | string; parameters?: Record<string, string>; failOnWarnings?: boolean },
  ) {
    const doc = parseDefinition(input.body);
    const warnings = importWarnings(doc, input.failOnWarnings);
    const fromBody = endpointConfigurationOf(doc);
    const types = [input.parameters?.endpointConfigurationTypes ?? fromBody.types?.[0] ?? 'EDGE'];
    if (!['EDGE', 'REGIONAL', 'PRIVATE'].includes(types[0]!)) {
      throw awsError('BadRequestException', `Invalid endpoint configuration type: ${types[0]}`);
    }
    const vpcEndpointIds = fromBody.vpcEndpointIds ?? [];
    if (vpcEndpointIds.length && types[0] !== 'PRIVATE') {
      throw awsError('BadRequestException', 'VPC endpoint IDs can only be specified for PRIVATE APIs.');
    }
    vpcEndpointIds.forEach((v) => this.checkVpcEndpoint(region, v));
    this.throttle(region, 'ImportRestApi');
    const id = this.apiId();
    const api: RestApi = {
      id,
      name: String(doc.info.title),
      description: doc.info.description === undefined ? undefined : String(doc.info.description),
      createdDate: new Date(this.now()),
      endpointTypes: types,
      vpcEndpointIds: [...new Set(vpcEndpointIds)],
      policy: undefined,
      tags: {},
      methods: methodsOf(doc),
      rootResourceId: this.id('').slice(0, 10),
      disableExecuteApiEndpoint: false,
      definition: doc,
    };
    const policy = doc['x-amazon-apigateway-policy'];
    if (policy !== undefined) api.policy = this.expandPolicy(region, id, policy);
    this.region(region).restApis.set(id, api);
    return { ...this.describeApi(region, api), warnings };
  }

  /** mode overwrite replaces the definition (and what its extensions set); merge adds to it. */
  PutRestApi(
    region: string,
    input: { restApiId: string; mode?: string; body?: Uint8Array | string; failOnWarnings?: boolean },
  ) {
    const api = this.api(region, input.restApiId);
    const doc = parseDefinition(input.body);
    const warnings = importWarnings(doc, input.failOnWarnings);
    this.throttle(region, 'PutRestApi');
    const methods = methodsOf(doc);
    if (input.mode === 'overwrite') {
      api.methods = methods;
      api.definition = doc;
    } else {
      const key = (m: ApiMethod) => `${m.httpMethod} ${m.path}`;
      const kept = api.methods.filter((m) => !methods.some((n) => key(n) === key(m)));
      api.methods = [...kept, ...methods];
      api.definition = mergeDefinition(api.definition, doc);
    }
    if (doc.info?.description !== undefined) api.description = String(doc.info.description);
    const policy = doc['x-amazon-apigateway-policy'];
    if (policy !== undefined) api.policy = this.expandPolicy(region, api.id, policy);
    const ids = endpointConfigurationOf(doc).vpcEndpointIds;
    if (ids) {
      ids.forEach((v) => this.checkVpcEndpoint(region, v));
      api.vpcEndpointIds = [...new Set(ids)];
    }
    return { ...this.describeApi(region, api), warnings };
  }

  GetRestApis(region: string, input: { limit?: number; position?: string }) {
    const all = [...this.region(region).restApis.values()].sort(
      (a, b) => a.createdDate.getTime() - b.createdDate.getTime() || a.id.localeCompare(b.id),
    );
    const { items, position } = apigwPage(this.cloud, 'GetRestApis', all, input, (a) => a.id);
    return { items: items.map((a) => this.describeApi(region, a)), position };
  }

  GetRestApi(region: string, input: { restApiId: string }) {
    return this.describeApi(region, this.api(region, input.restApiId));
  }

  /**
   * The patch operations drctl sends: replace /policy, add or remove
   * /endpointConfiguration/vpcEndpointIds (replace is not supported there), replace /name and
   * /description.
   */
  UpdateRestApi(
    region: string,
    input: { restApiId: string; patchOperations?: Array<{ op?: string; path?: string; value?: string }> },
  ) {
    const api = this.api(region, input.restApiId);
    for (const p of input.patchOperations ?? []) {
      if (p.path === '/policy' && p.op === 'replace') {
        api.policy = p.value ? this.expandPolicy(region, api.id, JSON.parse(p.value)) : undefined;
      } else if (p.path === '/endpointConfiguration/vpcEndpointIds') {
        if (!api.endpointTypes.includes('PRIVATE')) {
          throw awsError('BadRequestException', 'VPC endpoint IDs can only be set on PRIVATE APIs.');
        }
        if (p.op === 'add') {
          this.checkVpcEndpoint(region, p.value ?? '');
          if (!api.vpcEndpointIds.includes(p.value!)) api.vpcEndpointIds.push(p.value!);
        } else if (p.op === 'remove') {
          api.vpcEndpointIds = api.vpcEndpointIds.filter((v) => v !== p.value);
        } else {
          throw awsError(
            'BadRequestException',
            `Invalid patch operation specified. Must be one of: [add, remove]`,
          );
        }
      } else if (p.path === '/name' && p.op === 'replace') {
        api.name = p.value ?? '';
      } else if (p.path === '/description' && p.op === 'replace') {
        api.description = p.value;
      } else {
        throw awsError('BadRequestException', `Invalid patch path ${p.path} for op ${p.op}`);
      }
    }
    return this.describeApi(region, api);
  }

  DeleteRestApi(region: string, input: { restApiId: string }) {
    const r = this.region(region);
    this.api(region, input.restApiId);
    // e.g. a base path mapping of a custom domain (the domain model registers this probe).
    const users = this.cloud.dependents('apigateway-restapi', input.restApiId, region);
    if (users.length) {
      throw awsError(
        'BadRequestException',
        `Cannot delete REST API ${input.restApiId}: it is still referenced by ${users.join(', ')}`,
      );
    }
    this.throttle(region, 'DeleteRestApi');
    r.restApis.delete(input.restApiId);
    r.deployments.delete(input.restApiId);
    r.stages.delete(input.restApiId);
    return {};
  }

  // ---- deployments and stages (api step) -----------------------------------------------------
  CreateDeployment(
    region: string,
    input: {
      restApiId: string;
      stageName?: string;
      description?: string;
      variables?: Record<string, string>;
      canarySettings?: { percentTraffic?: number };
    },
  ) {
    const r = this.region(region);
    const api = this.api(region, input.restApiId);
    // A canary release deployment needs an existing stage (create-canary-deployment.html).
    if (input.canarySettings && !(input.stageName && r.stages.get(api.id)?.get(input.stageName)))
      throw awsError('BadRequestException', 'Invalid stage identifier specified');
    if (api.methods.length === 0) {
      throw awsError('BadRequestException', "The REST API doesn't contain any methods");
    }
    const bare = api.methods.find((m) => !m.integrationType);
    if (bare) {
      throw awsError(
        'BadRequestException',
        `No integration defined for method ${bare.httpMethod} ${bare.path}`,
      );
    }
    if (api.endpointTypes.includes('PRIVATE') && !api.policy) {
      throw awsError('BadRequestException', "Private REST API doesn't have a resource policy attached to it");
    }
    this.throttle(region, 'CreateDeployment');
    const d: Deployment = {
      // 6 characters as AWS's; the counter's low digits, so each deployment's id is its own.
      id: this.id('').slice(2, 8),
      description: input.description,
      createdDate: new Date(this.now()),
      definition: structuredClone(api.definition),
      policy: api.policy,
    };
    const deployments = r.deployments.get(api.id) ?? new Map<string, Deployment>();
    deployments.set(d.id, d);
    r.deployments.set(api.id, deployments);
    if (input.stageName) {
      const stages = r.stages.get(api.id) ?? new Map<string, Stage>();
      const existing = stages.get(input.stageName);
      if (existing?.canarySettings || (existing && input.canarySettings)) {
        // With a canary on the stage, a new deployment goes to the canary; the stage keeps serving
        // its base deployment until the canary is promoted (canary-release.html).
        existing.canarySettings = {
          percentTraffic:
            input.canarySettings?.percentTraffic ?? existing.canarySettings?.percentTraffic ?? 0,
          deploymentId: d.id,
        };
        existing.lastUpdatedDate = new Date(this.now());
      } else if (existing) {
        existing.deploymentId = d.id;
        existing.lastUpdatedDate = new Date(this.now());
        Object.assign(existing.variables, input.variables ?? {});
      } else {
        stages.set(input.stageName, {
          stageName: input.stageName,
          deploymentId: d.id,
          description: undefined,
          variables: { ...input.variables },
          methodSettings: {},
          tracingEnabled: false,
          accessLogSettings: undefined,
          createdDate: new Date(this.now()),
          lastUpdatedDate: new Date(this.now()),
          tags: {},
        });
      }
      r.stages.set(api.id, stages);
    }
    return { id: d.id, description: d.description, createdDate: d.createdDate };
  }

  /**
   * "Exports a deployed version of a RestApi" (https://docs.aws.amazon.com/apigateway/latest/api/API_GetExport.html):
   * the stage's deployment, so a change not yet deployed is not in it. exportType 'oas30' (the only
   * one modelled; 'swagger' is refused here, not by AWS); parameters.extensions 'integrations' or
   * 'apigateway' keep x-amazon-apigateway-integration, 'apigateway' also the policy. An unknown
   * stage is NotFoundException. info.version is the deployment's date, servers[] names this API
   * and stage, so two exports of equal definitions differ there.
   */
  GetExport(
    region: string,
    input: { restApiId: string; stageName: string; exportType: string; parameters?: Record<string, string> },
  ) {
    const api = this.api(region, input.restApiId);
    const stage = this.region(region).stages.get(api.id)?.get(input.stageName);
    if (!stage) throw awsError('NotFoundException', 'Invalid stage identifier specified', 404);
    if (!['oas30', 'swagger'].includes(input.exportType))
      throw awsError('BadRequestException', `Invalid export type: ${input.exportType}`);
    if (input.exportType !== 'oas30') throw new Error('fake GetExport models exportType oas30 only');
    const d = this.region(region).deployments.get(api.id)!.get(stage.deploymentId)!;
    const src: Json = structuredClone(d.definition);
    const extensions = (input.parameters?.extensions ?? '').split(',');
    const withIntegrations = extensions.includes('apigateway') || extensions.includes('integrations');
    const paths: Json = {};
    for (const [path, item] of Object.entries<Json>(src.paths ?? {})) {
      paths[path] = {};
      for (const [verb, op] of Object.entries<Json>(item ?? {})) {
        const o = { ...op };
        const integration = o['x-amazon-apigateway-integration'];
        // "By default, API Gateway uses the resource ID as the cacheNamespace" (API_PutIntegration.html):
        // an integration imported without one exports its resource's id, which differs per API.
        if (integration)
          o['x-amazon-apigateway-integration'] = {
            ...integration,
            cacheNamespace: integration.cacheNamespace ?? childId(api.id, `resource ${path}`),
          };
        if (!withIntegrations) delete o['x-amazon-apigateway-integration'];
        paths[path][verb] = o;
      }
    }
    const schemas = src.swagger === '2.0' ? src.definitions : src.components?.schemas;
    const schemes = src.swagger === '2.0' ? src.securityDefinitions : src.components?.securitySchemes;
    const doc: Json = {
      openapi: '3.0.1',
      info: {
        title: api.name,
        ...(api.description ? { description: api.description } : {}),
        version: d.createdDate.toISOString(),
      },
      servers: [
        {
          url: `https://${api.id}.execute-api.${region}.amazonaws.com/{basePath}`,
          variables: { basePath: { default: input.stageName } },
        },
      ],
      paths,
      ...(schemas || schemes
        ? {
            components: { ...(schemas ? { schemas } : {}), ...(schemes ? { securitySchemes: schemes } : {}) },
          }
        : {}),
      ...(extensions.includes('apigateway') && d.policy
        ? { 'x-amazon-apigateway-policy': JSON.parse(d.policy) }
        : {}),
    };
    return {
      contentType: 'application/json',
      contentDisposition: `attachment; filename="${api.name}-${input.stageName}-oas30.json"`,
      body: new TextEncoder().encode(JSON.stringify(doc, null, 2)),
    };
  }

  GetDeployments(region: string, input: { restApiId: string; position?: string; limit?: number }) {
    this.api(region, input.restApiId);
    const all = [...(this.region(region).deployments.get(input.restApiId)?.values() ?? [])];
    const { items, position } = apigwPage(
      this.cloud,
      `GetDeployments/${input.restApiId}`,
      all,
      input,
      (d) => d.id,
    );
    return { items: items.map((d) => ({ ...d })), position };
  }

  GetStages(region: string, input: { restApiId: string; deploymentId?: string }) {
    this.api(region, input.restApiId);
    const items = [...(this.region(region).stages.get(input.restApiId)?.values() ?? [])]
      .filter((s) => !input.deploymentId || s.deploymentId === input.deploymentId)
      .map((s) => this.describeStage(s));
    return { item: items };
  }

  /** The stage goes; its deployments stay (API_DeleteStage.html). */
  DeleteStage(region: string, input: { restApiId: string; stageName: string }) {
    this.api(region, input.restApiId);
    if (!this.region(region).stages.get(input.restApiId)?.delete(input.stageName))
      throw awsError('NotFoundException', 'Invalid stage identifier specified', 404);
    return {};
  }

  GetStage(region: string, input: { restApiId: string; stageName: string }) {
    this.api(region, input.restApiId);
    const s = this.region(region).stages.get(input.restApiId)?.get(input.stageName);
    if (!s) throw awsError('NotFoundException', 'Invalid stage identifier specified', 404);
    return this.describeStage(s);
  }

  /**
   * The patch paths of a stage (https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html#UpdateStage-Patch):
   * /variables/<name> (replace, remove), /tracingEnabled, /accessLogSettings/destinationArn and
   * /format, and /<resourcePath, '/' as ~1>/<httpMethod>/<setting> with the settings
   * throttling/rateLimit, throttling/burstLimit, logging/loglevel, logging/dataTrace,
   * metrics/enabled, caching/enabled; '*' '/' '*' is every method; remove on
   * /<resourcePath>/<httpMethod> takes a whole method setting away.
   */
  UpdateStage(
    region: string,
    input: {
      restApiId: string;
      stageName: string;
      patchOperations?: Array<{ op?: string; path?: string; value?: string }>;
    },
  ) {
    this.api(region, input.restApiId);
    const s = this.region(region).stages.get(input.restApiId)?.get(input.stageName);
    if (!s) throw awsError('NotFoundException', 'Invalid stage identifier specified', 404);
    const bad = (p: { op?: string; path?: string }) =>
      awsError('BadRequestException', `Invalid patch path '${p.path}' specified for op '${p.op}'`);
    const next = structuredClone({
      variables: s.variables,
      methodSettings: s.methodSettings,
      tracingEnabled: s.tracingEnabled,
      accessLogSettings: s.accessLogSettings,
      canarySettings: s.canarySettings,
      deploymentId: s.deploymentId,
    });
    for (const p of input.patchOperations ?? []) {
      const path = p.path ?? '';
      // The canary (canary-release.html): promoted by pointing the stage at its deployment, turned
      // off by removing /canarySettings (delete-canary-deployment.html), its share replaced.
      if (path === '/canarySettings' && p.op === 'remove') {
        next.canarySettings = undefined;
        continue;
      }
      if (path === '/canarySettings/percentTraffic' && p.op === 'replace' && next.canarySettings) {
        next.canarySettings.percentTraffic = Number(p.value);
        continue;
      }
      if (path === '/deploymentId' && p.op === 'replace') {
        if (
          !this.region(region)
            .deployments.get(input.restApiId)
            ?.has(p.value ?? '')
        )
          throw awsError('BadRequestException', 'Invalid deployment identifier specified');
        next.deploymentId = p.value!;
        continue;
      }
      const variable = /^\/variables\/(.+)$/.exec(path);
      const setting =
        /^\/([^/]+)\/([^/]+)\/(throttling\/rateLimit|throttling\/burstLimit|logging\/loglevel|logging\/dataTrace|metrics\/enabled|caching\/enabled)$/.exec(
          path,
        );
      const whole = /^\/([^/]+)\/([^/]+)$/.exec(path);
      if (whole && p.op === 'remove' && !variable && whole[1] !== 'accessLogSettings') {
        const key = `${whole[1]!.replace(/~1/g, '/')}/${whole[2]}`;
        if (!next.methodSettings[key])
          throw awsError(
            'BadRequestException',
            `Cannot remove method setting ${key} because there is no method setting for this method`,
          );
        delete next.methodSettings[key];
      } else if (variable && p.op === 'replace') next.variables[variable[1]!] = p.value ?? '';
      else if (variable && p.op === 'remove') delete next.variables[variable[1]!];
      else if (path === '/tracingEnabled' && p.op === 'replace') next.tracingEnabled = p.value === 'true';
      else if (/^\/accessLogSettings\/(destinationArn|format)$/.test(path) && p.op === 'replace') {
        const key = path.split('/')[2] as 'destinationArn' | 'format';
        next.accessLogSettings = { ...next.accessLogSettings, [key]: p.value };
      } else if (path === '/accessLogSettings' && p.op === 'remove') next.accessLogSettings = undefined;
      else if (setting && p.op === 'replace') {
        const key = `${setting[1]!.replace(/~1/g, '/')}/${setting[2]}`;
        const name = {
          'throttling/rateLimit': 'throttlingRateLimit',
          'throttling/burstLimit': 'throttlingBurstLimit',
          'logging/loglevel': 'loggingLevel',
          'logging/dataTrace': 'dataTraceEnabled',
          'metrics/enabled': 'metricsEnabled',
          'caching/enabled': 'cachingEnabled',
        }[setting[3]!]!;
        const raw = p.value ?? '';
        const value = /Limit$/.test(name) ? Number(raw) : name === 'loggingLevel' ? raw : raw === 'true';
        if (typeof value === 'number' && Number.isNaN(value)) throw bad(p);
        next.methodSettings[key] = { ...next.methodSettings[key], [name]: value };
      } else throw bad(p);
    }
    Object.assign(s, next, { lastUpdatedDate: new Date(this.now()) });
    return this.describeStage(s);
  }

  // ---- what the definition made: resources, methods, integrations, authorizers, models -------
  /** Paged as GetRestApis; embed=methods puts each method (with its integration) in resourceMethods. */
  GetResources(
    region: string,
    input: { restApiId: string; position?: string; limit?: number; embed?: string[] },
  ) {
    const api = this.api(region, input.restApiId);
    const all = resourcesOf(api.id, api.rootResourceId, api.definition);
    const { items, position } = apigwPage(this.cloud, `GetResources/${api.id}`, all, input, (r) => r.id);
    const embed = (input.embed ?? []).includes('methods');
    return {
      items: items.map(({ methods, ...r }) => ({
        ...r,
        ...(Object.keys(methods).length
          ? {
              resourceMethods: embed
                ? structuredClone(methods)
                : Object.fromEntries(Object.keys(methods).map((k) => [k, {}])),
            }
          : {}),
      })),
      position,
    };
  }

  GetMethod(region: string, input: { restApiId: string; resourceId: string; httpMethod: string }) {
    const api = this.api(region, input.restApiId);
    const r = resourcesOf(api.id, api.rootResourceId, api.definition).find((x) => x.id === input.resourceId);
    if (!r) throw awsError('NotFoundException', 'Invalid Resource identifier specified', 404);
    const m = r.methods[input.httpMethod.toUpperCase()];
    if (!m) throw awsError('NotFoundException', 'Invalid Method identifier specified', 404);
    return structuredClone(m);
  }

  GetIntegration(region: string, input: { restApiId: string; resourceId: string; httpMethod: string }) {
    const m = this.GetMethod(region, input);
    if (!m.methodIntegration)
      throw awsError('NotFoundException', 'Invalid Integration identifier specified', 404);
    return m.methodIntegration;
  }

  GetAuthorizers(region: string, input: { restApiId: string; position?: string; limit?: number }) {
    const api = this.api(region, input.restApiId);
    const all = authorizersOf(api.id, api.definition);
    return apigwPage(this.cloud, `GetAuthorizers/${api.id}`, all, input, (a) => a.id);
  }

  GetModels(region: string, input: { restApiId: string; position?: string; limit?: number }) {
    const api = this.api(region, input.restApiId);
    const all = modelsOf(api.id, api.definition);
    return apigwPage(this.cloud, `GetModels/${api.id}`, all, input, (m) => m.id);
  }

  // ---- tags (shared by every taggable API Gateway resource) ------------------------------------
  TagResource(region: string, input: { resourceArn: string; tags?: Tags }) {
    Object.assign(this.tagsOf(region, input.resourceArn), input.tags ?? {});
    return {};
  }

  UntagResource(region: string, input: { resourceArn: string; tagKeys?: string[] }) {
    const tags = this.tagsOf(region, input.resourceArn);
    for (const k of input.tagKeys ?? []) delete tags[k];
    return {};
  }

  GetTags(region: string, input: { resourceArn: string }) {
    return { tags: { ...this.tagsOf(region, input.resourceArn) } };
  }

  private readonly tagResolvers: Array<(region: string, path: string) => Tags | undefined> = [];

  /**
   * Lets another model serving APIGatewayClient (custom domains: /domainnames/...) make its resources
   * taggable through TagResource/UntagResource/GetTags: return the live tag map, or undefined.
   */
  addTagResolver(resolve: (region: string, path: string) => Tags | undefined): void {
    this.tagResolvers.push(resolve);
  }

  /** The live tag map of the resource an ARN names (arn:aws:apigateway:<region>::/restapis/<id>...). */
  protected tagsOf(region: string, arn: string): Tags {
    const path = /^arn:aws:apigateway:([a-z0-9-]+)::(\/.*)$/.exec(arn);
    if (!path || path[1] !== region) {
      throw awsError('BadRequestException', `Invalid ARN specified in the request: ${arn}`);
    }
    const stage = /^\/restapis\/([a-z0-9]+)\/stages\/([^/]+)$/.exec(path[2]!);
    if (stage) {
      this.api(region, stage[1]!);
      const s = this.region(region).stages.get(stage[1]!)?.get(stage[2]!);
      if (!s) throw awsError('NotFoundException', 'Invalid stage identifier specified', 404);
      return s.tags;
    }
    const rest = /^\/restapis\/([a-z0-9]+)$/.exec(path[2]!);
    if (rest) return this.api(region, rest[1]!).tags;
    for (const resolve of this.tagResolvers) {
      const tags = resolve(region, path[2]!);
      if (tags) return tags;
    }
    throw awsError('NotFoundException', `Invalid resource identifier specified ${arn}`, 404);
  }

  // ---- helpers -------------------------------------------------------------------------------
  protected describeApi(_region: string, api: RestApi) {
    return {
      id: api.id,
      name: api.name,
      description: api.description,
      createdDate: api.createdDate,
      apiKeySource: 'HEADER',
      endpointConfiguration: {
        types: [...api.endpointTypes],
        ...(api.endpointTypes.includes('PRIVATE') ? { vpcEndpointIds: [...api.vpcEndpointIds] } : {}),
      },
      // The real service returns the policy JSON with its quotes backslash-escaped.
      policy: api.policy === undefined ? undefined : JSON.stringify(api.policy).slice(1, -1),
      tags: { ...api.tags },
      rootResourceId: api.rootResourceId,
      disableExecuteApiEndpoint: api.disableExecuteApiEndpoint,
      warnings: [],
    };
  }

  private describeStage(s: Stage) {
    return {
      stageName: s.stageName,
      deploymentId: s.deploymentId,
      description: s.description,
      variables: { ...s.variables },
      methodSettings: structuredClone(s.methodSettings),
      tracingEnabled: s.tracingEnabled,
      ...(s.accessLogSettings ? { accessLogSettings: { ...s.accessLogSettings } } : {}),
      createdDate: s.createdDate,
      lastUpdatedDate: s.lastUpdatedDate,
      tags: { ...s.tags },
      ...(s.canarySettings ? { canarySettings: { ...s.canarySettings } } : {}),
    };
  }

  /** `execute-api:/*` in a Resource becomes arn:aws:execute-api:<region>:<account>:<api-id>/*. */
  private expandPolicy(region: string, restApiId: string, policy: Json): string {
    const doc: Json = typeof policy === 'string' ? JSON.parse(policy) : policy;
    const expand = (r: string) =>
      r.startsWith('execute-api:/')
        ? `arn:aws:execute-api:${region}:${this.cloud.account}:${restApiId}/${r.slice('execute-api:/'.length)}`
        : r;
    for (const st of [doc.Statement ?? []].flat<Json[]>()) {
      if (typeof st.Resource === 'string') st.Resource = expand(st.Resource);
      else if (Array.isArray(st.Resource)) st.Resource = st.Resource.map(expand);
    }
    return JSON.stringify(doc);
  }

  // ---- the data plane ------------------------------------------------------------------------
  /**
   * What API Gateway answers a GET of `path` on `stage` of the API, arriving through execute-api
   * endpoint `vpceId` (the caller has already reached the endpoint).
   */
  invoke(
    region: string,
    input: { restApiId: string; stage: string; method?: string; path: string; vpceId: string },
  ): ApiAnswer {
    const api = this.region(region).restApis.get(input.restApiId);
    if (!api) return refused('ForbiddenException', 'Forbidden');
    const method = (input.method ?? 'GET').toUpperCase();
    // A call is served by the stage's deployment: the policy and methods as they were when it was
    // made, not the API's latest edits ("If you update the resource policy, you'll need to deploy
    // the API": apigateway-resource-policies-create-attach.html; updating-api.html).
    const stage = this.region(region).stages.get(api.id)?.get(input.stage);
    const deployed = stage && this.region(region).deployments.get(api.id)?.get(stage.deploymentId);
    if (api.endpointTypes.includes('PRIVATE')) {
      const base = `arn:aws:execute-api:${region}:${this.cloud.account}:${api.id}`;
      const resource = `${base}/${input.stage}/${method}${input.path}`;
      const decision = evaluatePolicy(deployed ? deployed.policy : api.policy, {
        action: 'execute-api:Invoke',
        resource,
        shorthandBase: base,
        context: this.sourceContext(region, input.vpceId),
      });
      if (decision !== 'allow') return notAuthorized(resource, decision);
    }
    if (!deployed) return refused('ForbiddenException', 'Forbidden');
    if (!methodsOf(deployed.definition).some((m) => m.path === input.path && m.httpMethod === method))
      return refused('MissingAuthenticationTokenException', 'Missing Authentication Token');
    return { status: 200, body: mockBody(deployed.definition, input.path, method) };
  }

  /** The condition keys a request through endpoint `vpceId` carries. */
  sourceContext(region: string, vpceId: string): Record<string, string | undefined> {
    let vpcId: string | undefined;
    try {
      vpcId = this.cloud.model(FakeEc2Endpoints).endpoint(region, vpceId)?.VpcId;
    } catch {
      vpcId = undefined; // no endpoint model registered
    }
    return { 'aws:SourceVpce': vpceId, 'aws:SourceVpc': vpcId };
  }

  /** An associated endpoint must exist, be an execute-api interface endpoint, and not be deleted. */
  private checkVpcEndpoint(region: string, vpcEndpointId: string): void {
    let ok = true;
    try {
      const e = this.cloud.model(FakeEc2Endpoints).endpoint(region, vpcEndpointId);
      ok =
        !!e &&
        e.ServiceName.endsWith('.execute-api') &&
        !['deleting', 'deleted'].includes(e.state(this.now()));
    } catch {
      ok = true; // no endpoint model registered: nothing to check against
    }
    if (!ok) throw awsError('BadRequestException', `Invalid VPC endpoint id ${vpcEndpointId}`);
  }

  snapshot(): string[] {
    const out: string[] = [];
    for (const [name, r] of this.regions) {
      for (const a of r.restApis.values()) out.push(`apigateway/${name}/restapi/${a.id}(${a.name})`);
      for (const [apiId, stages] of r.stages) {
        for (const s of stages.values()) out.push(`apigateway/${name}/stage/${apiId}/${s.stageName}`);
      }
    }
    return out;
  }
}

/** An HTTP answer of API Gateway's data plane; `errorType` is its x-amzn-ErrorType header. */
export interface ApiAnswer {
  status: number;
  body: string;
  errorType?: string;
}

export function refused(errorType: string, message: string, status = 403): ApiAnswer {
  return { status, body: JSON.stringify({ message }), errorType };
}

/** AWS's words for a request a resource policy does not allow. */
export function notAuthorized(resource: string, decision: 'explicit-deny' | 'implicit-deny'): ApiAnswer {
  const why =
    decision === 'explicit-deny'
      ? ' with an explicit deny'
      : ' because no resource-based policy allows the execute-api:Invoke action';
  return refused(
    'AccessDeniedException',
    `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${resource}${why}`,
  );
}

/** The body a MOCK integration answers for `method` `path` (its default response template). */
function mockBody(definition: Json, path: string, method: string): string {
  const integration = definition?.paths?.[path]?.[method.toLowerCase()]?.['x-amazon-apigateway-integration'];
  return integration?.responses?.default?.responseTemplates?.['application/json'] ?? '{}';
}

function parseDefinition(body: Uint8Array | string | undefined): Json {
  if (body === undefined) throw awsError('BadRequestException', 'Request body is required');
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch {
    // The real service also takes YAML; drctl sends JSON, so the fake does not parse YAML.
    throw awsError('BadRequestException', 'Invalid OpenAPI input: the fake cloud reads JSON only');
  }
  const swagger2 = doc?.swagger === '2.0';
  const oas3 = typeof doc?.openapi === 'string' && doc.openapi.startsWith('3.');
  if (!swagger2 && !oas3) {
    throw awsError('BadRequestException', 'Invalid OpenAPI input: expected swagger 2.0 or openapi 3.x');
  }
  if (!doc.info?.title)
    throw awsError('BadRequestException', 'Invalid OpenAPI input: info.title is required');
  return doc;
}

/**
 * The warnings an import gives: a $ref to a model the definition does not have ("minor issues like
 * a missing model reference"). With failOnWarnings the import is rolled back and they come as the
 * exception's message; without, they come back in the RestApi's `warnings`
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-import-api-errors-warnings.html).
 */
function importWarnings(doc: Json, failOnWarnings: boolean | undefined): string[] {
  const warnings: string[] = [];
  const visit = (v: Json): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      const ref = v.$ref;
      if (typeof ref === 'string' && ref.startsWith('#/')) {
        const target = ref
          .slice(2)
          .split('/')
          .reduce<Json>((at, k) => (at && typeof at === 'object' ? at[k] : undefined), doc);
        if (target === undefined) warnings.push(`Unable to resolve model reference ${ref}`);
      }
      Object.values(v).forEach(visit);
    }
  };
  visit(doc.paths);
  if (warnings.length && failOnWarnings)
    throw awsError('BadRequestException', `Warnings found during import:\n\t${warnings.join('\n\t')}`);
  return warnings;
}

/** Where API Gateway reads the extension: top level in Swagger 2.0, servers[] in OpenAPI 3. */
function endpointConfigurationOf(doc: Json): { types?: string[]; vpcEndpointIds?: string[] } {
  const ext = 'x-amazon-apigateway-endpoint-configuration';
  const found: Json =
    doc.swagger === '2.0' ? doc[ext] : ((doc.servers ?? []) as Json[]).find((s: Json) => s?.[ext])?.[ext];
  return found ?? {};
}

function methodsOf(doc: Json): ApiMethod[] {
  const out: ApiMethod[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    for (const [verb, op] of Object.entries<Json>(item ?? {})) {
      if (!HTTP_METHODS.has(verb)) continue;
      out.push({
        path,
        httpMethod: verb.toUpperCase(),
        integrationType: op?.['x-amazon-apigateway-integration']?.type as string | undefined,
        integrationUri: op?.['x-amazon-apigateway-integration']?.uri as string | undefined,
      });
    }
  }
  return out;
}
