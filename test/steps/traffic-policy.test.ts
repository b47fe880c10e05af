import { existsSync, readFileSync } from 'node:fs';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  GetTrafficPolicyCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { STEPS, type StepInfo } from '../../src/steps/index.js';
import type { StepName } from '../../src/steps/types.js';
import { FakeEc2, FakeElbv2, FakeRoute53, FakeRoute53Health, awsError } from '../support/fake-cloud/index.js';
import { crashEachMutatingCall as crashLoop, expectReadOnlyRerun } from '../support/crash.js';
import { Harness } from '../support/harness.js';

// traffic-policy needs nlb, health-check and domain outputs. These stand-ins record what those
// steps hand over (their contracts), so the step can be tested on its own; the last test runs the
// real steps once they exist.
const NLB_ZONE: Record<string, string> = { 'sa-east-1': 'ZTK26PT1VY4CU', 'us-west-1': 'Z24FKFUX50B4VW' };
const PRIMARY_HC = '0d9a1c52-64f4-4c0e-9d3a-5b3f0a1e2c11';
let nlbSuffix = '0123456789abcdef';
const nlbDns = (region: string) => `internal-drctl-nlb-${nlbSuffix}.elb.${region}.amazonaws.com`;

function standIn(
  name: StepName,
  scope: 'regional' | 'global',
  out: (region: string) => unknown,
  down: (region: string) => void = () => undefined,
): StepInfo {
  return {
    name,
    title: `${name} (test stand-in)`,
    scope,
    after: [],
    uses: [],
    creates: 'nothing (test stand-in)',
    load: () =>
      Promise.resolve({
        outputs: z.any(),
        up: (ctx: { region: string }) => Promise.resolve(out(ctx.region)),
        down: (ctx: { region: string }) => Promise.resolve(down(ctx.region)),
      }),
  };
}

// Route 53 refuses aliases to load balancers that do not exist and health checks that do not
// exist, so the stand-ins make both exist in the fake (no network interfaces, no health).
function seedNlb(region: string): void {
  const elb = h.cloud.model(FakeElbv2);
  const dnsName = nlbDns(region);
  if ([...elb.loadBalancers.values()].some((lb) => lb.dnsName === dnsName)) return;
  elb.seedLoadBalancer(region, { name: 'drctl-nlb', dnsName });
}
function forgetNlbs(region: string): void {
  const elb = h.cloud.model(FakeElbv2);
  for (const lb of [...elb.loadBalancers.values()]) if (lb.region === region) elb.removeSeeded(lb.arn);
}

const real = (...names: string[]) => STEPS.filter((s) => names.includes(s.name));
/** What the nlb step records (its contract). */
const nlbOut = (region: string) => ({
  loadBalancerArn: `arn:aws:elasticloadbalancing:${region}:111122223333:loadbalancer/net/drctl-nlb/${nlbSuffix}`,
  loadBalancerName: 'drctl-nlb',
  dnsName: nlbDns(region),
  canonicalHostedZoneId: NLB_ZONE[region],
  targetGroupArn: `arn:aws:elasticloadbalancing:${region}:111122223333:targetgroup/drctl-tg/0123456789abcdef`,
  listenerArn: `arn:aws:elasticloadbalancing:${region}:111122223333:listener/net/drctl-nlb/${nlbSuffix}/0123456789abcdef`,
  targetIps: ['10.0.1.10', '10.0.2.10'],
});
const STAND_INS = [
  standIn(
    'nlb',
    'regional',
    (region) => {
      seedNlb(region);
      return nlbOut(region);
    },
    forgetNlbs,
  ),
  standIn(
    'health-check',
    'global',
    () => {
      h.cloud.model(FakeRoute53Health).seed(PRIMARY_HC);
      return { primaryHealthCheckId: PRIMARY_HC };
    },
    () => h.cloud.model(FakeRoute53Health).forget(PRIMARY_HC),
  ),
  standIn('domain', 'regional', () => ({ domainName: 'api.octank.com', mode: 'regional', basePath: '' })),
];
const STEPS_USED = {
  steps: [...real('keypairs', 'vpc', 'hosted-zone'), ...STAND_INS, ...real('traffic-policy')],
};
const PRIOR = { steps: [...real('keypairs', 'vpc', 'hosted-zone'), ...STAND_INS] };
const TP_MUTATIONS =
  /^(ChangeResourceRecordSets|CreateTrafficPolicy|CreateTrafficPolicyVersion|CreateTrafficPolicyInstance|UpdateTrafficPolicyInstance|DeleteTrafficPolicy|DeleteTrafficPolicyInstance)$/;

