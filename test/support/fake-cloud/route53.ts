// Over 500 lines: one account's zones, record sets, changes and traffic policies share a store.
import { FakeService, mapToTags, tagsToMap } from './cloud.js';
import { FakeEc2 } from './ec2.js';
import { awsError } from './errors.js';
import { page, pageSize } from './paging.js';

type Tags = Record<string, string>;

export interface AliasTarget {
  HostedZoneId: string;
  DNSName: string;
  EvaluateTargetHealth: boolean;
}

export interface RecordSet {
  Name: string;
  Type: string;
  SetIdentifier?: string;
  Failover?: 'PRIMARY' | 'SECONDARY';
  /** Latency routing. */
  Region?: string;
  TTL?: number;
  ResourceRecords?: Array<{ Value: string }>;
  AliasTarget?: AliasTarget;
  HealthCheckId?: string;
  TrafficPolicyInstanceId?: string;
}

interface Zone {
  Id: string;
  Name: string;
  CallerReference: string;
  Comment?: string;
  private: boolean;
  vpcs: Array<{ VPCRegion: string; VPCId: string }>;
  records: RecordSet[];
  /** Every record-set version the zone has had, oldest first (tests: "at every moment"). */
  history: Array<{ t: number; command: string; records: RecordSet[] }>;
}

/**
 * Another model's alias targets: given an alias DNS name, `undefined` when the name is not of its
 * kind, `null` when it is but no such resource exists, else the resource's canonical hosted zone.
 */
export type AliasTargetLookup = (dnsName: string) => { hostedZoneId: string } | null | undefined;

interface TrafficPolicy {
  Id: string;
  Name: string;
  Type: string;
  Comment?: string;
  versions: Map<number, string>;
  latest: number;
}

