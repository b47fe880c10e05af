import {
  AssociateVPCWithHostedZoneCommand,
  ChangeResourceRecordSetsCommand,
  ChangeTagsForResourceCommand,
  CreateHostedZoneCommand,
  DeleteHostedZoneCommand,
  DeleteTrafficPolicyInstanceCommand,
  DisassociateVPCFromHostedZoneCommand,
  ListHostedZonesByVPCCommand,
  type ListHostedZonesByVPCCommandOutput,
  ListTagsForResourcesCommand,
  type ResourceRecordSet,
  type VPCRegion,
} from '@aws-sdk/client-route-53';
import { z } from 'zod';
import { collect, findInPages, pages } from '../aws/pages.js';
import { drctlSetIdentifiers, recordSetPages } from '../aws/route53-records.js';
import { INSYNC_TIMEOUT_MS, route53, waitChangeInsync } from '../aws/route53.js';
import { awsCode, isNotFound } from '../aws/errors.js';
import { EXPECTED } from '../aws/expected.js';
import { isOwnedBy } from '../aws/tags.js';
import {
  fqdn,
  getZone,
  ourZones,
  parseZone,
  referencePrefix,
  zonesNamed,
  type Zone,
} from '../aws/route53-zones.js';
import { AwsStepError } from '../errors/errors.js';
import type { Found, StepContext, StepImpl } from './types.js';

// Owns: the Route 53 private hosted zone <domain>, created with the primary VPC and then
// associated with the secondary VPC (same account: no association authorization needed,
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_AssociateVPCWithHostedZone.html).
// Its CallerReference starts `drctl/<deployment>/`, so a zone made by a run that died before it
// could record or tag it is still recognisably ours.
// With config hostedZoneId (issue 25) the zone is the user's, `used`: never tagged or deleted;
// drctl associates the VPCs it lacks, records each before the call in `addedVpcs`, and `down`
// removes only those associations and drctl's own records.

const outputs = z.object({
  hostedZoneId: z.string().regex(/^Z[A-Z0-9]+$/, 'must be a Route 53 hosted zone id like Z0123ABC'),
  zoneName: z.string(),
  callerReference: z.string(),
  vpcs: z.array(z.object({ region: z.string(), vpcId: z.string() })),
  /** `used`: the user's zone (config hostedZoneId); absent on records before issue 25: made. */
  ownership: z.enum(['made', 'used']).optional(),
  /** In a used zone: the associations drctl added, the only ones `down` removes. */
  addedVpcs: z.array(z.object({ region: z.string(), vpcId: z.string() })).optional(),
});
export type HostedZoneOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    'hosted-zone': HostedZoneOutputs;
  }
}

type Ctx = StepContext<HostedZoneOutputs>;
type VpcRef = HostedZoneOutputs['vpcs'][number];

// Zone creation and VPC association reach INSYNC in 45-90 s (docs/design/timings.md §8).

const newReference = (ctx: Pick<Ctx, 'config' | 'clock'>) =>
  `${referencePrefix(ctx)}${new Date(ctx.clock.now()).toISOString()}`;

/**
 * CreateHostedZone with the given reference; if Route 53 says the reference is used, the zone it
 * made is ours from an earlier try: find it. If that zone is gone (deleted by hand), start over
 * with a new reference.
 */
async function createZone(ctx: Ctx, primary: VpcRef): Promise<{ zone: Zone; changeId?: string }> {
  let reference = ctx.recorded.callerReference ?? newReference(ctx);
  for (let attempt = 1; ; attempt++) {
    // Recorded before the call: a crash right after it leaves the reference to look for.
    if (ctx.recorded.callerReference !== reference) ctx.record({ callerReference: reference });
    try {
      const r = await route53(ctx).send(
        new CreateHostedZoneCommand({
          Name: ctx.config.domain,
          CallerReference: reference,
          VPC: { VPCRegion: primary.region as VPCRegion, VPCId: primary.vpcId },
          HostedZoneConfig: {
            Comment: `drctl ${ctx.config.deployment}: ${ctx.config.host}.${ctx.config.domain} failover`,
            PrivateZone: true,
          },
        }),
      );
      return { zone: parseZone(r.HostedZone!, [r.VPC!]), changeId: r.ChangeInfo?.Id };
    } catch (e) {
      if (awsCode(e) === 'ConflictingDomainExists') throw conflictingZone(ctx, primary, e);
      if (awsCode(e) !== 'HostedZoneAlreadyExists' || attempt > 1) throw e;
      const made = (await zonesNamed(ctx, ctx.config.domain)).find((z) => z.callerReference === reference);
      if (made) return { zone: made };
      ctx.warn(`caller reference ${reference} was used by a zone that no longer exists; using a new one`);
      reference = newReference(ctx);
    }
  }
}

