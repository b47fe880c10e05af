// Over 500 lines: one reachability walk (routes, groups, DNS, TLS, API Gateway) for every request.
import { FakeAcm, coversName } from './acm.js';
import { FakeAcmPca } from './acm-pca.js';
import { FakeApiGateway } from './apigateway.js';
import { FakeApiGatewayDomains } from './apigateway-domains.js';
import { type FakeCloud, FakeService } from './cloud.js';
import { FakeEc2, type IngressRule, type NetworkInterface } from './ec2.js';
import { FakeEc2Endpoints } from './ec2-endpoints.js';
import { FakeElbv2, type LoadBalancer, cidrContains } from './elbv2.js';
import { awsError } from './errors.js';
import { FakeRoute53, type RecordSet, fqdn } from './route53.js';
import { FakeRoute53Health } from './route53-health.js';
import { type FakeCanary, FakeSynthetics, type ProbeOutcome } from './synthetics.js';

// The network between the models: what a packet, a DNS query and an HTTPS request inside a VPC
// see, computed from the other models' resources. Served on EC2Client beside FakeEc2 for the two
// security-group rule commands, whose changes are what moves the failover chain in outage mode.
//
// - AuthorizeSecurityGroupIngress / RevokeSecurityGroupIngress: rules given by properties must
//   match exactly; in a non-default VPC an unknown rule is InvalidPermission.NotFound and nothing
//   is revoked; a rule that exists already is InvalidPermission.Duplicate and nothing is added
//   (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RevokeSecurityGroupIngress.html).
//   Before a change, the canaries' runs due so far are published with the old network, so a
//   lazily settled run never sees a rule from its future.
// - A canary run does what drctl's canary script does (the synthetics model asks `canaryOutcome`):
//   from one of its Lambda ENIs it resolves PROBE_VIA (its region's NLB DNS name) and GETs
//   https://PROBE_HOST/health through it, trusting the .pem files in its zip; it passes on a 200
//   naming the expected region. So the listener, its certificate (name, CA, expiry), the targets,
//   the custom domain, its mapping, the endpoint and the API are each on its path.
// - DNS inside a VPC (the Route 53 Resolver): the private zones associated with the VPC; failover
//   records answer PRIMARY while its health check is healthy and, with EvaluateTargetHealth, its
//   load balancer has a healthy target, else SECONDARY, else PRIMARY (both down)
//   (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-complex-configs.html).
//   Latency records (Region) answer the healthy record nearest the VPC's region (regionDistance),
//   the nearest of all when none is healthy.
//   Route 53 sees an NLB's target health 'nlb.targetReact' late. An answer is cached for its TTL
//   per VPC: an alias to a load balancer takes the ELB record's 60 s. Internal NLB names resolve
//   to their private IPs from anywhere (docs/design/aws-behaviour.md §2).
// - HTTPS to an NLB address: routes both ways (same VPC, or an active peering route), a TLS
//   listener whose certificate is not EXPIRED, covers the name and whose issuing CA is in the
//   caller's trust bundle, a healthy target (all targets when none is: NLBs fail open) whose
//   security group admits the NLB, then API Gateway: the custom domain named by the Host header, its base path
//   mapping, the private API's resource policy for that endpoint, the stage and the path.
// - HTTPS to an execute-api endpoint's address (domainMode private: the failover records alias the
//   endpoints' DNS names): routes both ways, the endpoint's security group admits 443 from the
//   caller, the endpoint is available, TLS with the certificate of the custom domain the request
//   reaches, then API Gateway (apigateway-domains.ts `request`: access association, the domain's
//   and the API's resource policies evaluated as IAM does, AVAILABLE, mapping, stage, path).
//   Endpoint-specific DNS names (vpce-...vpce.amazonaws.com) resolve to the ENIs' IPs from anywhere.

/**
 * A stand-in for the network latency Route 53 measures between regions: its own region nearest,
 * then one of the same geography (the name's first part: us, eu, sa, ap...), then the rest.
 */
export function regionDistance(from: string, to: string): number {
  if (from === to) return 0;
  return from.split('-')[0] === to.split('-')[0] ? 1 : 2;
}

/** Route 53 answers an alias to an ELB load balancer with the ELB record's TTL. */
const ELB_ALIAS_TTL_S = 60;
/** The TTL of an interface endpoint's DNS records (an alias to one takes it too). */
const VPCE_TTL_S = 60;

export interface DnsAnswer {
  /** A records; empty with `error` set when the name does not resolve. */
  addresses: string[];
  ttlSeconds: number;
  error?: string;
}

