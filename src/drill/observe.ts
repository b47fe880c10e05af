import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetHealthCheckCommand,
  GetHealthCheckStatusCommand,
  type HealthCheck,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type { ProbeResult } from '../assets/probe-function.js';
import { ROUTE53_REGION } from '../aws/clients.js';
import { unlessNotFound } from '../aws/errors.js';
import { callProbe, invocationFailure, invocationRefused } from '../aws/probe-invoke.js';
import { healthPathOf } from '../config/api-source.js';
import { cidrsOverlap } from '../config/config.js';
import { AwsStepError } from '../errors/errors.js';
import type { Targets } from './targets.js';
import type { DrillContext, Vantage } from './types.js';

// What the drill reads to see where clients are: the probe in a VPC, the health check, the alarm.
// Read-only calls; the preconditions, the faults and the watch share them.

export const route53 = (ctx: DrillContext) => ctx.aws.client(Route53Client, ROUTE53_REGION);

const inCidr = (ip: string | undefined, cidr: string) => !!ip && cidrsOverlap(`${ip}/32`, cidr);

/** Which region an answer points at, by the VPC its address (internal NLB or endpoint) lies in. */
export function sideOf(ctx: DrillContext, p: ProbeResult): 'primary' | 'secondary' | undefined {
  const first = p.answer[0];
  if (inCidr(first, ctx.config.primary.vpcCidr)) return 'primary';
  if (inCidr(first, ctx.config.secondary.vpcCidr)) return 'secondary';
  return undefined;
}

export function describeProbe(p: ProbeResult): string {
  const answer = p.answer.length ? p.answer.join(',') : 'no answer';
  const outcome = p.error ? p.error : `${p.status ?? '?'}${p.region ? ` from ${p.region}` : ''}`;
  return `${p.via ?? p.host ?? ''} -> ${answer}${p.ttlSeconds !== undefined ? ` (ttl ${p.ttlSeconds}s)` : ''} -> ${outcome}`;
}

const REFUSAL = Symbol('drctl.probeRefused');

/** When `e` is Lambda refusing to invoke the probe: which function, where, and what to check. */
export function probeRefusal(e: unknown): ReturnType<typeof invocationRefused> {
  if (typeof e !== 'object' || e === null) return undefined;
  return (e as Record<symbol, ReturnType<typeof invocationRefused>>)[REFUSAL];
}

export async function invokeProbe(
  ctx: DrillContext,
  t: Targets,
  v: Vantage,
  via?: string,
): Promise<ProbeResult> {
  let call;
  try {
    call = await callProbe(ctx.aws, v.region, t.functionName, via, healthPathOf(ctx.config.api));
  } catch (e) {
    // Lambda refused the invocation: the error goes on as AWS said it (the drill puts back what it
    // changed, then says so), marked with the function and region and what to check.
    const why = invocationRefused(t.functionName, v.region, e);
    if (why && typeof e === 'object' && e !== null && !(REFUSAL in e))
      Object.defineProperty(e, REFUSAL, { value: why, enumerable: false });
    throw e;
  }
  const { result, functionError, text } = call;
  if (functionError) {
    // The function ran and failed: redeploying the same code (`drctl step probe`) would not help.
    const why = invocationFailure(t.functionName, v.region, call);
    throw new AwsStepError(why.summary, {
      resource: t.functionName,
      awsCode: functionError,
      resolution: why.resolution,
    });
  }
  if (!result) {
    throw new AwsStepError(
      `probe ${t.functionName} returned something else than a probe result: ${text.slice(0, 200)}`,
      {
        resource: t.functionName,
        resolution: 'Run `drctl step probe` to deploy the current probe, then the drill.',
      },
    );
  }
  return result;
}

export async function getHealthCheck(ctx: DrillContext, id: string): Promise<HealthCheck | undefined> {
  return unlessNotFound(
    async () => (await route53(ctx).send(new GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck,
  );
}

/**
 * Route 53's checkers agree for a CLOUDWATCH_METRIC check; a check counts healthy when more than
 * 18% of them say so (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html).
 */
export async function healthCheckStatus(
  ctx: DrillContext,
  id: string,
): Promise<{ healthy: boolean; status: string }> {
  const r = await route53(ctx).send(new GetHealthCheckStatusCommand({ HealthCheckId: id }));
  const reports = (r.HealthCheckObservations ?? []).map((o) => o.StatusReport?.Status ?? '');
  const healthy = reports.filter((s) => s.startsWith('Success')).length;
  return {
    healthy: reports.length > 0 && healthy / reports.length > 0.18,
    status: reports[0] ?? 'no observations',
  };
}

export async function alarmState(
  ctx: DrillContext,
  t: Targets,
): Promise<{ state: string; updatedAt?: number }> {
  const r = await ctx.aws
    .client(CloudWatchClient, t.failed.region)
    .send(new DescribeAlarmsCommand({ AlarmNames: [t.failed.alarmName] }));
  const a = r.MetricAlarms?.[0];
  return { state: a?.StateValue ?? 'missing', updatedAt: a?.StateUpdatedTimestamp?.getTime() };
}
