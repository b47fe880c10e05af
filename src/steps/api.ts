import {
  APIGatewayClient,
  CreateDeploymentCommand,
  DeleteRestApiCommand,
  GetRestApiCommand,
  paginateGetRestApis,
  GetStageCommand,
  ImportRestApiCommand,
  PutRestApiCommand,
  type RestApi,
  type Stage,
  TagResourceCommand,
  UpdateRestApiCommand,
  type PatchOperation,
} from '@aws-sdk/client-api-gateway';
import { createHash } from 'node:crypto';
import { isNotFound, unlessNotFound } from '../aws/errors.js';
import { canonicalStatements, parsePolicy } from '../aws/resource-policy.js';

import { collect } from '../aws/pages.js';
import { definitionShape, shapeSha } from '../aws/resources/rest-api-shape.js';
import { isOwnedBy, tagMap } from '../aws/tags.js';
import { AwsStepError } from '../errors/errors.js';
import { petstoreDefinition, petstoreOpenApi, privateApiPolicy } from '../assets/petstore-openapi.js';
import {
  admitPatch,
  admitSid,
  hasAdmitStatement,
  copyOf,
  deployCommand,
  deployStage,
  exportOf,
  policyAdmits,
  stageCanary,
  stageDeployment,
  unadmitPatch,
  updateRestApi,
  STAGE,
} from '../aws/resources/existing-api.js';
import {
  type ExistingApiSource,
  isExistingApi,
  type JsonObject,
  isOpenApi,
  openApiPath,
  readOpenApiFile,
  regionDefinition,
  type OpenApiSource,
  withSecondaryValues,
} from '../config/api-source.js';
import { regionConfig } from '../config/config.js';
import type { StepImpl } from './types.js';
import type { AwsClients } from '../aws/clients.js';
import type { Config } from '../config/config.js';
import { type ApiOutputs, type Ctx, outputs } from './api-outputs.js';
import { alignStage, definitionDrift, primaryApi } from './api-drift.js';

// Owns: one PRIVATE REST API per region (<deployment>-petstore, imported from
// src/assets/petstore-openapi.ts; or <deployment>-api, from the user's file, config `api`), its resource policy (invoke only through this region's
// execute-api endpoint), its association with that endpoint, and its stage `prod`.

const TAG_DEFINITION = 'drctl:definition-sha';

export const apiName = (ctx: Pick<Ctx, 'config'>) =>
  `${ctx.config.deployment}-${ctx.config.api === 'petstore' ? 'petstore' : 'api'}`;

/**
 * ImportRestApi takes no tags, so the definition itself carries the owner in info.description: an
 * API imported just before a crash (untagged, its id never recorded) is still recognisably ours.
 */
const ownerMark = (deployment: string) => `(drctl:deployment=${deployment})`;
const description = (ctx: Pick<Ctx, 'config'>) =>
  `PetStore example API plus GET /health, private, made by drctl ${ownerMark(ctx.config.deployment)}`;

function isOurs(api: RestApi, ctx: Pick<Ctx, 'config'>): boolean {
  return (
    isOwnedBy(api.tags, ctx.config.deployment) ||
    (api.description ?? '').includes(ownerMark(ctx.config.deployment))
  );
}

const sha = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);

async function getApi(ctx: Ctx, restApiId: string): Promise<RestApi | undefined> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  return unlessNotFound(() => apigw.send(new GetRestApiCommand({ restApiId })));
}

/** Every REST API in the region, oldest first. */
async function allApis(ctx: Ctx): Promise<RestApi[]> {
  const client = ctx.aws.client(APIGatewayClient, ctx.region);
  const found = await collect(paginateGetRestApis({ client }, { limit: 500 }), (p) => p.items);
  return found.sort((a, b) => (a.createdDate?.getTime() ?? 0) - (b.createdDate?.getTime() ?? 0));
}

/** Every REST API in the region that is ours (tag or owner mark), oldest first. */
async function findOurs(ctx: Ctx): Promise<RestApi[]> {
  return (await allApis(ctx)).filter((a) => isOurs(a, ctx));
}

async function getStage(ctx: Ctx, restApiId: string): Promise<Stage | undefined> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  return unlessNotFound(() => apigw.send(new GetStageCommand({ restApiId, stageName: STAGE })));
}

const body = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc));

interface Definition {
  /** What the definition hash covers: no endpoint or policy. */
  definition: unknown;
  importBody: () => Uint8Array;
  /** The user's file is imported whole or not at all: a warning (a missing model) rolls it back. */
  failOnWarnings: boolean;
}

