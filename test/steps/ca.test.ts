import {
  ACMClient,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  RequestCertificateCommand,
} from '@aws-sdk/client-acm';
import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  DeleteCertificateAuthorityCommand,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
  type ValidityPeriodType,
} from '@aws-sdk/client-acm-pca';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stepInfo } from '../../src/steps/index.js';
import { FakeAcm } from '../support/fake-cloud/index.js';
import { crashAt, crashEachMutatingCall, expectReadOnlyRerun, mutatingOf } from '../support/crash.js';
import { Harness, type RunOutput } from '../support/harness.js';

const CA_ONLY = { steps: [stepInfo('ca')!] };
const REGIONS = ['sa-east-1', 'us-west-1'];
const MINUTE = 60_000;

let h: Harness;
const others: Harness[] = [];
afterEach(() => {
  h?.cleanup();
  for (const o of others.splice(0)) o.cleanup();
});

const cas = (region?: string) =>
  h.cloud
    .snapshot()
    .filter((l) => l.startsWith(`acm-pca/${region ?? ''}`) && l.includes('/certificate-authority/'));
const certs = (region?: string) =>
  h.cloud.snapshot().filter((l) => l.startsWith(`acm/${region ?? ''}`) && l.includes('/certificate/'));
const logs = (r: RunOutput, level: 'info' | 'warn') =>
  r.events.flatMap((e) => (e.type === 'log' && e.level === level ? [String(e.message)] : []));

function expectOneOfEach(): void {
  for (const region of REGIONS) {
    expect(cas(region), `CAs in ${region}`).toHaveLength(1);
    expect(cas(region)[0]).toMatch(/\(ACTIVE\)$/);
    expect(certs(region), `certificates in ${region}`).toHaveLength(1);
    expect(certs(region)[0]).toMatch(/\(\*\.octank\.com,ISSUED\)$/);
  }
}

