// Over 500 lines: custom domains, mappings, access associations and requests share a store.
import { FakeIam } from './iam.js';
import { FakeAcm, coversName } from './acm.js';
import { type ApiAnswer, FakeApiGateway, apigwPage, notAuthorized, refused } from './apigateway.js';
import { FakeService, type FakeCloud } from './cloud.js';
import { FakeEc2Endpoints } from './ec2-endpoints.js';
import { awsError } from './errors.js';
import { evaluatePolicy } from './resource-policy.js';

// API Gateway custom domains, served beside FakeApiGateway on APIGatewayClient. Behaviours
// (docs/design/aws-behaviour.md §3, docs/design/timings.md §5, the private custom domain tutorial
// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains-tutorial.html):
// - REGIONAL domain names are unique per region across all AWS accounts ("A custom domain name
//   must be unique within a Region across all AWS accounts", how-to-custom-domains.html):
//   BadRequestException "The domain name you provided already exists.", as boto3/CLI users quote
//   it, also when another account holds the name (laravel/vapor-cli's DomainNameAlreadyExists
//   solution for that very message: "not in use in different AWS Account"). The switch
//   `takenByAnotherAccount(region, name)` marks a name as held elsewhere: CreateDomainName refuses
//   it, and GetDomainName(s) do not show it (it is not this account's). PRIVATE names are
//   not unique ("the domain name doesn't need to be unique"): each CreateDomainName makes another one
//   with its own domainNameId, so a repeated create is a duplicate, as on AWS.
// - The certificate must be an ISSUED ACM certificate of the same region that covers the name.
//   Whether a certificate from AWS Private CA is accepted is UNSURE (docs/design/aws-behaviour.md §3): the switch
//   `acceptPrivateCaCertificates` decides, per endpoint type, so both outcomes can be tested.
// - PENDING for `apigw.domain`, then AVAILABLE. Create/Update/DeleteDomainName share the
//   account's 1-per-30-s quota with the REST API model (docs/design/timings.md §5).
// - Private domains: domainNameId + domainNameArn; calls on them need domainNameId. Without a
//   policy API Gateway provisions deny-all. Base path mappings of a PRIVATE domain can only
//   point at PRIVATE APIs.
// - Base path mappings need an existing API and stage; one per base path (ConflictException).
//   DeleteDomainName removes the domain's mappings with it (tutorial, Step 7).
// - Domain name access associations have a deterministic ARN (domain + VPC endpoint): a second
//   one for the same pair is a ConflictException. ASSUMPTION: a private domain with access
//   associations cannot be deleted (the tutorial deletes them first; AWS's exact behaviour is
//   not documented), so code that forgets them fails here.
// - A domain is unusable until AVAILABLE: invocations get 403 ForbiddenException, and (switch
//   `mappingNeedsAvailable`, default on; UNSURE: AWS documents no such refusal, but a mapping made
//   on a PENDING domain is not known to work either) CreateBasePathMapping is a
//   BadRequestException. drctl waits for AVAILABLE first, so both outcomes pass.
// - The data plane (`request`, asked by the network model for a request that reached an execute-api
//   endpoint with Host <name>): a PRIVATE domain of that name answers only through an endpoint with
//   an access association to it ("your VPC endpoint needs a domain name access association with a
//   custom domain name, and the custom domain name needs to allow access for the VPC endpoint",
//   apigateway-private-api-test-invoke-url.html); its `policy` is evaluated as IAM does
//   (resource-policy.ts; the invocation's resource is ASSUMED to be
//   arn:aws:execute-api:<region>:<account>:/domainnames/<name>+<id>/<METHOD><path>, which the
//   documented `execute-api:/*` covers); then the root mapping's API answers, its own resource
//   policy evaluated too. Without such an association a REGIONAL domain of the name answers (the
//   NLB workaround: the NLB forwards Host = the custom domain). Neither: 403 ForbiddenException.
// - Private custom domains are slow to start serving: "It takes about 15 minutes for API Gateway to
//   provision your private custom domain name", and "After you create a domain name access
//   association, it takes about 15 minutes to be ready"
//   (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains.html).
//   The status reads AVAILABLE after `apigw.domain` (ASSUMPTION: AWS documents no status for the
//   association, nor that the domain's status waits for the provisioning), but no request flows
//   through a PRIVATE domain until `apigw.privateDomainProvision` after its create AND
//   `apigw.accessAssociationReady` after the association's: until then the endpoint serves the
//   name as if there were no association (no certificate for it, 403 ForbiddenException).
//   ASSUMPTION: the two clocks run side by side, not one after the other.
// - "If you have a VPC endpoint that you use to access a public custom domain name, don't use it
//   to create a domain name access association with a private custom domain name" (same page).
//   What happens if one does is not documented; the fake accepts the association but never lets
//   it serve: an endpoint through which a REGIONAL domain has answered (`servedPublic`) gives the
//   private domain of that name no traffic, so code that reuses such an endpoint fails here.
// - Dependency probes: 'acm-certificate' (domains using a certificate, for ACM's
//   DeleteCertificate) and 'apigateway-restapi' (mappings to an API, for DeleteRestApi).

