import {
  ChangeResourceRecordSetsCommand,
  CreateTrafficPolicyInstanceCommand,
  type ResourceRecordSet,
  UpdateTrafficPolicyInstanceCommand,
} from '@aws-sdk/client-route-53';
import { route53, changeBatchProblems, waitChangeInsync } from '../../aws/route53.js';
import { ourZones } from '../../aws/route53-zones.js';
import { activeActive } from '../../config/config.js';
import { AwsStepError, errorMessage } from '../../errors/errors.js';
import type { StepImpl } from '../types.js';
import {
  deleteInstance,
  getInstance,
  instanceRefused,
  instancesAtName,
  isPrivateZone,
  probePrivateZone,
  waitApplied,
} from './instance.js';
import { type Ctx, type TrafficPolicyOutputs, outputs } from './outputs.js';
import { deletePolicyVersion, ensurePolicy, policyDocument, policyNamed } from './policy.js';
import {
  deleteRecords,
  desiredRecords,
  foreignRecords,
  recordsAtName,
  recordsIfZone,
  restoreRecords,
  sameRecord,
} from './records.js';
import {
  type Targets,
  ourIdentifiersOf,
  policyNameOf,
  probeNameOf,
  recordNameOf,
  setIdentifiersOf,
  targets,
} from './targets.js';

export type { TrafficPolicyOutputs } from './outputs.js';

// Owns: the failover routing for <host>.<domain> in the private zone.
// - `routing: failover-records` (default): two alias record sets, PRIMARY to the primary NLB and
//   SECONDARY to the secondary NLB, each with its region's CALCULATED health check (its canary
//   and its traffic hold: steps/health-check/); with `topology: active-active`, two latency alias
//   record sets instead, one per region (SetIdentifier <deployment>-<region>, Region, that
//   region's health check). Switching topology replaces one
//   pair with the other in a single change batch.
// - `routing: traffic-policy` (the workshop's): a traffic policy with a failover rule on the two
//   NLBs and a traffic policy instance for the name. Traffic flow is documented for public zones
//   only (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/traffic-flow.html), so Route
//   53 may refuse the instance in drctl's private zone. An instance cannot share its name with
//   record sets, so the failover records must go first: before deleting them, the step tries an
//   instance at a name nobody uses (`_drctl-probe.<host>.<domain>`) and, if Route 53 refuses that,
//   stops with the failover records untouched. If the real instance still fails, the records are
//   put back.
// The workshop aimed its policy at EC2 instance IPs (docs/design/aws-behaviour.md §12.6); both modes aim at the NLBs.

