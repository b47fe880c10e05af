import { APIGatewayClient, type Stage, UpdateStageCommand } from '@aws-sdk/client-api-gateway';
import { unlessNotFound } from '../aws/errors.js';
import {
  type Masks,
  definitionShape,
  diffShapes,
  stagePatch,
  stageShape,
  stageShapeOf,
} from '../aws/resources/rest-api-shape.js';
import { STAGE } from '../aws/resources/existing-api.js';
import type { Ctx } from './api-outputs.js';

// The secondary's API and stage held to the primary's (drift between the regions: `verify` names
// it, `up` puts it back here).

/**
 * The primary's API as the state records it, seen from the secondary's step (no wait: on the first
 * `up` both regions import the same definition at once, and `step api` runs alone).
 */
export function primaryApi(ctx: Ctx): Masks | undefined {
  const region = ctx.config.primary.region;
  const restApiId = ctx.peek('api', region)?.restApiId;
  return restApiId ? { region, restApiId } : undefined;
}

export async function definitionDrift(ctx: Ctx, primary: Masks, restApiId: string): Promise<boolean> {
  const mine = { region: ctx.region, restApiId };
  const [a, b] = await Promise.all([
    // The primary's API deleted by hand: nothing to follow (its own step makes it again).
    unlessNotFound(() => definitionShape(ctx.aws.client(APIGatewayClient, primary.region), primary)),
    definitionShape(ctx.aws.client(APIGatewayClient, ctx.region), mine),
  ]);
  return a !== undefined && diffShapes(a, b).length > 0;
}

/** `stage`: the secondary's, read before a deployment (which keeps a stage's settings). */
export async function alignStage(
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
