import { getRole } from '../../aws/resources/service-role.js';
import { isOwnedBy } from '../../aws/tags.js';
import { activeActive } from '../../config/config.js';
import type { Found, StepImpl } from '../types.js';
import {
  type Ctx,
  type ProbeOutputs,
  outputs,
  primaryOf,
  probeFunctionName,
  roleNameOf,
  secondaryOf,
} from './common.js';
import { ensureFunction, getFunction, removeFunction, spec } from './function.js';
import { deleteRole, ensureRole } from './role.js';

export { type ProbeOutputs, probeFunctionName, probeRegions } from './common.js';
export {
  type AnswerWaitOptions,
  PRIVATE_DOMAIN_PROVISIONING_WINDOW_MS,
  PRIVATE_DOMAIN_READY_TIMEOUT_MS,
  PRIVATE_DOMAIN_WAIT_TEXT,
  waitUntilPrivateDomainAnswers,
} from './private-domain.js';

// Owns, in the secondary region: the Lambda function <deployment>-probe in the secondary VPC's
// private subnets (with the endpoint security group) and its IAM role <deployment>-probe; with
// topology active-active, a function of the same name in the primary VPC too (same role), so the
// drill can watch from both regions' VPCs. It is
// the failover drill's client inside the VPC (src/assets/probe-function.ts): it resolves
// <host>.<domain> through the private zone and calls the health path (api.healthPath, sent in
// each event, so a new path needs no redeploy) through whichever NLB the answer names, trusting
// both regions' private CAs.
// Kept by `up` rather than made per drill: a VPC function's Hyperplane ENIs linger 20-45 minutes
// after it is deleted (docs/design/timings.md row 9), so a per-drill function would hold a following `down`
// for that long. The secondary, because that is where clients must still get answers when the
// primary is down; peering routes carry its calls to the primary NLB.
//
// One file per resource: role.ts, function.ts; private-domain.ts waits for the custom domain through it.

/** Whether to look for a probe in the primary region: active-active, or one is recorded there. */
const primaryProbeWanted = (ctx: Ctx) => activeActive(ctx.config);
const lookInPrimary = (ctx: Ctx) => primaryProbeWanted(ctx) || !!ctx.recorded.primaryProbe;

export const probe: StepImpl<ProbeOutputs> = {
  outputs,

  async up(ctx) {
    const region = secondaryOf(ctx);
    const roleName = ctx.recorded.roleName ?? roleNameOf(ctx.config.deployment);
    const roleArn = await ensureRole(ctx, roleName);
    const s = await spec(ctx, roleArn, region);
    const config = await ensureFunction(ctx, s, region, (arn) => {
      if (ctx.recorded.functionName !== s.name || ctx.recorded.functionArn !== arn)
        ctx.record({ functionName: s.name, functionArn: arn, region });
    });
    let primaryProbe: ProbeOutputs['primaryProbe'];
    const primary = primaryOf(ctx);
    if (primaryProbeWanted(ctx)) {
      const ps = await spec(ctx, roleArn, primary);
      const pc = await ensureFunction(ctx, ps, primary, (arn) => {
        if (ctx.recorded.primaryProbe?.functionArn !== arn)
          ctx.record({ primaryProbe: { region: primary, functionArn: arn } });
      });
      primaryProbe = { region: primary, functionArn: pc.FunctionArn!, codeSha256: pc.CodeSha256 };
    } else if (ctx.recorded.primaryProbe) {
      ctx.warn(`topology is active-passive: removing the probe in ${primary}`);
      await removeFunction(ctx, s.name, ctx.recorded.primaryProbe.region, true);
      ctx.record({ primaryProbe: undefined });
    }
    return {
      functionName: s.name,
      functionArn: config.FunctionArn!,
      region,
      roleName,
      codeSha256: config.CodeSha256,
      ...(primaryProbe ? { primaryProbe } : {}),
      // A drill record is the drill's to clear (it restores first); never dropped by a re-run.
      ...(ctx.recorded.drill ? { drill: ctx.recorded.drill } : {}),
    };
  },

  async down(ctx) {
    const name = ctx.recorded.functionName ?? probeFunctionName(ctx.config.deployment);
    await removeFunction(ctx, name, secondaryOf(ctx), ctx.recorded.functionName === name);
    if (lookInPrimary(ctx))
      await removeFunction(
        ctx,
        name,
        ctx.recorded.primaryProbe?.region ?? primaryOf(ctx),
        !!ctx.recorded.primaryProbe,
      );
    await deleteRole(ctx, ctx.recorded.roleName ?? roleNameOf(ctx.config.deployment));
  },

  async check(ctx) {
    const missing: string[] = [];
    if (ctx.recorded.functionName && !(await getFunction(ctx, ctx.recorded.functionName, secondaryOf(ctx))))
      missing.push(`Lambda function ${ctx.recorded.functionName}`);
    const pp = ctx.recorded.primaryProbe;
    if (pp && ctx.recorded.functionName && !(await getFunction(ctx, ctx.recorded.functionName, pp.region)))
      missing.push(`Lambda function ${ctx.recorded.functionName} in ${pp.region}`);
    if (ctx.recorded.roleName && !(await getRole(ctx, ctx.recorded.roleName)))
      missing.push(`IAM role ${ctx.recorded.roleName}`);
    return missing;
  },

  async discover(ctx): Promise<Found[]> {
    const out: Found[] = [];
    const name = probeFunctionName(ctx.config.deployment);
    const regions = [secondaryOf(ctx), ...(lookInPrimary(ctx) ? [primaryOf(ctx)] : [])];
    for (const region of regions) {
      const f = await getFunction(ctx, name, region);
      if (f && isOwnedBy(f.tags, ctx.config.deployment))
        out.push({ what: `Lambda function ${name} in ${region}`, id: name });
    }
    const roleName = roleNameOf(ctx.config.deployment);
    const role = await getRole(ctx, roleName);
    if (role && isOwnedBy(role.Tags, ctx.config.deployment))
      out.push({ what: `IAM role ${roleName}`, id: roleName });
    return out;
  },
};
