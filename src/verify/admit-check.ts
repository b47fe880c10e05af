import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { deployCommand, exportOf, policyAdmits, stageDeployment } from '../aws/resources/existing-api.js';
import { isExistingApi } from '../config/api-source.js';
import { recordedOutputs } from '../state/outputs.js';
import { type CheckLine, type VerifyCheck, fail, ok } from './check.js';

// Config `api: {"restApiId"}`: drctl adds a statement to the team's policy, and a policy takes
// effect only when the API is deployed again
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies-create-attach.html).
// Until then the primary refuses drctl's endpoint (403) and the canary fails over for nothing.

const ID = 'api-admits';

export const apiAdmits: VerifyCheck = {
  id: ID,
  title: "the team's API admits drctl's endpoint",
  async run(ctx) {
    const api = ctx.config.api;
    if (!isExistingApi(api)) return [];
    const region = ctx.config.primary.region;
    const rec = recordedOutputs(ctx.state, 'api', region);
    const vpce = recordedOutputs(ctx.state, 'endpoints', region)?.vpcEndpointId;
    // Not built yet: resourcesExist says so.
    if (!rec || !vpce) return [];
    const client = ctx.aws.client(APIGatewayClient, region);
    const current = await stageDeployment(client, api.restApiId);
    // The recorded fact: the stage still serves the deployment it served when drctl added its
    // statement, so the statement is not in effect whatever the export says.
    const waiting = rec.admitPendingDeployment !== undefined && rec.admitPendingDeployment === current;
    // The export is of the stage's deployment; its policy (when AWS includes it) is the one in force.
    const exported = current
      ? (await exportOf(client, api.restApiId))['x-amazon-apigateway-policy']
      : undefined;
    const denied = waiting || !current || (exported !== undefined && !policyAdmits(exported, vpce));
    const text = `primary REST API ${api.restApiId} admits drctl's endpoint ${vpce}`;
    if (!denied) return [ok(ID, text, region)];
    const fix =
      `Its policy takes effect when stage prod is deployed again: \`${deployCommand(api.restApiId, region)}\` ` +
      "(it ships the API's current definition), or set api.deploy to true and run `drctl up`.";
    const line: CheckLine = fail(ID, `${text}: not in the deployed policy`, fix, region);
    return [line];
  },
};
