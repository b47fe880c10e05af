import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type Listener,
  type LoadBalancer,
  ModifyListenerCommand,
  paginateDescribeListeners,
  RegisterTargetsCommand,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { z } from 'zod';
import { isDependencyInUse, isNotFound, unlessNotFound } from '../aws/errors.js';
import { EXPECTED, plus, remaining } from '../aws/expected.js';
import { collect, findInPages } from '../aws/pages.js';
import { isOwnedBy } from '../aws/tags.js';
import { AwsStepError } from '../errors/errors.js';
import type { Found, StepContext, StepImpl } from './types.js';

// Owns, per region: an internal Network Load Balancer in the private subnets, a TLS target group
// of type ip on 443 holding every execute-api endpoint ENI IP (the workshop registered only the
// first: docs/design/aws-behaviour.md §12.10), and a TLS listener on 443 with the region's certificate and
// config.tlsPolicy (the workshop's ELBSecurityPolicy-2016-08 allows TLS 1.0: §12.7).
// The load balancer is the long pole (~150 s), so it is created as soon as the VPC exists; the
// endpoint IPs and the certificate are awaited only after (catalogue: after vpc, uses endpoints, ca).

const arn = z.string().regex(/^arn:aws[a-z-]*:elasticloadbalancing:/);
const outputs = z.object({
  loadBalancerArn: arn,
  loadBalancerName: z.string().max(32),
  /** internal-<name>-<id>.elb.<region>.amazonaws.com: the failover records' alias target. */
  dnsName: z.string(),
  canonicalHostedZoneId: z.string(),
  targetGroupArn: arn,
  listenerArn: arn,
  targetIps: z.array(z.string()),
  certificateArn: z.string().optional(),
  tlsPolicy: z.string().optional(),
});
export type NlbOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    nlb: NlbOutputs;
  }
}

type Ctx = StepContext<NlbOutputs>;

const PORT = 443;
// NLB provisioning is ~150 s, slow 240 s, with rare much longer tails (docs/design/timings.md §6).
const ACTIVE_TIMEOUT_MS = 15 * 60_000;
// New targets take 2-5 minutes to pass their first health checks (docs/design/timings.md §6).
const HEALTHY_TIMEOUT_MS = 15 * 60_000;
const DELETE_TIMEOUT_MS = 10 * 60_000;
// A listener forwarding to the target group may still be visible for a moment after its load balancer went.
const TG_IN_USE_TIMEOUT_MS = 2 * 60_000;

/** ELB names: at most 32 characters, letters, digits and hyphens, and not beginning with "internal-". */
export const loadBalancerName = (ctx: Pick<Ctx, 'config' | 'region'>) =>
  `${ctx.config.deployment}-nlb-${ctx.region}`;
export const targetGroupName = (ctx: Pick<Ctx, 'config' | 'region'>) =>
  `${ctx.config.deployment}-tg-${ctx.region}`;

function checkNames(ctx: Ctx): void {
  for (const name of [loadBalancerName(ctx), targetGroupName(ctx)]) {
    if (name.length > 32 || name.startsWith('internal-')) {
      throw new AwsStepError(
        `ELB name ${name} is not allowed (at most 32 characters, not beginning with "internal-")`,
        {
          resource: name,
          resolution: 'Choose a shorter `deployment` name, or one that is not "internal".',
        },
      );
    }
  }
}

const elb = (ctx: Ctx) => ctx.aws.client(ElasticLoadBalancingV2Client, ctx.region);

async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  return unlessNotFound(() => call);
}

async function tagsOf(ctx: Ctx, resourceArn: string) {
  const r = await elb(ctx).send(new DescribeTagsCommand({ ResourceArns: [resourceArn] }));
  return r.TagDescriptions?.[0]?.Tags;
}

