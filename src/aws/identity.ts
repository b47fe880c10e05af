import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AwsStepError, type ErrorCode, UsageError, errorMessage } from '../errors/errors.js';
import type { AwsClients } from './clients.js';
import { CREDENTIAL_CODES, awsCode, isAwsError } from './errors.js';

// Who pays: one STS GetCallerIdentity before a command that calls AWS. It needs no permission
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html), so it fails only
// when the credentials do: missing, expired, or not valid. That is one message here, before any
// step runs, instead of one per step and region.

export interface CallerIdentity {
  account: string;
  /** The principal: an IAM user, an assumed role's session (SSO included), or the root. */
  arn: string;
}

export interface CredentialSource {
  /** The profile in use, and where its name came from. */
  profile: string;
  from: '--profile' | 'AWS_PROFILE' | 'default';
  env: NodeJS.ProcessEnv;
}

export async function callerIdentity(
  aws: AwsClients,
  region: string,
  source: CredentialSource,
): Promise<CallerIdentity> {
  try {
    const r = await aws.client(STSClient, region).send(new GetCallerIdentityCommand({}));
    return { account: r.Account ?? '?', arn: r.Arn ?? '?' };
  } catch (e) {
    const creds = credentialsError(e, source);
    if (creds) throw creds;
    if (!isAwsError(e)) throw e;
    // Not a credentials problem (a 5xx, a refusal): name the call, so it is not taken for a bug.
    throw new AwsStepError(`STS GetCallerIdentity in ${region}: ${e.name}: ${e.message}`, {
      region,
      resource: 'caller identity',
      awsCode: awsCode(e),
      cause: e,
      resolution:
        'Nothing was changed. Run the same command again; if it persists, check the AWS Health Dashboard.',
    });
  }
}

/** Part-way through a command: how far it got, for the message that ends it. */
export interface CredentialsStop {
  command: string;
  /** Steps finished and recorded before the credentials stopped working. */
  done: number;
  /** Steps cut short or not started: recorded as they were, so the same command resumes them. */
  notDone: number;
}

/**
 * The one message for credentials that are missing or no longer valid; undefined for anything
 * else. `stop`: they stopped working part-way through a command (the check before it passed).
 */
