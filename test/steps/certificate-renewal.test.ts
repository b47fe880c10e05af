import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { ACMPCAClient, DeletePermissionCommand, ListPermissionsCommand } from '@aws-sdk/client-acm-pca';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stepInfo } from '../../src/steps/index.js';
import { FakeAcmPca, FakeEc2, FakeElbv2, FakeNetwork } from '../support/fake-cloud/index.js';
import { expectReadOnlyRerun } from '../support/crash.js';
import { Harness } from '../support/harness.js';
import { upTo } from '../support/steps.js';

// ACM renews a private certificate only if its CA granted acm.amazonaws.com IssueCertificate,
// GetCertificate and ListPermissions (https://docs.aws.amazon.com/privateca/latest/userguide/assign-permissions.html);
// the certificate is valid 395 days and renewal starts 60 days before that
// (https://docs.aws.amazon.com/acm/latest/userguide/private-certificates.title.html).

const CA_ONLY = { steps: [stepInfo('ca')!] };
const REGIONS = ['sa-east-1', 'us-west-1'];
const DAY = 86_400_000;
const MONTHS_14 = 426 * DAY;

let h: Harness;
afterEach(() => h?.cleanup());

const rec = (region: string) => h.state()!.steps.ca![region]!.resources;
const describeCert = async (region: string) =>
  (
    await new ACMClient({ region }).send(
      new DescribeCertificateCommand({ CertificateArn: String(rec(region).certificateArn) }),
    )
  ).Certificate!;
const permissions = async (region: string) =>
  (
    await new ACMPCAClient({ region }).send(
      new ListPermissionsCommand({ CertificateAuthorityArn: String(rec(region).certificateAuthorityArn) }),
    )
  ).Permissions ?? [];

describe('private certificates renew', () => {
  it('14 months after up each certificate is still ISSUED, with a NotAfter ACM moved on', async () => {
    h = new Harness();
    await h.ok(['up'], CA_ONLY);
    const first = await describeCert('sa-east-1');
    expect(first.NotAfter!.getTime() - first.NotBefore!.getTime()).toBe(395 * DAY);
    h.cloud.clock.advance(MONTHS_14);
    for (const region of REGIONS) {
      const c = await describeCert(region);
      expect(c.Status, region).toBe('ISSUED');
      expect(c.NotAfter!.getTime()).toBeGreaterThan(h.cloud.clock.now());
      expect(c.RenewalSummary?.RenewalStatus).toBe('SUCCESS');
      expect(c.RenewalEligibility).toBe('ELIGIBLE');
    }
  });

  it('the CA grants acm.amazonaws.com exactly the three renewal actions, once; a re-run grants nothing more', async () => {
    h = new Harness();
    await h.ok(['up'], CA_ONLY);
    for (const region of REGIONS) {
      const p = await permissions(region);
      expect(p).toHaveLength(1);
      expect(p[0]!.Principal).toBe('acm.amazonaws.com');
      expect([...p[0]!.Actions!].sort()).toEqual(['GetCertificate', 'IssueCertificate', 'ListPermissions']);
    }
    await expectReadOnlyRerun(h, ['up'], CA_ONLY);
  });

  it('a permission revoked by hand is granted again by the next up', async () => {
    h = new Harness();
    await h.ok(['up'], CA_ONLY);
    await new ACMPCAClient({ region: 'us-west-1' }).send(
      new DeletePermissionCommand({
        CertificateAuthorityArn: String(rec('us-west-1').certificateAuthorityArn),
        Principal: 'acm.amazonaws.com',
      }),
    );
    expect(await permissions('us-west-1')).toEqual([]);
    await h.ok(['up'], CA_ONLY);
    expect(await permissions('us-west-1')).toHaveLength(1);
    expect(rec('us-west-1').renewalPermission).toBe('granted');
  });

  it('down revokes the permission before it deletes the CA', async () => {
    h = new Harness();
    await h.ok(['up'], CA_ONLY);
    const arns = REGIONS.map((r) => String(rec(r).certificateAuthorityArn));
    await h.ok(['down', '--yes'], CA_ONLY);
    expect(h.cloud.snapshot()).toEqual([]);
    const pca = h.cloud.model(FakeAcmPca);
    REGIONS.forEach((region, i) => {
      const ca = pca.find(region, arns[i]!)!;
      expect(ca.status).toBe('DELETED');
      expect(ca.permissions.filter((p) => p.deletedAt === undefined)).toEqual([]);
    });
  });
});

describe('fake ACM: a certificate whose CA never granted renewal expires', () => {
  it('without the permission the certificate is EXPIRED after 395 days (renewal FAILED, PCA_ACCESS_DENIED)', async () => {
    h = new Harness();
    await h.ok(['up'], CA_ONLY);
    await new ACMPCAClient({ region: 'sa-east-1' }).send(
      new DeletePermissionCommand({
        CertificateAuthorityArn: String(rec('sa-east-1').certificateAuthorityArn),
        Principal: 'acm.amazonaws.com',
      }),
    );
    h.cloud.clock.advance(396 * DAY);
    const c = await describeCert('sa-east-1');
    expect(c.Status).toBe('EXPIRED');
    expect(c.RenewalSummary).toMatchObject({
      RenewalStatus: 'FAILED',
      RenewalStatusReason: 'PCA_ACCESS_DENIED',
    });
    expect((await describeCert('us-west-1')).Status).toBe('ISSUED');
  });
});

