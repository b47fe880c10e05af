import {
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandOutput,
  Route53Client,
  type RRType,
} from '@aws-sdk/client-route-53';
import { type Config, regionsOf } from '../config/config.js';
import { type AwsClients, ROUTE53_REGION } from './clients.js';
import { pages } from './pages.js';

interface RecordStart {
  StartRecordName?: string;
  StartRecordType?: RRType;
  StartRecordIdentifier?: string;
}

/**
 * The pages of a zone's record sets in Route 53's order, from a name and type when given. The SDK
 * has no paginator for ListResourceRecordSets: a truncated page names where the next one starts
 * (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html).
 */
export function recordSetPages(
  ctx: { aws: Pick<AwsClients, 'client'> },
  zoneId: string,
  from: { name: string; type: RRType } | undefined = undefined,
): AsyncGenerator<ListResourceRecordSetsCommandOutput, void, undefined> {
  const first: RecordStart = from ? { StartRecordName: from.name, StartRecordType: from.type } : {};
  return pages<ListResourceRecordSetsCommandOutput, RecordStart>(
    (start) =>
      ctx.aws
        .client(Route53Client, ROUTE53_REGION)
        .send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, ...(start ?? first) })),
    (r) =>
      r.IsTruncated
        ? {
            StartRecordName: r.NextRecordName,
            StartRecordType: r.NextRecordType,
            ...(r.NextRecordIdentifier ? { StartRecordIdentifier: r.NextRecordIdentifier } : {}),
          }
        : undefined,
  );
}

/**
 * Every SetIdentifier drctl may have made at <host>.<domain>, whichever topology made it: the
 * failover pair <deployment>-primary|secondary and the active-active latency records, one per
 * region, <deployment>-<region>. `down` and discovery recognise them all, whatever the topology
 * is now (a state lost after a switch still leaves the other kind).
 */
export function drctlSetIdentifiers(config: Config): string[] {
  return [
    `${config.deployment}-primary`,
    `${config.deployment}-secondary`,
    ...regionsOf(config).map((r) => `${config.deployment}-${r}`),
  ];
}