/**
 * The user's file for this region (placeholders substituted; checked again here, as loadConfig
 * did, in case it changed since), named and marked as ours, with our policy; Swagger 2 also
 * carries the endpoint (OpenAPI 3 has it only in servers[], so it is added by UpdateRestApi below).
 */
function userDefinition(ctx: Ctx, api: OpenApiSource, vpcEndpointId: string): Definition {
  const path = openApiPath(api, process.cwd());
  const doc = regionDefinition(api, readOpenApiFile(path).doc, path, ctx.region);
  const info = (doc.info ?? {}) as Record<string, unknown>;
  const own = typeof info.description === 'string' ? `${info.description} ` : '';
  const definition: Record<string, unknown> = {
    ...doc,
    info: { ...info, title: apiName(ctx), description: `${own}${ownerMark(ctx.config.deployment)}` },
  };
  delete definition['x-amazon-apigateway-policy'];
  delete definition['x-amazon-apigateway-endpoint-configuration'];
  const full = {
    ...definition,
    ...(doc.swagger === '2.0'
      ? { 'x-amazon-apigateway-endpoint-configuration': { vpcEndpointIds: [vpcEndpointId] } }
      : {}),
    'x-amazon-apigateway-policy': privateApiPolicy(vpcEndpointId),
  };
  return { definition, importBody: () => body(full), failOnWarnings: true };
}

/**
 * What the copy's definition hash covers: the export with api.secondaryValues applied, named and
 * marked as ours (no policy).
 */
function copyDefinition(ctx: Pick<Ctx, 'config'>, exported: JsonObject) {
  const api = ctx.config.api as ExistingApiSource;
  const doc = copyOf(withSecondaryValues(api, exported));
  const info = (doc.info ?? {}) as Record<string, unknown>;
  const own = typeof info.description === 'string' ? `${info.description} ` : '';
  return {
    ...doc,
    info: { ...info, title: apiName(ctx), description: `${own}${ownerMark(ctx.config.deployment)}` },
  };
}

/**
 * `plan --refresh` and `up`'s preview: whether the secondary's copy is behind the primary's stage
 * prod, by the same hash `up` tags the copy with (so plan says update exactly when up will put the
 * definition). Two reads, no change: GetExport in the primary (unless `exported` is that export,
 * read already), GetRestApi of the copy. Undefined when the copy is gone (up makes it again).
 */
export async function copyBehind(
  aws: AwsClients,
  config: Config,
  copyRestApiId: string,
  exported?: JsonObject,
): Promise<boolean | undefined> {
  if (!isExistingApi(config.api)) return undefined;
  const primary = aws.client(APIGatewayClient, config.primary.region);
  const doc = exported ?? (await exportOf(primary, config.api.restApiId));
  const wanted = sha(copyDefinition({ config }, doc));
  const secondary = aws.client(APIGatewayClient, config.secondary.region);
  const copy = await unlessNotFound(() =>
    secondary.send(new GetRestApiCommand({ restApiId: copyRestApiId })),
  );
  return copy ? copy.tags?.[TAG_DEFINITION] !== wanted : undefined;
}

/**
 * The secondary's copy of the team's API: the primary's stage prod exported (a change not yet
 * deployed there is not copied), named and marked as ours, with our policy.
 */
async function existingDefinition(ctx: Ctx, api: ExistingApiSource, vpcEndpointId: string) {
  const exported = await exportOf(ctx.aws.client(APIGatewayClient, ctx.config.primary.region), api.restApiId);
  const definition = copyDefinition(ctx, exported);
  const full = { ...definition, 'x-amazon-apigateway-policy': privateApiPolicy(vpcEndpointId) };
  return { definition, importBody: () => body(full), failOnWarnings: true };
}

/**
 * The primary with the team's API: nothing made, only drctl's endpoint admitted (association and
 * one policy statement). Its stage is not redeployed: it is the team's.
 */
