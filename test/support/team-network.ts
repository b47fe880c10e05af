import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  AcceptVpcPeeringConnectionCommand,
  CreateRouteCommand,
  CreateVpcEndpointCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteVpcEndpointsCommand,
  DescribeRouteTablesCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcPeeringConnectionsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import type { Harness } from './harness.js';

// A team's own network, seeded with the SDK as another user of the account (issue 25): per region
// a VPC with two private subnets on one route table and the canary's way out (an S3 gateway
// endpoint and a CloudWatch `monitoring` interface endpoint), and the team's own peering between
// the two VPCs with routes both ways. drctl is configured to use it (peering "existing").

export interface TeamVpc {
  vpcId: string;
  subnets: string[];
  routeTableId: string;
}

/** A VPC (DNS options on, as a canary needs) and its two subnets A and B, and their outputs. */
const vpcWithSubnets = (cidr: string, region: string) => ({
  resources: {
    Vpc: {
      Type: 'AWS::EC2::VPC',
      Properties: { CidrBlock: cidr, EnableDnsSupport: true, EnableDnsHostnames: true },
    },
    ...Object.fromEntries(
      ['A', 'B'].map((s, i) => [
        s,
        {
          Type: 'AWS::EC2::Subnet',
          Properties: {
            VpcId: { Ref: 'Vpc' },
            AvailabilityZone: `${region}${'ab'[i]}`,
            CidrBlock: cidr.replace('.0.0/16', `.${i + 1}.0/24`),
          },
        },
      ]),
    ),
  },
  outputs: {
    VpcId: { Value: { Ref: 'Vpc' } },
    A: { Value: { Ref: 'A' } },
    B: { Value: { Ref: 'B' } },
  },
});

const template = (cidr: string, region: string, wayOut: boolean) => {
  const base = vpcWithSubnets(cidr, region);
  return JSON.stringify({
    Resources: {
      ...base.resources,
      ...Object.fromEntries(
        ['A', 'B'].map((s) => [
          `${s}Routes`,
          {
            Type: 'AWS::EC2::SubnetRouteTableAssociation',
            Properties: { SubnetId: { Ref: s }, RouteTableId: { Ref: 'Routes' } },
          },
        ]),
      ),
      Routes: { Type: 'AWS::EC2::RouteTable', Properties: { VpcId: { Ref: 'Vpc' } } },
      ...(wayOut
        ? {
            S3: {
              Type: 'AWS::EC2::VPCEndpoint',
              Properties: {
                VpcId: { Ref: 'Vpc' },
                VpcEndpointType: 'Gateway',
                ServiceName: `com.amazonaws.${region}.s3`,
                RouteTableIds: [{ Ref: 'Routes' }],
              },
            },
            MonitoringSg: {
              Type: 'AWS::EC2::SecurityGroup',
              Properties: {
                GroupDescription: 'monitoring endpoint',
                VpcId: { Ref: 'Vpc' },
                SecurityGroupIngress: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: cidr }],
              },
            },
            Monitoring: {
              Type: 'AWS::EC2::VPCEndpoint',
              Properties: {
                VpcId: { Ref: 'Vpc' },
                VpcEndpointType: 'Interface',
                ServiceName: `com.amazonaws.${region}.monitoring`,
                PrivateDnsEnabled: true,
                SubnetIds: [{ Ref: 'A' }, { Ref: 'B' }],
                SecurityGroupIds: [{ Ref: 'MonitoringSg' }],
              },
            },
          }
        : {}),
    },
    Outputs: { ...base.outputs, Routes: { Value: { Ref: 'Routes' } } },
  });
};

/** The team's CIDRs in the two regions the tests use. */
export const TEAM_CIDR: Record<string, string> = { 'sa-east-1': '10.20.0.0/16', 'us-west-1': '10.30.0.0/16' };

