import {
  APIGatewayClient,
  CreateBasePathMappingCommand,
  CreateDomainNameAccessAssociationCommand,
  CreateDomainNameCommand,
  DeleteBasePathMappingCommand,
  DeleteDomainNameAccessAssociationCommand,
  DeleteDomainNameCommand,
  type DomainName,
  type DomainNameAccessAssociation,
  type BasePathMapping,
  GetDomainNameAccessAssociationsCommand,
  GetDomainNameCommand,
  GetDomainNamesCommand,
  paginateGetBasePathMappings,
  UpdateDomainNameCommand,
} from '@aws-sdk/client-api-gateway';
import { DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { awsCode, isNotFound, isThrottled, isTransient } from '../../aws/errors.js';
import { samePolicy } from '../../aws/resource-policy.js';

import { findInPages } from '../../aws/pages.js';
import { isOwnedBy, tagMap } from '../../aws/tags.js';
import { AwsStepError, errorMessage } from '../../errors/errors.js';
import type { Found, StepContext, StepImpl } from '../types.js';

// Owns, per region: the API Gateway custom domain <host>.<domain> with that region's certificate,
// its base path mapping (root) to the API's `prod` stage, and in domainMode `private` the domain
// name access association to the region's execute-api endpoint (docs/design/aws-behaviour.md §3):
// - regional (default, the workshop's): a REGIONAL domain; clients reach it through the NLB, which
//   forwards TLS to the endpoint with Host = the custom domain;
// - private (Nov 2024): a PRIVATE domain with an execute-api policy for our endpoint only, and an
//   access association between the domain and that endpoint; clients reach it at the endpoint
//   itself (the failover records alias the endpoint's DNS name, recorded here), no NLB.
// docs/domain-modes.md compares the two.

const outputs = z.object({
  domainName: z.string(),
  mode: z.enum(['regional', 'private']),
  /** regional mode: the d-xxxx.execute-api.<region>.amazonaws.com target and its hosted zone id. */
  regionalDomainName: z.string().optional(),
  regionalHostedZoneId: z.string().optional(),
  /** private mode: the domain name's id and ARN, and the access association to our endpoint. */
  domainNameId: z.string().optional(),
  domainNameArn: z.string().optional(),
  accessAssociationArn: z.string().optional(),
  /**
   * When drctl made that association (ISO): AWS takes about 15 minutes before it carries traffic,
   * so `up` waits for the name to answer and `verify` says "still provisioning" until then.
   */
  accessAssociationCreatedAt: z.string().optional(),
  /**
   * private mode: where clients reach the domain in this region, the endpoint's regional DNS name
   * and the Route 53 zone of that name (the failover records' alias target).
   */
  endpointDnsName: z.string().optional(),
  endpointHostedZoneId: z.string().optional(),
  /** The mapping's base path: '' is the root (AWS shows it as "(none)"), so URLs are https://<domainName>/. */
  basePath: z.string(),
});
export type DomainOutputs = z.infer<typeof outputs>;

declare module '../types.js' {
  interface StepOutputs {
    domain: DomainOutputs;
  }
}

type Ctx = StepContext<DomainOutputs>;
type Mode = DomainOutputs['mode'];

const ROOT_BASE_PATH = '(none)';
const STAGE = 'prod';
const AVAILABLE_TIMEOUT_MS = 10 * 60_000;
// Create/Update/DeleteDomainName: 1 request per 30 s per account and region, not raisable
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
const QUOTA_TIMEOUT_MS = 5 * 60_000;

/** A custom domain as drctl needs it, parsed at the edge. */
interface Domain {
  domainName: string;
  type: string;
  /** PRIVATE domains only. */
  domainNameId?: string;
  domainNameArn?: string;
  certificateArn?: string;
  regionalDomainName?: string;
  regionalHostedZoneId?: string;
  status: string;
  statusMessage?: string;
  policy?: string;
  tags: Record<string, string>;
}

const hostName = (ctx: Pick<Ctx, 'config'>) => `${ctx.config.host}.${ctx.config.domain}`;

function parseDomain(d: DomainName): Domain {
  const type = d.endpointConfiguration?.types?.[0] ?? 'EDGE';
  // REGIONAL domains carry regionalCertificateArn; edge-optimized and PRIVATE ones certificateArn.
  const certificateArn = type === 'REGIONAL' ? d.regionalCertificateArn : d.certificateArn;
  return {
    domainName: d.domainName!,
    type,
    ...(d.domainNameId ? { domainNameId: d.domainNameId } : {}),
    ...(d.domainNameArn ? { domainNameArn: d.domainNameArn } : {}),
    ...(certificateArn ? { certificateArn } : {}),
    ...(d.regionalDomainName ? { regionalDomainName: d.regionalDomainName } : {}),
    ...(d.regionalHostedZoneId ? { regionalHostedZoneId: d.regionalHostedZoneId } : {}),
    // Older responses omit the status of a domain that is simply there.
    status: d.domainNameStatus ?? 'AVAILABLE',
    ...(d.domainNameStatusMessage ? { statusMessage: d.domainNameStatusMessage } : {}),
    ...(d.policy ? { policy: d.policy } : {}),
    tags: d.tags ?? {},
  };
}

const ids = (d: Pick<Domain, 'domainName' | 'domainNameId'>) => ({
  domainName: d.domainName,
  ...(d.domainNameId ? { domainNameId: d.domainNameId } : {}),
});
const label = (d: Pick<Domain, 'domainName' | 'domainNameId'>) =>
  d.domainNameId ? `${d.domainName}+${d.domainNameId}` : d.domainName;

/**
 * Send a call that the 1-per-30-s domain quota may refuse (TooManyRequestsException: it did
 * nothing), waiting and retrying only on that. Not on 5xx: CreateDomainName has no token, and a
 * PRIVATE domain name can exist twice, so a create is only ever repeated after a look-up.
 */
async function underQuota<T>(ctx: Ctx, what: string, call: () => Promise<T>): Promise<T> {
  return ctx.poll({
    what,
    timeoutMs: QUOTA_TIMEOUT_MS,
    minDelayMs: 5_000,
    maxDelayMs: 15_000,
    check: async () => {
      try {
        return { done: true, value: await call() };
      } catch (e) {
        if (isThrottled(e))
          return { done: false, status: 'API Gateway quota (1 domain change per 30 s), waiting' };
        if (!isTransient(e)) throw e;
        // A 5xx may have done the work: end here, and let the next run look before it creates.
        throw new AwsStepError(`${what}: ${awsCode(e) ?? 'error'}: ${errorMessage(e)}`, {
          resource: what,
          awsCode: awsCode(e),
          cause: e,
        });
      }
    },
  });
}

async function getDomain(ctx: Ctx, domainName: string, domainNameId?: string): Promise<Domain | undefined> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  try {
    const d = await apigw.send(
      new GetDomainNameCommand({ domainName, ...(domainNameId ? { domainNameId } : {}) }),
    );
    return parseDomain(d);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** This account's PRIVATE domains named <host>.<domain> that carry this deployment's tags. */
async function taggedPrivateDomains(ctx: Ctx, domainName: string): Promise<Domain[]> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  const found: Domain[] = [];
  let position: string | undefined;
  do {
    const page = await apigw.send(new GetDomainNamesCommand({ position, limit: 500, resourceOwner: 'SELF' }));
    for (const item of page.items ?? []) {
      const d = parseDomain(item);
      if (d.domainName === domainName && d.type === 'PRIVATE' && isOwned(ctx, d)) found.push(d);
    }
    position = page.position;
  } while (position);
  return found;
}

const isOwned = (ctx: Ctx, d: Domain) => isOwnedBy(d.tags, ctx.config.deployment);

function notOurs(ctx: Ctx, d: Domain): AwsStepError {
  return new AwsStepError(
    `custom domain ${d.domainName} (${d.type}) in ${ctx.region} exists but was not made by drctl deployment "${ctx.config.deployment}"`,
    {
      resource: d.domainName,
      resolution:
        'drctl never touches what it did not make: delete that custom domain, or choose another `host` or `domain`.',
    },
  );
}

/** Where AWS refuses the certificate: say so, and how to give it another one. */
function certificateRefused(
  ctx: Ctx,
  e: unknown,
  type: string,
  certificateArn: string,
  fromPrivateCa: boolean,
) {
  const host = hostName(ctx);
  return new AwsStepError(
    `API Gateway refused certificate ${certificateArn} for the ${type} custom domain ${host} in ${ctx.region}: ${errorMessage(e)}`,
    {
      resource: host,
      awsCode: awsCode(e),
      cause: e,
      resolution: fromPrivateCa
        ? `API Gateway does not accept this AWS Private CA certificate for a ${type} domain here. Put an ACM certificate it accepts for ${host} ` +
          `(a public ACM certificate, or one you imported) in config \`certificateArn\` as {"${ctx.region}": "arn:aws:acm:${ctx.region}:…"}, then run \`drctl up\` again.`
        : `Check that certificate ${certificateArn} is ISSUED, in ${ctx.region}, and covers ${host}; or give another one in config \`certificateArn.${ctx.region}\`.`,
    },
  );
}

/**
 * CreateDomainName said the name exists, yet this account has no such domain: another AWS account
 * holds it. A REGIONAL custom domain name is unique per region across all accounts
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-custom-domains.html), and
 * the workshop's api.octank.com is the name everyone who ran it used.
 */
function domainTaken(ctx: Ctx, e: unknown): AwsStepError {
  const host = hostName(ctx);
  return new AwsStepError(
    `custom domain ${host} is taken in ${ctx.region}: a REGIONAL custom domain name is unique per region across all AWS accounts, and another account holds this one (${awsCode(e) ?? 'error'}: ${errorMessage(e)})`,
    {
      resource: host,
      awsCode: awsCode(e),
      cause: e,
      resolution:
        `Either use a domain of your own: set \`domain\` (and \`host\` if you like) in the config to a name no other account uses, ` +
        `e.g. "domain": "dr.example.com" for https://${ctx.config.host}.dr.example.com/ ` +
        '(run `drctl down` first: the certificate and hosted zone made so far are for the old name); ' +
        `or set "domainMode": "private": a private custom domain name need not be unique, and clients reach it through the execute-api endpoint. ` +
        'Then run `drctl up` again (docs/domain-modes.md compares the two).',
    },
  );
}

const isCertificateRefusal = (e: unknown) =>
  awsCode(e) === 'BadRequestException' && /certificate/i.test(errorMessage(e));
const isAlreadyThere = (e: unknown) =>
  awsCode(e) === 'BadRequestException' && /already exists/i.test(errorMessage(e));

/**
 * The execute-api policy of a private domain: invocations through our endpoint only (the
 * tutorial's policy: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains-tutorial.html).
 */
function privateDomainPolicy(vpcEndpointId: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: ['execute-api:/*'] },
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 'execute-api:Invoke',
        Resource: ['execute-api:/*'],
        Condition: { StringNotEquals: { 'aws:SourceVpce': vpcEndpointId } },
      },
    ],
  };
}

