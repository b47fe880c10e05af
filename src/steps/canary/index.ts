import type { Canary } from '@aws-sdk/client-synthetics';
import {
  IAM_NOT_SPREAD_YET,
  ROLE_PROPAGATION_TIMEOUT_MS,
  deleteRoleWithInlinePolicies,
  getRole,
} from '../../aws/resources/service-role.js';
import { isOwnedBy } from '../../aws/tags.js';
import { AwsStepError } from '../../errors/errors.js';
import type { Found, StepImpl } from '../types.js';
import { alarmTags, describeAlarm, ensureAlarm, removeAlarm } from './alarm.js';
import { bucketTags, emptyAndDeleteBucket, ensureBucket } from './bucket.js';
import { createCanary, ensureCanary, ensureRunning, getCanary, removeCanary } from './canary.js';
import {
  type CanaryOutputs,
  type Ctx,
  accountOf,
  bucketNameFor,
  enabledIn,
  names,
  outputs,
} from './common.js';
import { ensureRole, ensureRolePolicy, rolePolicy } from './role.js';
import { type CanarySpec, caPemOf, probePathOf } from './spec.js';

export {
  type CanaryOutputs,
  alarmNameFor,
  canaryCannotRunAdvice,
  canaryNameFor,
  roleNameFor,
} from './common.js';
export { pickRuntime } from './runtime.js';

// Owns, in each region where it runs (always the primary; the secondary when config
// canary.secondary or topology active-active): the S3 artifact bucket <deployment>-canary-<account>-<region>, the IAM role
// <deployment>-canary-<region> with its inline policy, the Synthetics canary <deployment>-pri|sec
// (Synthetics makes its Lambda function and, in the VPC, its ENIs) and the CloudWatch alarm
// <deployment>-canary-<region> on the canary's SuccessPercent (M of N runs failed), which the
// health-check step watches.
//
// One file per resource: role.ts, bucket.ts, canary.ts (with spec.ts and runtime.ts), alarm.ts.

/** Delete what is recorded or tagged as ours: canary (then its alarm), bucket, role. */
async function teardown(ctx: Ctx): Promise<void> {
  const n = names(ctx);
  const mine = (tags: Parameters<typeof isOwnedBy>[0], recorded: string | undefined, name: string) =>
    recorded === name || isOwnedBy(tags, ctx.config.deployment);

  const c = await getCanary(ctx, n.canaryName);
  if (c && mine(c.Tags, ctx.recorded.canaryName, n.canaryName)) await removeCanary(ctx, n.canaryName);
  else if (c) ctx.warn(`left canary ${n.canaryName}: it is not drctl's`);

  await removeAlarm(ctx, n.alarmName);

  const role = await getRole(ctx, n.roleName);
  const roleOurs = role && mine(role.Tags, ctx.recorded.roleName, n.roleName);
  // Without a record, the role's ARN gives the account in the bucket's name (even a role that is
  // not ours: then the bucket is looked at only to be named in a warning).
  const bucketName =
    ctx.recorded.bucketName ??
    (role ? bucketNameFor(ctx.config.deployment, accountOf(role.Arn!), ctx.region) : undefined);
  if (bucketName) {
    const seen = await bucketTags(ctx, bucketName);
    if (seen.exists) {
      // An untagged bucket of our name is one a crash left only if the state names it (it is
      // recorded before CreateBucket); otherwise it is someone else's.
      if (ctx.recorded.bucketName === bucketName || isOwnedBy(seen.tags, ctx.config.deployment)) {
        await emptyAndDeleteBucket(ctx, bucketName);
      } else ctx.warn(`left bucket ${bucketName}: it is not drctl's`);
    }
  }

  if (roleOurs) await deleteRoleWithInlinePolicies(ctx, n.roleName);
  else if (role) ctx.warn(`left IAM role ${n.roleName}: it is not drctl's`);
}

