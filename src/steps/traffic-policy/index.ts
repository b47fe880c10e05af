import {
  ChangeResourceRecordSetsCommand,
  CreateTrafficPolicyCommand,
  CreateTrafficPolicyInstanceCommand,
  CreateTrafficPolicyVersionCommand,
  DeleteTrafficPolicyCommand,
  DeleteTrafficPolicyInstanceCommand,
  GetHostedZoneCommand,
  GetTrafficPolicyCommand,
  GetTrafficPolicyInstanceCommand,
  ListTrafficPoliciesCommand,
  type ListTrafficPoliciesCommandOutput,
  ListTrafficPolicyInstancesByHostedZoneCommand,
  type ListTrafficPolicyInstancesByHostedZoneCommandOutput,
  type ResourceRecordSet,
  type RRType,
  type TrafficPolicySummary,
  UpdateTrafficPolicyInstanceCommand,
  type TrafficPolicyInstance,
} from '@aws-sdk/client-route-53';
import { ourZones } from '../../aws/route53-zones.js';
import { z } from 'zod';
import { collect, findInPages, leadingInPages, pages } from '../../aws/pages.js';
import { drctlSetIdentifiers, recordSetPages } from '../../aws/route53-records.js';
import { INSYNC_TIMEOUT_MS, changeBatchProblems, route53, waitChangeInsync } from '../../aws/route53.js';
import { awsCode, isAwsError, isNotFound, isServerError, isThrottled } from '../../aws/errors.js';
import { AwsStepError, errorMessage } from '../../errors/errors.js';
import { activeActive, regionsOf } from '../../config/config.js';
import type { StepContext, StepImpl } from '../types.js';

// Owns: the failover routing for <host>.<domain> in the private zone.
// - `routing: failover-records` (default): two alias record sets, PRIMARY (with the primary's
//   health check) to the primary NLB and SECONDARY to the secondary NLB; with `topology:
//   active-active`, two latency alias record sets instead, one per region (SetIdentifier
//   <deployment>-<region>, Region, that region's health check). Switching topology replaces one
//   pair with the other in a single change batch.
// - `routing: traffic-policy` (the workshop's): a traffic policy with a failover rule on the two
//   NLBs and a traffic policy instance for the name. Traffic flow is documented for public zones
//   only (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/traffic-flow.html), so Route
//   53 may refuse the instance in drctl's private zone. An instance cannot share its name with
//   record sets, so the failover records must go first: before deleting them, the step tries an
//   instance at a name nobody uses (`_drctl-probe.<host>.<domain>`) and, if Route 53 refuses that,
//   stops with the failover records untouched. If the real instance still fails, the records are
//   put back.
// The workshop aimed its policy at EC2 instance IPs (docs/design/aws-behaviour.md §12.6); both modes aim at the NLBs.

const outputs = z.object({
  mode: z.enum(['failover-records', 'traffic-policy']),
  /** <host>.<domain> */
  recordName: z.string(),
  /** failover-records: the two record sets' SetIdentifiers. */
  setIdentifiers: z.array(z.string()).optional(),
  /** traffic-policy mode. */
  trafficPolicyId: z.string().optional(),
  trafficPolicyVersion: z.number().int().optional(),
  trafficPolicyInstanceId: z.string().optional(),
  /** The private zone the records are in (so `down` finds them without the hosted-zone record). */
  hostedZoneId: z.string().optional(),
});
export type TrafficPolicyOutputs = z.infer<typeof outputs>;

declare module '../types.js' {
  interface StepOutputs {
    'traffic-policy': TrafficPolicyOutputs;
  }
}

type Ctx = StepContext<TrafficPolicyOutputs>;

interface Target {
  region: string;
  dnsName: string;
  canonicalHostedZoneId: string;
  /** An NLB (regional mode), or an execute-api endpoint (domainMode private). */
  viaNlb: boolean;
  healthCheckId?: string;
}
interface Targets {
  hostedZoneId: string;
  primary: Target;
  secondary: Target;
}

// Record changes and policy instances reach INSYNC / Applied in 45-120 s (docs/design/timings.md §8).

const fqdn = (name: string) => `${name.toLowerCase().replace(/\.$/, '')}.`;
const recordNameOf = (ctx: Pick<Ctx, 'config'>) => `${ctx.config.host}.${ctx.config.domain}`;
const failoverIdentifiersOf = (ctx: Pick<Ctx, 'config'>) => [
  `${ctx.config.deployment}-primary`,
  `${ctx.config.deployment}-secondary`,
];
/** Latency records are one per region: named for the region they answer from. */
const latencyIdentifiersOf = (ctx: Pick<Ctx, 'config'>) =>
  regionsOf(ctx.config).map((r) => `${ctx.config.deployment}-${r}`);
