// Over 500 lines: load balancers, target groups, listeners and target health refer to each other.
import { FakeIam } from './iam.js';
import { FakeAcm } from './acm.js';
import { type FakeCloud, FakeService, mapToTags, tagsToMap } from './cloud.js';
import { FakeEc2 } from './ec2.js';
import { awsError } from './errors.js';
import { FakeRoute53 } from './route53.js';

import { page } from './paging.js';

// Elastic Load Balancing v2 (network load balancers), per region. Behaviours (docs/design/aws-behaviour.md §7, docs/design/timings.md §6):
// - CreateLoadBalancer/CreateTargetGroup/CreateListener are idempotent for identical settings and
//   refuse the same name (or port) with other settings (Duplicate…).
// - Names: at most 32 characters, letters, digits and hyphens, no leading/trailing hyphen, and a
//   load balancer's may not begin with "internal-".
// - A load balancer is `provisioning` for `nlb.create`, then `active`; it puts one ENI per subnet
//   (Description `ELB net/<name>/<id>`) in the VPC. Listeners may be added while it provisions.
// - Targets of a target group no listener forwards to are `unused` (Target.NotInUse). Once in use
//   they are `initial` until `nlb.targetHealthy` after the latest of registration, first use and
//   the load balancer becoming active; then `healthy` if an ENI holds the IP and one of its security
//   groups lets TCP 443 in from the load balancer's addresses, else `unhealthy` (Target.Timeout).
//   IP targets must be inside the target group's VPC CIDR.
// - A TLS listener needs an ACM certificate in the same region that is ISSUED (when the ACM model
//   is registered) and a known SslPolicy (default ELBSecurityPolicy-2016-08 when omitted).
// - DeleteLoadBalancer deletes its listeners at once; the load balancer stays described (active)
//   for `nlb.delete`, then LoadBalancerNotFound; its ENIs go `eni.releaseAfterNlb` after that.
//   Deleting one that does not exist succeeds.
// - DeleteTargetGroup is refused (ResourceInUse) while a listener forwards to it.
// - Errors carry the SDK's exception name (LoadBalancerNotFoundException) and the wire Code
//   (LoadBalancerNotFound), as @aws-sdk/core's AwsQueryProtocol builds them.
// - A dependency probe of kind 'acm-certificate' lists the listeners using a certificate, so the
//   ACM model's DeleteCertificate can refuse while one does.

type Tags = Record<string, string>;

/** Deregistered targets drain for the target group's deregistration_delay.timeout_seconds (default 300). */
const DEREGISTRATION_DELAY_MS = 300_000;

// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/describe-ssl-policies.html
// The hybrid post-quantum (PQ) policies of 2025-09 are offered too; the FIPS ones are not (a
// documented policy a region does not offer still reaches AWS: test/steps/nlb.test.ts).
export const SSL_POLICIES = new Set([
  'ELBSecurityPolicy-TLS13-1-0-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-3-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
  'ELBSecurityPolicy-TLS13-1-2-2021-06',
  'ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06',
  'ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06',
  'ELBSecurityPolicy-TLS13-1-3-2021-06',
  'ELBSecurityPolicy-TLS13-1-1-2021-06',
  'ELBSecurityPolicy-TLS13-1-0-2021-06',
  'ELBSecurityPolicy-TLS-1-2-2017-01',
  'ELBSecurityPolicy-TLS-1-2-Ext-2018-06',
  'ELBSecurityPolicy-FS-1-2-Res-2020-10',
  'ELBSecurityPolicy-FS-1-2-Res-2019-08',
  'ELBSecurityPolicy-FS-1-2-2019-08',
  'ELBSecurityPolicy-FS-1-1-2019-08',
  'ELBSecurityPolicy-FS-2018-06',
  'ELBSecurityPolicy-TLS-1-1-2017-01',
  'ELBSecurityPolicy-2016-08',
  'ELBSecurityPolicy-2015-05',
  'ELBSecurityPolicy-TLS-1-0-2015-04',
]);

// Route 53 alias hosted zone ids of network load balancers per region (ELB endpoints table).
const NLB_ZONE_IDS: Record<string, string> = {
  'us-east-1': 'Z26RNL4JYFTOTI',
  'us-east-2': 'ZLMOA37VPKANP',
  'us-west-1': 'Z24FKFUX50B4VW',
  'us-west-2': 'Z18D5FSROUN65G',
  'sa-east-1': 'ZTK26PT1VY4CU',
  'eu-west-1': 'Z2IFOLAFXWLO4F',
  'eu-central-1': 'Z3F0SRJ5LGBH90',
};

/** An SDK-shaped ELBv2 error: exception name plus the query protocol's wire Code. */
function elbError(code: string, message: string, status = 400) {
  const modelled = !['ValidationError', 'UnsupportedCertificate'].includes(code);
  return Object.assign(awsError(modelled ? `${code}Exception` : code, message, status), { Code: code });
}

