import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type IpPermission,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { UpdateHealthCheckCommand } from '@aws-sdk/client-route-53';
import { awsCode, isNotFound, isServerError } from '../aws/errors.js';
import { AwsStepError, UsageError, errorMessage } from '../errors/errors.js';
import {
  type DrillChange,
  type DrillRecord,
  type IngressRuleRecord,
  drillRecordSchema,
} from '../state/drill-record.js';
import { GLOBAL } from '../state/schema.js';
import { type StateStore } from '../state/store.js';
import { getHealthCheck, route53 } from './observe.js';
import type { DrillContext } from './types.js';

// The drill's faults (docs/design/aws-behaviour.md §2): `invert` sets a health check's Inverted
// flag, `outage` revokes the 443 ingress of an endpoint security group. Each change is recorded in
// the state before it is made and put back idempotently, also by the next run after a crash.

export async function describeGroup(
  ctx: DrillContext,
  region: string,
  groupId: string,
): Promise<SecurityGroup | undefined> {
  try {
    const r = await ctx.aws
      .client(EC2Client, region)
      .send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    return r.SecurityGroups?.[0];
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** The group's ingress rules that let TCP 443 in, one per CIDR (what `outage` revokes). */
export function https443Rules(g: SecurityGroup | undefined): IngressRuleRecord[] {
  return (g?.IpPermissions ?? [])
    .filter(
      (p) =>
        p.IpProtocol === '-1' ||
        (p.IpProtocol === 'tcp' && (p.FromPort ?? 0) <= 443 && 443 <= (p.ToPort ?? 65535)),
    )
    .flatMap((p) =>
      (p.IpRanges ?? []).map((r) => ({
        ipProtocol: p.IpProtocol!,
        ...(p.IpProtocol === '-1' ? {} : { fromPort: p.FromPort, toPort: p.ToPort }),
        cidrIp: r.CidrIp ?? '',
        ...(r.Description ? { description: r.Description } : {}),
      })),
    );
}

const sameRule = (a: IngressRuleRecord, b: IngressRuleRecord) =>
  a.ipProtocol === b.ipProtocol &&
  a.fromPort === b.fromPort &&
  a.toPort === b.toPort &&
  a.cidrIp === b.cidrIp;

export function permissions(rules: IngressRuleRecord[]): IpPermission[] {
  return rules.map((r) => ({
    IpProtocol: r.ipProtocol,
    FromPort: r.fromPort,
    ToPort: r.toPort,
    IpRanges: [{ CidrIp: r.cidrIp, ...(r.description ? { Description: r.description } : {}) }],
  }));
}

// ---- the drill record in the state ---------------------------------------------------------

export function pendingDrill(store: StateStore): DrillRecord | undefined {
  const raw = store.get('probe', GLOBAL)?.resources.drill;
  if (raw === undefined) return undefined;
  const parsed = drillRecordSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UsageError('the recorded failover drill is not readable (hand-edited?)', {
      field: 'state.steps.probe.global.resources.drill',
      resolution: `Restore ${store.path}.bak, or put back by hand what the drill changed and remove that field.`,
    });
  }
  return parsed.data;
}

export async function writeDrill(ctx: DrillContext, record: DrillRecord | undefined): Promise<void> {
  const rec = ctx.store.get('probe', GLOBAL);
  if (!rec) return;
  ctx.store.record('probe', GLOBAL, rec.status, { drill: record });
  // Before the change it describes is made: a remote state must hold it, not just a queue.
  await ctx.store.flush();
}

// ---- inject and restore --------------------------------------------------------------------

/** Make the drill's one change (recorded in the state before this is called). */
export async function inject(ctx: DrillContext, change: DrillChange): Promise<void> {
  if (change.kind === 'health-check-inverted') await setInverted(ctx, change.healthCheckId, true);
  else {
    await ctx.aws.client(EC2Client, change.region).send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: change.groupId,
        IpPermissions: permissions(change.rules),
      }),
    );
  }
}

async function setInverted(ctx: DrillContext, id: string, inverted: boolean): Promise<boolean> {
  let unknown: unknown;
  for (let attempt = 0; ; attempt++) {
    const hc = await getHealthCheck(ctx, id);
    if (!hc) return false;
    // After a server error the update may have been applied: the check says whether it was.
    if (!!hc.HealthCheckConfig?.Inverted === inverted) return unknown !== undefined;
    try {
      await route53(ctx).send(
        new UpdateHealthCheckCommand({
          HealthCheckId: id,
          HealthCheckVersion: hc.HealthCheckVersion,
          Inverted: inverted,
        }),
      );
      return true;
    } catch (e) {
      // A server error leaves unknown whether it was applied, and the client does not resend it
      // (a resend meets HealthCheckVersionMismatch once it was: idempotency.ts). Another writer
      // between our read and write is a HealthCheckVersionMismatch. Either way: read again.
      if (isServerError(e) && attempt < 2) unknown = e;
      else if (awsCode(e) !== 'HealthCheckVersionMismatch' || attempt >= 2) throw e;
    }
  }
}

/** Put one change back; idempotent (a change not made, or already undone, is fine). */
async function undo(ctx: DrillContext, change: DrillChange): Promise<string> {
  if (change.kind === 'health-check-inverted') {
    const changed = await setInverted(ctx, change.healthCheckId, false);
    return changed
      ? `health check ${change.healthCheckId}: Inverted=false`
      : `health check ${change.healthCheckId}: not inverted (nothing to put back)`;
  }
  const g = await describeGroup(ctx, change.region, change.groupId);
  if (!g) return `security group ${change.groupId} is gone (nothing to put back)`;
  const present = https443Rules(g);
  const missing = change.rules.filter((r) => !present.some((p) => sameRule(p, r)));
  if (!missing.length) return `security group ${change.groupId}: 443 ingress in place (nothing to put back)`;
  try {
    await ctx.aws.client(EC2Client, change.region).send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: change.groupId,
        IpPermissions: permissions(missing),
      }),
    );
  } catch (e) {
    if (awsCode(e) !== 'InvalidPermission.Duplicate') throw e;
  }
  return `security group ${change.groupId}: 443 ingress from ${missing.map((r) => r.cidrIp).join(', ')} authorized again`;
}

export async function restoreAll(ctx: DrillContext, record: DrillRecord): Promise<string[]> {
  const done: string[] = [];
  for (const change of record.changes) {
    try {
      done.push(await undo(ctx, change));
    } catch (e) {
      throw new AwsStepError(`could not put back what the drill changed: ${errorMessage(e)}`, {
        resource: change.kind === 'health-check-inverted' ? change.healthCheckId : change.groupId,
        awsCode: awsCode(e),
        cause: e,
        resolution:
          'Run `drctl failover-test` or `drctl up` again: both put back a recorded drill first. The change is recorded in the state until then.',
      });
    }
  }
  await writeDrill(ctx, undefined);
  return done;
}

/**
 * A drill a killed drctl left behind: put its changes back (the next `failover-test`, `up`, `step`
 * and `down` call this first). Returns what was done, or undefined when nothing was pending.
 */
export async function restorePendingDrill(ctx: DrillContext): Promise<string[] | undefined> {
  const record = pendingDrill(ctx.store);
  if (!record) return undefined;
  const done = await restoreAll(ctx, record);
  ctx.emit({
    type: 'restored-pending',
    text: `put back what an interrupted ${record.mode} drill (started ${record.startedAt}) changed: ${done.join('; ')}`,
    t: ctx.clock.now(),
  });
  return done;
}
