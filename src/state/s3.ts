import {
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { type AwsClientFactoryOptions, AwsClients } from '../aws/clients.js';
import { awsCode } from '../aws/errors.js';
import { awsAdvice, awsErrorClass } from '../errors/aws.js';
import type { Clock } from '../lib/clock.js';
import type { EvidenceStore } from './evidence.js';
import { AwsStepError, UsageError, errorMessage } from '../errors/errors.js';
import { type StateBackend, type StoredText, WriteConflict } from './backend.js';
import { type LockAttempt, type LockInfo, isStale, parseLock } from './lock.js';
import type { S3Location } from './location.js';

// The state on S3, locked the way Terraform's S3 backend does with `use_lockfile`: the lock is an
// object `<key>.lock` created with If-None-Match: * (S3 refuses with 412 PreconditionFailed while it
// exists), and every state write carries If-Match: <the ETag read>, so a writer that bypassed the
// lock is refused instead of overwritten. Conditional writes on PutObject:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html (Aug/Nov 2024);
// conditional deletes: https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html.

type Sse = Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'>;

const PERMISSIONS =
  's3:GetObject, s3:PutObject and s3:DeleteObject on the key, <key>.lock and <key>.bak, and s3:ListBucket on the bucket (without it S3 answers a missing key with 403 instead of 404); s3:GetBucketLocation and s3:GetEncryptionConfiguration help';

/** The body of GetObject: a stream with transformToString from the SDK; bytes from some wrappers. */
async function bodyText(body: unknown): Promise<string> {
  const b = body as { transformToString?: (encoding?: string) => Promise<string> } | undefined;
  if (typeof b?.transformToString === 'function') return b.transformToString('utf8');
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  if (typeof body === 'string') return body;
  return '';
}

const code = (e: unknown) => awsCode(e) ?? '';
const isMissing = (e: unknown) => code(e) === 'NoSuchKey' || code(e) === 'NotFound';
/** 412: the precondition (If-None-Match / If-Match) did not hold. */
const isPrecondition = (e: unknown) => code(e) === 'PreconditionFailed';
/** 409: a concurrent conditional write to the same key was in flight; S3 says to retry. */
const isConcurrent = (e: unknown) => code(e) === 'ConditionalRequestConflict';

export class S3Backend implements StateBackend {
  readonly location: string;
  readonly backupLocation: string;
  readonly lockLocation: string;

  private constructor(
    private readonly where: S3Location,
    private readonly s3: S3Client,
    private readonly sse: Sse,
    private readonly clock: Clock,
    /** The bucket's region (`drctl failover` warns when it is the region traffic leaves). */
    readonly region?: string,
  ) {
    this.location = `s3://${where.bucket}/${where.key}`;
    this.backupLocation = `${this.location}.bak`;
    this.lockLocation = `${this.location}.lock`;
  }

  /**
   * Finds the bucket's region (s3://…?region= skips the lookup) and its default encryption: a bucket
   * whose default is SSE-KMS gets aws:kms on every write, so a policy requiring it is met.
   */
  static async create(
    where: S3Location,
    o: { aws: AwsClientFactoryOptions; clock: Clock; fallbackRegion: string },
  ): Promise<S3Backend> {
    const clients = new AwsClients({ clock: o.clock, ...o.aws });
    const location = `s3://${where.bucket}/${where.key}`;
    let region = where.region;
    if (!region) {
      // GetBucketLocation answers from the partition's us-east-1 endpoint for a bucket in any region.
      const lookup = o.fallbackRegion.startsWith('us-gov-')
        ? 'us-gov-west-1'
        : o.fallbackRegion.startsWith('cn-')
          ? 'cn-north-1'
          : 'us-east-1';
      try {
        const r = await clients
          .client(S3Client, lookup)
          .send(new GetBucketLocationCommand({ Bucket: where.bucket }));
        const c = r.LocationConstraint as string | undefined;
        region = !c ? 'us-east-1' : c === 'EU' ? 'eu-west-1' : c;
      } catch (e) {
        if (code(e) === 'NoSuchBucket') throw noBucket(location, where.bucket);
        if (awsErrorClass(code(e)).code !== 'aws.access-denied')
          throw s3Error(e, location, 'GetBucketLocation');
        region = o.fallbackRegion; // no s3:GetBucketLocation: assume the deployment's primary region
      }
    }
    const s3 = clients.client(S3Client, region);
    let sse: Sse = { ServerSideEncryption: 'AES256' };
    try {
      const r = await s3.send(new GetBucketEncryptionCommand({ Bucket: where.bucket }));
      const rule = r.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
      if (rule?.SSEAlgorithm === 'aws:kms' || rule?.SSEAlgorithm === 'aws:kms:dsse') {
        sse = {
          ServerSideEncryption: rule.SSEAlgorithm,
          ...(rule.KMSMasterKeyID ? { SSEKMSKeyId: rule.KMSMasterKeyID } : {}),
        };
      }
    } catch (e) {
      if (code(e) === 'NoSuchBucket') throw noBucket(location, where.bucket);
      // No s3:GetEncryptionConfiguration (or an S3 look-alike without it): SSE-S3 it is.
    }
    return new S3Backend(where, s3, sse, o.clock, region);
  }

  async read(): Promise<StoredText | undefined> {
    return this.get(this.where.key, 'read the state');
  }

  /**
   * Drill records and the last verify, under the state key's prefix (`team/prod.json` ->
   * `team/drills/...`), with the state's encryption. Listing needs s3:ListBucket on that prefix.
   */
  evidence(): EvidenceStore {
    const slash = this.where.key.lastIndexOf('/');
    const prefix = slash < 0 ? '' : this.where.key.slice(0, slash + 1);
    const bucket = this.where.bucket;
    return {
      where: (name) => `s3://${bucket}/${prefix}${name}`,
      put: async (name, text) => {
        await this.put(`${prefix}${name}`, text, {}, `keep ${name} beside the state`);
      },
      get: async (name) => (await this.get(`${prefix}${name}`, `read ${name}`))?.text,
      list: async (dir) => {
        const names: string[] = [];
        let token: string | undefined;
        do {
          let r;
          try {
            r = await this.s3.send(
              new ListObjectsV2Command({
                Bucket: bucket,
                Prefix: `${prefix}${dir}/`,
                ContinuationToken: token,
              }),
            );
          } catch (e) {
            throw s3Error(e, `s3://${bucket}/${prefix}${dir}/`, `list ${dir}`);
          }
          for (const o of r.Contents ?? [])
            if (o.Key?.endsWith('.json')) names.push(o.Key.slice(prefix.length));
          token = r.IsTruncated ? r.NextContinuationToken : undefined;
        } while (token);
        return names.sort();
      },
    };
  }

  async write(text: string, etag: string | undefined, previous: string | undefined): Promise<string> {
    let written: string | undefined;
    for (let attempt = 1; written === undefined; attempt++) {
      try {
        written = await this.put(
          this.where.key,
          text,
          etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag },
          'write the state',
        );
      } catch (e) {
        if (isConcurrent(e) && attempt < 5) {
          await this.clock.sleep(200 * attempt);
          continue;
        }
        if (!isPrecondition(e) && !isMissing(e)) throw e;
        // Our own earlier attempt may have landed (a retried 5xx): then the text is ours.
        const now = await this.read();
        if (now?.text !== text) throw new WriteConflict(this.location);
        written = now.etag;
      }
    }
    // After the write, so a refused write leaves the backup alone; a crash in between leaves it one
    // version older, which is still a consistent state.
    if (previous !== undefined) await this.put(`${this.where.key}.bak`, previous, {}, 'back up the state');
    return written;
  }

  async tryLock(info: LockInfo): Promise<LockAttempt> {
    const key = `${this.where.key}.lock`;
    let tookOver: LockInfo | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.put(key, JSON.stringify(info), { IfNoneMatch: '*' }, 'take the lock');
        return tookOver ? { acquired: true, tookOver } : { acquired: true };
      } catch (e) {
        if (!isPrecondition(e) && !isConcurrent(e)) throw e;
      }
      const held = await this.get(key, 'read the lock');
      const holder = held && parseLock(held.text);
      // Our own put landed before its answer was lost (a retried 5xx).
      if (held && holder?.id === info.id) return { acquired: true };
      if (attempt >= 3 || (held && !isStale(holder))) return { acquired: false, holder };
      // Stale (its process on this host is gone): remove it if it is still that lock, and retry.
      // Not held: released between our put and our read; retry.
      if (held) {
        await this.delete(key, held.etag).catch((e: unknown) => {
          if (!isPrecondition(e)) throw e;
        });
        tookOver = holder;
      }
    }
  }

  async unlock(info: LockInfo): Promise<void> {
    const key = `${this.where.key}.lock`;
    const held = await this.get(key, 'read the lock');
    // Gone, or someone ran `drctl unlock` and another drctl took the lock since: not ours to delete.
    if (!held || parseLock(held.text)?.id !== info.id) return;
    try {
      await this.delete(key, held.etag);
    } catch (e) {
      if (!isPrecondition(e)) throw e;
    }
  }

  async readLock(): Promise<LockInfo | undefined> {
    const held = await this.get(`${this.where.key}.lock`, 'read the lock');
    return held && parseLock(held.text);
  }

  async removeLock(id: string): Promise<boolean> {
    const key = `${this.where.key}.lock`;
    const held = await this.get(key, 'read the lock');
    if (!held || parseLock(held.text)?.id !== id) return false;
    try {
      // Only that version: a lock another drctl took since is left alone.
      await this.delete(key, held.etag);
      return true;
    } catch (e) {
      if (isPrecondition(e)) return false;
      throw e;
    }
  }

  private async get(key: string, what: string): Promise<StoredText | undefined> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: key }));
      return { text: await bodyText(r.Body), etag: r.ETag ?? '' };
    } catch (e) {
      if (isMissing(e)) return undefined;
      if (code(e) === 'NoSuchBucket') throw noBucket(this.location, this.where.bucket);
      throw s3Error(e, `s3://${this.where.bucket}/${key}`, what);
    }
  }

  private async put(
    key: string,
    text: string,
    condition: { IfNoneMatch?: string; IfMatch?: string },
    what: string,
  ): Promise<string> {
    try {
      const r = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.where.bucket,
          Key: key,
          Body: text,
          ContentType: 'application/json',
          ...this.sse,
          ...condition,
        }),
      );
      return r.ETag ?? '';
    } catch (e) {
      if (isPrecondition(e) || isConcurrent(e) || isMissing(e)) throw e;
      if (code(e) === 'NoSuchBucket') throw noBucket(this.location, this.where.bucket);
      throw s3Error(e, `s3://${this.where.bucket}/${key}`, what);
    }
  }

  /** Delete, only if still at `etag` when given. */
  private async delete(key: string, etag: string | undefined): Promise<void> {
    const input = { Bucket: this.where.bucket, Key: key };
    try {
      await this.s3.send(new DeleteObjectCommand(etag ? { ...input, IfMatch: etag } : input));
    } catch (e) {
      if (isMissing(e)) return;
      // An S3 look-alike without conditional deletes: the lock was read just before, delete it.
      if (etag && code(e) === 'NotImplemented') {
        await this.s3.send(new DeleteObjectCommand(input));
        return;
      }
      if (isPrecondition(e)) throw e;
      throw s3Error(e, `s3://${this.where.bucket}/${key}`, 'remove the lock');
    }
  }
}

function noBucket(location: string, bucket: string): UsageError {
  return new UsageError(`bucket ${bucket} of ${location} does not exist (or is in another account)`, {
    field: '--state',
    resolution: `Create it first (versioning on, public access blocked), e.g. \`aws s3api create-bucket --bucket ${bucket}\`, or fix the --state URL.`,
  });
}

function s3Error(e: unknown, resource: string, what: string): AwsStepError {
  const c = awsCode(e);
  return new AwsStepError(`could not ${what} at ${resource}: ${c ? `${c}: ` : ''}${errorMessage(e)}`, {
    resource,
    awsCode: c,
    cause: e,
    code: awsErrorClass(c).code,
    resolution: awsAdvice(c, 'state', PERMISSIONS),
  });
}

/** The evidence store beside an S3 state (src/state/evidence.ts). */
export async function s3Evidence(
  where: S3Location,
  o: { aws?: AwsClientFactoryOptions; clock?: Clock; region?: string },
): Promise<EvidenceStore> {
  const { realClock } = await import('../lib/clock.js');
  const backend = await S3Backend.create(where, {
    aws: o.aws ?? {},
    clock: o.clock ?? realClock,
    fallbackRegion: o.region ?? 'us-east-1',
  });
  return backend.evidence();
}