// ---- regional mode ----------------------------------------------------------------------------------

async function findOrCreateRegional(
  ctx: Ctx,
  certificateArn: string,
  fromPrivateCa: boolean,
): Promise<Domain> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  const name = hostName(ctx);
  let d = await getDomain(ctx, name);
  if (!d) {
    ctx.progress(`custom domain ${name}: creating`);
    try {
      d = parseDomain(
        await underQuota(ctx, `custom domain ${name}`, () =>
          apigw.send(
            new CreateDomainNameCommand({
              domainName: name,
              regionalCertificateArn: certificateArn,
              endpointConfiguration: { types: ['REGIONAL'] },
              securityPolicy: 'TLS_1_2',
              tags: tagMap(ctx.tags()),
            }),
          ),
        ),
      );
    } catch (e) {
      if (isCertificateRefusal(e))
        throw certificateRefused(ctx, e, 'REGIONAL', certificateArn, fromPrivateCa);
      // A racing `up` (another state file) made it between our look-up and our create; or
      // another account holds the name, and we cannot see it.
      if (!isAlreadyThere(e)) throw e;
      d = await getDomain(ctx, name);
      if (!d) throw domainTaken(ctx, e);
    }
  }
  if (d.type !== 'REGIONAL' || !isOwned(ctx, d)) throw notOurs(ctx, d);
  const patch: Partial<DomainOutputs> = {
    domainName: name,
    mode: 'regional',
    ...(d.regionalDomainName ? { regionalDomainName: d.regionalDomainName } : {}),
    ...(d.regionalHostedZoneId ? { regionalHostedZoneId: d.regionalHostedZoneId } : {}),
  };
  if (
    ctx.recorded.regionalDomainName !== patch.regionalDomainName ||
    ctx.recorded.mode !== 'regional' ||
    ctx.recorded.domainName !== name
  ) {
    ctx.record(patch);
  }
  if (d.certificateArn !== certificateArn) {
    // The ca step made a new certificate (e.g. a new CA): move the domain to it in place.
    ctx.progress(`custom domain ${name}: switching to certificate ${certificateArn}`);
    try {
      d = parseDomain(
        await underQuota(ctx, `custom domain ${name}`, () =>
          apigw.send(
            new UpdateDomainNameCommand({
              domainName: name,
              patchOperations: [{ op: 'replace', path: '/regionalCertificateArn', value: certificateArn }],
            }),
          ),
        ),
      );
    } catch (e) {
      if (isCertificateRefusal(e))
        throw certificateRefused(ctx, e, 'REGIONAL', certificateArn, fromPrivateCa);
      throw e;
    }
  }
  return d;
}

