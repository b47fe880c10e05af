import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { UsageError } from '../errors/errors.js';
import { DEFAULT_STATE_PATH, isS3Location } from './location.js';
import { switchRecordSchema } from './switch-record.js';

// The state file's shape (zod schema and types) and how its text is read into a State: a corrupt,
// truncated, foreign or future file is a UsageError naming the field, and is left as it is.

export const STATE_VERSION = 1;
/** The key a global step (one per deployment, e.g. the hosted zone) is recorded under. */
export const GLOBAL = 'global';

const json: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);

const stepRecordSchema = z
  .object({
    /** creating: ids may be partial (a crash mid-step); ready: `up` finished and verified. */
    status: z.enum(['creating', 'ready', 'deleting']),
    updatedAt: z.iso.datetime(),
    resources: z.record(z.string(), json),
  })
  .strict();

export const stateSchema = z
  .object({
    version: z.literal(STATE_VERSION, {
      error: `unsupported state version (this drctl reads version ${STATE_VERSION})`,
    }),
    deployment: z.string().min(1),
    regions: z.object({ primary: z.string(), secondary: z.string() }).strict(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    steps: z.record(z.string(), z.record(z.string(), stepRecordSchema)),
    /**
     * The AWS account and partition the deployment lives in: recorded by the first command that
     * asked STS who the caller is; every command that calls AWS refuses credentials of another.
     */
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    partition: z.string().regex(/^aws[a-z-]*$/, 'must be an AWS partition like aws').optional(),
    /** The config the last complete `up` built with: `verify` says when the one in use differs. */
    applied: z
      .object({ at: z.iso.datetime(), config: z.record(z.string(), json) })
      .strict()
      .optional(),
    /** An incident switch that holds traffic away from a region (src/state/switch-record.ts). */
    switch: switchRecordSchema.optional(),
  })
  .strict();

export type StepRecord = z.infer<typeof stepRecordSchema>;
export type State = z.infer<typeof stateSchema>;

/**
 * The account (and partition) a state's resources live in: as recorded, else read from the first
 * ARN any step recorded (a state written before drctl recorded the account). ARN format:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html (an S3 or Route 53 ARN has
 * no account field, so it is skipped).
 */
export function accountOfState(state: Readonly<State>): { account: string; partition: string } | undefined {
  if (state.account) return { account: state.account, partition: state.partition ?? 'aws' };
  const m = /arn:(aws[a-z-]*):[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(JSON.stringify(state.steps));
  return m ? { account: m[2]!, partition: m[1]! } : undefined;
}

export function emptyState(config: Config, now = new Date()): State {
  return {
    version: STATE_VERSION,
    deployment: config.deployment,
    regions: { primary: config.primary.region, secondary: config.secondary.region },
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    steps: {},
  };
}

/** Parse, check the schema, and check it belongs to this config's deployment and regions. */
export function validate(text: string, location: string, config: Config): State {
  const state = parseState(text, location);
  if (state.deployment !== config.deployment) {
    throw new UsageError(
      `${location} belongs to deployment "${state.deployment}", but the config says "${config.deployment}"`,
      {
        field: 'deployment',
        resolution: 'Use the matching --config, or another --state path for this deployment.',
      },
    );
  }
  for (const role of ['primary', 'secondary'] as const) {
    if (state.regions[role] !== config[role].region) {
      throw new UsageError(
        `${location} was made for ${role} region ${state.regions[role]}, but the config says ${config[role].region}`,
        {
          field: `${role}.region`,
          resolution: 'Run `drctl down` with the old config first, or use another --state path.',
        },
      );
    }
  }
  return state;
}

/** `<path>.bak`, when a local one exists (named only then); an S3 backup is not looked up. */
function backupOf(path: string): string | undefined {
  if (isS3Location(path)) return undefined;
  return existsSync(`${path}.bak`) ? `${path}.bak` : undefined;
}

/** What a JSON file that is not drctl's state looks like, to say so instead of listing its fields. */
function foreignKind(raw: unknown): string | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  if ('terraform_version' in o || 'lineage' in o) return 'a Terraform state';
  if ('name' in o && ('dependencies' in o || 'scripts' in o || typeof o.version === 'string'))
    return 'a package.json';
  if (!('deployment' in o) && !('steps' in o)) return 'not a drctl state';
  return undefined;
}

const notDrctls = (path: string, what: string) =>
  new UsageError(`${path} is not a drctl state file (${what}); it was not changed`, {
    field: '--state',
    resolution: `Point --state at drctl's state file (default ${DEFAULT_STATE_PATH}), or at a path that does not exist yet for a new deployment.`,
  });

export function parseState(text: string, path: string): State {
  let raw: unknown;
  const bak = backupOf(path);
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // A file that does not even start like JSON is someone else's; a cut-off one is ours.
    if (text.trim() !== '' && !/^\s*[{[]/.test(text)) throw notDrctls(path, 'not JSON');
    throw new UsageError(`${path} is not valid JSON (truncated or corrupt?): ${(e as Error).message}`, {
      field: 'state',
      resolution: `${bak ? `Restore ${bak} (the previous version), or run` : 'Run'} \`drctl down --discover\` to find resources by tag.`,
    });
  }
  const foreign = foreignKind(raw);
  if (foreign) throw notDrctls(path, foreign);
  const parsed = stateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ['state', ...issue.path.map(String)].join('.');
    throw new UsageError(`${issue.message} (in ${path})`, {
      field,
      resolution: `The file was left untouched. ${bak ? `Restore ${bak}, or run` : 'Run'} \`drctl down --discover\` to find this deployment's resources by tag.`,
    });
  }
  return parsed.data;
}
