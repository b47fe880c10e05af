/**
 * What a deployment costs while it runs: a dated table of AWS list prices (USD, on-demand, no free
 * tier, no tax) for the resources drctl makes, and the estimate `drctl plan` prints. No AWS call:
 * the AWS Price List API needs credentials, and the plan must work without them.
 *
 * Each price says where it comes from. `estimate: true` marks a figure not confirmed against the
 * current AWS pricing page for that region (regional prices drift; check before a budget review).
 */
import { type Config, secondaryCanary } from '../config/config.js';
import { renderTable, wrapLine } from '../io/wrap.js';

/** When the table was compiled. */
export const PRICES_AS_OF = '2026-11-25';
/** AWS bills a month as 730 hours in its calculators and pricing pages. */
export const HOURS_PER_MONTH = 730;
/** A canary on rate(1 minute) runs 60 × 24 × 30 times a month. */
export const CANARY_RUNS_PER_MONTH = 43_200;

export interface Price {
  usd: number;
  unit: string;
  source: string;
  estimate?: boolean;
}

type PriceKey =
  | 'privateCaMonth'
  | 'privateCertificate'
  | 'natGatewayHour'
  | 'publicIpv4Hour'
  | 'nlbHour'
  | 'interfaceEndpointAzHour'
  | 't3microHour'
  | 'gp3GbMonth'
  | 'canaryRun'
  | 'lambdaGbSecond'
  | 'restApiMillionRequests'
  | 'alarmMonth';

type GlobalPriceKey = 'hostedZoneMonth' | 'healthCheckMonth' | 'trafficPolicyRecordMonth';

const SRC = {
  pca: 'https://aws.amazon.com/private-ca/pricing/ (general-purpose mode; same in every region)',
  // "Private certificates whose private key you cannot access are free. These include certificates
  // that are used with Integrated Services such as Elastic Load Balancing, CloudFront, and API
  // Gateway"; an ACM certificate is charged the first time it is exported.
  pcaCertificate:
    'https://aws.amazon.com/private-ca/pricing/ and https://docs.aws.amazon.com/privateca/latest/userguide/PcaPricing.html (ACM certificate never exported, used by ELB and API Gateway only; checked 2026-12-01)',
  vpc: 'https://aws.amazon.com/vpc/pricing/',
  ipv4: 'https://aws.amazon.com/vpc/pricing/ (public IPv4 address, since 2024-02-01)',
  elb: 'https://aws.amazon.com/elasticloadbalancing/pricing/',
  privatelink: 'https://aws.amazon.com/privatelink/pricing/',
  ec2: 'https://aws.amazon.com/ec2/pricing/on-demand/',
  ebs: 'https://aws.amazon.com/ebs/pricing/',
  cloudwatch: 'https://aws.amazon.com/cloudwatch/pricing/',
  lambda: 'https://aws.amazon.com/lambda/pricing/',
  apigw: 'https://aws.amazon.com/api-gateway/pricing/',
  route53: 'https://aws.amazon.com/route53/pricing/',
};

const p = (usd: number, unit: string, source: string, estimate = false): Price =>
  estimate ? { usd, unit, source, estimate } : { usd, unit, source };

