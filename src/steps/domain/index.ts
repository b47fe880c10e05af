import { isOurs } from '../../aws/resources/ownership.js';
import type { Found, StepImpl } from '../types.js';
import {
  accessAssociationsOf,
  deleteAccessAssociations,
  ensureAccessAssociation,
} from './access-association.js';
import { ensureMapping } from './base-path-mapping.js';
import {
  type Domain,
  deleteDomainName,
  findOrCreatePrivate,
  findOrCreateRegional,
  getDomain,
  hostName,
  label,
  ourDomains,
  taggedPrivateDomains,
  waitAvailable,
} from './domain-name.js';
import { endpointAliasTarget } from './endpoint-target.js';
import { type Ctx, type DomainOutputs, outputs } from './outputs.js';

export type { DomainOutputs } from './outputs.js';

// Owns, per region: the API Gateway custom domain <host>.<domain> with that region's certificate,
// its base path mapping (root) to the API's `prod` stage, and in domainMode `private` the domain
// name access association to the region's execute-api endpoint (docs/design/aws-behaviour.md §3):
// - regional (default, the workshop's): a REGIONAL domain; clients reach it through the NLB, which
//   forwards TLS to the endpoint with Host = the custom domain;
// - private (Nov 2024): a PRIVATE domain with an execute-api policy for our endpoint only, and an
//   access association between the domain and that endpoint; clients reach it at the endpoint
//   itself (the failover records alias the endpoint's DNS name, recorded here), no NLB.
// docs/domain-modes.md compares the two.

/** Delete one domain (access associations first, then the name with its mappings) and wait until it is gone. */
async function deleteDomain(ctx: Ctx, d: Domain): Promise<void> {
  // The documented clean-up order: the associations, then the domain
  // (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains-tutorial.html#apigateway-private-custom-domains-cleanup).
  await deleteAccessAssociations(ctx, d);
  await deleteDomainName(ctx, d);
}

export const domain: StepImpl<DomainOutputs> = {
  outputs,

  async up(ctx) {
    const mode = ctx.config.domainMode;
    const name = hostName(ctx);
    const ca = await ctx.outputOf('ca');
    const { restApiId } = await ctx.outputOf('api');
    const fromPrivateCa = ca.certificateAuthorityArn !== null;
    ctx.progress(`custom domain ${name}`);

    // domainMode changed since the last `up`: the other kind of domain goes first.
    const previous = ctx.recorded.mode;
    if (previous && previous !== mode) {
      ctx.warn(
        `domainMode changed from ${previous} to ${mode}: deleting the ${previous} custom domain ${name}`,
      );
      for (const d of await ourDomains(ctx, previous)) await deleteDomain(ctx, d);
    }

    if (mode === 'regional') {
      const d = await waitAvailable(ctx, await findOrCreateRegional(ctx, ca.certificateArn, fromPrivateCa));
      await ensureMapping(ctx, d, restApiId);
      const out: DomainOutputs = { domainName: name, mode, basePath: '' };
      if (d.regionalDomainName) out.regionalDomainName = d.regionalDomainName;
      if (d.regionalHostedZoneId) out.regionalHostedZoneId = d.regionalHostedZoneId;
      return out;
    }

    const { vpcEndpointId } = await ctx.outputOf('endpoints');
    const d = await waitAvailable(
      ctx,
      await findOrCreatePrivate(ctx, ca.certificateArn, fromPrivateCa, vpcEndpointId),
    );
    await ensureMapping(ctx, d, restApiId);
    const accessAssociationArn = await ensureAccessAssociation(ctx, d, vpcEndpointId);
    if (ctx.recorded.accessAssociationArn !== accessAssociationArn) ctx.record({ accessAssociationArn });
    return {
      domainName: name,
      mode,
      domainNameId: d.domainNameId!,
      domainNameArn: d.domainNameArn!,
      accessAssociationArn,
      ...(ctx.recorded.accessAssociationCreatedAt
        ? { accessAssociationCreatedAt: ctx.recorded.accessAssociationCreatedAt }
        : {}),
      ...(await endpointAliasTarget(ctx, vpcEndpointId)),
      basePath: '',
    };
  },

  async down(ctx) {
    // Both kinds: domainMode may have changed in the config since `up`.
    for (const mode of ['private', 'regional'] as const) {
      for (const d of await ourDomains(ctx, mode)) await deleteDomain(ctx, d);
    }
  },

  async check(ctx) {
    const r = ctx.recorded;
    if (!r.domainName) return [];
    const d = await getDomain(ctx, r.domainName, r.mode === 'private' ? r.domainNameId : undefined);
    return d ? [] : [`custom domain ${r.domainName}`];
  },

  async discover(ctx) {
    const name = hostName(ctx);
    const found: Found[] = [];
    const regional = await getDomain(ctx, name);
    if (regional?.type === 'REGIONAL' && isOurs(ctx, regional.tags)) {
      found.push({ what: `custom domain ${name} (REGIONAL)`, id: name });
    }
    for (const d of await taggedPrivateDomains(ctx, name)) {
      found.push({ what: `custom domain ${label(d)} (PRIVATE)`, id: d.domainNameId ?? name });
      for (const a of d.domainNameArn ? await accessAssociationsOf(ctx, d.domainNameArn) : []) {
        found.push({
          what: `access association of ${label(d)} with ${a.accessAssociationSource}`,
          id: a.domainNameAccessAssociationArn!,
        });
      }
    }
    return found;
  },
};