let h: Harness;
afterEach(() => {
  h?.cleanup();
  nlbSuffix = '0123456789abcdef';
});

const r53 = () => new Route53Client({ region: 'us-east-1' });
const zoneId = (x: Harness) => x.outputs('hosted-zone', 'global').hostedZoneId;
const tpRec = (x: Harness) => x.state()!.steps['traffic-policy']!.global!.resources;
const nonApex = (x: Harness) =>
  x.cloud
    .model(FakeRoute53)
    .recordsOf(zoneId(x))
    .filter((r) => !(r.Name === 'octank.com.' && (r.Type === 'SOA' || r.Type === 'NS')));
const policies = (snap: string[]) => snap.filter((l) => l.includes('/traffic-policy/'));
const instances = (snap: string[]) => snap.filter((l) => l.includes('/traffic-policy-instance/'));

function expectTheFailoverPair(x: Harness, why = '') {
  expect(nonApex(x), why).toEqual([
    {
      Name: 'api.octank.com.',
      Type: 'A',
      SetIdentifier: 'drctl-primary',
      Failover: 'PRIMARY',
      HealthCheckId: PRIMARY_HC,
      AliasTarget: {
        HostedZoneId: 'ZTK26PT1VY4CU',
        DNSName: nlbDns('sa-east-1'),
        EvaluateTargetHealth: true,
      },
    },
    {
      Name: 'api.octank.com.',
      Type: 'A',
      SetIdentifier: 'drctl-secondary',
      Failover: 'SECONDARY',
      AliasTarget: {
        HostedZoneId: 'Z24FKFUX50B4VW',
        DNSName: nlbDns('us-west-1'),
        EvaluateTargetHealth: true,
      },
    },
  ]);
}

/** The shared crash loop (test/support/crash.ts) on this file's step sets; returns the commands of a clean run. */
async function crashEachMutatingCall(
  prepare: (x: Harness) => void,
  check: (x: Harness, why: string) => void,
) {
  const mutating = await crashLoop({
    prepare: async (x) => {
      h = x; // the stand-in steps read the current harness
      prepare(x);
      await x.ok(['up'], PRIOR);
    },
    args: ['up'],
    deps: STEPS_USED,
    clean: (calls) => expect(calls.every((c) => TP_MUTATIONS.test(c.split(' ')[1]!))).toBe(true),
    check: async (x, why) => {
      check(x, why);
      await x.ok(['down', '--yes'], STEPS_USED);
      expect(x.cloud.snapshot(), `down after ${why}`).toEqual([]);
    },
  });
  return mutating.map((c) => c.split(' ')[1]!);
}

