import {
  APIGatewayClient,
  type BasePathMapping,
  CreateBasePathMappingCommand,
  DeleteBasePathMappingCommand,
  paginateGetBasePathMappings,
} from '@aws-sdk/client-api-gateway';
import { awsCode } from '../../aws/errors.js';
import { findInPages } from '../../aws/pages.js';
import { type Domain, ids, label } from './domain-name.js';
import type { Ctx } from './outputs.js';

// The domain's root base path mapping to the API's `prod` stage.

const ROOT_BASE_PATH = '(none)';
const STAGE = 'prod';

async function rootMapping(ctx: Ctx, d: Domain): Promise<BasePathMapping | undefined> {
  const client = ctx.aws.client(APIGatewayClient, ctx.region);
  return findInPages(
    paginateGetBasePathMappings({ client }, { ...ids(d), limit: 500 }),
    (p) => p.items,
    (m) => m.basePath === ROOT_BASE_PATH,
  );
}

/** The root mapping to <api>/prod; a root mapping to anything else (an API since replaced) is replaced. */
export async function ensureMapping(ctx: Ctx, d: Domain, restApiId: string): Promise<void> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  const root = await rootMapping(ctx, d);
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