/** Per region. us-east-1 is the reference the AWS pages lead with. */
export const REGIONAL_PRICES: Readonly<Record<string, Readonly<Record<PriceKey, Price>>>> = {
  'us-east-1': {
    privateCaMonth: p(400, 'CA-month', SRC.pca),
    privateCertificate: p(0, 'certificate (never exported)', SRC.pcaCertificate),
    natGatewayHour: p(0.045, 'hour', SRC.vpc),
    publicIpv4Hour: p(0.005, 'address-hour', SRC.ipv4),
    nlbHour: p(0.0225, 'hour', SRC.elb),
    interfaceEndpointAzHour: p(0.01, 'endpoint-AZ-hour', SRC.privatelink),
    t3microHour: p(0.0104, 'hour', SRC.ec2),
    gp3GbMonth: p(0.08, 'GB-month', SRC.ebs),
    canaryRun: p(0.0012, 'run', SRC.cloudwatch),
    lambdaGbSecond: p(0.0000166667, 'GB-second', SRC.lambda),
    restApiMillionRequests: p(3.5, 'million requests', SRC.apigw),
    alarmMonth: p(0.1, 'alarm-month', SRC.cloudwatch),
  },
  'sa-east-1': {
    privateCaMonth: p(400, 'CA-month', SRC.pca),
    privateCertificate: p(0, 'certificate (never exported)', SRC.pcaCertificate),
    natGatewayHour: p(0.093, 'hour', SRC.vpc),
    publicIpv4Hour: p(0.005, 'address-hour', SRC.ipv4),
    nlbHour: p(0.034, 'hour', SRC.elb, true),
    interfaceEndpointAzHour: p(0.015, 'endpoint-AZ-hour', SRC.privatelink, true),
    t3microHour: p(0.0168, 'hour', SRC.ec2, true),
    gp3GbMonth: p(0.152, 'GB-month', SRC.ebs, true),
    canaryRun: p(0.0018, 'run', SRC.cloudwatch, true),
    lambdaGbSecond: p(0.0000166667, 'GB-second', SRC.lambda, true),
    restApiMillionRequests: p(4.55, 'million requests', SRC.apigw, true),
    alarmMonth: p(0.15, 'alarm-month', SRC.cloudwatch, true),
  },
  'us-west-1': {
    privateCaMonth: p(400, 'CA-month', SRC.pca),
    privateCertificate: p(0, 'certificate (never exported)', SRC.pcaCertificate),
    natGatewayHour: p(0.048, 'hour', SRC.vpc, true),
    publicIpv4Hour: p(0.005, 'address-hour', SRC.ipv4),
    nlbHour: p(0.0252, 'hour', SRC.elb, true),
    interfaceEndpointAzHour: p(0.011, 'endpoint-AZ-hour', SRC.privatelink, true),
    t3microHour: p(0.0124, 'hour', SRC.ec2, true),
    gp3GbMonth: p(0.096, 'GB-month', SRC.ebs, true),
    canaryRun: p(0.0012, 'run', SRC.cloudwatch, true),
    lambdaGbSecond: p(0.0000166667, 'GB-second', SRC.lambda, true),
    restApiMillionRequests: p(3.5, 'million requests', SRC.apigw, true),
    alarmMonth: p(0.1, 'alarm-month', SRC.cloudwatch, true),
  },
};

/** Route 53 is global. */
export const GLOBAL_PRICES: Readonly<Record<GlobalPriceKey, Price>> = {
  hostedZoneMonth: p(0.5, 'zone-month (first 25 zones)', SRC.route53),
  // A CLOUDWATCH_METRIC check is billed like a basic check of an AWS endpoint.
  healthCheckMonth: p(0.5, 'health-check-month', SRC.route53, true),
  trafficPolicyRecordMonth: p(50, 'policy-record-month', SRC.route53),
};

/** Sizes behind the estimate (what the VPC template and the canary step make). */
const ROOT_VOLUME_GB = 8; // the Amazon Linux 2023 AMI's root volume
const ENDPOINT_AZS = 2; // one endpoint ENI per private subnet
const PUBLIC_IPV4_CLIENT = 1; // the client instance's public IP (and the NAT's EIP with natGateway)
const CANARY_RUN_SECONDS = 5; // a short HTTPS probe; billed as Lambda time on top of the run price
const CANARY_MEMORY_GB = 1; // Synthetics' default 1,000 MB

export interface CostLine {
  resource: string;
  /** A region, or "global". */
  where: string;
  hourlyUsd: number;
  monthlyUsd: number;
  estimate: boolean;
  note?: string;
}

export interface CostEstimate {
  asOf: string;
  currency: 'USD';
  hoursPerMonth: number;
  lines: CostLine[];
  /** Charged once, not per hour (private certificates). */
  oneOff: Array<{ resource: string; where: string; usd: number; estimate: boolean }>;
  totalHourlyUsd: number;
  totalMonthlyUsd: number;
  notes: string[];
}

function pricesFor(region: string): { prices: Readonly<Record<PriceKey, Price>>; fallback: boolean } {
  const prices = REGIONAL_PRICES[region];
  return prices ? { prices, fallback: false } : { prices: REGIONAL_PRICES['us-east-1']!, fallback: true };
}