type Tags = Record<string, string>;
type EndpointType = 'REGIONAL' | 'PRIVATE';

const QUOTA_INTERVAL_MS = 30_000;

// API Gateway's regional endpoints' Route 53 hosted zones (alias targets), by region.
const REGIONAL_ZONE: Record<string, string> = {
  'us-east-1': 'Z1UJRXOUMOOFQ8',
  'us-east-2': 'ZOJJZC49E0EPZ',
  'us-west-1': 'Z2MUQ32089INYE',
  'us-west-2': 'Z2OJLYMUO9EFXC',
  'sa-east-1': 'ZCMLWB8V5SYIT',
  'eu-west-1': 'ZLY8HYME6SFDD',
  'eu-central-1': 'Z1U9ULNL0V5AJ3',
};

interface BasePathMapping {
  basePath: string;
  restApiId: string;
  stage: string;
}

export interface CustomDomain {
  region: string;
  domainName: string;
  /** PRIVATE domains only. */
  domainNameId?: string;
  domainNameArn: string;
  type: EndpointType;
  certificateArn: string;
  regionalDomainName?: string;
  securityPolicy: string;
  policy?: string;
  tags: Tags;
  availableAt: number;
  /** PRIVATE: when it starts serving traffic (about 15 minutes after the create). */
  servingAt: number;
  mappings: Map<string, BasePathMapping>;
}

interface AccessAssociation {
  region: string;
  arn: string;
  domainNameArn: string;
  sourceType: string;
  source: string;
  tags: Tags;
  /** When it starts carrying traffic (about 15 minutes after the create). */
  readyAt: number;
}

const DENY_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' }],
});

export class FakeApiGatewayDomains extends FakeService {
  readonly service = 'apigateway';
  /** UNSURE in docs/design/aws-behaviour.md §3: does API Gateway take a certificate from AWS Private CA? */
  acceptPrivateCaCertificates: Record<EndpointType, boolean> = { REGIONAL: true, PRIVATE: true };
  private readonly domains: CustomDomain[] = [];
  private readonly associations: AccessAssociation[] = [];
  /** UNSURE (see above): CreateBasePathMapping refuses a domain that is not AVAILABLE yet. */
  mappingNeedsAvailable = true;
  /** region|vpce-id of endpoints through which a REGIONAL (public) custom domain has answered. */
  readonly servedPublic = new Set<string>();
  /** region|name of REGIONAL (or edge) domain names another AWS account holds. */
  private readonly heldElsewhere = new Set<string>();

  /** Another AWS account holds the REGIONAL custom domain `domainName` in `region` (every region when omitted). */
  takenByAnotherAccount(domainName: string, region = '*'): void {
    this.heldElsewhere.add(`${region}|${domainName}`);
  }

  private isHeldElsewhere(region: string, domainName: string): boolean {
    return this.heldElsewhere.has(`${region}|${domainName}`) || this.heldElsewhere.has(`*|${domainName}`);
  }

  constructor(cloud: FakeCloud) {
    super(cloud);
    cloud.addDependencyProbe('acm-certificate', (arn, region) =>
      this.domains.filter((d) => d.region === region && d.certificateArn === arn).map((d) => d.domainNameArn),
    );
    cloud.addDependencyProbe('apigateway-restapi', (restApiId, region) =>
      this.domains
        .filter((d) => d.region === region)
        .flatMap((d) =>
          [...d.mappings.values()]
            .filter((m) => m.restApiId === restApiId)
            .map((m) => `base path mapping ${d.domainName}/${m.basePath}`),
        ),
    );
  }