/** The SetIdentifiers this config wants at the name (failover pair, or latency pair with active-active). */
const setIdentifiersOf = (ctx: Pick<Ctx, 'config'>) =>
  activeActive(ctx.config) ? latencyIdentifiersOf(ctx) : failoverIdentifiersOf(ctx);
/** Every SetIdentifier drctl may have made at the name, whichever topology made it. */
const ourIdentifiersOf = (ctx: Pick<Ctx, 'config'>) => drctlSetIdentifiers(ctx.config);
const policyNameOf = (ctx: Pick<Ctx, 'config'>) => `${ctx.config.deployment}-${recordNameOf(ctx)}`;
/** Where the step asks a private zone whether it takes policy instances: a name nothing answers. */
const probeNameOf = (ctx: Pick<Ctx, 'config'>) => `_drctl-probe.${recordNameOf(ctx)}`;

async function targets(ctx: Ctx): Promise<Targets> {
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
  return {
    hostedZoneId: zone.hostedZoneId,
    primary: { ...primary, healthCheckId: health.primaryHealthCheckId },
    secondary: { ...secondary, healthCheckId: health.secondaryHealthCheckId },
  };
}

/** The A record sets at <host>.<domain> (ListResourceRecordSets starts there and runs on past it). */
async function recordsAtName(ctx: Ctx, zoneId: string): Promise<ResourceRecordSet[]> {
  const name = fqdn(recordNameOf(ctx));
  return leadingInPages(
    recordSetPages(ctx, zoneId, { name, type: 'A' }),
    (p) => p.ResourceRecordSets,
    (x) => fqdn(x.Name ?? '') === name && x.Type === 'A',
  );
}

/** The same, or none once the zone is gone (`down` after a partial teardown). */
async function recordsIfZone(ctx: Ctx, zoneId: string): Promise<ResourceRecordSet[]> {
  try {
    return await recordsAtName(ctx, zoneId);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

const describeRecord = (r: ResourceRecordSet) =>
  `${r.Name} ${r.Type}${r.SetIdentifier ? ` (${r.SetIdentifier})` : ''}${
    r.TrafficPolicyInstanceId ? ` (traffic policy instance ${r.TrafficPolicyInstanceId})` : ''
  }`;

function foreignRecords(ctx: Ctx, zoneId: string, records: ResourceRecordSet[]): AwsStepError {
  return new AwsStepError(
    `${recordNameOf(ctx)} in zone ${zoneId} already has records drctl did not make: ${records.map(describeRecord).join(', ')}`,
    {
      resource: zoneId,
      awsCode: 'InvalidChangeBatch',
      resolution:
        'drctl does not overwrite records it did not make: delete them (or choose another `host`), then run the same command again.',
    },
  );
}

// ---- failover-records mode ------------------------------------------------------------------

/**
 * Alias records to the NLBs, not A records of their IPs: an alias follows the NLB wherever its
 * addresses go (and if the nlb step replaces it), costs nothing per query, and needs no lookup
 * of the NLB's network interfaces. The price: an alias takes the target's TTL (60 s for ELB), so
 * `ttl` in the config applies to the traffic-policy mode only
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-choosing-alias-non-alias.html).
 * EvaluateTargetHealth on both NLB aliases: an NLB with no healthy target (endpoint gone) counts
 * as down too, and if both are down Route 53 still answers with the primary. With domainMode
 * private the aliases name the execute-api endpoints instead (no NLB on the path).
 */
function desiredRecords(ctx: Ctx, t: Targets): ResourceRecordSet[] {
  const [primaryId, secondaryId] = setIdentifiersOf(ctx);
  const aa = activeActive(ctx.config);
  const record = (id: string, role: 'PRIMARY' | 'SECONDARY', target: Target): ResourceRecordSet => ({
    Name: fqdn(recordNameOf(ctx)),
    Type: 'A',
    SetIdentifier: id,
    // Active-active: latency records, one per region, each answering while its own region's
    // health check is healthy; a client is sent to the nearest healthy region, and to the nearest
    // of all when none is (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-latency-phz.html).
    ...(aa ? { Region: target.region as ResourceRecordSet['Region'] } : { Failover: role }),
    ...(target.healthCheckId ? { HealthCheckId: target.healthCheckId } : {}),
    AliasTarget: {
      HostedZoneId: target.canonicalHostedZoneId,
      DNSName: target.dnsName,
      // Route 53 documents target health for load balancers (and other records), not for
      // interface endpoints: there the health check alone decides.
      // https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-complex-configs.html
      EvaluateTargetHealth: target.viaNlb,
    },
  });
  return [record(primaryId!, 'PRIMARY', t.primary), record(secondaryId!, 'SECONDARY', t.secondary)];
}

function sameRecord(a: ResourceRecordSet, b: ResourceRecordSet): boolean {
  const norm = (r: ResourceRecordSet) =>
    JSON.stringify([
      r.Failover ?? null,
      r.Region ?? null,
      r.HealthCheckId ?? null,
      r.AliasTarget?.HostedZoneId,
      fqdn(r.AliasTarget?.DNSName ?? ''),
      r.AliasTarget?.EvaluateTargetHealth,
    ]);
  return norm(a) === norm(b);
}

async function deleteRecords(
  ctx: Ctx,
  zoneId: string,
  records: ResourceRecordSet[],
): Promise<string | undefined> {
  if (!records.length) return undefined;
  // DELETE must repeat the current values exactly, so it sends the record sets as listed.
  const r = await route53(ctx).send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: records.map((x) => ({ Action: 'DELETE', ResourceRecordSet: x })) },
    }),
  );
  return r.ChangeInfo?.Id;
}