export interface HttpsResult {
  status?: number;
  body?: string;
  /** A Node-style error code when no HTTP answer came (ETIMEDOUT, ECONNRESET, TLS errors). */
  error?: string;
  /** API Gateway's x-amzn-ErrorType of a refusal (AccessDeniedException, ForbiddenException, ...). */
  errorType?: string;
}

interface IpPermission {
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: Array<{ CidrIp?: string; Description?: string }>;
}

const protocolOf = (p: string | undefined) => (p === '6' ? 'tcp' : (p ?? '').toLowerCase());

function rulesOf(input: {
  IpPermissions?: IpPermission[];
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  CidrIp?: string;
}): IngressRule[] {
  const perms: IpPermission[] = input.IpPermissions?.length
    ? input.IpPermissions
    : [
        {
          IpProtocol: input.IpProtocol,
          FromPort: input.FromPort,
          ToPort: input.ToPort,
          IpRanges: [{ CidrIp: input.CidrIp }],
        },
      ];
  return perms.flatMap((p) =>
    (p.IpRanges ?? []).map((r) => ({
      IpProtocol: protocolOf(p.IpProtocol),
      FromPort: protocolOf(p.IpProtocol) === '-1' ? undefined : p.FromPort,
      ToPort: protocolOf(p.IpProtocol) === '-1' ? undefined : p.ToPort,
      CidrIp: r.CidrIp ?? '',
      Description: r.Description,
    })),
  );
}

const sameRule = (a: IngressRule, b: IngressRule) =>
  protocolOf(a.IpProtocol) === protocolOf(b.IpProtocol) &&
  (a.FromPort ?? -1) === (b.FromPort ?? -1) &&
  (a.ToPort ?? -1) === (b.ToPort ?? -1) &&
  a.CidrIp === b.CidrIp;

const describeRule = (r: IngressRule) =>
  `${r.CidrIp}, ${r.IpProtocol.toUpperCase()}, from port: ${r.FromPort ?? 'all'}, to port: ${r.ToPort ?? 'all'}, ALLOW`;

export class FakeNetwork extends FakeService {
  readonly service = 'ec2';
  /** Security-group changes, with the load balancers' health as Route 53 saw it just before. */
  private readonly changes: Array<{ t: number; before: Map<string, boolean> }> = [];
  private readonly dnsCache = new Map<string, { answer: DnsAnswer; until: number }>();
  /** Availability Zones failed by a test (`failAz`): nothing in their subnets answers or runs. */
  private readonly failedAzs = new Set<string>();

  constructor(cloud: FakeCloud) {
    super(cloud);
    const synthetics = this.optional(FakeSynthetics);
    if (synthetics) synthetics.reachability = (c) => this.canaryOutcome(c);
  }

  private get ec2(): FakeEc2 {
    return this.cloud.model(FakeEc2);
  }
  private get elb(): FakeElbv2 {
    return this.cloud.model(FakeElbv2);
  }

  /** Another model, or undefined when a test's cloud does not register it. */
  private optional<T extends FakeService>(ctor: abstract new (cloud: FakeCloud) => T): T | undefined {
    try {
      return this.cloud.model(ctor);
    } catch {
      return undefined;
    }
  }

  // ---- security group rules ----------------------------------------------------------------
  private beforeChange(): void {
    this.optional(FakeSynthetics)?.settleAll();
    const before = new Map<string, boolean>();
    for (const lb of this.elb.loadBalancers.values()) before.set(lb.arn, this.nlbHealthSeenByRoute53(lb.arn));
    this.changes.push({ t: this.now(), before });
  }

  private group(region: string, groupId: string | undefined) {
    const g = this.ec2.region(region).securityGroups.get(groupId ?? '');
    if (!g) throw awsError('InvalidGroup.NotFound', `The security group '${groupId}' does not exist`);
    return g;
  }

  AuthorizeSecurityGroupIngress(
    region: string,
    input: { GroupId?: string; IpPermissions?: IpPermission[]; IpProtocol?: string; CidrIp?: string },
  ) {
    const g = this.group(region, input.GroupId);
    const rules = rulesOf(input);
    const dup = rules.find((r) => g.ingress.some((x) => sameRule(x, r)));
    if (dup) {
      throw awsError(
        'InvalidPermission.Duplicate',
        `the specified rule "peer: ${describeRule(dup)}" already exists`,
      );
    }
    this.beforeChange();
    g.ingress.push(...rules);
    return {
      Return: true,
      SecurityGroupRules: rules.map((r) => ({
        SecurityGroupRuleId: this.id('sgr-'),
        GroupId: g.GroupId,
        IsEgress: false,
        IpProtocol: r.IpProtocol,
        FromPort: r.FromPort,
        ToPort: r.ToPort,
        CidrIpv4: r.CidrIp,
        Description: r.Description,
      })),
    };
  }