  private get apis(): FakeApiGateway {
    return this.cloud.model(FakeApiGateway);
  }

  private throttle(region: string, command: string): void {
    const accepted = this.apis.region(region).lastAccepted;
    const last = accepted.get(command);
    if (last !== undefined && this.now() - last < QUOTA_INTERVAL_MS) {
      throw awsError('TooManyRequestsException', 'Too Many Requests', 429);
    }
    accepted.set(command, this.now());
  }

  private find(region: string, domainName: string | undefined, domainNameId: string | undefined) {
    const d = this.domains.find(
      (x) =>
        x.region === region &&
        x.domainName === domainName &&
        (domainNameId === undefined ? x.type !== 'PRIVATE' : x.domainNameId === domainNameId),
    );
    if (!d) {
      throw awsError('NotFoundException', 'Invalid domain name identifier specified', 404);
    }
    return d;
  }

  private checkCertificate(region: string, arn: string | undefined, name: string, type: EndpointType): void {
    const cert = arn ? this.cloud.model(FakeAcm).find(region, arn) : undefined;
    if (!arn || !cert) {
      throw awsError(
        'BadRequestException',
        `Invalid certificate ARN: ${arn}. Certificate must be in '${region}'.`,
      );
    }
    const status = this.cloud.model(FakeAcm).status(cert);
    if (status !== 'ISSUED') {
      throw awsError('BadRequestException', `Certificate ${arn} is not ISSUED (${status}).`);
    }
    if (!cert.sans.some((n) => coversName(n, name))) {
      throw awsError('BadRequestException', `The certificate ${arn} does not cover the domain name ${name}.`);
    }
    if (cert.type === 'PRIVATE' && !this.acceptPrivateCaCertificates[type]) {
      throw awsError(
        'BadRequestException',
        `Certificate ${arn} was issued by a private certificate authority and cannot be used for a ${type} domain name.`,
      );
    }
  }

  private view(d: CustomDomain) {
    const available = this.now() >= d.availableAt;
    return {
      domainName: d.domainName,
      domainNameArn: d.domainNameArn,
      ...(d.type === 'PRIVATE'
        ? { domainNameId: d.domainNameId, certificateArn: d.certificateArn, policy: d.policy ?? DENY_ALL }
        : {
            regionalCertificateArn: d.certificateArn,
            regionalDomainName: d.regionalDomainName,
            regionalHostedZoneId: REGIONAL_ZONE[d.region] ?? 'Z0FAKEAPIGWZONE',
          }),
      endpointConfiguration: { types: [d.type] },
      domainNameStatus: available ? 'AVAILABLE' : 'PENDING',
      securityPolicy: d.securityPolicy,
      tags: { ...d.tags },
    };
  }