describe('ca step on the fake cloud', () => {
  it('up makes one active root CA and one issued private certificate per region and writes the CA PEM', async () => {
    h = new Harness();
    const r = await h.ok(['up'], CA_ONLY);
    expectOneOfEach();
    for (const region of REGIONS) {
      const rec = h.state()!.steps.ca![region]!;
      expect(rec.status).toBe('ready');
      expect(rec.resources.certificateAuthorityArn).toMatch(new RegExp(`^arn:aws:acm-pca:${region}:`));
      expect(rec.resources.certificateArn).toMatch(new RegExp(`^arn:aws:acm:${region}:`));
      const pem = readFileSync(join(h.dir, '.drctl', 'ca', `${region}.pem`), 'utf8');
      expect(pem).toContain('BEGIN CERTIFICATE');
      expect(pem).toContain(String(rec.resources.certificateAuthorityArn));
    }
    expect(logs(r, 'info').filter((m) => m.includes('$400 a month'))).toHaveLength(2);
  });

  it('the certificate names *.<domain> and <host>.<domain> and comes from the region’s CA', async () => {
    h = new Harness();
    await h.ok(['up'], CA_ONLY);
    const rec = h.state()!.steps.ca!['us-west-1']!.resources;
    const acm = new ACMClient({ region: 'us-west-1' });
    const d = await acm.send(new DescribeCertificateCommand({ CertificateArn: String(rec.certificateArn) }));
    expect(d.Certificate?.SubjectAlternativeNames).toEqual(['*.octank.com', 'api.octank.com']);
    expect(d.Certificate?.CertificateAuthorityArn).toBe(rec.certificateAuthorityArn);
    expect(d.Certificate?.Type).toBe('PRIVATE');
  });

  it('re-running up on a finished step makes no mutating call and one read per resource', async () => {
    h = new Harness();
    await h.ok(['up'], CA_ONLY);
    const r = await expectReadOnlyRerun(h, ['up'], CA_ONLY);
    // Besides the one STS GetCallerIdentity of the banner (who pays).
    const calls = h.cloud.calls.filter((c) => c.service !== 'sts');
    expect(calls.map((c) => `${c.region} ${c.command}`).sort()).toEqual([
      'sa-east-1 DescribeCertificate',
      'sa-east-1 DescribeCertificateAuthority',
      'sa-east-1 ListPermissions',
      'us-west-1 DescribeCertificate',
      'us-west-1 DescribeCertificateAuthority',
      'us-west-1 ListPermissions',
    ]);
    expect(logs(r, 'info').filter((m) => m.includes('$400'))).toEqual([]);
    expectOneOfEach();
  });

  it('down deletes certificate and CA, says until when the CA is restorable, and leaves the cloud empty', async () => {
    h = new Harness();
    await h.ok(['up'], CA_ONLY);
    const caArn = String(h.state()!.steps.ca!['sa-east-1']!.resources.certificateAuthorityArn);
    const deletedAt = h.cloud.clock.now();
    const r = await h.ok(['down', '--yes'], CA_ONLY);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.state()!.steps).toEqual({});
    expect(existsSync(join(h.dir, '.drctl', 'ca', 'sa-east-1.pem'))).toBe(false);
    // The CA is DELETED, restorable for the configured 7 days, and the user is told so.
    const pca = new ACMPCAClient({ region: 'sa-east-1' });
    const d = await pca.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn }));
    expect(d.CertificateAuthority?.Status).toBe('DELETED');
    const until = d.CertificateAuthority!.RestorableUntil!.getTime();
    expect(Math.round((until - deletedAt) / 86_400_000)).toBe(7);
    const said = logs(r, 'info').find((m) => m.includes(caArn));
    expect(said).toContain(`restorable until ${new Date(until).toISOString().slice(0, 10)}`);
  });

  it('a 500 after AWS applied any mutating call of down, then the same down goes on: the CAs are DELETED, nothing left', async () => {
    const clean = new Harness();
    others.push(clean);
    await clean.ok(['up'], CA_ONLY);
    clean.cloud.resetCalls();
    await clean.ok(['down', '--yes'], CA_ONLY);
    const points = clean.cloud.mutatingCalls.map((c) => c.command);
    expect(points.filter((c) => c === 'DeleteCertificateAuthority')).toHaveLength(2);
    const failures: string[] = [];
    for (let n = 1; n <= points.length; n++) {
      h?.cleanup();
      h = new Harness();
      await h.ok(['up'], CA_ONLY);
      h.cloud.revive(); // counts mutating calls from here
      h.cloud.resetCalls();
      h.cloud.faults = { failAfterApplyingMutating: n };
      const r = await h.run(['down', '--yes'], CA_ONLY);
      const hit = h.cloud.calls.filter((c) => c.mutating)[n - 1];
      const where = `#${n} ${hit?.region} ${hit?.command}`;
      if (r.code !== 0)
        failures.push(`${where}: down exited ${r.code}: ${r.stderr.trim().split('\n').at(-1)}`);
      else if (h.cloud.snapshot().length) failures.push(`${where}: left ${h.cloud.snapshot().join(', ')}`);
      else if (Object.keys(h.state()!.steps).length) failures.push(`${where}: the state still records steps`);
    }
    expect(failures).toEqual([]);
  });

  it('a CA too close to its end to issue a 13-month certificate: up fails naming PCA_INVALID_DURATION, the CA, its end and what to do', async () => {
    h = new Harness();
    await h.ok(['up'], CA_ONLY);
    const caArn = String(h.state()!.steps.ca!['sa-east-1']!.resources.certificateAuthorityArn);
    // 9.5 years on, the 10-year CA has less than 395 days left: renewals fail, the certificate
    // expires, and the replacement up requests is FAILED.
    h.cloud.clock.advance(9.5 * 365 * 86_400_000);
    const r = await h.run(['up'], CA_ONLY);
    expect(r.code).toBe(1);
    const pca = new ACMPCAClient({ region: 'sa-east-1' });
    const d = await pca.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn }));
    const end = d.CertificateAuthority!.NotAfter!.toISOString().slice(0, 10);
    expect(r.stderr).toMatch(/✖ ca sa-east-1: .*FAILED \(PCA_INVALID_DURATION\)/);
    expect(r.stderr).toContain(`root CA ${caArn} is valid until ${end}`);
    expect(r.stderr).toMatch(/395 days/);
    expect(r.stderr).toMatch(/drctl down.*drctl up.*ca\.validityYears/s);
    const failed = h.cloud
      .model(FakeAcm)
      .certificates('sa-east-1')
      .filter((c) => c.outcome === 'FAILED');
    expect(failed.map((c) => c.failureReason)).toContain('PCA_INVALID_DURATION');
  });

  it('down honours ca.permanentDeletionTimeInDays from the config', async () => {
    h = new Harness();
    h.writeConfig({ ca: { permanentDeletionTimeInDays: 30 } });
    await h.ok(['up'], CA_ONLY);
    const caArn = String(h.state()!.steps.ca!['us-west-1']!.resources.certificateAuthorityArn);
    const at = h.cloud.clock.now();
    await h.ok(['down', '--yes'], CA_ONLY);
    const pca = new ACMPCAClient({ region: 'us-west-1' });
    const d = await pca.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn }));
    expect(Math.round((d.CertificateAuthority!.RestorableUntil!.getTime() - at) / 86_400_000)).toBe(30);
  });

  it('a crash after each mutating call, then a re-run, ends with exactly one CA and one certificate per region', async () => {
    await crashEachMutatingCall({
      args: ['up'],
      deps: CA_ONLY,
      clean: (mutating) =>
        expect(mutating.filter((c) => c.startsWith('sa-east-1')).map((c) => c.split(' ')[1])).toEqual([
          'CreateCertificateAuthority',
          'IssueCertificate',
          'ImportCertificateAuthorityCertificate',
          'CreatePermission',
          'RequestCertificate',
        ]),
      check: async (x, where) => {
        h = x;
        expectOneOfEach();
        expect(
          x.cloud.snapshot().filter((l) => l.includes('/permission/')),
          where,
        ).toEqual(
          REGIONS.map((r) =>
            expect.stringMatching(new RegExp(`^acm-pca/${r}/permission/.*/acm\\.amazonaws\\.com$`)),
          ),
        );
        await x.ok(['down', '--yes'], CA_ONLY);
        expect(x.cloud.snapshot(), `after down, ${where}`).toEqual([]);
      },
    });
  });

  it('a crash at any point never leaves two CAs, even when the re-run comes after the 5-minute token window', async () => {
    await crashEachMutatingCall({
      args: ['up'],
      deps: CA_ONLY,
      afterCrash: (x) => x.cloud.clock.advance(6 * MINUTE),
      check: (x) => {
        h = x;
        expectOneOfEach();
      },
    });
  });

  it("the CA ARN is in the state file the moment CreateCertificateAuthority returns (a crash at the step's next call loses nothing)", async () => {
    const clean = new Harness();
    await clean.ok(['up'], CA_ONLY);
    const mutating = mutatingOf(clean);
    clean.cleanup();
    // The step's own next call in the region: the CA's answer was heard and handled before it.
    const next = mutating.indexOf('sa-east-1 IssueCertificate') + 1;
    expect(mutating[next - 2]).toMatch(/ CreateCertificateAuthority$/);
    h = new Harness();
    await crashAt(h, next, ['up'], CA_ONLY);
    const created = h.cloud.calls.find(
      (c) => c.command === 'CreateCertificateAuthority' && c.region === 'sa-east-1' && c.outcome === 'ok',
    )!;
    expect(h.outputs('ca', 'sa-east-1').certificateAuthorityArn).toBe(
      (created.output as { CertificateAuthorityArn: string }).CertificateAuthorityArn,
    );
  });

  it('after a crash and a lost state file, a re-run an hour later adopts the tagged CA', async () => {
    h = new Harness();
    h.cloud.faults = { crashAfterMutating: 1 };
    await h.run(['--json', 'up'], CA_ONLY);
    h.cloud.revive();
    h.cloud.clock.advance(60 * MINUTE);
    // A second checkout with no state at all: only the tags can find the CA.
    const fresh = new Harness(h.cloud);
    others.push(fresh);
    await fresh.ok(['up'], CA_ONLY);
    expectOneOfEach();
  });

  it('two ups racing from two state files make one CA per region', async () => {
    h = new Harness();
    const twin = new Harness(h.cloud);
    others.push(twin);
    await Promise.all([h.ok(['up'], CA_ONLY), twin.ok(['up'], CA_ONLY)]);
    for (const region of REGIONS) expect(cas(region)).toHaveLength(1);
    expect(h.state()!.steps.ca!['sa-east-1']!.resources.certificateAuthorityArn).toBe(
      twin.state()!.steps.ca!['sa-east-1']!.resources.certificateAuthorityArn,
    );
  });

  it('up within five minutes of a down makes a new CA rather than getting the deleted one back', async () => {
    h = new Harness();
    await h.ok(['up'], CA_ONLY);
    const first = h.state()!.steps.ca!['sa-east-1']!.resources.certificateAuthorityArn;
    await h.ok(['down', '--yes'], CA_ONLY);
    await h.ok(['up'], CA_ONLY);
    expectOneOfEach();
    expect(h.state()!.steps.ca!['sa-east-1']!.resources.certificateAuthorityArn).not.toBe(first);
    await h.ok(['down', '--yes'], CA_ONLY);
    expect(h.cloud.snapshot()).toEqual([]);
  });

  it('down waits while the certificate is still in use, showing what uses it', async () => {
    h = new Harness();
    await h.ok(['up'], CA_ONLY);
    const certArn = String(h.state()!.steps.ca!['sa-east-1']!.resources.certificateArn);
    const releasedAt = h.cloud.clock.now() + 2 * MINUTE;
    const user = 'arn:aws:elasticloadbalancing:sa-east-1:111122223333:listener/net/drctl/abc/def';
    h.cloud.addDependencyProbe('acm-certificate', (arn) =>
      arn === certArn && h.cloud.clock.now() < releasedAt ? [user] : [],
    );
    const r = await h.ok(['down', '--yes'], CA_ONLY);
    expect(h.cloud.snapshot()).toEqual([]);
    expect(h.cloud.clock.now()).toBeGreaterThanOrEqual(releasedAt);
    const progress = r.events.flatMap((e) => (e.type === 'step-progress' ? [e.text] : []));
    expect(progress.some((t) => t.includes(`in use by ${user}`))).toBe(true);
  });

  it('with config certificateArn for a region, uses that certificate, makes no CA there and never deletes it', async () => {
    h = new Harness();
    const given = h.cloud.model(FakeAcm).seed('sa-east-1', { domainName: 'api.octank.com' });
    h.writeConfig({ certificateArn: { 'sa-east-1': given } });
    await h.ok(['up'], CA_ONLY);
    expect(h.state()!.steps.ca!['sa-east-1']!.resources).toEqual({
      certificateAuthorityArn: null,
      certificateArn: given,
      certificateNotAfter: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      renewalEligibility: 'INELIGIBLE',
    });
    expect(cas('sa-east-1')).toEqual([]);
    expect(cas('us-west-1')).toHaveLength(1);
    expect(existsSync(join(h.dir, '.drctl', 'ca', 'sa-east-1.pem'))).toBe(false);
    await h.ok(['down', '--yes'], CA_ONLY);
    expect(h.cloud.snapshot()).toEqual([
      `acm/sa-east-1/certificate/${given.split('/').pop()}(api.octank.com,ISSUED)`,
    ]);
  });

  it('a config certificateArn that is not in the region fails with what to do', async () => {
    h = new Harness();
    const elsewhere = h.cloud.model(FakeAcm).seed('us-west-1', { domainName: '*.octank.com' });
    h.writeConfig({ certificateArn: { 'sa-east-1': elsewhere } });
    const r = await h.run(['--json', 'up'], CA_ONLY);
    expect(r.code).toBe(1);
    const failed = r.events.find((e) => e.type === 'step-failed' && e.scope === 'sa-east-1');
    expect(JSON.stringify(failed)).toContain('ACM certificates are regional');
  });
});