  RevokeSecurityGroupIngress(
    region: string,
    input: { GroupId?: string; IpPermissions?: IpPermission[]; IpProtocol?: string; CidrIp?: string },
  ) {
    const g = this.group(region, input.GroupId);
    const rules = rulesOf(input);
    const unknown = rules.find((r) => !g.ingress.some((x) => sameRule(x, r)));
    if (unknown) {
      throw awsError(
        'InvalidPermission.NotFound',
        `The specified rule does not exist in this security group: ${describeRule(unknown)}`,
      );
    }
    this.beforeChange();
    g.ingress = g.ingress.filter((x) => !rules.some((r) => sameRule(x, r)));
    return { Return: true };
  }

  // ---- Availability Zones ------------------------------------------------------------------
  /**
   * Fail one Availability Zone: from now on no ENI in its subnets sends or answers (a canary's
   * Lambda runs from its other subnets; NAT gateways, endpoint ENIs, NLB nodes and targets there
   * are gone). Runs due so far are published first.
   */
  failAz(az: string): void {
    this.optional(FakeSynthetics)?.settleAll();
    this.failedAzs.add(az);
  }

  restoreAz(az: string): void {
    this.optional(FakeSynthetics)?.settleAll();
    this.failedAzs.delete(az);
  }

  private azOf(region: string, subnetId: string): string | undefined {
    return this.ec2.region(region).subnets.get(subnetId)?.AvailabilityZone;
  }

  /** The ENI's Availability Zone has not been failed. */
  private up(region: string, eni: NetworkInterface): boolean {
    const az = this.azOf(region, eni.SubnetId);
    return az === undefined || !this.failedAzs.has(az);
  }

  // ---- the way out of a private subnet -----------------------------------------------------
  /**
   * What a canary run needs besides its target: S3 (artifacts) and CloudWatch `monitoring`
   * (metrics) from its subnet, through a NAT gateway route, or an S3 gateway endpoint on the
   * subnet's route table plus an available `monitoring` interface endpoint with private DNS, an
   * ENI in a live AZ and a security group admitting 443 from the ENI. Without either, Synthetics
   * reports "No test result returned" and no metric
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_VPC.html).
   */
  wayOut(region: string, eni: NetworkInterface): { s3: boolean; monitoring: boolean } {
    const table = this.routeTableOf(region, eni);
    if (
      table?.routes.some(
        (r) =>
          r.State === 'active' &&
          r.NatGatewayId &&
          r.DestinationCidrBlock === '0.0.0.0/0' &&
          this.natUp(region, r.NatGatewayId),
      )
    ) {
      return { s3: true, monitoring: true };
    }
    const endpoints = (this.optional(FakeEc2Endpoints)?.endpointsIn(region) ?? []).filter(
      (e) => e.VpcId === eni.VpcId && e.state(this.now()) === 'available',
    );
    const s3 = endpoints.some(
      (e) =>
        e.type === 'Gateway' &&
        e.ServiceName === `com.amazonaws.${region}.s3` &&
        !!table &&
        e.RouteTableIds.includes(table.RouteTableId),
    );
    const live = this.ec2.liveEnis(region);
    const monitoring = endpoints.some(
      (e) =>
        e.type === 'Interface' &&
        e.ServiceName === `com.amazonaws.${region}.monitoring` &&
        e.PrivateDnsEnabled &&
        e.NetworkInterfaceIds.some((id) => {
          const x = live.find((l) => l.NetworkInterfaceId === id);
          return x !== undefined && this.up(region, x);
        }) &&
        this.admitsTcp(region, e.SecurityGroupIds, 443, eni.PrivateIpAddress),
    );
    return { s3, monitoring };
  }

  /** A NAT gateway in a live AZ whose subnet routes 0.0.0.0/0 to an internet gateway. */
  private natUp(region: string, natId: string): boolean {
    const r = this.ec2.region(region);
    const nat = r.others.get(natId);
    if (nat?.kind !== 'nat' || !nat.SubnetId) return false;
    const az = this.azOf(region, nat.SubnetId);
    if (az !== undefined && this.failedAzs.has(az)) return false;
    const tables = [...r.routeTables.values()];
    const table = tables.find((t) => t.subnetIds.includes(nat.SubnetId!));
    return !!table?.routes.some(
      (x) =>
        x.State === 'active' && x.DestinationCidrBlock === '0.0.0.0/0' && x.GatewayId?.startsWith('igw-'),
    );
  }