  // ---- domain names --------------------------------------------------------------------------
  CreateDomainName(
    region: string,
    input: {
      domainName?: string;
      certificateArn?: string;
      regionalCertificateArn?: string;
      endpointConfiguration?: { types?: string[] };
      securityPolicy?: string;
      policy?: string;
      tags?: Tags;
    },
  ) {
    const name = input.domainName;
    if (!name) throw awsError('BadRequestException', 'Domain name is required');
    const type = input.endpointConfiguration?.types?.[0] ?? 'EDGE';
    if (type !== 'REGIONAL' && type !== 'PRIVATE') {
      throw awsError(
        'BadRequestException',
        `The fake cloud models REGIONAL and PRIVATE domain names, not ${type}`,
      );
    }
    // certificateArn is for edge-optimized and private domains; regionalCertificateArn for regional.
    const certificateArn = type === 'PRIVATE' ? input.certificateArn : input.regionalCertificateArn;
    if (type === 'REGIONAL' && input.certificateArn) {
      throw awsError(
        'BadRequestException',
        'A REGIONAL domain name takes regionalCertificateArn, not certificateArn',
      );
    }
    if (
      type === 'REGIONAL' &&
      (this.isHeldElsewhere(region, name) ||
        this.domains.some((d) => d.region === region && d.domainName === name && d.type !== 'PRIVATE'))
    ) {
      throw awsError('BadRequestException', 'The domain name you provided already exists.');
    }
    if (input.policy !== undefined) {
      if (type !== 'PRIVATE')
        throw awsError('BadRequestException', 'A policy is only supported for PRIVATE domain names');
      try {
        JSON.parse(input.policy);
      } catch {
        throw awsError('BadRequestException', 'Invalid policy document');
      }
    }
    this.checkCertificate(region, certificateArn, name, type);
    this.throttle(region, 'CreateDomainName');
    if (certificateArn)
      this.cloud.model(FakeIam).ensureServiceLinkedRole('apigateway', 'CreateDomainName', region);
    const id = this.id('').slice(0, 8);
    const d: CustomDomain = {
      region,
      domainName: name,
      type,
      certificateArn: certificateArn!,
      securityPolicy: input.securityPolicy ?? 'TLS_1_2',
      tags: { ...input.tags },
      availableAt: this.now() + this.delay('apigw.domain'),
      servingAt:
        this.now() +
        (type === 'PRIVATE' ? this.delay('apigw.privateDomainProvision') : this.delay('apigw.domain')),
      mappings: new Map(),
      ...(type === 'PRIVATE'
        ? {
            domainNameId: id,
            domainNameArn: `arn:aws:apigateway:${region}:${this.cloud.account}:/domainnames/${name}+${id}`,
            policy: input.policy,
          }
        : {
            domainNameArn: `arn:aws:apigateway:${region}::/domainnames/${name}`,
            regionalDomainName: `d-${id.slice(0, 10)}.execute-api.${region}.amazonaws.com`,
          }),
    };
    this.domains.push(d);
    return this.view(d);
  }

  GetDomainName(region: string, input: { domainName?: string; domainNameId?: string }) {
    return this.view(this.find(region, input.domainName, input.domainNameId));
  }

  /** resourceOwner SELF (the default) lists this account's domains; OTHER_ACCOUNTS the shared ones (none here). */
  GetDomainNames(region: string, input: { position?: string; limit?: number; resourceOwner?: string }) {
    const all =
      input.resourceOwner === 'OTHER_ACCOUNTS' ? [] : this.domains.filter((d) => d.region === region);
    const { items, position } = apigwPage(
      this.cloud,
      'GetDomainNames',
      all,
      input,
      (d) => `${d.domainName}/${d.domainNameId ?? ''}`,
    );
    return { items: items.map((d) => this.view(d)), position };
  }

  /** replace /regionalCertificateArn, /certificateArn or /policy: what drctl changes in place. */
  UpdateDomainName(
    region: string,
    input: {
      domainName?: string;
      domainNameId?: string;
      patchOperations?: Array<{ op?: string; path?: string; value?: string }>;
    },
  ) {
    const d = this.find(region, input.domainName, input.domainNameId);
    const ops = input.patchOperations ?? [];
    for (const p of ops) {
      const ok =
        p.op === 'replace' &&
        ((p.path === '/regionalCertificateArn' && d.type === 'REGIONAL') ||
          (p.path === '/certificateArn' && d.type === 'PRIVATE') ||
          (p.path === '/policy' && d.type === 'PRIVATE'));
      if (!ok) throw awsError('BadRequestException', `Invalid patch operation ${p.op} ${p.path}`);
      if (p.path === '/policy') JSON.parse(p.value ?? '{}');
      else this.checkCertificate(region, p.value, d.domainName, d.type);
    }
    this.throttle(region, 'UpdateDomainName');
    for (const p of ops) {
      if (p.path === '/policy') d.policy = p.value;
      else d.certificateArn = p.value!;
    }
    return this.view(d);
  }

  DeleteDomainName(region: string, input: { domainName?: string; domainNameId?: string }) {
    const d = this.find(region, input.domainName, input.domainNameId);
    const associated = this.associations.filter((a) => a.domainNameArn === d.domainNameArn);
    if (associated.length) {
      throw awsError(
        'BadRequestException',
        `Domain name ${d.domainNameArn} still has domain name access associations: ${associated.map((a) => a.arn).join(', ')}`,
      );
    }
    this.throttle(region, 'DeleteDomainName');
    this.domains.splice(this.domains.indexOf(d), 1);
    return {};
  }