describe('traffic-policy step, failover-records mode (the default)', () => {
  it('up writes exactly a PRIMARY alias (with the health check) to the primary NLB and a SECONDARY to the secondary, and waits for INSYNC', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    expectTheFailoverPair(h);
    expect(tpRec(h)).toMatchObject({
      mode: 'failover-records',
      recordName: 'api.octank.com',
      setIdentifiers: ['drctl-primary', 'drctl-secondary'],
      hostedZoneId: zoneId(h),
    });
    const change = h.cloud.calls.find((c) => c.command === 'ChangeResourceRecordSets')!;
    const polls = h.cloud.calls.filter((c) => c.command === 'GetChange' && c.t >= change.t);
    expect(polls.at(-1)!.t - change.t).toBeGreaterThanOrEqual(45_000); // r53.change delay
    expect(polls.at(-1)!.t - change.t).toBeLessThan(45_000 + 15_000);
  });

  it('running up again makes no mutating call and one read of the records', async () => {
    h = new Harness();
    h.cloud.pageSize = undefined; // counts reads at AWS's default page size (one page here)
    await h.ok(['up'], STEPS_USED);
    await expectReadOnlyRerun(h, ['up'], STEPS_USED);
    expect(h.cloud.calls.filter((c) => c.service === 'route53').map((c) => c.command)).toEqual([
      'GetHostedZone',
      'ListResourceRecordSets',
    ]);
  });

  it('down removes both records, and the whole run leaves the cloud empty', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()!.steps).toEqual({});
  });

  it('a crash after the record change, then up again, ends with exactly the two records', async () => {
    const mutating = await crashEachMutatingCall(
      () => undefined,
      (x, why) => expectTheFailoverPair(x, why),
    );
    expect(mutating).toEqual(['ChangeResourceRecordSets']);
  });

  it('a moved NLB is followed: the records are upserted to the new DNS names', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    nlbSuffix = 'fedcba9876543210';
    await h.ok(['up'], STEPS_USED);
    expectTheFailoverPair(h);
  });

  it('a record drctl did not make at the name is an error that names it, and nothing is changed', async () => {
    h = new Harness();
    await h.ok(['up'], PRIOR);
    await r53().send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId(h),
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: 'api.octank.com',
                Type: 'A',
                TTL: 300,
                ResourceRecords: [{ Value: '10.0.9.9' }],
              },
            },
          ],
        },
      }),
    );
    h.cloud.resetCalls();
    const r = await h.run(['up'], STEPS_USED);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('api.octank.com. A');
    expect(h.cloud.mutatingCalls).toEqual([]);
  });
});