  // ---- reachability ------------------------------------------------------------------------
  /** One of the groups lets TCP `port` in from `sourceIp`. */
  admitsTcp(region: string, groupIds: string[], port: number, sourceIp: string): boolean {
    const groups = this.ec2.region(region).securityGroups;
    return groupIds.some((id) =>
      (groups.get(id)?.ingress ?? []).some(
        (rule) =>
          (rule.IpProtocol === '-1' ||
            (protocolOf(rule.IpProtocol) === 'tcp' &&
              (rule.FromPort ?? 0) <= port &&
              port <= (rule.ToPort ?? 65535))) &&
          cidrContains(rule.CidrIp, sourceIp),
      ),
    );
  }

  /** The ENI holding `ip` in the region, if any. */
  private eniAt(region: string, ip: string): NetworkInterface | undefined {
    return this.ec2.liveEnis(region).find((e) => e.PrivateIpAddress === ip);
  }

  /** Whether a packet from `from` (an ENI) reaches `toIp` and the answer comes back. */
  private routes(region: string, from: NetworkInterface, toRegion: string, to: NetworkInterface): boolean {
    if (region === toRegion && from.VpcId === to.VpcId) return true;
    const out = this.routeTableOf(region, from);
    const back = this.routeTableOf(toRegion, to);
    const via = (table: typeof out, ip: string) =>
      table?.routes.some(
        (r) => r.State === 'active' && r.VpcPeeringConnectionId && cidrContains(r.DestinationCidrBlock, ip),
      ) ?? false;
    return via(out, to.PrivateIpAddress) && via(back, from.PrivateIpAddress);
  }

  private routeTableOf(region: string, eni: NetworkInterface) {
    const tables = [...this.ec2.region(region).routeTables.values()].filter((t) => t.VpcId === eni.VpcId);
    return tables.find((t) => t.subnetIds.includes(eni.SubnetId)) ?? tables.find((t) => t.main);
  }

  /**
   * What one canary run sees now (the synthetics model's default probe): what drctl's canary
   * script (src/assets/canary-script.ts) does from one of the canary's Lambda ENIs, on this
   * network: resolve PROBE_VIA (its region's NLB), GET https://PROBE_HOST + PROBE_PATH through each
   * answer trusting the .pem files bundled beside the script, pass on a 200 naming EXPECTED_REGION.
   * A canary outside a VPC cannot reach a private API.
   */
  canaryOutcome(c: FakeCanary): ProbeOutcome {
    if (!c.VpcConfig) return 'fail';
    // Lambda runs the canary from a subnet whose AZ is up; with none, no run happens at all.
    const from = this.ec2
      .liveEnis(c.region)
      .find((e) => e.owner === `lambda:${c.lambdaName}` && this.up(c.region, e));
    if (!from) return 'silent';
    const out = this.wayOut(c.region, from);
    if (!out.s3 || !out.monitoring) return 'silent';
    const env = c.EnvironmentVariables;
    if (env.PROBE_URL) return this.invokeUrlOutcome(c, from, env.PROBE_URL);
    if (!env.PROBE_HOST || !env.PROBE_VIA || !env.EXPECTED_REGION) return 'fail';
    const caBundle = Object.entries(c.files)
      .filter(([name]) => name.endsWith('.pem'))
      .map(([, pem]) => pem)
      .join('\n');
    const r = this.clientGet(
      c.region,
      from,
      env.PROBE_VIA,
      env.PROBE_HOST,
      env.PROBE_PATH ?? '/health',
      caBundle,
    );
    return r.status === 200 && regionIn(r.body) === env.EXPECTED_REGION ? 'pass' : 'fail';
  }

  /**
   * A canary that GETs an execute-api URL of the `{api}-{vpce}` form itself (what drctl's canary
   * did before it called the client name): endpoint, security group, association, API only.
   */
  private invokeUrlOutcome(c: FakeCanary, from: NetworkInterface, url: string): ProbeOutcome {
    const m =
      /^https:\/\/([a-z0-9]{10})-(vpce-[0-9a-f]+)\.execute-api\.([a-z0-9-]+)\.amazonaws\.com\/([^/]+)(\/.*)$/.exec(
        url,
      );
    if (!m) return 'fail';
    const [, restApiId, vpceId, apiRegion, stage, path] = m;
    if (apiRegion !== c.region) return 'fail';
    const endpoint = this.optional(FakeEc2Endpoints)?.endpoint(c.region, vpceId!);
    if (!endpoint || endpoint.state(this.now()) !== 'available' || endpoint.VpcId !== from.VpcId)
      return 'fail';
    if (!this.admitsTcp(c.region, endpoint.SecurityGroupIds, 443, from.PrivateIpAddress)) return 'fail';
    const api = this.optional(FakeApiGateway)?.region(c.region).restApis.get(restApiId!);
    if (!api?.vpcEndpointIds.includes(vpceId!)) return 'fail';
    const answer = this.apiAnswer(c.region, restApiId!, stage!, path!, vpceId!);
    const expected = c.EnvironmentVariables.EXPECTED_REGION;
    return answer.status === 200 && (!expected || regionIn(answer.body) === expected) ? 'pass' : 'fail';
  }

