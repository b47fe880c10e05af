import {
  CreateKeyPairCommand,
  DeleteKeyPairCommand,
  DescribeKeyPairsCommand,
  EC2Client,
  type KeyPairInfo,
} from '@aws-sdk/client-ec2';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isNotFound } from '../aws/errors.js';
import { isOwnedBy } from '../aws/tags.js';
import { AwsStepError } from '../errors/errors.js';
import { removeFile, writeFileAtomic } from '../lib/files.js';
import type { StepContext, StepImpl } from './types.js';

// Owns: one EC2 key pair per region, and its private key at .drctl/keys/<region>.pem (0600).
// The private half exists only in CreateKeyPair's answer, so it is written before anything else.

const outputs = z.object({
  keyName: z.string().min(1).max(255),
  keyPairId: z.string().regex(/^key-[0-9a-f]+$/, 'must be an EC2 key pair id like key-0123abcd'),
});
export type KeypairsOutputs = z.infer<typeof outputs>;

declare module './types.js' {
  interface StepOutputs {
    keypairs: KeypairsOutputs;
  }
}

type Ctx = StepContext<KeypairsOutputs>;

export const keyName = (ctx: Pick<Ctx, 'config' | 'region'>) => `${ctx.config.deployment}-${ctx.region}`;
export const pemPath = (ctx: Pick<Ctx, 'paths' | 'region'>) => join(ctx.paths.keys, `${ctx.region}.pem`);

async function describe(ctx: Ctx, name: string): Promise<KeyPairInfo | undefined> {
  const ec2 = ctx.aws.client(EC2Client, ctx.region);
  try {
    const r = await ec2.send(new DescribeKeyPairsCommand({ KeyNames: [name] }));
    return r.KeyPairs?.[0];
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export const keypairs: StepImpl<KeypairsOutputs> = {
  outputs,

  async up(ctx) {
    const ec2 = ctx.aws.client(EC2Client, ctx.region);
    const name = keyName(ctx);
    const pem = pemPath(ctx);
    ctx.progress(`key pair ${name}`);
    const existing = await describe(ctx, name);
    if (existing) {
      if (!isOwnedBy(existing.Tags, ctx.config.deployment)) {
        throw new AwsStepError(
          `key pair ${name} in ${ctx.region} exists but was not made by drctl deployment "${ctx.config.deployment}"`,
          {
            resource: name,
            resolution:
              'drctl never touches what it did not make: delete or rename that key pair, or choose another `deployment` name.',
          },
        );
      }
      if (existsSync(pem)) {
        if (ctx.recorded.keyPairId !== existing.KeyPairId)
          ctx.record({ keyName: name, keyPairId: existing.KeyPairId! });
        return { keyName: name, keyPairId: existing.KeyPairId! };
      }
      if (ctx.recorded.keyPairId === existing.KeyPairId) {
        // Recorded ids are written only after the PEM, so its private key exists on the machine
        // that made it (a team mate sharing an S3 state): replacing it would lock them out.
        ctx.warn(
          `key pair ${name}: its private key is not on this machine (${pem}); ask whoever ran \`up\` first for it`,
        );
        return { keyName: name, keyPairId: existing.KeyPairId! };
      }
      // Ours, but never recorded and its private key never reached the disk (a crash between
      // AWS's answer and the write): AWS cannot return it again, so the pair is useless. Replace it.
      ctx.warn(`key pair ${name} has no private key at ${pem}; replacing it`);
      await ec2.send(new DeleteKeyPairCommand({ KeyName: name }));
    }
    const created = await ec2.send(
      new CreateKeyPairCommand({
        KeyName: name,
        KeyType: 'ed25519',
        KeyFormat: 'pem',
        TagSpecifications: [{ ResourceType: 'key-pair', Tags: ctx.tags() }],
      }),
    );
    writeFileAtomic(pem, created.KeyMaterial!, 0o600);
    const out = { keyName: name, keyPairId: created.KeyPairId! };
    ctx.record(out);
    return out;
  },

  async down(ctx) {
    const ec2 = ctx.aws.client(EC2Client, ctx.region);
    const name = ctx.recorded.keyName ?? keyName(ctx);
    const existing = await describe(ctx, name);
    if (existing) {
      const ours =
        isOwnedBy(existing.Tags, ctx.config.deployment) || existing.KeyPairId === ctx.recorded.keyPairId;
      // By name: IAM authorizes DeleteKeyPair on key-pair/<name> (the ARN the policy grants), which
      // a resend after an applied 5xx must still name when the pair is gone.
      if (ours) await ec2.send(new DeleteKeyPairCommand({ KeyName: name }));
      else ctx.warn(`left key pair ${name}: it is not drctl's`);
    }
    removeFile(pemPath(ctx));
  },

  async check(ctx) {
    const missing: string[] = [];
    const name = ctx.recorded.keyName ?? keyName(ctx);
    if (!(await describe(ctx, name))) missing.push(`key pair ${name}`);
    if (!existsSync(pemPath(ctx))) missing.push(`private key ${pemPath(ctx)}`);
    return missing;
  },

  async discover(ctx) {
    const name = keyName(ctx);
    const k = await describe(ctx, name);
    return k && isOwnedBy(k.Tags, ctx.config.deployment)
      ? [{ what: `key pair ${name}`, id: k.KeyPairId! }]
      : [];
  },
};
