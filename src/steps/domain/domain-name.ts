import {
  APIGatewayClient,
  CreateDomainNameCommand,
  DeleteDomainNameCommand,
  type DomainName,
  GetDomainNameCommand,
  GetDomainNamesCommand,
  UpdateDomainNameCommand,
} from '@aws-sdk/client-api-gateway';
import { awsCode, isNotFound, isThrottled, isTransient } from '../../aws/errors.js';
import { samePolicy } from '../../aws/resource-policy.js';
import { isOurs, isOursOrRecorded, notOurs } from '../../aws/resources/ownership.js';
import { tagMap } from '../../aws/tags.js';
import { AwsStepError, errorMessage } from '../../errors/errors.js';
import type { Ctx, DomainOutputs, Mode } from './outputs.js';
import { privateDomainPolicy } from './policy.js';

// The API Gateway custom domain name <host>.<domain>: REGIONAL, or PRIVATE (domainMode private;
// PRIVATE names are not unique, so it is told apart by its domainNameId and our tags).

const AVAILABLE_TIMEOUT_MS = 10 * 60_000;
// Create/Update/DeleteDomainName: 1 request per 30 s per account and region, not raisable
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
const QUOTA_TIMEOUT_MS = 5 * 60_000;

/** A custom domain as drctl needs it, parsed at the edge. */
export interface Domain {
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

export const hostName = (ctx: Pick<Ctx, 'config'>) => `${ctx.config.host}.${ctx.config.domain}`;

export function parseDomain(d: DomainName): Domain {
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

export const ids = (d: Pick<Domain, 'domainName' | 'domainNameId'>) => ({
  domainName: d.domainName,
  ...(d.domainNameId ? { domainNameId: d.domainNameId } : {}),
});
export const label = (d: Pick<Domain, 'domainName' | 'domainNameId'>) =>
  d.domainNameId ? `${d.domainName}+${d.domainNameId}` : d.domainName;

/**
 * Send a call that the 1-per-30-s domain quota may refuse (TooManyRequestsException: it did
 * nothing), waiting and retrying only on that. Not on 5xx: CreateDomainName has no token, and a
 * PRIVATE domain name can exist twice, so a create is only ever repeated after a look-up.
 */
export async function underQuota<T>(ctx: Ctx, what: string, call: () => Promise<T>): Promise<T> {
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

export async function getDomain(
  ctx: Ctx,
  domainName: string,
  domainNameId?: string,
): Promise<Domain | undefined> {
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
export async function taggedPrivateDomains(ctx: Ctx, domainName: string): Promise<Domain[]> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
  const found: Domain[] = [];
  let position: string | undefined;
  do {
    const page = await apigw.send(new GetDomainNamesCommand({ position, limit: 500, resourceOwner: 'SELF' }));
    for (const item of page.items ?? []) {
      const d = parseDomain(item);
      if (d.domainName === domainName && d.type === 'PRIVATE' && isOurs(ctx, d.tags)) found.push(d);
    }
    position = page.position;
  } while (position);
  return found;
}

/** A domain at our name that this deployment did not make. */
const domainNotOurs = (ctx: Ctx, d: Domain) =>
  notOurs(ctx, {
    what: `custom domain ${d.domainName} (${d.type})`,
    resource: d.domainName,
    resolution: 'delete that custom domain, or choose another `host` or `domain`.',
  });

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

export async function findOrCreateRegional(
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
  if (d.type !== 'REGIONAL' || !isOurs(ctx, d.tags)) throw domainNotOurs(ctx, d);
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

export async function findOrCreatePrivate(
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
  if (d.type !== 'PRIVATE' || !isOurs(ctx, d.tags) || !d.domainNameId) throw domainNotOurs(ctx, d);
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

export async function waitAvailable(ctx: Ctx, d: Domain): Promise<Domain> {
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

/** Our domains of one mode: the recorded one and any carrying our tags. */
export async function ourDomains(ctx: Ctx, mode: Mode): Promise<Domain[]> {
  const name = ctx.recorded.domainName ?? hostName(ctx);
  if (mode === 'regional') {
    const d = await getDomain(ctx, name);
    if (!d || d.type !== 'REGIONAL') return [];
    const recorded =
      ctx.recorded.mode === 'regional' && d.regionalDomainName === ctx.recorded.regionalDomainName;
    if (isOursOrRecorded(ctx, d.tags, recorded)) return [d];
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

/** Delete one domain name (its base path mappings go with it) and wait until it is gone. */
export async function deleteDomainName(ctx: Ctx, d: Domain): Promise<void> {
  const apigw = ctx.aws.client(APIGatewayClient, ctx.region);
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
