import '../support/fast-tmp.js';
import {
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { CreateHostedZoneCommand, GetHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { renameSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { crashEachMutatingCall } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { upTo } from '../support/steps.js';
import { TEAM_CIDR, type TeamEndpointVpc, teamEndpoint, teamEndpointVpc } from '../support/team-network.js';

// Issue 25, points 2 and 3: the team's own VPCs, execute-api endpoint and private zone, seeded
// with the SDK as another user of the account. drctl uses them, records them as `used`, and
// after `up` and `down` every one of them is exactly as before.

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';
const CIDR = TEAM_CIDR;
const DEPS = upTo('endpoints', 'peering', 'hosted-zone');

let h: Harness;
afterEach(() => h?.cleanup());

interface Seeded {
  vpc: Record<string, TeamEndpointVpc>;
  endpointId: string;
  zoneId: string;
}

/** The team's network: a VPC with two subnets per region, an endpoint in the primary, a zone. */
async function seed(h: Harness): Promise<Seeded> {
  return h.cloud.authorizer.asAdmin(async () => {
    const vpc: Seeded['vpc'] = {};
    for (const region of [PRIMARY, SECONDARY]) vpc[region] = await teamEndpointVpc(h, region, CIDR[region]!);
    const endpointId = await teamEndpoint(h, PRIMARY, vpc[PRIMARY]!);
    const zone = await new Route53Client({ region: PRIMARY }).send(
      new CreateHostedZoneCommand({
        Name: 'octank.com',
        CallerReference: 'team-zone',
        VPC: { VPCRegion: PRIMARY, VPCId: vpc[PRIMARY]!.vpcId },
        HostedZoneConfig: { PrivateZone: true },
      }),
    );
    h.cloud.clock.advance(5 * 60_000);
    return {
      vpc,
      endpointId,
      zoneId: zone.HostedZone!.Id!.replace(/^\/hostedzone\//, ''),
    };
  });
}

const configOf = (s: Seeded) => ({
  primary: {
    region: PRIMARY,
    vpcCidr: CIDR[PRIMARY],
    vpcId: s.vpc[PRIMARY]!.vpcId,
    subnetIds: s.vpc[PRIMARY]!.subnets,
    endpointId: s.endpointId,
  },
  secondary: {
    region: SECONDARY,
    vpcCidr: CIDR[SECONDARY],
    vpcId: s.vpc[SECONDARY]!.vpcId,
    subnetIds: s.vpc[SECONDARY]!.subnets,
  },
  peering: 'existing',
  hostedZoneId: s.zoneId,
});

/** What the team owns, as AWS describes it: must be the same before `up` and after `down`. */
async function foreign(h: Harness, s: Seeded): Promise<unknown> {
  return h.cloud.authorizer.asAdmin(async () => {
    const out: Record<string, unknown> = {};
    for (const region of [PRIMARY, SECONDARY]) {
      const ec2 = new EC2Client({ region });
      const v = s.vpc[region]!;
      out[region] = {
        vpcs: (await ec2.send(new DescribeVpcsCommand({ VpcIds: [v.vpcId] }))).Vpcs,
        subnets: (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: v.subnets }))).Subnets,
        sg: (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [v.sg] }))).SecurityGroups,
      };
    }
    out.endpoint = (
      await new EC2Client({ region: PRIMARY }).send(
        new DescribeVpcEndpointsCommand({ VpcEndpointIds: [s.endpointId] }),
      )
    ).VpcEndpoints;
    out.zone = await new Route53Client({ region: PRIMARY }).send(new GetHostedZoneCommand({ Id: s.zoneId }));
    return JSON.parse(JSON.stringify(out, (k, v) => (k === '$metadata' ? undefined : v)));
  });
}