  /**
   * What drctl's in-VPC clients do (src/assets/https-get.ts, used by the canary and the drill's
   * probe): resolve `target` (a name, or an address) through the resolver of `from`'s VPC, then
   * GET https://`host``path` through each answered address in turn until one answers.
   */
  clientGet(
    region: string,
    from: NetworkInterface,
    target: string,
    host: string,
    path: string,
    caBundle: string,
  ): HttpsResult & { answer: string[]; ttlSeconds: number; address?: string } {
    const dns: DnsAnswer = /^\d+\.\d+\.\d+\.\d+$/.test(target)
      ? { addresses: [target], ttlSeconds: 0 }
      : this.resolve(region, from.VpcId, target);
    if (dns.error) return { answer: [], ttlSeconds: 0, error: `dns: ${dns.error}` };
    let last: (HttpsResult & { address: string }) | undefined;
    for (const address of dns.addresses) {
      last = { address, ...this.https(region, from, address, host, path, caBundle) };
      if (!last.error) break;
    }
    return {
      answer: dns.addresses,
      ttlSeconds: dns.ttlSeconds,
      ...(last ?? { error: 'no address answered' }),
    };
  }

  /** The API's own answer to GET `path` on `stage`, called through endpoint `vpceId`. */
  private apiAnswer(
    region: string,
    restApiId: string,
    stage: string,
    path: string,
    vpceId: string,
  ): HttpsResult {
    const apis = this.optional(FakeApiGateway);
    if (!apis)
      return { status: 403, body: JSON.stringify({ message: 'Forbidden' }), errorType: 'ForbiddenException' };
    return apis.invoke(region, { restApiId, stage, path, vpceId });
  }

  // ---- load balancer health as Route 53 sees it ---------------------------------------------
  /** The load balancer is active and one target of a group its listeners forward to is healthy. */
  nlbHealthy(lbArn: string): boolean {
    const lb = this.liveLb(lbArn);
    if (!lb || this.now() < lb.activeAt) return false;
    return this.targetGroupsOf(lb).some((tgArn) =>
      this.elb
        .DescribeTargetHealth(lb.region, { TargetGroupArn: tgArn })
        .TargetHealthDescriptions.some((t) => t.TargetHealth.State === 'healthy'),
    );
  }

  /** The same, 'nlb.targetReact' late after a security-group change (health check thresholds). */
  nlbHealthSeenByRoute53(lbArn: string): boolean {
    const lag = this.delay('nlb.targetReact');
    const pending = this.changes.find((c) => this.now() < c.t + lag && c.before.has(lbArn));
    return pending ? pending.before.get(lbArn)! : this.nlbHealthy(lbArn);
  }

  private liveLb(arn: string): LoadBalancer | undefined {
    const lb = this.elb.loadBalancers.get(arn);
    return lb && (lb.goneAt === undefined || lb.goneAt > this.now()) ? lb : undefined;
  }

  private targetGroupsOf(lb: LoadBalancer): string[] {
    return [...this.elb.listeners.values()]
      .filter((l) => l.loadBalancerArn === lb.arn)
      .map((l) => l.targetGroupArn);
  }

  private lbByDnsName(name: string): LoadBalancer | undefined {
    return [...this.elb.loadBalancers.values()].find(
      (lb) => fqdn(lb.dnsName) === fqdn(name) && this.liveLb(lb.arn),
    );
  }

  private lbAddresses(lb: LoadBalancer): string[] {
    const live = this.ec2.liveEnis(lb.region);
    return lb.eniIds
      .map((id) => live.find((e) => e.NetworkInterfaceId === id)?.PrivateIpAddress)
      .filter((ip): ip is string => ip !== undefined);
  }