/** ELBv2 pages with Marker / NextMarker and PageSize (1-400); a call by ARNs or names is answered whole. */
function elbPage<T>(
  cloud: Pick<FakeCloud, 'pageSize'>,
  command: string,
  all: T[],
  input: { Marker?: string; PageSize?: number; byIds: boolean },
  key: (item: T) => string,
): { items: T[]; NextMarker?: string } {
  if (input.byIds) return { items: all };
  const { items, next } = page(
    cloud,
    all,
    { token: input.Marker, limit: input.PageSize },
    { command, defaultSize: 400, maxSize: 400, key, badToken: { name: 'ValidationError' } },
  );
  return next ? { items, NextMarker: next } : { items };
}

export interface LoadBalancer {
  arn: string;
  name: string;
  id: string;
  region: string;
  scheme: 'internal' | 'internet-facing';
  type: string;
  vpcId: string;
  subnetIds: string[];
  securityGroups: string[];
  ipAddressType: string;
  dnsName: string;
  tags: Tags;
  createdAt: number;
  activeAt: number;
  /** Set by DeleteLoadBalancer: the time it stops being described. */
  goneAt: number | undefined;
  eniIds: string[];
}

export interface Target {
  id: string;
  port: number;
  registeredAt: number;
  /** Set by DeregisterTargets: draining until then. */
  drainedAt: number | undefined;
}

export interface TargetGroup {
  arn: string;
  name: string;
  region: string;
  protocol: string;
  port: number;
  vpcId: string;
  targetType: string;
  healthCheck: {
    protocol: string;
    port: string;
    intervalSeconds: number;
    healthyThreshold: number;
    unhealthyThreshold: number;
  };
  tags: Tags;
  targets: Map<string, Target>;
  /** When a listener first forwarded to it (targets are `unused` before). */
  inUseSince: number | undefined;
}

export interface Listener {
  arn: string;
  loadBalancerArn: string;
  protocol: string;
  port: number;
  sslPolicy: string | undefined;
  certificateArns: string[];
  targetGroupArn: string;
  tags: Tags;
}

interface Action {
  Type?: string;
  TargetGroupArn?: string;
  ForwardConfig?: { TargetGroups?: Array<{ TargetGroupArn?: string }> };
}

const NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$/;

export class FakeElbv2 extends FakeService {
  readonly service = 'elasticloadbalancing';
  readonly loadBalancers = new Map<string, LoadBalancer>();
  readonly targetGroups = new Map<string, TargetGroup>();
  readonly listeners = new Map<string, Listener>();

  constructor(cloud: ConstructorParameters<typeof FakeService>[0]) {
    super(cloud);
    cloud.addDependencyProbe('acm-certificate', (certificateArn, region) =>
      [...this.listeners.values()]
        .filter((l) => l.certificateArns.includes(certificateArn) && l.arn.includes(`:${region}:`))
        .map((l) => l.arn),
    );
    // Route 53 refuses an alias to a load balancer that does not exist or under another zone id.
    cloud.model(FakeRoute53).registerAliasTargets((dnsName) => {
      const name = dnsName
        .toLowerCase()
        .replace(/\.$/, '')
        .replace(/^dualstack\./, '');
      const m = /\.elb\.([a-z0-9-]+)\.amazonaws\.com$/.exec(name);
      if (!m) return undefined;
      const lb = this.lbs(m[1]!).find((x) => x.dnsName.toLowerCase() === name);
      return lb ? { hostedZoneId: NLB_ZONE_IDS[lb.region] ?? 'ZFAKENLBZONE' } : null;
    });
  }

  /**
   * Test helper: a network load balancer that exists for Route 53 and DescribeLoadBalancers, with
   * no subnets or network interfaces (for tests of steps that only alias it). Gone with
   * `removeSeeded`.
   */
  seedLoadBalancer(
    region: string,
    o: { name: string; dnsName: string },
  ): { arn: string; canonicalHostedZoneId: string } {
    const id = this.hex(16);
    const arn = `arn:aws:elasticloadbalancing:${region}:${this.cloud.account}:loadbalancer/net/${o.name}/${id}`;
    this.loadBalancers.set(arn, {
      arn,
      name: o.name,
      id,
      region,
      scheme: 'internal',
      type: 'network',
      vpcId: '',
      subnetIds: [],
      securityGroups: [],
      ipAddressType: 'ipv4',
      dnsName: o.dnsName,
      tags: {},
      createdAt: this.now(),
      activeAt: this.now(),
      goneAt: undefined,
      eniIds: [],
    });
    return { arn, canonicalHostedZoneId: NLB_ZONE_IDS[region] ?? 'ZFAKENLBZONE' };
  }