function conflictingZone(ctx: Ctx, vpc: VpcRef, cause: unknown): AwsStepError {
  return new AwsStepError(
    `VPC ${vpc.vpcId} (${vpc.region}) is already associated with another private hosted zone named ${ctx.config.domain}`,
    {
      resource: vpc.vpcId,
      awsCode: 'ConflictingDomainExists',
      cause,
      resolution: `Disassociate that zone from the VPC (or delete it), or choose another \`domain\`, then run the same command again.`,
    },
  );
}

/** Name the zone that holds the VPC, for the error (a read-only courtesy). */
async function zoneHolding(ctx: Ctx, vpc: VpcRef): Promise<string> {
  try {
    // No SDK paginator for ListHostedZonesByVPC either: it pages with NextToken.
    const byVpc = pages<ListHostedZonesByVPCCommandOutput, string>(
      (NextToken) =>
        route53(ctx).send(
          new ListHostedZonesByVPCCommand({
            VPCId: vpc.vpcId,
            VPCRegion: vpc.region as VPCRegion,
            NextToken,
          }),
        ),
      (r) => r.NextToken,
    );
    const z = await findInPages(
      byVpc,
      (p) => p.HostedZoneSummaries,
      (s) => s.Name === fqdn(ctx.config.domain),
    );
    return z ? ` (${z.HostedZoneId})` : '';
  } catch {
    return '';
  }
}

async function associate(ctx: Ctx, zone: Zone, vpc: VpcRef): Promise<void> {
  ctx.progress(`zone ${zone.id}: associating ${vpc.vpcId} (${vpc.region})`);
  try {
    const r = await route53(ctx).send(
      new AssociateVPCWithHostedZoneCommand({
        HostedZoneId: zone.id,
        VPC: { VPCRegion: vpc.region as VPCRegion, VPCId: vpc.vpcId },
      }),
    );
    await waitChangeInsync(
      ctx,
      r.ChangeInfo?.Id,
      `zone ${zone.id} association with ${vpc.vpcId}`,
      EXPECTED['r53.associate'],
    );
  } catch (e) {
    if (awsCode(e) !== 'ConflictingDomainExists') throw e;
    // Also the answer when the VPC is on this very zone already (an association we did not see).
    const now = await getZone(ctx, zone.id);
    if (now?.vpcs.some((v) => v.vpcId === vpc.vpcId)) return;
    const err = conflictingZone(ctx, vpc, e);
    err.message += await zoneHolding(ctx, vpc);
    throw err;
  }
}

const notOurs = (zone: Zone, ctx: Ctx) =>
  new AwsStepError(
    `hosted zone ${zone.id} recorded for ${ctx.config.domain} is not a private zone of that name`,
    {
      resource: zone.id,
      resolution: `The zone changed (or the \`domain\` did): run \`drctl down\` to remove the old one, then \`drctl up\`.`,
    },
  );

