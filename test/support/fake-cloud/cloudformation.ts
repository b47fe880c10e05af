// Over 500 lines: one stack engine: create, update and delete act on one resource graph.
import { FakeService, type FakeCloud, mapToTags, tagsToMap } from './cloud.js';
import { FakeEc2 } from './ec2.js';
import { FakeEc2Endpoints } from './ec2-endpoints.js';
import { STACK_RESOURCE_ACTIONS } from './authz/on-behalf.js';
import { awsError } from './errors.js';
import { page } from './paging.js';

type Json = any;
type StackStatus =
  | 'CREATE_IN_PROGRESS'
  | 'CREATE_COMPLETE'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_COMPLETE'
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_FAILED'
  | 'DELETE_COMPLETE'
  | 'ROLLBACK_COMPLETE'
  | 'UPDATE_ROLLBACK_COMPLETE';

/** What a stack delete reaches last, and what a foreign ENI blocks (DependencyViolation). */
const NETWORK_TYPES: ReadonlySet<string> = new Set([
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::SecurityGroup',
]);

/** Template types that are not EC2 resources of their own, so stack tags do not reach them. */
const UNTAGGABLE: ReadonlySet<string> = new Set([
  'AWS::EC2::Route',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::VPCGatewayAttachment',
]);

interface Stack {
  StackId: string;
  StackName: string;
  region: string;
  templateBody: string;
  parameters: Record<string, string>;
  tags: Record<string, string>;
  status: StackStatus;
  reason?: string;
  /** When the current *_IN_PROGRESS finishes. */
  doneAt: number;
  /**
   * A delete failed on the subnets or security groups: everything else is gone already, so the
   * next DeleteStack has only the VPC, its subnets and groups left ('stack.deleteNetwork').
   */
  networkOnly?: boolean;
  /** logical id -> physical id of what the template made. */
  physical: Map<string, { type: string; id: string; attrs: Record<string, string> }>;
  outputs: Record<string, string>;
  /** IAM refused what CloudFormation tried in the caller's name: the operation fails when it ends. */
  refused?: { logical: string; message: string };
  tokens: Set<string>;
  events: Array<{
    LogicalResourceId: string;
    ResourceStatus: string;
    ResourceStatusReason?: string;
    Timestamp: Date;
  }>;
}

/**
 * CloudFormation, reading our own template well enough to make the EC2 pieces it declares (so EC2
 * describes and dependency checks see them) and to evaluate Outputs. Supports the intrinsics our
 * template uses: Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Cidr, Fn::GetAZs, Fn::If/Not/Equals.
 */
export class FakeCloudFormation extends FakeService {
  readonly service = 'cloudformation';
  private readonly stacks: Stack[] = [];

  constructor(cloud: FakeCloud) {
    super(cloud);
    // IAM authorizes stack calls on the stack's ARN, which holds its id.
    cloud.authorizer.addLookup('cloudformation:stack-id', (region, name) => this.find(region, name)?.StackId);
  }

  private get ec2(): FakeEc2 {
    return this.cloud.model(FakeEc2);
  }

