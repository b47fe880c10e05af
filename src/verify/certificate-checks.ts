import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import {
  ACMPCAClient,
  DescribeCertificateAuthorityCommand,
  paginateListPermissions,
} from '@aws-sdk/client-acm-pca';
import { unlessNotFound } from '../aws/errors.js';
import { collect } from '../aws/pages.js';
import { outputField, recordedOutputs } from '../state/outputs.js';
import { UP, type VerifyCheck, fail, ok, perRegion, warn } from './check.js';

// Will TLS keep verifying: each region's certificate is issued and not near expiry, and its CA lets
// ACM renew it.

/** Under this many days a certificate is a warning (ACM renews 60 days ahead: renewal is failing). */
export const CERT_WARN_DAYS = 30;
/** Under this many days it is a failure: a failover next week would land on an expired certificate. */
export const CERT_FAIL_DAYS = 7;
/** What ACM needs on a private CA to renew the certificates it issued. */
export const ACM_RENEWAL_ACTIONS = ['IssueCertificate', 'GetCertificate', 'ListPermissions'] as const;

const DAY_MS = 86_400_000;

export const certificates: VerifyCheck = {
  id: 'certificate',
  title: 'certificates issued, days to expiry',
  run: (ctx) =>
    perRegion(ctx, 'certificate', async (region) => {
      const arn = outputField(ctx.state, 'ca', region, 'certificateArn');
      const c = (
        await unlessNotFound(async () =>
          ctx.aws.client(ACMClient, region).send(new DescribeCertificateCommand({ CertificateArn: arn })),
        )
      )?.Certificate;
      if (!c) return [fail('certificate', `certificate ${arn} is gone`, UP, region)];
      if (c.Status !== 'ISSUED')
        return [fail('certificate', `certificate ${arn} is ${c.Status}`, UP, region)];
      if (!c.NotAfter) return [ok('certificate', `certificate ${arn} is issued (no expiry given)`, region)];
      const days = Math.floor((c.NotAfter.getTime() - ctx.clock.now()) / DAY_MS);
      const when = c.NotAfter.toISOString().slice(0, 10);
      const renew =
        'ACM renews a private certificate 60 days before it expires if its CA lets it (the ca-renewal check); ' +
        "if it did not, see the certificate's RenewalSummary in ACM, or run `drctl step ca` to issue a new one.";
      const summary = c.RenewalSummary;
      const renewal =
        summary?.RenewalStatus === 'FAILED'
          ? `; ACM's last renewal attempt FAILED${summary.RenewalStatusReason ? ` (${summary.RenewalStatusReason})` : ''}`
          : c.RenewalEligibility === 'INELIGIBLE'
            ? '; ACM will not renew it (RenewalEligibility INELIGIBLE)'
            : '';
      if (days < 0)
        return [fail('certificate', `certificate ${arn} expired on ${when}${renewal}`, renew, region)];
      if (days < CERT_FAIL_DAYS)
        return [
          fail('certificate', `certificate expires in ${days} days (${when})${renewal}`, renew, region),
        ];
      if (days < CERT_WARN_DAYS || renewal)
        return [
          warn('certificate', `certificate expires in ${days} days (${when})${renewal}`, renew, region),
        ];
      return [ok('certificate', `certificate issued, expires in ${days} days (${when})`, region)];
    }),
};

export const caRenewal: VerifyCheck = {
  id: 'ca-renewal',
  title: 'ACM may renew: the CA grants acm.amazonaws.com its renewal actions',
  run: (ctx) =>
    perRegion(ctx, 'ca-renewal', async (region) => {
      const arn = recordedOutputs(ctx.state, 'ca', region)?.certificateAuthorityArn;
      if (arn === null)
        return [
          ok(
            'ca-renewal',
            'the certificate is your own (config.certificateArn): its renewal is yours',
            region,
          ),
        ];
      const caArn = outputField(ctx.state, 'ca', region, 'certificateAuthorityArn');
      const pca = ctx.aws.client(ACMPCAClient, region);
      const ca = (
        await unlessNotFound(async () =>
          pca.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn })),
        )
      )?.CertificateAuthority;
      if (!ca) return [fail('ca-renewal', `CA ${caArn} is gone`, UP, region)];
      if (ca.Status !== 'ACTIVE')
        return [
          fail('ca-renewal', `CA ${caArn} is ${ca.Status}: it issues nothing, renewals included`, UP, region),
        ];
      const permissions = await collect(
        paginateListPermissions({ client: pca }, { CertificateAuthorityArn: caArn }),
        (p) => p.Permissions,
      );
      const granted = new Set(
        permissions.filter((p) => p.Principal === 'acm.amazonaws.com').flatMap((p) => p.Actions ?? []),
      );
      const missing = ACM_RENEWAL_ACTIONS.filter((a) => !granted.has(a));
      if (!missing.length)
        return [ok('ca-renewal', `CA grants acm.amazonaws.com ${ACM_RENEWAL_ACTIONS.join(', ')}`, region)];
      return [
        fail(
          'ca-renewal',
          `CA ${caArn} does not grant acm.amazonaws.com ${missing.join(', ')}: ACM cannot renew the certificate`,
          `Run \`drctl up\`, or \`aws acm-pca create-permission --region ${region} --certificate-authority-arn ${caArn} --principal acm.amazonaws.com --actions IssueCertificate GetCertificate ListPermissions\`.`,
          region,
        ),
      ];
    }),
};