  /** Test helper: forget a seeded load balancer at once. */
  removeSeeded(arn: string): void {
    this.loadBalancers.delete(arn);
  }

  private get ec2(): FakeEc2 {
    return this.cloud.model(FakeEc2);
  }

  private hex(n: number): string {
    return Array.from({ length: n }, () => Math.floor(this.cloud.random() * 16).toString(16)).join('');
  }

  /** Live (not yet gone) load balancers of the region. */
  private lbs(region: string): LoadBalancer[] {
    const now = this.now();
    for (const [arn, lb] of this.loadBalancers)
      if (lb.goneAt !== undefined && lb.goneAt <= now) this.loadBalancers.delete(arn);
    return [...this.loadBalancers.values()].filter((lb) => lb.region === region);
  }

  private lb(region: string, arn: string | undefined): LoadBalancer {
    const lb = this.lbs(region).find((x) => x.arn === arn);
    if (!lb) throw elbError('LoadBalancerNotFound', `Load balancer '${arn}' not found`);
    return lb;
  }

  private tg(region: string, arn: string | undefined): TargetGroup {
    const tg = this.targetGroups.get(arn ?? '');
    if (!tg || tg.region !== region)
      throw elbError('TargetGroupNotFound', `Target groups '${arn}' not found`);
    return tg;
  }

  private lbState(lb: LoadBalancer): 'provisioning' | 'active' {
    return this.now() >= lb.activeAt ? 'active' : 'provisioning';
  }

  // ---- load balancers ------------------------------------------------------------------------
  CreateLoadBalancer(
    region: string,
    input: {
      Name: string;
      Subnets?: string[];
      SubnetMappings?: Array<{ SubnetId?: string }>;
      SecurityGroups?: string[];
      Scheme?: string;
      Tags?: Array<{ Key: string; Value: string }>;
      Type?: string;
      IpAddressType?: string;
    },
  ) {
    const name = input.Name ?? '';
    if (!NAME.test(name) || name.startsWith('internal-')) {
      throw elbError(
        'ValidationError',
        `The load balancer name '${name}' must be at most 32 characters, letters, digits and hyphens, not begin or end with a hyphen, and not begin with "internal-"`,
      );
    }
    const subnetIds = [
      ...new Set([...(input.Subnets ?? []), ...(input.SubnetMappings ?? []).map((m) => m.SubnetId ?? '')]),
    ];
    const settings = {
      scheme: (input.Scheme ?? 'internet-facing') as LoadBalancer['scheme'],
      type: input.Type ?? 'application',
      subnetIds: [...subnetIds].sort(),
      securityGroups: [...(input.SecurityGroups ?? [])].sort(),
      ipAddressType: input.IpAddressType ?? 'ipv4',
    };
    const same = this.lbs(region).find((lb) => lb.name === name);
    if (same) {
      const identical =
        same.scheme === settings.scheme &&
        same.type === settings.type &&
        same.ipAddressType === settings.ipAddressType &&
        JSON.stringify([...same.subnetIds].sort()) === JSON.stringify(settings.subnetIds) &&
        JSON.stringify([...same.securityGroups].sort()) === JSON.stringify(settings.securityGroups);
      if (!identical || same.goneAt !== undefined) {
        throw elbError(
          'DuplicateLoadBalancerName',
          `A load balancer with the same name '${name}' exists, but with different settings`,
        );
      }
      return { LoadBalancers: [this.describeLb(same)] };
    }
    if (settings.type !== 'network')
      throw elbError('ValidationError', 'The fake cloud models network load balancers only');
    this.cloud.model(FakeIam).ensureServiceLinkedRole('elasticloadbalancing', 'CreateLoadBalancer', region);
    const r = this.ec2.region(region);
    if (subnetIds.length === 0) throw elbError('ValidationError', 'At least one subnet must be specified');
    const zones = new Set<string>();
    let vpcId = '';
    for (const id of subnetIds) {
      const s = r.subnets.get(id);
      if (!s) throw elbError('SubnetNotFound', `The subnet ID '${id}' is not valid`);
      if (zones.has(s.AvailabilityZone)) {
        throw elbError(
          'InvalidConfigurationRequest',
          'A load balancer cannot be attached to multiple subnets in the same Availability Zone',
        );
      }
      if (vpcId && s.VpcId !== vpcId)
        throw elbError('InvalidConfigurationRequest', 'All subnets must belong to the same VPC');
      zones.add(s.AvailabilityZone);
      vpcId = s.VpcId;
    }
    const id = this.hex(16);
    const arn = `arn:aws:elasticloadbalancing:${region}:${this.cloud.account}:loadbalancer/net/${name}/${id}`;
    const eniIds = subnetIds.map((subnetId) => {
      const eniId = this.id('eni-');
      r.enis.set(eniId, {
        NetworkInterfaceId: eniId,
        SubnetId: subnetId,
        VpcId: vpcId,
        groupIds: [...settings.securityGroups],
        PrivateIpAddress: r.allocateIp(subnetId),
        Description: `ELB net/${name}/${id}`,
        owner: `nlb/${name}`,
      });
      return eniId;
    });
    const lb: LoadBalancer = {
      arn,
      name,
      id,
      region,
      ...settings,
      subnetIds,
      vpcId,
      dnsName: `${settings.scheme === 'internal' ? 'internal-' : ''}${name}-${id.slice(0, 10)}.elb.${region}.amazonaws.com`,
      tags: tagsToMap(input.Tags),
      createdAt: this.now(),
      activeAt: this.now() + this.delay('nlb.create'),
      goneAt: undefined,
      eniIds,
    };
    this.loadBalancers.set(arn, lb);
    return { LoadBalancers: [this.describeLb(lb)] };
  }

