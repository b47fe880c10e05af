import { FakeService, mapToTags, tagsToMap } from './cloud.js';
import { awsError } from './errors.js';

export interface S3Object {
  Key: string;
  Size: number;
  lastModified: number;
}

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
    b.objects.set(key, { Key: key, Size: size, lastModified: this.now() });
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

  PutObject(region: string, input: { Bucket: string; Key: string; Body?: unknown }) {
    const b = this.bucket(region, input.Bucket);
    const size = typeof input.Body === 'string' ? input.Body.length : 0;
    b.objects.set(input.Key, { Key: input.Key, Size: size, lastModified: this.now() });
    return { ETag: `"${this.id('')}"` };
  }

  ListObjectsV2(
    region: string,
    input: { Bucket: string; Prefix?: string; ContinuationToken?: string; MaxKeys?: number },
  ) {
    const b = this.bucket(region, input.Bucket);
    const max = Math.min(input.MaxKeys ?? 1000, 1000);
    const keys = [...b.objects.keys()].filter((k) => k.startsWith(input.Prefix ?? '')).sort();
    const start = input.ContinuationToken ? keys.findIndex((k) => k > input.ContinuationToken!) : 0;
    const page = start < 0 ? [] : keys.slice(start, start + max);
    const truncated = start >= 0 && start + max < keys.length;
    return {
      Name: b.Name,
      Prefix: input.Prefix,
      KeyCount: page.length,
      MaxKeys: max,
      IsTruncated: truncated,
      NextContinuationToken: truncated ? page[page.length - 1] : undefined,
      Contents: page.length
        ? page.map((k) => ({
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
