import { createHash } from 'node:crypto';

// A resource's spec in 16 hex digits of SHA-256, kept in a tag on the resource (or in the state):
// a re-run that computes the same fingerprint knows the resource needs no change and makes no
// call. The digits are stored in AWS, so each step keeps the form it has always used: changing
// it would make every existing deployment's next run put its settings again.

/** The fingerprint of any JSON-able spec (of its JSON text). */
export const fingerprint = (spec: unknown): string => textFingerprint(JSON.stringify(spec));

/** The fingerprint of a text as it is (a policy document already in JSON). */
export const textFingerprint = (text: string): string =>
  createHash('sha256').update(text).digest('hex').slice(0, 16);
