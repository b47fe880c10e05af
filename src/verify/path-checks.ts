import {
  DescribeRouteTablesCommand,
  DescribeVpcPeeringConnectionsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ProbeResult } from '../assets/probe-function.js';
import { isNotFound, unlessNotFound } from '../aws/errors.js';
import { callProbe, invocationFailure, invocationRefused } from '../aws/probe-invoke.js';
import { healthPathOf } from '../config/api-source.js';
import { activeActive, regionsOf } from '../config/config.js';
import { outputField, recordedOutputs } from '../state/outputs.js';
import { GLOBAL } from '../state/schema.js';
import { PRIVATE_DOMAIN_PROVISIONING_WINDOW_MS } from '../steps/probe/private-domain.js';
import {
  type CheckLine,
  UP,
  type VerifyCheck,
  type VerifyContext,
  entryOf,
  fail,
  global,
  noNlb,
  ok,
  perRegion,
  warn,
} from './check.js';

// Does the path answer: a client in the VPC gets a 200 through each region's entry point, the NLB
// listens and forwards to healthy targets, and the peering joins the VPCs both ways.

/**
 * Ask the probe in the secondary VPC to GET https://<host>.<domain><api.healthPath> through `via`. When the
 * function itself failed, `invocation` says so: the path was never tried, so it is not to blame.
 */
export async function invokeProbe(
  ctx: VerifyContext,
  via: string,
): Promise<ProbeResult & { invocation?: { summary: string; resolution: string; refused?: boolean } }> {
  const functionName = outputField(ctx.state, 'probe', GLOBAL, 'functionName');
  const region = outputField(ctx.state, 'probe', GLOBAL, 'region');
  let call;
  try {
    call = await callProbe(ctx.aws, region, functionName, via, healthPathOf(ctx.config.api));
  } catch (e) {
    // Lambda refused the invocation: the path was never tried, so it is not to blame.
    const invocation = invocationRefused(functionName, region, e);
    if (!invocation) throw e;
    return {
      answer: [],
      error: invocation.summary,
      invocation: { summary: invocation.summary, resolution: invocation.resolution, refused: true },
    };
  }
  const { result, functionError, text } = call;
  if (functionError) {
    const invocation = invocationFailure(functionName, region, call);
    return { answer: [], error: invocation.summary, invocation };
  }
  if (!result) {
    return {
      answer: [],
      error: `the probe ${functionName} returned something else than a probe result: ${text.slice(0, 200)}`,
    };
  }
  return result;
}

const TLS_ERROR = /CERT|certificate|self[- ]signed|SSL|TLS|ERR_TLS|UNABLE_TO|altname/i;

