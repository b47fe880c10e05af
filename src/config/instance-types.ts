/**
 * EC2 instance types drctl knows, for a "did you mean" on clientInstanceType. It is a warning,
 * not a refusal: EC2 adds families often and which types a region offers varies
 * (https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html), so refusing a
 * name missing here would block a valid new type; a typo is caught with a suggestion instead.
 */
const SMALL = ['nano', 'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge'];
const LARGE = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge'];

const FAMILIES: Array<[string[], string[]]> = [
  [['t2', 't3', 't3a', 't4g'], SMALL],
  [['m5', 'm5a', 'm6i', 'm6a', 'm7i', 'm7a', 'c5', 'c5a', 'c6i', 'c6a', 'c7i', 'c7a'], LARGE],
  [['r5', 'r5a', 'r6i', 'r6a', 'r7i', 'r7a'], LARGE],
  // Graviton (arm64) families also come in medium.
  [['m6g', 'm7g', 'm8g', 'c6g', 'c7g', 'c8g', 'r6g', 'r7g', 'r8g'], ['medium', ...LARGE]],
];

export const EC2_INSTANCE_TYPES: readonly string[] = FAMILIES.flatMap(([families, sizes]) =>
  families.flatMap((f) => sizes.map((s) => `${f}.${s}`)),
);
