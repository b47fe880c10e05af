/**
 * Private hosted zones of a deployment, as the hosted-zone step makes them and the traffic-policy
 * step finds them when the state has no zone id (a lost state, `down --discover`).
 */
import {
  GetHostedZoneCommand,
  type HostedZone,
  ListHostedZonesByNameCommand,
  type ListHostedZonesByNameCommandOutput,
  ListTagsForResourcesCommand,
} from '@aws-sdk/client-route-53';
import type { Config } from '../config/config.js';
import type { AwsClients } from './clients.js';
import { isNotFound } from './errors.js';
import { leadingInPages, pages } from './pages.js';
import { route53 } from './route53.js';
import { isOwnedBy } from './tags.js';

type Ctx = { aws: AwsClients; config: Config };

export interface Zone {
  id: string;
  name: string;
  callerReference: string;
  private: boolean;
  vpcs: Array<{ region: string; vpcId: string }>;
}

/** Route 53 names are absolute: "octank.com." */
export const fqdn = (name: string) => `${name.toLowerCase().replace(/\.$/, '')}.`;
export const bare = (id: string) => id.replace(/^\/(hostedzone|change)\//, '');

/**
 * Route 53 refuses a CallerReference it has seen before, even one of a deleted zone
 * (HostedZoneAlreadyExists; Netflix/denominator#356), so each new zone gets a new one; the prefix
 * names the deployment.
 */
export const referencePrefix = (ctx: Pick<Ctx, 'config'>) => `drctl/${ctx.config.deployment}/`;

export function parseZone(z: HostedZone, vpcs: Array<{ VPCRegion?: string; VPCId?: string }> = []): Zone {
  return {
    id: bare(z.Id!),
    name: z.Name!,
    callerReference: z.CallerReference ?? '',
    private: z.Config?.PrivateZone === true,
    vpcs: vpcs.map((v) => ({ region: v.VPCRegion ?? '', vpcId: v.VPCId ?? '' })),
  };
}

export async function getZone(ctx: Pick<Ctx, 'aws'>, id: string): Promise<Zone | undefined> {
  try {
    const r = await route53(ctx).send(new GetHostedZoneCommand({ Id: id }));
    return parseZone(r.HostedZone!, r.VPCs);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Private zones named <domain> (ListHostedZonesByName starts at the name and runs on past it). */
export async function zonesNamed(ctx: Pick<Ctx, 'aws'>, domain: string): Promise<Zone[]> {
  const name = fqdn(domain);
  // The SDK has no paginator for ListHostedZonesByName: a truncated page names the next zone.
  const byName = pages<ListHostedZonesByNameCommandOutput, { DNSName?: string; HostedZoneId?: string }>(
    (next) => route53(ctx).send(new ListHostedZonesByNameCommand(next ?? { DNSName: name })),
    (r) => (r.IsTruncated ? { DNSName: r.NextDNSName, HostedZoneId: r.NextHostedZoneId } : undefined),
  );
  const named = await leadingInPages(
    byName,
    (p) => p.HostedZones,
    (z) => z.Name === name,
  );
  return named.filter((z) => z.Config?.PrivateZone).map((z) => parseZone(z));
}

/** Of the private zones named <domain>, those this deployment made (CallerReference) or tagged. */
export async function ourZones(ctx: Ctx): Promise<Zone[]> {
  const named = await zonesNamed(ctx, ctx.config.domain);
  const byReference = named.filter((z) => z.callerReference.startsWith(referencePrefix(ctx)));
  const rest = named.filter((z) => !byReference.includes(z));
  const tagged: Zone[] = [];
  for (let i = 0; i < rest.length; i += 10) {
    const batch = rest.slice(i, i + 10);
    const r = await route53(ctx).send(
      new ListTagsForResourcesCommand({ ResourceType: 'hostedzone', ResourceIds: batch.map((z) => z.id) }),
    );
    for (const set of r.ResourceTagSets ?? []) {
      if (isOwnedBy(set.Tags, ctx.config.deployment))
        tagged.push(batch.find((z) => z.id === set.ResourceId)!);
    }
  }
  return [...byReference, ...tagged];
}