/** What the configured deployment costs per hour and per month while it runs. */
export function estimateCost(config: Config): CostEstimate {
  const lines: CostLine[] = [];
  const oneOff: CostEstimate['oneOff'] = [];
  const notes: string[] = [];
  const hourly = (resource: string, where: string, usdPerHour: number, estimate: boolean, note?: string) =>
    lines.push({
      resource,
      where,
      hourlyUsd: usdPerHour,
      monthlyUsd: usdPerHour * HOURS_PER_MONTH,
      estimate,
      ...(note ? { note } : {}),
    });
  const monthly = (resource: string, where: string, usdPerMonth: number, estimate: boolean, note?: string) =>
    lines.push({
      resource,
      where,
      hourlyUsd: usdPerMonth / HOURS_PER_MONTH,
      monthlyUsd: usdPerMonth,
      estimate,
      ...(note ? { note } : {}),
    });

  const roles = [
    { region: config.primary.region, canary: true },
    { region: config.secondary.region, canary: secondaryCanary(config) },
  ];
  for (const { region, canary } of roles) {
    const { prices: r, fallback } = pricesFor(region);
    if (fallback) notes.push(`no prices for ${region} in the table: us-east-1 prices shown for it`);
    const est = (k: PriceKey) => fallback || !!r[k].estimate;
    if (!config.certificateArn?.[region]) {
      monthly(
        'ACM Private CA, general-purpose',
        region,
        r.privateCaMonth.usd,
        est('privateCaMonth'),
        '30-day free trial for the first CA in a region',
      );
      if (r.privateCertificate.usd > 0) {
        oneOff.push({
          resource: 'private certificate (ACM)',
          where: region,
          usd: r.privateCertificate.usd,
          estimate: est('privateCertificate'),
        });
      }
    }
    // The canary's way out: an S3 gateway endpoint (no charge) and a monitoring interface
    // endpoint in each private subnet's AZ, which survives one AZ, instead of one NAT gateway.
    hourly(
      `CloudWatch monitoring interface endpoint (${ENDPOINT_AZS} AZs)`,
      region,
      ENDPOINT_AZS * r.interfaceEndpointAzHour.usd,
      est('interfaceEndpointAzHour'),
      'the canary publishes through it; the S3 gateway endpoint is free',
    );
    if (config.natGateway) {
      hourly(
        'NAT gateway (natGateway: true)',
        region,
        r.natGatewayHour.usd,
        est('natGatewayHour'),
        'plus data processed per GB',
      );
    }
    hourly(
      config.natGateway ? 'public IPv4 addresses (NAT, client)' : 'public IPv4 address (client)',
      region,
      (PUBLIC_IPV4_CLIENT + (config.natGateway ? 1 : 0)) * r.publicIpv4Hour.usd,
      est('publicIpv4Hour'),
    );
    if (config.clientInstanceType === 't3.micro') {
      hourly('EC2 client instance t3.micro', region, r.t3microHour.usd, est('t3microHour'));
    } else {
      const note = `no price for ${config.clientInstanceType} in the table: the client instances are not counted`;
      // One client per region, but one note is enough.
      if (!notes.includes(note)) notes.push(note);
    }
    monthly(
      `EBS root volume ${ROOT_VOLUME_GB} GB gp3`,
      region,
      ROOT_VOLUME_GB * r.gp3GbMonth.usd,
      est('gp3GbMonth'),
    );
    hourly(
      `execute-api interface endpoint (${ENDPOINT_AZS} AZs)`,
      region,
      ENDPOINT_AZS * r.interfaceEndpointAzHour.usd,
      est('interfaceEndpointAzHour'),
      'plus data processed per GB',
    );
    // domainMode private: clients reach the execute-api endpoint directly, no NLB is made.
    if (config.domainMode !== 'private') {
      hourly(
        'internal Network Load Balancer',
        region,
        r.nlbHour.usd,
        est('nlbHour'),
        'plus NLCU-hours (near zero for a canary)',
      );
    }
    if (canary) {
      monthly(
        'Synthetics canary, 1 run a minute',
        region,
        CANARY_RUNS_PER_MONTH * r.canaryRun.usd,
        est('canaryRun'),
      );
      monthly(
        'canary Lambda time',
        region,
        CANARY_RUNS_PER_MONTH * CANARY_RUN_SECONDS * CANARY_MEMORY_GB * r.lambdaGbSecond.usd,
        true,
        `about ${CANARY_RUN_SECONDS} s at 1 GB a run`,
      );
      monthly(
        'API requests from the canary',
        region,
        (CANARY_RUNS_PER_MONTH / 1e6) * r.restApiMillionRequests.usd,
        est('restApiMillionRequests'),
      );
      monthly('CloudWatch alarm on the canary', region, r.alarmMonth.usd, est('alarmMonth'));
    }
  }
  const g = GLOBAL_PRICES;
  monthly('Route 53 private hosted zone', 'global', g.hostedZoneMonth.usd, !!g.hostedZoneMonth.estimate);
  // One on each region's canary alarm where the region runs a canary (the secondary's with
  // canary.secondary or active-active).
  const healthChecks = secondaryCanary(config) ? 2 : 1;
  monthly(
    healthChecks === 2
      ? 'Route 53 health checks (CloudWatch metric), one per region'
      : 'Route 53 health check (CloudWatch metric)',
    'global',
    healthChecks * g.healthCheckMonth.usd,
    !!g.healthCheckMonth.estimate,
  );
  // The traffic hold (config/traffic-hold.ts): per region a hold check on its hold alarm and the
  // CALCULATED check its record uses, both billed here at the AWS-endpoint price (estimated, as
  // the metric check above), and the hold alarm, in the other region. Its metric is written only
  // by a switch, so a month without one has no custom-metric charge.
  monthly(
    'Route 53 traffic hold: a hold check and a calculated check per region',
    'global',
    4 * g.healthCheckMonth.usd,
    !!g.healthCheckMonth.estimate,
  );
  for (const { region } of roles) {
    const { prices: r, fallback } = pricesFor(region);
    monthly(
      'CloudWatch hold alarm (traffic hold)',
      region,
      r.alarmMonth.usd,
      fallback || !!r.alarmMonth.estimate,
    );
  }
  if (config.routing === 'traffic-policy') {
    monthly(
      'Route 53 traffic policy record',
      'global',
      g.trafficPolicyRecordMonth.usd,
      !!g.trafficPolicyRecordMonth.estimate,
    );
  }
  if (roles.some(({ region }) => !config.certificateArn?.[region])) {
    notes.push(
      'private certificates: free while only the NLB and API Gateway use them (AWS Private CA charges $0.75 for one the first time it is exported from ACM; drctl never exports)',
    );
  }
  {
    const { prices: r } = pricesFor(config.primary.region);
    const month = (usdPerHour: number) => `$${(usdPerHour * HOURS_PER_MONTH).toFixed(2)}`;
    const endpoints = month(ENDPOINT_AZS * r.interfaceEndpointAzHour.usd);
    const nat = month(r.natGatewayHour.usd + r.publicIpv4Hour.usd);
    notes.push(
      config.natGateway
        ? `natGateway: true adds a NAT gateway and its address (${nat} a month in ${config.primary.region}, plus data) on top of the canary's endpoints (${endpoints})`
        : `the canary's way out: VPC endpoints in both AZs (${endpoints} a month in ${config.primary.region}) instead of one NAT gateway in one AZ (${nat} plus data); natGateway: true adds the NAT`,
    );
  }
  notes.push(
    'not counted: data transfer (peering $0.02/GB across regions), NAT and endpoint data processing, S3 and CloudWatch Logs for canary artifacts, the drill probe (Lambda, cents): all near zero at canary traffic',
  );

  const round = (n: number) => Math.round(n * 10_000) / 10_000;
  return {
    asOf: PRICES_AS_OF,
    currency: 'USD',
    hoursPerMonth: HOURS_PER_MONTH,
    lines: lines.map((l) => ({ ...l, hourlyUsd: round(l.hourlyUsd), monthlyUsd: round(l.monthlyUsd) })),
    oneOff,
    totalHourlyUsd: round(lines.reduce((s, l) => s + l.hourlyUsd, 0)),
    totalMonthlyUsd: round(lines.reduce((s, l) => s + l.monthlyUsd, 0)),
    notes,
  };
}

