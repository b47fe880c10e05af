import {
  ChangeTagsForResourceCommand,
  CreateHealthCheckCommand,
  DeleteHealthCheckCommand,
  GetHealthCheckCommand,
  type HealthCheck,
  type HealthCheckConfig,
  ListTagsForResourceCommand,
  paginateListHealthChecks,
  Route53Client,
  type UpdateHealthCheckCommandInput,
  UpdateHealthCheckCommand,
} from '@aws-sdk/client-route-53';
import { ROUTE53_REGION } from '../../aws/clients.js';
import { awsCode, isNotFound, unlessNotFound } from '../../aws/errors.js';
import { collect } from '../../aws/pages.js';
import { isOwnedBy } from '../../aws/tags.js';
import type { Ctx } from './outputs.js';

// One Route 53 health check the step owns, whatever its kind (canary, hold, record): found by its
// recorded id, else adopted by its CallerReference prefix, else created with a recorded
// CallerReference; converged in place; deleted and waited for.

/** Where one check lives in the outputs, what it should be, and how to bring it there. */
export interface Slot {
  /** For messages: `primary`, `hold us-west-1`, `record us-west-1`. */
  label: string;
  /** Every CallerReference of this slot starts with it. */
  prefix: string;
  /** The Name tag. */
  name: string;
  id(): string | undefined;
  ref(): string | undefined;
  setId(id: string | undefined): void;
  setRef(ref: string | undefined): void;
  desired: HealthCheckConfig;
  /** Is this check the one the slot would adopt (same alarm, same kind)? */
  matches(hc: HealthCheck): boolean;
  /** The UpdateHealthCheck fields that bring `hc` to `desired`, or undefined if it is right. */
  fix(
    hc: HealthCheck,
  ): Omit<UpdateHealthCheckCommandInput, 'HealthCheckId' | 'HealthCheckVersion'> | undefined;
}

export function route53(ctx: Ctx): Route53Client {
  return ctx.aws.client(Route53Client, ROUTE53_REGION);
}

export async function getCheck(ctx: Ctx, id: string): Promise<HealthCheck | undefined> {
  return unlessNotFound(
    async () => (await route53(ctx).send(new GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck,
  );
}

export async function listChecks(ctx: Ctx): Promise<HealthCheck[]> {
  return collect(paginateListHealthChecks({ client: route53(ctx) }, {}), (p) => p.HealthChecks);
}

/**
 * A CallerReference can never be used again once its check is deleted (HealthCheckAlreadyExists,
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHealthCheck.html), so each
 * check gets a fresh one: the deployment, the slot, and the time of the first attempt.
 */
function newReference(ctx: Ctx, slot: Slot, not?: string): string {
  const ref = `${slot.prefix}${Math.floor(ctx.clock.now()).toString(36)}`;
  return ref === not ? `${ref}-1` : ref;
}

async function converge(ctx: Ctx, slot: Slot, hc: HealthCheck): Promise<void> {
  const fix = slot.fix(hc);
  if (!fix) return;
  if (hc.HealthCheckConfig?.Inverted)
    ctx.warn(`health check ${hc.Id} was left inverted (an interrupted failover-test?); reverting`);
  await route53(ctx).send(
    new UpdateHealthCheckCommand({ HealthCheckId: hc.Id, HealthCheckVersion: hc.HealthCheckVersion, ...fix }),
  );
}

async function createOrReplay(ctx: Ctx, slot: Slot): Promise<HealthCheck> {
  for (let attempt = 0; ; attempt++) {
    let ref = slot.ref();
    if (!ref) {
      ref = newReference(ctx, slot);
      slot.setRef(ref);
    }
    try {
      const r = await route53(ctx).send(
        new CreateHealthCheckCommand({ CallerReference: ref, HealthCheckConfig: slot.desired }),
      );
      return r.HealthCheck!;
    } catch (e) {
      if (awsCode(e) !== 'HealthCheckAlreadyExists' || attempt > 0) throw e;
      // Same reference, other settings (the config changed since the crash): find and fix it.
      // Or the reference of a check deleted since: start over with a fresh one.
      const same = (await listChecks(ctx)).find((c) => c.CallerReference === ref);
      if (same) {
        await converge(ctx, slot, same);
        return same;
      }
      slot.setRef(newReference(ctx, slot, ref));
    }
  }
}

export async function ensureCheck(ctx: Ctx, slot: Slot): Promise<string> {
  ctx.progress(`health check (${slot.label})`);
  const recordedId = slot.id();
  if (recordedId) {
    const hc = await getCheck(ctx, recordedId);
    if (hc) {
      await converge(ctx, slot, hc);
      return recordedId;
    }
    ctx.warn(`health check ${recordedId} (${slot.label}) is gone; creating a new one`);
    slot.setId(undefined);
    slot.setRef(undefined);
  } else if (!slot.ref()) {
    // No record at all (state lost): adopt one this deployment made for the same purpose.
    const found = (await listChecks(ctx)).find(
      (c) => c.CallerReference?.startsWith(slot.prefix) && slot.matches(c),
    );
    if (found) slot.setRef(found.CallerReference);
  }
  const hc = await createOrReplay(ctx, slot);
  await route53(ctx).send(
    new ChangeTagsForResourceCommand({
      ResourceType: 'healthcheck',
      ResourceId: hc.Id,
      AddTags: [...ctx.tags().filter((t) => t.Key !== 'Name'), { Key: 'Name', Value: slot.name }],
    }),
  );
  // Recorded once tagged: a recorded id then means a finished check, which a re-run only reads.
  // A crash before this line loses nothing: the recorded CallerReference replays to this check.
  slot.setId(hc.Id);
  return hc.Id!;
}

/** The slot's checks: recorded, or made by this deployment (CallerReference prefix and tag). */
export async function ownedChecks(ctx: Ctx, slot: Pick<Slot, 'id' | 'ref' | 'prefix'>): Promise<string[]> {
  const id = slot.id();
  if (id) return [id];
  const ref = slot.ref();
  const candidates = (await listChecks(ctx)).filter((c) =>
    ref ? c.CallerReference === ref : c.CallerReference?.startsWith(slot.prefix),
  );
  const out: string[] = [];
  for (const c of candidates) {
    if (c.CallerReference === ref || (await ownedByTag(ctx, c.Id!))) out.push(c.Id!);
  }
  return out;
}

export async function ownedByTag(ctx: Ctx, id: string): Promise<boolean> {
  const tags = await route53(ctx).send(
    new ListTagsForResourceCommand({ ResourceType: 'healthcheck', ResourceId: id }),
  );
  return isOwnedBy(tags.ResourceTagSet?.Tags, ctx.config.deployment);
}

export async function deleteCheck(ctx: Ctx, id: string): Promise<void> {
  try {
    await route53(ctx).send(new DeleteHealthCheckCommand({ HealthCheckId: id }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  await ctx.poll({
    what: `health check ${id} deleted`,
    timeoutMs: 2 * 60_000,
    minDelayMs: 1_000,
    maxDelayMs: 3_000,
    check: async () =>
      (await getCheck(ctx, id)) ? { done: false, status: 'still listed' } : { done: true, value: undefined },
  });
}