export const probeThroughNlb: VerifyCheck = {
  id: 'probe',
  title: 'each region answers the health path through its own NLB, with a certificate that verifies',
  run: (ctx) =>
    perRegion(ctx, 'probe', async (region) => {
      const name = `${ctx.config.host}.${ctx.config.domain}`;
      const entry = entryOf(ctx, region);
      const p = await invokeProbe(ctx, entry.dns);
      const url = `https://${name}${healthPathOf(ctx.config.api)}`;
      if (p.status === 200 && p.region === region)
        return [
          ok('probe', `${url} through the ${entry.what}: 200 from ${region}, certificate verified`, region),
        ];
      // Refused by Lambda (a permission, a throttle): nothing was checked, as when a read fails.
      if (p.invocation?.refused)
        return [
          {
            ...fail('probe', `${url}: not tried, ${p.invocation.summary}`, p.invocation.resolution, region),
            status: 'error',
          },
        ];
      if (p.invocation)
        return [fail('probe', `${url}: not tried, ${p.invocation.summary}`, p.invocation.resolution, region)];
      // A new private custom domain or access association serves nothing for about 15 minutes
      // each (AWS): a failure that soon is provisioning, not a broken path.
      const associatedAt = noNlb(ctx)
        ? recordedOutputs(ctx.state, 'domain', region)?.accessAssociationCreatedAt
        : undefined;
      const age = typeof associatedAt === 'string' ? ctx.clock.now() - Date.parse(associatedAt) : NaN;
      if (age >= 0 && age < PRIVATE_DOMAIN_PROVISIONING_WINDOW_MS)
        return [
          warn(
            'probe',
            `${url} through the ${entry.what}: still provisioning (access association made ${Math.round(age / 60_000)} min ago; AWS takes about 15 min, and as long again for a new domain)`,
            'Wait, then run `drctl verify` again (or `drctl up`, which waits until it answers).',
            region,
          ),
        ];
      if (p.error && TLS_ERROR.test(p.error))
        return [
          fail(
            'probe',
            `${url} through the ${entry.what}: the certificate does not verify (${p.error})`,
            noNlb(ctx)
              ? `The ${region} private custom domain must hold the ${region} CA's certificate for ${name} and an access association with the endpoint: run \`drctl up\`.`
              : `The NLB listener must serve the ${region} CA's certificate for ${name}: run \`drctl up\`.`,
            region,
          ),
        ];
      const got = p.error ? p.error : `${p.status ?? 'no status'}${p.region ? ` from ${p.region}` : ''}`;
      return [
        fail(
          'probe',
          `${url} through the ${entry.what}, from inside the VPC: ${got}`,
          `Check the ${region} path (${noNlb(ctx) ? 'VPC endpoint, access association, custom domain policy' : 'NLB listener and targets, VPC endpoint, custom domain'}, API): \`drctl status --refresh\`, then \`drctl up\`.`,
          region,
        ),
      ];
    }),
};

export const listeners: VerifyCheck = {
  id: 'listener',
  title: 'each NLB has its TLS 443 listener with the certificate, forwarding to the targets',
  run: (ctx) =>
    perRegion(ctx, 'listener', async (region) => {
      if (noNlb(ctx)) return [ok('listener', 'no NLB with domainMode private: nothing to check', region)];
      const arn = outputField(ctx.state, 'nlb', region, 'listenerArn');
      const tg = outputField(ctx.state, 'nlb', region, 'targetGroupArn');
      const cert = outputField(ctx.state, 'ca', region, 'certificateArn');
      const l = (
        await unlessNotFound(async () =>
          ctx.aws
            .client(ElasticLoadBalancingV2Client, region)
            .send(new DescribeListenersCommand({ ListenerArns: [arn] })),
        )
      )?.Listeners?.[0];
      if (!l)
        return [fail('listener', `listener ${arn} is gone: the NLB answers nothing on 443`, UP, region)];
      const problems: string[] = [];
      if (l.Port !== 443 || l.Protocol !== 'TLS') problems.push(`it is ${l.Protocol} ${l.Port}, not TLS 443`);
      if (!(l.Certificates ?? []).some((c) => c.CertificateArn === cert))
        problems.push(`it does not serve certificate ${cert}`);
      const forwards = (l.DefaultActions ?? []).some(
        (a) =>
          a.TargetGroupArn === tg ||
          (a.ForwardConfig?.TargetGroups ?? []).some((t) => t.TargetGroupArn === tg),
      );
      if (!forwards) problems.push(`it does not forward to target group ${tg}`);
      return problems.length
        ? [fail('listener', `listener ${arn}: ${problems.join('; ')}`, UP, region)]
        : [ok('listener', 'TLS 443 with the certificate, forwarding to the endpoint targets', region)];
    }),
};