/** A stack that is not drctl's (a caller allowed everything), waited for: its outputs. */
export async function teamStack(
  h: Harness,
  region: string,
  name: string,
  templateBody: string,
): Promise<Record<string, string>> {
  return h.cloud.authorizer.asAdmin(async () => {
    const cfn = new CloudFormationClient({ region });
    const { StackId } = await cfn.send(
      new CreateStackCommand({ StackName: name, TemplateBody: templateBody }),
    );
    for (;;) {
      const s = (await cfn.send(new DescribeStacksCommand({ StackName: StackId }))).Stacks![0]!;
      if (s.StackStatus === 'CREATE_COMPLETE')
        return Object.fromEntries((s.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
      if (!/IN_PROGRESS/.test(s.StackStatus ?? '')) throw new Error(`${name}: ${s.StackStatus}`);
      h.cloud.clock.advance(10_000);
    }
  });
}

/** The team's VPC in `region`, made by a caller allowed everything. */
export async function teamVpc(h: Harness, region: string, cidr: string, wayOut = true): Promise<TeamVpc> {
  const out = await teamStack(h, region, 'team-network', template(cidr, region, wayOut));
  return { vpcId: out.VpcId!, subnets: [out.A!, out.B!], routeTableId: out.Routes! };
}

/** A team VPC whose subnets use its main route table, with a group for the team's own endpoint. */
export interface TeamEndpointVpc {
  vpcId: string;
  subnets: string[];
  sg: string;
}

const endpointVpcTemplate = (cidr: string, region: string) => {
  const base = vpcWithSubnets(cidr, region);
  return JSON.stringify({
    Resources: {
      ...base.resources,
      Sg: {
        Type: 'AWS::EC2::SecurityGroup',
        Properties: { GroupDescription: 'team endpoint', VpcId: { Ref: 'Vpc' } },
      },
    },
    Outputs: { ...base.outputs, Sg: { Value: { Ref: 'Sg' } } },
  });
};

/**
 * The team's VPC for their own endpoint: two subnets on the main route table and a group; its way
 * out (up refuses a used VPC without one, unless `wayOut` is false) a NAT route on that main table.
 */
export async function teamEndpointVpc(
  h: Harness,
  region: string,
  cidr: string,
  { name = 'team-network', wayOut = true } = {},
): Promise<TeamEndpointVpc> {
  const out = await teamStack(h, region, name, endpointVpcTemplate(cidr, region));
  if (wayOut) await teamNatOnMainTable(h, region, out.VpcId!, cidr.replace('.0.0/16', '.9.0/24'));
  return { vpcId: out.VpcId!, subnets: [out.A!, out.B!], sg: out.Sg! };
}

/** The team's own execute-api endpoint (private DNS on) in `vpc`: its id. */
export async function teamEndpoint(h: Harness, region: string, vpc: TeamEndpointVpc): Promise<string> {
  return h.cloud.authorizer.asAdmin(async () => {
    const e = await new EC2Client({ region }).send(
      new CreateVpcEndpointCommand({
        VpcEndpointType: 'Interface',
        VpcId: vpc.vpcId,
        ServiceName: `com.amazonaws.${region}.execute-api`,
        SubnetIds: vpc.subnets,
        SecurityGroupIds: [vpc.sg],
        PrivateDnsEnabled: true,
      }),
    );
    return e.VpcEndpoint!.VpcEndpointId!;
  });
}

/** The team's own peering between the two VPCs, active, with a route each way. */
export async function teamPeering(
  h: Harness,
  a: { region: string; cidr: string; vpc: TeamVpc },
  b: { region: string; cidr: string; vpc: TeamVpc },
): Promise<string> {
  return h.cloud.authorizer.asAdmin(async () => {
    const ec2a = new EC2Client({ region: a.region });
    const ec2b = new EC2Client({ region: b.region });
    const pcx = (
      await ec2a.send(
        new CreateVpcPeeringConnectionCommand({
          VpcId: a.vpc.vpcId,
          PeerVpcId: b.vpc.vpcId,
          PeerRegion: b.region,
        }),
      )
    ).VpcPeeringConnection!.VpcPeeringConnectionId!;
    const status = async () =>
      (await ec2a.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [pcx] })))
        .VpcPeeringConnections![0]!.Status!.Code;
    while ((await status()) !== 'pending-acceptance') h.cloud.clock.advance(5_000);
    await ec2b.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    while ((await status()) !== 'active') h.cloud.clock.advance(5_000);
    for (const [ec2, from, to] of [
      [ec2a, a, b],
      [ec2b, b, a],
    ] as const)
      await ec2.send(
        new CreateRouteCommand({
          RouteTableId: from.vpc.routeTableId,
          DestinationCidrBlock: to.cidr,
          VpcPeeringConnectionId: pcx,
        }),
      );
    return pcx;
  });
}

export interface TeamNetwork {
  cidr: Record<string, string>;
  vpc: Record<string, TeamVpc>;
  pcx: string;
  /** drctl's config for one region of it: its VPC and subnets, used. */
  side: (region: string) => { region: string; vpcCidr: string; vpcId: string; subnetIds: string[] };
}

/**
 * The team's network in both regions: a VPC each (`wayOut` per region, default with) and the
 * team's peering between them. drctl's config: `primary: side(p), secondary: side(s),
 * peering: "existing"`.
 */
