import { APIGatewayClient, GetRestApiCommand } from '@aws-sdk/client-api-gateway';
import {
  admitSid,
  hasAdmitStatement,
  deployCommand,
  exportOf,
  policyAdmits,
  stageCanary,
  stageDeployment,
} from '../aws/resources/existing-api.js';
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
    // Deny first, as AWS judges it: a Deny of the team's beats drctl's Allow.
    const vpc = recordedOutputs(ctx.state, 'vpc', region)?.vpcId;
    const denied = waiting || !current || (exported !== undefined && !policyAdmits(exported, vpce, vpc));
    const text = `primary REST API ${api.restApiId} admits drctl's endpoint ${vpce}`;
    if (!denied) return [ok(ID, text, region)];
    // drctl's statement gone from the CURRENT policy (the team removed it): deploying again would
    // ship a policy without it; `drctl up` puts it back first.
    const live = await client.send(new GetRestApiCommand({ restApiId: api.restApiId }));
    const sid = admitSid(ctx.config.deployment);
    const gone = !hasAdmitStatement(live, ctx.config.deployment);
    const ownEndpoint = ctx.config.primary.endpointId === vpce;
    const canary = (await stageCanary(client, api.restApiId)) !== undefined;
    const fix =
      gone && !ownEndpoint
        ? `drctl's statement ${sid} is no longer in its policy: run \`drctl up\` (it adds it back), then deploy stage prod as it says.`
        : `Its policy takes effect when stage prod is deployed again: \`${deployCommand(api.restApiId, region, canary)}\` ` +
          "(it ships the API's current definition)" +
          (canary ? '. ' : ', or set api.deploy to true and run `drctl up`. ') +
          'If it is deployed: a Deny of its policy refuses the endpoint; add the endpoint to its list.';
    const line: CheckLine = fail(ID, `${text}: not in the deployed policy`, fix, region);
    return [line];
  },
};