export const hostedZone: StepImpl<HostedZoneOutputs> = {
  outputs,

  async up(ctx) {
    const [primaryVpc, secondaryVpc] = await Promise.all([
      ctx.outputOf('vpc', ctx.region),
      ctx.outputOf('vpc', ctx.peerRegion),
    ]);
    const wanted: VpcRef[] = [
      { region: ctx.region, vpcId: primaryVpc.vpcId },
      { region: ctx.peerRegion, vpcId: secondaryVpc.vpcId },
    ];
    ctx.progress(`private hosted zone ${ctx.config.domain}`);
    if (ctx.config.hostedZoneId) return useZone(ctx, ctx.config.hostedZoneId, wanted);
    let zone = ctx.recorded.hostedZoneId ? await getZone(ctx, ctx.recorded.hostedZoneId) : undefined;
    if (zone && (zone.name !== fqdn(ctx.config.domain) || !zone.private)) throw notOurs(zone, ctx);
    let fresh = false;
    if (!zone) {
      const found = await ourZones(ctx);
      if (found.length > 1) {
        ctx.warn(
          `several private zones ${ctx.config.domain} belong to this deployment: ${found.map((z) => z.id).join(', ')}; using ${found[0]!.id}`,
        );
      }
      if (found[0]) zone = await getZone(ctx, found[0].id);
    }
    if (!zone) {
      const made = await createZone(ctx, wanted[0]!);
      ctx.record({
        hostedZoneId: made.zone.id,
        zoneName: ctx.config.domain,
        callerReference: made.zone.callerReference,
      });
      await waitChangeInsync(ctx, made.changeId, `zone ${made.zone.id}`, EXPECTED['r53.zone']);
      zone = made.zone.vpcs.length ? made.zone : ((await getZone(ctx, made.zone.id)) ?? made.zone);
      fresh = true;
    } else if (ctx.recorded.hostedZoneId !== zone.id) {
      ctx.record({
        hostedZoneId: zone.id,
        zoneName: ctx.config.domain,
        callerReference: zone.callerReference,
      });
    }
    // The VPC list is recorded last, so a complete one means the tags were set too.
    const finished =
      !fresh &&
      wanted.every((w) => ctx.recorded.vpcs?.some((v) => v.vpcId === w.vpcId && v.region === w.region));
    if (!finished) await ensureTags(ctx, zone.id, fresh);
    for (const vpc of wanted) {
      if (!zone.vpcs.some((v) => v.vpcId === vpc.vpcId && v.region === vpc.region))
        await associate(ctx, zone, vpc);
    }
    const out = {
      ownership: 'made' as const,
      hostedZoneId: zone.id,
      zoneName: ctx.config.domain,
      callerReference: zone.callerReference,
      vpcs: wanted,
    };
    if (!finished) ctx.record({ vpcs: wanted });
    return out;
  },

  async down(ctx) {
    if (ctx.recorded.ownership === 'used') return releaseZone(ctx);
    const zones: Zone[] = [];
    const recorded = ctx.recorded.hostedZoneId ? await getZone(ctx, ctx.recorded.hostedZoneId) : undefined;
    if (recorded) zones.push(recorded);
    else if (!ctx.recorded.hostedZoneId) {
      const ours = await ourZones(ctx);
      for (const z of ours) {
        const full = await getZone(ctx, z.id);
        if (full) zones.push(full);
      }
      for (const z of (await zonesNamed(ctx, ctx.config.domain)).filter(
        (x) => !ours.some((o) => o.id === x.id),
      )) {
        ctx.warn(`left private hosted zone ${z.id} (${z.name}): it has our domain but is not drctl's`);
      }
    }
    for (const zone of zones) await deleteZone(ctx, zone);
  },

  async check(ctx) {
    const id = ctx.recorded.hostedZoneId;
    if (!id) return [];
    const zone = await getZone(ctx, id);
    if (!zone) return [`hosted zone ${id}`];
    return (ctx.recorded.vpcs ?? [])
      .filter((w) => !zone.vpcs.some((v) => v.vpcId === w.vpcId))
      .map((w) => `association of ${id} with ${w.vpcId} (${w.region})`);
  },

  /** Our zones, and the records in them that drctl makes (the traffic-policy step's, found here). */
  async discover(ctx) {
    const found: Found[] = [];
    for (const z of await ourZones(ctx)) {
      const full = await getZone(ctx, z.id);
      const vpcs = (full?.vpcs ?? []).map((v) => `${v.vpcId} (${v.region})`).join(', ');
      found.push({
        what: `private hosted zone ${z.id} (${z.name}${vpcs ? `, with ${vpcs}` : ''})`,
        id: z.id,
      });
      for (const r of (await listRecords(ctx, z.id)).filter((x) => isOurs(ctx, x))) {
        found.push(
          r.TrafficPolicyInstanceId
            ? {
                what: `traffic policy instance ${r.TrafficPolicyInstanceId} (${r.Name})`,
                id: r.TrafficPolicyInstanceId,
              }
            : {
                what: `record ${r.Name} ${r.Type} (${r.SetIdentifier}) in ${z.id}`,
                id: r.SetIdentifier ?? r.Name!,
              },
        );
      }
    }
    return found;
  },
};

