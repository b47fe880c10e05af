import {
  CreateTrafficPolicyInstanceCommand,
  DeleteTrafficPolicyInstanceCommand,
  GetHostedZoneCommand,
  GetTrafficPolicyInstanceCommand,
  ListTrafficPolicyInstancesByHostedZoneCommand,
  type ListTrafficPolicyInstancesByHostedZoneCommandOutput,
  type RRType,
  type TrafficPolicyInstance,
} from '@aws-sdk/client-route-53';
import { awsCode, isAwsError, isNotFound, isServerError, isThrottled } from '../../aws/errors.js';
import { collect, pages } from '../../aws/pages.js';
import { INSYNC_TIMEOUT_MS, route53 } from '../../aws/route53.js';
import { AwsStepError, errorMessage } from '../../errors/errors.js';
import type { Ctx } from './outputs.js';
import { deletePolicyVersion } from './policy.js';
import { fqdn, probeNameOf, recordNameOf } from './targets.js';

// routing traffic-policy: the traffic policy instance that makes the records at <host>.<domain>,
// and the probe instance that first asks a private zone whether it takes one at all.

export interface Instance {
  id: string;
  name: string;
  ttl: number;
  state: string;
  message: string;
  policyId: string;
  policyVersion: number;
}

function parseInstance(i: TrafficPolicyInstance): Instance {
  return {
    id: i.Id!,
    name: i.Name!,
    ttl: i.TTL ?? 0,
    state: i.State ?? '',
    message: i.Message ?? '',
    policyId: i.TrafficPolicyId!,
    policyVersion: i.TrafficPolicyVersion!,
  };
}

