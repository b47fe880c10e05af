/**
 * Ownership tags on everything drctl makes. `down --discover` and adoption after a crash rely on
 * them, and `down` never deletes a resource that carries neither these tags nor a state record.
 */
export const TAG_DEPLOYMENT = 'drctl:deployment';
export const TAG_STEP = 'drctl:step';
export const TAG_REGION = 'drctl:region';

export interface Tag {
  Key: string;
  Value: string;
}

export function ownershipTags(deployment: string, step: string, region: string): Tag[] {
  return [
    { Key: TAG_DEPLOYMENT, Value: deployment },
    { Key: TAG_STEP, Value: step },
    { Key: TAG_REGION, Value: region },
    { Key: 'Name', Value: `${deployment}-${step}` },
  ];
}

/** The same tags as a map, for the services that take `{key: value}` (API Gateway, Synthetics). */
export function tagMap(tags: Tag[]): Record<string, string> {
  return Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
}

export function tagValue(tags: ReadonlyArray<{ Key?: string; Value?: string }> | undefined, key: string) {
  return tags?.find((t) => t.Key === key)?.Value;
}

export function isOwnedBy(
  tags: ReadonlyArray<{ Key?: string; Value?: string }> | Record<string, string> | undefined,
  deployment: string,
): boolean {
  if (!tags) return false;
  if (Array.isArray(tags)) return tagValue(tags, TAG_DEPLOYMENT) === deployment;
  return (tags as Record<string, string>)[TAG_DEPLOYMENT] === deployment;
}