/** The user's zone (checked before up): the missing associations added and recorded, nothing else. */
async function useZone(ctx: Ctx, id: string, wanted: VpcRef[]): Promise<HostedZoneOutputs> {
  const zone = await getZone(ctx, id);
  if (!zone || zone.name !== fqdn(ctx.config.domain) || !zone.private) {
    throw new AwsStepError(
      `hosted zone ${id} (config hostedZoneId) is not a private zone ${ctx.config.domain}`,
      {
        resource: id,
        resolution: 'Give hostedZoneId your private zone of `domain`, or remove it to let drctl make one.',
      },
    );
  }
  const added = [...(ctx.recorded.addedVpcs ?? [])];
  const base = {
    ownership: 'used' as const,
    hostedZoneId: zone.id,
    zoneName: ctx.config.domain,
    callerReference: zone.callerReference,
  };
  for (const vpc of wanted) {
    if (zone.vpcs.some((v) => v.vpcId === vpc.vpcId && v.region === vpc.region)) continue;
    // Recorded before the call: after a crash, `down` removes it (or finds it was never made).
    if (!added.some((v) => v.vpcId === vpc.vpcId && v.region === vpc.region)) {
      added.push(vpc);
      ctx.record({ ...base, addedVpcs: [...added] });
    }
    await associate(ctx, zone, vpc);
  }
  return { ...base, vpcs: wanted, addedVpcs: added };
}

/** `down` of a used zone: drctl's records and the associations it added go; the zone stays. */
async function releaseZone(ctx: Ctx): Promise<void> {
  const id = ctx.recorded.hostedZoneId;
  const zone = id ? await getZone(ctx, id) : undefined;
  if (!zone) return;
  const ours = (await listRecords(ctx, zone.id)).filter((r) => isOurs(ctx, r) && !r.TrafficPolicyInstanceId);
  if (ours.length) {
    ctx.progress(`zone ${zone.id}: drctl's records`);
    await route53(ctx).send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone.id,
        ChangeBatch: { Changes: ours.map((r) => ({ Action: 'DELETE', ResourceRecordSet: r })) },
      }),
    );
  }
  for (const vpc of ctx.recorded.addedVpcs ?? []) {
    if (!zone.vpcs.some((v) => v.vpcId === vpc.vpcId && v.region === vpc.region)) continue;
    // LastVPCAssociation: the zone would be left with none; it stays, as the user's zone must.
    await disassociate(ctx, zone.id, vpc);
  }
}

/** Route 53 has no tag-on-create, so tags follow the create (and are checked on a resumed run). */
async function ensureTags(ctx: Ctx, zoneId: string, fresh: boolean): Promise<void> {
  if (!fresh) {
    const r = await route53(ctx).send(
      new ListTagsForResourcesCommand({ ResourceType: 'hostedzone', ResourceIds: [zoneId] }),
    );
    if (isOwnedBy(r.ResourceTagSets?.[0]?.Tags, ctx.config.deployment)) return;
  }
  await route53(ctx).send(
    new ChangeTagsForResourceCommand({ ResourceType: 'hostedzone', ResourceId: zoneId, AddTags: ctx.tags() }),
  );
}

async function listRecords(ctx: Ctx, zoneId: string): Promise<ResourceRecordSet[]> {
  return collect(recordSetPages(ctx, zoneId), (p) => p.ResourceRecordSets);
}