/**
 * The estimate as the text lines `drctl plan` prints. At a terminal's `width` the resource names
 * fold within their column and each note goes below its row, so the prices stay whole and aligned;
 * without one (piped) every row is one line.
 */
export function formatCost(c: CostEstimate, width?: number): string[] {
  const money = (n: number, digits: number) => `$${n.toFixed(digits)}`;
  const whereWidth = Math.max(6, ...c.lines.map((l) => l.where.length));
  const rows = [
    { cells: ['resource', 'where'.padEnd(whereWidth), 'per hour'.padStart(9), 'per month'.padStart(10)] },
    ...c.lines.map((l) => ({
      cells: [
        l.resource,
        l.where,
        money(l.hourlyUsd, 4).padStart(9),
        `${money(l.monthlyUsd, 2).padStart(10)}${l.estimate ? ' *' : '  '}`,
      ],
      note: l.note,
    })),
    {
      cells: ['total', '', money(c.totalHourlyUsd, 4).padStart(9), money(c.totalMonthlyUsd, 2).padStart(10)],
    },
  ];
  const out = [
    ...wrapLine(
      `cost while it runs (USD list prices as of ${c.asOf}; a month is ${c.hoursPerMonth} h; * = estimate, check the AWS page):`,
      width,
    ),
    ...renderTable(rows, [{ wrap: true }, {}, { align: 'right' }, {}], { width, indent: '  ' }),
  ];
  if (c.oneOff.length) {
    out.push(
      ...wrapLine(
        `  once: ${c.oneOff.map((o) => `${o.resource} in ${o.where} ${money(o.usd, 2)}`).join('; ')}`,
        width,
      ),
    );
  }
  for (const n of c.notes) out.push(...wrapLine(`  ${n}`, width));
  return out;
}
