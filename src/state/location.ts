import { UsageError } from '../errors/errors.js';

// Where the state lives, as the user names it with --state: a file path (default below) or
// s3://bucket/key[?region=r], checked before any AWS call.

export const DEFAULT_STATE_PATH = '.drctl/state.json';

export const isS3Location = (location: string) => location.startsWith('s3://');

export interface S3Location {
  bucket: string;
  key: string;
  region?: string;
}

// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
const BUCKET = /^(?!xn--|sthree-|amzn-s3-demo-)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

/** `s3://bucket/key[?region=r]`, checked before any AWS call. */
export function parseS3Location(url: string): S3Location {
  const bad = (message: string) =>
    new UsageError(`${message} (${url})`, {
      field: '--state',
      resolution: 'Give the state as s3://<bucket>/<key>, e.g. s3://my-team-state/drctl/prod.json.',
    });
  const m = /^s3:\/\/([^/?]*)(?:\/([^?]*))?(?:\?(.*))?$/.exec(url);
  if (!m) throw bad('not an s3://bucket/key URL');
  const [, bucket = '', key = '', query] = m;
  if (
    !BUCKET.test(bucket) ||
    bucket.includes('..') ||
    /^\d+\.\d+\.\d+\.\d+$/.test(bucket) ||
    bucket.endsWith('-s3alias')
  ) {
    throw bad(`"${bucket}" is not a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)`);
  }
  if (!key || key.endsWith('/')) throw bad('the state needs an object key after the bucket');
  if (Buffer.byteLength(key) > 1000) throw bad('the object key is too long');
  let region: string | undefined;
  for (const part of query ? query.split('&') : []) {
    const [name, value = ''] = part.split('=');
    if (name !== 'region' || !REGION.test(value))
      throw bad(`unknown or malformed parameter "${part}" (only region=<aws region>)`);
    region = value;
  }
  return region ? { bucket, key, region } : { bucket, key };
}
