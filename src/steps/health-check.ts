import {
  ChangeTagsForResourceCommand,
  CreateHealthCheckCommand,
  DeleteHealthCheckCommand,
  GetHealthCheckCommand,
  type HealthCheck,
  type HealthCheckConfig,
  paginateListHealthChecks,
  ListTagsForResourceCommand,
  Route53Client,
  UpdateHealthCheckCommand,
} from '@aws-sdk/client-route-53';
import { z } from 'zod';
import { ROUTE53_REGION } from '../aws/clients.js';
import { awsCode, isNotFound, unlessNotFound } from '../aws/errors.js';
import { collect } from '../aws/pages.js';
import { isOwnedBy } from '../aws/tags.js';
import { canaryAlarmMetric } from '../config/canary-alarm.js';
import { regionsOf } from '../config/config.js';
import { AwsStepError } from '../errors/errors.js';
import type { Found, StepContext, StepImpl } from './types.js';

// Owns: the Route 53 CLOUDWATCH_METRIC health check on the primary canary's alarm (the PRIMARY
// failover record's check) and, when the secondary runs a canary (canary.secondary, or topology
// active-active, where it is the secondary latency record's check), one on the secondary's alarm.

const outputs = z.object({
  /** CLOUDWATCH_METRIC check on the primary's canary alarm: the PRIMARY record's health check. */
  primaryHealthCheckId: z.string().uuid(),
  /** The same on the secondary's alarm when config.canary.secondary (a fail-back signal). */
  secondaryHealthCheckId: z.string().uuid().optional(),
  /**
   * The CallerReference of each check, recorded before CreateHealthCheck: replaying it after a
   * crash returns the check that call made instead of a second one.
   */
  primaryCallerReference: z.string().optional(),
  secondaryCallerReference: z.string().optional(),
});
export type HealthCheckOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    'health-check': HealthCheckOutputs;
  }
}

type Ctx = StepContext<HealthCheckOutputs>;
type Which = 'primary' | 'secondary';
const WHICH: readonly Which[] = ['primary', 'secondary'];
const idKey = (w: Which) => `${w}HealthCheckId` as const;
const refKey = (w: Which) => `${w}CallerReference` as const;

interface Alarm {
  Name: string;
  Region: string;
}

const referencePrefix = (ctx: Ctx, which: Which) => `drctl-${ctx.config.deployment}-${which}-`;

/**
 * A CallerReference can never be used again once its check is deleted (HealthCheckAlreadyExists,
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHealthCheck.html), so each
 * check gets a fresh one: the deployment, the role, and the time of the first attempt.
 */
function newReference(ctx: Ctx, which: Which, not?: string): string {
  const ref = `${referencePrefix(ctx, which)}${Math.floor(ctx.clock.now()).toString(36)}`;
  return ref === not ? `${ref}-1` : ref;
}

function desiredConfig(alarm: Alarm): HealthCheckConfig {
  return {
    Type: 'CLOUDWATCH_METRIC',
    AlarmIdentifier: { Name: alarm.Name, Region: alarm.Region as never },
    // No data means the canary is dead or cut off: fail over rather than trust the last status
    // (the default, LastKnownStatus, keeps a silent primary healthy: docs/design/aws-behaviour.md §12.15).
    InsufficientDataHealthStatus: 'Unhealthy',
    Inverted: false,
  };
}

function route53(ctx: Ctx): Route53Client {
  return ctx.aws.client(Route53Client, ROUTE53_REGION);
}