  // ---- base path mappings --------------------------------------------------------------------
  CreateBasePathMapping(
    region: string,
    input: {
      domainName?: string;
      domainNameId?: string;
      basePath?: string;
      restApiId?: string;
      stage?: string;
    },
  ) {
    const d = this.find(region, input.domainName, input.domainNameId);
    const api = this.apis.region(region).restApis.get(input.restApiId ?? '');
    if (!api) throw awsError('BadRequestException', 'Invalid REST API identifier specified');
    if (input.stage && !this.apis.region(region).stages.get(api.id)?.has(input.stage)) {
      throw awsError('BadRequestException', 'Invalid stage identifier specified');
    }
    if (d.type === 'PRIVATE' && !api.endpointTypes.includes('PRIVATE')) {
      throw awsError(
        'BadRequestException',
        'Only PRIVATE REST APIs can be mapped to a private custom domain name',
      );
    }
    if (this.mappingNeedsAvailable && this.now() < d.availableAt) {
      throw awsError(
        'BadRequestException',
        `Domain name ${d.domainName} is not available yet (status PENDING); try again when it is AVAILABLE`,
      );
    }
    const basePath = input.basePath ?? '(none)';
    if (d.mappings.has(basePath)) {
      throw awsError('ConflictException', 'Base path already exists for this domain name', 409);
    }
    const m = { basePath, restApiId: api.id, stage: input.stage ?? '' };
    d.mappings.set(basePath, m);
    return { ...m };
  }

  GetBasePathMappings(
    region: string,
    input: { domainName?: string; domainNameId?: string; position?: string; limit?: number },
  ) {
    const d = this.find(region, input.domainName, input.domainNameId);
    const { items, position } = apigwPage(
      this.cloud,
      `GetBasePathMappings/${d.domainNameArn}`,
      [...d.mappings.values()],
      input,
      (m) => m.basePath,
    );
    return { items: items.map((m) => ({ ...m })), position };
  }

  DeleteBasePathMapping(
    region: string,
    input: { domainName?: string; domainNameId?: string; basePath?: string },
  ) {
    const d = this.find(region, input.domainName, input.domainNameId);
    if (!d.mappings.delete(input.basePath ?? '')) {
      throw awsError('NotFoundException', 'Invalid base path mapping identifier specified', 404);
    }
    return {};
  }

  // ---- domain name access associations -------------------------------------------------------
  CreateDomainNameAccessAssociation(
    region: string,
    input: {
      domainNameArn?: string;
      accessAssociationSourceType?: string;
      accessAssociationSource?: string;
      tags?: Tags;
    },
  ) {
    const d = this.domains.find((x) => x.region === region && x.domainNameArn === input.domainNameArn);
    if (!d || d.type !== 'PRIVATE') {
      throw awsError('NotFoundException', `Invalid domain name ARN ${input.domainNameArn}`, 404);
    }
    if (input.accessAssociationSourceType !== 'VPCE') {
      throw awsError('BadRequestException', 'accessAssociationSourceType must be VPCE');
    }
    const source = input.accessAssociationSource ?? '';
    let endpointKnown = true;
    try {
      const e = this.cloud.model(FakeEc2Endpoints).endpoint(region, source);
      endpointKnown = !!e && e.state(this.now()) !== 'deleted' && e.state(this.now()) !== 'deleting';
    } catch {
      endpointKnown = /^vpce-[0-9a-f]+$/.test(source); // no endpoint model registered
    }
    if (!endpointKnown) throw awsError('BadRequestException', `Invalid VPC endpoint ${source}`);
    const arn = `arn:aws:apigateway:${region}:${this.cloud.account}:/domainnameaccessassociations/domainname/${d.domainName}+${d.domainNameId}/vpcesource/${source}`;
    if (this.associations.some((a) => a.arn === arn)) {
      throw awsError('ConflictException', `Domain name access association ${arn} already exists`, 409);
    }
    const a: AccessAssociation = {
      region,
      arn,
      domainNameArn: d.domainNameArn,
      sourceType: 'VPCE',
      source,
      tags: { ...input.tags },
      readyAt: this.now() + this.delay('apigw.accessAssociationReady'),
    };
    this.associations.push(a);
    return this.viewAssociation(a);
  }

