import { DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { isNotFound } from '../aws/errors.js';
import { pollUntil } from '../aws/wait.js';
import { activeActive } from '../config/config.js';
import { UsageError, errorMessage } from '../errors/errors.js';
import type { IngressRuleRecord } from '../state/drill-record.js';
import type { DrillMode } from './bound.js';
import { describeGroup, https443Rules } from './faults.js';
import {
  alarmState,
  describeProbe,
  getHealthCheck,
  healthCheckStatus,
  invokeProbe,
  sideOf,
} from './observe.js';
import type { Targets } from './targets.js';
import type { DrillContext } from './types.js';

// What must hold before a drill injects anything (read-only calls): the probes are deployed, the
// failed region is healthy and the other can take its clients, and (outage) its alarm has settled.
// A failed check refuses with what to fix; nothing has been changed by then.

/** How long an outage drill waits for the primary's alarm to be OK before it refuses. */
const ALARM_SETTLE_TIMEOUT_MS = 5 * 60_000;

// ---- preconditions -------------------------------------------------------------------------

/** `--region secondary` in active-passive: nothing to measure (docs/topology.md). */
export function secondaryInActivePassive(): UsageError {
  return new UsageError(
    'in active-passive the secondary serves no client while the primary is healthy: failing it moves no answer, so there is nothing to measure',
    {
      field: '--region',
      resolution:
        'Drill the primary (the default). `drctl verify` checks that the secondary serves through its own entry point; with "topology": "active-active" both regions serve and either can be drilled.',
    },
  );
}

function refuse(message: string, resolution: string): UsageError {
  return new UsageError(`refusing to inject: ${message}`, { field: 'failover-test', resolution });
}

export async function checkPreconditions(
  ctx: DrillContext,
  t: Targets,
  mode: DrillMode,
  dryRun: boolean,
): Promise<{ texts: string[]; rules: IngressRuleRecord[] }> {
  const texts: string[] = [];
  const note = (text: string) => {
    texts.push(text);
    ctx.emit({ type: 'precondition', text, t: ctx.clock.now() });
  };
  note('up is complete: every step is recorded as ready');
  const { failed, other } = t;

  for (const v of t.vantages) {
    const fn = await ctx.aws
      .client(LambdaClient, v.region)
      .send(new GetFunctionConfigurationCommand({ FunctionName: t.functionName }))
      .catch((e: unknown) => {
        if (isNotFound(e))
          throw refuse(
            `the probe ${t.functionName} in ${v.region} is gone`,
            'Run `drctl up` to make it again.',
          );
        throw e;
      });
    if (fn.State !== 'Active') {
      throw refuse(
        `the probe ${t.functionName} in ${v.region} is ${fn.State}`,
        'Wait a minute (or run `drctl up`), then try again.',
      );
    }
  }

  const hc = await getHealthCheck(ctx, failed.healthCheckId);
  if (!hc)
    throw refuse(`the health check ${failed.healthCheckId} is gone`, 'Run `drctl up` to make it again.');
  if (hc.HealthCheckConfig?.Inverted) {
    throw refuse(
      `the health check ${failed.healthCheckId} is already inverted (changed outside drctl?)`,
      'Run `drctl up`: it sets Inverted back to false.',
    );
  }
  const status = await healthCheckStatus(ctx, failed.healthCheckId);
  if (!status.healthy) {
    throw refuse(
      `the ${failed.role} is not healthy: health check ${failed.healthCheckId} reports "${status.status}"`,
      'There is nothing to fail over from. Fix it (or wait for a previous drill to heal), then try again.',
    );
  }
  note(`${failed.role} health check ${failed.healthCheckId} is healthy`);
  if (activeActive(ctx.config) && other.healthCheckId) {
    // With both unhealthy Route 53 answers as if both were healthy: the failed region would keep
    // its clients, and the drill would measure nothing.
    const o = await healthCheckStatus(ctx, other.healthCheckId);
    if (!o.healthy) {
      throw refuse(
        `the ${other.role} (${other.region}) is not healthy either: health check ${other.healthCheckId} reports "${o.status}"`,
        `Clients of ${failed.region} would have nowhere to go. Fix ${other.region} first, then try again.`,
      );
    }
    note(`${other.role} health check ${other.healthCheckId} is healthy`);
  }

  if (other.targetGroupArn) {
    const th = await ctx.aws
      .client(ElasticLoadBalancingV2Client, other.region)
      .send(new DescribeTargetHealthCommand({ TargetGroupArn: other.targetGroupArn }));
    const states = (th.TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State ?? 'unknown');
    const healthy = states.filter((s) => s === 'healthy').length;
    if (healthy === 0) {
      throw refuse(
        `the ${other.role} has no healthy target (${states.join(', ') || 'none registered'}): a failover would land nowhere`,
        `Check the ${other.role} NLB's targets in ${other.region} (\`drctl status --refresh\`), then try again.`,
      );
    }
    note(`${other.role} NLB targets healthy: ${healthy}/${states.length}`);
  }
  if (other.vpcEndpointId) {
    const r = await ctx.aws
      .client(EC2Client, other.region)
      .send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [other.vpcEndpointId] }))
      .catch((e: unknown) => {
        if (isNotFound(e)) return { VpcEndpoints: [] };
        throw e;
      });
    // The API reports endpoint states in camelCase (`available`), the SDK enum in PascalCase.
    const state = (r.VpcEndpoints?.[0]?.State ?? 'gone').toLowerCase();
    if (state !== 'available') {
      throw refuse(
        `the ${other.role} endpoint ${other.vpcEndpointId} is ${state}: a failover would land nowhere`,
        `Check the ${other.role} endpoint in ${other.region} (\`drctl status --refresh\`), then try again.`,
      );
    }
    note(`${other.role} endpoint ${other.vpcEndpointId} is available`);
  }

  let rules: IngressRuleRecord[] = [];
  if (mode === 'outage') {
    // Just after `up` the alarm has no data yet (INSUFFICIENT_DATA, which the health check counts
    // as Unhealthy): an outage injected then would show a failure that was there before the fault.
    // Wait for it to settle.
    const alarm = await pollUntil({
      clock: ctx.clock,
      signal: ctx.signal,
      what: `alarm ${failed.alarmName} OK`,
      timeoutMs: ALARM_SETTLE_TIMEOUT_MS,
      minDelayMs: 15_000,
      maxDelayMs: 15_000,
      onProgress: (text) => ctx.emit({ type: 'wait', text, t: ctx.clock.now() }),
      check: async () => {
        const a = await alarmState(ctx, t);
        return a.state === 'OK' ? { done: true, value: a } : { done: false, status: a.state };
      },
    }).catch((e: unknown) => {
      if (ctx.signal.aborted) throw e;
      throw refuse(
        `the ${failed.role} canary's alarm ${failed.alarmName} is not OK (${errorMessage(e)})`,
        `${failed.region} is failing, or its canary has no data yet (the first minutes after \`up\`): fix it or wait, then try again.`,
      );
    });
    note(`${failed.role} canary alarm ${failed.alarmName} is ${alarm.state}`);
    rules = https443Rules(await describeGroup(ctx, failed.region, failed.endpointSecurityGroupId));
    if (!rules.length) {
      throw refuse(
        `security group ${failed.endpointSecurityGroupId} has no 443 ingress to revoke (already cut?)`,
        'Run `drctl up` to put the VPC stack back as built, then try again.',
      );
    }
    note(
      `${failed.role} endpoint security group ${failed.endpointSecurityGroupId} admits 443 from ${rules.map((r) => r.cidrIp).join(', ')}`,
    );
  }

  if (dryRun) {
    for (const v of t.vantages) note(`not invoked in a dry run: the probe ${t.functionName} in ${v.region}`);
    return { texts, rules };
  }
  for (const v of t.vantages) {
    // Before the fault: clients that will move are served by the failed region (in
    // active-passive the primary; in active-active the region of their own VPC), the others by
    // the other region.
    const want = v.moves ? failed : other;
    const before = await invokeProbe(ctx, t, v);
    if (sideOf(ctx, before) !== want.role || before.status !== 200 || before.region !== want.region) {
      throw refuse(
        `from inside ${v.region}, ${describeProbe(before)}; expected a 200 from ${want.region} through its ${t.entry}`,
        `Fix the ${want.role} path first (DNS answer, ${t.entry}, certificate, custom domain), then try again.`,
      );
    }
    note(`from inside ${v.region}: ${describeProbe(before)}`);
  }
  const mover = t.vantages[0]!;
  const viaOther = await invokeProbe(ctx, t, mover, other.entryDnsName);
  if (viaOther.status !== 200 || viaOther.region !== other.region) {
    throw refuse(
      `the ${other.role} does not serve ${t.name}: ${describeProbe(viaOther)}`,
      `Fix the ${other.role} path in ${other.region} (${t.entry === 'NLB' ? 'NLB targets' : 'endpoint, its access association'}, certificate, custom domain), then try again.`,
    );
  }
  note(`the ${other.role} serves ${t.name}: ${describeProbe(viaOther)}`);
  return { texts, rules };
}