async function upExisting(ctx: Ctx, api: ExistingApiSource, vpcEndpointId: string): Promise<ApiOutputs> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  const restApiId = api.restApiId;
  ctx.progress(`REST API ${restApiId} (yours): admitting endpoint ${vpcEndpointId}`);
  const found = await getApi(ctx, restApiId);
  if (!found)
    throw new AwsStepError(`REST API ${restApiId} is gone from ${ctx.region}`, {
      resource: restApiId,
      resolution: 'Set api.restApiId to your API in the primary region and run `drctl up` again.',
    });
  const associated = found.endpointConfiguration?.vpcEndpointIds ?? [];
  let associatedEndpoint = ctx.recorded.associatedEndpoint;
  if (!associated.includes(vpcEndpointId)) {
    associatedEndpoint = vpcEndpointId;
    ctx.record({ restApiId, associatedEndpoint });
  }
  let patch = admitPatch(found, ctx.config.deployment, vpcEndpointId);
  // The team's own endpoint, already admitted: nothing to add (a statement would only wait for a
  // deployment that changes nothing). Admitted by BOTH the current policy (GetRestApi: what the
  // next deployment ships) and the export's (taken as the deployed one: GetExport exports the
  // stage's deployment, an assumption AWS does not document for the policy extension, see
  // docs/your-own-api.md). One alone is not enough: the team may have removed their statement
  // without deploying, and the next deployment would then refuse the endpoint.
  const hasOurs = hasAdmitStatement(found, ctx.config.deployment);
  const rc = regionConfig(ctx.config, ctx.region);
  if (
    !hasOurs &&
    vpcEndpointId === rc.endpointId &&
    policyAdmits(found.policy, vpcEndpointId, rc.vpcId) &&
    policyAdmits((await exportOf(apigw, restApiId))['x-amazon-apigateway-policy'], vpcEndpointId, rc.vpcId)
  ) {
    ctx.progress(`REST API ${restApiId} (yours): its deployed policy admits your endpoint ${vpcEndpointId}`);
    patch = patch.filter((op) => op.path !== '/policy');
  }
  let pending = ctx.recorded.admitPendingDeployment;
  if (patch.some((op) => op.path === '/policy')) {
    // Recorded before the call: a crash after it still leaves verify knowing the statement waits.
    pending = await stageDeployment(apigw, restApiId);
    if (pending) ctx.record({ restApiId, admitPendingDeployment: pending });
  }
  if (patch.length)
    await ctx.retry(`update REST API ${restApiId}`, () => updateRestApi(apigw, restApiId, patch));
  // A changed resource policy takes effect only when the API is deployed again
  // (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies-create-attach.html),
  // and deploying the team's API also ships whatever they changed and have not deployed: their
  // call (config api.deploy), not drctl's by default. Until then calls through drctl's endpoint
  // are refused (403) and the primary's canary fails over to the copy.
  if (pending && pending === (await stageDeployment(apigw, restApiId))) {
    if (api.deploy) {
      ctx.progress(
        `REST API ${restApiId} (yours): deploying stage ${STAGE} (api.deploy): this ships its current definition`,
      );
      await ctx.retry(`deploy REST API ${restApiId}`, () =>
        deployStage(apigw, restApiId, `drctl ${ctx.config.deployment}: admits endpoint ${vpcEndpointId}`),
      );
    } else {
      const canary = (await stageCanary(apigw, restApiId)) !== undefined;
      ctx.warn(
        `REST API ${restApiId} (yours): drctl's statement ${admitSid(ctx.config.deployment)} is in its policy but takes effect only when stage ${STAGE} is deployed again: when its current definition is ready, run \`${deployCommand(restApiId, ctx.region, canary)}\`${canary ? '' : ' (or set api.deploy to true)'}; until then the primary answers drctl's endpoint with 403`,
      );
    }
  }
  const host = `execute-api.${ctx.region}.amazonaws.com`;
  return {
    restApiId,
    name: found.name ?? restApiId,
    stageName: STAGE,
    invokeUrl: `https://${restApiId}.${host}/${STAGE}`,
    vpceInvokeUrl: `https://${restApiId}-${vpcEndpointId}.${host}/${STAGE}`,
    ...(associatedEndpoint ? { associatedEndpoint } : {}),
    ...(pending ? { admitPendingDeployment: pending } : {}),
  };
}

/** `down` in the primary with the team's API: take back only what upExisting added. */
async function downExisting(ctx: Ctx, api: ExistingApiSource): Promise<void> {
  const restApiId = api.restApiId;
  const found = await getApi(ctx, restApiId);
  if (!found) return;
  const patch = unadmitPatch(found, ctx.config.deployment, ctx.recorded.associatedEndpoint);
  if (!patch.length) return;
  ctx.progress(`REST API ${restApiId} (yours): removing what drctl added`);
  await ctx.retry(`update REST API ${restApiId}`, () =>
    updateRestApi(ctx.aws.client(APIGatewayClient, ctx.region), restApiId, patch),
  );
}

async function definitionOf(ctx: Ctx, vpcEndpointId: string): Promise<Definition> {
  if (isExistingApi(ctx.config.api)) return existingDefinition(ctx, ctx.config.api, vpcEndpointId);
  if (isOpenApi(ctx.config.api)) return userDefinition(ctx, ctx.config.api, vpcEndpointId);
  const docOptions = { region: ctx.region, title: apiName(ctx), description: description(ctx) };
  return {
    definition: petstoreDefinition(docOptions),
    importBody: () => body(petstoreOpenApi({ ...docOptions, vpcEndpointId })),
    failOnWarnings: false,
  };
}

