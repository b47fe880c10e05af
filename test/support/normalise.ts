/**
 * A cloud snapshot with the ids AWS picks (UUIDs, vpc-…, rtb-…, zone and API ids) replaced by
 * placeholders, sorted: two runs that made the same resources, each as often, compare equal.
 */
export function normalised(snapshot: readonly string[]): string[] {
  return snapshot
    .map((line) =>
      line
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID')
        .replace(/\b(?=[0-9A-Za-z]*\d)[0-9A-Za-z]{8,}\b/g, 'ID'),
    )
    .sort();
}

/** Lines present more often in `a` than in `b` (a multiset difference), for readable failures. */
export function extra(a: readonly string[], b: readonly string[]): string[] {
  const left = [...b];
  return a.filter((x) => {
    const i = left.indexOf(x);
    if (i === -1) return true;
    left.splice(i, 1);
    return false;
  });
}
