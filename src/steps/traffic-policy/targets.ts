import { drctlSetIdentifiers } from '../../aws/route53-records.js';
import { activeActive, regionsOf } from '../../config/config.js';
import { AwsStepError } from '../../errors/errors.js';
import type { Ctx } from './outputs.js';

// What <host>.<domain> routes to (each region's NLB, or its execute-api endpoint with domainMode
// private, with that region's health check) and the names the step gives what it makes.

export interface Target {
  region: string;
  dnsName: string;
  canonicalHostedZoneId: string;
  /** An NLB (regional mode), or an execute-api endpoint (domainMode private). */
  viaNlb: boolean;
  healthCheckId?: string;
}
export interface Targets {
  hostedZoneId: string;
  primary: Target;
  secondary: Target;
}

// Record changes and policy instances reach INSYNC / Applied in 45-120 s (docs/design/timings.md §8).

export const fqdn = (name: string) => `${name.toLowerCase().replace(/\.$/, '')}.`;
export const recordNameOf = (ctx: Pick<Ctx, 'config'>) => `${ctx.config.host}.${ctx.config.domain}`;
const failoverIdentifiersOf = (ctx: Pick<Ctx, 'config'>) => [
  `${ctx.config.deployment}-primary`,
  `${ctx.config.deployment}-secondary`,
];
/** Latency records are one per region: named for the region they answer from. */
const latencyIdentifiersOf = (ctx: Pick<Ctx, 'config'>) =>
  regionsOf(ctx.config).map((r) => `${ctx.config.deployment}-${r}`);
/** The SetIdentifiers this config wants at the name (failover pair, or latency pair with active-active). */
export const setIdentifiersOf = (ctx: Pick<Ctx, 'config'>) =>
  activeActive(ctx.config) ? latencyIdentifiersOf(ctx) : failoverIdentifiersOf(ctx);
/** Every SetIdentifier drctl may have made at the name, whichever topology made it. */
export const ourIdentifiersOf = (ctx: Pick<Ctx, 'config'>) => drctlSetIdentifiers(ctx.config);
export const policyNameOf = (ctx: Pick<Ctx, 'config'>) => `${ctx.config.deployment}-${recordNameOf(ctx)}`;
/** Where the step asks a private zone whether it takes policy instances: a name nothing answers. */
export const probeNameOf = (ctx: Pick<Ctx, 'config'>) => `_drctl-probe.${recordNameOf(ctx)}`;

export async function targets(ctx: Ctx): Promise<Targets> {
  const [zone, health, primaryDomain, secondaryDomain] = await Promise.all([
    ctx.outputOf('hosted-zone'),
    ctx.outputOf('health-check'),
    // DNS sends clients to the name only once the custom domain answers it in both regions.
    ctx.outputOf('domain', ctx.region),
    ctx.outputOf('domain', ctx.peerRegion),
  ]);
  const entry = async (region: string, d: typeof primaryDomain) => {
    // domainMode private: a private custom domain answers at the execute-api endpoint itself, and
    // the endpoint's DNS name resolves to its private IPs from the other VPC too (over the peering).
    if (ctx.config.domainMode === 'private') {
      if (!d.endpointDnsName || !d.endpointHostedZoneId) {
        throw new AwsStepError(`the domain step recorded no endpoint DNS name in ${region}`, {
          resource: `${recordNameOf(ctx)} (${region})`,
          resolution: `Run \`drctl step domain --region ${region}\`, then \`drctl up\` again.`,
        });
      }
      return {
        region,
        dnsName: d.endpointDnsName,
        canonicalHostedZoneId: d.endpointHostedZoneId,
        viaNlb: false,
      };
    }
    // The NLBs' DNS names exist as soon as they are created: the records need not wait minutes
    // for their targets to turn healthy (EvaluateTargetHealth covers the meantime).
    const lb = await ctx.fieldsOf('nlb', region, ['dnsName', 'canonicalHostedZoneId']);
    return { region, dnsName: lb.dnsName, canonicalHostedZoneId: lb.canonicalHostedZoneId, viaNlb: true };
  };
  const [primary, secondary] = await Promise.all([
    entry(ctx.region, primaryDomain),
    entry(ctx.peerRegion, secondaryDomain),
  ]);
  // Each record uses its region's CALCULATED check (the canary and the traffic hold, both
  // children): a state from before the hold has none yet, and then the canary check as before.
  const record = health.recordHealthCheckIds;
  return {
    hostedZoneId: zone.hostedZoneId,
    primary: { ...primary, healthCheckId: record?.[primary.region] ?? health.primaryHealthCheckId },
    secondary: { ...secondary, healthCheckId: record?.[secondary.region] ?? health.secondaryHealthCheckId },
  };
}