// ---- private mode -----------------------------------------------------------------------------------

async function findOrCreatePrivate(
  ctx: Ctx,
  certificateArn: string,
  fromPrivateCa: boolean,
  vpcEndpointId: string,
): Promise<Domain> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  const name = hostName(ctx);
  let d: Domain | undefined;
  if (ctx.recorded.mode === 'private' && ctx.recorded.domainNameId) {
    d = await getDomain(ctx, name, ctx.recorded.domainNameId);
  }
  if (!d) {
    // PRIVATE names are not unique and CreateDomainName has no token: after a crash only the
    // tags tell our domain from a second one we must not make.
    const tagged = await taggedPrivateDomains(ctx, name);
    if (tagged.length > 1) {
      ctx.warn(
        `${tagged.length} private custom domains ${name} of this deployment exist in ${ctx.region}: using ${label(tagged[0]!)}; \`drctl down\` deletes them all`,
      );
    }
    d = tagged[0];
  }
  if (!d) {
    ctx.progress(`custom domain ${name}: creating (PRIVATE)`);
    try {
      d = parseDomain(
        await underQuota(ctx, `custom domain ${name}`, () =>
          apigw.send(
            new CreateDomainNameCommand({
              domainName: name,
              certificateArn,
              endpointConfiguration: { types: ['PRIVATE'] },
              securityPolicy: 'TLS_1_2',
              // Without a policy API Gateway provisions a deny-all one (docs/design/aws-behaviour.md §3).
              policy: JSON.stringify(privateDomainPolicy(vpcEndpointId)),
              tags: tagMap(ctx.tags()),
            }),
          ),
        ),
      );
    } catch (e) {
      if (isCertificateRefusal(e)) throw certificateRefused(ctx, e, 'PRIVATE', certificateArn, fromPrivateCa);
      throw e;
    }
  }
  if (d.type !== 'PRIVATE' || !isOwned(ctx, d) || !d.domainNameId) throw notOurs(ctx, d);
  if (ctx.recorded.domainNameId !== d.domainNameId || ctx.recorded.mode !== 'private') {
    ctx.record({
      domainName: name,
      mode: 'private',
      domainNameId: d.domainNameId,
      domainNameArn: d.domainNameArn!,
    });
  }
  const patches: Array<{ op: 'replace'; path: string; value: string }> = [];
  if (d.certificateArn !== certificateArn)
    patches.push({ op: 'replace', path: '/certificateArn', value: certificateArn });
  // The endpoint may have been replaced since (or the policy edited): it must be ours, naming the current one.
  if (!samePolicy(d.policy, privateDomainPolicy(vpcEndpointId))) {
    patches.push({
      op: 'replace',
      path: '/policy',
      value: JSON.stringify(privateDomainPolicy(vpcEndpointId)),
    });
  }
  if (patches.length) {
    ctx.progress(`custom domain ${label(d)}: updating ${patches.map((p) => p.path.slice(1)).join(' and ')}`);
    const current = d;
    try {
      d = parseDomain(
        await underQuota(ctx, `custom domain ${name}`, () =>
          apigw.send(new UpdateDomainNameCommand({ ...ids(current), patchOperations: patches })),
        ),
      );
    } catch (e) {
      if (isCertificateRefusal(e)) throw certificateRefused(ctx, e, 'PRIVATE', certificateArn, fromPrivateCa);
      throw e;
    }
  }
  return d;
}