  private settle(s: Stack): void {
    if (this.now() < s.doneAt) return;
    if (s.refused && s.status.endsWith('_IN_PROGRESS')) {
      const { logical, message } = s.refused;
      const [status, event, reason] =
        s.status === 'CREATE_IN_PROGRESS'
          ? (['ROLLBACK_COMPLETE', 'CREATE_FAILED', 'failed to create'] as const)
          : s.status === 'UPDATE_IN_PROGRESS'
            ? (['UPDATE_ROLLBACK_COMPLETE', 'UPDATE_FAILED', 'failed to update'] as const)
            : (['DELETE_FAILED', 'DELETE_FAILED', 'failed to delete'] as const);
      s.status = status;
      s.reason = `The following resource(s) ${reason}: [${logical}]. `;
      s.events.unshift({
        LogicalResourceId: logical,
        ResourceStatus: event,
        ResourceStatusReason: message,
        Timestamp: new Date(s.doneAt),
      });
      s.refused = undefined;
      return;
    }
    switch (s.status) {
      case 'CREATE_IN_PROGRESS':
        s.status = 'CREATE_COMPLETE';
        break;
      case 'UPDATE_IN_PROGRESS':
        s.status = 'UPDATE_COMPLETE';
        break;
      case 'DELETE_IN_PROGRESS': {
        // AWS deletes the subnets and security groups last; they fail while a foreign ENI is in them.
        const blocker = this.ec2
          .liveEnis(s.region, s.doneAt)
          .find(
            (e) => !e.owner.startsWith(`stack:${s.StackId}`) && this.ownsNetwork(s, e.SubnetId, e.groupIds),
          );
        if (blocker) {
          const logical =
            [...s.physical].find(([, p]) => p.id === blocker.SubnetId)?.[0] ?? 'EndpointSecurityGroup';
          s.status = 'DELETE_FAILED';
          s.reason = `The following resource(s) failed to delete: [${logical}]. `;
          // CloudFormation deletes in reverse dependency order and stops only at what failed and
          // what that still needs: the instance, NAT gateway, endpoints, routes and gateway went
          // before the subnets were tried.
          this.destroyAllBut(s, NETWORK_TYPES);
          s.networkOnly = true;
          s.events.unshift({
            LogicalResourceId: logical,
            ResourceStatus: 'DELETE_FAILED',
            ResourceStatusReason: `The subnet '${blocker.SubnetId}' has dependencies and cannot be deleted. (Service: Ec2, Status Code: 400, Error Code: DependencyViolation) network interface ${blocker.NetworkInterfaceId} (${blocker.Description})`,
            Timestamp: new Date(s.doneAt),
          });
        } else {
          this.destroyResources(s);
          s.status = 'DELETE_COMPLETE';
        }
        break;
      }
      default:
    }
  }

  private ownsNetwork(s: Stack, subnetId: string, groupIds: string[]): boolean {
    const ids = new Set([...s.physical.values()].map((p) => p.id));
    return ids.has(subnetId) || groupIds.some((g) => ids.has(g));
  }

  private live(region: string): Stack[] {
    const out = this.stacks.filter((s) => s.region === region);
    out.forEach((s) => this.settle(s));
    return out.filter((s) => s.status !== 'DELETE_COMPLETE');
  }

  private find(region: string, nameOrId: string): Stack | undefined {
    const byId = this.stacks.find((s) => s.region === region && s.StackId === nameOrId);
    if (byId) {
      this.settle(byId);
      return byId;
    }
    return this.live(region).find((s) => s.StackName === nameOrId);
  }

