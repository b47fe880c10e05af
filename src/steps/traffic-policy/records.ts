import { ChangeResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { isNotFound } from '../../aws/errors.js';
import { leadingInPages } from '../../aws/pages.js';
import { recordSetPages } from '../../aws/route53-records.js';
import { route53, waitChangeInsync } from '../../aws/route53.js';
import { activeActive } from '../../config/config.js';
import { AwsStepError } from '../../errors/errors.js';
import type { Ctx } from './outputs.js';
import { type Target, type Targets, fqdn, recordNameOf, setIdentifiersOf } from './targets.js';

// The A record sets at <host>.<domain> in the private zone: failover (or latency) alias records
// to the targets, and what a traffic policy instance makes there.

/** The A record sets at <host>.<domain> (ListResourceRecordSets starts there and runs on past it). */
export async function recordsAtName(ctx: Ctx, zoneId: string): Promise<ResourceRecordSet[]> {
  const name = fqdn(recordNameOf(ctx));
  return leadingInPages(
    recordSetPages(ctx, zoneId, { name, type: 'A' }),
    (p) => p.ResourceRecordSets,
    (x) => fqdn(x.Name ?? '') === name && x.Type === 'A',
  );
}

/** The same, or none once the zone is gone (`down` after a partial teardown). */
export async function recordsIfZone(ctx: Ctx, zoneId: string): Promise<ResourceRecordSet[]> {
  try {
    return await recordsAtName(ctx, zoneId);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

const describeRecord = (r: ResourceRecordSet) =>
  `${r.Name} ${r.Type}${r.SetIdentifier ? ` (${r.SetIdentifier})` : ''}${
    r.TrafficPolicyInstanceId ? ` (traffic policy instance ${r.TrafficPolicyInstanceId})` : ''
  }`;

export function foreignRecords(ctx: Ctx, zoneId: string, records: ResourceRecordSet[]): AwsStepError {
  return new AwsStepError(
    `${recordNameOf(ctx)} in zone ${zoneId} already has records drctl did not make: ${records.map(describeRecord).join(', ')}`,
    {
      resource: zoneId,
      awsCode: 'InvalidChangeBatch',
      resolution:
        'drctl does not overwrite records it did not make: delete them (or choose another `host`), then run the same command again.',
    },
  );
}

/**
 * Alias records to the NLBs, not A records of their IPs: an alias follows the NLB wherever its
 * addresses go (and if the nlb step replaces it), costs nothing per query, and needs no lookup
 * of the NLB's network interfaces. The price: an alias takes the target's TTL (60 s for ELB), so
 * `ttl` in the config applies to the traffic-policy mode only
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-choosing-alias-non-alias.html).
 * EvaluateTargetHealth on both NLB aliases: an NLB with no healthy target (endpoint gone) counts
 * as down too, and if both are down Route 53 still answers with the primary. With domainMode
 * private the aliases name the execute-api endpoints instead (no NLB on the path).
 */
export function desiredRecords(ctx: Ctx, t: Targets): ResourceRecordSet[] {
  const [primaryId, secondaryId] = setIdentifiersOf(ctx);
  const aa = activeActive(ctx.config);
  const record = (id: string, role: 'PRIMARY' | 'SECONDARY', target: Target): ResourceRecordSet => ({
    Name: fqdn(recordNameOf(ctx)),
    Type: 'A',
    SetIdentifier: id,
    // Active-active: latency records, one per region, each answering while its own region's
    // health check is healthy; a client is sent to the nearest healthy region, and to the nearest
    // of all when none is (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-latency-phz.html).
    ...(aa ? { Region: target.region as ResourceRecordSet['Region'] } : { Failover: role }),
    ...(target.healthCheckId ? { HealthCheckId: target.healthCheckId } : {}),
    AliasTarget: {
      HostedZoneId: target.canonicalHostedZoneId,
      DNSName: target.dnsName,
      // Route 53 documents target health for load balancers (and other records), not for
      // interface endpoints: there the health check alone decides.
      // https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-complex-configs.html
      EvaluateTargetHealth: target.viaNlb,
    },
  });
  return [record(primaryId!, 'PRIMARY', t.primary), record(secondaryId!, 'SECONDARY', t.secondary)];
}

export function sameRecord(a: ResourceRecordSet, b: ResourceRecordSet): boolean {
  const norm = (r: ResourceRecordSet) =>
    JSON.stringify([
      r.Failover ?? null,
      r.Region ?? null,
      r.HealthCheckId ?? null,
      r.AliasTarget?.HostedZoneId,
      fqdn(r.AliasTarget?.DNSName ?? ''),
      r.AliasTarget?.EvaluateTargetHealth,
    ]);
  return norm(a) === norm(b);
}

export async function deleteRecords(
  ctx: Ctx,
  zoneId: string,
  records: ResourceRecordSet[],
): Promise<string | undefined> {
  if (!records.length) return undefined;
  // DELETE must repeat the current values exactly, so it sends the record sets as listed.
  const r = await route53(ctx).send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: records.map((x) => ({ Action: 'DELETE', ResourceRecordSet: x })) },
    }),
  );
  return r.ChangeInfo?.Id;
}

/** Put back the failover records deleted for an instance that then failed, exactly as they were. */
export async function restoreRecords(ctx: Ctx, zoneId: string, records: ResourceRecordSet[]): Promise<void> {
  ctx.warn(`the traffic policy instance failed: putting the failover records for ${recordNameOf(ctx)} back`);
  const r = await route53(ctx).send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: records.map((x) => ({ Action: 'UPSERT', ResourceRecordSet: x })) },
    }),
  );
  await waitChangeInsync(ctx, r.ChangeInfo?.Id, `records ${recordNameOf(ctx)} restored`);
}