export const api: StepImpl<ApiOutputs> = {
  outputs,

  async up(ctx) {
    const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
    const { vpcEndpointId } = await ctx.outputOf('endpoints');
    if (isExistingApi(ctx.config.api) && ctx.role === 'primary')
      return upExisting(ctx, ctx.config.api, vpcEndpointId);
    const name = apiName(ctx);
    const { definition, importBody, failOnWarnings } = await definitionOf(ctx, vpcEndpointId);
    const definitionSha = sha(definition);
    const policy = privateApiPolicy(vpcEndpointId);
    const fingerprint = sha([definitionSha, vpcEndpointId, canonicalStatements(policy)]);
    ctx.progress(`REST API ${name}`);

    let restApi = ctx.recorded.restApiId ? await getApi(ctx, ctx.recorded.restApiId) : undefined;
    if (!restApi) {
      // ImportRestApi has no idempotency token: importing twice makes two APIs (docs/design/aws-behaviour.md §5).
      const ours = (await findOurs(ctx)).filter((a) => a.name === name);
      if (ours.length > 1) {
        ctx.warn(
          `${ours.length} REST APIs named ${name} belong to this deployment: using ${ours[0]!.id}; \`drctl down\` removes them all`,
        );
      }
      restApi = ours[0];
      if (restApi) ctx.record({ restApiId: restApi.id!, name, stageName: STAGE });
    }
    let changed = false;
    if (!restApi) {
      restApi = await ctx.retry(`import REST API ${name}`, () =>
        apigw.send(
          new ImportRestApiCommand({
            body: importBody(),
            parameters: { endpointConfigurationTypes: 'PRIVATE' },
            ...(failOnWarnings ? { failOnWarnings } : {}),
          }),
        ),
      );
      ctx.record({ restApiId: restApi.id!, name, stageName: STAGE });
      for (const w of restApi.warnings ?? []) ctx.warn(`ImportRestApi: ${w}`);
      changed = true;
    }
    const restApiId = restApi.id!;
    const arn = `arn:aws:apigateway:${ctx.region}::/restapis/${restApiId}`;

    // A definition from an older drctl (its hash tag differs): overwrite it in place.
    const taggedSha = restApi.tags?.[TAG_DEFINITION];
    if (taggedSha !== undefined && taggedSha !== definitionSha) {
      ctx.progress(`REST API ${restApiId}: updating its definition`);
      restApi = await ctx.retry(`put REST API ${restApiId}`, () =>
        apigw.send(
          new PutRestApiCommand({
            restApiId,
            mode: 'overwrite',
            body: importBody(),
            ...(failOnWarnings ? { failOnWarnings } : {}),
          }),
        ),
      );
      changed = true;
    }
    // An API changed by hand (a route added or removed, an integration edited), in either region:
    // the definition drctl imports is the source of truth, so put it back where it differs from
    // what that definition made (recorded below), and only there.
    const mine = { region: ctx.region, restApiId };
    const recordedShape = ctx.recorded.definitionShapeSha;
    let liveShape = shapeSha(await definitionShape(apigw, mine));
    // A state from before the shape was recorded: the secondary still follows the primary.
    const primary = ctx.role === 'secondary' ? primaryApi(ctx) : undefined;
    const drifted =
      !changed &&
      (recordedShape !== undefined
        ? recordedShape !== liveShape
        : primary !== undefined && (await definitionDrift(ctx, primary, restApiId)));
    if (drifted) {
      ctx.progress(`REST API ${restApiId}: changed by hand, putting drctl's definition back`);
      restApi = await ctx.retry(`put REST API ${restApiId}`, () =>
        apigw.send(new PutRestApiCommand({ restApiId, mode: 'overwrite', body: importBody() })),
      );
      changed = true;
      liveShape = shapeSha(await definitionShape(apigw, mine));
    }
    if (changed || recordedShape === undefined) ctx.record({ definitionShapeSha: liveShape });
    const wantTags = { ...tagMap(ctx.tags()), [TAG_DEFINITION]: definitionSha };
    if (Object.entries(wantTags).some(([k, v]) => restApi.tags?.[k] !== v)) {
      await ctx.retry(`tag REST API ${restApiId}`, () =>
        apigw.send(new TagResourceCommand({ resourceArn: arn, tags: wantTags })),
      );
    }

    // A private API cannot be deployed without a resource policy; policy, then endpoint, then
    // deploy (docs/design/aws-behaviour.md §12.20).
    const patch: PatchOperation[] = [];
    // The API a config switched from PetStore to a file keeps its id; its name follows.
    if (restApi.name !== name) patch.push({ op: 'replace', path: '/name', value: name });
    if (canonicalStatements(parsePolicy(restApi.policy)) !== canonicalStatements(policy)) {
      patch.push({ op: 'replace', path: '/policy', value: JSON.stringify(policy) });
    }
    const associated = restApi.endpointConfiguration?.vpcEndpointIds ?? [];
    // UpdateRestApi supports add/remove on vpcEndpointIds, not replace (docs/design/aws-behaviour.md §5).
    if (!associated.includes(vpcEndpointId)) {
      patch.push({ op: 'add', path: '/endpointConfiguration/vpcEndpointIds', value: vpcEndpointId });
    }
    for (const stale of associated.filter((v) => v !== vpcEndpointId)) {
      patch.push({ op: 'remove', path: '/endpointConfiguration/vpcEndpointIds', value: stale });
    }
    if (patch.length) {
      ctx.progress(`REST API ${restApiId}: resource policy and endpoint ${vpcEndpointId}`);
      await ctx.retry(`update REST API ${restApiId}`, () =>
        apigw.send(new UpdateRestApiCommand({ restApiId, patchOperations: patch })),
      );
      changed = true;
    }

    // Policy and endpoint changes take effect only with a new deployment.
    const stage = await getStage(ctx, restApiId);
    if (!stage || changed || ctx.recorded.deployedFingerprint !== fingerprint) {
      ctx.progress(`REST API ${restApiId}: deploying stage ${STAGE}`);
      await ctx.retry(`deploy REST API ${restApiId}`, () =>
        apigw.send(
          new CreateDeploymentCommand({ restApiId, stageName: STAGE, description: `drctl ${fingerprint}` }),
        ),
      );
      ctx.record({ deployedFingerprint: fingerprint });
    }
    // A deployment keeps the stage's settings: set the ones changed by hand back to the primary's.
    if (primary) await alignStage(ctx, primary, restApiId, stage);

    const host = `execute-api.${ctx.region}.amazonaws.com`;
    return {
      restApiId,
      name,
      stageName: STAGE,
      invokeUrl: `https://${restApiId}.${host}/${STAGE}`,
      vpceInvokeUrl: `https://${restApiId}-${vpcEndpointId}.${host}/${STAGE}`,
      deployedFingerprint: fingerprint,
      definitionShapeSha: liveShape,
    };
  },

  async down(ctx) {
    const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
    // The team's API is never deleted; an API drctl imported there under another config is left
    // to `down --discover`.
    if (isExistingApi(ctx.config.api) && ctx.role === 'primary') return downExisting(ctx, ctx.config.api);
    const ids = new Set<string>();
    if (ctx.recorded.restApiId && (await getApi(ctx, ctx.recorded.restApiId)))
      ids.add(ctx.recorded.restApiId);
    // Tagged ones, and any imported just before a crash (owner mark, no tag yet).
    for (const a of await allApis(ctx)) {
      if (isOurs(a, ctx)) ids.add(a.id!);
      else if (a.name === apiName(ctx) && !ids.has(a.id!))
        ctx.warn(`left REST API ${a.id} (${a.name}): it has our name but is not drctl's`);
    }
    for (const restApiId of ids) {
      ctx.progress(`REST API ${restApiId}`);
      try {
        // DeleteRestApi is limited to 1 request per 30 s per account (docs/design/timings.md, [S19]).
        await ctx.retry(`delete REST API ${restApiId}`, () =>
          apigw.send(new DeleteRestApiCommand({ restApiId })),
        );
      } catch (e) {
        if (isNotFound(e)) continue;
        if (e instanceof AwsStepError) throw e;
        throw new AwsStepError(`cannot delete REST API ${restApiId}: ${(e as Error).message}`, {
          resource: restApiId,
          awsCode: (e as { name?: string }).name,
          resolution:
            'A custom domain may still map to it: run `drctl down` again once the domain step is gone.',
          cause: e,
        });
      }
    }
  },

  async check(ctx) {
    const id = ctx.recorded.restApiId;
    if (!id) return [];
    if (!(await getApi(ctx, id))) return [`REST API ${id}`];
    return (await getStage(ctx, id)) ? [] : [`stage ${STAGE} of REST API ${id}`];
  },

  async discover(ctx) {
    return (await findOurs(ctx)).map((a) => ({ what: `REST API ${a.id} (${a.name})`, id: a.id! }));
  },
};