export async function teamNetwork(
  h: Harness,
  [p, s]: readonly [string, string],
  wayOut: Record<string, boolean> = {},
): Promise<TeamNetwork> {
  const cidr = { [p]: TEAM_CIDR[p]!, [s]: TEAM_CIDR[s]! };
  const vpc: Record<string, TeamVpc> = {
    [p]: await teamVpc(h, p, cidr[p]!, wayOut[p] ?? true),
    [s]: await teamVpc(h, s, cidr[s]!, wayOut[s] ?? true),
  };
  const pcx = await teamPeering(
    h,
    { region: p, cidr: cidr[p]!, vpc: vpc[p]! },
    { region: s, cidr: cidr[s]!, vpc: vpc[s]! },
  );
  const side = (region: string) => ({
    region,
    vpcCidr: cidr[region]!,
    vpcId: vpc[region]!.vpcId,
    subnetIds: vpc[region]!.subnets,
  });
  return { cidr, vpc, pcx, side };
}

/**
 * A way out by NAT instead of endpoints (as many teams' VPCs have): a public subnet with an
 * internet gateway route, a NAT gateway there, and 0.0.0.0/0 to it on the team's route table.
 * `publicCidr`: the public subnet's, inside the VPC's CIDR.
 */
export async function teamNatRoute(
  h: Harness,
  region: string,
  vpc: TeamVpc,
  publicCidr: string,
): Promise<void> {
  const templateBody = JSON.stringify({
    Resources: {
      Igw: { Type: 'AWS::EC2::InternetGateway', Properties: {} },
      Attach: {
        Type: 'AWS::EC2::VPCGatewayAttachment',
        Properties: { VpcId: vpc.vpcId, InternetGatewayId: { Ref: 'Igw' } },
      },
      Public: {
        Type: 'AWS::EC2::Subnet',
        Properties: { VpcId: vpc.vpcId, CidrBlock: publicCidr, AvailabilityZone: `${region}a` },
      },
      PublicRoutes: { Type: 'AWS::EC2::RouteTable', Properties: { VpcId: vpc.vpcId } },
      PublicAssoc: {
        Type: 'AWS::EC2::SubnetRouteTableAssociation',
        Properties: { SubnetId: { Ref: 'Public' }, RouteTableId: { Ref: 'PublicRoutes' } },
      },
      ToIgw: {
        Type: 'AWS::EC2::Route',
        Properties: {
          RouteTableId: { Ref: 'PublicRoutes' },
          DestinationCidrBlock: '0.0.0.0/0',
          GatewayId: { Ref: 'Igw' },
        },
      },
      Eip: { Type: 'AWS::EC2::EIP', Properties: {} },
      Nat: {
        Type: 'AWS::EC2::NatGateway',
        Properties: {
          SubnetId: { Ref: 'Public' },
          AllocationId: { 'Fn::GetAtt': ['Eip', 'AllocationId'] },
        },
      },
      ToNat: {
        Type: 'AWS::EC2::Route',
        Properties: {
          RouteTableId: vpc.routeTableId,
          DestinationCidrBlock: '0.0.0.0/0',
          NatGatewayId: { Ref: 'Nat' },
        },
      },
    },
  });
  await teamStack(h, region, 'team-nat', templateBody);
}

/** The team takes its S3 and monitoring endpoints away (after `up`, which refuses a VPC without). */
export async function removeWayOut(h: Harness, region: string, vpc: TeamVpc): Promise<void> {
  await h.cloud.authorizer.asAdmin(async () => {
    const ec2 = new EC2Client({ region });
    const { VpcEndpoints } = await ec2.send(
      new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.vpcId] }] }),
    );
    const ids = (VpcEndpoints ?? [])
      .filter((e) => /\.(s3|monitoring)$/.test(e.ServiceName ?? ''))
      .map((e) => e.VpcEndpointId!);
    await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: ids }));
  });
}

/** teamNatRoute on the VPC's main route table (a VPC whose subnets have no table of their own). */
export async function teamNatOnMainTable(h: Harness, region: string, vpcId: string, publicCidr: string) {
  const routeTableId = await h.cloud.authorizer.asAdmin(async () => {
    const { RouteTables } = await new EC2Client({ region }).send(
      new DescribeRouteTablesCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'association.main', Values: ['true'] },
        ],
      }),
    );
    return RouteTables![0]!.RouteTableId!;
  });
  await teamNatRoute(h, region, { vpcId, subnets: [], routeTableId }, publicCidr);
}