  GetDomainNameAccessAssociations(
    region: string,
    input: { resourceOwner?: string; position?: string; limit?: number },
  ) {
    const all =
      input.resourceOwner === 'OTHER_ACCOUNTS' ? [] : this.associations.filter((a) => a.region === region);
    const { items, position } = apigwPage(
      this.cloud,
      'GetDomainNameAccessAssociations',
      all,
      input,
      (a) => a.arn,
    );
    return { items: items.map((a) => this.viewAssociation(a)), position };
  }

  DeleteDomainNameAccessAssociation(region: string, input: { domainNameAccessAssociationArn?: string }) {
    const i = this.associations.findIndex(
      (a) => a.region === region && a.arn === input.domainNameAccessAssociationArn,
    );
    if (i < 0) throw awsError('NotFoundException', 'Invalid domain name access association identifier', 404);
    this.associations.splice(i, 1);
    return {};
  }

  // ---- the data plane --------------------------------------------------------------------------
  /**
   * The domain a request with Host `host` at endpoint `vpceId` reaches: an associated PRIVATE one
   * that serves (provisioned, association ready, endpoint never used for a public domain), else
   * the REGIONAL one.
   */
  private domainFor(region: string, host: string, vpceId: string): CustomDomain | undefined {
    const name = host.toLowerCase();
    const now = this.now();
    const associated = this.domains.find(
      (d) =>
        d.region === region &&
        d.type === 'PRIVATE' &&
        d.domainName === name &&
        now >= d.servingAt &&
        !this.servedPublic.has(`${region}|${vpceId}`) &&
        this.associations.some(
          (a) => a.domainNameArn === d.domainNameArn && a.source === vpceId && now >= a.readyAt,
        ),
    );
    return (
      associated ??
      this.domains.find((x) => x.region === region && x.type === 'REGIONAL' && x.domainName === name)
    );
  }

  /** What API Gateway answers a request with Host `host` that reached execute-api endpoint `vpceId`. */
  request(region: string, input: { host: string; vpceId: string; method?: string; path: string }): ApiAnswer {
    const d = this.domainFor(region, input.host, input.vpceId);
    if (!d || this.now() < d.availableAt) return refused('ForbiddenException', 'Forbidden');
    const method = (input.method ?? 'GET').toUpperCase();
    if (d.type === 'PRIVATE') {
      const base = `arn:aws:execute-api:${region}:${this.cloud.account}:/domainnames/${d.domainName}+${d.domainNameId}`;
      const resource = `${base}/${method}${input.path}`;
      const decision = evaluatePolicy(d.policy ?? DENY_ALL, {
        action: 'execute-api:Invoke',
        resource,
        shorthandBase: base,
        context: this.apis.sourceContext(region, input.vpceId),
      });
      if (decision !== 'allow') return notAuthorized(resource, decision);
    }
    const root = d.mappings.get('(none)');
    if (!root?.stage) return refused('ForbiddenException', 'Forbidden');
    if (d.type === 'REGIONAL') this.servedPublic.add(`${region}|${input.vpceId}`);
    return this.apis.invoke(region, {
      restApiId: root.restApiId,
      stage: root.stage,
      method,
      path: input.path,
      vpceId: input.vpceId,
    });
  }

  /** The certificate a TLS client is shown for `host` at endpoint `vpceId` (of the domain `request` would pick). */
  certificateFor(region: string, host: string, vpceId: string): string | undefined {
    return this.domainFor(region, host, vpceId)?.certificateArn;
  }

  private viewAssociation(a: AccessAssociation) {
    return {
      domainNameAccessAssociationArn: a.arn,
      domainNameArn: a.domainNameArn,
      accessAssociationSourceType: a.sourceType,
      accessAssociationSource: a.source,
      tags: { ...a.tags },
    };
  }

  snapshot(): string[] {
    const out: string[] = [];
    for (const d of this.domains) {
      const id = d.type === 'PRIVATE' ? `${d.domainName}+${d.domainNameId}` : d.domainName;
      out.push(`apigateway/${d.region}/domain-name/${id}(${d.type})`);
      for (const m of d.mappings.values()) {
        out.push(`apigateway/${d.region}/base-path-mapping/${id}/${m.basePath}(${m.restApiId}/${m.stage})`);
      }
    }
    for (const a of this.associations) {
      out.push(`apigateway/${a.region}/domain-name-access-association/${a.arn.split('/domainname/').pop()}`);
    }
    return out;
  }
}