export const canary: StepImpl<CanaryOutputs> = {
  outputs,

  async up(ctx) {
    if (!enabledIn(ctx)) {
      if (ctx.recorded.canaryName || ctx.recorded.bucketName || ctx.recorded.roleName) {
        ctx.warn(
          'canary.secondary is off and topology is active-passive: removing the canary this region had',
        );
        await teardown(ctx);
        // The runner merges what up returns into the record: forget what is gone explicitly.
        ctx.record({
          canaryName: undefined,
          alarmName: undefined,
          bucketName: undefined,
          roleName: undefined,
          runtimeVersion: undefined,
          probeUrl: undefined,
          probeVia: undefined,
        });
      }
      return { enabled: false };
    }
    const vpc = await ctx.outputOf('vpc');
    const n = names(ctx);

    const role = await ensureRole(ctx, n.roleName);
    const roleArn = role.arn;
    const account = accountOf(roleArn);
    const bucketName = ctx.recorded.bucketName ?? bucketNameFor(ctx.config.deployment, account, ctx.region);
    await ensureBucket(ctx, bucketName);
    await ensureRolePolicy(
      ctx,
      n.roleName,
      rolePolicy(ctx, account, bucketName, n.canaryName),
      role.policySha,
    );

    // What a client calls, through this region's own entry point: the NLB (its DNS name is
    // recorded as soon as the load balancer is created, long before it is active), or with
    // domainMode private the region's execute-api endpoint, which then serves the custom domain
    // itself. The CA certificate is the one the listener's or domain's certificate chains to.
    const [dnsName] = await Promise.all([
      ctx.config.domainMode === 'private'
        ? ctx.fieldsOf('endpoints', ctx.region, ['dnsNames']).then((e) => e.dnsNames[0]!)
        : ctx.fieldsOf('nlb', ctx.region, ['dnsName']).then((n) => n.dnsName),
      ctx.outputOf('ca'),
    ]);
    const host = `${ctx.config.host}.${ctx.config.domain}`;
    const probeUrl = `https://${host}${probePathOf(ctx)}`;

    const spec: CanarySpec = {
      name: n.canaryName,
      roleArn,
      bucketName,
      host,
      probeUrl,
      probeVia: dnsName,
      caPem: caPemOf(ctx),
      subnetIds: vpc.privateSubnetIds,
      securityGroupIds: [vpc.endpointSecurityGroupId],
    };
    let created = await ensureCanary(ctx, spec);
    // The alarm needs only the canary's name: made while the canary is still CREATING.
    await ensureAlarm(ctx, n.alarmName, n.canaryName, `${probeUrl} via ${dnsName}`);
    let running: Canary | undefined;
    const started = ctx.clock.now();
    while (!running) {
      try {
        running = await ensureRunning(ctx, created);
      } catch (e) {
        // Synthetics may accept CreateCanary with a role Lambda cannot assume yet and then put the
        // canary in ERROR; Terraform deletes and creates it again within its IAM window
        // (terraform-provider-aws internal/service/synthetics/canary.go, retryCreateCanary).
        const roleError =
          e instanceof AwsStepError && e.context.awsCode === 'ERROR' && IAM_NOT_SPREAD_YET.test(e.message);
        if (!roleError || ctx.clock.now() - started > ROLE_PROPAGATION_TIMEOUT_MS) throw e;
        ctx.warn(
          `canary ${n.canaryName} failed because Lambda could not assume its new role, or see its new policy, yet; creating it again`,
        );
        await removeCanary(ctx, n.canaryName);
        created = await createCanary(ctx, spec);
      }
    }

    return {
      enabled: true,
      canaryName: n.canaryName,
      alarmName: n.alarmName,
      bucketName,
      roleName: n.roleName,
      runtimeVersion: running.RuntimeVersion ?? ctx.recorded.runtimeVersion,
      probeUrl,
      probeVia: dnsName,
    };
  },

  async down(ctx) {
    await teardown(ctx);
  },

  async check(ctx) {
    if (!ctx.recorded.enabled) return [];
    const missing: string[] = [];
    const n = names(ctx);
    if (!(await getCanary(ctx, n.canaryName))) missing.push(`canary ${n.canaryName}`);
    if (!(await describeAlarm(ctx, n.alarmName))) missing.push(`alarm ${n.alarmName}`);
    if (ctx.recorded.bucketName && !(await bucketTags(ctx, ctx.recorded.bucketName)).exists) {
      missing.push(`bucket ${ctx.recorded.bucketName}`);
    }
    if (!(await getRole(ctx, n.roleName))) missing.push(`IAM role ${n.roleName}`);
    return missing;
  },

  async discover(ctx) {
    const found: Found[] = [];
    const n = names(ctx);
    const ours = (tags: Parameters<typeof isOwnedBy>[0]) => isOwnedBy(tags, ctx.config.deployment);
    const c = await getCanary(ctx, n.canaryName);
    if (c && ours(c.Tags)) {
      found.push({ what: `canary ${n.canaryName} (${c.Status?.State ?? 'unknown'})`, id: n.canaryName });
    }
    let account: string | undefined;
    const alarm = await describeAlarm(ctx, n.alarmName);
    if (alarm?.AlarmArn) {
      if (ours(await alarmTags(ctx, alarm.AlarmArn)))
        found.push({ what: `alarm ${n.alarmName}`, id: n.alarmName });
      account = alarm.AlarmArn.split(':')[4];
    }
    const role = await getRole(ctx, n.roleName);
    if (role && ours(role.Tags)) {
      found.push({ what: `IAM role ${n.roleName}`, id: n.roleName });
      account = accountOf(role.Arn!);
    }
    // The bucket's name carries the account id, which the role's or the alarm's ARN tells.
    if (account) {
      const bucketName = bucketNameFor(ctx.config.deployment, account, ctx.region);
      const seen = await bucketTags(ctx, bucketName);
      if (seen.exists && ours(seen.tags)) found.push({ what: `bucket ${bucketName}`, id: bucketName });
    }
    return found;
  },
};
