import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import {
  CANARY_CA_PATH,
  CANARY_HANDLER,
  CANARY_SCRIPT,
  CANARY_SCRIPT_PATH,
} from '../../assets/canary-script.js';
import { fingerprint } from '../../aws/resources/fingerprint.js';
import { healthPathOf } from '../../config/api-source.js';
import { ARTIFACT_PREFIX, type Ctx, accountOf } from './common.js';

// What a canary is made from: its settings, its code zip and their fingerprint.

const RUN_TIMEOUT_S = 30;
const PROBE_TIMEOUT_MS = 10_000;
/**
 * The PetStore's GET /health MOCK answers {"status":"ok","region":"<region>"}
 * (src/assets/petstore-openapi.ts); a user's file names its own path (config api.healthPath).
 */
export const probePathOf = (ctx: Pick<Ctx, 'config'>) => healthPathOf(ctx.config.api);
// A zip is stamped with file times: a fixed one keeps the code (and its hash) the same every run.
const ZIP_MTIME = new Date('2020-01-01T00:00:00Z');

export interface CanarySpec {
  name: string;
  roleArn: string;
  bucketName: string;
  /** <host>.<domain>: SNI and Host of the call. */
  host: string;
  probeUrl: string;
  probeVia: string;
  /** The region's private root CA certificate ('' with config.certificateArn: Node's roots only). */
  caPem: string;
  subnetIds: string[];
  securityGroupIds: string[];
}

/** The script and, beside it, the CA certificates it trusts. */
function canaryZip(s: CanarySpec): Uint8Array {
  return zipSync({
    [CANARY_SCRIPT_PATH]: [strToU8(CANARY_SCRIPT), { mtime: ZIP_MTIME }],
    [CANARY_CA_PATH]: [strToU8(s.caPem), { mtime: ZIP_MTIME }],
  });
}

/** The region's root CA certificate as the ca step wrote it (none for a region given certificateArn). */
export function caPemOf(ctx: Ctx): string {
  const path = join(ctx.paths.ca, `${ctx.region}.pem`);
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function artifactLocation(ctx: Ctx, s: CanarySpec): string {
  return `s3://${s.bucketName}/${ARTIFACT_PREFIX}/${ctx.region}/${s.name}`;
}

/** Everything a canary is made from: a tag with this hash tells a re-run it needs no change. */
export function canarySha(ctx: Ctx, s: CanarySpec): string {
  return fingerprint({
    script: fingerprint(CANARY_SCRIPT),
    ca: fingerprint(s.caPem),
    handler: CANARY_HANDLER,
    probeUrl: s.probeUrl,
    probeVia: s.probeVia,
    region: ctx.region,
    roleArn: s.roleArn,
    artifacts: artifactLocation(ctx, s),
    retentionDays: ctx.config.canary.artifactExpiryDays,
    subnets: [...s.subnetIds].sort(),
    groups: [...s.securityGroupIds].sort(),
  });
}

/** Everything CreateCanary and UpdateCanary both take: all of a canary but its name, runtime and tags. */
export function canarySettings(ctx: Ctx, s: CanarySpec) {
  const retention = Math.min(ctx.config.canary.artifactExpiryDays, 455);
  return {
    Code: { Handler: CANARY_HANDLER, ZipFile: canaryZip(s) },
    ArtifactS3Location: artifactLocation(ctx, s),
    ExecutionRoleArn: s.roleArn,
    // Every minute, until stopped (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryScheduleInput.html).
    Schedule: { Expression: 'rate(1 minute)', DurationInSeconds: 0 },
    RunConfig: {
      TimeoutInSeconds: RUN_TIMEOUT_S,
      EnvironmentVariables: {
        PROBE_HOST: s.host,
        PROBE_VIA: s.probeVia,
        PROBE_PATH: probePathOf(ctx),
        EXPECTED_REGION: ctx.region,
        PROBE_TIMEOUT_MS: String(PROBE_TIMEOUT_MS),
      },
    },
    SuccessRetentionPeriodInDays: retention,
    FailureRetentionPeriodInDays: retention,
    VpcConfig: { SubnetIds: s.subnetIds, SecurityGroupIds: s.securityGroupIds },
  };
}

/** The canary's ARN, in the role's partition and account (GetCanary does not return it). */
export function canaryArn(ctx: Ctx, s: CanarySpec): string {
  const partition = /^arn:(aws[a-z-]*):/.exec(s.roleArn)?.[1] ?? 'aws';
  return `arn:${partition}:synthetics:${ctx.region}:${accountOf(s.roleArn)}:canary:${s.name}`;
}
