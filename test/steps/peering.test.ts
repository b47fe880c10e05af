import {
  CreateRouteCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeVpcPeeringConnectionsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeEc2, FakeEc2Peering } from '../support/fake-cloud/index.js';
import { crashAt, crashEachMutatingCall, expectReadOnlyRerun } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { priorTo, upTo } from '../support/steps.js';

const STEPS_USED = upTo('peering');
const PRIOR = priorTo('peering');
const PEERING_MUTATIONS =
  /^(CreateVpcPeeringConnection|AcceptVpcPeeringConnection|DeleteVpcPeeringConnection|CreateRoute|ReplaceRoute|DeleteRoute)$/;

let h: Harness;
afterEach(() => h?.cleanup());

const peerings = (snap: string[]) => snap.filter((l) => l.includes('/vpc-peering-connection/'));
const routes = (snap: string[]) => snap.filter((l) => l.includes('/route/'));

const vpcOf = (x: Harness, region: string) => x.outputs('vpc', region);
const peeringOf = (x: Harness) => x.outputs('peering', 'global');

describe('peering step on the fake cloud', () => {
  it('up requests in the primary, accepts in the secondary, and routes the stack route tables of both VPCs to the peer', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const snap = h.cloud.snapshot();
    expect(peerings(snap)).toEqual([
      expect.stringMatching(/^ec2\/sa-east-1\/vpc-peering-connection\/pcx-[0-9a-f]+\(active\)$/),
    ]);
    const rec = peeringOf(h);
    const primary = vpcOf(h, 'sa-east-1');
    const secondary = vpcOf(h, 'us-west-1');
    expect(routes(snap).sort()).toEqual(
      [
        `ec2/sa-east-1/route/${primary.publicRouteTableId}/172.16.0.0/16`,
        `ec2/sa-east-1/route/${primary.privateRouteTableId}/172.16.0.0/16`,
        `ec2/us-west-1/route/${secondary.publicRouteTableId}/10.0.0.0/16`,
        `ec2/us-west-1/route/${secondary.privateRouteTableId}/10.0.0.0/16`,
      ].sort(),
    );
    expect(rec.routes).toHaveLength(4);
    // AWS's side: every route targets our connection and is active.
    for (const region of ['sa-east-1', 'us-west-1']) {
      for (const t of h.cloud.model(FakeEc2).region(region).routeTables.values()) {
        if (t.main) continue;
        const r = t.routes.find((x) => x.VpcPeeringConnectionId);
        expect(r).toMatchObject({ VpcPeeringConnectionId: rec.vpcPeeringConnectionId, State: 'active' });
      }
    }
    const create = h.cloud.calls.find((c) => c.command === 'CreateVpcPeeringConnection')!;
    expect(create.region).toBe('sa-east-1');
    expect(create.input).toMatchObject({
      VpcId: primary.vpcId,
      PeerVpcId: secondary.vpcId,
      PeerRegion: 'us-west-1',
    });
    expect(JSON.stringify(create.input)).toContain('drctl:deployment');
    const accept = h.cloud.calls.filter((c) => c.command === 'AcceptVpcPeeringConnection');
    expect(accept.map((c) => [c.region, c.outcome])).toEqual([['us-west-1', 'ok']]);
    // It waited for the request to reach the accepter region instead of failing on NotFound.
    const early = h.cloud.calls.filter(
      (c) =>
        c.command === 'DescribeVpcPeeringConnections' &&
        c.outcome === 'InvalidVpcPeeringConnectionID.NotFound',
    );
    expect(early.length).toBeGreaterThan(0);
  });

  it('routes only the tables of the subnets drctl serves, never the untagged main table; each route it makes is in a table with the deployment tag', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const ec2 = h.cloud.model(FakeEc2);
    for (const region of ['sa-east-1', 'us-west-1']) {
      const vpc = vpcOf(h, region);
      const main = [...ec2.region(region).routeTables.values()].filter(
        (t) => t.VpcId === vpc.vpcId && t.main,
      );
      expect(main, region).toHaveLength(1);
      // EC2 made it with the VPC: the stack's tags never reached it, so the policy's
      // aws:ResourceTag condition on ec2:CreateRoute would refuse a route there.
      expect(main[0]!.tags, region).toEqual({});
      expect(
        main[0]!.routes.filter((r) => r.VpcPeeringConnectionId),
        region,
      ).toEqual([]);
    }
    const made = h.cloud.calls.filter(
      (c) => /^(CreateRoute|ReplaceRoute)$/.test(c.command) && c.outcome === 'ok',
    );
    expect(made).toHaveLength(4);
    for (const c of made) {
      const t = ec2.region(c.region).routeTables.get((c.input as { RouteTableId: string }).RouteTableId)!;
      expect(t.tags['drctl:deployment'], t.RouteTableId).toBe('drctl');
    }
    for (const r of peeringOf(h).routes)
      expect(ec2.region(r.region).routeTables.get(r.routeTableId)!.tags['drctl:deployment']).toBe('drctl');
  });

  it('a served subnet left on the main table (its association removed) stops up before any route, naming the fix', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    const primary = vpcOf(h, 'sa-east-1');
    const table = h.cloud.model(FakeEc2).region('sa-east-1').routeTables.get(primary.privateRouteTableId!)!;
    const lost = primary.privateSubnetIds[1]!;
    table.subnetIds = table.subnetIds.filter((s) => s !== lost);
    const r = await h.run(['up'], STEPS_USED);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(lost);
    expect(r.stderr).toMatch(/main route table rtb-/);
    expect(r.stderr).toContain(
      `aws ec2 associate-route-table --region sa-east-1 --subnet-id ${lost} --route-table-id ${primary.privateRouteTableId}`,
    );
    expect(h.cloud.calls.filter((c) => /^(CreateRoute|ReplaceRoute)$/.test(c.command))).toEqual([]);
    table.subnetIds.push(lost);
    await h.ok(['up'], STEPS_USED);
    expect(routes(h.cloud.snapshot())).toHaveLength(4);
  });

  it('down deletes only the routes drctl added: a route through the peering someone put in the main table is left', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const primary = vpcOf(h, 'sa-east-1');
    const ec2 = h.cloud.model(FakeEc2);
    const main = [...ec2.region('sa-east-1').routeTables.values()].find(
      (t) => t.VpcId === primary.vpcId && t.main,
    )!;
    const pcx = peeringOf(h).vpcPeeringConnectionId;
    // Someone else's route, in a table drctl does not own: another user's call.
    await h.cloud.authorizer.asAdmin(() =>
      new EC2Client({ region: 'sa-east-1' }).send(
        new CreateRouteCommand({
          RouteTableId: main.RouteTableId,
          DestinationCidrBlock: '172.16.0.0/16',
          VpcPeeringConnectionId: pcx,
        }),
      ),
    );
    const recorded = peeringOf(h).routes;
    h.cloud.resetCalls();
    const r = await h.ok(['down', '--yes'], STEPS_USED);
    const deleted = h.cloud.mutatingCalls.filter((c) => c.command === 'DeleteRoute');
    expect(deleted.map((c) => (c.input as { RouteTableId: string }).RouteTableId).sort()).toEqual(
      recorded.map((x) => x.routeTableId).sort(),
    );
    expect(r.stdout).toContain(`left route 172.16.0.0/16 -> ${pcx} in ${main.RouteTableId} (sa-east-1)`);
    // It went with the VPC.
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('running up again makes no mutating call and one read per recorded thing', async () => {
    h = new Harness();
    h.cloud.pageSize = undefined; // counts reads at AWS's default page size (one page here)
    await h.ok(['up'], STEPS_USED);
    await expectReadOnlyRerun(h, ['up'], STEPS_USED);
    const mine = h.cloud.calls.filter((c) => /Peering|RouteTables/.test(c.command));
    expect(mine.map((c) => `${c.command}@${c.region}`)).toEqual([
      'DescribeVpcPeeringConnections@sa-east-1',
      'DescribeRouteTables@sa-east-1',
      'DescribeRouteTables@us-west-1',
    ]);
  });

  it('down removes our routes, then the peering, and leaves the cloud empty', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    h.cloud.resetCalls();
    await h.ok(['down', '--yes'], STEPS_USED);
    const order = h.cloud.mutatingCalls.map((c) => c.command).filter((c) => PEERING_MUTATIONS.test(c));
    expect(order).toEqual([
      'DeleteRoute',
      'DeleteRoute',
      'DeleteRoute',
      'DeleteRoute',
      'DeleteVpcPeeringConnection',
    ]);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()!.steps).toEqual({});
  });

  it('a crash after each mutating call of the step, then up again, ends with one active peering and four routes', async () => {
    await crashEachMutatingCall({
      prepare: (x) => x.ok(['up'], PRIOR).then(() => undefined),
      args: ['up'],
      deps: STEPS_USED,
      clean: (mutating) => {
        expect(mutating.every((c) => PEERING_MUTATIONS.test(c.split(' ')[1]!))).toBe(true);
        expect(mutating.length).toBe(6); // request, accept, four routes
      },
      check: async (x, where) => {
        const snap = x.cloud.snapshot();
        expect(peerings(snap), where).toEqual([expect.stringContaining('(active)')]);
        expect(routes(snap), where).toHaveLength(4);
        expect(x.outputs('peering', 'global').routes, where).toHaveLength(4);
        await x.ok(['down', '--yes'], STEPS_USED);
        expect(x.cloud.snapshot(), `down after ${where}`).toEqual([]);
      },
    });
  });

  it('the connection id is in the state file the moment CreateVpcPeeringConnection returns (a crash at the next call loses nothing)', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    // Mutating call 1 is the request, 2 the accept: drctl heard the request's answer before it died.
    await crashAt(h, 2, ['up'], STEPS_USED);
    const request = h.cloud.calls.find((c) => c.command === 'CreateVpcPeeringConnection' && c.outcome === 'ok')!;
    const made = (request.output as { VpcPeeringConnection: { VpcPeeringConnectionId: string } }).VpcPeeringConnection;
    expect(h.cloud.calls.find((c) => c.outcome === 'SimulatedCrash')!.command).toBe('AcceptVpcPeeringConnection');
    expect(peeringOf(h).vpcPeeringConnectionId).toBe(made.VpcPeeringConnectionId);
  });

  it('adopts a connection between the two VPCs that carries our tag instead of requesting a second one', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    const primary = vpcOf(h, 'sa-east-1');
    const secondary = vpcOf(h, 'us-west-1');
    // As if an earlier run died before it could record the request.
    const ec2 = new EC2Client({ region: 'sa-east-1' });
    const made = await ec2.send(
      new CreateVpcPeeringConnectionCommand({
        VpcId: primary.vpcId,
        PeerVpcId: secondary.vpcId,
        PeerRegion: 'us-west-1',
        TagSpecifications: [
          { ResourceType: 'vpc-peering-connection', Tags: [{ Key: 'drctl:deployment', Value: 'drctl' }] },
        ],
      }),
    );
    await h.ok(['up'], STEPS_USED);
    expect(peeringOf(h).vpcPeeringConnectionId).toBe(made.VpcPeeringConnection!.VpcPeeringConnectionId);
    expect(h.cloud.calls.filter((c) => c.command === 'CreateVpcPeeringConnection')).toHaveLength(1);
    expect(peerings(h.cloud.snapshot())).toHaveLength(1);
  });

  it('a request answered 500 after AWS made it is adopted, not sent again: one peering, down leaves nothing', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    h.cloud.revive(); // counts mutating calls from here: the first is the request
    h.cloud.faults = { failAfterApplyingMutating: 1 };
    const r = await h.ok(['up'], STEPS_USED);
    const requests = h.cloud.calls.filter((c) => c.command === 'CreateVpcPeeringConnection');
    // Neither the SDK's retry nor drctl's sent it again; the step looked and found it.
    expect(requests.map((c) => c.outcome)).toEqual(['InternalError']);
    expect(peerings(h.cloud.snapshot())).toEqual([expect.stringContaining('(active)')]);
    expect(routes(h.cloud.snapshot())).toHaveLength(4);
    expect(r.stdout).toMatch(
      /CreateVpcPeeringConnection failed with InternalError \(an AWS error; it may have been applied/,
    );
    expect(r.stdout).not.toMatch(/throttl/i);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('down removes every peering tagged with this deployment, not only the recorded one', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const primary = vpcOf(h, 'sa-east-1');
    const secondary = vpcOf(h, 'us-west-1');
    // A second request whose answer never reached the state file (an older drctl resent a 500).
    await new EC2Client({ region: 'sa-east-1' }).send(
      new CreateVpcPeeringConnectionCommand({
        VpcId: primary.vpcId,
        PeerVpcId: secondary.vpcId,
        PeerRegion: 'us-west-1',
        TagSpecifications: [
          { ResourceType: 'vpc-peering-connection', Tags: [{ Key: 'drctl:deployment', Value: 'drctl' }] },
        ],
      }),
    );
    h.cloud.clock.advance(60_000); // it reaches the accepter region: pending-acceptance
    expect(peerings(h.cloud.snapshot())).toEqual([
      expect.stringContaining('(active)'),
      expect.stringContaining('(pending-acceptance)'),
    ]);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('a connection AWS reports as deleted is neither drift nor counted by down --discover, even unfiltered', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const primary = vpcOf(h, 'sa-east-1');
    const secondary = vpcOf(h, 'us-west-1');
    // A second tagged connection, deleted: AWS keeps it visible as `deleted` for about two hours.
    const r = await new EC2Client({ region: 'sa-east-1' }).send(
      new CreateVpcPeeringConnectionCommand({
        VpcId: primary.vpcId,
        PeerVpcId: secondary.vpcId,
        PeerRegion: 'us-west-1',
        TagSpecifications: [
          { ResourceType: 'vpc-peering-connection', Tags: [{ Key: 'drctl:deployment', Value: 'drctl' }] },
        ],
      }),
    );
    const gone = r.VpcPeeringConnection!.VpcPeeringConnectionId!;
    await new EC2Client({ region: 'sa-east-1' }).send(
      new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: gone }),
    );
    h.cloud.clock.advance(60_000);
    // An endpoint that lists without applying the status-code filter (as an emulator may).
    const fake = h.cloud.model(FakeEc2Peering);
    const describe = fake.DescribeVpcPeeringConnections.bind(fake);
    fake.DescribeVpcPeeringConnections = (region, input) =>
      describe(region, { ...input, Filters: input.Filters?.filter((f) => f.Name !== 'status-code') });
    const seen = await new EC2Client({ region: 'sa-east-1' }).send(
      new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [gone] }),
    );
    expect(seen.VpcPeeringConnections?.[0]?.Status?.Code).toBe('deleted');
    const status = await h.run(['status', '--refresh'], STEPS_USED);
    expect(status.stdout).toMatch(/in sync with AWS/);
    expect(status.stdout + status.stderr).not.toContain(gone);
    expect(status.code).toBe(0);
    await h.ok(['down', '--yes'], STEPS_USED);
    const discover = await h.run(['down', '--discover'], STEPS_USED);
    expect(discover.stdout + discover.stderr).not.toContain(gone);
    expect(discover.code).toBe(0);
  });

  it('a conflicting route to the peer CIDR is an error that names the table and its target', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    const primary = vpcOf(h, 'sa-east-1');
    const table = h.cloud.model(FakeEc2).region('sa-east-1').routeTables.get(primary.privateRouteTableId!)!;
    table.routes.push({
      DestinationCidrBlock: '172.16.0.0/16',
      GatewayId: 'vgw-0123456789abcdef0',
      State: 'active',
      Origin: 'CreateRoute',
    });
    const r = await h.run(['up'], STEPS_USED);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(primary.privateRouteTableId);
    expect(r.stderr).toContain('vgw-0123456789abcdef0');
    // Checked before any change: no route was added anywhere.
    expect(h.cloud.calls.filter((c) => c.command === 'CreateRoute')).toEqual([]);
    table.routes.pop();
    await h.ok(['up'], STEPS_USED);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('overlapping VPC CIDRs fail the request, and the error says to change them', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    // The config refuses overlapping CIDRs, so make the accepter VPC overlap behind drctl's back.
    const secondary = vpcOf(h, 'us-west-1');
    h.cloud.model(FakeEc2).region('us-west-1').vpcs.get(secondary.vpcId)!.CidrBlock = '10.0.0.0/16';
    const r = await h.run(['up'], STEPS_USED);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failed: Failed: Overlapping CIDRs/);
    expect(r.stderr).toMatch(/vpcCidr/);
    expect(peerings(h.cloud.snapshot())).toEqual([]);
  });
});

