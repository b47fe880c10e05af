import { GetChangeCommand, Route53Client } from '@aws-sdk/client-route-53';
import { ROUTE53_REGION } from './clients.js';
import { EXPECTED, type Expectation } from './expected.js';
import type { AwsScope, PollingAwsScope } from './scope.js';

/** Route 53 is global: its control plane answers in us-east-1. */
export const route53 = (ctx: AwsScope) => ctx.aws.client(Route53Client, ROUTE53_REGION);

export const INSYNC_TIMEOUT_MS = 10 * 60_000;

/**
 * Wait until a Route 53 change is INSYNC (on every authoritative server). We poll GetChange on the
 * injected clock rather than use the SDK's ResourceRecordSetsChanged waiter, which sleeps on the
 * wall clock (https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html).
 */
export async function waitChangeInsync(
  ctx: PollingAwsScope,
  changeId: string | undefined,
  what: string,
  expect: Expectation = EXPECTED['r53.change'],
): Promise<void> {
  if (!changeId) return;
  await ctx.poll({
    what,
    timeoutMs: INSYNC_TIMEOUT_MS,
    expect,
    minDelayMs: 5_000,
    maxDelayMs: 10_000,
    check: async () => {
      const r = await route53(ctx).send(new GetChangeCommand({ Id: changeId }));
      const status = r.ChangeInfo?.Status ?? 'PENDING';
      return status === 'INSYNC' ? { done: true, value: undefined } : { done: false, status };
    },
  });
}

/**
 * The problems listed by a Route 53 InvalidChangeBatch, or undefined for any other error. The SDK
 * v3 gives it two shapes (measured with its own deserializer, test/steps/route53-refusals.test.ts):
 * for Route 53's standard error answer, `name` InvalidChangeBatch with the list bracketed in
 * `message` (and `messages` empty); for its older <InvalidChangeBatch> answer, `name` Unknown,
 * `message` UnknownError and the list under `Messages.Message`.
 */
export function changeBatchProblems(e: unknown): string[] | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const x = e as {
    name?: unknown;
    Code?: unknown;
    message?: unknown;
    messages?: unknown;
    Messages?: { Message?: unknown };
  };
  if (x.name === 'InvalidChangeBatch' || x.Code === 'InvalidChangeBatch') {
    if (Array.isArray(x.messages) && x.messages.length) return x.messages.map(String);
    const text = (typeof x.message === 'string' ? x.message : '').replace(/^\[|\]$/g, '');
    // Route 53 joins its messages with ", "; each starts with a capital ("Tried to ...", "RRSet ...").
    return text ? text.split(/, (?=[A-Z])/) : [];
  }
  const listed = x.name === 'Unknown' ? x.Messages?.Message : undefined;
  if (listed === undefined) return undefined;
  return (Array.isArray(listed) ? listed : [listed]).map(String);
}