  DescribeLoadBalancers(
    region: string,
    input: { LoadBalancerArns?: string[]; Names?: string[]; Marker?: string; PageSize?: number },
  ) {
    const all = this.lbs(region);
    for (const arn of input.LoadBalancerArns ?? []) {
      if (!all.some((lb) => lb.arn === arn))
        throw elbError('LoadBalancerNotFound', `Load balancers '[${arn}]' not found`);
    }
    for (const name of input.Names ?? []) {
      if (!all.some((lb) => lb.name === name))
        throw elbError('LoadBalancerNotFound', `Load balancers '[${name}]' not found`);
    }
    const { items, NextMarker } = elbPage(
      this.cloud,
      'DescribeLoadBalancers',
      all
        .filter((lb) => !input.LoadBalancerArns || input.LoadBalancerArns.includes(lb.arn))
        .filter((lb) => !input.Names || input.Names.includes(lb.name)),
      { ...input, byIds: !!(input.LoadBalancerArns?.length || input.Names?.length) },
      (lb) => lb.arn,
    );
    return { LoadBalancers: items.map((lb) => this.describeLb(lb)), NextMarker };
  }

  DeleteLoadBalancer(region: string, input: { LoadBalancerArn: string }) {
    const lb = this.lbs(region).find((x) => x.arn === input.LoadBalancerArn);
    if (!lb || lb.goneAt !== undefined) return {};
    for (const [arn, l] of this.listeners) if (l.loadBalancerArn === lb.arn) this.listeners.delete(arn);
    lb.goneAt = this.now() + this.delay('nlb.delete');
    const enis = this.ec2.region(region).enis;
    for (const eniId of lb.eniIds) {
      const eni = enis.get(eniId);
      if (eni) eni.releaseAt = lb.goneAt + this.delay('eni.releaseAfterNlb');
    }
    return {};
  }

  // ---- target groups -------------------------------------------------------------------------
  CreateTargetGroup(
    region: string,
    input: {
      Name: string;
      Protocol?: string;
      Port?: number;
      VpcId?: string;
      TargetType?: string;
      HealthCheckProtocol?: string;
      HealthCheckPort?: string;
      HealthCheckIntervalSeconds?: number;
      HealthyThresholdCount?: number;
      UnhealthyThresholdCount?: number;
      Tags?: Array<{ Key: string; Value: string }>;
    },
  ) {
    const name = input.Name ?? '';
    if (!NAME.test(name)) throw elbError('ValidationError', `Target group name '${name}' is not valid`);
    const settings = {
      protocol: input.Protocol ?? 'HTTP',
      port: input.Port ?? 80,
      vpcId: input.VpcId ?? '',
      targetType: input.TargetType ?? 'instance',
      healthCheck: {
        protocol: input.HealthCheckProtocol ?? input.Protocol ?? 'TCP',
        port: input.HealthCheckPort ?? 'traffic-port',
        intervalSeconds: input.HealthCheckIntervalSeconds ?? 30,
        healthyThreshold: input.HealthyThresholdCount ?? 5,
        unhealthyThreshold: input.UnhealthyThresholdCount ?? 2,
      },
    };
    const same = [...this.targetGroups.values()].find((t) => t.region === region && t.name === name);
    if (same) {
      const identical =
        JSON.stringify({ ...settings }) ===
        JSON.stringify({
          protocol: same.protocol,
          port: same.port,
          vpcId: same.vpcId,
          targetType: same.targetType,
          healthCheck: same.healthCheck,
        });
      if (!identical) {
        throw elbError(
          'DuplicateTargetGroupName',
          `A target group with the same name '${name}' exists, but with different settings`,
        );
      }
      return { TargetGroups: [this.describeTg(same)] };
    }
    if (!this.ec2.region(region).vpcs.has(settings.vpcId)) {
      throw elbError('ValidationError', `The VPC ID '${settings.vpcId}' is not found`);
    }
    const arn = `arn:aws:elasticloadbalancing:${region}:${this.cloud.account}:targetgroup/${name}/${this.hex(16)}`;
    const tg: TargetGroup = {
      arn,
      name,
      region,
      ...settings,
      tags: tagsToMap(input.Tags),
      targets: new Map(),
      inUseSince: undefined,
    };
    this.targetGroups.set(arn, tg);
    return { TargetGroups: [this.describeTg(tg)] };
  }