export function credentialsError(
  e: unknown,
  source: CredentialSource,
  stop?: CredentialsStop,
): UsageError | undefined {
  // A step may wrap the SDK's error in its own: the message is about the SDK's.
  for (
    let depth = 0;
    e instanceof Error && !isCredentialsCode(e) && e.cause !== undefined && depth < 5;
    depth++
  )
    e = e.cause;
  const code = (e instanceof Error && e.name) || awsCode(e) || '';
  const text = errorMessage(e);
  if (!isCredentialsCode(e)) return undefined;
  const { profile, from, env } = source;
  const named = from === 'default' ? 'the default profile' : `profile "${profile}" (from ${from})`;
  const flag = from === 'default' ? '' : ` --profile ${profile}`;
  const files = sharedFiles(env);
  const tried =
    from === 'default'
      ? `the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), ${files.config} and ${files.credentials} (keys, SSO, credential_process, role), a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE), container credentials, the EC2 instance metadata service`
      : `profile ${profile} in ${files.config} and ${files.credentials} (keys, SSO, credential_process, role); a named profile skips the AWS_ACCESS_KEY_ID variables`;
  const profiles = knownProfiles(files);
  let what: string;
  let todo: string;
  let kind: ErrorCode = 'credentials.missing';
  if (from !== 'default' && profiles && !profiles.includes(profile)) {
    what = `${named} does not exist`;
    todo = `${profiles.length ? `Profiles there: ${profiles.join(', ')}. ` : ''}Pass one of them with --profile, or create it: \`aws configure --profile ${profile}\` (access keys) or \`aws configure sso --profile ${profile}\`.`;
  } else if (/sso/i.test(text)) {
    kind = 'credentials.expired';
    what = `the SSO session of ${named} is missing or expired`;
    todo = `Run \`aws sso login --profile ${profile}\`, then the same drctl command again.`;
  } else if (/Expired/i.test(code) || /expired/i.test(text)) {
    kind = 'credentials.expired';
    what = `the credentials of ${named} have expired`;
    todo = `Get new ones: \`aws sso login${flag}\` for an SSO profile, \`aws configure${flag}\` for access keys; or pass another --profile.`;
  } else if (code === 'CredentialsProviderError' || code === 'TokenProviderError') {
    what = `no AWS credentials found for ${named}`;
    todo =
      from === 'default'
        ? 'Run `aws configure` (access keys), or `aws configure sso` and `aws sso login --profile <name>`, then pass `--profile <name>` (or set AWS_PROFILE).'
        : `Give profile ${profile} credentials: \`aws configure --profile ${profile}\`, or \`aws sso login --profile ${profile}\` if it is an SSO profile; or pass another --profile.`;
  } else {
    kind = 'credentials.invalid';
    what = `AWS refused the credentials of ${named} (${code})`;
    todo = `The access key is not valid (deleted, deactivated or mistyped): \`aws configure${flag}\` with a current key, or pass another --profile.`;
  }
  if (stop) {
    const { command, done, notDone } = stop;
    return new UsageError(
      `${what.replace(/ is missing or expired$/, ' has expired')} during \`${command}\`: ${done} step(s) done and recorded, ${notDone} not done (none marked failed)\n  the SDK said: ${text}`,
      {
        field: 'credentials',
        code: kind,
        resolution: `${todo.replace(/, then the same drctl command again\.$/, '.')} Then run \`drctl ${command}\` again: it resumes with the ${notDone} step(s) not done.`,
        cause: e,
      },
    );
  }
  return new UsageError(`${what}; nothing was changed.\n  tried: ${tried}\n  the SDK said: ${text}`, {
    field: 'credentials',
    code: kind,
    resolution: todo,
    cause: e,
  });
}

function isCredentialsCode(e: unknown): boolean {
  return (e instanceof Error && CREDENTIAL_CODES.has(e.name)) || CREDENTIAL_CODES.has(awsCode(e) ?? '');
}

function sharedFiles(env: NodeJS.ProcessEnv): { config: string; credentials: string } {
  return {
    config: env.AWS_CONFIG_FILE ?? '~/.aws/config',
    credentials: env.AWS_SHARED_CREDENTIALS_FILE ?? '~/.aws/credentials',
  };
}

/**
 * The profile names in the shared files (`[profile x]` or `[default]` in config, `[x]` in
 * credentials: https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html); undefined when
 * neither can be read, so "does not exist" is said only when drctl saw the files.
 */
function knownProfiles(files: { config: string; credentials: string }): string[] | undefined {
  const names = new Set<string>();
  let read = false;
  for (const [path, isConfig] of [
    [files.config, true],
    [files.credentials, false],
  ] as const) {
    let text: string;
    try {
      text = readFileSync(path.replace(/^~(?=\/)/, homedir()), 'utf8');
    } catch {
      continue;
    }
    read = true;
    for (const m of text.matchAll(/^\s*\[\s*([^\]]+?)\s*\]/gm)) {
      const section = m[1]!;
      if (!isConfig) names.add(section);
      else if (section === 'default') names.add('default');
      else if (section.startsWith('profile ')) names.add(section.slice('profile '.length).trim());
    }
  }
  return read ? [...names].sort() : undefined;
}

export function credentialSource(profile: string | undefined, env: NodeJS.ProcessEnv): CredentialSource {
  if (profile) return { profile, from: '--profile', env };
  if (env.AWS_PROFILE) return { profile: env.AWS_PROFILE, from: 'AWS_PROFILE', env };
  return { profile: 'default', from: 'default', env };
}

export function banner(id: CallerIdentity, source: CredentialSource, regions: readonly string[]): string {
  const via = source.from === 'default' ? '' : `, profile ${source.profile}`;
  return `AWS account ${id.account} as ${id.arn}${via}; regions ${regions[0]} (primary) and ${regions[1]} (secondary)`;
}
