import { loadConfig } from '../config/config.js';
import type { ExitCode } from '../errors/errors.js';
import { type BareSession, warnConfig } from '../cli/session.js';

// `drctl config [--print-defaults | --reference]`: runs before the state is located (a bad
// --state does not stop it), so it gets the bare session.

export interface ConfigArgs {
  printDefaults: boolean;
  reference: boolean;
}

export async function run(s: BareSession, args: ConfigArgs): Promise<ExitCode> {
  const { deps: d, opts } = s;
  const { configReference, printDefaults } = await import('../config/reference.js');
  if (args.reference) d.stdout.write(`${configReference()}\n`);
  else if (args.printDefaults) d.stdout.write(printDefaults());
  else {
    const { config, path, warnings } = loadConfig({ path: opts.config, cwd: d.cwd });
    warnConfig(warnings, s);
    if (!opts.json) d.stderr.write(`# ${path ?? 'no config file: the workshop defaults'}\n`);
    d.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
  }
  return 0;
}