async function accessAssociationsOf(ctx: Ctx, domainNameArn: string): Promise<DomainNameAccessAssociation[]> {
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

async function ensureAccessAssociation(ctx: Ctx, d: Domain, vpcEndpointId: string): Promise<string> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  const existing = await accessAssociationsOf(ctx, d.domainNameArn!);
  let mine = existing.find((a) => a.accessAssociationSource === vpcEndpointId);
  // Associations to an endpoint that is no longer ours (replaced) only keep the domain from going.
  for (const stale of existing.filter((a) => a !== mine && isOwnedBy(a.tags, ctx.config.deployment))) {
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

/**
 * The endpoint's regional endpoint-specific DNS name and its hosted zone: what a Route 53 alias to
 * the endpoint names (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-vpc-interface-endpoint.html).
 * It resolves to the endpoint's private IPs from anywhere, so the other VPC reaches it over the peering.
 */
async function endpointAliasTarget(
  ctx: Ctx,
  vpcEndpointId: string,
): Promise<{ endpointDnsName: string; endpointHostedZoneId: string }> {
  const r = await ctx.aws
    .client(EC2Client, ctx.region)
    .send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [vpcEndpointId] }));
  // Regional first, then one per zone (vpce-…-<az>.…), then the private DNS names.
  const entries = r.VpcEndpoints?.[0]?.DnsEntries ?? [];
  const regional = entries.find(
    (e) => e.DnsName?.startsWith(`${vpcEndpointId}-`) && !/-[a-z]{2}-[a-z]+-\d[a-z]\./.test(e.DnsName),
  );
  if (!regional?.DnsName || !regional.HostedZoneId) {
    throw new AwsStepError(
      `endpoint ${vpcEndpointId} in ${ctx.region} has no regional DNS name to point ${hostName(ctx)} at`,
      {
        resource: vpcEndpointId,
        resolution:
          'Run `drctl step endpoints` (or `drctl up`) to check the endpoint, then `drctl up` again.',
      },
    );
  }
  return { endpointDnsName: regional.DnsName, endpointHostedZoneId: regional.HostedZoneId };
}