  DescribeTargetGroups(
    region: string,
    input: {
      TargetGroupArns?: string[];
      Names?: string[];
      LoadBalancerArn?: string;
      Marker?: string;
      PageSize?: number;
    },
  ) {
    const all = [...this.targetGroups.values()].filter((t) => t.region === region);
    for (const arn of input.TargetGroupArns ?? []) {
      if (!all.some((t) => t.arn === arn))
        throw elbError('TargetGroupNotFound', `Target groups '[${arn}]' not found`);
    }
    for (const name of input.Names ?? []) {
      if (!all.some((t) => t.name === name))
        throw elbError('TargetGroupNotFound', `Target groups '[${name}]' not found`);
    }
    if (input.LoadBalancerArn) this.lb(region, input.LoadBalancerArn);
    const { items, NextMarker } = elbPage(
      this.cloud,
      'DescribeTargetGroups',
      all
        .filter((t) => !input.TargetGroupArns || input.TargetGroupArns.includes(t.arn))
        .filter((t) => !input.Names || input.Names.includes(t.name))
        .filter((t) => !input.LoadBalancerArn || this.loadBalancersOf(t).includes(input.LoadBalancerArn)),
      { ...input, byIds: !!(input.TargetGroupArns?.length || input.Names?.length) },
      (t) => t.arn,
    );
    return { TargetGroups: items.map((t) => this.describeTg(t)), NextMarker };
  }

  DeleteTargetGroup(region: string, input: { TargetGroupArn: string }) {
    const tg = this.tg(region, input.TargetGroupArn);
    const users = [...this.listeners.values()].filter((l) => l.targetGroupArn === tg.arn);
    if (users.length) {
      throw elbError('ResourceInUse', `Target group '${tg.arn}' is currently in use by a listener or a rule`);
    }
    this.targetGroups.delete(tg.arn);
    return {};
  }

  RegisterTargets(
    region: string,
    input: { TargetGroupArn: string; Targets?: Array<{ Id?: string; Port?: number }> },
  ) {
    const tg = this.tg(region, input.TargetGroupArn);
    const vpc = this.ec2.region(region).vpcs.get(tg.vpcId);
    for (const t of input.Targets ?? []) {
      const id = t.Id ?? '';
      if (tg.targetType === 'ip' && (!vpc || !cidrContains(vpc.CidrBlock, id))) {
        throw elbError(
          'InvalidTarget',
          `The IP address '${id}' is not within a VPC CIDR of the target group's VPC`,
        );
      }
    }
    for (const t of input.Targets ?? []) {
      const port = t.Port ?? tg.port;
      const key = `${t.Id}:${port}`;
      const existing = tg.targets.get(key);
      if (existing && existing.drainedAt === undefined) continue;
      tg.targets.set(key, { id: t.Id ?? '', port, registeredAt: this.now(), drainedAt: undefined });
    }
    return {};
  }

  DeregisterTargets(
    region: string,
    input: { TargetGroupArn: string; Targets?: Array<{ Id?: string; Port?: number }> },
  ) {
    const tg = this.tg(region, input.TargetGroupArn);
    for (const t of input.Targets ?? []) {
      const target = tg.targets.get(`${t.Id}:${t.Port ?? tg.port}`);
      if (!target || target.drainedAt !== undefined) continue;
      if (tg.inUseSince === undefined) tg.targets.delete(`${t.Id}:${target.port}`);
      else target.drainedAt = this.now() + DEREGISTRATION_DELAY_MS;
    }
    return {};
  }

  DescribeTargetHealth(
    region: string,
    input: { TargetGroupArn: string; Targets?: Array<{ Id?: string; Port?: number }> },
  ) {
    const tg = this.tg(region, input.TargetGroupArn);
    for (const [key, t] of tg.targets)
      if (t.drainedAt !== undefined && t.drainedAt <= this.now()) tg.targets.delete(key);
    const wanted = input.Targets?.map((t) => `${t.Id}:${t.Port ?? tg.port}`);
    const TargetHealthDescriptions = [...tg.targets.entries()]
      .filter(([key]) => !wanted || wanted.includes(key))
      .map(([, t]) => ({
        Target: { Id: t.id, Port: t.port },
        HealthCheckPort: tg.healthCheck.port === 'traffic-port' ? String(t.port) : tg.healthCheck.port,
        TargetHealth: this.health(tg, t),
      }));
    return { TargetHealthDescriptions };
  }