describe('up and down in the team’s own network (issue 25)', () => {
  it('uses the VPCs, endpoint and zone, records them as used, and leaves them exactly as before', async () => {
    h = new Harness();
    const s = await seed(h);
    h.writeConfig(configOf(s));
    const before = await foreign(h, s);
    const snapBefore = h.cloud.snapshot();

    const plan = await h.run(['plan'], DEPS);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`use existing ${s.vpc[PRIMARY]!.vpcId} (primary, ${PRIMARY})`);
    expect(plan.stdout).toContain(`use existing ${s.zoneId}: private zone octank.com`);

    await h.ok(['up'], DEPS);
    const st = h.state()!;
    expect(st.steps.vpc![PRIMARY]!.resources).toMatchObject({
      ownership: 'used',
      vpcId: s.vpc[PRIMARY]!.vpcId,
      privateSubnetIds: s.vpc[PRIMARY]!.subnets,
    });
    expect(st.steps.endpoints![PRIMARY]!.resources).toMatchObject({
      ownership: 'used',
      vpcEndpointId: s.endpointId,
    });
    expect(st.steps.endpoints![SECONDARY]!.resources.ownership).toBe('made');
    expect(st.steps.peering!.global!.resources).toEqual({ ownership: 'used', routes: [] });
    expect(st.steps['hosted-zone']!.global!.resources).toMatchObject({
      ownership: 'used',
      hostedZoneId: s.zoneId,
      addedVpcs: [{ region: SECONDARY, vpcId: s.vpc[SECONDARY]!.vpcId }],
    });
    // No VPC stack, no peering: only the endpoint group drctl adds to each used VPC.
    expect(h.cloud.snapshot().filter((l) => l.includes('vpc-peering'))).toEqual([]);

    // With the state lost, discovery finds drctl's by its tags: never the team's VPCs, endpoint, zone.
    const lost = `${h.statePath}.lost`;
    renameSync(h.statePath, lost);
    const found = await h.run(['down', '--discover', '--yes'], DEPS);
    expect(found.code, found.stderr).toBe(0);
    // What it lists as drctl's: its own endpoint names the VPC it sits in, nothing more.
    const listed = found.stdout.split('\n').filter((l) => l.includes('(not in the state)'));
    expect(listed.length).toBeGreaterThan(0);
    for (const id of [s.endpointId, s.zoneId]) expect(listed.join('\n')).not.toContain(id);
    for (const v of Object.values(s.vpc))
      expect(listed.filter((l) => l.includes(`: ${v.vpcId}`))).toEqual([]);
    expect(found.stdout + found.stderr).toContain(`left private hosted zone ${s.zoneId}`);
    // The association drctl added is in the lost state only: with the state back, down removes it.
    renameSync(lost, h.statePath);
    await h.ok(['down', '--yes'], DEPS);
    expect(await foreign(h, s)).toEqual(before);
    expect(h.cloud.snapshot()).toEqual(snapBefore);
  });

  it('refuses, exit 2 and nothing made, an id that does not exist, is in another region or of another VPC, and a public zone', async () => {
    h = new Harness();
    const s = await seed(h);
    const snap = h.cloud.snapshot();
    const zone = await h.cloud.authorizer.asAdmin(() =>
      new Route53Client({ region: PRIMARY }).send(
        new CreateHostedZoneCommand({ Name: 'octank.com', CallerReference: 'public-zone' }),
      ),
    );
    const publicZone = zone.HostedZone!.Id!.replace(/^\/hostedzone\//, '');
    const snapWithPublic = h.cloud.snapshot();
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [
        { primary: { ...configOf(s).primary, vpcId: 'vpc-0123456789abcdef0' } },
        'primary.vpcId',
        /does not exist in sa-east-1/,
      ],
      [
        { primary: { ...configOf(s).primary, vpcId: s.vpc[SECONDARY]!.vpcId } },
        'primary.vpcId',
        /is in us-west-1/,
      ],
      [
        {
          secondary: {
            ...configOf(s).secondary,
            subnetIds: [s.vpc[SECONDARY]!.subnets[0], 'subnet-0123abcd'],
          },
        },
        'secondary.subnetIds',
        /subnet-0123abcd does not exist/,
      ],
      [{ hostedZoneId: publicZone }, 'hostedZoneId', /is public, not private/],
    ];
    for (const [patch, field, message] of cases) {
      h.writeConfig({ ...configOf(s), ...patch });
      const r = await h.run(['up', '--yes'], DEPS);
      expect(r.code, field).toBe(2);
      expect(r.stderr, field).toContain(field);
      expect(r.stderr, field).toMatch(message);
      expect(h.cloud.snapshot(), field).toEqual(snapWithPublic);
    }
    expect(snapWithPublic.length).toBeGreaterThan(snap.length);
  });

  it('a subnet of another VPC is refused', async () => {
    h = new Harness();
    const s = await seed(h);
    const other = await teamEndpointVpc(h, PRIMARY, '10.40.0.0/16', { name: 'other-team', wayOut: false });
    const snap = h.cloud.snapshot();
    h.writeConfig({ ...configOf(s), primary: { ...configOf(s).primary, subnetIds: other.subnets } });
    const r = await h.run(['up', '--yes'], DEPS);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('primary.subnetIds');
    expect(r.stderr).toContain(`${other.subnets[0]} is in ${other.vpcId}, not in primary.vpcId`);
    expect(h.cloud.snapshot()).toEqual(snap);
  });

  it('a crash after each mutating call of that up converges, and down leaves the team’s network as it was', async () => {
    let seeded: Seeded | undefined;
    let before: unknown;
    await crashEachMutatingCall({
      args: ['up', '--yes'],
      deps: DEPS,
      prepare: async (x) => {
        seeded = await seed(x);
        x.writeConfig(configOf(seeded));
        before = await foreign(x, seeded);
      },
      check: async (x, where) => {
        expect(x.state()!.steps['hosted-zone']!.global!.status, where).toBe('ready');
        await x.ok(['down', '--yes'], DEPS);
        expect(await foreign(x, seeded!), where).toEqual(before);
      },
    });
  });
});
