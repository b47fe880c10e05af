import {
  CreateTrafficPolicyCommand,
  CreateTrafficPolicyVersionCommand,
  DeleteTrafficPolicyCommand,
  GetTrafficPolicyCommand,
  ListTrafficPoliciesCommand,
  type ListTrafficPoliciesCommandOutput,
  type TrafficPolicySummary,
} from '@aws-sdk/client-route-53';
import { awsCode, isNotFound } from '../../aws/errors.js';
import { findInPages, pages } from '../../aws/pages.js';
import { route53 } from '../../aws/route53.js';
import type { Ctx } from './outputs.js';
import { type Target, type Targets, policyNameOf, recordNameOf } from './targets.js';

// routing traffic-policy: the traffic policy (its versioned document), named <deployment>-<host>.<domain>.

/**
 * The workshop's policy, aimed at the NLBs (endpoint type network-load-balancer, value its DNS
 * name: https://docs.aws.amazon.com/Route53/latest/APIReference/api-policies-traffic-policy-document-format.html).
 */
export function policyDocument(t: Targets): string {
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

export async function policyNamed(ctx: Ctx, name: string): Promise<TrafficPolicySummary | undefined> {
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
export async function ensurePolicy(ctx: Ctx, doc: string): Promise<{ id: string; version: number }> {
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

export async function deletePolicyVersion(ctx: Ctx, id: string, version: number): Promise<void> {
  try {
    await route53(ctx).send(new DeleteTrafficPolicyCommand({ Id: id, Version: version }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}
