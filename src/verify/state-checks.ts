import { withDefaults, regionsOf } from '../config/config.js';
import { recordedOutputs } from '../state/outputs.js';
import { GLOBAL } from '../state/schema.js';
import { UP, type VerifyCheck, fail, ok, warn } from './check.js';
import { configChanges } from './config-diff.js';

// Is it built, and is it what the config says: the checks of the state file itself.

export const stateComplete: VerifyCheck = {
  id: 'state',
  title: 'every step recorded as ready',
  run(ctx) {
    const regions = regionsOf(ctx.config);
    const notReady: string[] = [];
    for (const info of ctx.steps) {
      if (info.unusedWhen?.(ctx.config)) continue; // records nothing with this config
      for (const scope of info.scope === 'global' ? [GLOBAL] : regions) {
        const status = ctx.state.steps[info.name]?.[scope]?.status;
        if (status !== 'ready') notReady.push(`${info.name} ${scope} (${status ?? 'not done'})`);
      }
    }
    if (recordedOutputs(ctx.state, 'probe', GLOBAL)?.drill !== undefined)
      return Promise.resolve([
        fail(
          'state',
          'an interrupted failover drill is recorded: its fault may still be in place',
          'Run `drctl up` (or `drctl failover-test`): it puts the drill back first.',
        ),
      ]);
    return Promise.resolve(
      notReady.length
        ? [
            fail(
              'state',
              `not built: ${notReady.join(', ')}`,
              'Run `drctl up` (it resumes where it stopped).',
            ),
          ]
        : [ok('state', `every step of ${regions.join(' and ')} is recorded as ready`)],
    );
  },
};

export const resourcesExist: VerifyCheck = {
  id: 'resources',
  title: 'every recorded resource exists',
  async run(ctx) {
    const drift = (await ctx.missingResources()).filter((d) => d.missing.length);
    if (!drift.length) return [ok('resources', 'every recorded resource exists in AWS')];
    return drift.map((d) =>
      fail(
        'resources',
        `step ${d.step} ${d.scope}: gone from AWS: ${d.missing.join(', ')}`,
        UP,
        d.scope === GLOBAL ? undefined : d.scope,
      ),
    );
  },
};

export const configUnchanged: VerifyCheck = {
  id: 'config',
  title: 'the config is the one `up` built',
  run(ctx) {
    const applied = ctx.state.applied;
    if (!applied)
      return Promise.resolve([
        warn(
          'config',
          'no record of the config `up` built with (state written by an older drctl, or `up` never finished)',
          'Run `drctl up` once: it records the config it built.',
        ),
      ]);
    const changes = configChanges(withDefaults(applied.config), ctx.config);
    return Promise.resolve(
      changes.length
        ? [
            fail(
              'config',
              `changed since \`up\` (${applied.at}): ${changes.join('; ')}`,
              'Run `drctl up` to build what the config now says, or put the config back.',
            ),
          ]
        : [ok('config', `unchanged since \`up\` (${applied.at})`)],
    );
  },
};
