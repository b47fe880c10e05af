import type { AwsClients } from '../aws/clients.js';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { unlessNotFound } from '../aws/errors.js';
import { stageDeployment } from '../aws/resources/existing-api.js';
import { type ExistingApiSource, type JsonObject, isExistingApi } from '../config/api-source.js';
import type { Config } from '../config/config.js';
import type { State } from '../state/schema.js';
import { recordedOutputs } from '../state/outputs.js';
import { copyBehind } from '../steps/api.js';
import type { CloudFacts } from './cloud-facts.js';

// `plan --refresh` and `up`'s preview: the reads that tell what up would change that no config
// change shows. Loaded lazily (plain `plan` stays SDK-free: test/cli/plan-cost.test.ts); reads only,
// so the --read-only policy allows them.

/**
 * Only a copy recorded as ready is compared: otherwise up creates or resumes it anyway (said as
 * such). The team's stage prod gone is a fact to say, not a failure of plan. `exported`: stage
 * prod's export when the caller read it already (up's checkExistingApi): the stage is there.
 */
export async function readCloud(
  config: Config,
  state: State | undefined,
  aws: AwsClients,
  exported?: JsonObject,
): Promise<CloudFacts> {
  if (!isExistingApi(config.api)) return {};
  const primary = aws.client(APIGatewayClient, config.primary.region);
  // The API itself gone is NotFound too: checkExistingApi names it when up runs.
  const stage =
    exported ??
    (await unlessNotFound(() => stageDeployment(primary, (config.api as ExistingApiSource).restApiId)));
  if (!stage) return { primaryStageGone: true };
  const region = config.secondary.region;
  const copy = state && recordedOutputs(state, 'api', region)?.restApiId;
  if (!state || state.steps.api?.[region]?.status !== 'ready' || !copy) return { copyNotReady: true };
  const behind = await copyBehind(aws, config, copy, exported);
  return behind === undefined ? {} : { copyBehind: behind };
}
