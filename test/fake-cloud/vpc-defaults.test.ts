import {
  CreateVpcCommand,
  DeleteVpcCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type Filter,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroups,
  type RouteTable,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeCloud, FakeEc2, type FakeCloud } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';
import { upTo } from '../support/steps.js';

// What EC2 makes with every VPC: a main route table, a default security group, a default network
// ACL; untagged, and gone with the VPC.

const REGION = 'sa-east-1';
let cloud: FakeCloud | undefined;
let h: Harness | undefined;
afterEach(() => {
  cloud?.uninstall();
  cloud = undefined;
  h?.cleanup();
  h = undefined;
});

async function tables(region: string, filters: Filter[]): Promise<RouteTable[]> {
  const out: RouteTable[] = [];
  const client = new EC2Client({ region });
  for await (const p of paginateDescribeRouteTables({ client }, { Filters: filters }))
    out.push(...(p.RouteTables ?? []));
  return out;
}

async function groups(region: string, filters: Filter[]): Promise<SecurityGroup[]> {
  const out: SecurityGroup[] = [];
  const client = new EC2Client({ region });
  for await (const p of paginateDescribeSecurityGroups({ client }, { Filters: filters }))
    out.push(...(p.SecurityGroups ?? []));
  return out;
}

describe('fake EC2: what a VPC comes with', () => {
  it('CreateVpc makes a main route table, a default security group and network ACL, untagged; paged and filtered', async () => {
    const fake = (cloud = createFakeCloud());
    // A test of the fake's EC2, not of drctl's permissions: another user of the account calls.
    await fake.authorizer.asAdmin(async () => {
      fake.pageSize = 1; // every page holds one item: the filters must still find them
      const ec2 = new EC2Client({ region: REGION });
      const a = (
        await ec2.send(
          new CreateVpcCommand({
            CidrBlock: '10.1.0.0/16',
            TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'drctl:deployment', Value: 'x' }] }],
          }),
        )
      ).Vpc!;
      const b = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.2.0.0/16' }))).Vpc!;
      expect(a.Tags).toEqual([{ Key: 'drctl:deployment', Value: 'x' }]);

      const mainOfA = await tables(REGION, [
        { Name: 'vpc-id', Values: [a.VpcId!] },
        { Name: 'association.main', Values: ['true'] },
      ]);
      expect(mainOfA).toHaveLength(1);
      expect(mainOfA[0]).toMatchObject({
        VpcId: a.VpcId,
        Associations: [
          {
            Main: true,
            RouteTableId: mainOfA[0]!.RouteTableId,
            RouteTableAssociationId: expect.stringMatching(/^rtbassoc-/),
            AssociationState: { State: 'associated' },
          },
        ],
        Routes: [{ DestinationCidrBlock: '10.1.0.0/16', GatewayId: 'local', State: 'active' }],
        Tags: [],
      });
      // A main table with no explicit association has no non-main association to match.
      expect(await tables(REGION, [{ Name: 'association.main', Values: ['false'] }])).toEqual([]);
      expect((await tables(REGION, [])).map((t) => t.VpcId).sort()).toEqual([a.VpcId, b.VpcId].sort());

      const defaults = await groups(REGION, [
        { Name: 'vpc-id', Values: [a.VpcId!] },
        { Name: 'group-name', Values: ['default'] },
      ]);
      expect(defaults).toHaveLength(1);
      expect(defaults[0]).toMatchObject({
        GroupName: 'default',
        VpcId: a.VpcId,
        Tags: [],
        IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: defaults[0]!.GroupId }] }],
      });
      const acls = [...fake.model(FakeEc2).region(REGION).networkAcls.values()];
      expect(acls.map((x) => [x.VpcId, x.IsDefault, x.tags]).sort()).toEqual(
        [
          [a.VpcId, true, {}],
          [b.VpcId, true, {}],
        ].sort(),
      );
      // They go with the VPC, so the snapshot lists the VPCs only.
      expect(fake.snapshot().sort()).toEqual(
        [`ec2/${REGION}/vpc/${a.VpcId}`, `ec2/${REGION}/vpc/${b.VpcId}`].sort(),
      );
    });
  });

  it('DeleteVpc takes the main table, default group and ACL with it, and is refused while a subnet is left', async () => {
    const fake = (cloud = createFakeCloud());
    await fake.authorizer.asAdmin(async () => {
      const ec2 = new EC2Client({ region: REGION });
      const v = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.1.0.0/16' }))).Vpc!;
      const r = fake.model(FakeEc2).region(REGION);
      r.subnets.set('subnet-1', {
        SubnetId: 'subnet-1',
        VpcId: v.VpcId!,
        CidrBlock: '10.1.0.0/24',
        AvailabilityZone: `${REGION}a`,
        tags: {},
      });
      await expect(ec2.send(new DeleteVpcCommand({ VpcId: v.VpcId }))).rejects.toMatchObject({
        name: 'DependencyViolation',
      });
      r.subnets.delete('subnet-1');
      await ec2.send(new DeleteVpcCommand({ VpcId: v.VpcId }));
      expect(r.routeTables.size + r.securityGroups.size + r.networkAcls.size + r.vpcs.size).toBe(0);
      await expect(ec2.send(new DeleteVpcCommand({ VpcId: v.VpcId }))).rejects.toMatchObject({
        name: 'InvalidVpcID.NotFound',
      });
      expect(fake.snapshot()).toEqual([]);
    });
  });

  it("the vpc stack's VPC has an untagged main table no subnet uses: each subnet is associated with a tagged table", async () => {
    h = new Harness();
    const steps = upTo('vpc');
    await h.ok(['up'], steps);
    const vpc = h.outputs('vpc', REGION);
    const all = await tables(REGION, [{ Name: 'vpc-id', Values: [vpc.vpcId] }]);
    expect(all).toHaveLength(3);
    const main = all.filter((t) => t.Associations?.some((x) => x.Main));
    expect(main).toHaveLength(1);
    // Stack tags reach only what the stack creates.
    expect(main[0]!.Tags).toEqual([]);
    expect(main[0]!.Associations!.filter((x) => x.SubnetId)).toEqual([]);
    for (const t of all.filter((x) => x !== main[0]))
      expect(t.Tags).toContainEqual({ Key: 'drctl:deployment', Value: 'drctl' });
    const bySubnet = async (subnet: string) =>
      (await tables(REGION, [{ Name: 'association.subnet-id', Values: [subnet] }])).map(
        (t) => t.RouteTableId,
      );
    expect(await bySubnet(vpc.publicSubnetId!)).toEqual([vpc.publicRouteTableId]);
    for (const s of vpc.privateSubnetIds) expect(await bySubnet(s)).toEqual([vpc.privateRouteTableId]);
    const byIds = await new EC2Client({ region: REGION }).send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.vpcId] }] }),
    );
    expect(byIds.SecurityGroups!.filter((g) => g.GroupName === 'default')).toHaveLength(1);

    await h.ok(['down', '--yes'], steps);
    expect(h.cloud.snapshot()).toEqual([]);
    const r = h.cloud.model(FakeEc2).region(REGION);
    expect([...r.routeTables.values(), ...r.securityGroups.values(), ...r.networkAcls.values()]).toEqual([]);
    await expect(
      new EC2Client({ region: REGION }).send(
        new DescribeRouteTablesCommand({ RouteTableIds: [main[0]!.RouteTableId!] }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidRouteTableID.NotFound' });
  });
});