async function upFailoverRecords(ctx: Ctx, t: Targets): Promise<TrafficPolicyOutputs> {
  const ids = setIdentifiersOf(ctx);
  if (activeActive(ctx.config) && !t.secondary.healthCheckId) {
    throw new AwsStepError(`the health-check step recorded no health check for ${t.secondary.region}`, {
      resource: `${recordNameOf(ctx)} (${t.secondary.region})`,
      resolution:
        'Active-active needs a health check per region: run `drctl step health-check`, then `drctl up` again.',
    });
  }
  const existing = await recordsAtName(ctx, t.hostedZoneId);
  const all = ourIdentifiersOf(ctx);
  const ours = existing.filter((r) => r.SetIdentifier && all.includes(r.SetIdentifier));
  const instanceRecords = existing.filter((r) => r.TrafficPolicyInstanceId);
  const ourInstance = instanceRecords.filter(
    (r) => r.TrafficPolicyInstanceId === ctx.recorded.trafficPolicyInstanceId,
  );
  const foreign = existing.filter((r) => !ours.includes(r) && !ourInstance.includes(r));
  if (foreign.length) throw foreignRecords(ctx, t.hostedZoneId, foreign);
  if (ctx.recorded.trafficPolicyInstanceId || ctx.recorded.trafficPolicyId) {
    ctx.warn(
      `switching ${recordNameOf(ctx)} from the traffic policy to failover records: it will not resolve for a minute`,
    );
    await removeTrafficPolicy(ctx, t.hostedZoneId);
  }
  const desired = desiredRecords(ctx, t);
  const base = {
    mode: 'failover-records' as const,
    recordName: recordNameOf(ctx),
    setIdentifiers: ids,
    hostedZoneId: t.hostedZoneId,
    trafficPolicyId: undefined,
    trafficPolicyVersion: undefined,
    trafficPolicyInstanceId: undefined,
  };
  const current = (d: ResourceRecordSet) => ours.find((r) => r.SetIdentifier === d.SetIdentifier);
  // Records of the other topology (the failover pair after a switch to active-active, or the
  // latency pair after a switch back): deleted in the same batch that makes the new ones.
  const stale = ours.filter((r) => !ids.includes(r.SetIdentifier!));
  const changed = desired.filter((d) => !current(d) || !sameRecord(current(d)!, d));
  if (!changed.length && !stale.length) {
    if (ctx.recorded.mode !== 'failover-records' || ctx.recorded.hostedZoneId !== t.hostedZoneId)
      ctx.record(base);
    return base;
  }
  const what = activeActive(ctx.config) ? 'latency' : 'PRIMARY/SECONDARY';
  if (stale.length)
    ctx.info(
      `${recordNameOf(ctx)}: replacing the ${activeActive(ctx.config) ? 'failover' : 'latency'} records with ${what} records in one change batch (the name answers throughout)`,
    );
  ctx.progress(`records ${recordNameOf(ctx)} ${what}`);
  // One batch: Route 53 applies it atomically, so the name never has a PRIMARY without its
  // SECONDARY, nor (switching topology) a moment with neither pair. The deletes come first, so no
  // change in the batch ever sees two routing policies at the name.
  // DELETE must repeat the current values exactly, so it sends the record sets as listed.
  const r = await route53(ctx)
    .send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: t.hostedZoneId,
        ChangeBatch: {
          Comment: `drctl ${ctx.config.deployment}: ${activeActive(ctx.config) ? 'latency routing' : 'failover'} for ${recordNameOf(ctx)}`,
          Changes: [
            ...stale.map((x) => ({ Action: 'DELETE' as const, ResourceRecordSet: x })),
            ...changed.map((d) => ({
              Action: current(d) ? ('UPSERT' as const) : ('CREATE' as const),
              ResourceRecordSet: d,
            })),
          ],
        },
      }),
    )
    .catch((e: unknown) => {
      const problems = changeBatchProblems(e);
      if (!problems) throw e;
      throw new AwsStepError(
        `Route 53 refused the ${what} records for ${recordNameOf(ctx)}: ${problems.join('; ') || errorMessage(e)}`,
        {
          resource: t.hostedZoneId,
          awsCode: 'InvalidChangeBatch',
          cause: e,
          resolution:
            'Nothing was changed (a change batch is all or nothing). An alias target that "was not found" or does not "lie within the target zone" is an NLB that is gone or moved: run `drctl up` again (the nlb step replaces it first).',
        },
      );
    });
  ctx.record(base);
  await waitChangeInsync(ctx, r.ChangeInfo?.Id, `records ${recordNameOf(ctx)}`);
  return base;
}

