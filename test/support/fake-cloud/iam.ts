import { SERVICE_LINKED_ROLES } from './authz/on-behalf.js';
import { type FakeCloud, FakeService, mapToTags, tagsToMap } from './cloud.js';
import { awsError } from './errors.js';
import { page } from './paging.js';

/** IAM pages with Marker / IsTruncated and MaxItems (default 100, at most 1000). */
function iamPage<T>(
  cloud: Pick<FakeCloud, 'pageSize'>,
  command: string,
  all: T[],
  input: { Marker?: string; MaxItems?: number },
  key: (item: T) => string,
): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const { items, next } = page(
    cloud,
    all,
    { token: input.Marker, limit: input.MaxItems },
    { command, defaultSize: 100, maxSize: 1000, key, badToken: { name: 'InvalidInput' } },
  );
  return next ? { items, IsTruncated: true, Marker: next } : { items, IsTruncated: false };
}

interface PolicyStatement {
  Effect?: string;
  Action?: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: unknown;
}

export interface Role {
  RoleName: string;
  RoleId: string;
  Arn: string;
  Path: string;
  AssumeRolePolicyDocument: string;
  Description?: string;
  tags: Record<string, string>;
  createdAt: number;
  inline: Map<string, string>;
  /**
   * The last PutRolePolicy of each inline policy: what the policy said before, and when it changed.
   * Other services see the new document only 'iam.policyPropagate' later (`allows(..., {seenBy})`).
   */
  changed: Map<string, { before: string | undefined; at: number }>;
}

function parsePolicy(doc: string, what: string): { Statement: PolicyStatement[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(doc);
  } catch {
    throw awsError('MalformedPolicyDocument', `Syntax errors in ${what} policy.`);
  }
  const p = parsed as { Version?: string; Statement?: PolicyStatement | PolicyStatement[] };
  if (!p.Statement) throw awsError('MalformedPolicyDocument', `Missing required field Statement`);
  const statements = Array.isArray(p.Statement) ? p.Statement : [p.Statement];
  for (const s of statements) {
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
      throw awsError('MalformedPolicyDocument', `Policy statement must contain a valid Effect`);
    }
    if (!s.Action) throw awsError('MalformedPolicyDocument', `Policy statement must contain actions.`);
  }
  return { Statement: statements };
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const glob = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(value);

/**
 * IAM (global). Roles with inline policies; a role is refused as a Lambda/Synthetics execution
 * role for the 'iam.propagate' delay after CreateRole (eventual consistency, docs/design/timings.md row 11), and
 * a service that checks a role's permissions sees a policy put with PutRolePolicy only
 * 'iam.policyPropagate' later, the document it replaced until then
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
 * DeleteRole fails with DeleteConflict while inline policies remain, as IAM's does.
 */
export class FakeIam extends FakeService {
  readonly service = 'iam';
  override readonly global = true;
  readonly roles = new Map<string, Role>();
  /**
   * Service-linked roles the account has (by AWS service name). A fresh account has none; a first
   * use makes one in the caller's name (authz/on-behalf.ts). Not in the snapshot: AWS keeps them
   * after the last resource goes, and they are not drctl's.
   */
  readonly serviceLinkedRoles = new Set<string>();

  /**
   * The service-linked role a first use of `kind` makes, in the caller's name
   * (iam:CreateServiceLinkedRole with iam:AWSServiceName); the refusal is thrown as the calling
   * service answers.
   */
  ensureServiceLinkedRole(kind: keyof typeof SERVICE_LINKED_ROLES, command: string, region: string): void {
    const { service, role } = SERVICE_LINKED_ROLES[kind];
    if (this.serviceLinkedRoles.has(service)) return;
    this.cloud.authorizer.onBehalf(kind, command, region, {
      action: 'iam:CreateServiceLinkedRole',
      resource: `arn:aws:iam::${this.cloud.account}:role/aws-service-role/${service}/${role}`,
      context: { 'iam:AWSServiceName': service },
    });
    this.serviceLinkedRoles.add(service);
  }

  /** The role behind an ARN, if it exists. */
  roleByArn(arn: string): Role | undefined {
    return [...this.roles.values()].find((r) => r.Arn === arn);
  }

  /** Whether `service` (e.g. lambda.amazonaws.com) can assume the role now: trusted and propagated. */
  assumableBy(arn: string, service: string): 'yes' | 'missing' | 'untrusted' | 'propagating' {
    const role = this.roleByArn(arn);
    if (!role) return 'missing';
    const trust = parsePolicy(role.AssumeRolePolicyDocument, 'trust');
    const trusted = trust.Statement.some(
      (s) =>
        s.Effect === 'Allow' &&
        list(s.Action).some((a) => glob(a, 'sts:AssumeRole')) &&
        list((s.Principal as { Service?: string | string[] } | undefined)?.Service).includes(service),
    );
    if (!trusted) return 'untrusted';
    return this.now() < role.createdAt + this.delay('iam.propagate') ? 'propagating' : 'yes';
  }

