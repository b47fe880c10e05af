import { UsageError, type ExitCode } from '../errors/errors.js';
import type { IamPolicyResult } from '../io/results.js';
import { isS3Location, parseS3Location } from '../state/location.js';
import type { Session } from '../cli/session.js';

// `drctl iam-policy [--account] [--part] [--read-only]`: the least-privilege policy, no AWS call.

export interface IamPolicyArgs {
  account?: string;
  part?: string;
  readOnly: boolean;
}

export async function run(s: Session, args: IamPolicyArgs): Promise<ExitCode> {
  const { iamPolicy, splitPolicy, MANAGED_POLICY_MAX_CHARS } = await import('../iam/policy.js');
  const { account } = args;
  if (account !== undefined && !/^\d{12}$/.test(account))
    throw new UsageError(`--account must be a 12-digit AWS account id, not "${account}"`, {
      field: '--account',
    });
  const stateS3 = isS3Location(s.statePath) ? parseS3Location(s.statePath) : undefined;
  const parts = splitPolicy(iamPolicy(s.config, { account, stateS3, readOnly: !!args.readOnly }));
  const part = args.part === undefined ? undefined : Number(args.part);
  if (part !== undefined && !(Number.isInteger(part) && part >= 1 && part <= parts.length))
    throw new UsageError(`--part must be a number from 1 to ${parts.length}`, { field: '--part' });
  if (s.opts.json) {
    s.reporter.result({
      ok: true,
      command: 'iam-policy',
      account: account ?? '*',
      policies: parts,
    } satisfies IamPolicyResult);
    return 0;
  }
  const doc = part ? parts[part - 1] : parts.length === 1 ? parts[0] : parts;
  s.deps.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  if (!part && parts.length > 1)
    s.deps.stderr.write(
      `# ${parts.length} policy documents (a customer managed policy holds ${MANAGED_POLICY_MAX_CHARS} characters): ` +
        `attach all of them; \`drctl iam-policy --part N\` prints document N alone\n`,
    );
  return 0;
}