async function upTrafficPolicy(ctx: Ctx, t: Targets): Promise<TrafficPolicyOutputs> {
  const name = recordNameOf(ctx);
  const existing = await recordsAtName(ctx, t.hostedZoneId);
  const ids = ourIdentifiersOf(ctx);
  const ourRecords = existing.filter((r) => r.SetIdentifier && ids.includes(r.SetIdentifier));
  if (ourRecords.length) {
    ctx.warn(
      `switching ${name} from failover records to the traffic policy: it will not resolve for a minute`,
    );
  }
  const base = {
    mode: 'traffic-policy' as const,
    recordName: name,
    hostedZoneId: t.hostedZoneId,
    setIdentifiers: undefined,
  };
  const doc = policyDocument(t);
  const policy = await ensurePolicy(ctx, doc);
  const previousVersion =
    ctx.recorded.trafficPolicyId === policy.id ? ctx.recorded.trafficPolicyVersion : undefined;
  if (ctx.recorded.trafficPolicyId !== policy.id || ctx.recorded.trafficPolicyVersion !== policy.version) {
    ctx.record({ ...base, trafficPolicyId: policy.id, trafficPolicyVersion: policy.version });
  }
  let instance = ctx.recorded.trafficPolicyInstanceId
    ? await getInstance(ctx, ctx.recorded.trafficPolicyInstanceId)
    : undefined;
  if (!instance) {
    const found = await instancesAtName(ctx, t.hostedZoneId);
    const foreign = found.find((i) => i.policyId !== policy.id);
    if (foreign) {
      throw new AwsStepError(
        `${name} in zone ${t.hostedZoneId} is answered by traffic policy instance ${foreign.id} of another policy (${foreign.policyId})`,
        {
          resource: foreign.id,
          resolution: 'Delete that instance (drctl did not make it), then run the same command again.',
        },
      );
    }
    instance = found[0];
  }
  if (!instance) {
    const foreign = existing.filter((r) => !ourRecords.includes(r));
    if (foreign.length) throw foreignRecords(ctx, t.hostedZoneId, foreign);
    // Before anything at the name changes (this file's header).
    if (await isPrivateZone(ctx, t.hostedZoneId)) await probePrivateZone(ctx, t.hostedZoneId, policy);
    if (ourRecords.length) await deleteRecords(ctx, t.hostedZoneId, ourRecords);
    ctx.progress(`traffic policy instance ${name}`);
    let created;
    try {
      created = await route53(ctx).send(
        new CreateTrafficPolicyInstanceCommand({
          HostedZoneId: t.hostedZoneId,
          Name: name,
          TTL: ctx.config.ttl,
          TrafficPolicyId: policy.id,
          TrafficPolicyVersion: policy.version,
        }),
      );
    } catch (e) {
      // Whatever the cause (its code says it): the name must not stay without records.
      if (ourRecords.length && !(await instancesAtName(ctx, t.hostedZoneId)).length) {
        await restoreRecords(ctx, t.hostedZoneId, ourRecords);
      }
      throw instanceRefused(
        t.hostedZoneId,
        name,
        policy,
        e,
        ourRecords.length ? `The failover records for ${name} were put back. ` : '',
      );
    }
    const i = created.TrafficPolicyInstance!;
    ctx.record({ ...base, trafficPolicyInstanceId: i.Id! });
    instance = {
      id: i.Id!,
      name,
      ttl: ctx.config.ttl,
      state: i.State ?? '',
      message: '',
      policyId: policy.id,
      policyVersion: policy.version,
    };
  } else {
    if (ctx.recorded.trafficPolicyInstanceId !== instance.id)
      ctx.record({ ...base, trafficPolicyInstanceId: instance.id });
    if (instance.policyVersion !== policy.version || instance.ttl !== ctx.config.ttl) {
      ctx.progress(
        `traffic policy instance ${instance.id}: version ${policy.version}, TTL ${ctx.config.ttl}`,
      );
      await route53(ctx).send(
        new UpdateTrafficPolicyInstanceCommand({
          Id: instance.id,
          TTL: ctx.config.ttl,
          TrafficPolicyId: policy.id,
          TrafficPolicyVersion: policy.version,
        }),
      );
      instance.state = 'Updating';
    }
  }
  if (instance.state !== 'Applied') await waitApplied(ctx, instance.id);
  if (previousVersion !== undefined && previousVersion !== policy.version) {
    await deletePolicyVersion(ctx, policy.id, previousVersion);
  }
  return {
    ...base,
    trafficPolicyId: policy.id,
    trafficPolicyVersion: policy.version,
    trafficPolicyInstanceId: instance.id,
  };
}