describe('certificates in use by the NLB listener', () => {
  const THROUGH_NLB = {
    ...upTo('nlb', 'domain'),
  };
  const https = (region: string) => {
    const nlb = h.outputs('nlb', region);
    const vpcId = h.outputs('vpc', region).vpcId;
    const net = h.cloud.model(FakeNetwork);
    const lb = [...h.cloud.model(FakeElbv2).loadBalancers.values()].find((x) => x.dnsName === nlb.dnsName)!;
    const from = h.cloud
      .model(FakeEc2)
      .liveEnis(region)
      .find((e) => e.VpcId === vpcId && !lb.eniIds.includes(e.NetworkInterfaceId))!;
    const ip = net.resolve(region, vpcId, nlb.dnsName).addresses[0]!;
    const caBundle = readFileSync(join(h.dir, '.drctl', 'ca', `${region}.pem`), 'utf8');
    return net.https(region, from, ip, 'api.octank.com', '/health', caBundle);
  };

  it('14 months after up a client still gets through the TLS listener: its certificate renewed, never expired', async () => {
    h = new Harness();
    await h.ok(['up'], THROUGH_NLB);
    expect(https('sa-east-1')).toMatchObject({ status: 200 });
    h.cloud.clock.advance(MONTHS_14);
    for (const region of REGIONS) {
      const r = https(region);
      expect(r.error, region).toBeUndefined();
      expect(r.status, region).toBe(200);
    }
  });
});

describe('an expired certificate', () => {
  it('is replaced by the next up (it can never be renewed), and the listener serves the new one', async () => {
    const THROUGH_NLB = {
      ...upTo('nlb', 'domain'),
    };
    h = new Harness();
    await h.ok(['up'], THROUGH_NLB);
    const old = String(rec('sa-east-1').certificateArn);
    await new ACMPCAClient({ region: 'sa-east-1' }).send(
      new DeletePermissionCommand({
        CertificateAuthorityArn: String(rec('sa-east-1').certificateAuthorityArn),
        Principal: 'acm.amazonaws.com',
      }),
    );
    h.cloud.clock.advance(396 * DAY);
    await h.ok(['up'], THROUGH_NLB);
    expect(rec('sa-east-1').certificateArn).not.toBe(old);
    expect((await describeCert('sa-east-1')).Status).toBe('ISSUED');
    const listener = [...h.cloud.model(FakeElbv2).listeners.values()].find((l) =>
      l.arn.includes(':sa-east-1:'),
    )!;
    expect(listener.certificateArns).toEqual([rec('sa-east-1').certificateArn]);
    expect(await permissions('sa-east-1')).toHaveLength(1);
    await h.ok(['down', '--yes'], THROUGH_NLB);
    expect(h.cloud.snapshot()).toEqual([]);
  });
});

describe('drctl status shows each certificate’s expiry', () => {
  it('from the state: NotAfter, days left and renewal eligibility; --refresh asks ACM and names a missing permission', async () => {
    h = new Harness();
    await h.ok(['up'], CA_ONLY);
    const plain = await h.run(['status'], CA_ONLY);
    expect(plain.code).toBe(0);
    const lines = plain.stdout.split('\n').filter((l) => l.includes('certificate: '));
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(l).toMatch(
        /expires \d{4}-\d\d-\d\d \(in 39[45] days\); renewal ELIGIBLE; CA grants ACM renewal \[as recorded\]/,
      );
    }

    await new ACMPCAClient({ region: 'sa-east-1' }).send(
      new DeletePermissionCommand({
        CertificateAuthorityArn: String(rec('sa-east-1').certificateAuthorityArn),
        Principal: 'acm.amazonaws.com',
      }),
    );
    h.cloud.clock.advance(396 * DAY);
    h.cloud.resetCalls();
    const refreshed = await h.run(['--json', 'status', '--refresh'], CA_ONLY);
    expect(h.cloud.mutatingCalls).toEqual([]);
    const certificates = refreshed.summary!.certificates as Array<Record<string, unknown>>;
    expect(certificates.find((c) => c.region === 'sa-east-1')).toMatchObject({
      source: 'aws',
      status: 'EXPIRED',
      renewalPermission: 'missing',
      renewalStatus: 'FAILED (PCA_ACCESS_DENIED)',
    });
    expect(certificates.find((c) => c.region === 'us-west-1')).toMatchObject({
      source: 'aws',
      status: 'ISSUED',
      renewalPermission: 'granted',
      renewalStatus: 'SUCCESS',
    });
    const text = await h.run(['status', '--refresh'], CA_ONLY);
    expect(text.stdout).toMatch(
      /certificate: EXPIRED; expired \d{4}-\d\d-\d\d \(\d+ days ago\).*CA does NOT grant ACM renewal; run `drctl up`: it requests a new certificate/,
    );
  });
});