  private health(tg: TargetGroup, t: Target): { State: string; Reason?: string; Description?: string } {
    if (t.drainedAt !== undefined) {
      return {
        State: 'draining',
        Reason: 'Target.DeregistrationInProgress',
        Description: 'Target deregistration is in progress',
      };
    }
    const lbs = this.loadBalancersOf(tg).map((arn) => this.loadBalancers.get(arn)!);
    if (tg.inUseSince === undefined || lbs.length === 0) {
      return {
        State: 'unused',
        Reason: 'Target.NotInUse',
        Description: 'Target group is not configured to receive traffic from the load balancer',
      };
    }
    const activeAt = Math.max(...lbs.map((lb) => lb.activeAt));
    const checkedAt = Math.max(t.registeredAt, tg.inUseSince, activeAt) + this.delay('nlb.targetHealthy');
    if (this.now() < checkedAt) {
      return {
        State: 'initial',
        Reason: 'Elb.RegistrationInProgress',
        Description: 'Target registration is in progress',
      };
    }
    return this.reachable(tg, t, lbs)
      ? { State: 'healthy' }
      : { State: 'unhealthy', Reason: 'Target.Timeout', Description: 'Request timed out' };
  }

  /** A live ENI holds the IP and one of its groups lets TCP in on the port from the load balancer. */
  private reachable(tg: TargetGroup, t: Target, lbs: LoadBalancer[]): boolean {
    const ec2 = this.ec2;
    const r = ec2.region(tg.region);
    const live = ec2.liveEnis(tg.region);
    const eni = live.find((e) => e.PrivateIpAddress === t.id);
    if (!eni) return false;
    const lbIps = live
      .filter((e) => lbs.some((lb) => lb.eniIds.includes(e.NetworkInterfaceId)))
      .map((e) => e.PrivateIpAddress);
    const port = tg.healthCheck.port === 'traffic-port' ? t.port : Number(tg.healthCheck.port);
    return eni.groupIds.some((g) =>
      (r.securityGroups.get(g)?.ingress ?? []).some(
        (rule) =>
          (rule.IpProtocol === '-1' ||
            (rule.IpProtocol === 'tcp' && (rule.FromPort ?? 0) <= port && port <= (rule.ToPort ?? 65535))) &&
          lbIps.some((ip) => cidrContains(rule.CidrIp, ip)),
      ),
    );
  }

  private loadBalancersOf(tg: TargetGroup): string[] {
    return [
      ...new Set(
        [...this.listeners.values()].filter((l) => l.targetGroupArn === tg.arn).map((l) => l.loadBalancerArn),
      ),
    ];
  }

  // ---- listeners -----------------------------------------------------------------------------
  CreateListener(
    region: string,
    input: {
      LoadBalancerArn: string;
      Protocol?: string;
      Port?: number;
      SslPolicy?: string;
      Certificates?: Array<{ CertificateArn?: string }>;
      DefaultActions?: Action[];
      Tags?: Array<{ Key: string; Value: string }>;
    },
  ) {
    const lb = this.lb(region, input.LoadBalancerArn);
    if (lb.goneAt !== undefined)
      throw elbError('LoadBalancerNotFound', `Load balancer '${lb.arn}' not found`);
    const protocol = input.Protocol ?? 'TCP';
    const port = input.Port ?? 0;
    const targetGroupArn = this.forwardTarget(input.DefaultActions);
    const certificateArns = (input.Certificates ?? []).map((c) => c.CertificateArn ?? '');
    const sslPolicy = protocol === 'TLS' ? (input.SslPolicy ?? 'ELBSecurityPolicy-2016-08') : undefined;
    const same = [...this.listeners.values()].find((l) => l.loadBalancerArn === lb.arn && l.port === port);
    if (same) {
      const identical =
        same.protocol === protocol &&
        same.sslPolicy === sslPolicy &&
        same.targetGroupArn === targetGroupArn &&
        JSON.stringify(same.certificateArns) === JSON.stringify(certificateArns);
      if (!identical)
        throw elbError('DuplicateListener', 'A listener already exists on this port for this load balancer');
      return { Listeners: [this.describeListener(same)] };
    }
    this.checkListenerSettings(region, lb, protocol, sslPolicy, certificateArns, targetGroupArn);
    const arn = `arn:aws:elasticloadbalancing:${region}:${this.cloud.account}:listener/net/${lb.name}/${lb.id}/${this.hex(16)}`;
    const l: Listener = {
      arn,
      loadBalancerArn: lb.arn,
      protocol,
      port,
      sslPolicy,
      certificateArns,
      targetGroupArn,
      tags: tagsToMap(input.Tags),
    };
    this.listeners.set(arn, l);
    const tg = this.targetGroups.get(targetGroupArn)!;
    tg.inUseSince ??= this.now();
    return { Listeners: [this.describeListener(l)] };
  }

