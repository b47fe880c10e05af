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
  UpdateStageCommand,
  type PatchOperation,
} from '@aws-sdk/client-api-gateway';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isNotFound, unlessNotFound } from '../aws/errors.js';
import { canonicalStatements, parsePolicy } from '../aws/resource-policy.js';

import { collect } from '../aws/pages.js';
import {
  type Masks,
  definitionShape,
  diffShapes,
  stagePatch,
  stageShape,
  stageShapeOf,
  shapeSha,
} from '../aws/resources/rest-api-shape.js';
import { isOwnedBy, tagMap } from '../aws/tags.js';
import { AwsStepError } from '../errors/errors.js';
import { petstoreDefinition, petstoreOpenApi, privateApiPolicy } from '../assets/petstore-openapi.js';
import {
  isOpenApi,
  openApiPath,
  readOpenApiFile,
  regionDefinition,
  type OpenApiSource,
} from '../config/api-source.js';
import type { StepContext, StepImpl } from './types.js';

// Owns: one PRIVATE REST API per region (<deployment>-petstore, imported from
// src/assets/petstore-openapi.ts; or <deployment>-api, from the user's file, config `api`), its resource policy (invoke only through this region's
// execute-api endpoint), its association with that endpoint, and its stage `prod`.

const outputs = z.object({
  restApiId: z.string().regex(/^[a-z0-9]{10}$/, 'must be a REST API id like a1b2c3d4e5'),
  name: z.string(),
  stageName: z.literal('prod'),
  /** https://{restApiId}.execute-api.{region}.amazonaws.com/prod (private DNS, inside the VPC). */
  invokeUrl: z.string().url(),
  /** https://{restApiId}-{vpceId}.execute-api.{region}.amazonaws.com/prod (no Host header needed). */
  vpceInvokeUrl: z.string().url(),
  /** Hash of definition, endpoint and policy that stage prod was last deployed with. */
  deployedFingerprint: z.string().optional(),
  /**
   * shapeSha of what the definition made, read right after drctl imported or put it: the API as
   * drctl's definition makes it in this region; anything else is a hand change (`up` puts it back).
   */
  definitionShapeSha: z.string().optional(),
});
export type ApiOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    api: ApiOutputs;
  }
}

type Ctx = StepContext<ApiOutputs>;

const STAGE = 'prod';
const TAG_DEFINITION = 'drctl:definition-sha';

export const apiName = (ctx: Pick<Ctx, 'config'>) =>
  `${ctx.config.deployment}-${isOpenApi(ctx.config.api) ? 'api' : 'petstore'}`;

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

/**
 * The primary's API as the state records it, seen from the secondary's step (no wait: on the first
 * `up` both regions import the same definition at once, and `step api` runs alone).
 */
function primaryApi(ctx: Ctx): Masks | undefined {
  const region = ctx.config.primary.region;
  const restApiId = ctx.peek('api', region)?.restApiId;
  return restApiId ? { region, restApiId } : undefined;
}

async function definitionDrift(ctx: Ctx, primary: Masks, restApiId: string): Promise<boolean> {
  const mine = { region: ctx.region, restApiId };
  const [a, b] = await Promise.all([
    // The primary's API deleted by hand: nothing to follow (its own step makes it again).
    unlessNotFound(() => definitionShape(ctx.aws.client(APIGatewayClient, primary.region), primary)),
    definitionShape(ctx.aws.client(APIGatewayClient, ctx.region), mine),
  ]);
  return a !== undefined && diffShapes(a, b).length > 0;
}

/** `stage`: the secondary's, read before a deployment (which keeps a stage's settings). */
async function alignStage(
  ctx: Ctx,
  primary: Masks,
  restApiId: string,
  stage: Stage | undefined,
): Promise<void> {
  const mine = { region: ctx.region, restApiId };
  const theirs = await unlessNotFound(() =>
    stageShape(ctx.aws.client(APIGatewayClient, primary.region), primary, STAGE),
  );
  if (!theirs) return; // the primary's stage is not deployed yet
  const ours = stage
    ? stageShapeOf(stage, mine)
    : await stageShape(ctx.aws.client(APIGatewayClient, ctx.region), mine, STAGE);
  const ops = diffShapes(theirs, ours).flatMap((d) => {
    const op = stagePatch(STAGE, d.path, theirs.get(d.path), mine);
    if (!op) ctx.warn(`stage ${STAGE} ${d.path} differs from the primary's and cannot be patched back`);
    return op ? [op] : [];
  });
  // A method setting goes whole (AWS has no remove for one of its fields): once, first, then the
  // primary's fields of that method, if it has any, are set again.
  const isMethodRemove = (o: (typeof ops)[number]) =>
    o.op === 'remove' && !o.path.startsWith('/variables/') && o.path !== '/accessLogSettings';
  const removed = [...new Set(ops.filter(isMethodRemove).map((o) => o.path))];
  const rest = ops.filter((o) => !isMethodRemove(o));
  const again = [...theirs.keys()].flatMap((path) => {
    const op = path.includes(' method ') ? stagePatch(STAGE, path, theirs.get(path), mine) : undefined;
    const back = op && removed.some((r) => op.path.startsWith(`${r}/`));
    return back && !rest.some((o) => o.path === op.path) ? [op] : [];
  });
  const patch = [...removed.map((path) => ({ op: 'remove' as const, path })), ...rest, ...again];
  for (const path of removed)
    ctx.progress(`REST API ${restApiId}: removing stage ${STAGE} method setting ${path} (not the primary's)`);
  if (!patch.length) return;
  ctx.progress(`REST API ${restApiId}: setting stage ${STAGE} as the primary's`);
  try {
    await ctx.retry(`update stage ${STAGE} of REST API ${restApiId}`, () =>
      ctx.aws
        .client(APIGatewayClient, ctx.region)
        .send(new UpdateStageCommand({ restApiId, stageName: STAGE, patchOperations: patch })),
    );
  } catch (e) {
    // A resend after AWS applied it finds the method setting gone (the whole patch refused): read
    // the stage again and patch what is left.
    if (!removed.length || !/no method setting for this method/.test((e as Error).message)) throw e;
    await alignStage(ctx, primary, restApiId, undefined);
  }
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

function definitionOf(ctx: Ctx, vpcEndpointId: string): Definition {
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
    const name = apiName(ctx);
    const { definition, importBody, failOnWarnings } = definitionOf(ctx, vpcEndpointId);
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
