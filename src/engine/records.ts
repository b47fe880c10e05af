import { existsSync } from 'node:fs';
import type { z } from 'zod';
import { type Config, regionsOf } from '../config/config.js';
import { UsageError } from '../errors/errors.js';
import type { AnyStepImpl, StepName } from '../steps/types.js';
import { GLOBAL } from '../state/schema.js';
import type { StateStore } from '../state/store.js';

/**
 * The state's records against the loaded steps' `outputs` schemas, before anything runs: an
 * unknown step, a foreign region or a hand-edited id is a UsageError (exit 2) naming the field.
 * A record not yet ready (a crash mid-step) may lack fields.
 */
export function checkRecords(
  store: StateStore,
  modules: ReadonlyMap<StepName, AnyStepImpl>,
  config: Config,
): void {
  for (const [step, byScope] of Object.entries(store.state.steps)) {
    const impl = modules.get(step as StepName);
    if (!impl) {
      throw new UsageError(`unknown step "${step}" in the state file`, { field: `state.steps.${step}` });
    }
    for (const [scope, rec] of Object.entries(byScope)) {
      if (scope !== GLOBAL && !regionsOf(config).includes(scope)) {
        throw new UsageError(`region ${scope} is not one of this deployment's regions`, {
          field: `state.steps.${step}.${scope}`,
        });
      }
      const schema = rec.status === 'ready' ? impl.outputs : partialOf(impl.outputs);
      const parsed = schema.safeParse(rec.resources);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = ['state.steps', step, scope, 'resources', ...issue.path.map(String)].join('.');
        throw new UsageError(`${issue.message} (hand-edited?)`, {
          field,
          resolution: existsSync(`${store.path}.bak`)
            ? `Restore ${store.path}.bak, or correct ${field}.`
            : `Correct ${field}, or run \`drctl down --discover\` to find this deployment's resources by tag.`,
        });
      }
    }
  }
}

function partialOf(schema: z.ZodType): z.ZodType {
  const maybe = schema as unknown as { partial?: () => z.ZodType };
  return typeof maybe.partial === 'function' ? maybe.partial() : schema;
}