describe('fake Private CA and ACM behave as docs/design/aws-behaviour.md §4 says', () => {
  const subject = { CommonName: 'x', Organization: 'y', Country: 'US' };
  const createCa = (pca: ACMPCAClient, token?: string) =>
    pca.send(
      new CreateCertificateAuthorityCommand({
        CertificateAuthorityType: 'ROOT',
        CertificateAuthorityConfiguration: {
          KeyAlgorithm: 'RSA_2048',
          SigningAlgorithm: 'SHA256WITHRSA',
          Subject: subject,
        },
        IdempotencyToken: token,
      }),
    );

  it('the CA token holds for five minutes only; the CSR is in progress until PENDING_CERTIFICATE', async () => {
    h = new Harness();
    // Tests of the fake's own model, not of drctl's permissions: another user of the account calls.
    await h.cloud.authorizer.asAdmin(async () => {
      const pca = new ACMPCAClient({ region: 'sa-east-1' });
      const a = await createCa(pca, 'tok');
      const b = await createCa(pca, 'tok');
      expect(b.CertificateAuthorityArn).toBe(a.CertificateAuthorityArn);
      await expect(
        pca.send(
          new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: a.CertificateAuthorityArn }),
        ),
      ).rejects.toMatchObject({ name: 'RequestInProgressException' });
      h.cloud.clock.advance(6 * MINUTE);
      const c = await createCa(pca, 'tok');
      expect(c.CertificateAuthorityArn).not.toBe(a.CertificateAuthorityArn);
      const csr = await pca.send(
        new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: a.CertificateAuthorityArn }),
      );
      expect(csr.Csr).toContain('CERTIFICATE REQUEST');
      expect(cas('sa-east-1')).toHaveLength(2);
    });
  });

  it('a private certificate requested from a CA that is not ACTIVE fails; an ACTIVE CA cannot be deleted', async () => {
    h = new Harness();
    const pca = new ACMPCAClient({ region: 'us-west-1' });
    const acm = new ACMClient({ region: 'us-west-1' });
    await h.cloud.authorizer.asAdmin(async () => {
      const { CertificateAuthorityArn } = await createCa(pca);
      const { CertificateArn } = await acm.send(
        new RequestCertificateCommand({ DomainName: '*.octank.com', CertificateAuthorityArn }),
      );
      await expect(acm.send(new DescribeCertificateCommand({ CertificateArn }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
      h.cloud.clock.advance(MINUTE);
      const d = await acm.send(new DescribeCertificateCommand({ CertificateArn }));
      expect(d.Certificate).toMatchObject({ Status: 'FAILED', FailureReason: 'PCA_INVALID_STATE' });
      await acm.send(new DeleteCertificateCommand({ CertificateArn }));
    });

    await h.ok(['up'], CA_ONLY);
    const active = String(h.state()!.steps.ca!['us-west-1']!.resources.certificateAuthorityArn);
    // Another user tries to delete drctl's ACTIVE CA: the fake's rule, not drctl's policy.
    await h.cloud.authorizer.asAdmin(() =>
      expect(
        pca.send(
          new DeleteCertificateAuthorityCommand({
            CertificateAuthorityArn: active,
            PermanentDeletionTimeInDays: 7,
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidStateException' }),
    );
  });
  /** A root CA made by hand with its certificate valid `value` `type`, ACTIVE. */
  async function activeCa(region: string, type: ValidityPeriodType, value: number): Promise<string> {
    const pca = new ACMPCAClient({ region });
    const { CertificateAuthorityArn: arn } = await createCa(pca);
    h.cloud.clock.advance(5 * MINUTE);
    const { Csr } = await pca.send(new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: arn }));
    const { CertificateArn } = await pca.send(
      new IssueCertificateCommand({
        CertificateAuthorityArn: arn,
        Csr: new TextEncoder().encode(Csr),
        SigningAlgorithm: 'SHA256WITHRSA',
        TemplateArn: 'arn:aws:acm-pca:::template/RootCACertificate/V1',
        Validity: { Type: type, Value: value },
      }),
    );
    h.cloud.clock.advance(MINUTE);
    const { Certificate } = await pca.send(
      new GetCertificateCommand({ CertificateAuthorityArn: arn, CertificateArn }),
    );
    await pca.send(
      new ImportCertificateAuthorityCertificateCommand({
        CertificateAuthorityArn: arn,
        Certificate: new TextEncoder().encode(Certificate),
      }),
    );
    h.cloud.clock.advance(5 * MINUTE);
    const d = await pca.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: arn }));
    expect(d.CertificateAuthority?.Status).toBe('ACTIVE');
    return arn!;
  }

  it('a CA valid for less than 395 more days issues no private certificate: FAILED, PCA_INVALID_DURATION', async () => {
    h = new Harness();
    await h.cloud.authorizer.asAdmin(async () => {
      const acm = new ACMClient({ region: 'sa-east-1' });
      const oneYear = await activeCa('sa-east-1', 'YEARS', 1);
      const { CertificateArn } = await acm.send(
        new RequestCertificateCommand({ DomainName: '*.octank.com', CertificateAuthorityArn: oneYear }),
      );
      h.cloud.clock.advance(MINUTE);
      const d = await acm.send(new DescribeCertificateCommand({ CertificateArn }));
      expect(d.Certificate).toMatchObject({ Status: 'FAILED', FailureReason: 'PCA_INVALID_DURATION' });
    });
  });

  it('a CA valid 400 days issues one, but cannot renew it 60 days before it ends: renewal FAILED, then EXPIRED', async () => {
    h = new Harness();
    await h.cloud.authorizer.asAdmin(async () => {
      const acm = new ACMClient({ region: 'sa-east-1' });
      const ca = await activeCa('sa-east-1', 'DAYS', 400);
      const { CertificateArn } = await acm.send(
        new RequestCertificateCommand({ DomainName: '*.octank.com', CertificateAuthorityArn: ca }),
      );
      h.cloud.clock.advance(MINUTE);
      expect((await acm.send(new DescribeCertificateCommand({ CertificateArn }))).Certificate?.Status).toBe(
        'ISSUED',
      );
      h.cloud.clock.advance(396 * 86_400_000);
      const d = await acm.send(new DescribeCertificateCommand({ CertificateArn }));
      expect(d.Certificate).toMatchObject({
        Status: 'EXPIRED',
        RenewalSummary: { RenewalStatus: 'FAILED', RenewalStatusReason: 'PCA_INVALID_DURATION' },
      });
    });
  });
});