describe('traffic-policy step, traffic-policy mode (the workshop’s)', () => {
  it('when Route 53 refuses a policy instance in a private zone, up fails naming the failover-records mode and leaves no policy', async () => {
    h = new Harness();
    h.writeConfig({ routing: 'traffic-policy' });
    const r = await h.run(['up'], STEPS_USED);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused a traffic policy instance .* private hosted zone/);
    expect(r.stderr).toContain('"routing": "failover-records"');
    const snap = h.cloud.snapshot();
    expect(policies(snap)).toEqual([]);
    expect(instances(snap)).toEqual([]);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it.each([
    [
      'TooManyTrafficPolicyInstances',
      (m: FakeRoute53): void => {
        m.trafficPolicyInstanceLimit = 0;
      },
      /quota of traffic policy instances/,
    ],
    [
      'NoSuchTrafficPolicy',
      (m: FakeRoute53): void => {
        m.trafficPolicyInstanceFault = 'policy-deleted';
      },
      /deleted outside drctl.*run `drctl up` again/s,
    ],
    [
      'InvalidInput',
      (m: FakeRoute53): void => {
        m.trafficPolicyInstanceFault = 'invalid-input';
      },
      /Fix what Route 53 names/,
    ],
  ] as const)(
    'a %s at the private-zone probe is its own error (code, step, what to do), not "not supported here"',
    async (code, set, todo) => {
      h = new Harness();
      await h.ok(['up'], STEPS_USED);
      expectTheFailoverPair(h);
      set(h.cloud.model(FakeRoute53));
      h.writeConfig({ routing: 'traffic-policy' });
      const r = await h.run(['up'], STEPS_USED);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`✖ traffic-policy global: .*\\(${code}: `));
      expect(r.stderr).toMatch(todo);
      expect(r.stderr).not.toMatch(/refused a traffic policy instance in private|Traffic flow is documented/);
      const refused = h.cloud.calls.filter((c) => c.command === 'CreateTrafficPolicyInstance');
      expect(refused.map((c) => c.outcome)).toEqual([code]);
      // The probe came first: the failover records were never touched.
      expectTheFailoverPair(h);
      expect(instances(h.cloud.snapshot())).toEqual([]);
      await h.ok(['down', '--yes'], STEPS_USED);
      expect(h.cloud.snapshot()).toEqual([]);
    },
  );

  it('when Route 53 accepts it, up makes one policy on the two NLBs and one instance with the configured TTL', async () => {
    h = new Harness();
    h.writeConfig({ routing: 'traffic-policy', ttl: 30 });
    h.cloud.model(FakeRoute53).privateZoneTrafficPolicy = 'accept';
    await h.ok(['up'], STEPS_USED);
    const snap = h.cloud.snapshot();
    expect(policies(snap)).toHaveLength(1);
    expect(instances(snap)).toHaveLength(1);
    const rec = tpRec(h) as {
      trafficPolicyId: string;
      trafficPolicyVersion: number;
      trafficPolicyInstanceId: string;
    };
    expect(rec).toMatchObject({
      mode: 'traffic-policy',
      recordName: 'api.octank.com',
      trafficPolicyVersion: 1,
    });
    expect(nonApex(h)).toEqual([
      { Name: 'api.octank.com.', Type: 'A', TTL: 30, TrafficPolicyInstanceId: rec.trafficPolicyInstanceId },
    ]);
    const p = await r53().send(new GetTrafficPolicyCommand({ Id: rec.trafficPolicyId, Version: 1 }));
    const doc = JSON.parse(p.TrafficPolicy!.Document!) as {
      Endpoints: Record<string, { Type: string; Value: string }>;
      Rules: { failover: { RuleType: string; Primary: Record<string, unknown> } };
    };
    // NLBs, never instance IPs (the workshop aimed at EC2 private IPs: docs/design/aws-behaviour.md §12.6).
    expect(doc.Endpoints).toEqual({
      primary: { Type: 'network-load-balancer', Value: nlbDns('sa-east-1') },
      secondary: { Type: 'network-load-balancer', Value: nlbDns('us-west-1') },
    });
    expect(doc.Rules.failover).toMatchObject({ RuleType: 'failover', Primary: { HealthCheck: PRIMARY_HC } });
    const ec2Ips = [...h.cloud.model(FakeEc2).region('sa-east-1').enis.values()].map(
      (e) => e.PrivateIpAddress,
    );
    expect(ec2Ips.some((ip) => p.TrafficPolicy!.Document!.includes(ip))).toBe(false);

    await expectReadOnlyRerun(h, ['up'], STEPS_USED);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('a crash after each mutating call, then up again, ends with exactly one policy and one instance', async () => {
    const mutating = await crashEachMutatingCall(
      (x) => {
        x.writeConfig({ routing: 'traffic-policy' });
        x.cloud.model(FakeRoute53).privateZoneTrafficPolicy = 'accept';
      },
      (x, why) => {
        const snap = x.cloud.snapshot();
        expect(policies(snap), why).toHaveLength(1);
        expect(instances(snap), why).toHaveLength(1);
        expect(nonApex(x), why).toHaveLength(1);
      },
    );
    // The probe instance at _drctl-probe.<name> (made and deleted) before the real one.
    expect(mutating).toEqual([
      'CreateTrafficPolicy',
      'CreateTrafficPolicyInstance',
      'DeleteTrafficPolicyInstance',
      'CreateTrafficPolicyInstance',
    ]);
  });

  it('a moved NLB gets a new policy version, the instance moves to it, and the old version goes', async () => {
    h = new Harness();
    h.writeConfig({ routing: 'traffic-policy' });
    h.cloud.model(FakeRoute53).privateZoneTrafficPolicy = 'accept';
    await h.ok(['up'], STEPS_USED);
    nlbSuffix = 'fedcba9876543210';
    h.cloud.resetCalls();
    await h.ok(['up'], STEPS_USED);
    expect(h.cloud.mutatingCalls.map((c) => c.command)).toEqual([
      'CreateTrafficPolicyVersion',
      'UpdateTrafficPolicyInstance',
      'DeleteTrafficPolicy',
    ]);
    expect(policies(h.cloud.snapshot())).toEqual([expect.stringMatching(/\/v2$/)]);
    expect(tpRec(h)).toMatchObject({ trafficPolicyVersion: 2 });
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('switching modes replaces the records by the instance and back, leaving one of them', async () => {
    h = new Harness();
    h.cloud.model(FakeRoute53).privateZoneTrafficPolicy = 'accept';
    await h.ok(['up'], STEPS_USED);
    h.writeConfig({ routing: 'traffic-policy' });
    await h.ok(['up'], STEPS_USED);
    expect(nonApex(h).map((r) => r.TrafficPolicyInstanceId ?? r.SetIdentifier)).toEqual([
      tpRec(h).trafficPolicyInstanceId,
    ]);
    expect(tpRec(h).setIdentifiers).toBeUndefined();
    h.writeConfig({ routing: 'failover-records' });
    await h.ok(['up'], STEPS_USED);
    expectTheFailoverPair(h);
    expect(policies(h.cloud.snapshot())).toEqual([]);
    expect(instances(h.cloud.snapshot())).toEqual([]);
    expect(tpRec(h).trafficPolicyId).toBeUndefined();
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });
});

describe('traffic-policy mode never leaves the name without records', () => {
  const apiRecords = (records: Array<{ Name: string; Type: string; SetIdentifier?: string }>) =>
    records.filter((r) => r.Name === 'api.octank.com.' && r.Type === 'A');

  it('in a private zone that refuses policy instances, switching to traffic-policy stops before touching the failover records: api.<domain> has them at every moment, and the error says what to do', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    expectTheFailoverPair(h);
    h.writeConfig({ routing: 'traffic-policy' });
    const r = await h.run(['up'], STEPS_USED);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused a traffic policy instance in private hosted zone/);
    expect(r.stderr).toContain('failover records for api.octank.com are untouched');
    expect(r.stderr).toContain('"routing": "failover-records"');
    const history = h.cloud.model(FakeRoute53).recordHistory(zoneId(h));
    const first = history.findIndex((v) => apiRecords(v.records).length > 0);
    expect(first).toBeGreaterThan(0);
    for (const [i, v] of history.slice(first).entries()) {
      expect(
        apiRecords(v.records).map((x) => x.SetIdentifier),
        `version ${first + i} (${v.command})`,
      ).toEqual(['drctl-primary', 'drctl-secondary']);
    }
    expectTheFailoverPair(h);
    expect(policies(h.cloud.snapshot())).toEqual([]);
    expect(instances(h.cloud.snapshot())).toEqual([]);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('an InvalidInput at the real instance is reported as itself, not as the private-zone refusal, and the failover records are put back', async () => {
    h = new Harness();
    await h.ok(['up'], STEPS_USED);
    const r53model = h.cloud.model(FakeRoute53);
    r53model.privateZoneTrafficPolicy = 'accept';
    const create = r53model.CreateTrafficPolicyInstance.bind(r53model);
    r53model.CreateTrafficPolicyInstance = (region, input) => {
      if (input.Name === 'api.octank.com') throw awsError('InvalidInput', 'Invalid TTL: out of range');
      return create(region, input);
    };
    h.writeConfig({ routing: 'traffic-policy' });
    const r = await h.run(['up'], STEPS_USED);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('InvalidInput: Invalid TTL: out of range');
    expect(r.stderr).not.toMatch(
      /refused a traffic policy instance in private hosted zone|Traffic flow is documented/,
    );
    expect(r.stderr).toContain('failover records for api.octank.com were put back');
    expectTheFailoverPair(h);
    expect(instances(h.cloud.snapshot())).toEqual([]);
    await h.ok(['down', '--yes'], STEPS_USED);
    expect(h.cloud.snapshot()).toEqual([]);
  });
});

describe('failover records Route 53 refuses', () => {
  it.each(['standard', 'legacy'] as const)(
    'an alias to an NLB that is gone fails with Route 53’s own words (SDK %s error shape), and nothing changes',
    async (form) => {
      h = new Harness();
      await h.ok(['up'], STEPS_USED);
      h.cloud.model(FakeRoute53).invalidChangeBatchForm = form;
      nlbSuffix = 'fedcba9876543210';
      // The NLBs "moved" (new DNS names in the nlb record) but no such load balancers exist.
      const noSeed = STEPS_USED.steps.map((x) =>
        x.name === 'nlb' ? standIn('nlb', 'regional', nlbOut, forgetNlbs) : x,
      );
      const r = await h.run(['up'], { steps: noSeed });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `Tried to create an alias that targets ${nlbDns('sa-east-1')}., type A in zone ZTK26PT1VY4CU, but that target was not found`,
      );
      expect(r.stderr).not.toContain('UnknownError');
      nlbSuffix = '0123456789abcdef';
      expectTheFailoverPair(h);
    },
  );
});

describe('fake Route 53 record validation', () => {
  it('wants a SetIdentifier on failover records and at most one PRIMARY per name', async () => {
    h = new Harness();
    await h.ok(['up'], real('keypairs', 'vpc').length ? { steps: real('keypairs', 'vpc') } : {});
    const zone = await r53().send(
      new CreateHostedZoneCommand({
        Name: 'example.org',
        CallerReference: 'validation',
        VPC: { VPCRegion: 'sa-east-1', VPCId: h.outputs('vpc', 'sa-east-1').vpcId },
      }),
    );
    const id = zone.HostedZone!.Id!;
    seedNlb('sa-east-1');
    const failover = (setId: string | undefined, role: 'PRIMARY' | 'SECONDARY') => ({
      Action: 'CREATE' as const,
      ResourceRecordSet: {
        Name: 'x.example.org',
        Type: 'A' as const,
        SetIdentifier: setId,
        Failover: role,
        AliasTarget: {
          HostedZoneId: 'ZTK26PT1VY4CU',
          DNSName: nlbDns('sa-east-1'),
          EvaluateTargetHealth: true,
        },
      },
    });
    const send = (changes: Array<ReturnType<typeof failover>>) =>
      r53().send(
        new ChangeResourceRecordSetsCommand({ HostedZoneId: id, ChangeBatch: { Changes: changes } }),
      );
    await expect(send([failover(undefined, 'PRIMARY')])).rejects.toMatchObject({ name: 'InvalidInput' });
    await expect(send([failover('a', 'PRIMARY'), failover('b', 'PRIMARY')])).rejects.toMatchObject({
      name: 'InvalidChangeBatch',
    });
    await send([failover('a', 'PRIMARY'), failover('b', 'SECONDARY')]);
    await expect(send([failover('a', 'PRIMARY')])).rejects.toMatchObject({ name: 'InvalidChangeBatch' });
  });
});

// The real nlb and health-check steps (other helpers) replace the stand-ins here once written.
// A step is a file (steps/vpc.ts) or a folder whose index.ts holds the step (steps/ca/index.ts).
const stepSource = (name: string) => {
  const file = new URL(`../../src/steps/${name}.ts`, import.meta.url);
  return readFileSync(
    existsSync(file) ? file : new URL(`../../src/steps/${name}/index.ts`, import.meta.url),
    'utf8',
  );
};
const stubs = STEPS.filter((s) => stepSource(s.name).includes('// STUB'));

describe('traffic-policy after a full drctl up', () => {
  it.skipIf(stubs.length > 0)(
    `the private zone holds exactly the two failover records with the right targets and health check${stubs.length ? ` (waiting for: ${stubs.map((s) => s.name).join(', ')})` : ''}`,
    async () => {
      h = new Harness();
      await h.ok(['up']);
      const nlb = (region: string) => h.outputs('nlb', region);
      const hc = h.outputs('health-check', 'global');
      expect(nonApex(h)).toEqual([
        {
          Name: 'api.octank.com.',
          Type: 'A',
          SetIdentifier: 'drctl-primary',
          Failover: 'PRIMARY',
          // Each record routes on its region's CALCULATED check (canary and traffic hold).
          HealthCheckId: hc.recordHealthCheckIds!['sa-east-1'],
          AliasTarget: {
            HostedZoneId: nlb('sa-east-1').canonicalHostedZoneId,
            DNSName: nlb('sa-east-1').dnsName,
            EvaluateTargetHealth: true,
          },
        },
        {
          Name: 'api.octank.com.',
          Type: 'A',
          SetIdentifier: 'drctl-secondary',
          Failover: 'SECONDARY',
          HealthCheckId: hc.recordHealthCheckIds!['us-west-1'],
          AliasTarget: {
            HostedZoneId: nlb('us-west-1').canonicalHostedZoneId,
            DNSName: nlb('us-west-1').dnsName,
            EvaluateTargetHealth: true,
          },
        },
      ]);
      expect(h.cloud.snapshot().filter((l) => l.includes('/health-check/'))).toContain(
        `route53/global/health-check/${hc.primaryHealthCheckId}`,
      );
      await h.ok(['down', '--yes']);
      expect(h.cloud.snapshot()).toEqual([]);
    },
  );
});