  // ---- DNS ---------------------------------------------------------------------------------
  /** What the Route 53 Resolver of `vpcId` answers for an A query of `name` now (cached for the TTL). */
  resolve(region: string, vpcId: string, name: string): DnsAnswer {
    const key = `${region}|${vpcId}|${fqdn(name)}`;
    const cached = this.dnsCache.get(key);
    if (cached && this.now() < cached.until) {
      return { ...cached.answer, ttlSeconds: Math.ceil((cached.until - this.now()) / 1000) };
    }
    const answer = this.lookup(region, vpcId, fqdn(name));
    if (answer.ttlSeconds > 0)
      this.dnsCache.set(key, { answer, until: this.now() + answer.ttlSeconds * 1000 });
    return answer;
  }

  private lookup(region: string, vpcId: string, name: string): DnsAnswer {
    const nx = { addresses: [], ttlSeconds: 0, error: 'ENOTFOUND' };
    const r53 = this.optional(FakeRoute53);
    const zones = (r53?.zonesOnVpc({ VPCId: vpcId, VPCRegion: region }) ?? [])
      .filter((z) => name === z.Name || name.endsWith(`.${z.Name}`))
      .sort((a, b) => b.Name.length - a.Name.length);
    if (!zones.length) return this.publicAnswer(name) ?? nx;
    // A private zone answers for its whole name space: a name it lacks is NXDOMAIN.
    const records = r53!.recordsOf(zones[0]!.Id).filter((r) => r.Name === name && r.Type === 'A');
    if (!records.length) return nx;
    const instanceId = records.find((r) => r.TrafficPolicyInstanceId)?.TrafficPolicyInstanceId;
    if (instanceId) return this.policyAnswer(r53!.instanceDocument(instanceId));
    let chosen = records[0]!;
    const latency = records.filter((r) => r.Region);
    if (latency.length) {
      // The healthy record whose region is nearest the query's (for a private zone, the VPC's
      // region); when none is healthy Route 53 answers as if all were
      // (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-latency-phz.html,
      // https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-complex-configs.html).
      const nearest = latency.sort(
        (a, b) =>
          regionDistance(region, a.Region!) - regionDistance(region, b.Region!) ||
          a.Region!.localeCompare(b.Region!),
      );
      return this.answerOf(nearest.find((r) => this.recordHealthy(r)) ?? nearest[0]!);
    }
    const primary = records.find((r) => r.Failover === 'PRIMARY');
    const secondary = records.find((r) => r.Failover === 'SECONDARY');
    if (primary && secondary) {
      chosen = this.recordHealthy(primary) || !this.recordHealthy(secondary) ? primary : secondary;
    } else if (primary ?? secondary) chosen = (primary ?? secondary)!;
    return this.answerOf(chosen);
  }

  /**
   * A traffic policy instance's answer: its start endpoint, or its failover rule evaluated as
   * failover records are (each side's HealthCheck and EvaluateTargetHealth; with both unhealthy,
   * the primary). Only what drctl writes is modelled: one failover rule over two endpoints
   * (https://docs.aws.amazon.com/Route53/latest/APIReference/api-policies-traffic-policy-document-format.html).
   */
  private policyAnswer(doc: string | undefined): DnsAnswer {
    const fail = (why: string) => ({ addresses: [], ttlSeconds: 0, error: `ESERVFAIL (${why})` });
    if (!doc) return fail('traffic policy instance or version gone');
    type Side = { EndpointReference?: string; EvaluateTargetHealth?: boolean; HealthCheck?: string };
    const d = JSON.parse(doc) as {
      StartRule?: string;
      StartEndpoint?: string;
      Endpoints: Record<string, { Type: string; Value: string }>;
      Rules?: Record<string, { RuleType: string; Primary?: Side; Secondary?: Side }>;
    };
    const asRecord = (side: Side): RecordSet | undefined => {
      const e = side.EndpointReference ? d.Endpoints[side.EndpointReference] : undefined;
      if (!e || (e.Type !== 'network-load-balancer' && e.Type !== 'value')) return undefined;
      return {
        Name: '',
        Type: 'A',
        ...(side.HealthCheck ? { HealthCheckId: side.HealthCheck } : {}),
        ...(e.Type === 'value'
          ? { ResourceRecords: [{ Value: e.Value }], TTL: 60 }
          : {
              AliasTarget: {
                HostedZoneId: '',
                DNSName: e.Value,
                EvaluateTargetHealth: side.EvaluateTargetHealth ?? false,
              },
            }),
      };
    };
    if (d.StartEndpoint) {
      const r = asRecord({ EndpointReference: d.StartEndpoint });
      return r ? this.answerOf(r) : fail('endpoint type not modelled');
    }
    const rule = d.Rules?.[d.StartRule ?? ''];
    const primary = rule?.RuleType === 'failover' && rule.Primary ? asRecord(rule.Primary) : undefined;
    const secondary = rule?.RuleType === 'failover' && rule.Secondary ? asRecord(rule.Secondary) : undefined;
    if (!primary || !secondary) return fail('only a failover rule over two endpoints is modelled');
    return this.answerOf(this.recordHealthy(primary) || !this.recordHealthy(secondary) ? primary : secondary);
  }