export async function getInstance(ctx: Ctx, id: string): Promise<Instance | undefined> {
  try {
    const r = await route53(ctx).send(new GetTrafficPolicyInstanceCommand({ Id: id }));
    return parseInstance(r.TrafficPolicyInstance!);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Instances answering `name` (default <host>.<domain>) in the zone (Route 53 answers "none" with NoSuchTrafficPolicyInstance). */
export async function instancesAtName(
  ctx: Ctx,
  zoneId: string,
  name = recordNameOf(ctx),
): Promise<Instance[]> {
  type Marker = { TrafficPolicyInstanceNameMarker?: string; TrafficPolicyInstanceTypeMarker?: RRType };
  // No SDK paginator for this list either: a truncated page names the next instance.
  const instances = pages<ListTrafficPolicyInstancesByHostedZoneCommandOutput, Marker>(
    (marker) =>
      route53(ctx).send(
        new ListTrafficPolicyInstancesByHostedZoneCommand({ HostedZoneId: zoneId, ...marker }),
      ),
    (r) =>
      r.IsTruncated
        ? {
            TrafficPolicyInstanceNameMarker: r.TrafficPolicyInstanceNameMarker,
            TrafficPolicyInstanceTypeMarker: r.TrafficPolicyInstanceTypeMarker,
          }
        : undefined,
  );
  try {
    const all = await collect(instances, (p) => p.TrafficPolicyInstances);
    return all.filter((i) => fqdn(i.Name ?? '') === fqdn(name)).map(parseInstance);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

function refusedInPrivateZone(ctx: Ctx, zoneId: string, cause: unknown): AwsStepError {
  return new AwsStepError(
    `Route 53 refused a traffic policy instance in private hosted zone ${zoneId} (${awsCode(cause)}: ${errorMessage(cause)}), tried at ${probeNameOf(ctx)} before touching ${recordNameOf(ctx)}. Traffic flow is documented for public hosted zones only.`,
    {
      resource: zoneId,
      awsCode: awsCode(cause),
      cause,
      resolution: `The failover records for ${recordNameOf(ctx)} are untouched and still route. Set "routing": "failover-records" in the config (the default: failover alias records in the private zone do the same job), then run \`drctl up\` again.`,
    },
  );
}

/**
 * What a private zone that takes no policy instances answers. Route 53 documents traffic flow for
 * public zones only and no error for a private one, so its words are not documented: taken as the
 * generic InvalidInput naming the zone private. CreateTrafficPolicyInstance's other documented
 * errors (TooManyTrafficPolicyInstances, NoSuchTrafficPolicy, any other InvalidInput:
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateTrafficPolicyInstance.html)
 * are their own (instanceRefused).
 */
const isPrivateZoneRefusal = (e: unknown) =>
  awsCode(e) === 'InvalidInput' && /private/i.test(errorMessage(e));

/** A refusal of the request itself (4xx, not throttling, not a permission problem). */
const isRefusal = (e: unknown) =>
  isAwsError(e) &&
  !isThrottled(e) &&
  !isServerError(e) &&
  !/AccessDenied|Unauthorized/i.test(awsCode(e) ?? '') &&
  (e.$metadata?.httpStatusCode ?? 400) < 500;

/** What to do about a CreateTrafficPolicyInstance refusal other than the private zone's. */
function instanceResolution(e: unknown, policy: { id: string; version: number }): string {
  const fallback = 'or set "routing": "failover-records" in the config';
  switch (awsCode(e)) {
    case 'TooManyTrafficPolicyInstances':
      return (
        'The account is at its quota of traffic policy instances (aws route53 get-account-limit ' +
        '--type MAX_TRAFFIC_POLICY_INSTANCES_BY_OWNER). Delete instances nothing uses (aws route53 ' +
        `list-traffic-policy-instances) or ask AWS Support for more, ${fallback}; then run \`drctl up\` again.`
      );
    case 'NoSuchTrafficPolicy':
      return (
        `Traffic policy ${policy.id} version ${policy.version} was deleted outside drctl while this step ` +
        'ran: run `drctl up` again, it makes the policy anew.'
      );
    default:
      return `Fix what Route 53 names, ${fallback}; then run \`drctl up\` again.`;
  }
}

export function instanceRefused(
  zoneId: string,
  name: string,
  policy: { id: string; version: number },
  e: unknown,
  before = '',
): AwsStepError {
  return new AwsStepError(
    `Route 53 refused the traffic policy instance for ${name} in zone ${zoneId} (${awsCode(e)}: ${errorMessage(e)})`,
    {
      resource: zoneId,
      awsCode: awsCode(e),
      cause: e,
      resolution: `${before}${instanceResolution(e, policy)}`,
    },
  );
}

export async function deleteInstance(ctx: Ctx, id: string): Promise<void> {
  try {
    await route53(ctx).send(new DeleteTrafficPolicyInstanceCommand({ Id: id }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  await ctx.poll({
    what: `traffic policy instance ${id} deleted`,
    timeoutMs: INSYNC_TIMEOUT_MS,
    minDelayMs: 2_000,
    maxDelayMs: 10_000,
    check: async () =>
      (await getInstance(ctx, id))
        ? { done: false, status: 'still there' }
        : { done: true, value: undefined },
  });
}

/**
 * Does this private zone take traffic policy instances? Asked at the probe name, so the answer
 * costs nothing at <host>.<domain>; the probe instance is deleted at once (one left by a crash is
 * deleted by the next try or by `down`). A refusal deletes the policy (nothing can use it) and
 * stops the step.
 */
export async function probePrivateZone(
  ctx: Ctx,
  zoneId: string,
  policy: { id: string; version: number },
): Promise<void> {
  for (const left of await instancesAtName(ctx, zoneId, probeNameOf(ctx))) await deleteInstance(ctx, left.id);
  ctx.progress(
    `private zone ${zoneId}: does it take a traffic policy instance? (trying ${probeNameOf(ctx)})`,
  );
  let probeId: string;
  try {
    const r = await route53(ctx).send(
      new CreateTrafficPolicyInstanceCommand({
        HostedZoneId: zoneId,
        Name: probeNameOf(ctx),
        TTL: ctx.config.ttl,
        TrafficPolicyId: policy.id,
        TrafficPolicyVersion: policy.version,
      }),
    );
    probeId = r.TrafficPolicyInstance!.Id!;
  } catch (e) {
    if (isPrivateZoneRefusal(e)) {
      await deletePolicyVersion(ctx, policy.id, policy.version);
      ctx.record({ trafficPolicyId: undefined, trafficPolicyVersion: undefined });
      throw refusedInPrivateZone(ctx, zoneId, e);
    }
    if (!isRefusal(e)) throw e;
    throw instanceRefused(
      zoneId,
      probeNameOf(ctx),
      policy,
      e,
      `Tried before touching ${recordNameOf(ctx)}: its failover records are untouched and still route. `,
    );
  }
  await deleteInstance(ctx, probeId);
}

export async function isPrivateZone(ctx: Ctx, zoneId: string): Promise<boolean> {
  const r = await route53(ctx).send(new GetHostedZoneCommand({ Id: zoneId }));
  return r.HostedZone?.Config?.PrivateZone === true;
}

export async function waitApplied(ctx: Ctx, id: string): Promise<void> {
  await ctx.poll({
    what: `traffic policy instance ${id} Applied`,
    timeoutMs: INSYNC_TIMEOUT_MS,
    minDelayMs: 5_000,
    maxDelayMs: 10_000,
    check: async () => {
      const i = await getInstance(ctx, id);
      if (!i) throw new AwsStepError(`traffic policy instance ${id} disappeared`, { resource: id });
      if (i.state === 'Applied') return { done: true, value: undefined };
      if (i.state === 'Failed') {
        throw new AwsStepError(`traffic policy instance ${id} failed: ${i.message}`, {
          resource: id,
          awsCode: 'Failed',
          resolution: 'Fix the cause Route 53 names, then run the same command again.',
        });
      }
      return { done: false, status: i.state };
    },
  });
}