  CreateStack(
    region: string,
    input: {
      StackName: string;
      TemplateBody: string;
      Parameters?: Array<{ ParameterKey: string; ParameterValue: string }>;
      Tags?: Array<{ Key: string; Value: string }>;
      ClientRequestToken?: string;
    },
  ) {
    const sameToken = input.ClientRequestToken
      ? this.stacks.find((s) => s.region === region && s.tokens.has(input.ClientRequestToken!))
      : undefined;
    if (sameToken) return { StackId: sameToken.StackId };
    if (this.live(region).some((s) => s.StackName === input.StackName)) {
      throw awsError('AlreadyExistsException', `Stack [${input.StackName}] already exists`);
    }
    const StackId = `arn:aws:cloudformation:${region}:${this.cloud.account}:stack/${input.StackName}/${this.id('')}`;
    const stack: Stack = {
      StackId,
      StackName: input.StackName,
      region,
      templateBody: input.TemplateBody,
      parameters: Object.fromEntries((input.Parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue])),
      tags: tagsToMap(input.Tags),
      status: 'CREATE_IN_PROGRESS',
      doneAt: this.now() + this.delay('stack.create'),
      physical: new Map(),
      outputs: {},
      tokens: new Set(input.ClientRequestToken ? [input.ClientRequestToken] : []),
      events: [],
    };
    this.stacks.push(stack);
    stack.refused = this.refusedInCallersName(stack, [...this.activeResources(stack)], 'create');
    if (!stack.refused) this.materialize(stack);
    return { StackId };
  }

  UpdateStack(
    region: string,
    input: {
      StackName: string;
      TemplateBody: string;
      Parameters?: Array<{ ParameterKey: string; ParameterValue: string }>;
      Tags?: Array<{ Key: string; Value: string }>;
      ClientRequestToken?: string;
    },
  ) {
    const s = this.find(region, input.StackName);
    if (!s) throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
    if (input.ClientRequestToken && s.tokens.has(input.ClientRequestToken)) return { StackId: s.StackId };
    if (s.status.endsWith('_IN_PROGRESS')) {
      throw awsError('ValidationError', `Stack:${s.StackId} is in ${s.status} state and can not be updated.`);
    }
    const parameters = Object.fromEntries(
      (input.Parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue]),
    );
    if (
      input.TemplateBody === s.templateBody &&
      JSON.stringify(parameters) === JSON.stringify(s.parameters)
    ) {
      throw awsError('ValidationError', 'No updates are to be performed.');
    }
    const before = this.propertiesOf(s);
    s.templateBody = input.TemplateBody;
    s.parameters = parameters;
    const after = this.propertiesOf(s);
    // Kept resources whose properties change are updated in place, with the type's update actions.
    const changed = [...before].filter(
      ([logical, props]) => after.has(logical) && after.get(logical) !== props,
    );
    // Tags given replace the stack's tags (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateStack.html).
    if (input.Tags) s.tags = tagsToMap(input.Tags);
    if (input.ClientRequestToken) s.tokens.add(input.ClientRequestToken);
    s.status = 'UPDATE_IN_PROGRESS';
    s.doneAt = this.now() + this.delay('stack.update');
    // Resources the new template (or a condition) drops go; new ones are made. Changed
    // properties of kept resources are not modelled.
    const wanted = this.activeResources(s);
    s.refused =
      this.refusedInCallersName(
        s,
        changed.map(([logical]) => [logical, { Type: s.physical.get(logical)!.type }]),
        'update',
      ) ??
      this.refusedInCallersName(
        s,
        [...wanted].filter(([logical]) => !s.physical.has(logical)),
        'create',
      ) ??
      this.refusedInCallersName(
        s,
        [...s.physical]
          .filter(([logical]) => !wanted.has(logical))
          .map(([logical, p]) => [logical, { Type: p.type }]),
        'delete',
      );
    if (s.refused) return { StackId: s.StackId };
    for (const [logical, p] of [...s.physical]) {
      if (!wanted.has(logical)) {
        this.destroyOne(s, p);
        s.physical.delete(logical);
      }
    }
    this.materialize(s);
    return { StackId: s.StackId };
  }

  DeleteStack(region: string, input: { StackName: string; ClientRequestToken?: string }) {
    const s = this.find(region, input.StackName);
    if (!s || s.status === 'DELETE_COMPLETE') return {};
    if (s.status === 'DELETE_IN_PROGRESS') return {};
    s.status = 'DELETE_IN_PROGRESS';
    s.reason = undefined;
    s.refused = this.refusedInCallersName(
      s,
      [...s.physical].map(([logical, p]) => [logical, { Type: p.type }]),
      'delete',
    );
    s.doneAt = this.now() + this.delay(s.networkOnly ? 'stack.deleteNetwork' : 'stack.delete');
    return {};
  }

  DescribeStacks(region: string, input: { StackName?: string; NextToken?: string }) {
    const found = input.StackName ? [this.find(region, input.StackName)] : this.live(region);
    if (input.StackName && !found[0]) {
      throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
    }
    // One page holds up to 100 stacks; DescribeStacks takes no page size.
    const { items: list, next } = page(
      this.cloud,
      found,
      { token: input.NextToken },
      {
        command: 'DescribeStacks',
        defaultSize: 100,
        key: (s) => s!.StackId,
        badToken: { name: 'ValidationError' },
      },
    );
    return {
      ...(next ? { NextToken: next } : {}),
      Stacks: list.map((s) => ({
        StackId: s!.StackId,
        StackName: s!.StackName,
        StackStatus: s!.status,
        StackStatusReason: s!.reason,
        Parameters: Object.entries(s!.parameters).map(([ParameterKey, ParameterValue]) => ({
          ParameterKey,
          ParameterValue,
        })),
        Tags: mapToTags(s!.tags),
        Outputs:
          s!.status === 'CREATE_IN_PROGRESS'
            ? []
            : Object.entries(s!.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
        CreationTime: new Date(0),
      })),
    };
  }

  DescribeStackEvents(region: string, input: { StackName: string; NextToken?: string }) {
    const s = this.find(region, input.StackName);
    if (!s) throw awsError('ValidationError', `Stack [${input.StackName}] does not exist`);
    const { items, next } = page(
      this.cloud,
      s.events,
      { token: input.NextToken },
      {
        command: `DescribeStackEvents/${s.StackId}`,
        defaultSize: 100,
        key: (e) => `${e.Timestamp.getTime()}|${e.LogicalResourceId}|${e.ResourceStatus}`,
        badToken: { name: 'ValidationError' },
      },
    );
    return {
      StackEvents: items.map((e) => ({ ...e, StackId: s.StackId, StackName: s.StackName })),
      ...(next ? { NextToken: next } : {}),
    };
  }

  GetTemplate(region: string, input: { StackName: string }) {
    const s = this.find(region, input.StackName);
    if (!s) throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
    return { TemplateBody: s.templateBody };
  }

  /**
   * CloudFormation acts on the template's resources with the caller's credentials (no service
   * role), marked aws:CalledVia: the first action IAM refuses fails that resource, and the stack.
   * Stack tags reach each resource it makes, so each create is a tagging too; an SSM parameter
   * type is resolved with ssm:GetParameters in the caller's name
   * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-ssm.html).
   */
  /** Each made resource's properties as the template and parameters give them now (JSON). */
  private propertiesOf(s: Stack): Map<string, string> {
    const t = JSON.parse(s.templateBody);
    const params = this.paramsOf(s, t);
    const cond = (name: string): boolean => this.evalCond(t.Conditions[name], params);
    const out = new Map<string, string>();
    for (const [logical, res] of this.activeResources(s)) {
      if (!s.physical.has(logical)) continue;
      out.set(logical, JSON.stringify(this.evaluate(res.Properties ?? {}, s, params, cond)));
    }
    return out;
  }

  private refusedInCallersName(
    s: Stack,
    resources: Array<[string, Json]>,
    op: 'create' | 'update' | 'delete',
  ): Stack['refused'] {
    const arn = (rest: string) => `arn:aws:ec2:${s.region}:${this.cloud.account}:${rest}`;
    const tryAll = (logical: string, checks: Array<{ action: string; resource: string }>) => {
      for (const c of checks) {
        try {
          this.cloud.authorizer.onBehalf('cloudformation', `${op}:${logical}`, s.region, c, {
            calledVia: 'cloudformation.amazonaws.com',
          });
        } catch (e) {
          return {
            logical,
            message: `Resource handler returned message: "${(e as Error).message}" (Service: Ec2, Status Code: 403)`,
          };
        }
      }
      return undefined;
    };
    if (op === 'create') {
      const t = JSON.parse(s.templateBody);
      for (const [key, p] of Object.entries<Json>(t.Parameters ?? {})) {
        if (!String(p.Type).startsWith('AWS::SSM::Parameter::Value')) continue;
        const name = String(s.parameters[key] ?? p.Default);
        const refused = tryAll(key, [
          {
            action: 'ssm:GetParameters',
            resource: `arn:aws:ssm:${s.region}::parameter${name.startsWith('/') ? '' : '/'}${name}`,
          },
        ]);
        if (refused) return refused;
      }
    }
    for (const [logical, res] of resources) {
      const spec = STACK_RESOURCE_ACTIONS[res.Type as string];
      if (!spec) throw new Error(`fake CloudFormation: no IAM actions known for ${res.Type}`);
      const tagged = op === 'create' && Object.keys(s.tags).length > 0 && !UNTAGGABLE.has(res.Type as string);
      const actions = [...spec[op], ...(tagged ? ['ec2:CreateTags'] : [])];
      const checks = actions.map((action) => ({ action, resource: arn(spec.arn) }));
      // An interface endpoint with private DNS associates an AWS-managed private zone with the VPC
      // in the caller's name (route53:AssociateVPCWithHostedZone).
      if (
        op === 'create' &&
        res.Type === 'AWS::EC2::VPCEndpoint' &&
        res.Properties?.PrivateDnsEnabled === true
      )
        checks.push({
          action: 'route53:AssociateVPCWithHostedZone',
          resource: 'arn:aws:route53:::hostedzone/*',
        });
      const refused = tryAll(logical, checks);
      if (refused) return refused;
    }
    return undefined;
  }

  // ---- template evaluation -----------------------------------------------------------------
  /** The parameters with their defaults. */
  private paramsOf(s: Stack, t: Json): Record<string, string> {
    const params: Record<string, string> = {};
    for (const [k, p] of Object.entries<Json>(t.Parameters ?? {})) {
      params[k] = s.parameters[k] ?? (p.Type.startsWith('AWS::SSM') ? 'ami-0fake' : String(p.Default ?? ''));
      if (!(k in s.parameters) && p.Default === undefined) {
        throw awsError('ValidationError', `Parameters: [${k}] must have values`);
      }
      if (p.AllowedValues && !p.AllowedValues.includes(params[k])) {
        throw awsError('ValidationError', `Parameter '${k}' must be one of AllowedValues`);
      }
    }
    return params;
  }

  /** The template's resources whose Condition (if any) holds: what the stack should have. */
  private activeResources(s: Stack): Map<string, Json> {
    const t = JSON.parse(s.templateBody);
    const params = this.paramsOf(s, t);
    return new Map(
      Object.entries<Json>(t.Resources).filter(
        ([, res]) => !res.Condition || this.evalCond(t.Conditions[res.Condition], params),
      ),
    );
  }

  /** Make what the template declares and the stack does not have yet. */
  private materialize(s: Stack): void {
    const t = JSON.parse(s.templateBody);
    const params = this.paramsOf(s, t);
    const r = this.ec2.region(s.region);
    const conditions = (name: string): boolean => this.evalCond(t.Conditions[name], params);
    const todo = [...this.activeResources(s)].filter(([logical]) => !s.physical.has(logical));
    const ev = (v: Json): Json => this.evaluate(v, s, params, conditions);
    const tags = { ...s.tags, 'aws:cloudformation:stack-id': s.StackId };
    const owner = `stack:${s.StackId}`;
    const put = (logical: string, type: string, id: string, attrs: Record<string, string> = {}) =>
      s.physical.set(logical, { type, id, attrs });
    for (const [logical, res] of todo) {
      const p = res.Properties ?? {};
      switch (res.Type) {
        case 'AWS::EC2::VPC': {
          // EC2 makes the main route table, default security group and network ACL with it, untagged.
          const { VpcId: id } = this.ec2.createVpc(s.region, {
            CidrBlock: ev(p.CidrBlock),
            tags,
            enableDnsSupport: !!p.EnableDnsSupport,
            enableDnsHostnames: !!p.EnableDnsHostnames,
          });
          put(logical, res.Type, id, { CidrBlock: ev(p.CidrBlock) });
          break;
        }
        default:
      }
    }
    // Second pass: everything that references the VPC.
    for (const [logical, res] of todo) {
      const p = res.Properties ?? {};
      switch (res.Type) {
        case 'AWS::EC2::Subnet': {
          const id = this.id('subnet-');
          r.subnets.set(id, {
            SubnetId: id,
            VpcId: ev(p.VpcId),
            CidrBlock: ev(p.CidrBlock),
            AvailabilityZone: ev(p.AvailabilityZone),
            tags,
          });
          put(logical, res.Type, id);
          break;
        }
        case 'AWS::EC2::InternetGateway':
        case 'AWS::EC2::EIP': {
          const kind = res.Type === 'AWS::EC2::EIP' ? 'eip' : 'igw';
          const id = this.id(kind === 'eip' ? 'eipalloc-' : 'igw-');
          r.others.set(id, { id, kind, tags });
          put(logical, res.Type, id, { AllocationId: id });
          break;
        }
        case 'AWS::EC2::RouteTable': {
          const id = this.id('rtb-');
          const vpcId = ev(p.VpcId);
          r.routeTables.set(id, {
            RouteTableId: id,
            VpcId: vpcId,
            routes: [
              {
                DestinationCidrBlock: r.vpcs.get(vpcId)!.CidrBlock,
                GatewayId: 'local',
                State: 'active',
                Origin: 'CreateRouteTable',
              },
            ],
            subnetIds: [],
            main: false,
            tags,
          });
          put(logical, res.Type, id);
          break;
        }
        case 'AWS::EC2::SecurityGroup': {
          const id = this.id('sg-');
          const evaluated = ev(p.SecurityGroupIngress);
          const ingress = Array.isArray(evaluated) ? evaluated : [];
          r.securityGroups.set(id, {
            GroupId: id,
            GroupName: `${s.StackName}-${logical}`,
            Description: ev(p.GroupDescription),
            VpcId: ev(p.VpcId),
            ingress: ingress.map((x) => ({
              IpProtocol: x.IpProtocol,
              FromPort: x.FromPort,
              ToPort: x.ToPort,
              CidrIp: ev(x.CidrIp),
              Description: x.Description,
            })),
            tags,
          });
          put(logical, res.Type, id);
          break;
        }
        default:
      }
    }
    for (const [logical, res] of todo) {
      const p = res.Properties ?? {};
      switch (res.Type) {
        case 'AWS::EC2::NatGateway':
        case 'AWS::EC2::Instance': {
          const nat = res.Type === 'AWS::EC2::NatGateway';
          const id = this.id(nat ? 'nat-' : 'i-');
          const subnetId = ev(p.SubnetId);
          r.others.set(id, { id, kind: nat ? 'nat' : 'instance', SubnetId: subnetId, tags });
          const eni = this.id('eni-');
          r.enis.set(eni, {
            NetworkInterfaceId: eni,
            SubnetId: subnetId,
            VpcId: r.subnets.get(subnetId)!.VpcId,
            groupIds: nat ? [] : ((ev(p.SecurityGroupIds) ?? []) as string[]),
            PrivateIpAddress: r.allocateIp(subnetId),
            Description: nat ? `Interface for NAT Gateway ${id}` : `Primary network interface of ${id}`,
            owner: `${owner}:${logical}`,
          });
          put(logical, res.Type, id);
          break;
        }
        case 'AWS::EC2::Route': {
          const table = r.routeTables.get(ev(p.RouteTableId))!;
          table.routes.push({
            DestinationCidrBlock: ev(p.DestinationCidrBlock),
            GatewayId: p.GatewayId ? ev(p.GatewayId) : undefined,
            NatGatewayId: p.NatGatewayId ? ev(p.NatGatewayId) : undefined,
            // A Gateway Load Balancer / Network Firewall endpoint is shown as GatewayId vpce-...
            // (EC2 API Route: "GatewayId: The ID of a gateway attached to your VPC").
            ...(p.VpcEndpointId ? { GatewayId: ev(p.VpcEndpointId) } : {}),
            ...(p.CoreNetworkArn ? { CoreNetworkArn: ev(p.CoreNetworkArn) } : {}),
            State: 'active',
            Origin: 'CreateRoute',
          });
          put(logical, res.Type, `${table.RouteTableId}|${ev(p.DestinationCidrBlock)}`);
          break;
        }
        case 'AWS::EC2::SubnetRouteTableAssociation': {
          const table = r.routeTables.get(ev(p.RouteTableId))!;
          table.subnetIds.push(ev(p.SubnetId));
          put(logical, res.Type, this.id('rtbassoc-'));
          break;
        }
        case 'AWS::EC2::VPCGatewayAttachment':
          put(logical, res.Type, this.id('attach-'));
          break;
        case 'AWS::EC2::VPCEndpoint': {
          const type = ev(p.VpcEndpointType) ?? 'Gateway';
          if (type !== 'Interface' && type !== 'Gateway')
            throw new Error(`fake CloudFormation: unsupported endpoint type ${type}`);
          const id = this.cloud.model(FakeEc2Endpoints).createForStack(s.region, {
            VpcId: ev(p.VpcId),
            ServiceName: ev(p.ServiceName),
            type,
            SubnetIds: ev(p.SubnetIds) ?? [],
            SecurityGroupIds: ev(p.SecurityGroupIds) ?? [],
            RouteTableIds: ev(p.RouteTableIds) ?? [],
            PrivateDnsEnabled: ev(p.PrivateDnsEnabled) === true,
            tags,
            owner: `${owner}:${logical}`,
          });
          put(logical, res.Type, id);
          break;
        }
        default:
          if (!s.physical.has(logical))
            throw new Error(`fake CloudFormation: unsupported resource type ${res.Type}`);
      }
    }
    this.refreshOutputs(s);
  }

  private refreshOutputs(s: Stack): void {
    const t = JSON.parse(s.templateBody);
    const params = this.paramsOf(s, t);
    const conditions = (name: string): boolean => this.evalCond(t.Conditions[name], params);
    s.outputs = Object.fromEntries(
      Object.entries<Json>(t.Outputs ?? {})
        .filter(([, o]) => !o.Condition || conditions(o.Condition))
        .map(([k, o]) => [k, String(this.evaluate(o.Value, s, params, conditions))]),
    );
  }

  private destroyResources(s: Stack): void {
    const r = this.ec2.region(s.region);
    for (const p of s.physical.values()) {
      if (p.type === 'AWS::EC2::VPCEndpoint')
        this.cloud.model(FakeEc2Endpoints).removeForStack(s.region, p.id);
      if (p.type === 'AWS::EC2::VPC') this.ec2.removeVpc(s.region, p.id);
      r.subnets.delete(p.id);
      r.routeTables.delete(p.id);
      r.securityGroups.delete(p.id);
      r.others.delete(p.id);
    }
    for (const [id, e] of r.enis) if (e.owner.startsWith(`stack:${s.StackId}`)) r.enis.delete(id);
  }

  /** Every resource except those of `keep` types (a delete that failed on them). */
  private destroyAllBut(s: Stack, keep: ReadonlySet<string>): void {
    for (const [logical, p] of [...s.physical]) {
      if (keep.has(p.type)) continue;
      this.destroyOne(s, p);
      s.physical.delete(logical);
    }
  }

  /** One resource an update drops (the kinds our template can drop: NAT, its EIP and route). */
  private destroyOne(s: Stack, p: { type: string; id: string }): void {
    const r = this.ec2.region(s.region);
    const logical = [...s.physical].find(([, x]) => x === p)?.[0];
    switch (p.type) {
      case 'AWS::EC2::Route': {
        const [table, cidr] = p.id.split('|');
        const t = r.routeTables.get(table!);
        if (t) t.routes = t.routes.filter((x) => x.DestinationCidrBlock !== cidr);
        break;
      }
      case 'AWS::EC2::VPCEndpoint':
        this.cloud.model(FakeEc2Endpoints).removeForStack(s.region, p.id);
        break;
      default:
        if (p.type === 'AWS::EC2::VPC') this.ec2.removeVpc(s.region, p.id);
        r.subnets.delete(p.id);
        r.routeTables.delete(p.id);
        r.securityGroups.delete(p.id);
        r.others.delete(p.id);
    }
    for (const [id, e] of r.enis)
      if (logical && e.owner === `stack:${s.StackId}:${logical}`) r.enis.delete(id);
  }

  private evalCond(c: Json, params: Record<string, string>): boolean {
    if (c['Fn::Not']) return !this.evalCond(c['Fn::Not'][0], params);
    if (c['Fn::Equals']) {
      const [a, b] = c['Fn::Equals'].map((x: Json) => (x?.Ref ? params[x.Ref] : x));
      return a === b;
    }
    throw new Error(`fake CloudFormation: unsupported condition ${JSON.stringify(c)}`);
  }

  private evaluate(v: Json, s: Stack, params: Record<string, string>, cond: (n: string) => boolean): Json {
    const ev = (x: Json) => this.evaluate(x, s, params, cond);
    if (Array.isArray(v)) return v.map(ev).filter((x) => x !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    if ('Ref' in v) {
      if (v.Ref === 'AWS::NoValue') return NO_VALUE;
      if (v.Ref === 'AWS::Region') return s.region;
      if (v.Ref === 'AWS::StackName') return s.StackName;
      if (v.Ref in params) return params[v.Ref];
      const p = s.physical.get(v.Ref);
      if (!p) throw new Error(`fake CloudFormation: Ref to unknown ${v.Ref}`);
      return p.id;
    }
    if ('Fn::GetAtt' in v) {
      const [logical, attr] = v['Fn::GetAtt'];
      return s.physical.get(logical)?.attrs[attr] ?? `${logical}.${attr}`;
    }
    if ('Fn::Join' in v) return (v['Fn::Join'][1] as Json[]).map(ev).join(v['Fn::Join'][0]);
    if ('Fn::Select' in v) return ev(v['Fn::Select'][1])[v['Fn::Select'][0]];
    if ('Fn::GetAZs' in v) return [`${s.region}a`, `${s.region}b`, `${s.region}c`];
    if ('Fn::Cidr' in v) {
      const [block, count, bits] = v['Fn::Cidr'].map(ev);
      const [ip, prefix] = String(block).split('/');
      const base = ip!.split('.').reduce((a: number, o: string) => a * 256 + Number(o), 0);
      const size = 2 ** Number(bits);
      return Array.from({ length: Number(count) }, (_, i) => {
        const n = base + i * size;
        return `${[24, 16, 8, 0].map((sh) => Math.floor(n / 2 ** sh) % 256).join('.')}/${32 - Number(bits)}`;
      }).filter(() => Number(prefix) <= 32 - Number(bits));
    }
    if ('Fn::If' in v) {
      const [name, a, b] = v['Fn::If'];
      return cond(name) ? ev(a) : ev(b);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, ev(x)]));
  }

  snapshot(): string[] {
    return this.stacks
      .filter((s) => {
        this.settle(s);
        return s.status !== 'DELETE_COMPLETE';
      })
      .map((s) => `cloudformation/${s.region}/stack/${s.StackName}(${s.status})`);
  }
}

const NO_VALUE = Symbol('AWS::NoValue');