  ModifyListener(
    region: string,
    input: {
      ListenerArn: string;
      Protocol?: string;
      Port?: number;
      SslPolicy?: string;
      Certificates?: Array<{ CertificateArn?: string }>;
      DefaultActions?: Action[];
    },
  ) {
    const l = this.listener(region, input.ListenerArn);
    const lb = this.lb(region, l.loadBalancerArn);
    const protocol = input.Protocol ?? l.protocol;
    const sslPolicy =
      protocol === 'TLS' ? (input.SslPolicy ?? l.sslPolicy ?? 'ELBSecurityPolicy-2016-08') : undefined;
    const certificateArns = input.Certificates
      ? input.Certificates.map((c) => c.CertificateArn ?? '')
      : l.certificateArns;
    const targetGroupArn = input.DefaultActions ? this.forwardTarget(input.DefaultActions) : l.targetGroupArn;
    this.checkListenerSettings(region, lb, protocol, sslPolicy, certificateArns, targetGroupArn);
    Object.assign(l, { protocol, port: input.Port ?? l.port, sslPolicy, certificateArns, targetGroupArn });
    this.targetGroups.get(targetGroupArn)!.inUseSince ??= this.now();
    return { Listeners: [this.describeListener(l)] };
  }

  DescribeListeners(
    region: string,
    input: { LoadBalancerArn?: string; ListenerArns?: string[]; Marker?: string; PageSize?: number },
  ) {
    if (input.LoadBalancerArn) this.lb(region, input.LoadBalancerArn);
    const mine = [...this.listeners.values()].filter((l) => l.arn.includes(`:${region}:`));
    for (const arn of input.ListenerArns ?? []) {
      if (!mine.some((l) => l.arn === arn))
        throw elbError('ListenerNotFound', `One or more listeners not found`);
    }
    const { items, NextMarker } = elbPage(
      this.cloud,
      'DescribeListeners',
      mine
        .filter((l) => !input.LoadBalancerArn || l.loadBalancerArn === input.LoadBalancerArn)
        .filter((l) => !input.ListenerArns || input.ListenerArns.includes(l.arn)),
      { ...input, byIds: !!input.ListenerArns?.length },
      (l) => l.arn,
    );
    return { Listeners: items.map((l) => this.describeListener(l)), NextMarker };
  }

  DeleteListener(region: string, input: { ListenerArn: string }) {
    this.listener(region, input.ListenerArn);
    this.listeners.delete(input.ListenerArn);
    return {};
  }

  private listener(region: string, arn: string): Listener {
    const l = this.listeners.get(arn);
    if (!l || !l.arn.includes(`:${region}:`))
      throw elbError('ListenerNotFound', `One or more listeners not found`);
    return l;
  }

  private forwardTarget(actions: Action[] | undefined): string {
    const a = actions?.[0];
    const arn = a?.TargetGroupArn ?? a?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
    if (a?.Type !== 'forward' || !arn)
      throw elbError('ValidationError', 'A default action of type forward is required');
    return arn;
  }

  private checkListenerSettings(
    region: string,
    lb: LoadBalancer,
    protocol: string,
    sslPolicy: string | undefined,
    certificateArns: string[],
    targetGroupArn: string,
  ): void {
    const tg = this.tg(region, targetGroupArn);
    if (tg.vpcId !== lb.vpcId)
      throw elbError('ValidationError', 'The target group and the load balancer must be in the same VPC');
    if (!['TCP', 'TLS'].includes(tg.protocol) || !['TCP', 'TLS'].includes(protocol)) {
      throw elbError(
        'IncompatibleProtocols',
        `The listener protocol ${protocol} is not compatible with the target group protocol ${tg.protocol}`,
      );
    }
    if (protocol !== 'TLS') return;
    if (!SSL_POLICIES.has(sslPolicy!))
      throw elbError('SSLPolicyNotFound', `SSL policy '${sslPolicy}' not found`);
    if (certificateArns.length !== 1)
      throw elbError('ValidationError', 'A TLS listener needs exactly one default certificate');
    const certArn = certificateArns[0]!;
    if (!certArn.startsWith(`arn:aws:acm:${region}:`)) {
      throw elbError('CertificateNotFound', `Certificate '${certArn}' not found`);
    }
    let acm: FakeAcm | undefined;
    try {
      acm = this.cloud.model(FakeAcm);
    } catch {
      acm = undefined; // no ACM model registered: any same-region ACM ARN passes
    }
    if (acm) {
      const cert = acm.find(region, certArn);
      if (!cert) throw elbError('CertificateNotFound', `Certificate '${certArn}' not found`);
      if (acm.status(cert) !== 'ISSUED') {
        throw elbError(
          'UnsupportedCertificate',
          `Certificate '${certArn}' must be ISSUED (it is ${acm.status(cert)})`,
        );
      }
    }
  }

