import {
  APIGatewayClient,
  type BasePathMapping,
  CreateBasePathMappingCommand,
  DeleteBasePathMappingCommand,
  paginateGetBasePathMappings,
} from '@aws-sdk/client-api-gateway';
import { awsCode } from '../../aws/errors.js';
import { collect, findInPages } from '../../aws/pages.js';
import { type Domain, ids, label } from './domain-name.js';
import type { Ctx } from './outputs.js';

// The domain's root base path mapping to the API's `prod` stage: the only mapping drctl makes, so
// any other on drctl's domain was added by hand and sends some of its traffic elsewhere in one
// region only; `up` removes it.

const ROOT_BASE_PATH = '(none)';
const STAGE = 'prod';

/** Every mapping on the domain: one read, shared by the root mapping and the clean-up. */
async function mappingsOf(ctx: Ctx, d: Domain): Promise<BasePathMapping[]> {
  const client = ctx.aws.client(APIGatewayClient, ctx.region);
  return collect(paginateGetBasePathMappings({ client }, { ...ids(d), limit: 500 }), (p) => p.items);
}

/** Remove every mapping drctl did not make, each said in a line. */
async function removeForeign(ctx: Ctx, d: Domain, all: BasePathMapping[]): Promise<void> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  for (const m of all.filter((x) => x.basePath !== ROOT_BASE_PATH)) {
    ctx.warn(
      `custom domain ${label(d)}: removing base path mapping '${m.basePath}' (to ${m.restApiId}/${m.stage}): drctl did not make it`,
    );
    try {
      await apigw.send(new DeleteBasePathMappingCommand({ ...ids(d), basePath: m.basePath! }));
    } catch (e) {
      if (awsCode(e) !== 'NotFoundException') throw e; // removed meanwhile: what we wanted
    }
  }
}

async function rootMapping(ctx: Ctx, d: Domain): Promise<BasePathMapping | undefined> {
  const client = ctx.aws.client(APIGatewayClient, ctx.region);
  return findInPages(
    paginateGetBasePathMappings({ client }, { ...ids(d), limit: 500 }),
    (p) => p.items,
    (m) => m.basePath === ROOT_BASE_PATH,
  );
}

/**
 * The root mapping to <api>/prod; a root mapping to anything else (an API since replaced) is
 * replaced; any other mapping (drctl makes none) is removed.
 */
export async function ensureMapping(ctx: Ctx, d: Domain, restApiId: string): Promise<void> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  const all = await mappingsOf(ctx, d);
  await removeForeign(ctx, d, all);
  const root = all.find((m) => m.basePath === ROOT_BASE_PATH);
  if (root?.restApiId === restApiId && root.stage === STAGE) return;
  if (root) {
    ctx.progress(`custom domain ${label(d)}: re-pointing its mapping from ${root.restApiId} to ${restApiId}`);
    await apigw.send(new DeleteBasePathMappingCommand({ ...ids(d), basePath: ROOT_BASE_PATH }));
  }
  ctx.progress(`custom domain ${label(d)}: mapping / to ${restApiId}/${STAGE}`);
  try {
    await apigw.send(new CreateBasePathMappingCommand({ ...ids(d), restApiId, stage: STAGE }));
  } catch (e) {
    if (awsCode(e) !== 'ConflictException') throw e;
    // A racing `up` mapped it first: fine if it is the same mapping.
    const now = await rootMapping(ctx, d);
    if (now?.restApiId !== restApiId || now.stage !== STAGE) throw e;
  }
}