/**
 * Records drctl makes in the zone: at <host>.<domain>, the failover pair, the active-active
 * latency records (drctlSetIdentifiers) and a traffic policy instance. The traffic-policy step
 * removes them first; this catches what a lost state file left behind.
 */
function isOurs(ctx: Ctx, r: ResourceRecordSet): boolean {
  if (r.Name !== fqdn(`${ctx.config.host}.${ctx.config.domain}`)) return false;
  if (r.TrafficPolicyInstanceId) return true;
  return r.SetIdentifier !== undefined && drctlSetIdentifiers(ctx.config).includes(r.SetIdentifier);
}

async function deleteZone(ctx: Ctx, zone: Zone): Promise<void> {
  ctx.progress(`zone ${zone.id}: records`);
  const records = await listRecords(ctx, zone.id);
  const apex = (r: ResourceRecordSet) => r.Name === zone.name && (r.Type === 'SOA' || r.Type === 'NS');
  const ours = records.filter((r) => !apex(r) && isOurs(ctx, r));
  for (const id of new Set(ours.map((r) => r.TrafficPolicyInstanceId).filter((x): x is string => !!x))) {
    try {
      await route53(ctx).send(new DeleteTrafficPolicyInstanceCommand({ Id: id }));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  const plain = ours.filter((r) => !r.TrafficPolicyInstanceId);
  if (plain.length) {
    await route53(ctx).send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone.id,
        ChangeBatch: { Changes: plain.map((r) => ({ Action: 'DELETE', ResourceRecordSet: r })) },
      }),
    );
  }
  const others = records.filter((r) => !apex(r) && !isOurs(ctx, r));
  if (others.length) {
    throw new AwsStepError(
      `hosted zone ${zone.id} (${zone.name}) holds records drctl did not make: ${others
        .map((r) => `${r.Name} ${r.Type}${r.SetIdentifier ? ` (${r.SetIdentifier})` : ''}`)
        .join(', ')}`,
      {
        resource: zone.id,
        awsCode: 'HostedZoneNotEmpty',
        resolution:
          'Delete those records yourself if they can go (or move them), then run `drctl down` again.',
      },
    );
  }
  // DeleteHostedZone does not need it, but a zone never outlives its tie to the secondary VPC,
  // even if the delete below fails. The primary's association goes with the zone: Route 53 keeps
  // the last one (LastVPCAssociation).
  const keep = zone.vpcs.find((v) => v.region === ctx.region) ?? zone.vpcs[0];
  for (const vpc of zone.vpcs.filter((v) => v !== keep)) {
    await disassociate(ctx, zone.id, vpc);
  }
  ctx.progress(`zone ${zone.id}`);
  try {
    await route53(ctx).send(new DeleteHostedZoneCommand({ Id: zone.id }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  await ctx.poll({
    what: `zone ${zone.id} deleted`,
    timeoutMs: INSYNC_TIMEOUT_MS,
    minDelayMs: 2_000,
    maxDelayMs: 10_000,
    check: async () =>
      (await getZone(ctx, zone.id))
        ? { done: false, status: 'still listed' }
        : { done: true, value: undefined },
  });
}

/**
 * Take one VPC off a zone; already off (VPCAssociationNotFound, the zone gone) or the zone's last
 * association (LastVPCAssociation: Route 53 keeps one) is done too.
 */
async function disassociate(ctx: Ctx, zoneId: string, vpc: { vpcId: string; region: string }): Promise<void> {
  ctx.progress(`zone ${zoneId}: disassociating ${vpc.vpcId} (${vpc.region})`);
  try {
    await route53(ctx).send(
      new DisassociateVPCFromHostedZoneCommand({
        HostedZoneId: zoneId,
        VPC: { VPCRegion: vpc.region as VPCRegion, VPCId: vpc.vpcId },
      }),
    );
  } catch (e) {
    if (!isNotFound(e) && !['VPCAssociationNotFound', 'LastVPCAssociation'].includes(awsCode(e) ?? ''))
      throw e;
  }
}
