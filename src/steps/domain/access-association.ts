import {
  APIGatewayClient,
  CreateDomainNameAccessAssociationCommand,
  DeleteDomainNameAccessAssociationCommand,
  type DomainNameAccessAssociation,
  GetDomainNameAccessAssociationsCommand,
} from '@aws-sdk/client-api-gateway';
import { awsCode, isNotFound } from '../../aws/errors.js';
import { isOurs } from '../../aws/resources/ownership.js';
import { tagMap } from '../../aws/tags.js';
import { type Domain, label } from './domain-name.js';
import type { Ctx } from './outputs.js';

// domainMode private: the domain name access association between the PRIVATE domain and the
// region's execute-api endpoint, without which the endpoint does not answer for the name.

export async function accessAssociationsOf(
  ctx: Ctx,
  domainNameArn: string,
): Promise<DomainNameAccessAssociation[]> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  const out: DomainNameAccessAssociation[] = [];
  let position: string | undefined;
  do {
    const page = await apigw.send(
      new GetDomainNameAccessAssociationsCommand({ position, limit: 500, resourceOwner: 'SELF' }),
    );
    out.push(...(page.items ?? []).filter((a) => a.domainNameArn === domainNameArn));
    position = page.position;
  } while (position);
  return out;
}

export async function ensureAccessAssociation(ctx: Ctx, d: Domain, vpcEndpointId: string): Promise<string> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  const existing = await accessAssociationsOf(ctx, d.domainNameArn!);
  let mine = existing.find((a) => a.accessAssociationSource === vpcEndpointId);
  // Associations to an endpoint that is no longer ours (replaced) only keep the domain from going.
  for (const stale of existing.filter((a) => a !== mine && isOurs(ctx, a.tags))) {
    await apigw.send(
      new DeleteDomainNameAccessAssociationCommand({
        domainNameAccessAssociationArn: stale.domainNameAccessAssociationArn,
      }),
    );
  }
  if (!mine) {
    ctx.progress(`custom domain ${label(d)}: associating endpoint ${vpcEndpointId}`);
    try {
      mine = await apigw.send(
        new CreateDomainNameAccessAssociationCommand({
          domainNameArn: d.domainNameArn,
          accessAssociationSourceType: 'VPCE',
          accessAssociationSource: vpcEndpointId,
          tags: tagMap(ctx.tags()),
        }),
      );
    } catch (e) {
      // Its ARN is made of the domain and the endpoint, so a racing create is a conflict.
      if (awsCode(e) !== 'ConflictException') throw e;
      mine = (await accessAssociationsOf(ctx, d.domainNameArn!)).find(
        (a) => a.accessAssociationSource === vpcEndpointId,
      );
      if (!mine) throw e;
    }
    ctx.record({ accessAssociationCreatedAt: new Date(ctx.clock.now()).toISOString() });
    ctx.info(
      `associated ${label(d)} with endpoint ${vpcEndpointId}; AWS says such an association takes about 15 minutes before it answers`,
    );
  }
  return mine.domainNameAccessAssociationArn!;
}

/** Delete every access association of a private domain (a REGIONAL one has none). */
export async function deleteAccessAssociations(ctx: Ctx, d: Domain): Promise<void> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  if (d.type === 'PRIVATE' && d.domainNameArn) {
    for (const a of await accessAssociationsOf(ctx, d.domainNameArn)) {
      ctx.progress(`custom domain ${label(d)}: deleting access association ${a.accessAssociationSource}`);
      try {
        await apigw.send(
          new DeleteDomainNameAccessAssociationCommand({
            domainNameAccessAssociationArn: a.domainNameAccessAssociationArn,
          }),
        );
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }
}