/** Refuse a load balancer or target group of our name that another deployment (or a person) made. */
async function mustBeOurs(ctx: Ctx, what: string, resourceArn: string): Promise<void> {
  if (isOwnedBy(await tagsOf(ctx, resourceArn), ctx.config.deployment)) return;
  throw new AwsStepError(
    `${what} in ${ctx.region} exists but was not made by drctl deployment "${ctx.config.deployment}"`,
    {
      resource: resourceArn,
      resolution:
        'drctl never touches what it did not make: delete or rename it, or choose another `deployment` name.',
    },
  );
}

async function describeLb(ctx: Ctx, by: { arn?: string; name?: string }): Promise<LoadBalancer | undefined> {
  const r = await orUndefined(
    elb(ctx).send(
      new DescribeLoadBalancersCommand(by.arn ? { LoadBalancerArns: [by.arn] } : { Names: [by.name!] }),
    ),
  );
  return r?.LoadBalancers?.[0];
}

async function targetGroupArnByName(ctx: Ctx, name: string): Promise<string | undefined> {
  const r = await orUndefined(elb(ctx).send(new DescribeTargetGroupsCommand({ Names: [name] })));
  return r?.TargetGroups?.[0]?.TargetGroupArn;
}

/** The target group's targets, or undefined when the target group does not exist. */
async function targetsOf(ctx: Ctx, targetGroupArn: string): Promise<TargetHealthDescription[] | undefined> {
  const r = await orUndefined(
    elb(ctx).send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })),
  );
  return r ? (r.TargetHealthDescriptions ?? []) : undefined;
}

const registered = (targets: TargetHealthDescription[]) =>
  targets.filter((t) => !(t.TargetHealth?.State ?? '').includes('draining')).map((t) => t.Target?.Id ?? '');

function allHealthy(targets: TargetHealthDescription[], ips: string[]): boolean {
  return ips.every((ip) => targets.some((t) => t.Target?.Id === ip && t.TargetHealth?.State === 'healthy'));
}

