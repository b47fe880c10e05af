import { createHash } from 'node:crypto';
import { FakeService, mapToTags, tagsToMap } from './cloud.js';
import { awsError } from './errors.js';
import { page } from './paging.js';

export interface S3Object {
  Key: string;
  Size: number;
  lastModified: number;
  /** Quoted, as S3 returns it: the MD5 of the body for a single-part upload without SSE-KMS. */
  ETag: string;
  /** The body as text (objects drctl reads back: the state and its lock). */
  body?: string;
  ServerSideEncryption?: string;
}

const md5Etag = (body: string) => `"${createHash('md5').update(body).digest('hex')}"`;

export interface Bucket {
  Name: string;
  region: string;
  createdAt: number;
  objects: Map<string, S3Object>;
  tags?: Record<string, string>;
  publicAccessBlock?: Record<string, boolean>;
  encryption?: unknown;
  policy?: string;
  lifecycle?: { Rules: LifecycleRule[] };
}

interface LifecycleRule {
  ID?: string;
  Status: 'Enabled' | 'Disabled';
  Filter?: { Prefix?: string };
  Prefix?: string;
  Expiration?: { Days?: number };
}

const DAY_MS = 86_400_000;

/**
 * S3. Bucket names are global to all accounts and regions (one map), each bucket lives in one
 * region; configuration calls overwrite; DeleteBucket is refused with BucketNotEmpty while objects
 * exist; lifecycle expiration removes objects older than its Days. The canary's runs write their
 * artifacts here through `putArtifact`.
 */
export class FakeS3 extends FakeService {
  readonly service = 's3';
  readonly buckets = new Map<string, Bucket>();

