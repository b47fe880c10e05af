import { z } from 'zod';
import { AWS_REGIONS, closest } from './regions.js';

// The config's network fields: CIDR blocks, regions, and each region's block (`primary`,
// `secondary`), including the network a team brings (issue 25: an existing VPC, its subnets, an
// existing execute-api endpoint).

export function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((base & mask) >>> 0 !== base) return undefined; // host bits set: "10.0.0.1/16"
  return { base, prefix };
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y) return false;
  const prefix = Math.min(x.prefix, y.prefix);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return (x.base & mask) >>> 0 === (y.base & mask) >>> 0;
}

const vpcCidr = z.string().refine(
  (c) => {
    const p = parseCidr(c);
    // VPC CIDRs are /16 to /28; the template carves four /24-or-smaller subnets, so /16-/22.
    return p !== undefined && p.prefix >= 16 && p.prefix <= 22;
  },
  { message: 'must be an IPv4 CIDR block from /16 to /22 with no host bits set, like 10.0.0.0/16' },
);

const region = z.string().superRefine((r, ctx) => {
  if (AWS_REGIONS.includes(r)) return;
  const guess = closest(r, AWS_REGIONS);
  ctx.addIssue({
    code: 'custom',
    message: `${JSON.stringify(r)} is not an AWS region${guess ? ` (did you mean ${guess}?)` : ''}; known regions: ${AWS_REGIONS.join(', ')}`,
  });
});

/** `primary` or `secondary`: each field defaults on its own, so `{"region": "eu-west-1"}` is enough. */
export const regionSchema = (defaults: { region: string; vpcCidr: string }) =>
  z
    .object({
      region: region.default(defaults.region).describe('AWS region'),
      vpcCidr: vpcCidr
        .default(defaults.vpcCidr)
        .describe('the VPC CIDR (/16 to /22); must not overlap the other region'),
      // The network comes from the user (issue 25): drctl checks these exist, in this region,
      // before anything is made, and never deletes or changes them.
      vpcId: z
        .string()
        .regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id like vpc-0123abcd')
        .optional()
        .describe(
          'an existing VPC to use instead of making one (no VPC stack); with `subnetIds`. `vpcCidr` must then be its CIDR',
        ),
      subnetIds: z
        .array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id like subnet-0123abcd'))
        .min(1)
        .optional()
        .describe("with `vpcId`: that VPC's private subnets the endpoint, canary and probe use"),
      endpointId: z
        .string()
        .regex(/^vpce-[0-9a-f]+$/, 'must be a VPC endpoint id like vpce-0123abcd')
        .optional()
        .describe('an existing execute-api interface endpoint (private DNS on) to use instead of making one'),
    })
    .superRefine((r, ctx) => {
      // Subnets name a VPC's subnets: without the VPC they mean nothing, and a used VPC needs them.
      if (r.subnetIds && !r.vpcId)
        ctx.addIssue({
          code: 'custom',
          path: ['subnetIds'],
          message: 'needs vpcId: the VPC these subnets are in',
        });
      if (r.endpointId && !r.vpcId)
        ctx.addIssue({
          code: 'custom',
          path: ['endpointId'],
          message: 'needs vpcId: an existing endpoint is in an existing VPC, not in the one drctl would make',
        });
      if (r.vpcId && !r.subnetIds)
        ctx.addIssue({
          code: 'custom',
          path: ['subnetIds'],
          message:
            "required with vpcId: the VPC's private subnets drctl puts its endpoint, canary and probe in",
        });
    })
    .strict()
    .prefault({});