/** "1 healthy, 1 initial (Elb.RegistrationInProgress)": what the targets wait for, in AWS words. */
function healthSummary(targets: TargetHealthDescription[], ips: string[]): string {
  const counts = new Map<string, number>();
  for (const t of targets.filter((x) => ips.includes(x.Target?.Id ?? ''))) {
    const h = t.TargetHealth;
    const key = h?.Reason ? `${h.State} (${h.Reason})` : (h?.State ?? 'unknown');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'no targets yet';
}

function listenerMatches(
  l: Listener,
  want: { certificateArn: string; tlsPolicy: string; targetGroupArn: string },
) {
  const forward = l.DefaultActions?.[0];
  const tg = forward?.TargetGroupArn ?? forward?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
  return (
    l.Protocol === 'TLS' &&
    l.SslPolicy === want.tlsPolicy &&
    l.Certificates?.length === 1 &&
    l.Certificates[0]?.CertificateArn === want.certificateArn &&
    forward?.Type === 'forward' &&
    tg === want.targetGroupArn
  );
}

async function findListener(ctx: Ctx, loadBalancerArn: string): Promise<Listener | undefined> {
  if (ctx.recorded.listenerArn) {
    const r = await orUndefined(
      elb(ctx).send(new DescribeListenersCommand({ ListenerArns: [ctx.recorded.listenerArn] })),
    );
    const l = r?.Listeners?.[0];
    if (l && l.LoadBalancerArn === loadBalancerArn) return l;
  }
  return findInPages(
    paginateDescribeListeners({ client: elb(ctx) }, { LoadBalancerArn: loadBalancerArn }),
    (p) => p.Listeners,
    (l) => l.Port === PORT,
  );
}

async function waitActive(ctx: Ctx, loadBalancerArn: string): Promise<LoadBalancer> {
  return ctx.poll({
    what: `load balancer ${loadBalancerName(ctx)}`,
    timeoutMs: ACTIVE_TIMEOUT_MS,
    minDelayMs: 5_000,
    maxDelayMs: 10_000,
    check: async () => {
      const lb = await describeLb(ctx, { arn: loadBalancerArn });
      const state = lb?.State?.Code ?? 'not found';
      if (state === 'active') return { done: true, value: lb! };
      if (state === 'provisioning') return { done: false, status: state };
      throw new AwsStepError(
        `load balancer ${loadBalancerName(ctx)} is ${state}${lb?.State?.Reason ? `: ${lb.State.Reason}` : ''}`,
        {
          resource: loadBalancerArn,
          awsCode: state,
          resolution: 'Run `drctl down` to remove it, then `drctl up` to make a new one.',
        },
      );
    },
  });
}

export const nlb: StepImpl<NlbOutputs> = {
  outputs,

  async up(ctx) {
    checkNames(ctx);
    const client = elb(ctx);
    const lbName = loadBalancerName(ctx);
    const tgName = targetGroupName(ctx);
    const vpc = await ctx.outputOf('vpc');

    // 1. The load balancer first: it provisions while the endpoints and the certificate are made.
    ctx.progress(`load balancer ${lbName}`);
    let lb = ctx.recorded.loadBalancerArn
      ? await describeLb(ctx, { arn: ctx.recorded.loadBalancerArn })
      : undefined;
    if (!lb) {
      lb = await describeLb(ctx, { name: lbName });
      if (lb) await mustBeOurs(ctx, `load balancer ${lbName}`, lb.LoadBalancerArn!);
    }
    if (!lb) {
      // Idempotent for identical settings, so a repeat after a crash returns the same one.
      const r = await client.send(
        new CreateLoadBalancerCommand({
          Name: lbName,
          Type: 'network',
          Scheme: 'internal',
          Subnets: vpc.privateSubnetIds,
          IpAddressType: 'ipv4',
          Tags: ctx.tags(),
        }),
      );
      lb = r.LoadBalancers![0]!;
    }
    const loadBalancerArn = lb.LoadBalancerArn!;
    const lbRecord = {
      loadBalancerArn,
      loadBalancerName: lbName,
      dnsName: lb.DNSName!,
      canonicalHostedZoneId: lb.CanonicalHostedZoneId!,
    };
    if (ctx.recorded.loadBalancerArn !== loadBalancerArn) ctx.record(lbRecord);

    // 2. The target group (its targets double as the existence check).
    let targetGroupArn = ctx.recorded.targetGroupArn;
    let targets = targetGroupArn ? await targetsOf(ctx, targetGroupArn) : undefined;
    if (!targets) {
      targetGroupArn = await targetGroupArnByName(ctx, tgName);
      if (targetGroupArn) await mustBeOurs(ctx, `target group ${tgName}`, targetGroupArn);
      else {
        const r = await client.send(
          new CreateTargetGroupCommand({
            Name: tgName,
            Protocol: 'TLS',
            Port: PORT,
            VpcId: vpc.vpcId,
            TargetType: 'ip',
            // TCP health check on the endpoint's 443: no HTTP path exists that answers without a
            // Host header naming an API (docs/design/aws-behaviour.md §7; serverless-samples apigw-private-custom-domain-name).
            HealthCheckProtocol: 'TCP',
            HealthCheckPort: String(PORT),
            HealthCheckIntervalSeconds: 10,
            HealthyThresholdCount: 3,
            UnhealthyThresholdCount: 3,
            Tags: ctx.tags(),
          }),
        );
        targetGroupArn = r.TargetGroups![0]!.TargetGroupArn!;
      }
      ctx.record({ targetGroupArn });
      targets = (await targetsOf(ctx, targetGroupArn)) ?? [];
    }
    const tgArn = targetGroupArn!;

    // 3. Every endpoint ENI IP as a target; IPs of an endpoint that was replaced go.
    ctx.progress(`target group ${tgName}: waiting for the execute-api endpoint`);
    const { privateIps } = await ctx.outputOf('endpoints');
    const have = registered(targets);
    const missing = privateIps.filter((ip) => !have.includes(ip));
    const stale = have.filter((ip) => !privateIps.includes(ip));
    if (missing.length) {
      await client.send(
        new RegisterTargetsCommand({
          TargetGroupArn: tgArn,
          Targets: missing.map((Id) => ({ Id, Port: PORT })),
        }),
      );
    }
    if (stale.length) {
      await client.send(
        new DeregisterTargetsCommand({
          TargetGroupArn: tgArn,
          Targets: stale.map((Id) => ({ Id, Port: PORT })),
        }),
      );
    }

    // 4. The TLS listener, once the region's certificate exists.
    ctx.progress(`listener ${lbName}:${PORT}: waiting for the certificate`);
    const { certificateArn } = await ctx.outputOf('ca');
    const want = { certificateArn, tlsPolicy: ctx.config.tlsPolicy, targetGroupArn: tgArn };
    const listenerSettings = {
      Protocol: 'TLS' as const,
      Port: PORT,
      SslPolicy: want.tlsPolicy,
      Certificates: [{ CertificateArn: certificateArn }],
      DefaultActions: [{ Type: 'forward' as const, TargetGroupArn: tgArn }],
    };
    let listener = await findListener(ctx, loadBalancerArn);
    if (!listener) {
      const r = await client.send(
        new CreateListenerCommand({
          LoadBalancerArn: loadBalancerArn,
          ...listenerSettings,
          Tags: ctx.tags(),
        }),
      );
      listener = r.Listeners![0]!;
      ctx.record({ listenerArn: listener.ListenerArn! });
    } else {
      if (ctx.recorded.listenerArn !== listener.ListenerArn)
        ctx.record({ listenerArn: listener.ListenerArn! });
      if (!listenerMatches(listener, want)) {
        ctx.progress(`listener ${lbName}:${PORT}: certificate ${certificateArn}, policy ${want.tlsPolicy}`);
        await client.send(
          new ModifyListenerCommand({ ListenerArn: listener.ListenerArn!, ...listenerSettings }),
        );
      }
    }

    // 5. Usable when every endpoint IP passes its health checks and the load balancer is active.
    if (missing.length || stale.length || !allHealthy(targets, privateIps)) {
      // Health checks start once the load balancer is active (minutes after its CreatedTime).
      const since = ctx.clock.now() - (lb.CreatedTime?.getTime() ?? ctx.clock.now());
      const active = remaining(EXPECTED['nlb.create'], since) ?? { typicalMs: 0, slowMs: 0 };
      await ctx
        .poll({
          what: `targets of ${tgName}`,
          timeoutMs: HEALTHY_TIMEOUT_MS,
          expect: plus(active, EXPECTED['nlb.targetHealthy']),
          minDelayMs: 5_000,
          maxDelayMs: 10_000,
          check: async () => {
            const now = await targetsOf(ctx, tgArn);
            if (!now) throw new AwsStepError(`target group ${tgName} disappeared`, { resource: tgArn });
            if (allHealthy(now, privateIps)) return { done: true, value: undefined };
            return { done: false, status: healthSummary(now, privateIps) };
          },
        })
        .catch((e: unknown) => {
          if (e instanceof AwsStepError && e.code === 'aws.timeout') {
            throw new AwsStepError(e.message, {
              code: 'aws.timeout',
              resource: tgArn,
              awsCode: 'Target.Timeout',
              resolution:
                "The endpoint's security group must allow TCP 443 from the VPC CIDR (the load balancer's addresses); fix it and run the same command again.",
            });
          }
          throw e;
        });
    }
    if (lb.State?.Code !== 'active') lb = await waitActive(ctx, loadBalancerArn);

    return {
      ...lbRecord,
      targetGroupArn: tgArn,
      listenerArn: listener.ListenerArn!,
      targetIps: privateIps,
      certificateArn,
      tlsPolicy: want.tlsPolicy,
    };
  },

  async down(ctx) {
    const client = elb(ctx);
    const lbName = ctx.recorded.loadBalancerName ?? loadBalancerName(ctx);
    let lb = ctx.recorded.loadBalancerArn
      ? await describeLb(ctx, { arn: ctx.recorded.loadBalancerArn })
      : undefined;
    if (!lb) {
      lb = await describeLb(ctx, { name: lbName });
      if (lb && !isOwnedBy(await tagsOf(ctx, lb.LoadBalancerArn!), ctx.config.deployment)) {
        ctx.warn(`left load balancer ${lbName}: it is not drctl's`);
        lb = undefined;
      }
    }
    if (lb) {
      const lbArn = lb.LoadBalancerArn!;
      // Deleting the load balancer deletes its listeners (ELBv2 DeleteLoadBalancer API).
      await client.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lbArn }));
      await ctx.poll({
        what: `load balancer ${lbName} deletion`,
        timeoutMs: DELETE_TIMEOUT_MS,
        minDelayMs: 5_000,
        maxDelayMs: 10_000,
        check: async () =>
          (await describeLb(ctx, { arn: lbArn }))
            ? { done: false, status: 'still described' }
            : { done: true, value: undefined },
      });
    }

    const tgName = targetGroupName(ctx);
    let tgArn = ctx.recorded.targetGroupArn;
    if (tgArn && !(await targetsOf(ctx, tgArn))) tgArn = undefined;
    if (!tgArn) {
      tgArn = await targetGroupArnByName(ctx, tgName);
      if (tgArn && !isOwnedBy(await tagsOf(ctx, tgArn), ctx.config.deployment)) {
        ctx.warn(`left target group ${tgName}: it is not drctl's`);
        tgArn = undefined;
      }
    }
    if (tgArn) {
      const arnToDelete = tgArn;
      ctx.progress(`target group ${tgName}`);
      // Refused (ResourceInUse) while a listener still forwards to it.
      await pollDelete(ctx, `target group ${tgName}`, () =>
        client.send(new DeleteTargetGroupCommand({ TargetGroupArn: arnToDelete })),
      );
    }
  },

  async check(ctx) {
    const missing: string[] = [];
    const r = ctx.recorded;
    if (r.loadBalancerArn && !(await describeLb(ctx, { arn: r.loadBalancerArn }))) {
      missing.push(`load balancer ${r.loadBalancerName ?? r.loadBalancerArn}`);
    }
    if (r.targetGroupArn && !(await targetsOf(ctx, r.targetGroupArn)))
      missing.push(`target group ${r.targetGroupArn}`);
    if (r.listenerArn) {
      const l = await orUndefined(
        elb(ctx).send(new DescribeListenersCommand({ ListenerArns: [r.listenerArn] })),
      );
      if (!l?.Listeners?.length) missing.push(`listener ${r.listenerArn}`);
    }
    return missing;
  },

  async discover(ctx) {
    const found: Found[] = [];
    const lbName = loadBalancerName(ctx);
    const lb = await describeLb(ctx, { name: lbName });
    if (lb && isOwnedBy(await tagsOf(ctx, lb.LoadBalancerArn!), ctx.config.deployment)) {
      found.push({
        what: `load balancer ${lbName} (${lb.State?.Code ?? 'unknown'})`,
        id: lb.LoadBalancerArn!,
      });
      const listeners = await collect(
        paginateDescribeListeners({ client: elb(ctx) }, { LoadBalancerArn: lb.LoadBalancerArn }),
        (p) => p.Listeners,
      );
      for (const l of listeners) {
        found.push({ what: `listener ${lbName}:${l.Port}`, id: l.ListenerArn! });
      }
    }
    const tgName = targetGroupName(ctx);
    const tgArn = await targetGroupArnByName(ctx, tgName);
    if (tgArn && isOwnedBy(await tagsOf(ctx, tgArn), ctx.config.deployment)) {
      found.push({ what: `target group ${tgName}`, id: tgArn });
    }
    return found;
  },
};

async function pollDelete(ctx: Ctx, what: string, call: () => Promise<unknown>): Promise<void> {
  await ctx.poll({
    what,
    timeoutMs: TG_IN_USE_TIMEOUT_MS,
    minDelayMs: 2_000,
    maxDelayMs: 5_000,
    retryOn: isDependencyInUse,
    check: async () => {
      try {
        await call();
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return { done: true, value: undefined };
    },
  });
}