  private bucket(region: string, name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b) throw awsError('NoSuchBucket', 'The specified bucket does not exist', 404);
    if (b.region !== region) {
      throw awsError(
        'PermanentRedirect',
        'The bucket you are attempting to access must be addressed using the specified endpoint.',
        301,
      );
    }
    this.expire(b);
    return b;
  }

  /** Lifecycle expiration (AWS runs it asynchronously; here it is applied whenever the bucket is read). */
  private expire(b: Bucket): void {
    for (const rule of b.lifecycle?.Rules ?? []) {
      const days = rule.Expiration?.Days;
      if (rule.Status !== 'Enabled' || !days) continue;
      const prefix = rule.Filter?.Prefix ?? rule.Prefix ?? '';
      for (const [key, o] of b.objects) {
        if (key.startsWith(prefix) && o.lastModified + days * DAY_MS <= this.now()) b.objects.delete(key);
      }
    }
  }

  /** A canary run writing its report (no-op when the bucket is gone, as the run would just fail to upload). */
  putArtifact(region: string, name: string, key: string, size = 1024): boolean {
    const b = this.buckets.get(name);
    if (!b || b.region !== region) return false;
    b.objects.set(key, { Key: key, Size: size, lastModified: this.now(), ETag: `"${this.id('')}"` });
    return true;
  }

  CreateBucket(
    region: string,
    input: { Bucket: string; CreateBucketConfiguration?: { LocationConstraint?: string } },
  ) {
    const name = input.Bucket;
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes('..')) {
      throw awsError('InvalidBucketName', 'The specified bucket is not valid.');
    }
    const constraint = input.CreateBucketConfiguration?.LocationConstraint;
    // Outside us-east-1 the LocationConstraint must name the client's region
    // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html).
    if (
      region === 'us-east-1' ? constraint !== undefined && constraint !== 'us-east-1' : constraint !== region
    ) {
      throw awsError(
        'IllegalLocationConstraintException',
        `The ${constraint ?? 'unspecified'} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      );
    }
    const existing = this.buckets.get(name);
    if (existing) {
      // us-east-1 answers 200 for a bucket you already own there (legacy behaviour); elsewhere 409.
      if (region === 'us-east-1' && existing.region === region) return { Location: `/${name}` };
      throw awsError(
        'BucketAlreadyOwnedByYou',
        'Your previous request to create the named bucket succeeded and you already own it.',
        409,
      );
    }
    this.buckets.set(name, { Name: name, region, createdAt: this.now(), objects: new Map() });
    return { Location: `/${name}` };
  }

  HeadBucket(region: string, input: { Bucket: string }) {
    const b = this.buckets.get(input.Bucket);
    // HeadBucket has no body, so the SDK can only name the error by its status.
    if (!b) throw awsError('NotFound', 'Not Found', 404);
    return { BucketRegion: b.region };
  }

  GetBucketLocation(region: string, input: { Bucket: string }) {
    const b = this.buckets.get(input.Bucket);
    if (!b) throw awsError('NoSuchBucket', 'The specified bucket does not exist', 404);
    return { LocationConstraint: b.region === 'us-east-1' ? undefined : b.region };
  }

  PutPublicAccessBlock(
    region: string,
    input: { Bucket: string; PublicAccessBlockConfiguration: Record<string, boolean> },
  ) {
    this.bucket(region, input.Bucket).publicAccessBlock = { ...input.PublicAccessBlockConfiguration };
    return {};
  }

  GetPublicAccessBlock(region: string, input: { Bucket: string }) {
    const b = this.bucket(region, input.Bucket);
    if (!b.publicAccessBlock) {
      throw awsError(
        'NoSuchPublicAccessBlockConfiguration',
        'The public access block configuration was not found',
        404,
      );
    }
    return { PublicAccessBlockConfiguration: { ...b.publicAccessBlock } };
  }

  PutBucketEncryption(region: string, input: { Bucket: string; ServerSideEncryptionConfiguration: unknown }) {
    const rules = (input.ServerSideEncryptionConfiguration as { Rules?: unknown[] } | undefined)?.Rules;
    if (!rules?.length) throw awsError('MalformedXML', 'The XML you provided was not well-formed.');
    this.bucket(region, input.Bucket).encryption = input.ServerSideEncryptionConfiguration;
    return {};
  }

  GetBucketEncryption(region: string, input: { Bucket: string }) {
    // Since January 2023 every bucket has SSE-S3 by default.
    return {
      ServerSideEncryptionConfiguration: this.bucket(region, input.Bucket).encryption ?? {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    };
  }

  PutBucketPolicy(region: string, input: { Bucket: string; Policy: string }) {
    const b = this.bucket(region, input.Bucket);
    let doc: { Statement?: Array<{ Effect?: string; Principal?: unknown; Condition?: unknown }> };
    try {
      doc = JSON.parse(input.Policy) as typeof doc;
    } catch {
      throw awsError('MalformedPolicy', "Policies must be valid JSON and the first byte must be '{'");
    }
    if (!Array.isArray(doc.Statement) || doc.Statement.length === 0) {
      throw awsError('MalformedPolicy', 'Missing required field Statement');
    }
    const isPublic = doc.Statement.some(
      (s) =>
        s.Effect === 'Allow' &&
        (s.Principal === '*' || JSON.stringify(s.Principal) === '{"AWS":"*"}') &&
        !s.Condition,
    );
    if (isPublic && b.publicAccessBlock?.BlockPublicPolicy) {
      throw awsError('AccessDenied', 'Access Denied', 403);
    }
    b.policy = input.Policy;
    return {};
  }

  GetBucketPolicy(region: string, input: { Bucket: string }) {
    const b = this.bucket(region, input.Bucket);
    if (!b.policy) throw awsError('NoSuchBucketPolicy', 'The bucket policy does not exist', 404);
    return { Policy: b.policy };
  }

  PutBucketLifecycleConfiguration(
    region: string,
    input: { Bucket: string; LifecycleConfiguration?: { Rules?: LifecycleRule[] } },
  ) {
    const rules = input.LifecycleConfiguration?.Rules ?? [];
    if (rules.length === 0) throw awsError('MalformedXML', 'The XML you provided was not well-formed.');
    for (const r of rules) {
      if (r.Status !== 'Enabled' && r.Status !== 'Disabled') {
        throw awsError('MalformedXML', 'The XML you provided was not well-formed.');
      }
      if (r.Filter === undefined && r.Prefix === undefined) {
        throw awsError('MalformedXML', 'The XML you provided was not well-formed.');
      }
    }
    this.bucket(region, input.Bucket).lifecycle = { Rules: rules };
    return {};
  }

  GetBucketLifecycleConfiguration(region: string, input: { Bucket: string }) {
    const b = this.bucket(region, input.Bucket);
    if (!b.lifecycle) {
      throw awsError('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', 404);
    }
    return { Rules: b.lifecycle.Rules };
  }

  PutBucketTagging(
    region: string,
    input: { Bucket: string; Tagging: { TagSet: Array<{ Key: string; Value: string }> } },
  ) {
    this.bucket(region, input.Bucket).tags = tagsToMap(input.Tagging.TagSet);
    return {};
  }

  GetBucketTagging(region: string, input: { Bucket: string }) {
    const b = this.bucket(region, input.Bucket);
    if (!b.tags || Object.keys(b.tags).length === 0) {
      throw awsError('NoSuchTagSet', 'The TagSet does not exist', 404);
    }
    return { TagSet: mapToTags(b.tags) };
  }

  /**
   * Conditional writes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html):
   * If-None-Match accepts only `*` and fails with 412 while the key exists; If-Match fails with 412
   * when the ETag differs and with 404 NoSuchKey when there is no object. Requests are served one
   * at a time here, so S3's 409 ConditionalRequestConflict (two in flight) never arises.
   */
  PutObject(
    region: string,
    input: {
      Bucket: string;
      Key: string;
      Body?: unknown;
      IfNoneMatch?: string;
      IfMatch?: string;
      ServerSideEncryption?: string;
    },
  ) {
    const b = this.bucket(region, input.Bucket);
    const existing = b.objects.get(input.Key);
    if (input.IfNoneMatch !== undefined) {
      if (input.IfNoneMatch !== '*') {
        throw awsError(
          'NotImplemented',
          'A header you provided implies functionality that is not implemented',
          501,
        );
      }
      if (existing) throw preconditionFailed();
    }
    if (input.IfMatch !== undefined) {
      if (!existing) throw awsError('NoSuchKey', 'The specified key does not exist.', 404);
      if (input.IfMatch !== '*' && input.IfMatch !== existing.ETag) throw preconditionFailed();
    }
    const body =
      typeof input.Body === 'string'
        ? input.Body
        : input.Body instanceof Uint8Array
          ? Buffer.from(input.Body).toString('utf8')
          : undefined;
    const sse = input.ServerSideEncryption ?? defaultSse(b.encryption);
    const o: S3Object = {
      Key: input.Key,
      Size: body === undefined ? 0 : Buffer.byteLength(body),
      lastModified: this.now(),
      // With SSE-KMS the ETag is not the MD5 of the data.
      ETag: body !== undefined && !sse.startsWith('aws:kms') ? md5Etag(body) : `"${this.id('')}"`,
      ServerSideEncryption: sse,
      ...(body !== undefined ? { body } : {}),
    };
    b.objects.set(input.Key, o);
    return { ETag: o.ETag, ServerSideEncryption: sse };
  }

  /**
   * A missing key is 404 only to a caller allowed s3:ListBucket on the bucket, else 403 AccessDenied
   * ("If the object that you request doesn't exist, the error that Amazon S3 returns depends on
   * whether you also have the s3:ListBucket permission",
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
   */
  private missing(region: string, bucket: string, command: string, notFound: () => Error): Error {
    const listable = this.cloud.authorizer.allows('s3', command, region, {
      action: 's3:ListBucket',
      resource: `arn:aws:s3:::${bucket}`,
    });
    return listable ? notFound() : awsError('AccessDenied', 'Access Denied', 403);
  }

  GetObject(region: string, input: { Bucket: string; Key: string; IfMatch?: string }) {
    const o = this.bucket(region, input.Bucket).objects.get(input.Key);
    if (!o)
      throw this.missing(region, input.Bucket, 'GetObject', () =>
        awsError('NoSuchKey', 'The specified key does not exist.', 404),
      );
    if (input.IfMatch !== undefined && input.IfMatch !== '*' && input.IfMatch !== o.ETag)
      throw preconditionFailed();
    return {
      // The SDK hands back a stream with transformToString(); the fake's answers are cloned, so bytes.
      Body: new Uint8Array(Buffer.from(o.body ?? '')),
      ETag: o.ETag,
      ContentLength: o.Size,
      LastModified: new Date(o.lastModified),
      ServerSideEncryption: o.ServerSideEncryption,
    };
  }

  HeadObject(region: string, input: { Bucket: string; Key: string }) {
    const o = this.bucket(region, input.Bucket).objects.get(input.Key);
    // HEAD has no body: the SDK names the error by its status.
    if (!o)
      throw this.missing(region, input.Bucket, 'HeadObject', () => awsError('NotFound', 'Not Found', 404));
    return { ETag: o.ETag, ContentLength: o.Size, LastModified: new Date(o.lastModified) };
  }

  /**
   * Deleting a missing key succeeds (204) unless If-Match is sent: then 404 NoSuchKey; a different
   * ETag is 412 (conditional deletes on general purpose buckets, Sep 2025:
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html).
   */
  DeleteObject(region: string, input: { Bucket: string; Key: string; IfMatch?: string }) {
    const b = this.bucket(region, input.Bucket);
    const o = b.objects.get(input.Key);
    if (input.IfMatch !== undefined) {
      if (!o) throw awsError('NoSuchKey', 'The specified key does not exist.', 404);
      if (input.IfMatch !== '*' && input.IfMatch !== o.ETag) throw preconditionFailed();
    }
    b.objects.delete(input.Key);
    return {};
  }

  /** An object's text (tests: the state on S3). */
  objectText(bucket: string, key: string): string | undefined {
    return this.buckets.get(bucket)?.objects.get(key)?.body;
  }

  ListObjectsV2(
    region: string,
    input: { Bucket: string; Prefix?: string; ContinuationToken?: string; MaxKeys?: number },
  ) {
    const b = this.bucket(region, input.Bucket);
    const keys = [...b.objects.keys()].filter((k) => k.startsWith(input.Prefix ?? '')).sort();
    const { items, next } = page(
      this.cloud,
      keys,
      { token: input.ContinuationToken, limit: input.MaxKeys },
      {
        command: `ListObjectsV2/${b.Name}`,
        defaultSize: 1000,
        maxSize: 1000,
        key: (k) => k,
        badToken: { name: 'InvalidArgument' },
      },
    );
    return {
      Name: b.Name,
      Prefix: input.Prefix,
      KeyCount: items.length,
      MaxKeys: Math.min(input.MaxKeys ?? 1000, 1000),
      IsTruncated: next !== undefined,
      NextContinuationToken: next,
      Contents: items.length
        ? items.map((k) => ({
            Key: k,
            Size: b.objects.get(k)!.Size,
            LastModified: new Date(b.objects.get(k)!.lastModified),
          }))
        : undefined,
    };
  }

  DeleteObjects(
    region: string,
    input: { Bucket: string; Delete: { Objects: Array<{ Key: string }>; Quiet?: boolean } },
  ) {
    const b = this.bucket(region, input.Bucket);
    if (input.Delete.Objects.length > 1000)
      throw awsError('MalformedXML', 'The XML you provided was not well-formed.');
    for (const o of input.Delete.Objects) b.objects.delete(o.Key);
    return { Deleted: input.Delete.Quiet ? undefined : input.Delete.Objects.map((o) => ({ Key: o.Key })) };
  }

  DeleteBucket(region: string, input: { Bucket: string }) {
    const b = this.bucket(region, input.Bucket);
    if (b.objects.size > 0) {
      throw awsError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409);
    }
    this.buckets.delete(b.Name);
    return {};
  }

  snapshot(): string[] {
    const out: string[] = [];
    for (const b of this.buckets.values()) {
      out.push(`s3/${b.region}/bucket/${b.Name}`);
    }
    return out;
  }
}

const preconditionFailed = () =>
  awsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412);

/** What a write without an SSE header gets: the bucket default (SSE-S3 unless configured). */
function defaultSse(encryption: unknown): string {
  const rules = (
    encryption as { Rules?: Array<{ ApplyServerSideEncryptionByDefault?: { SSEAlgorithm?: string } }> }
  )?.Rules;
  return rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm ?? 'AES256';
}