async function upFailoverRecords(ctx: Ctx, t: Targets): Promise<TrafficPolicyOutputs> {
  const ids = setIdentifiersOf(ctx);
  if (activeActive(ctx.config) && !t.secondary.healthCheckId) {
    throw new AwsStepError(`the health-check step recorded no health check for ${t.secondary.region}`, {
      resource: `${recordNameOf(ctx)} (${t.secondary.region})`,
      resolution:
        'Active-active needs a health check per region: run `drctl step health-check`, then `drctl up` again.',
    });
  }
  const existing = await recordsAtName(ctx, t.hostedZoneId);
  const all = ourIdentifiersOf(ctx);
  const ours = existing.filter((r) => r.SetIdentifier && all.includes(r.SetIdentifier));
  const instanceRecords = existing.filter((r) => r.TrafficPolicyInstanceId);
  const ourInstance = instanceRecords.filter(
    (r) => r.TrafficPolicyInstanceId === ctx.recorded.trafficPolicyInstanceId,
  );
  const foreign = existing.filter((r) => !ours.includes(r) && !ourInstance.includes(r));
  if (foreign.length) throw foreignRecords(ctx, t.hostedZoneId, foreign);
  if (ctx.recorded.trafficPolicyInstanceId || ctx.recorded.trafficPolicyId) {
    ctx.warn(
      `switching ${recordNameOf(ctx)} from the traffic policy to failover records: it will not resolve for a minute`,
    );
    await removeTrafficPolicy(ctx, t.hostedZoneId);
  }
  const desired = desiredRecords(ctx, t);
  const base = {
    mode: 'failover-records' as const,
    recordName: recordNameOf(ctx),
    setIdentifiers: ids,
    hostedZoneId: t.hostedZoneId,
    trafficPolicyId: undefined,
    trafficPolicyVersion: undefined,
    trafficPolicyInstanceId: undefined,
  };
  const current = (d: ResourceRecordSet) => ours.find((r) => r.SetIdentifier === d.SetIdentifier);
  // Records of the other topology (the failover pair after a switch to active-active, or the
  // latency pair after a switch back): deleted in the same batch that makes the new ones.
  const stale = ours.filter((r) => !ids.includes(r.SetIdentifier!));
  const changed = desired.filter((d) => !current(d) || !sameRecord(current(d)!, d));
  if (!changed.length && !stale.length) {
    if (ctx.recorded.mode !== 'failover-records' || ctx.recorded.hostedZoneId !== t.hostedZoneId)
      ctx.record(base);
    return base;
  }
  const what = activeActive(ctx.config) ? 'latency' : 'PRIMARY/SECONDARY';
  if (stale.length)
    ctx.info(
      `${recordNameOf(ctx)}: replacing the ${activeActive(ctx.config) ? 'failover' : 'latency'} records with ${what} records in one change batch (the name answers throughout)`,
    );
  ctx.progress(`records ${recordNameOf(ctx)} ${what}`);
  // One batch: Route 53 applies it atomically, so the name never has a PRIMARY without its
  // SECONDARY, nor (switching topology) a moment with neither pair. The deletes come first, so no
  // change in the batch ever sees two routing policies at the name.
  // DELETE must repeat the current values exactly, so it sends the record sets as listed.
  const r = await route53(ctx)
    .send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: t.hostedZoneId,
        ChangeBatch: {
          Comment: `drctl ${ctx.config.deployment}: ${activeActive(ctx.config) ? 'latency routing' : 'failover'} for ${recordNameOf(ctx)}`,
          Changes: [
            ...stale.map((x) => ({ Action: 'DELETE' as const, ResourceRecordSet: x })),
            ...changed.map((d) => ({
              Action: current(d) ? ('UPSERT' as const) : ('CREATE' as const),
              ResourceRecordSet: d,
            })),
          ],
        },
      }),
    )
    .catch((e: unknown) => {
      const problems = changeBatchProblems(e);
      if (!problems) throw e;
      throw new AwsStepError(
        `Route 53 refused the ${what} records for ${recordNameOf(ctx)}: ${problems.join('; ') || errorMessage(e)}`,
        {
          resource: t.hostedZoneId,
          awsCode: 'InvalidChangeBatch',
          cause: e,
          resolution:
            'Nothing was changed (a change batch is all or nothing). An alias target that "was not found" or does not "lie within the target zone" is an NLB that is gone or moved: run `drctl up` again (the nlb step replaces it first).',
        },
      );
    });
  ctx.record(base);
  await waitChangeInsync(ctx, r.ChangeInfo?.Id, `records ${recordNameOf(ctx)}`);
  return base;
}