// ---- both modes -------------------------------------------------------------------------------------

async function waitAvailable(ctx: Ctx, d: Domain): Promise<Domain> {
  if (d.status === 'AVAILABLE') return d;
  return ctx.poll({
    what: `custom domain ${label(d)}`,
    timeoutMs: AVAILABLE_TIMEOUT_MS,
    minDelayMs: 2_000,
    maxDelayMs: 5_000,
    check: async () => {
      const now = await getDomain(ctx, d.domainName, d.domainNameId);
      if (!now) throw new AwsStepError(`custom domain ${label(d)} disappeared`, { resource: label(d) });
      if (now.status === 'AVAILABLE') return { done: true, value: now };
      if (now.status === 'FAILED') {
        throw new AwsStepError(
          `custom domain ${label(d)} FAILED: ${now.statusMessage ?? 'no reason given'}`,
          {
            resource: label(d),
            awsCode: 'FAILED',
            resolution: 'Run `drctl down` and then `drctl up` to make it again.',
          },
        );
      }
      return { done: false, status: now.status };
    },
  });
}

async function rootMapping(ctx: Ctx, d: Domain): Promise<BasePathMapping | undefined> {
  const client = ctx.aws.client(APIGatewayClient, ctx.region);
  return findInPages(
    paginateGetBasePathMappings({ client }, { ...ids(d), limit: 500 }),
    (p) => p.items,
    (m) => m.basePath === ROOT_BASE_PATH,
  );
}

