import type { AwsClients } from '../aws/clients.js';
import { isExistingApi } from '../config/api-source.js';
import type { Config } from '../config/config.js';
import type { State } from '../state/schema.js';
import { recordedOutputs } from '../state/outputs.js';
import { copyBehind } from '../steps/api.js';
import type { CloudFacts } from './cloud-facts.js';

// `plan --refresh` and `up`'s preview: the reads that tell what up would change that no config
// change shows. Loaded lazily (plain `plan` stays SDK-free: test/cli/plan-cost.test.ts); reads only,
// so the --read-only policy allows them.

/** Only a copy recorded as ready is compared: otherwise up creates or resumes it anyway. */
export async function readCloud(config: Config, state: State | undefined, aws: AwsClients): Promise<CloudFacts> {
  if (!isExistingApi(config.api) || !state) return {};
  const region = config.secondary.region;
  if (state.steps.api?.[region]?.status !== 'ready') return {};
  const copy = recordedOutputs(state, 'api', region)?.restApiId;
  if (!copy) return {};
  const behind = await copyBehind(aws, config, copy);
  return behind === undefined ? {} : { copyBehind: behind };
}