  /** Names of AWS's own that public DNS answers from anywhere: internal NLBs, endpoint-specific VPCE names. */
  private publicAnswer(name: string): DnsAnswer | undefined {
    const lb = this.lbByDnsName(name);
    if (lb) return { addresses: this.lbAddresses(lb), ttlSeconds: ELB_ALIAS_TTL_S };
    const vpce = this.optional(FakeEc2Endpoints)?.byDnsName(name);
    if (vpce) {
      const addresses = this.endpointAddresses(vpce.region, vpce.endpoint.VpcEndpointId);
      return addresses.length ? { addresses, ttlSeconds: VPCE_TTL_S } : undefined;
    }
    return undefined;
  }

  private recordHealthy(r: RecordSet): boolean {
    if (r.HealthCheckId) {
      try {
        if (!this.cloud.model(FakeRoute53Health).healthOf(r.HealthCheckId).healthy) return false;
      } catch {
        // A deleted check: Route 53 does not refuse it (docs/design/aws-behaviour.md §9); count it healthy.
      }
    }
    if (r.AliasTarget?.EvaluateTargetHealth) {
      const lb = this.lbByDnsName(r.AliasTarget.DNSName);
      const vpce = lb ? undefined : this.optional(FakeEc2Endpoints)?.byDnsName(r.AliasTarget.DNSName);
      if (vpce) return vpce.endpoint.state(this.now()) === 'available';
      if (!lb || !this.nlbHealthSeenByRoute53(lb.arn)) return false;
    }
    return true;
  }

  private answerOf(r: RecordSet): DnsAnswer {
    if (r.AliasTarget) {
      return this.publicAnswer(r.AliasTarget.DNSName) ?? { addresses: [], ttlSeconds: 0, error: 'ENOTFOUND' };
    }
    return { addresses: (r.ResourceRecords ?? []).map((x) => x.Value), ttlSeconds: r.TTL ?? 0 };
  }

  // ---- HTTPS -------------------------------------------------------------------------------
  /**
   * GET https://`hostName``path` sent to `ip` from ENI `from` (SNI and Host = `hostName`),
   * trusting the PEM certificates in `caBundle`.
   */
  https(
    region: string,
    from: NetworkInterface,
    ip: string,
    hostName: string,
    path: string,
    caBundle: string,
  ): HttpsResult {
    const lb = [...this.elb.loadBalancers.values()].find(
      (x) => this.liveLb(x.arn) && this.lbAddresses(x).includes(ip),
    );
    if (!lb) {
      const at = this.endpointEniAt(ip);
      return at
        ? this.httpsToEndpoint(region, from, at.region, at.eni, hostName, path, caBundle)
        : { error: 'ETIMEDOUT' };
    }
    const lbEni = this.eniAt(lb.region, ip);
    if (!lbEni || !this.routes(region, from, lb.region, lbEni)) return { error: 'ETIMEDOUT' };
    if (this.now() < lb.activeAt) return { error: 'ECONNREFUSED' };
    const listener = [...this.elb.listeners.values()].find(
      (l) => l.loadBalancerArn === lb.arn && l.port === 443,
    );
    if (!listener) return { error: 'ECONNREFUSED' };
    if (listener.protocol === 'TLS') {
      const tlsError = this.verify(lb.region, listener.certificateArns[0] ?? '', hostName, caBundle);
      if (tlsError) return { error: tlsError };
    }
    const tg = this.elb.targetGroups.get(listener.targetGroupArn);
    if (!tg) return { error: 'ECONNRESET' };
    const health = this.elb.DescribeTargetHealth(lb.region, {
      TargetGroupArn: tg.arn,
    }).TargetHealthDescriptions;
    const healthy = health.filter((t) => t.TargetHealth.State === 'healthy');
    // All targets unhealthy: the NLB fails open and sends to any of them.
    const target = (healthy.length ? healthy : health)[0];
    if (!target) return { error: 'ECONNRESET' };
    const targetEni = this.eniAt(lb.region, target.Target.Id);
    const nlbIps = this.lbAddresses(lb);
    if (
      !targetEni ||
      !nlbIps.some((src) => this.admitsTcp(lb.region, targetEni.groupIds, target.Target.Port, src))
    )
      return { error: 'ECONNRESET' }; // the NLB closes the client's connection when its backend one fails
    const endpoint = this.optional(FakeEc2Endpoints)?.endpoint(lb.region, targetEni.owner);
    if (!endpoint || endpoint.state(this.now()) !== 'available') return { error: 'ECONNRESET' };
    return this.customDomainAnswer(lb.region, hostName, path, endpoint.VpcEndpointId);
  }

