import { GetChangeCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { StepContext } from '../steps/types.js';
import { ROUTE53_REGION } from './clients.js';

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