/** The instance (so its records go), then every version of the policy (the instance held one). */
async function removeTrafficPolicy(ctx: Ctx, zoneId: string | undefined): Promise<void> {
  const policyId = ctx.recorded.trafficPolicyId ?? (await policyNamed(ctx, policyNameOf(ctx)))?.Id;
  const instanceIds = new Set<string>();
  if (ctx.recorded.trafficPolicyInstanceId) instanceIds.add(ctx.recorded.trafficPolicyInstanceId);
  if (zoneId && policyId) {
    for (const i of await instancesAtName(ctx, zoneId)) if (i.policyId === policyId) instanceIds.add(i.id);
    // A probe left by a crash between its create and its delete.
    for (const i of await instancesAtName(ctx, zoneId, probeNameOf(ctx)))
      if (i.policyId === policyId) instanceIds.add(i.id);
  }
  for (const id of instanceIds) {
    ctx.progress(`traffic policy instance ${id}`);
    await deleteInstance(ctx, id);
  }
  ctx.record({ trafficPolicyInstanceId: undefined });
  if (policyId) {
    const summary = await policyNamed(ctx, policyNameOf(ctx));
    const latest =
      summary?.Id === policyId ? (summary.LatestVersion ?? 1) : (ctx.recorded.trafficPolicyVersion ?? 1);
    ctx.progress(`traffic policy ${policyId}`);
    for (let v = 1; v <= latest; v++) await deletePolicyVersion(ctx, policyId, v);
  }
  ctx.record({ trafficPolicyId: undefined, trafficPolicyVersion: undefined });
}

export const trafficPolicy: StepImpl<TrafficPolicyOutputs> = {
  outputs,

  async up(ctx) {
    const t = await targets(ctx);
    ctx.progress(`${ctx.config.routing} for ${recordNameOf(ctx)}`);
    return ctx.config.routing === 'traffic-policy' ? upTrafficPolicy(ctx, t) : upFailoverRecords(ctx, t);
  },

  async down(ctx) {
    // Without a record (a lost state, `down --discover`), the zone is found as the hosted-zone
    // step finds it: the policy cannot go while an instance in it still uses it.
    const zoneId =
      ctx.recorded.hostedZoneId ??
      ctx.peek('hosted-zone')?.hostedZoneId ??
      (await ourZones(ctx)).map((z) => z.id)[0];
    if (zoneId) {
      const ids = ourIdentifiersOf(ctx);
      const ours = (await recordsIfZone(ctx, zoneId)).filter(
        (r) => r.SetIdentifier && ids.includes(r.SetIdentifier),
      );
      ctx.progress(`records ${recordNameOf(ctx)}`);
      await deleteRecords(ctx, zoneId, ours);
    }
    await removeTrafficPolicy(ctx, zoneId);
  },

  async check(ctx) {
    const zoneId = ctx.recorded.hostedZoneId ?? ctx.peek('hosted-zone')?.hostedZoneId;
    if (ctx.recorded.mode === 'traffic-policy') {
      const id = ctx.recorded.trafficPolicyInstanceId;
      return id && !(await getInstance(ctx, id)) ? [`traffic policy instance ${id}`] : [];
    }
    if (!zoneId) return [];
    const present = await recordsIfZone(ctx, zoneId);
    return (ctx.recorded.setIdentifiers ?? [])
      .filter((id) => !present.some((r) => r.SetIdentifier === id))
      .map((id) => `record ${recordNameOf(ctx)} (${id})`);
  },

  /**
   * The traffic policy, by its name. The failover records and policy instances live in the
   * private zone and are listed by the hosted-zone step, which finds that zone without a record.
   */
  async discover(ctx) {
    const p = await policyNamed(ctx, policyNameOf(ctx));
    if (!p?.Id) return [];
    return [{ what: `traffic policy ${p.Id} (${p.Name}, ${p.LatestVersion ?? 1} version(s))`, id: p.Id }];
  },
};