async function getCheck(ctx: Ctx, id: string): Promise<HealthCheck | undefined> {
  return unlessNotFound(
    async () => (await route53(ctx).send(new GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck,
  );
}

async function listChecks(ctx: Ctx): Promise<HealthCheck[]> {
  return collect(paginateListHealthChecks({ client: route53(ctx) }, {}), (p) => p.HealthChecks);
}

const pointsAt = (hc: HealthCheck, alarm: Alarm) =>
  hc.HealthCheckConfig?.AlarmIdentifier?.Name === alarm.Name &&
  hc.HealthCheckConfig.AlarmIdentifier.Region === alarm.Region;

/**
 * Route 53 keeps its own copy of the alarm's settings (CloudWatchAlarmConfiguration), made when the
 * check is created or its AlarmIdentifier is updated; nothing documented refreshes it when the
 * alarm changes (https://docs.aws.amazon.com/Route53/latest/APIReference/API_CloudWatchAlarmConfiguration.html).
 * A copy that differs from what the canary step puts on the alarm (an older drctl's Failed >= 1)
 * is renewed with an UpdateHealthCheck naming the same alarm.
 */
function copyIsCurrent(ctx: Ctx, hc: HealthCheck): boolean {
  const have = hc.CloudWatchAlarmConfiguration;
  const want = canaryAlarmMetric(ctx.config);
  return (
    have?.Namespace === want.Namespace &&
    have.MetricName === want.MetricName &&
    have.Statistic === want.Statistic &&
    have.Period === want.Period &&
    have.EvaluationPeriods === want.EvaluationPeriods &&
    have.Threshold === want.Threshold &&
    have.ComparisonOperator === want.ComparisonOperator
  );
}

/** Bring an existing check to the wanted alarm and settings (e.g. one left Inverted by a drill). */
async function converge(ctx: Ctx, hc: HealthCheck, alarm: Alarm): Promise<void> {
  const cfg = hc.HealthCheckConfig;
  const right =
    pointsAt(hc, alarm) &&
    cfg?.InsufficientDataHealthStatus === 'Unhealthy' &&
    !cfg.Inverted &&
    copyIsCurrent(ctx, hc);
  if (right) return;
  if (cfg?.Inverted)
    ctx.warn(`health check ${hc.Id} was left inverted (an interrupted failover-test?); reverting`);
  await route53(ctx).send(
    new UpdateHealthCheckCommand({
      HealthCheckId: hc.Id,
      HealthCheckVersion: hc.HealthCheckVersion,
      AlarmIdentifier: desiredConfig(alarm).AlarmIdentifier,
      InsufficientDataHealthStatus: 'Unhealthy',
      Inverted: false,
    }),
  );
}

async function createOrReplay(ctx: Ctx, which: Which, alarm: Alarm): Promise<HealthCheck> {
  const r53 = route53(ctx);
  for (let attempt = 0; ; attempt++) {
    let ref = ctx.recorded[refKey(which)];
    if (!ref) {
      ref = newReference(ctx, which);
      ctx.record({ [refKey(which)]: ref });
    }
    try {
      const r = await r53.send(
        new CreateHealthCheckCommand({ CallerReference: ref, HealthCheckConfig: desiredConfig(alarm) }),
      );
      return r.HealthCheck!;
    } catch (e) {
      if (awsCode(e) !== 'HealthCheckAlreadyExists' || attempt > 0) throw e;
      // Same reference, other settings (the config changed since the crash): find and fix it.
      // Or the reference of a check deleted since: start over with a fresh one.
      const same = (await listChecks(ctx)).find((c) => c.CallerReference === ref);
      if (same) {
        await converge(ctx, same, alarm);
        return same;
      }
      ctx.record({ [refKey(which)]: newReference(ctx, which, ref) });
    }
  }
}

async function ensureCheck(ctx: Ctx, which: Which, alarm: Alarm): Promise<string> {
  ctx.progress(`health check (${which}) on alarm ${alarm.Name} in ${alarm.Region}`);
  const recordedId = ctx.recorded[idKey(which)];
  if (recordedId) {
    const hc = await getCheck(ctx, recordedId);
    if (hc) {
      await converge(ctx, hc, alarm);
      return recordedId;
    }
    ctx.warn(`health check ${recordedId} is gone; creating a new one`);
    ctx.record({ [idKey(which)]: undefined, [refKey(which)]: undefined });
  } else if (!ctx.recorded[refKey(which)]) {
    // No record at all (state lost): adopt one this deployment made for the same alarm.
    const found = (await listChecks(ctx)).find(
      (c) => c.CallerReference?.startsWith(referencePrefix(ctx, which)) && pointsAt(c, alarm),
    );
    if (found) ctx.record({ [refKey(which)]: found.CallerReference });
  }
  const hc = await createOrReplay(ctx, which, alarm);
  await route53(ctx).send(
    new ChangeTagsForResourceCommand({
      ResourceType: 'healthcheck',
      ResourceId: hc.Id,
      AddTags: [
        ...ctx.tags().filter((t) => t.Key !== 'Name'),
        { Key: 'Name', Value: `${ctx.config.deployment}-${which}-canary` },
      ],
    }),
  );
  // Recorded once tagged: a recorded id then means a finished check, which a re-run only reads.
  // A crash before this line loses nothing: the recorded CallerReference replays to this check.
  ctx.record({ [idKey(which)]: hc.Id });
  return hc.Id!;
}

/** Our checks for `which`: recorded, or made by this deployment (CallerReference prefix and tag). */
async function ownedChecks(ctx: Ctx, which: Which): Promise<string[]> {
  const id = ctx.recorded[idKey(which)];
  if (id) return [id];
  const ref = ctx.recorded[refKey(which)];
  const candidates = (await listChecks(ctx)).filter((c) =>
    ref ? c.CallerReference === ref : c.CallerReference?.startsWith(referencePrefix(ctx, which)),
  );
  const out: string[] = [];
  for (const c of candidates) {
    if (c.CallerReference === ref) {
      out.push(c.Id!);
      continue;
    }
    const tags = await route53(ctx).send(
      new ListTagsForResourceCommand({ ResourceType: 'healthcheck', ResourceId: c.Id }),
    );
    if (isOwnedBy(tags.ResourceTagSet?.Tags, ctx.config.deployment)) out.push(c.Id!);
  }
  return out;
}

async function deleteCheck(ctx: Ctx, id: string): Promise<void> {
  try {
    await route53(ctx).send(new DeleteHealthCheckCommand({ HealthCheckId: id }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  await ctx.poll({
    what: `health check ${id} deleted`,
    timeoutMs: 2 * 60_000,
    minDelayMs: 1_000,
    maxDelayMs: 3_000,
    check: async () =>
      (await getCheck(ctx, id)) ? { done: false, status: 'still listed' } : { done: true, value: undefined },
  });
}

async function alarmOf(ctx: Ctx, region: string): Promise<Alarm | undefined> {
  const c = await ctx.outputOf('canary', region);
  if (!c.enabled) return undefined;
  if (!c.alarmName) {
    throw new AwsStepError(`the canary step in ${region} recorded no alarm`, {
      resource: `canary alarm in ${region}`,
      resolution: `Run \`drctl step canary --region ${region}\`, then this step again.`,
    });
  }
  return { Name: c.alarmName, Region: region };
}

export const healthCheck: StepImpl<HealthCheckOutputs> = {
  outputs,

  async up(ctx) {
    const [primary, secondary] = regionsOf(ctx.config);
    const primaryAlarm = await alarmOf(ctx, primary);
    if (!primaryAlarm) {
      throw new AwsStepError(`the canary step did not run in the primary region ${primary}`, {
        resource: `canary in ${primary}`,
        resolution: `Run \`drctl step canary --region ${primary}\` first.`,
      });
    }
    const primaryHealthCheckId = await ensureCheck(ctx, 'primary', primaryAlarm);
    const secondaryAlarm = await alarmOf(ctx, secondary);
    let secondaryHealthCheckId: string | undefined;
    if (secondaryAlarm) {
      secondaryHealthCheckId = await ensureCheck(ctx, 'secondary', secondaryAlarm);
    } else if (ctx.recorded.secondaryHealthCheckId || ctx.recorded.secondaryCallerReference) {
      ctx.warn('the secondary runs no canary now: deleting the secondary health check');
      for (const id of await ownedChecks(ctx, 'secondary')) await deleteCheck(ctx, id);
      ctx.record({ secondaryHealthCheckId: undefined, secondaryCallerReference: undefined });
    }
    return {
      primaryHealthCheckId,
      primaryCallerReference: ctx.recorded.primaryCallerReference,
      ...(secondaryHealthCheckId
        ? { secondaryHealthCheckId, secondaryCallerReference: ctx.recorded.secondaryCallerReference }
        : {}),
    };
  },

  // traffic-policy's down runs first (it comes after this step in the graph), so no record
  // still routes on these checks when they go.
  async down(ctx) {
    for (const which of WHICH) {
      for (const id of await ownedChecks(ctx, which)) await deleteCheck(ctx, id);
    }
  },

  async check(ctx) {
    const missing: string[] = [];
    for (const which of WHICH) {
      const id = ctx.recorded[idKey(which)];
      if (id && !(await getCheck(ctx, id))) missing.push(`health check ${id} (${which})`);
    }
    return missing;
  },

  /** Checks with this deployment's CallerReference prefix and tag: what `down` finds without a record. */
  async discover(ctx) {
    const found: Found[] = [];
    const checks = await listChecks(ctx);
    for (const which of WHICH) {
      for (const c of checks.filter((x) => x.CallerReference?.startsWith(referencePrefix(ctx, which)))) {
        const tags = await route53(ctx).send(
          new ListTagsForResourceCommand({ ResourceType: 'healthcheck', ResourceId: c.Id }),
        );
        if (!isOwnedBy(tags.ResourceTagSet?.Tags, ctx.config.deployment)) continue;
        const alarm = c.HealthCheckConfig?.AlarmIdentifier;
        found.push({
          what: `health check ${c.Id} (${which}${alarm ? `, alarm ${alarm.Name} in ${alarm.Region}` : ''})`,
          id: c.Id!,
        });
      }
    }
    return found;
  },
};