describe('fake peering model', () => {
  it('refuses an accept from the requester region and hides the request in the accepter region at first', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    // A test of the fake's peering model, not of drctl's permissions: another user calls.
    await h.cloud.authorizer.asAdmin(async () => {
      const primary = vpcOf(h, 'sa-east-1');
      const secondary = vpcOf(h, 'us-west-1');
      const west = new EC2Client({ region: 'us-west-1' });
      const east = new EC2Client({ region: 'sa-east-1' });
      const { VpcPeeringConnection: p } = await east.send(
        new CreateVpcPeeringConnectionCommand({
          VpcId: primary.vpcId,
          PeerVpcId: secondary.vpcId,
          PeerRegion: 'us-west-1',
        }),
      );
      const id = p!.VpcPeeringConnectionId!;
      const { DescribeVpcPeeringConnectionsCommand, AcceptVpcPeeringConnectionCommand } =
        await import('@aws-sdk/client-ec2');
      await expect(
        west.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] })),
      ).rejects.toMatchObject({
        name: 'InvalidVpcPeeringConnectionID.NotFound',
      });
      h.cloud.clock.advance(60_000);
      await expect(
        east.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id })),
      ).rejects.toMatchObject({
        name: 'OperationNotPermitted',
      });
      await west.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
      const now = await west.send(
        new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] }),
      );
      expect(now.VpcPeeringConnections![0]!.Status!.Code).toBe('provisioning');
      // No token: the same request again is a second connection.
      await east.send(
        new CreateVpcPeeringConnectionCommand({
          VpcId: primary.vpcId,
          PeerVpcId: secondary.vpcId,
          PeerRegion: 'us-west-1',
        }),
      );
      expect(peerings(h.cloud.snapshot())).toHaveLength(2);
    });
  });
});