/** The root mapping to <api>/prod; a root mapping to anything else (an API since replaced) is replaced. */
async function ensureMapping(ctx: Ctx, d: Domain, restApiId: string): Promise<void> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  const root = await rootMapping(ctx, d);
  if (root?.restApiId === restApiId && root.stage === STAGE) return;
  if (root) {
    ctx.progress(`custom domain ${label(d)}: re-pointing its mapping from ${root.restApiId} to ${restApiId}`);
    await apigw.send(new DeleteBasePathMappingCommand({ ...ids(d), basePath: ROOT_BASE_PATH }));
  }
  ctx.progress(`custom domain ${label(d)}: mapping / to ${restApiId}/${STAGE}`);
  try {
    await apigw.send(new CreateBasePathMappingCommand({ ...ids(d), restApiId, stage: STAGE }));
  } catch (e) {
    if (awsCode(e) !== 'ConflictException') throw e;
    // A racing `up` mapped it first: fine if it is the same mapping.
    const now = await rootMapping(ctx, d);
    if (now?.restApiId !== restApiId || now.stage !== STAGE) throw e;
  }
}

/** Delete one domain (its mappings go with it; access associations first) and wait until it is gone. */
async function deleteDomain(ctx: Ctx, d: Domain): Promise<void> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  if (d.type === 'PRIVATE' && d.domainNameArn) {
    // The documented clean-up order: the associations, then the domain
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains-tutorial.html#apigateway-private-custom-domains-cleanup).
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
  ctx.progress(`custom domain ${label(d)}: deleting`);
  try {
    // DeleteDomainName also removes the domain's base path mappings.
    await underQuota(ctx, `custom domain ${label(d)}`, () => apigw.send(new DeleteDomainNameCommand(ids(d))));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  await ctx.poll({
    what: `custom domain ${label(d)}`,
    timeoutMs: AVAILABLE_TIMEOUT_MS,
    minDelayMs: 2_000,
    maxDelayMs: 5_000,
    check: async () =>
      (await getDomain(ctx, d.domainName, d.domainNameId))
        ? { done: false, status: 'deleting' }
        : { done: true, value: undefined },
  });
}

/** Our domains of one mode: the recorded one and any carrying our tags. */
async function ourDomains(ctx: Ctx, mode: Mode): Promise<Domain[]> {
  const name = ctx.recorded.domainName ?? hostName(ctx);
  if (mode === 'regional') {
    const d = await getDomain(ctx, name);
    if (!d || d.type !== 'REGIONAL') return [];
    const recorded =
      ctx.recorded.mode === 'regional' && d.regionalDomainName === ctx.recorded.regionalDomainName;
    if (isOwned(ctx, d) || recorded) return [d];
    ctx.warn(`left custom domain ${name}: it is not drctl's`);
    return [];
  }
  const found = new Map((await taggedPrivateDomains(ctx, name)).map((d) => [d.domainNameId, d]));
  const id = ctx.recorded.domainNameId;
  if (id && !found.has(id)) {
    const d = await getDomain(ctx, name, id);
    if (d) found.set(id, d);
  }
  return [...found.values()];
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
    if (regional?.type === 'REGIONAL' && isOwned(ctx, regional)) {
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