  /**
   * Whether the role's inline policies allow `action` on `resource` (Allow minus Deny; conditions
   * ignored). With `seenBy`, as another service sees them: a policy changed within the last
   * 'iam.policyPropagate' still reads as it was before.
   */
  allows(arn: string, action: string, resource = '*', opts: { seenBy?: string } = {}): boolean {
    const role = this.roleByArn(arn);
    if (!role) return false;
    const docs = [...role.inline.entries()].map(([name, doc]) => {
      const change = role.changed.get(name);
      const fresh = change && this.now() < change.at + this.delay('iam.policyPropagate');
      return opts.seenBy && fresh ? change.before : doc;
    });
    const statements = docs
      .filter((d): d is string => d !== undefined)
      .flatMap((d) => parsePolicy(d, 'inline').Statement);
    const matches = (s: PolicyStatement) =>
      list(s.Action).some((a) => glob(a, action)) &&
      (resource === '*' || list(s.Resource).some((r) => glob(r, resource)));
    return (
      statements.some((s) => s.Effect === 'Allow' && matches(s)) &&
      !statements.some((s) => s.Effect === 'Deny' && matches(s))
    );
  }

  private role(name: string): Role {
    const r = this.roles.get(name);
    if (!r) throw awsError('NoSuchEntity', `The role with name ${name} cannot be found.`, 404);
    return r;
  }

  private describe(r: Role) {
    return {
      Path: r.Path,
      RoleName: r.RoleName,
      RoleId: r.RoleId,
      Arn: r.Arn,
      CreateDate: new Date(r.createdAt),
      // IAM returns the trust policy URL-encoded (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html).
      AssumeRolePolicyDocument: encodeURIComponent(r.AssumeRolePolicyDocument),
      Description: r.Description,
      MaxSessionDuration: 3600,
      Tags: Object.keys(r.tags).length ? mapToTags(r.tags) : undefined,
    };
  }

  CreateRole(
    _region: string,
    input: {
      RoleName: string;
      AssumeRolePolicyDocument: string;
      Path?: string;
      Description?: string;
      Tags?: Array<{ Key: string; Value: string }>;
    },
  ) {
    if (!/^[\w+=,.@-]{1,64}$/.test(input.RoleName)) {
      throw awsError(
        'ValidationError',
        `1 validation error detected: Value '${input.RoleName}' at 'roleName'`,
      );
    }
    if (this.roles.has(input.RoleName)) {
      throw awsError('EntityAlreadyExists', `Role with name ${input.RoleName} already exists.`, 409);
    }
    parsePolicy(input.AssumeRolePolicyDocument, 'trust');
    const path = input.Path ?? '/';
    const role: Role = {
      RoleName: input.RoleName,
      RoleId: this.id('AROA').toUpperCase(),
      Arn: `arn:aws:iam::${this.cloud.account}:role${path}${input.RoleName}`,
      Path: path,
      AssumeRolePolicyDocument: input.AssumeRolePolicyDocument,
      Description: input.Description,
      tags: tagsToMap(input.Tags),
      createdAt: this.now(),
      inline: new Map(),
      changed: new Map(),
    };
    this.roles.set(role.RoleName, role);
    return { Role: this.describe(role) };
  }

  GetRole(_region: string, input: { RoleName: string }) {
    return { Role: this.describe(this.role(input.RoleName)) };
  }

  TagRole(_region: string, input: { RoleName: string; Tags: Array<{ Key: string; Value: string }> }) {
    Object.assign(this.role(input.RoleName).tags, tagsToMap(input.Tags));
    return {};
  }

  ListRoleTags(_region: string, input: { RoleName: string; Marker?: string; MaxItems?: number }) {
    const { items, ...rest } = iamPage(
      this.cloud,
      `ListRoleTags/${input.RoleName}`,
      mapToTags(this.role(input.RoleName).tags),
      input,
      (t) => t.Key,
    );
    return { Tags: items, ...rest };
  }

  PutRolePolicy(_region: string, input: { RoleName: string; PolicyName: string; PolicyDocument: string }) {
    const r = this.role(input.RoleName);
    parsePolicy(input.PolicyDocument, 'inline');
    const before = r.inline.get(input.PolicyName);
    if (before !== input.PolicyDocument) r.changed.set(input.PolicyName, { before, at: this.now() });
    r.inline.set(input.PolicyName, input.PolicyDocument);
    return {};
  }

  GetRolePolicy(_region: string, input: { RoleName: string; PolicyName: string }) {
    const doc = this.role(input.RoleName).inline.get(input.PolicyName);
    if (doc === undefined) {
      throw awsError('NoSuchEntity', `The role policy with name ${input.PolicyName} cannot be found.`, 404);
    }
    return {
      RoleName: input.RoleName,
      PolicyName: input.PolicyName,
      PolicyDocument: encodeURIComponent(doc),
    };
  }

  ListRolePolicies(_region: string, input: { RoleName: string; Marker?: string; MaxItems?: number }) {
    const { items, ...rest } = iamPage(
      this.cloud,
      `ListRolePolicies/${input.RoleName}`,
      [...this.role(input.RoleName).inline.keys()],
      input,
      (n) => n,
    );
    return { PolicyNames: items, ...rest };
  }

  DeleteRolePolicy(_region: string, input: { RoleName: string; PolicyName: string }) {
    const r = this.role(input.RoleName);
    if (!r.inline.delete(input.PolicyName)) {
      throw awsError('NoSuchEntity', `The role policy with name ${input.PolicyName} cannot be found.`, 404);
    }
    return {};
  }

  DeleteRole(_region: string, input: { RoleName: string }) {
    const r = this.role(input.RoleName);
    if (r.inline.size > 0) {
      throw awsError('DeleteConflict', 'Cannot delete entity, must delete policies first.', 409);
    }
    this.roles.delete(r.RoleName);
    return {};
  }

  snapshot(): string[] {
    return [...this.roles.values()].flatMap((r) => [
      `iam/global/role/${r.RoleName}`,
      ...[...r.inline.keys()].map((p) => `iam/global/role-policy/${r.RoleName}/${p}`),
    ]);
  }
}
