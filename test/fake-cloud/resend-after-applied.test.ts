import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  DeleteCertificateAuthorityCommand,
  DescribeCertificateAuthorityCommand,
} from '@aws-sdk/client-acm-pca';
import { GetHealthCheckCommand, Route53Client, UpdateHealthCheckCommand } from '@aws-sdk/client-route-53';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeRoute53Health } from '../support/fake-cloud/index.js';
import { Harness } from '../support/harness.js';

// What the SDK's own resend of an applied call meets (sources in test/support/fake-cloud/README.md):
// these two calls are not safe to resend, which is why idempotency.ts lists them as not resendable.

let h: Harness;
afterEach(() => h?.cleanup());

describe('a call AWS applied, answered 500, then resent by the SDK', () => {
  it('UpdateHealthCheck with HealthCheckVersion: the resend gets HealthCheckVersionMismatch, the check is updated once', async () => {
    h = new Harness();
    const r53 = new Route53Client({ region: 'us-east-1' });
    const id = 'ab12cd34-0000-4000-8000-000000000001';
    h.cloud.model(FakeRoute53Health).seed(id);
    const before = (await r53.send(new GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck!;
    h.cloud.revive();
    h.cloud.faults = { failAfterApplyingMutating: 1 };
    await expect(
      r53.send(
        new UpdateHealthCheckCommand({
          HealthCheckId: id,
          HealthCheckVersion: before.HealthCheckVersion,
          Inverted: true,
        }),
      ),
    ).rejects.toMatchObject({ name: 'HealthCheckVersionMismatch' });
    const sent = h.cloud.calls.filter((c) => c.command === 'UpdateHealthCheck');
    expect(sent.map((c) => [c.attempt, c.outcome])).toEqual([
      [1, 'InternalFailure'],
      [2, 'HealthCheckVersionMismatch'],
    ]);
    const after = (await r53.send(new GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck!;
    expect(after.HealthCheckConfig?.Inverted).toBe(true);
    expect(after.HealthCheckVersion).toBe(before.HealthCheckVersion! + 1);
  });

  it('DeleteCertificateAuthority: the resend finds the CA DELETED and gets InvalidStateException, not a not-found', async () => {
    h = new Harness();
    // A test of the fake's model: another user, allowed everything, makes and deletes the CA.
    await h.cloud.authorizer.asAdmin(async () => {
      const pca = new ACMPCAClient({ region: 'sa-east-1' });
      const { CertificateAuthorityArn: arn } = await pca.send(
        new CreateCertificateAuthorityCommand({
          CertificateAuthorityType: 'ROOT',
          CertificateAuthorityConfiguration: {
            KeyAlgorithm: 'RSA_2048',
            SigningAlgorithm: 'SHA256WITHRSA',
            Subject: { CommonName: 'resend.example' },
          },
          IdempotencyToken: 'resend',
        }),
      );
      h.cloud.revive();
      h.cloud.faults = { failAfterApplyingMutating: 1 };
      await expect(
        pca.send(
          new DeleteCertificateAuthorityCommand({
            CertificateAuthorityArn: arn,
            PermanentDeletionTimeInDays: 7,
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidStateException' });
      const sent = h.cloud.calls.filter((c) => c.command === 'DeleteCertificateAuthority');
      expect(sent.map((c) => c.outcome)).toEqual(['InternalFailure', 'InvalidStateException']);
      const d = await pca.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: arn }));
      expect(d.CertificateAuthority?.Status).toBe('DELETED');
    });
  });
});