export const peering: VerifyCheck = {
  id: 'peering',
  title: 'peering active, with routes both ways',
  run: (ctx) =>
    global('peering', async () => {
      const [primary] = regionsOf(ctx.config);
      // peering "existing": the user's connection, not drctl's to inspect; the probe check
      // proves the path across it.
      if (ctx.config.peering === 'existing')
        return [ok('peering', 'the VPCs are connected by you (peering "existing"): see the probe')];
      const pcx = outputField(ctx.state, 'peering', GLOBAL, 'vpcPeeringConnectionId');
      const routes = recordedOutputs(ctx.state, 'peering', GLOBAL)?.routes ?? [];
      let conn;
      try {
        conn = (
          await ctx.aws
            .client(EC2Client, primary)
            .send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [pcx] }))
        ).VpcPeeringConnections?.[0];
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      const status = conn?.Status?.Code;
      if (!conn || status !== 'active')
        return [
          fail('peering', `peering ${pcx} is ${status ?? 'gone'}: the regions cannot reach each other`, UP),
        ];
      const lines: CheckLine[] = [];
      for (const region of regionsOf(ctx.config)) {
        const mine = routes.filter((r) => r.region === region);
        if (!mine.length) {
          lines.push(fail('peering', `no route through ${pcx} is recorded in ${region}`, UP, region));
          continue;
        }
        const tables =
          (
            await ctx.aws
              .client(EC2Client, region)
              .send(
                new DescribeRouteTablesCommand({
                  RouteTableIds: [...new Set(mine.map((r) => r.routeTableId))],
                }),
              )
              .catch((e: unknown) => {
                if (isNotFound(e)) return { RouteTables: [] };
                throw e;
              })
          ).RouteTables ?? [];
        const broken = mine.filter((want) => {
          const t = tables.find((x) => x.RouteTableId === want.routeTableId);
          const route = t?.Routes?.find((x) => x.DestinationCidrBlock === want.destinationCidrBlock);
          return !route || route.VpcPeeringConnectionId !== pcx || route.State === 'blackhole';
        });
        // A subnet uses its explicitly associated table, else the main one, which drctl never
        // routes: every subnet clients use must still be associated with a routed table.
        const served = [
          ...(recordedOutputs(ctx.state, 'vpc', region)?.privateSubnetIds ?? []),
          recordedOutputs(ctx.state, 'vpc', region)?.publicSubnetId,
        ].filter((x): x is string => typeof x === 'string');
        const stray = served.filter(
          (subnet) => !tables.some((t) => t.Associations?.some((a) => a.SubnetId === subnet && !a.Main)),
        );
        lines.push(
          broken.length
            ? fail(
                'peering',
                `missing route(s) through ${pcx}: ${broken.map((b) => `${b.routeTableId} -> ${b.destinationCidrBlock}`).join(', ')}`,
                UP,
                region,
              )
            : stray.length
              ? fail(
                  'peering',
                  `subnet(s) ${stray.join(', ')} lost their route table association: the VPC's main ` +
                    'table they now use has no route to the other VPC',
                  'Run `drctl up`: it names the table each subnet must be associated with again.',
                  region,
                )
              : ok('peering', `${mine.length} route(s) to the other VPC through ${pcx}`, region),
        );
      }
      return [ok('peering', `peering ${pcx} is active`), ...lines];
    }),
};

export const secondaryTargets: VerifyCheck = {
  id: 'targets',
  title:
    "the secondary NLB's targets are healthy (in active-active: each region's, since either takes the other's clients)",
  run: (ctx) =>
    global('targets', async () => {
      const [primary, secondary] = regionsOf(ctx.config);
      if (noNlb(ctx))
        return [ok('targets', 'no NLB targets with domainMode private: nothing to check', secondary)];
      const lines: CheckLine[] = [];
      for (const region of activeActive(ctx.config) ? [primary, secondary] : [secondary]) {
        const tg = outputField(ctx.state, 'nlb', region, 'targetGroupArn');
        const th = await ctx.aws
          .client(ElasticLoadBalancingV2Client, region)
          .send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
        const states = (th.TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State ?? 'unknown');
        const healthy = states.filter((s) => s === 'healthy').length;
        const text = `${healthy}/${states.length} targets healthy (${states.join(', ') || 'none registered'})`;
        const fix = `Check the endpoint and its security group in ${region} (\`drctl status --refresh\`), then \`drctl up\`.`;
        if (healthy === 0) lines.push(fail('targets', `${text}: a failover would land nowhere`, fix, region));
        else if (healthy < states.length) lines.push(warn('targets', text, fix, region));
        else lines.push(ok('targets', text, region));
      }
      return lines;
    }),
};