  private verify(
    region: string,
    certificateArn: string,
    hostName: string,
    caBundle: string,
  ): string | undefined {
    const cert = this.optional(FakeAcm)?.find(region, certificateArn);
    if (!cert) return undefined; // no ACM model: any certificate passes
    if (this.optional(FakeAcm)!.status(cert) === 'EXPIRED') return 'CERT_HAS_EXPIRED';
    if (![cert.domainName, ...cert.sans].some((n) => coversName(n, hostName)))
      return 'ERR_TLS_CERT_ALTNAME_INVALID';
    if (!cert.certificateAuthorityArn) return undefined; // publicly trusted
    const ca = this.optional(FakeAcmPca)?.find(region, cert.certificateAuthorityArn);
    const norm = (pem: string) => pem.replace(/\s+/g, '');
    // The listener sends the ACM certificate's chain up to the private root: Node's word for a
    // root it does not trust.
    if (!ca?.certificatePem || !norm(caBundle).includes(norm(ca.certificatePem)))
      return 'SELF_SIGNED_CERT_IN_CHAIN';
    return undefined;
  }

  private customDomainAnswer(region: string, hostName: string, path: string, vpceId: string): HttpsResult {
    const domains = this.optional(FakeApiGatewayDomains);
    if (!domains)
      return { status: 403, body: JSON.stringify({ message: 'Forbidden' }), errorType: 'ForbiddenException' };
    return domains.request(region, { host: hostName, vpceId, path });
  }

  /**
   * HTTPS straight to an execute-api endpoint's address (domainMode private, or the endpoint's
   * own DNS name): the route there and back (same VPC, or peering), the endpoint's security group
   * admitting 443 from the caller, the endpoint available, then TLS with the certificate of the
   * custom domain the request reaches (a name of Amazon's own, *.execute-api / *.vpce, carries a
   * publicly trusted certificate), then API Gateway.
   */
  private httpsToEndpoint(
    region: string,
    from: NetworkInterface,
    endpointRegion: string,
    eni: NetworkInterface,
    hostName: string,
    path: string,
    caBundle: string,
  ): HttpsResult {
    if (!this.routes(region, from, endpointRegion, eni)) return { error: 'ETIMEDOUT' };
    const endpoint = this.optional(FakeEc2Endpoints)?.endpoint(endpointRegion, eni.owner);
    if (!endpoint || endpoint.state(this.now()) !== 'available') return { error: 'ECONNREFUSED' };
    if (!this.admitsTcp(endpointRegion, eni.groupIds, 443, from.PrivateIpAddress))
      return { error: 'ETIMEDOUT' };
    const amazonName = /\.(execute-api\.[a-z0-9-]+|[a-z0-9-]+\.vpce)\.amazonaws\.com$/.test(hostName);
    if (!amazonName) {
      const certificateArn = this.optional(FakeApiGatewayDomains)?.certificateFor(
        endpointRegion,
        hostName,
        endpoint.VpcEndpointId,
      );
      // No custom domain of that name here: API Gateway shows its own certificate, which does not cover it.
      if (!certificateArn) return { error: 'ERR_TLS_CERT_ALTNAME_INVALID' };
      const tlsError = this.verify(endpointRegion, certificateArn, hostName, caBundle);
      if (tlsError) return { error: tlsError };
    }
    return this.customDomainAnswer(endpointRegion, hostName, path, endpoint.VpcEndpointId);
  }

  /** The live execute-api endpoint ENI at `ip` in any region. */
  private endpointEniAt(ip: string): { region: string; eni: NetworkInterface } | undefined {
    for (const { region, endpoint } of this.optional(FakeEc2Endpoints)?.all() ?? []) {
      const eni = this.eniAt(region, ip);
      if (eni?.owner === endpoint.VpcEndpointId) return { region, eni };
    }
    return undefined;
  }

  /** The private IPs of an endpoint's live ENIs. */
  private endpointAddresses(region: string, vpceId: string): string[] {
    return this.ec2
      .liveEnis(region)
      .filter((e) => e.owner === vpceId)
      .map((e) => e.PrivateIpAddress);
  }

  snapshot(): string[] {
    return [];
  }
}

function regionIn(body: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(body ?? '') as { region?: unknown };
    return typeof parsed.region === 'string' ? parsed.region : undefined;
  } catch {
    return undefined;
  }
}
