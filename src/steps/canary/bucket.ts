import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { awsCode, isNotFound } from '../../aws/errors.js';
import { fingerprint } from '../../aws/resources/fingerprint.js';
import { tagValue } from '../../aws/tags.js';
import { AwsStepError } from '../../errors/errors.js';
import { type Ctx, STATE_TIMEOUT_MS, TAG_CONFIG, notOurs } from './common.js';

// The S3 bucket <deployment>-canary-<account>-<region> the canary writes its artifacts to.

function bucketConfig(ctx: Ctx, bucketName: string) {
  const arn = `arn:aws:s3:::${bucketName}`;
  return {
    publicAccessBlock: {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    },
    encryption: {
      Rules: [
        { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const }, BucketKeyEnabled: true },
      ],
    },
    policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [arn, `${arn}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    }),
    lifecycle: {
      Rules: [
        {
          ID: 'expire-canary-artifacts',
          Status: 'Enabled' as const,
          Filter: { Prefix: '' },
          Expiration: { Days: ctx.config.canary.artifactExpiryDays },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    },
  };
}

export type BucketTags = { exists: false } | { exists: true; tags: Array<{ Key?: string; Value?: string }> };

export async function bucketTags(ctx: Ctx, bucketName: string): Promise<BucketTags> {
  try {
    const r = await ctx.aws
      .client(S3Client, ctx.region)
      .send(new GetBucketTaggingCommand({ Bucket: bucketName }));
    return { exists: true, tags: r.TagSet ?? [] };
  } catch (e) {
    if (awsCode(e) === 'NoSuchTagSet') return { exists: true, tags: [] };
    if (awsCode(e) === 'NoSuchBucket') return { exists: false };
    if (['AccessDenied', 'PermanentRedirect', 'AllAccessDisabled'].includes(awsCode(e) ?? '')) {
      throw new AwsStepError(`S3 bucket name ${bucketName} is taken by another account or region`, {
        resource: bucketName,
        awsCode: awsCode(e),
        resolution: 'Choose another `deployment` name (bucket names are global across all AWS accounts).',
        cause: e,
      });
    }
    throw e;
  }
}

export async function ensureBucket(ctx: Ctx, bucketName: string): Promise<void> {
  const s3 = ctx.aws.client(S3Client, ctx.region);
  ctx.progress(`bucket ${bucketName}`);
  const cfg = bucketConfig(ctx, bucketName);
  const want = fingerprint(cfg);
  const seen = await bucketTags(ctx, bucketName);
  if (seen.exists) {
    const deployment = tagValue(seen.tags, 'drctl:deployment');
    // The name carries our account id, so an untagged bucket of that name is one a crash left.
    if (deployment !== undefined && deployment !== ctx.config.deployment)
      throw notOurs('S3 bucket', bucketName, ctx);
    if (ctx.recorded.bucketName !== bucketName) ctx.record({ bucketName });
    if (tagValue(seen.tags, TAG_CONFIG) === want) return;
  } else {
    // Recorded before the call: the bucket is tagged only at the end of this function, and
    // `down` deletes an untagged bucket only if the state names it.
    if (ctx.recorded.bucketName !== bucketName) ctx.record({ bucketName });
    try {
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucketName,
          // us-east-1 refuses its own name as a LocationConstraint (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html).
          CreateBucketConfiguration:
            ctx.region === 'us-east-1' ? undefined : { LocationConstraint: ctx.region as never },
        }),
      );
    } catch (e) {
      if (awsCode(e) !== 'BucketAlreadyOwnedByYou') throw e;
    }
  }
  // Read-after-create can miss a new bucket for a moment (docs/design/timings.md, S3 CreateBucket).
  const put = (what: string, call: () => Promise<unknown>) =>
    ctx.retry(`bucket ${bucketName}: ${what}`, call, (e) => awsCode(e) === 'NoSuchBucket');
  await put('public access block', () =>
    s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: bucketName,
        PublicAccessBlockConfiguration: cfg.publicAccessBlock,
      }),
    ),
  );
  await put('encryption', () =>
    s3.send(
      new PutBucketEncryptionCommand({
        Bucket: bucketName,
        ServerSideEncryptionConfiguration: cfg.encryption,
      }),
    ),
  );
  await put('TLS-only policy', () =>
    s3.send(new PutBucketPolicyCommand({ Bucket: bucketName, Policy: cfg.policy })),
  );
  await put('lifecycle', () =>
    s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucketName,
        LifecycleConfiguration: cfg.lifecycle,
      }),
    ),
  );
  // Tagged last: the config tag says every setting above is in place.
  await put('tags', () =>
    s3.send(
      new PutBucketTaggingCommand({
        Bucket: bucketName,
        Tagging: { TagSet: [...ctx.tags(), { Key: TAG_CONFIG, Value: want }] },
      }),
    ),
  );
}

export async function emptyAndDeleteBucket(ctx: Ctx, bucketName: string): Promise<void> {
  const s3 = ctx.aws.client(S3Client, ctx.region);
  await ctx.poll({
    what: `bucket ${bucketName}`,
    timeoutMs: STATE_TIMEOUT_MS,
    minDelayMs: 1_000,
    maxDelayMs: 5_000,
    // A last canary run can still land an artifact between the listing and the delete.
    retryOn: (e) => awsCode(e) === 'BucketNotEmpty',
    check: async () => {
      for (;;) {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucketName, MaxKeys: 1000 }));
        const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (keys.length === 0) break;
        ctx.progress(`bucket ${bucketName}: deleting ${keys.length} artifact(s)`);
        await s3.send(
          new DeleteObjectsCommand({ Bucket: bucketName, Delete: { Objects: keys, Quiet: true } }),
        );
      }
      try {
        await s3.send(new DeleteBucketCommand({ Bucket: bucketName }));
      } catch (e) {
        // The SDK resends a DeleteBucket answered 5xx after S3 had deleted it: the resend finds
        // no bucket. Gone is what this wants.
        if (!isNotFound(e)) throw e;
      }
      return { done: true, value: undefined };
    },
  });
  await ctx.poll({
    what: `bucket ${bucketName} deleted`,
    timeoutMs: STATE_TIMEOUT_MS,
    minDelayMs: 1_000,
    maxDelayMs: 3_000,
    check: async () => {
      try {
        await s3.send(new HeadBucketCommand({ Bucket: bucketName }));
        return { done: false, status: 'still listed' };
      } catch (e) {
        if (isNotFound(e) || awsCode(e) === 'NotFound') return { done: true, value: undefined };
        throw e;
      }
    },
  });
}
