import { activeActive, regionsOf } from '../config/config.js';
import { UsageError } from '../errors/errors.js';
import { OutputNotRecorded, outputField, recordedOutputs } from '../state/outputs.js';
import { GLOBAL } from '../state/schema.js';
import type { DrillContext, Vantage } from './types.js';

// What a drill acts on and watches: each region's health check, alarm, entry point (NLB or
// endpoint) and endpoint security group, and the probes it watches from, all read from the state.

/** One region as the drill sees it. */
export interface Side {
  role: 'primary' | 'secondary';
  region: string;
  /** Its health check (the secondary's only with canary.secondary or active-active). */
  healthCheckId?: string;
  alarmName?: string;
  /**
   * Where clients reach it: its NLB, or with domainMode private its execute-api endpoint (the
   * records' alias targets).
   */
  entryDnsName: string;
  /** regional mode: its NLB's targets must be healthy before clients are sent to it. */
  targetGroupArn?: string;
  /** domainMode private: its endpoint must be available before clients are sent to it. */
  vpcEndpointId?: string;
  endpointSecurityGroupId: string;
}

export interface Targets {
  primary: string;
  secondary: string;
  name: string;
  functionName: string;
  entry: 'NLB' | 'endpoint';
  /** The region the drill fails, and the one its clients move to. */
  failed: Side & { healthCheckId: string; alarmName: string };
  other: Side;
  /** The probes it watches from: the one whose clients move first. */
  vantages: Vantage[];
}

/** Every step recorded as ready: checked before any AWS call. */
export function requireComplete(ctx: Pick<DrillContext, 'config' | 'store' | 'steps'>): void {
  const regions = regionsOf(ctx.config);
  for (const info of ctx.steps) {
    // A step this config does not use (the NLB with domainMode private) records nothing.
    if (info.unusedWhen?.(ctx.config)) continue;
    for (const scope of info.scope === 'global' ? [GLOBAL] : regions) {
      const status = ctx.store.get(info.name, scope)?.status;
      if (status !== 'ready') {
        throw new UsageError(
          `failover-test needs a complete \`up\`: step ${info.name} in ${scope} is ${status ?? 'not done'}`,
          { field: 'failover-test', resolution: 'Run `drctl up` first (it resumes where it stopped).' },
        );
      }
    }
  }
}

const healthCheckKey = (role: 'primary' | 'secondary') =>
  role === 'primary' ? 'primaryHealthCheckId' : 'secondaryHealthCheckId';

function sideOfRegion(ctx: DrillContext, role: 'primary' | 'secondary'): Side {
  const state = ctx.store.state;
  const region = role === 'primary' ? ctx.config.primary.region : ctx.config.secondary.region;
  const hc = recordedOutputs(state, 'health-check', GLOBAL)?.[healthCheckKey(role)];
  const alarm = recordedOutputs(state, 'canary', region)?.alarmName;
  return {
    role,
    region,
    ...(hc ? { healthCheckId: hc } : {}),
    ...(alarm ? { alarmName: alarm } : {}),
    ...(ctx.config.domainMode === 'private'
      ? {
          entryDnsName: outputField(state, 'domain', region, 'endpointDnsName'),
          vpcEndpointId: outputField(state, 'endpoints', region, 'vpcEndpointId'),
        }
      : {
          entryDnsName: outputField(state, 'nlb', region, 'dnsName'),
          targetGroupArn: outputField(state, 'nlb', region, 'targetGroupArn'),
        }),
    endpointSecurityGroupId: outputField(state, 'vpc', region, 'endpointSecurityGroupId'),
  };
}

/** What the drill acts on and watches, from the state; a field it needs and lacks is a usage error. */
export function targetsOf(ctx: DrillContext, failRole: 'primary' | 'secondary'): Targets {
  try {
    return readTargets(ctx, failRole);
  } catch (e) {
    if (!(e instanceof OutputNotRecorded)) throw e;
    throw new UsageError(
      `failover-test needs ${e.field} of step ${e.step} in ${e.scope}, which is not recorded`,
      { field: 'failover-test', resolution: `Run \`drctl up\` (or \`drctl step ${e.step}\`) first.` },
    );
  }
}

function readTargets(ctx: DrillContext, failRole: 'primary' | 'secondary'): Targets {
  const state = ctx.store.state;
  const [primary, secondary] = regionsOf(ctx.config);
  const failed = sideOfRegion(ctx, failRole);
  const other = sideOfRegion(ctx, failRole === 'primary' ? 'secondary' : 'primary');
  // The failed side's health check and alarm are what the drill moves and watches.
  const healthCheckId = outputField(state, 'health-check', GLOBAL, healthCheckKey(failRole));
  const alarmName = outputField(state, 'canary', failed.region, 'alarmName');
  const functionName = outputField(state, 'probe', GLOBAL, 'functionName');
  const aa = activeActive(ctx.config);
  if (aa) {
    if (recordedOutputs(state, 'probe', GLOBAL)?.primaryProbe?.region !== primary) {
      throw new UsageError(
        `failover-test in active-active needs the probe in ${primary}, which is not recorded`,
        {
          field: 'failover-test',
          resolution: 'Run `drctl up` (it makes a probe in each VPC with topology active-active) first.',
        },
      );
    }
  }
  return {
    primary,
    secondary,
    name: `${ctx.config.host}.${ctx.config.domain}`,
    functionName,
    entry: ctx.config.domainMode === 'private' ? 'endpoint' : 'NLB',
    failed: { ...failed, healthCheckId, alarmName },
    other,
    // Active-passive: clients in the secondary VPC move (the only probe). Active-active: clients
    // in the failed region's VPC move (through the peering); those in the other region's stay.
    vantages: aa
      ? [
          { region: failed.region, moves: true },
          { region: other.region, moves: false },
        ]
      : [{ region: outputField(state, 'probe', GLOBAL, 'region'), moves: true }],
  };
}