interface TrafficPolicyInstance {
  Id: string;
  HostedZoneId: string;
  Name: string;
  TTL: number;
  TrafficPolicyId: string;
  TrafficPolicyVersion: number;
  TrafficPolicyType: string;
  appliedAt: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ENDPOINT_TYPES = new Set([
  'value',
  'cloudfront',
  'application-load-balancer',
  'elastic-load-balancer',
  'network-load-balancer',
  'elastic-beanstalk',
  's3-website',
]);

/** Route 53 names are absolute, lower case, with the trailing dot. */
export const fqdn = (name: string) => `${name.toLowerCase().replace(/\.$/, '')}.`;
const bareId = (id: string | undefined) => (id ?? '').replace(/^\/(hostedzone|change)\//, '');
/** Route 53's listing order: labels compared from the right (com.octank.api). */
const sortKey = (name: string) => fqdn(name).slice(0, -1).split('.').reverse().join('.');

/**
 * Route 53 (global): private hosted zones, record sets with failover validation, changes that go
 * PENDING -> INSYNC, tags, traffic policies and their instances. Health checks are another model
 * (route53-health.ts) on the same client. What it models (docs/design/aws-behaviour.md §1, §9; docs/design/fake-cloud.md):
 * - CreateHostedZone: a CallerReference can never be used twice, even after the zone is deleted
 *   (HostedZoneAlreadyExists, 409); a private zone needs a VPC; a private zone of the same name
 *   already on that VPC is ConflictingDomainExists;
 * - AssociateVPCWithHostedZone refuses a VPC already on a zone of that name (ConflictingDomainExists);
 *   the last VPC can't be disassociated (LastVPCAssociation);
 * - ChangeResourceRecordSets is atomic and validates: SetIdentifier with a routing policy, one
 *   PRIMARY and one SECONDARY per name and type, no simple record beside routed ones, alias targets
 *   complete, DELETE only of the exact current values;
 * - DeleteHostedZone refuses while records other than the apex SOA and NS exist (HostedZoneNotEmpty);
 * - traffic policies: names unique; DeleteTrafficPolicy refused while an instance uses that version;
 *   CreateTrafficPolicyInstance in a private zone is refused or accepted per
 *   `privateZoneTrafficPolicy` (AWS documents traffic flow for public zones only, and not the refusal), so both code paths can be tested; its other
 *   refusals per `trafficPolicyInstanceLimit` and `trafficPolicyInstanceFault`.
 */
export class FakeRoute53 extends FakeService {
  readonly service = 'route53';
  override readonly global = true;
  /** Whether CreateTrafficPolicyInstance accepts a private zone (the docs say traffic flow is public-only). */
  privateZoneTrafficPolicy: 'refuse' | 'accept' = 'refuse';
  /**
   * The account's quota of traffic policy instances (GetAccountLimit
   * MAX_TRAFFIC_POLICY_INSTANCES_BY_OWNER): one more is TooManyTrafficPolicyInstances. The value
   * is per account, so the fake sets none unless a test does.
   */
  trafficPolicyInstanceLimit = Number.POSITIVE_INFINITY;
  /**
   * Test switch for CreateTrafficPolicyInstance's other documented refusals
   * (https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateTrafficPolicyInstance.html):
   * 'policy-deleted': the policy version is deleted by another hand just before the call, so it
   * is NoSuchTrafficPolicy (404); 'invalid-input': an InvalidInput about the request itself, not
   * about the zone being private.
   */
  trafficPolicyInstanceFault: 'policy-deleted' | 'invalid-input' | undefined;
  private readonly zones = new Map<string, Zone>();
  private readonly callerReferences = new Set<string>();
  private readonly changes = new Map<string, { submittedAt: number; insyncAt: number }>();
  private readonly tags = new Map<string, Tags>();
  private readonly tagTargets = new Map<string, (id: string) => boolean>();
  private readonly policies = new Map<string, TrafficPolicy>();
  private readonly instances = new Map<string, TrafficPolicyInstance>();

  /**
   * Tags for another model's resources (the health-check model registers 'healthcheck'), so
   * ChangeTagsForResource can refuse an id that does not exist.
   */
  registerTagTarget(resourceType: string, exists: (id: string) => boolean): void {
    this.tagTargets.set(resourceType, exists);
  }

  /** Drop a deleted resource's tags (for other models on this client). */
  forgetTags(resourceType: string, id: string): void {
    this.tags.delete(`${resourceType}/${id}`);
  }

  /** Test helper: the record sets of a zone, by id or name. */
  recordsOf(zoneIdOrName: string): RecordSet[] {
    const z =
      this.zones.get(bareId(zoneIdOrName)) ??
      [...this.zones.values()].find((x) => x.Name === fqdn(zoneIdOrName));
    return structuredClone(z?.records ?? []);
  }

  /**
   * For the resolver (network.ts): the document of the policy version an instance applies, or
   * undefined when the instance or its version is gone.
   */
  instanceDocument(instanceId: string): string | undefined {
    const i = this.instances.get(instanceId);
    return i ? this.policies.get(i.TrafficPolicyId)?.versions.get(i.TrafficPolicyVersion) : undefined;
  }

  /** Test helper: every version of a zone's record sets, each with the command that made it. */
  recordHistory(zoneIdOrName: string): Array<{ t: number; command: string; records: RecordSet[] }> {
    const z =
      this.zones.get(bareId(zoneIdOrName)) ??
      [...this.zones.values()].find((x) => x.Name === fqdn(zoneIdOrName));
    return structuredClone(z?.history ?? []);
  }

  private setRecords(z: Zone, records: RecordSet[], command: string): void {
    z.records = records;
    z.history.push({ t: this.now(), command, records: structuredClone(records) });
  }

  private readonly aliasTargets: AliasTargetLookup[] = [];

  /** Another model (ELBv2) says whether an alias target exists and what its canonical zone is. */
  registerAliasTargets(lookup: AliasTargetLookup): void {
    this.aliasTargets.push(lookup);
  }

  /**
   * How the real SDK v3 (3.1169) surfaces Route 53's InvalidChangeBatch. Route 53 now answers it in
   * the standard <ErrorResponse><Error><Code>InvalidChangeBatch</Code>, which the SDK turns into
   * an InvalidChangeBatch with the bracketed list as `message`, `Code`, and an empty `messages`.
   * Older answers came as <InvalidChangeBatch><Messages><Message>…, which this SDK cannot place: it
   * throws a Route53ServiceException named `Unknown` with message `UnknownError` and the list
   * under `Messages.Message` (both measured by feeding those bodies to the SDK's deserializer;
   * aws/aws-sdk-kotlin#1433 for the change of form). `invalidChangeBatchForm` picks one.
   */
  invalidChangeBatchForm: 'standard' | 'legacy' = 'standard';

  private invalidChangeBatch(problems: string[]): Error {
    if (this.invalidChangeBatchForm === 'legacy') {
      return Object.assign(awsError('Unknown', 'UnknownError'), {
        Messages: { Message: problems.length === 1 ? problems[0] : problems },
        RequestId: 'fake-request',
      });
    }
    return Object.assign(awsError('InvalidChangeBatch', `[${problems.join(', ')}]`), {
      Code: 'InvalidChangeBatch',
      Type: 'Sender',
      messages: [],
    });
  }

  private uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.cloud.random() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
  }

  private change(delayKey: 'r53.change' | 'r53.zone' | 'r53.associate') {
    const id = `C${this.id('').toUpperCase()}`;
    const c = { submittedAt: this.now(), insyncAt: this.now() + this.delay(delayKey) };
    this.changes.set(id, c);
    return this.changeInfo(id, c);
  }

  private changeInfo(id: string, c: { submittedAt: number; insyncAt: number }) {
    return {
      Id: `/change/${id}`,
      Status: this.now() >= c.insyncAt ? 'INSYNC' : 'PENDING',
      SubmittedAt: new Date(c.submittedAt),
    };
  }

  private zone(id: string | undefined): Zone {
    const z = this.zones.get(bareId(id));
    if (!z) throw awsError('NoSuchHostedZone', `No hosted zone found with ID: ${bareId(id)}`, 404);
    return z;
  }

  private zoneView(z: Zone) {
    return {
      Id: `/hostedzone/${z.Id}`,
      Name: z.Name,
      CallerReference: z.CallerReference,
      Config: { Comment: z.Comment, PrivateZone: z.private },
      ResourceRecordSetCount: z.records.length,
    };
  }

  private vpcExists(
    v: { VPCRegion?: string; VPCId?: string } | undefined,
  ): v is { VPCRegion: string; VPCId: string } {
    if (!v?.VPCId || !v.VPCRegion) return false;
    return this.cloud.model(FakeEc2).region(v.VPCRegion).vpcs.has(v.VPCId);
  }

  /** The zones associated with a VPC, whole (what the fake's resolver reads; not a handler). */
  zonesOnVpc(vpc: { VPCRegion: string; VPCId: string }): Zone[] {
    return [...this.zones.values()].filter((z) =>
      z.vpcs.some((v) => v.VPCId === vpc.VPCId && v.VPCRegion === vpc.VPCRegion),
    );
  }

  // ---- hosted zones ------------------------------------------------------------------------
  CreateHostedZone(
    _region: string,
    input: {
      Name?: string;
      CallerReference?: string;
      VPC?: { VPCRegion?: string; VPCId?: string };
      HostedZoneConfig?: { Comment?: string; PrivateZone?: boolean };
    },
  ) {
    if (!input.Name || !input.CallerReference || input.CallerReference.length > 128) {
      throw awsError('InvalidInput', 'Name and CallerReference (at most 128 characters) are required');
    }
    if (this.callerReferences.has(input.CallerReference)) {
      throw awsError(
        'HostedZoneAlreadyExists',
        `A hosted zone has already been created with the specified caller reference.`,
        409,
      );
    }
    const isPrivate = input.VPC !== undefined || input.HostedZoneConfig?.PrivateZone === true;
    if (isPrivate && !input.VPC) {
      throw awsError('InvalidInput', 'When you create a private hosted zone, you must specify a VPC.');
    }
    if (input.VPC && !this.vpcExists(input.VPC)) {
      throw awsError('InvalidVPCId', `The VPC ${input.VPC.VPCId} in ${input.VPC.VPCRegion} does not exist.`);
    }
    const name = fqdn(input.Name);
    if (input.VPC && this.zonesOnVpc(input.VPC).some((z) => z.Name === name)) {
      throw awsError(
        'ConflictingDomainExists',
        `A hosted zone named ${name} is already associated with VPC ${input.VPC.VPCId}.`,
      );
    }
    this.callerReferences.add(input.CallerReference);
    const id = `Z${this.id('').toUpperCase()}`;
    const z: Zone = {
      Id: id,
      Name: name,
      CallerReference: input.CallerReference,
      Comment: input.HostedZoneConfig?.Comment,
      private: isPrivate,
      vpcs: input.VPC ? [{ VPCRegion: input.VPC.VPCRegion, VPCId: input.VPC.VPCId }] : [],
      records: [
        {
          Name: name,
          Type: 'SOA',
          TTL: 900,
          ResourceRecords: [
            { Value: `ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400` },
          ],
        },
        {
          Name: name,
          Type: 'NS',
          TTL: 172800,
          ResourceRecords: [{ Value: 'ns-1536.awsdns-00.co.uk.' }, { Value: 'ns-0.awsdns-00.com.' }],
        },
      ],
      history: [],
    };
    z.history.push({ t: this.now(), command: 'CreateHostedZone', records: structuredClone(z.records) });
    this.zones.set(id, z);
    return {
      HostedZone: this.zoneView(z),
      ChangeInfo: this.change('r53.zone'),
      VPC: input.VPC,
      Location: `https://route53.amazonaws.com/2013-04-01/hostedzone/${id}`,
    };
  }

  GetHostedZone(_region: string, input: { Id?: string }) {
    const z = this.zone(input.Id);
    return { HostedZone: this.zoneView(z), VPCs: z.private ? z.vpcs.map((v) => ({ ...v })) : undefined };
  }

  ListHostedZonesByName(
    _region: string,
    input: { DNSName?: string; HostedZoneId?: string; MaxItems?: number },
  ) {
    const max = pageSize(this.cloud, input.MaxItems, 100, 100);
    const all = [...this.zones.values()].sort(
      (a, b) => sortKey(a.Name).localeCompare(sortKey(b.Name)) || a.Id.localeCompare(b.Id),
    );
    let start = 0;
    if (input.DNSName) {
      const from = sortKey(input.DNSName);
      start = all.findIndex(
        (z) =>
          sortKey(z.Name) > from ||
          (sortKey(z.Name) === from && (!input.HostedZoneId || z.Id >= bareId(input.HostedZoneId))),
      );
      if (start < 0) start = all.length;
    }
    const page = all.slice(start, start + max);
    const next = all[start + max];
    return {
      HostedZones: page.map((z) => this.zoneView(z)),
      DNSName: input.DNSName,
      HostedZoneId: input.HostedZoneId,
      IsTruncated: next !== undefined,
      NextDNSName: next?.Name,
      NextHostedZoneId: next?.Id,
      MaxItems: max,
    };
  }

  ListHostedZonesByVPC(
    _region: string,
    input: { VPCId?: string; VPCRegion?: string; MaxItems?: number; NextToken?: string },
  ) {
    const vpc = { VPCId: input.VPCId ?? '', VPCRegion: input.VPCRegion ?? '' };
    const max = pageSize(this.cloud, input.MaxItems, 100, 100);
    const { items, next } = page(
      this.cloud,
      this.zonesOnVpc(vpc),
      { token: input.NextToken, limit: max },
      {
        command: 'ListHostedZonesByVPC',
        defaultSize: 100,
        key: (z: Zone) => z.Id,
        badToken: { name: 'InvalidPaginationToken' },
      },
    );
    return {
      HostedZoneSummaries: items.map((z) => ({
        HostedZoneId: z.Id,
        Name: z.Name,
        Owner: { OwningAccount: this.cloud.account },
      })),
      MaxItems: max,
      ...(next ? { NextToken: next } : {}),
    };
  }

  AssociateVPCWithHostedZone(
    _region: string,
    input: { HostedZoneId?: string; VPC?: { VPCRegion?: string; VPCId?: string } },
  ) {
    const z = this.zone(input.HostedZoneId);
    if (!z.private) {
      throw awsError('PublicZoneVPCAssociation', `Attempting to associate public zone ${z.Id} with a VPC`);
    }
    if (!this.vpcExists(input.VPC)) {
      throw awsError(
        'InvalidVPCId',
        `The VPC ${input.VPC?.VPCId} in ${input.VPC?.VPCRegion} does not exist.`,
      );
    }
    const vpc = { VPCRegion: input.VPC.VPCRegion, VPCId: input.VPC.VPCId };
    // Also when it is already on this very zone (saltstack/salt PR #47480).
    if (this.zonesOnVpc(vpc).some((other) => other.Name === z.Name)) {
      throw awsError(
        'ConflictingDomainExists',
        `The VPC ${vpc.VPCId} is already associated with a hosted zone named ${z.Name}.`,
      );
    }
    z.vpcs.push(vpc);
    return { ChangeInfo: this.change('r53.associate') };
  }

  DisassociateVPCFromHostedZone(
    _region: string,
    input: { HostedZoneId?: string; VPC?: { VPCRegion?: string; VPCId?: string } },
  ) {
    const z = this.zone(input.HostedZoneId);
    const i = z.vpcs.findIndex((v) => v.VPCId === input.VPC?.VPCId && v.VPCRegion === input.VPC?.VPCRegion);
    if (i < 0) {
      throw awsError(
        'VPCAssociationNotFound',
        `The VPC ${input.VPC?.VPCId} is not associated with zone ${z.Id}.`,
        404,
      );
    }
    if (z.vpcs.length === 1) {
      throw awsError(
        'LastVPCAssociation',
        `The VPC ${input.VPC?.VPCId} is the last VPC associated with private zone ${z.Id}; it can't be disassociated.`,
      );
    }
    z.vpcs.splice(i, 1);
    return { ChangeInfo: this.change('r53.associate') };
  }

  DeleteHostedZone(_region: string, input: { Id?: string }) {
    const z = this.zone(input.Id);
    const others = z.records.filter((r) => !(r.Name === z.Name && (r.Type === 'SOA' || r.Type === 'NS')));
    if (others.length) {
      throw awsError(
        'HostedZoneNotEmpty',
        `The specified hosted zone contains non-required resource record sets and so cannot be deleted: ${others
          .map((r) => `${r.Name} ${r.Type}${r.SetIdentifier ? ` (${r.SetIdentifier})` : ''}`)
          .join(', ')}`,
      );
    }
    this.zones.delete(z.Id);
    this.tags.delete(`hostedzone/${z.Id}`);
    return { ChangeInfo: this.change('r53.change') };
  }

  GetChange(_region: string, input: { Id?: string }) {
    const id = bareId(input.Id);
    const c = this.changes.get(id);
    if (!c)
      throw awsError('NoSuchChange', `A change with the specified change ID does not exist: ${id}`, 404);
    return { ChangeInfo: this.changeInfo(id, c) };
  }

  // ---- record sets -------------------------------------------------------------------------
  ChangeResourceRecordSets(
    _region: string,
    input: {
      HostedZoneId?: string;
      ChangeBatch?: { Changes?: Array<{ Action?: string; ResourceRecordSet?: RecordSet }> };
    },
  ) {
    const z = this.zone(input.HostedZoneId);
    const changes = input.ChangeBatch?.Changes ?? [];
    if (!changes.length) throw awsError('InvalidInput', 'ChangeBatch must contain at least one change');
    const records = structuredClone(z.records);
    const problems: string[] = [];
    const keyOf = (r: RecordSet) => `${fqdn(r.Name)}|${r.Type}|${r.SetIdentifier ?? ''}`;
    const describe = (r: RecordSet) =>
      `[name='${fqdn(r.Name)}', type='${r.Type}'${r.SetIdentifier ? `, set-identifier='${r.SetIdentifier}'` : ''}]`;
    for (const c of changes) {
      const rr = c.ResourceRecordSet;
      if (!rr?.Name || !rr.Type)
        throw awsError('InvalidInput', 'ResourceRecordSet Name and Type are required');
      const r: RecordSet = { ...rr, Name: fqdn(rr.Name) };
      this.validateRecord(z, r, c.Action ?? '');
      // Route 53 checks what a record points at when it is written, not when it is deleted: a
      // record whose load balancer or health check is gone can still be deleted.
      if (c.Action === 'CREATE' || c.Action === 'UPSERT') problems.push(...this.targetProblems(z, r));
      const i = records.findIndex((x) => keyOf(x) === keyOf(r));
      switch (c.Action) {
        case 'CREATE':
          if (i >= 0)
            problems.push(`Tried to create resource record set ${describe(r)} but it already exists`);
          else records.push(r);
          break;
        case 'UPSERT':
          if (i >= 0) records[i] = r;
          else records.push(r);
          break;
        case 'DELETE':
          if (i < 0) problems.push(`Tried to delete resource record set ${describe(r)} but it was not found`);
          else if (!sameRecord(records[i]!, r)) {
            problems.push(
              `Tried to delete resource record set ${describe(r)} but the values provided do not match the current values`,
            );
          } else if (r.Name === z.Name && (r.Type === 'SOA' || r.Type === 'NS')) {
            problems.push(
              `A HostedZone must contain at least one NS record and one SOA record for the zone itself`,
            );
          } else records.splice(i, 1);
          break;
        default:
          throw awsError('InvalidInput', `Invalid Action ${c.Action}`);
      }
    }
    problems.push(...groupProblems(records));
    if (problems.length) throw this.invalidChangeBatch(problems);
    this.setRecords(z, records, 'ChangeResourceRecordSets');
    return { ChangeInfo: this.change('r53.change') };
  }

  /**
   * An alias must point at something that exists, named with its canonical hosted zone; a health
   * check must exist. Route 53's words for aliases (as it answers them, e.g. barnybug/cli53#213,
   * aws/aws-cdk#19643): "Tried to create an alias that targets X., type A in zone Z, but the
   * alias target name does not lie within the target zone" / "... but that target was not found".
   */
  private targetProblems(z: Zone, r: RecordSet): string[] {
    const out: string[] = [];
    const a = r.AliasTarget;
    if (a?.DNSName && a.HostedZoneId) {
      const target = fqdn(a.DNSName);
      const zoneId = bareId(a.HostedZoneId);
      const says = `Tried to create an alias that targets ${target}, type ${r.Type} in zone ${zoneId}`;
      if (zoneId === z.Id) {
        if (!z.records.some((x) => x.Name === target && x.Type === r.Type))
          out.push(`${says}, but that target was not found`);
      } else {
        for (const lookup of this.aliasTargets) {
          const found = lookup(target);
          if (found === undefined) continue;
          if (found === null) out.push(`${says}, but that target was not found`);
          else if (found.hostedZoneId !== zoneId) {
            out.push(`${says}, but the alias target name does not lie within the target zone`);
            out.push(`${says}, but that target was not found`);
          }
          break;
        }
      }
    }
    if (r.HealthCheckId !== undefined) {
      const exists = this.tagTargets.get('healthcheck');
      // ChangeResourceRecordSets lists NoSuchHealthCheck among its errors
      // (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html);
      // its exact words here are not documented.
      if (exists && !exists(r.HealthCheckId)) {
        throw awsError(
          'NoSuchHealthCheck',
          `No health check exists with the specified ID ${r.HealthCheckId}`,
          404,
        );
      }
    }
    return out;
  }

  private validateRecord(z: Zone, r: RecordSet, action: string): void {
    if (r.Name !== z.Name && !r.Name.endsWith(`.${z.Name}`)) {
      throw this.invalidChangeBatch([`RRSet with DNS name ${r.Name} is not permitted in zone ${z.Name}`]);
    }
    if (r.AliasTarget) {
      const a = r.AliasTarget;
      if (!a.HostedZoneId || !a.DNSName || typeof a.EvaluateTargetHealth !== 'boolean') {
        throw awsError('InvalidInput', 'AliasTarget needs HostedZoneId, DNSName and EvaluateTargetHealth');
      }
      if (r.TTL !== undefined || r.ResourceRecords?.length) {
        throw awsError('InvalidInput', 'An alias record set cannot have a TTL or ResourceRecords');
      }
    } else if (r.TTL === undefined || !r.ResourceRecords?.length) {
      throw awsError(
        'InvalidInput',
        `Invalid request: record ${r.Name} needs a TTL and ResourceRecords, or an AliasTarget`,
      );
    }
    if (r.Failover !== undefined && r.Failover !== 'PRIMARY' && r.Failover !== 'SECONDARY') {
      throw awsError('InvalidInput', `Invalid Failover value ${String(r.Failover)}`);
    }
    // Route 53's words (ansible-collections/community.aws#615, boto/boto3#2240).
    if ((r.Failover || r.Region) && !r.SetIdentifier) {
      throw awsError(
        'InvalidInput',
        `Invalid request: Missing field 'SetIdentifier' in Change with [Action=${action}, Name=${r.Name}, Type=${r.Type}, SetIdentifier=null]`,
      );
    }
    if (r.SetIdentifier && !r.Failover && !r.Region) {
      throw awsError(
        'InvalidInput',
        `Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, or MultiValueAnswer], but found none in Change with [Action=${action}, Name=${r.Name}, Type=${r.Type}, SetIdentifier=${r.SetIdentifier}]`,
      );
    }
    if (r.Failover && r.Region) {
      throw awsError(
        'InvalidInput',
        `Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, or MultiValueAnswer], but found more than one in Change with [Action=${action}, Name=${r.Name}, Type=${r.Type}, SetIdentifier=${r.SetIdentifier}]`,
      );
    }
    // A latency record names the AWS region of its resource
    // (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html, Region).
    if (r.Region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(r.Region)) {
      throw awsError(
        'InvalidInput',
        `Invalid request: Invalid Region value ${r.Region} in Change with [Action=${action}, Name=${r.Name}, Type=${r.Type}, SetIdentifier=${r.SetIdentifier}]`,
      );
    }
    if (r.HealthCheckId !== undefined && !UUID.test(r.HealthCheckId)) {
      throw awsError('InvalidInput', `Invalid health check ID ${r.HealthCheckId}`);
    }
  }

  ListResourceRecordSets(
    _region: string,
    input: {
      HostedZoneId?: string;
      StartRecordName?: string;
      StartRecordType?: string;
      StartRecordIdentifier?: string;
      MaxItems?: number;
    },
  ) {
    const z = this.zone(input.HostedZoneId);
    const max = pageSize(this.cloud, input.MaxItems, 300, 300);
    const order = (r: RecordSet) => `${sortKey(r.Name)}|${r.Type}|${r.SetIdentifier ?? ''}`;
    const all = [...z.records].sort((a, b) => order(a).localeCompare(order(b)));
    let start = 0;
    if (input.StartRecordName) {
      const from = `${sortKey(input.StartRecordName)}|${input.StartRecordType ?? ''}|${input.StartRecordIdentifier ?? ''}`;
      start = all.findIndex((r) => order(r) >= from);
      if (start < 0) start = all.length;
    }
    const page = all.slice(start, start + max);
    const next = all[start + max];
    return {
      ResourceRecordSets: structuredClone(page),
      IsTruncated: next !== undefined,
      NextRecordName: next?.Name,
      NextRecordType: next?.Type,
      NextRecordIdentifier: next?.SetIdentifier,
      MaxItems: max,
    };
  }

  // ---- tags --------------------------------------------------------------------------------
  private tagKey(resourceType: string | undefined, id: string | undefined): string {
    const rid = bareId(id);
    if (resourceType === 'hostedzone') this.zone(rid);
    else if (resourceType === 'healthcheck') {
      const exists = this.tagTargets.get('healthcheck');
      if (exists && !exists(rid))
        throw awsError('NoSuchHealthCheck', `No health check exists with the specified ID ${rid}`, 404);
    } else throw awsError('InvalidInput', `Invalid ResourceType ${resourceType}`);
    return `${resourceType}/${rid}`;
  }

  ChangeTagsForResource(
    _region: string,
    input: {
      ResourceType?: string;
      ResourceId?: string;
      AddTags?: Array<{ Key: string; Value: string }>;
      RemoveTagKeys?: string[];
    },
  ) {
    const key = this.tagKey(input.ResourceType, input.ResourceId);
    const tags = { ...(this.tags.get(key) ?? {}), ...tagsToMap(input.AddTags) };
    for (const k of input.RemoveTagKeys ?? []) delete tags[k];
    if (Object.keys(tags).length > 50) throw awsError('InvalidInput', 'At most 50 tags per resource');
    this.tags.set(key, tags);
    return {};
  }

  ListTagsForResource(_region: string, input: { ResourceType?: string; ResourceId?: string }) {
    const key = this.tagKey(input.ResourceType, input.ResourceId);
    return {
      ResourceTagSet: {
        ResourceType: input.ResourceType,
        ResourceId: bareId(input.ResourceId),
        Tags: mapToTags(this.tags.get(key) ?? {}),
      },
    };
  }

  ListTagsForResources(_region: string, input: { ResourceType?: string; ResourceIds?: string[] }) {
    const ids = input.ResourceIds ?? [];
    if (ids.length > 10) throw awsError('InvalidInput', 'At most 10 ResourceIds per request');
    return {
      ResourceTagSets: ids.map((id) => ({
        ResourceType: input.ResourceType,
        ResourceId: bareId(id),
        Tags: mapToTags(this.tags.get(this.tagKey(input.ResourceType, id)) ?? {}),
      })),
    };
  }

  // ---- traffic policies --------------------------------------------------------------------
  private policy(id: string | undefined, version?: number): TrafficPolicy {
    const p = this.policies.get(id ?? '');
    if (!p || (version !== undefined && !p.versions.has(Number(version)))) {
      throw awsError('NoSuchTrafficPolicy', `No traffic policy found with ID ${id} version ${version}`, 404);
    }
    return p;
  }

  private policyView(p: TrafficPolicy, version: number) {
    return {
      Id: p.Id,
      Version: version,
      Name: p.Name,
      Type: p.Type,
      Document: p.versions.get(version),
      Comment: p.Comment,
    };
  }

  /** Checks what the traffic policy document format page requires; returns the RecordType. */
  private validateDocument(doc: string | undefined): string {
    const bad = (why: string) =>
      awsError('InvalidTrafficPolicyDocument', `Invalid traffic policy document: ${why}`);
    let d: {
      AWSPolicyFormatVersion?: string;
      RecordType?: string;
      StartRule?: string;
      StartEndpoint?: string;
      Endpoints?: Record<string, { Type?: string; Value?: string }>;
      Rules?: Record<
        string,
        { RuleType?: string; Primary?: Record<string, unknown>; Secondary?: Record<string, unknown> }
      >;
    };
    try {
      d = JSON.parse(doc ?? '') as typeof d;
    } catch {
      throw bad('not JSON');
    }
    if (d.AWSPolicyFormatVersion !== '2015-10-01' && d.AWSPolicyFormatVersion !== '2023-05-09') {
      throw bad('AWSPolicyFormatVersion must be 2015-10-01 or 2023-05-09');
    }
    if (!d.RecordType) throw bad('RecordType is required');
    const endpoints = d.Endpoints ?? {};
    const rules = d.Rules ?? {};
    for (const [id, e] of Object.entries(endpoints)) {
      if (!e.Type || !ENDPOINT_TYPES.has(e.Type) || !e.Value)
        throw bad(`endpoint ${id} needs a known Type and a Value`);
    }
    const ref = (o: Record<string, unknown> | undefined, where: string) => {
      const er = o?.EndpointReference as string | undefined;
      const rr = o?.RuleReference as string | undefined;
      if ((er && !endpoints[er]) || (rr && !rules[rr]) || (!er && !rr))
        throw bad(`${where} refers to nothing`);
      const hc = o?.HealthCheck as string | undefined;
      if (hc !== undefined && !UUID.test(hc))
        throw bad(`${where} HealthCheck ${hc} is not a health check id`);
    };
    for (const [id, r] of Object.entries(rules)) {
      if (r.RuleType !== 'failover') continue;
      ref(r.Primary, `rule ${id} Primary`);
      ref(r.Secondary, `rule ${id} Secondary`);
    }
    if (d.StartRule ? !rules[d.StartRule] : !d.StartEndpoint || !endpoints[d.StartEndpoint]) {
      throw bad('StartRule or StartEndpoint must name a rule or endpoint of the document');
    }
    return d.RecordType;
  }

  CreateTrafficPolicy(_region: string, input: { Name?: string; Document?: string; Comment?: string }) {
    if (!input.Name) throw awsError('InvalidInput', 'Name is required');
    if ([...this.policies.values()].some((p) => p.Name === input.Name)) {
      throw awsError(
        'TrafficPolicyAlreadyExists',
        `A traffic policy named ${input.Name} already exists.`,
        409,
      );
    }
    const type = this.validateDocument(input.Document);
    const p: TrafficPolicy = {
      Id: this.uuid(),
      Name: input.Name,
      Type: type,
      Comment: input.Comment,
      versions: new Map([[1, input.Document!]]),
      latest: 1,
    };
    this.policies.set(p.Id, p);
    return {
      TrafficPolicy: this.policyView(p, 1),
      Location: `https://route53.amazonaws.com/2013-04-01/trafficpolicy/${p.Id}/1`,
    };
  }

  CreateTrafficPolicyVersion(_region: string, input: { Id?: string; Document?: string; Comment?: string }) {
    const p = this.policy(input.Id);
    const type = this.validateDocument(input.Document);
    if (type !== p.Type) throw awsError('InvalidTrafficPolicyDocument', `RecordType must stay ${p.Type}`);
    p.latest += 1;
    p.versions.set(p.latest, input.Document!);
    return {
      TrafficPolicy: this.policyView(p, p.latest),
      Location: `https://route53.amazonaws.com/2013-04-01/trafficpolicy/${p.Id}/${p.latest}`,
    };
  }

  GetTrafficPolicy(_region: string, input: { Id?: string; Version?: number }) {
    const p = this.policy(input.Id, input.Version);
    return { TrafficPolicy: this.policyView(p, Number(input.Version)) };
  }

  ListTrafficPolicies(_region: string, input: { TrafficPolicyIdMarker?: string; MaxItems?: number }) {
    const max = pageSize(this.cloud, input.MaxItems, 100, 100);
    const all = [...this.policies.values()].sort((a, b) => a.Id.localeCompare(b.Id));
    // "TrafficPolicyIdMarker: If the value of IsTruncated is true, TrafficPolicyIdMarker is the ID
    // of the first traffic policy in the next group of MaxItems traffic policies." (Route 53 API)
    let start = input.TrafficPolicyIdMarker ? all.findIndex((p) => p.Id >= input.TrafficPolicyIdMarker!) : 0;
    if (start < 0) start = all.length;
    const items = all.slice(start, start + max);
    const next = all[start + max];
    return {
      TrafficPolicySummaries: items.map((p) => ({
        Id: p.Id,
        Name: p.Name,
        Type: p.Type,
        LatestVersion: p.latest,
        TrafficPolicyCount: p.versions.size,
      })),
      IsTruncated: next !== undefined,
      TrafficPolicyIdMarker: next?.Id,
      MaxItems: max,
    };
  }

  DeleteTrafficPolicy(_region: string, input: { Id?: string; Version?: number }) {
    const p = this.policy(input.Id, input.Version);
    const version = Number(input.Version);
    const user = [...this.instances.values()].find(
      (i) => i.TrafficPolicyId === p.Id && i.TrafficPolicyVersion === version,
    );
    if (user) {
      throw awsError(
        'TrafficPolicyInUse',
        `Traffic policy ${p.Id} version ${version} is in use by traffic policy instance ${user.Id}.`,
      );
    }
    p.versions.delete(version);
    if (p.versions.size === 0) this.policies.delete(p.Id);
    return {};
  }

  // ---- traffic policy instances ------------------------------------------------------------
  private instance(id: string | undefined): TrafficPolicyInstance {
    const i = this.instances.get(id ?? '');
    if (!i)
      throw awsError('NoSuchTrafficPolicyInstance', `No traffic policy instance found with ID ${id}`, 404);
    return i;
  }

  private instanceView(i: TrafficPolicyInstance) {
    const applied = this.now() >= i.appliedAt;
    return {
      Id: i.Id,
      HostedZoneId: i.HostedZoneId,
      Name: i.Name,
      TTL: i.TTL,
      State: applied ? 'Applied' : 'Creating',
      Message: applied ? '' : 'Route 53 is creating the record sets',
      TrafficPolicyId: i.TrafficPolicyId,
      TrafficPolicyVersion: i.TrafficPolicyVersion,
      TrafficPolicyType: i.TrafficPolicyType,
    };
  }

  CreateTrafficPolicyInstance(
    _region: string,
    input: {
      HostedZoneId?: string;
      Name?: string;
      TTL?: number;
      TrafficPolicyId?: string;
      TrafficPolicyVersion?: number;
    },
  ) {
    const z = this.zone(input.HostedZoneId);
    if (this.trafficPolicyInstanceFault === 'policy-deleted') {
      const gone = this.policies.get(input.TrafficPolicyId ?? '');
      gone?.versions.delete(Number(input.TrafficPolicyVersion));
      if (gone && gone.versions.size === 0) this.policies.delete(gone.Id);
    }
    const p = this.policy(input.TrafficPolicyId, input.TrafficPolicyVersion);
    if (this.trafficPolicyInstanceFault === 'invalid-input') {
      throw awsError(
        'InvalidInput',
        `Invalid request: TTL ${input.TTL} is not valid for this traffic policy.`,
      );
    }
    const count = this.instances.size;
    if (count >= this.trafficPolicyInstanceLimit) {
      throw awsError(
        'TooManyTrafficPolicyInstances',
        `This traffic policy instance can't be created because the current account has reached the limit on the number of traffic policy instances (${count}).`,
      );
    }
    if (z.private && this.privateZoneTrafficPolicy === 'refuse') {
      // The exact words are not documented: traffic flow is documented as public-zone only
      // (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/traffic-flow.html, docs/design/aws-behaviour.md §1).
      throw awsError(
        'InvalidInput',
        `Traffic policy instances can't be created in private hosted zone ${z.Id}.`,
      );
    }
    const name = fqdn(input.Name ?? '');
    if (name !== z.Name && !name.endsWith(`.${z.Name}`)) {
      throw awsError('InvalidInput', `The name ${name} is not in hosted zone ${z.Name}`);
    }
    if ([...this.instances.values()].some((i) => i.HostedZoneId === z.Id && i.Name === name)) {
      throw awsError(
        'TrafficPolicyInstanceAlreadyExists',
        `A traffic policy instance for ${name} already exists.`,
        409,
      );
    }
    if (z.records.some((r) => r.Name === name && r.Type === p.Type)) {
      throw awsError(
        'InvalidInput',
        `Record sets for ${name} of type ${p.Type} already exist in zone ${z.Id}.`,
      );
    }
    const i: TrafficPolicyInstance = {
      Id: this.uuid(),
      HostedZoneId: z.Id,
      Name: name,
      TTL: Number(input.TTL ?? 60),
      TrafficPolicyId: p.Id,
      TrafficPolicyVersion: Number(input.TrafficPolicyVersion),
      TrafficPolicyType: p.Type,
      appliedAt: this.now() + this.delay('r53.change'),
    };
    this.instances.set(i.Id, i);
    // The policy record: what ListResourceRecordSets shows for the name the instance answers.
    this.setRecords(
      z,
      [...z.records, { Name: name, Type: p.Type, TTL: i.TTL, TrafficPolicyInstanceId: i.Id }],
      'CreateTrafficPolicyInstance',
    );
    return {
      TrafficPolicyInstance: this.instanceView(i),
      Location: `https://route53.amazonaws.com/2013-04-01/trafficpolicyinstance/${i.Id}`,
    };
  }

  GetTrafficPolicyInstance(_region: string, input: { Id?: string }) {
    return { TrafficPolicyInstance: this.instanceView(this.instance(input.Id)) };
  }

  /** Like AWS, "no instances" is NoSuchTrafficPolicyInstance rather than an empty list. */
  ListTrafficPolicyInstancesByHostedZone(
    _region: string,
    input: {
      HostedZoneId?: string;
      TrafficPolicyInstanceNameMarker?: string;
      TrafficPolicyInstanceTypeMarker?: string;
      MaxItems?: number;
    },
  ) {
    const z = this.zone(input.HostedZoneId);
    const order = (i: TrafficPolicyInstance) => `${sortKey(i.Name)}|${i.TrafficPolicyType}`;
    const list = [...this.instances.values()]
      .filter((i) => i.HostedZoneId === z.Id)
      .sort((a, b) => order(a).localeCompare(order(b)));
    if (!list.length) {
      throw awsError(
        'NoSuchTrafficPolicyInstance',
        `No traffic policy instances in hosted zone ${z.Id}`,
        404,
      );
    }
    // The markers name the first instance of the next page (Route 53 API
    // ListTrafficPolicyInstancesByHostedZone, TrafficPolicyInstanceNameMarker).
    const max = pageSize(this.cloud, input.MaxItems, 100, 100);
    let start = 0;
    if (input.TrafficPolicyInstanceNameMarker) {
      const from = `${sortKey(input.TrafficPolicyInstanceNameMarker)}|${input.TrafficPolicyInstanceTypeMarker ?? ''}`;
      start = list.findIndex((i) => order(i) >= from);
      if (start < 0) start = list.length;
    }
    const next = list[start + max];
    return {
      TrafficPolicyInstances: list.slice(start, start + max).map((i) => this.instanceView(i)),
      IsTruncated: next !== undefined,
      TrafficPolicyInstanceNameMarker: next?.Name,
      TrafficPolicyInstanceTypeMarker: next?.TrafficPolicyType,
      MaxItems: max,
    };
  }

  UpdateTrafficPolicyInstance(
    _region: string,
    input: { Id?: string; TTL?: number; TrafficPolicyId?: string; TrafficPolicyVersion?: number },
  ) {
    const i = this.instance(input.Id);
    const p = this.policy(input.TrafficPolicyId, input.TrafficPolicyVersion);
    if (p.Type !== i.TrafficPolicyType) {
      throw awsError(
        'ConflictingTypes',
        `The policy's record type ${p.Type} differs from the instance's ${i.TrafficPolicyType}.`,
      );
    }
    i.TTL = Number(input.TTL ?? i.TTL);
    i.TrafficPolicyId = p.Id;
    i.TrafficPolicyVersion = Number(input.TrafficPolicyVersion);
    i.appliedAt = this.now() + this.delay('r53.change');
    const z = this.zones.get(i.HostedZoneId);
    for (const r of z?.records ?? []) if (r.TrafficPolicyInstanceId === i.Id) r.TTL = i.TTL;
    return { TrafficPolicyInstance: this.instanceView(i) };
  }

  DeleteTrafficPolicyInstance(_region: string, input: { Id?: string }) {
    const i = this.instance(input.Id);
    const z = this.zones.get(i.HostedZoneId);
    if (z)
      this.setRecords(
        z,
        z.records.filter((r) => r.TrafficPolicyInstanceId !== i.Id),
        'DeleteTrafficPolicyInstance',
      );
    this.instances.delete(i.Id);
    return {};
  }

  snapshot(): string[] {
    const out: string[] = [];
    for (const z of this.zones.values()) {
      out.push(`route53/global/hosted-zone/${z.Id}(${z.Name})`);
      for (const r of z.records) {
        if (r.Name === z.Name && (r.Type === 'SOA' || r.Type === 'NS')) continue;
        out.push(`route53/global/record/${z.Id}/${r.Name}/${r.Type}/${r.SetIdentifier ?? '-'}`);
      }
    }
    for (const p of this.policies.values()) {
      for (const v of p.versions.keys()) out.push(`route53/global/traffic-policy/${p.Id}/v${v}`);
    }
    for (const i of this.instances.values()) out.push(`route53/global/traffic-policy-instance/${i.Id}`);
    return out;
  }
}

function sameRecord(a: RecordSet, b: RecordSet): boolean {
  const norm = (r: RecordSet) =>
    JSON.stringify({
      TTL: r.TTL,
      ResourceRecords: r.ResourceRecords?.map((x) => x.Value).sort(),
      AliasTarget: r.AliasTarget && {
        HostedZoneId: r.AliasTarget.HostedZoneId,
        DNSName: fqdn(r.AliasTarget.DNSName),
        EvaluateTargetHealth: r.AliasTarget.EvaluateTargetHealth,
      },
      Failover: r.Failover,
      Region: r.Region,
      HealthCheckId: r.HealthCheckId,
    });
  return norm(a) === norm(b);
}

/** The routing policy of a record set with a SetIdentifier. */
const policyOf = (r: RecordSet) => (r.Failover ? 'failover' : r.Region ? 'latency' : 'other');

/** Rules across the record sets of one name and type, checked after a batch is applied. */
function groupProblems(records: RecordSet[]): string[] {
  const groups = new Map<string, RecordSet[]>();
  for (const r of records) {
    const k = `${r.Name}|${r.Type}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const problems: string[] = [];
  for (const list of groups.values()) {
    const { Name, Type } = list[0]!;
    const routed = list.filter((r) => r.SetIdentifier);
    if (routed.length && routed.length !== list.length) {
      problems.push(
        `RRSet with DNS name ${Name}, type ${Type} cannot be created as a non-routed set exists with the same name and type`,
      );
    }
    for (const role of ['PRIMARY', 'SECONDARY'] as const) {
      if (list.filter((r) => r.Failover === role).length > 1) {
        problems.push(
          `RRSet with DNS name ${Name}, type ${Type}: only one ${role} failover record set is allowed`,
        );
      }
    }
    // One routing policy per name and type (Route 53's words as it answers a record of another
    // policy beside existing ones: gympass/cdn-origin-controller#102).
    if (new Set(routed.map(policyOf)).size > 1) {
      problems.push(
        `RRSet with DNS name ${Name}, type ${Type} cannot be created as other RRSets exist with the same name and type.`,
      );
    }
    // Latency: one record per region for a name and type (hashicorp/terraform-provider-aws#1668).
    const byRegion = new Map<string, RecordSet[]>();
    for (const r of routed.filter((x) => x.Region))
      byRegion.set(r.Region!, [...(byRegion.get(r.Region!) ?? []), r]);
    for (const [region, same] of byRegion) {
      for (const r of same.slice(1)) {
        problems.push(
          `RRSet with DNS name ${Name}, type ${Type}, SetIdentifier ${r.SetIdentifier}, and Region Name=${region} cannot be created because a latency RRSet with the same name, type and region already exists.`,
        );
      }
    }
  }
  return problems;
}
