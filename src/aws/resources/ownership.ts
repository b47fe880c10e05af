import { AwsStepError } from '../../errors/errors.js';
import { TAG_REGION, isOwnedBy, tagValue } from '../tags.js';

// "Is this resource ours?": drctl adopts, changes and deletes only what carries this deployment's
// ownership tags (aws/tags.ts) or what its state file records, and refuses a resource at one of
// its names that is neither. The steps asked this each in their own words; these are the words.

/** Tags as the SDKs answer them: a list of {Key, Value} (most) or a map (API Gateway, Lambda, Synthetics). */
export type AnyTags = Parameters<typeof isOwnedBy>[0];

/**
 * Who asks: the deployment a step works for and the region it works in. Structural (a StepContext
 * fits), so aws/ imports nothing from steps/.
 */
export interface Owner {
  readonly config: { readonly deployment: string };
  readonly region: string;
}

/** The tags say this deployment made it. */
export const isOurs = (owner: Pick<Owner, 'config'>, tags: AnyTags): boolean =>
  isOwnedBy(tags, owner.config.deployment);

/**
 * Ours, and made for the owner's region. For resources found by listing where the region tag is the
 * only tie to a region (CAs and certificates: a region's listing holds only its own, but a copy
 * or a hand-made one with our tags could name another).
 */
export function isOursHere(owner: Owner, tags: AnyTags): boolean {
  if (!isOurs(owner, tags) || !tags) return false;
  const region = Array.isArray(tags)
    ? tagValue(tags as ReadonlyArray<{ Key?: string; Value?: string }>, TAG_REGION)
    : (tags as Record<string, string>)[TAG_REGION];
  return region === owner.region;
}

/** Ours by tag, or by the state file's record (tags can be lost; the record is drctl's own word). */
export const isOursOrRecorded = (owner: Pick<Owner, 'config'>, tags: AnyTags, recorded: boolean): boolean =>
  recorded || isOurs(owner, tags);

/**
 * The refusal when a resource at one of drctl's names exists but is not this deployment's: drctl
 * never touches what it did not make. `what` names it ("custom domain api.example.com (PRIVATE)");
 * `regional: false` for global resources (IAM), whose message names no region.
 */
export function notOurs(
  owner: Owner,
  o: { what: string; resource: string; resolution: string; regional?: boolean },
): AwsStepError {
  const where = o.regional === false ? '' : ` in ${owner.region}`;
  return new AwsStepError(
    `${o.what}${where} exists but was not made by drctl deployment "${owner.config.deployment}"`,
    { resource: o.resource, resolution: `drctl never touches what it did not make: ${o.resolution}` },
  );
}

/**
 * The same refusal for a resource known by a name drctl chose (a role, a bucket, a function, a
 * canary): it names no region, and the way out is the name.
 */
export function notOursByName(owner: Pick<Owner, 'config'>, kind: string, name: string): AwsStepError {
  return new AwsStepError(
    `${kind} ${name} exists but was not made by drctl deployment "${owner.config.deployment}"`,
    { resource: name, resolution: `Delete or rename that ${kind}, or choose another \`deployment\` name.` },
  );
}