  // ---- tags ----------------------------------------------------------------------------------
  DescribeTags(region: string, input: { ResourceArns?: string[] }) {
    return {
      TagDescriptions: (input.ResourceArns ?? []).map((arn) => ({
        ResourceArn: arn,
        Tags: mapToTags(this.tagsOf(region, arn)),
      })),
    };
  }

  AddTags(region: string, input: { ResourceArns?: string[]; Tags?: Array<{ Key: string; Value: string }> }) {
    for (const arn of input.ResourceArns ?? [])
      Object.assign(this.tagsOf(region, arn), tagsToMap(input.Tags));
    return {};
  }

  RemoveTags(region: string, input: { ResourceArns?: string[]; TagKeys?: string[] }) {
    for (const arn of input.ResourceArns ?? []) {
      const tags = this.tagsOf(region, arn);
      for (const k of input.TagKeys ?? []) delete tags[k];
    }
    return {};
  }

  private tagsOf(region: string, arn: string): Tags {
    if (arn.includes(':loadbalancer/')) return this.lb(region, arn).tags;
    if (arn.includes(':targetgroup/')) return this.tg(region, arn).tags;
    if (arn.includes(':listener/')) return this.listener(region, arn).tags;
    throw elbError('ValidationError', `'${arn}' is not a valid ARN`);
  }

  // ---- describe shapes -----------------------------------------------------------------------
  private describeLb(lb: LoadBalancer) {
    const r = this.ec2.region(lb.region);
    return {
      LoadBalancerArn: lb.arn,
      DNSName: lb.dnsName,
      CanonicalHostedZoneId: NLB_ZONE_IDS[lb.region] ?? 'ZFAKENLBZONE',
      CreatedTime: new Date(lb.createdAt),
      LoadBalancerName: lb.name,
      Scheme: lb.scheme,
      VpcId: lb.vpcId,
      // A deleting load balancer reads as active until it is gone (the LoadBalancersDeleted waiter retries on active).
      State: { Code: this.lbState(lb) },
      Type: lb.type,
      IpAddressType: lb.ipAddressType,
      SecurityGroups: [...lb.securityGroups],
      AvailabilityZones: lb.subnetIds.map((subnetId, i) => ({
        ZoneName: r.subnets.get(subnetId)?.AvailabilityZone,
        SubnetId: subnetId,
        LoadBalancerAddresses: [{ PrivateIPv4Address: r.enis.get(lb.eniIds[i]!)?.PrivateIpAddress }],
      })),
    };
  }

  private describeTg(tg: TargetGroup) {
    return {
      TargetGroupArn: tg.arn,
      TargetGroupName: tg.name,
      Protocol: tg.protocol,
      Port: tg.port,
      VpcId: tg.vpcId,
      TargetType: tg.targetType,
      HealthCheckProtocol: tg.healthCheck.protocol,
      HealthCheckPort: tg.healthCheck.port,
      HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: tg.healthCheck.intervalSeconds,
      HealthyThresholdCount: tg.healthCheck.healthyThreshold,
      UnhealthyThresholdCount: tg.healthCheck.unhealthyThreshold,
      LoadBalancerArns: this.loadBalancersOf(tg),
      IpAddressType: 'ipv4',
    };
  }

  private describeListener(l: Listener) {
    return {
      ListenerArn: l.arn,
      LoadBalancerArn: l.loadBalancerArn,
      Port: l.port,
      Protocol: l.protocol,
      SslPolicy: l.sslPolicy,
      Certificates: l.certificateArns.map((CertificateArn) => ({ CertificateArn })),
      DefaultActions: [
        {
          Type: 'forward',
          TargetGroupArn: l.targetGroupArn,
          ForwardConfig: { TargetGroups: [{ TargetGroupArn: l.targetGroupArn, Weight: 1 }] },
        },
      ],
    };
  }

  snapshot(): string[] {
    const out: string[] = [];
    for (const lb of this.loadBalancers.values()) {
      if (lb.goneAt !== undefined && lb.goneAt <= this.now()) continue;
      out.push(
        `elbv2/${lb.region}/load-balancer/${lb.name}(${lb.goneAt === undefined ? this.lbState(lb) : 'deleting'})`,
      );
    }
    for (const tg of this.targetGroups.values()) out.push(`elbv2/${tg.region}/target-group/${tg.name}`);
    for (const l of this.listeners.values()) {
      const lb = this.loadBalancers.get(l.loadBalancerArn);
      out.push(`elbv2/${lb?.region ?? '?'}/listener/${lb?.name ?? '?'}:${l.port}`);
    }
    return out;
  }
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bits] = cidr.split('/');
  const toInt = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  if (!base || bits === undefined || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
  const prefix = Number(bits);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return (toInt(base) & mask) >>> 0 === (toInt(ip) & mask) >>> 0;
}
