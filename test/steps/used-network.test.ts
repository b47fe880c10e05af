import '../support/fast-tmp.js';
import { EC2Client, ModifyVpcAttributeCommand } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from '../support/harness.js';
import { upTo } from '../support/steps.js';
import { type TeamVpc, teamNetwork, teamStack } from '../support/team-network.js';

// Issue 25, the canary's way out of a used VPC judged as AWS does: the preflight
// (src/steps/used-network.ts) accepts every way out AWS gives and refuses, before anything is
// made, a VPC where the canary would run and publish nothing.

const REGIONS = ['sa-east-1', 'us-west-1'] as const;
const [P, S] = REGIONS;
const FIRST = upTo('vpc');

let h: Harness;
afterEach(() => h?.cleanup());

/** A 0.0.0.0/0 route on the team's table, made by the team's own stack. */
const defaultRoute = (vpc: TeamVpc, target: Record<string, string>) =>
  JSON.stringify({
    Resources: {
      Out: {
        Type: 'AWS::EC2::Route',
        Properties: { RouteTableId: vpc.routeTableId, DestinationCidrBlock: '0.0.0.0/0', ...target },
      },
    },
  });

/** The team's S3 (gateway or interface) and monitoring endpoints, their group admitting `admit`. */
const endpoints = (region: string, vpc: TeamVpc, s3: 'Gateway' | 'Interface', admit: string) =>
  JSON.stringify({
    Resources: {
      Sg: {
        Type: 'AWS::EC2::SecurityGroup',
        Properties: {
          GroupDescription: 'endpoints',
          VpcId: vpc.vpcId,
          SecurityGroupIngress: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: admit }],
        },
      },
      S3: {
        Type: 'AWS::EC2::VPCEndpoint',
        Properties: {
          VpcId: vpc.vpcId,
          VpcEndpointType: s3,
          ServiceName: `com.amazonaws.${region}.s3`,
          ...(s3 === 'Gateway'
            ? { RouteTableIds: [vpc.routeTableId] }
            : { PrivateDnsEnabled: true, SubnetIds: vpc.subnets, SecurityGroupIds: [{ Ref: 'Sg' }] }),
        },
      },
      Monitoring: {
        Type: 'AWS::EC2::VPCEndpoint',
        Properties: {
          VpcId: vpc.vpcId,
          VpcEndpointType: 'Interface',
          ServiceName: `com.amazonaws.${region}.monitoring`,
          PrivateDnsEnabled: true,
          SubnetIds: vpc.subnets,
          SecurityGroupIds: [{ Ref: 'Sg' }],
        },
      },
    },
  });

async function usedVpc(wayOut: boolean) {
  h = new Harness();
  const net = await teamNetwork(h, REGIONS, { [P]: wayOut });
  h.writeConfig({ primary: net.side(P), secondary: net.side(S), peering: 'existing' });
  return net;
}

describe('used VPC preflight: the canary’s way out', () => {
  for (const [what, target] of [
    ['a Gateway Load Balancer endpoint', { VpcEndpointId: 'vpce-0a1b2c3d4e5f60718' }],
    [
      'a Cloud WAN core network',
      { CoreNetworkArn: 'arn:aws:networkmanager::111122223333:core-network/core-network-0a1b2c3d' },
    ],
  ] as const)
    it(`a 0.0.0.0/0 route to ${what} is a way out`, async () => {
      const { vpc } = await usedVpc(false);
      await teamStack(h, P, 'team-egress', defaultRoute(vpc[P]!, target));
      const r = await h.run(['up'], FIRST);
      expect(r.stderr).not.toMatch(/subnetIds|vpcId/);
      expect(r.code, r.stderr).toBe(0);
    });

  it('an S3 interface endpoint with private DNS stands for the S3 gateway endpoint', async () => {
    const { vpc, cidr } = await usedVpc(false);
    await teamStack(h, P, 'team-endpoints', endpoints(P, vpc[P]!, 'Interface', cidr[P]!));
    const r = await h.run(['up'], FIRST);
    expect(r.stderr).not.toMatch(/subnetIds|vpcId/);
    expect(r.code, r.stderr).toBe(0);
  });

  for (const attribute of ['EnableDnsHostnames', 'EnableDnsSupport'] as const)
    it(`a VPC with ${attribute} off is refused, naming primary.vpcId and the fix`, async () => {
      const { vpc } = await usedVpc(true);
      await h.cloud.authorizer.asAdmin(async () => {
        const ec2 = new EC2Client({ region: P });
        // Hostnames first: AWS keeps hostnames only with DNS support on.
        await ec2.send(
          new ModifyVpcAttributeCommand({ VpcId: vpc[P]!.vpcId, EnableDnsHostnames: { Value: false } }),
        );
        if (attribute === 'EnableDnsSupport')
          await ec2.send(
            new ModifyVpcAttributeCommand({ VpcId: vpc[P]!.vpcId, EnableDnsSupport: { Value: false } }),
          );
      });
      const before = h.cloud.snapshot();
      const r = await h.run(['up']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/primary\.vpcId/);
      expect(r.stderr).toContain(vpc[P]!.vpcId);
      expect(r.stderr).toMatch(/modify-vpc-attribute/);
      expect(r.stderr).toMatch(/enable-dns-hostnames/);
      if (attribute === 'EnableDnsSupport') expect(r.stderr).toMatch(/enable-dns-support/);
      expect(h.cloud.snapshot()).toEqual(before);
      expect(h.state()).toBeUndefined();
    });

  for (const s3 of ['Gateway', 'Interface'] as const)
    it(`endpoints (S3 ${s3}) whose group admits 443 from one subnet only: refused naming the other`, async () => {
      const { vpc } = await usedVpc(false);
      const [a, b] = vpc[P]!.subnets;
      // The team's template gives subnet A 10.20.1.0/24 and B 10.20.2.0/24: admit A's only.
      await teamStack(h, P, 'team-endpoints', endpoints(P, vpc[P]!, s3, '10.20.1.0/24'));
      const before = h.cloud.snapshot();
      const r = await h.run(['up']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/primary\.subnetIds/);
      expect(r.stderr).toContain(b!);
      expect(r.stderr).not.toContain(a!);
      expect(r.stderr).toMatch(/sg-[0-9a-f]+/);
      expect(r.stderr).toMatch(/vpce-[0-9a-f]+/);
      expect(r.stderr).toMatch(/authorize-security-group-ingress .*--port 443 --cidr 10\.20\.2\.0\/24/s);
      expect(h.cloud.snapshot()).toEqual(before);
      expect(h.state()).toBeUndefined();
    });
});
