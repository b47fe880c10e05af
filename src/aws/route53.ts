import {
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandOutput,
  Route53Client,
  type RRType,
} from '@aws-sdk/client-route-53';
import type { StepContext } from '../steps/types.js';
import { ROUTE53_REGION } from './clients.js';
import { pages } from './pages.js';

/** Route 53 is global: its control plane answers in us-east-1. */
export const route53 = (ctx: Pick<StepContext<unknown>, 'aws'>) =>
  ctx.aws.client(Route53Client, ROUTE53_REGION);

export const INSYNC_TIMEOUT_MS = 10 * 60_000;

/**
 * Wait until a Route 53 change is INSYNC (on every authoritative server). We poll GetChange on the
 * injected clock rather than use the SDK's ResourceRecordSetsChanged waiter, which sleeps on the
 * wall clock (https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html).
 */
export async function waitChangeInsync(
  ctx: Pick<StepContext<unknown>, 'aws' | 'poll'>,
  changeId: string | undefined,
  what: string,
): Promise<void> {
  if (!changeId) return;
  await ctx.poll({
    what,
    timeoutMs: INSYNC_TIMEOUT_MS,
    minDelayMs: 5_000,
    maxDelayMs: 10_000,
    check: async () => {
      const r = await route53(ctx).send(new GetChangeCommand({ Id: changeId }));
      const status = r.ChangeInfo?.Status ?? 'PENDING';
      return status === 'INSYNC' ? { done: true, value: undefined } : { done: false, status };
    },
  });
}

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
  ctx: Pick<StepContext<unknown>, 'aws'>,
  zoneId: string,
  from: { name: string; type: RRType } | undefined = undefined,
): AsyncGenerator<ListResourceRecordSetsCommandOutput, void, undefined> {
  const first: RecordStart = from ? { StartRecordName: from.name, StartRecordType: from.type } : {};
  return pages<ListResourceRecordSetsCommandOutput, RecordStart>(
    (start) =>
      route53(ctx).send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, ...(start ?? first) })),
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