// ---- traffic-policy mode --------------------------------------------------------------------

/**
 * The workshop's policy, aimed at the NLBs (endpoint type network-load-balancer, value its DNS
 * name: https://docs.aws.amazon.com/Route53/latest/APIReference/api-policies-traffic-policy-document-format.html).
 */
function policyDocument(t: Targets): string {
  const side = (endpoint: string, target: Target) => ({
    EndpointReference: endpoint,
    EvaluateTargetHealth: true,
    ...(target.healthCheckId ? { HealthCheck: target.healthCheckId } : {}),
  });
  return JSON.stringify({
    AWSPolicyFormatVersion: '2015-10-01',
    RecordType: 'A',
    StartRule: 'failover',
    Endpoints: {
      primary: { Type: 'network-load-balancer', Value: t.primary.dnsName },
      secondary: { Type: 'network-load-balancer', Value: t.secondary.dnsName },
    },
    Rules: {
      failover: {
        RuleType: 'failover',
        Primary: side('primary', t.primary),
        Secondary: side('secondary', t.secondary),
      },
    },
  });
}

const sameDocument = (a: string | undefined, b: string) => {
  try {
    return JSON.stringify(JSON.parse(a ?? '')) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
};

async function getPolicyDocument(ctx: Ctx, id: string, version: number): Promise<string | undefined> {
  try {
    const r = await route53(ctx).send(new GetTrafficPolicyCommand({ Id: id, Version: version }));
    return r.TrafficPolicy?.Document ?? '';
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function policyNamed(ctx: Ctx, name: string): Promise<TrafficPolicySummary | undefined> {
  // No SDK paginator for ListTrafficPolicies: a truncated page names where the next one starts.
  const policies = pages<ListTrafficPoliciesCommandOutput, string>(
    (TrafficPolicyIdMarker) => route53(ctx).send(new ListTrafficPoliciesCommand({ TrafficPolicyIdMarker })),
    (r) => (r.IsTruncated ? r.TrafficPolicyIdMarker : undefined),
  );
  return findInPages(
    policies,
    (p) => p.TrafficPolicySummaries,
    (p) => p.Name === name,
  );
}

/** The policy version holding `doc`: recorded, else found by name, else created (name is unique). */
async function ensurePolicy(ctx: Ctx, doc: string): Promise<{ id: string; version: number }> {
  let id = ctx.recorded.trafficPolicyId;
  let version = ctx.recorded.trafficPolicyVersion;
  let current = id && version ? await getPolicyDocument(ctx, id, version) : undefined;
  if (current === undefined) {
    const found = await policyNamed(ctx, policyNameOf(ctx));
    id = found?.Id;
    version = found?.LatestVersion;
    current = id && version ? await getPolicyDocument(ctx, id, version) : undefined;
  }
  if (id && version && current !== undefined) {
    if (sameDocument(current, doc)) return { id, version };
    ctx.progress(`traffic policy ${id}: new version for the current NLBs and health checks`);
    const r = await route53(ctx).send(new CreateTrafficPolicyVersionCommand({ Id: id, Document: doc }));
    return { id, version: r.TrafficPolicy!.Version! };
  }
  ctx.progress(`traffic policy ${policyNameOf(ctx)}`);
  try {
    const r = await route53(ctx).send(
      new CreateTrafficPolicyCommand({
        Name: policyNameOf(ctx),
        Document: doc,
        Comment: `drctl ${ctx.config.deployment}: failover for ${recordNameOf(ctx)}`,
      }),
    );
    return { id: r.TrafficPolicy!.Id!, version: r.TrafficPolicy!.Version! };
  } catch (e) {
    if (awsCode(e) !== 'TrafficPolicyAlreadyExists') throw e;
    const found = await policyNamed(ctx, policyNameOf(ctx));
    if (!found?.Id || !found.LatestVersion) throw e;
    return { id: found.Id, version: found.LatestVersion };
  }
}

interface Instance {
  id: string;
  name: string;
  ttl: number;
  state: string;
  message: string;
  policyId: string;
  policyVersion: number;
}

function parseInstance(i: TrafficPolicyInstance): Instance {
  return {
    id: i.Id!,
    name: i.Name!,
    ttl: i.TTL ?? 0,
    state: i.State ?? '',
    message: i.Message ?? '',
    policyId: i.TrafficPolicyId!,
    policyVersion: i.TrafficPolicyVersion!,
  };
}

async function getInstance(ctx: Ctx, id: string): Promise<Instance | undefined> {
  try {
    const r = await route53(ctx).send(new GetTrafficPolicyInstanceCommand({ Id: id }));
    return parseInstance(r.TrafficPolicyInstance!);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Instances answering `name` (default <host>.<domain>) in the zone (Route 53 answers "none" with NoSuchTrafficPolicyInstance). */
async function instancesAtName(ctx: Ctx, zoneId: string, name = recordNameOf(ctx)): Promise<Instance[]> {
  type Marker = { TrafficPolicyInstanceNameMarker?: string; TrafficPolicyInstanceTypeMarker?: RRType };
  // No SDK paginator for this list either: a truncated page names the next instance.
  const instances = pages<ListTrafficPolicyInstancesByHostedZoneCommandOutput, Marker>(
    (marker) =>
      route53(ctx).send(
        new ListTrafficPolicyInstancesByHostedZoneCommand({ HostedZoneId: zoneId, ...marker }),
      ),
    (r) =>
      r.IsTruncated
        ? {
            TrafficPolicyInstanceNameMarker: r.TrafficPolicyInstanceNameMarker,
            TrafficPolicyInstanceTypeMarker: r.TrafficPolicyInstanceTypeMarker,
          }
        : undefined,
  );
  try {
    const all = await collect(instances, (p) => p.TrafficPolicyInstances);
    return all.filter((i) => fqdn(i.Name ?? '') === fqdn(name)).map(parseInstance);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

function refusedInPrivateZone(ctx: Ctx, zoneId: string, cause: unknown): AwsStepError {
  return new AwsStepError(
    `Route 53 refused a traffic policy instance in private hosted zone ${zoneId} (${awsCode(cause)}: ${errorMessage(cause)}), tried at ${probeNameOf(ctx)} before touching ${recordNameOf(ctx)}. Traffic flow is documented for public hosted zones only.`,
    {
      resource: zoneId,
      awsCode: awsCode(cause),
      cause,
      resolution: `The failover records for ${recordNameOf(ctx)} are untouched and still route. Set "routing": "failover-records" in the config (the default: failover alias records in the private zone do the same job), then run \`drctl up\` again.`,
    },
  );
}

/**
 * What a private zone that takes no policy instances answers. Route 53 documents traffic flow for
 * public zones only and no error for a private one, so its words are not documented: taken as the
 * generic InvalidInput naming the zone private. CreateTrafficPolicyInstance's other documented
 * errors (TooManyTrafficPolicyInstances, NoSuchTrafficPolicy, any other InvalidInput:
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateTrafficPolicyInstance.html)
 * are their own (instanceRefused).
 */
const isPrivateZoneRefusal = (e: unknown) =>
  awsCode(e) === 'InvalidInput' && /private/i.test(errorMessage(e));

/** A refusal of the request itself (4xx, not throttling, not a permission problem). */
const isRefusal = (e: unknown) =>
  isAwsError(e) &&
  !isThrottled(e) &&
  !isServerError(e) &&
  !/AccessDenied|Unauthorized/i.test(awsCode(e) ?? '') &&
  (e.$metadata?.httpStatusCode ?? 400) < 500;

/** What to do about a CreateTrafficPolicyInstance refusal other than the private zone's. */
function instanceResolution(e: unknown, policy: { id: string; version: number }): string {
  const fallback = 'or set "routing": "failover-records" in the config';
  switch (awsCode(e)) {
    case 'TooManyTrafficPolicyInstances':
      return (
        'The account is at its quota of traffic policy instances (aws route53 get-account-limit ' +
        '--type MAX_TRAFFIC_POLICY_INSTANCES_BY_OWNER). Delete instances nothing uses (aws route53 ' +
        `list-traffic-policy-instances) or ask AWS Support for more, ${fallback}; then run \`drctl up\` again.`
      );
    case 'NoSuchTrafficPolicy':
      return (
        `Traffic policy ${policy.id} version ${policy.version} was deleted outside drctl while this step ` +
        'ran: run `drctl up` again, it makes the policy anew.'
      );
    default:
      return `Fix what Route 53 names, ${fallback}; then run \`drctl up\` again.`;
  }
}

function instanceRefused(
  zoneId: string,
  name: string,
  policy: { id: string; version: number },
  e: unknown,
  before = '',
): AwsStepError {
  return new AwsStepError(
    `Route 53 refused the traffic policy instance for ${name} in zone ${zoneId} (${awsCode(e)}: ${errorMessage(e)})`,
    {
      resource: zoneId,
      awsCode: awsCode(e),
      cause: e,
      resolution: `${before}${instanceResolution(e, policy)}`,
    },
  );
}

async function deleteInstance(ctx: Ctx, id: string): Promise<void> {
  try {
    await route53(ctx).send(new DeleteTrafficPolicyInstanceCommand({ Id: id }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  await ctx.poll({
    what: `traffic policy instance ${id} deleted`,
    timeoutMs: INSYNC_TIMEOUT_MS,
    minDelayMs: 2_000,
    maxDelayMs: 10_000,
    check: async () =>
      (await getInstance(ctx, id))
        ? { done: false, status: 'still there' }
        : { done: true, value: undefined },
  });
}

/**
 * Does this private zone take traffic policy instances? Asked at the probe name, so the answer
 * costs nothing at <host>.<domain>; the probe instance is deleted at once (one left by a crash is
 * deleted by the next try or by `down`). A refusal deletes the policy (nothing can use it) and
 * stops the step.
 */
async function probePrivateZone(
  ctx: Ctx,
  zoneId: string,
  policy: { id: string; version: number },
): Promise<void> {
  for (const left of await instancesAtName(ctx, zoneId, probeNameOf(ctx))) await deleteInstance(ctx, left.id);
  ctx.progress(
    `private zone ${zoneId}: does it take a traffic policy instance? (trying ${probeNameOf(ctx)})`,
  );
  let probeId: string;
  try {
    const r = await route53(ctx).send(
      new CreateTrafficPolicyInstanceCommand({
        HostedZoneId: zoneId,
        Name: probeNameOf(ctx),
        TTL: ctx.config.ttl,
        TrafficPolicyId: policy.id,
        TrafficPolicyVersion: policy.version,
      }),
    );
    probeId = r.TrafficPolicyInstance!.Id!;
  } catch (e) {
    if (isPrivateZoneRefusal(e)) {
      await deletePolicyVersion(ctx, policy.id, policy.version);
      ctx.record({ trafficPolicyId: undefined, trafficPolicyVersion: undefined });
      throw refusedInPrivateZone(ctx, zoneId, e);
    }
    if (!isRefusal(e)) throw e;
    throw instanceRefused(
      zoneId,
      probeNameOf(ctx),
      policy,
      e,
      `Tried before touching ${recordNameOf(ctx)}: its failover records are untouched and still route. `,
    );
  }
  await deleteInstance(ctx, probeId);
}

async function isPrivateZone(ctx: Ctx, zoneId: string): Promise<boolean> {
  const r = await route53(ctx).send(new GetHostedZoneCommand({ Id: zoneId }));
  return r.HostedZone?.Config?.PrivateZone === true;
}

/** Put back the failover records deleted for an instance that then failed, exactly as they were. */
async function restoreRecords(ctx: Ctx, zoneId: string, records: ResourceRecordSet[]): Promise<void> {
  ctx.warn(`the traffic policy instance failed: putting the failover records for ${recordNameOf(ctx)} back`);
  const r = await route53(ctx).send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: records.map((x) => ({ Action: 'UPSERT', ResourceRecordSet: x })) },
    }),
  );
  await waitChangeInsync(ctx, r.ChangeInfo?.Id, `records ${recordNameOf(ctx)} restored`);
}

async function deletePolicyVersion(ctx: Ctx, id: string, version: number): Promise<void> {
  try {
    await route53(ctx).send(new DeleteTrafficPolicyCommand({ Id: id, Version: version }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

async function upTrafficPolicy(ctx: Ctx, t: Targets): Promise<TrafficPolicyOutputs> {
  const name = recordNameOf(ctx);
  const existing = await recordsAtName(ctx, t.hostedZoneId);
  const ids = ourIdentifiersOf(ctx);
  const ourRecords = existing.filter((r) => r.SetIdentifier && ids.includes(r.SetIdentifier));
  if (ourRecords.length) {
    ctx.warn(
      `switching ${name} from failover records to the traffic policy: it will not resolve for a minute`,
    );
  }
  const base = {
    mode: 'traffic-policy' as const,
    recordName: name,
    hostedZoneId: t.hostedZoneId,
    setIdentifiers: undefined,
  };
  const doc = policyDocument(t);
  const policy = await ensurePolicy(ctx, doc);
  const previousVersion =
    ctx.recorded.trafficPolicyId === policy.id ? ctx.recorded.trafficPolicyVersion : undefined;
  if (ctx.recorded.trafficPolicyId !== policy.id || ctx.recorded.trafficPolicyVersion !== policy.version) {
    ctx.record({ ...base, trafficPolicyId: policy.id, trafficPolicyVersion: policy.version });
  }
  let instance = ctx.recorded.trafficPolicyInstanceId
    ? await getInstance(ctx, ctx.recorded.trafficPolicyInstanceId)
    : undefined;
  if (!instance) {
    const found = await instancesAtName(ctx, t.hostedZoneId);
    const foreign = found.find((i) => i.policyId !== policy.id);
    if (foreign) {
      throw new AwsStepError(
        `${name} in zone ${t.hostedZoneId} is answered by traffic policy instance ${foreign.id} of another policy (${foreign.policyId})`,
        {
          resource: foreign.id,
          resolution: 'Delete that instance (drctl did not make it), then run the same command again.',
        },
      );
    }
    instance = found[0];
  }
  if (!instance) {
    const foreign = existing.filter((r) => !ourRecords.includes(r));
    if (foreign.length) throw foreignRecords(ctx, t.hostedZoneId, foreign);
    // Before anything at the name changes (traffic-policy.ts header).
    if (await isPrivateZone(ctx, t.hostedZoneId)) await probePrivateZone(ctx, t.hostedZoneId, policy);
    if (ourRecords.length) await deleteRecords(ctx, t.hostedZoneId, ourRecords);
    ctx.progress(`traffic policy instance ${name}`);
    let created;
    try {
      created = await route53(ctx).send(
        new CreateTrafficPolicyInstanceCommand({
          HostedZoneId: t.hostedZoneId,
          Name: name,
          TTL: ctx.config.ttl,
          TrafficPolicyId: policy.id,
          TrafficPolicyVersion: policy.version,
        }),
      );
    } catch (e) {
      // Whatever the cause (its code says it): the name must not stay without records.
      if (ourRecords.length && !(await instancesAtName(ctx, t.hostedZoneId)).length) {
        await restoreRecords(ctx, t.hostedZoneId, ourRecords);
      }
      throw instanceRefused(
        t.hostedZoneId,
        name,
        policy,
        e,
        ourRecords.length ? `The failover records for ${name} were put back. ` : '',
      );
    }
    const i = created.TrafficPolicyInstance!;
    ctx.record({ ...base, trafficPolicyInstanceId: i.Id! });
    instance = {
      id: i.Id!,
      name,
      ttl: ctx.config.ttl,
      state: i.State ?? '',
      message: '',
      policyId: policy.id,
      policyVersion: policy.version,
    };
  } else {
    if (ctx.recorded.trafficPolicyInstanceId !== instance.id)
      ctx.record({ ...base, trafficPolicyInstanceId: instance.id });
    if (instance.policyVersion !== policy.version || instance.ttl !== ctx.config.ttl) {
      ctx.progress(
        `traffic policy instance ${instance.id}: version ${policy.version}, TTL ${ctx.config.ttl}`,
      );
      await route53(ctx).send(
        new UpdateTrafficPolicyInstanceCommand({
          Id: instance.id,
          TTL: ctx.config.ttl,
          TrafficPolicyId: policy.id,
          TrafficPolicyVersion: policy.version,
        }),
      );
      instance.state = 'Updating';
    }
  }
  if (instance.state !== 'Applied') await waitApplied(ctx, instance.id);
  if (previousVersion !== undefined && previousVersion !== policy.version) {
    await deletePolicyVersion(ctx, policy.id, previousVersion);
  }
  return {
    ...base,
    trafficPolicyId: policy.id,
    trafficPolicyVersion: policy.version,
    trafficPolicyInstanceId: instance.id,
  };
}

async function waitApplied(ctx: Ctx, id: string): Promise<void> {
  await ctx.poll({
    what: `traffic policy instance ${id} Applied`,
    timeoutMs: INSYNC_TIMEOUT_MS,
    minDelayMs: 5_000,
    maxDelayMs: 10_000,
    check: async () => {
      const i = await getInstance(ctx, id);
      if (!i) throw new AwsStepError(`traffic policy instance ${id} disappeared`, { resource: id });
      if (i.state === 'Applied') return { done: true, value: undefined };
      if (i.state === 'Failed') {
        throw new AwsStepError(`traffic policy instance ${id} failed: ${i.message}`, {
          resource: id,
          awsCode: 'Failed',
          resolution: 'Fix the cause Route 53 names, then run the same command again.',
        });
      }
      return { done: false, status: i.state };
    },
  });
}

/** The instance (so its records go), then every version of the policy (the instance held one). */
async function removeTrafficPolicy(ctx: Ctx, zoneId: string | undefined): Promise<void> {
  const policyId = ctx.recorded.trafficPolicyId ?? (await policyNamed(ctx, policyNameOf(ctx)))?.Id;
  const instanceIds = new Set<string>();
  if (ctx.recorded.trafficPolicyInstanceId) instanceIds.add(ctx.recorded.trafficPolicyInstanceId);
  if (zoneId && policyId) {
    for (const i of await instancesAtName(ctx, zoneId)) if (i.policyId === policyId) instanceIds.add(i.id);
    // A probe left by a crash between its create and its delete.
    for (const i of await instancesAtName(ctx, zoneId, probeNameOf(ctx)))
      if (i.policyId === policyId) instanceIds.add(i.id);
  }
  for (const id of instanceIds) {
    ctx.progress(`traffic policy instance ${id}`);
    await deleteInstance(ctx, id);
  }
  ctx.record({ trafficPolicyInstanceId: undefined });
  if (policyId) {
    const summary = await policyNamed(ctx, policyNameOf(ctx));
    const latest =
      summary?.Id === policyId ? (summary.LatestVersion ?? 1) : (ctx.recorded.trafficPolicyVersion ?? 1);
    ctx.progress(`traffic policy ${policyId}`);
    for (let v = 1; v <= latest; v++) await deletePolicyVersion(ctx, policyId, v);
  }
  ctx.record({ trafficPolicyId: undefined, trafficPolicyVersion: undefined });
}

export const trafficPolicy: StepImpl<TrafficPolicyOutputs> = {
  outputs,

  async up(ctx) {
    const t = await targets(ctx);
    ctx.progress(`${ctx.config.routing} for ${recordNameOf(ctx)}`);
    return ctx.config.routing === 'traffic-policy' ? upTrafficPolicy(ctx, t) : upFailoverRecords(ctx, t);
  },

  async down(ctx) {
    // Without a record (a lost state, `down --discover`), the zone is found as the hosted-zone
    // step finds it: the policy cannot go while an instance in it still uses it.
    const zoneId =
      ctx.recorded.hostedZoneId ??
      ctx.peek('hosted-zone')?.hostedZoneId ??
      (await ourZones(ctx)).map((z) => z.id)[0];
    if (zoneId) {
      const ids = ourIdentifiersOf(ctx);
      const ours = (await recordsIfZone(ctx, zoneId)).filter(
        (r) => r.SetIdentifier && ids.includes(r.SetIdentifier),
      );
      ctx.progress(`records ${recordNameOf(ctx)}`);
      await deleteRecords(ctx, zoneId, ours);
    }
    await removeTrafficPolicy(ctx, zoneId);
  },

  async check(ctx) {
    const zoneId = ctx.recorded.hostedZoneId ?? ctx.peek('hosted-zone')?.hostedZoneId;
    if (ctx.recorded.mode === 'traffic-policy') {
      const id = ctx.recorded.trafficPolicyInstanceId;
      return id && !(await getInstance(ctx, id)) ? [`traffic policy instance ${id}`] : [];
    }
    if (!zoneId) return [];
    const present = await recordsIfZone(ctx, zoneId);
    return (ctx.recorded.setIdentifiers ?? [])
      .filter((id) => !present.some((r) => r.SetIdentifier === id))
      .map((id) => `record ${recordNameOf(ctx)} (${id})`);
  },

  /**
   * The traffic policy, by its name. The failover records and policy instances live in the
   * private zone and are listed by the hosted-zone step, which finds that zone without a record.
   */
  async discover(ctx) {
    const p = await policyNamed(ctx, policyNameOf(ctx));
    if (!p?.Id) return [];
    return [{ what: `traffic policy ${p.Id} (${p.Name}, ${p.LatestVersion ?? 1} version(s))`, id: p.Id }];
  },
};
