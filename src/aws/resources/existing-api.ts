import {
  APIGatewayClient,
  CreateDeploymentCommand,
  GetRestApiCommand,
  GetStageCommand,
  type PatchOperation,
  type RestApi,
  UpdateRestApiCommand,
} from '@aws-sdk/client-api-gateway';
import type { AwsClients } from '../clients.js';
import { unlessNotFound } from '../errors.js';
import { NEW_ENDPOINT, NEW_VPC, invokeVerdict } from '../invoke-verdict.js';
import { parsePolicy } from '../resource-policy.js';
import { STAGE, exportOf } from './rest-api-shape.js';
import {
  type ExistingApiSource,
  type JsonObject,
  callsOf,
  otherRegionIn,
  withSecondaryValues,
} from '../../config/api-source.js';
import type { Config } from '../../config/config.js';
import { UsageError } from '../../errors/errors.js';

// Config `api: {"restApiId": ...}`: the team's PRIVATE API in the primary, which drctl does not
// own. It is only read (GetExport of stage prod, with the API Gateway extensions), except for what
// the DR setup adds to it: the association of drctl's execute-api endpoint and one policy statement
// (Sid below) admitting it. `down` removes exactly those. The secondary gets a copy of the export.

export { STAGE, exportOf };
type Client = Pick<APIGatewayClient, 'send'>;

/** The Sid of the one statement drctl adds to the team's policy (and removes on `down`). */
export const admitSid = (deployment: string) => `drctlAdmit${deployment.replace(/[^A-Za-z0-9]/g, '')}`;

/**
 * What the copy is made of: the export without what names the primary (servers[], its policy and
 * endpoint configuration) or changes with each deployment (info.version), so the api step's definition
 * hash (its tag on the copy) changes only when the primary's definition does.
 */
export function copyOf(doc: JsonObject): JsonObject {
  const { servers: _s, ...rest } = doc;
  const info = { ...((doc.info ?? {}) as JsonObject) };
  delete info.version;
  const out: JsonObject = { ...rest, info: { ...info, version: '1' } };
  delete out['x-amazon-apigateway-policy'];
  delete out['x-amazon-apigateway-endpoint-configuration'];
  return out;
}

const refuse = (message: string, resolution: string) =>
  new UsageError(message, { field: 'api.restApiId', resolution });

/**
 * Before `up` makes anything: the API exists in the primary, is PRIVATE, has a stage prod to
 * export, healthPath is a GET of it, and no Deny of the team's policy refuses drctl's endpoint (an
 * explicit Deny beats the Allow drctl adds). Read-only; exit 2 naming api.restApiId or
 * api.healthPath. Returns warnings (a Deny drctl cannot judge).
 */
export interface ExistingApiCheck {
  /** What up should warn of (a Deny drctl cannot judge). */
  warnings: string[];
  /** Stage prod's export, read for the check: `up`'s preview compares the copy with it. */
  exported: JsonObject;
}

export async function checkExistingApi(aws: AwsClients, config: Config): Promise<ExistingApiCheck> {
  const api = config.api as ExistingApiSource;
  const region = config.primary.region;
  const client = aws.client(APIGatewayClient, region);
  const found = await unlessNotFound(() => client.send(new GetRestApiCommand({ restApiId: api.restApiId })));
  if (!found)
    throw refuse(
      `api.restApiId: no REST API ${api.restApiId} in the primary region ${region}`,
      `Give the id of your API in ${region} (aws apigateway get-rest-apis --region ${region}).`,
    );
  const types = found.endpointConfiguration?.types ?? [];
  if (!types.includes('PRIVATE'))
    throw refuse(
      `api.restApiId: REST API ${api.restApiId} in ${region} is ${types.join(', ') || 'not PRIVATE'}, not PRIVATE`,
      'drctl protects private APIs only: give the id of a PRIVATE API.',
    );
  const doc = await unlessNotFound(() => exportOf(client, api.restApiId));
  if (!doc)
    throw refuse(
      `api.restApiId: REST API ${api.restApiId} in ${region} has no stage ${STAGE} to copy`,
      `Deploy it to a stage named ${STAGE}, then run up again.`,
    );
  const item = (doc.paths as JsonObject | undefined)?.[api.healthPath] as JsonObject | undefined;
  if (!item?.get && !item?.['x-amazon-apigateway-any-method'])
    throw new UsageError(
      `api.healthPath ${api.healthPath} is not a GET method of REST API ${api.restApiId} (stage ${STAGE})`,
      {
        field: 'api.healthPath',
        resolution: `Set api.healthPath to a GET path of the API (the canary calls it).`,
      },
    );
  refuseOtherRegion(api, doc, config.secondary.region);
  // With a canary on stage prod, a new deployment goes to the canary, not the stage
  // (https://docs.aws.amazon.com/apigateway/latest/developerguide/canary-release.html): api.deploy
  // would never make drctl's statement served by the stage.
  if (api.deploy && (await stageCanary(client, api.restApiId)))
    throw refuse(
      `api.restApiId: stage ${STAGE} of REST API ${api.restApiId} in ${region} has a canary: api.deploy would deploy to the canary, not the stage`,
      `Promote or remove the canary of stage ${STAGE}, or set api.deploy to false and deploy it yourself.`,
    );
  return { warnings: denyOfTeamPolicy(found, config), exported: doc };
}

/** The deployment of stage prod's canary, when it has one. */
export async function stageCanary(client: Client, restApiId: string): Promise<string | undefined> {
  const stage = await unlessNotFound(() => client.send(new GetStageCommand({ restApiId, stageName: STAGE })));
  return stage?.canarySettings ? (stage.canarySettings.deploymentId ?? 'canary') : undefined;
}

/**
 * The team's current policy against drctl's endpoint: the team's own (primary.endpointId) or one
 * drctl makes (a new id, in no list), in primary.vpcId or a VPC drctl makes. Only a Deny counts:
 * drctl adds its own Allow.
 */
function denyOfTeamPolicy(found: RestApi, config: Config): string[] {
  const api = config.api as ExistingApiSource;
  const { endpointId, vpcId, region } = config.primary;
  const v = invokeVerdict(found.policy, { vpce: endpointId ?? NEW_ENDPOINT, vpc: vpcId ?? NEW_VPC });
  const whose = endpointId ? `endpoint ${endpointId}` : 'the endpoint drctl makes (a new id)';
  if (v.decision === 'explicit-deny') {
    const onVpc = v.key.toLowerCase() === 'aws:sourcevpc';
    throw refuse(
      `api.restApiId: the policy of REST API ${api.restApiId} in ${region} denies ${whose} (its Deny, ${v.statement}, beats any Allow drctl adds)`,
      onVpc
        ? `Add ${vpcId ? `VPC ${vpcId}` : "drctl's VPC (or set primary.vpcId to one listed)"} to the list of that Deny's ${v.key}, deploy stage ${STAGE}, then run up again.`
        : endpointId
          ? `Add ${endpointId} to the list of that Deny's ${v.key}, deploy stage ${STAGE}, then run up again.`
          : `Set primary.endpointId and primary.vpcId to an endpoint that Deny's ${v.key} lists: the endpoint drctl would make gets a new id, which no list can name before up.`,
    );
  }
  if (v.decision === 'cannot-tell' && v.effect === 'Deny')
    return [
      `REST API ${api.restApiId} (yours): drctl cannot tell whether ${v.statement} of its policy refuses ${whose} (${v.why}); \`drctl verify\` checks it once it is built`,
    ];
  return [];
}

/**
 * The copy is the export imported in the secondary: an integration or authorizer that still
 * names another region (the primary's Lambda, a regional host) after api.secondaryValues would
 * make the DR copy call the region it stands in for. The openapi source's rule (otherRegionIn).
 */
function refuseOtherRegion(api: ExistingApiSource, doc: JsonObject, secondary: string): void {
  // Same order both ways: a value still naming another region is suggested whole, as exported (a
  // Lambda URI names the region twice: API Gateway's service and the function's).
  const exported = callsOf(doc);
  for (const [i, call] of callsOf(withSecondaryValues(api, doc)).entries()) {
    const other = otherRegionIn(call.value, secondary);
    if (!other) continue;
    const key = exported[i]?.value ?? call.value;
    const line = `${JSON.stringify(key)}:\n      ${JSON.stringify(key.split(other).join(secondary))}`;
    // The values are long ARNs: each on its own line, so the rest of the message fits 80 columns.
    throw new UsageError(
      `the ${call.field} of ${call.method} (REST API ${api.restApiId}) names ${other},\n` +
        `so the copy in ${secondary} would call ${other}:\n  ${call.value}`,
      {
        field: 'api.secondaryValues',
        resolution:
          `Map it to its ${secondary} counterpart in api.secondaryValues\n` +
          `(the value your copy calls instead), then run up again, e.g.\n    ${line}`,
      },
    );
  }
}

type Statement = Record<string, unknown>;
const statementsOf = (api: RestApi): Statement[] => {
  const doc = parsePolicy(api.policy) as { Statement?: unknown } | undefined;
  return [doc?.Statement ?? []].flat() as Statement[];
};

/** Whether the API's current policy holds drctl's statement (by its Sid). */
export const hasAdmitStatement = (api: RestApi, deployment: string): boolean =>
  statementsOf(api).some((s) => s.Sid === admitSid(deployment));

/** Our statement: invoke through drctl's endpoint in the primary. */
const admitStatement = (sid: string, vpcEndpointId: string): Statement => ({
  Sid: sid,
  Effect: 'Allow',
  Principal: '*',
  Action: 'execute-api:Invoke',
  Resource: 'execute-api:/*',
  Condition: { StringEquals: { 'aws:SourceVpce': vpcEndpointId } },
});

const admits = (s: Statement | undefined, vpcEndpointId: string) =>
  JSON.stringify((s?.Condition as Statement | undefined)?.StringEquals) ===
  JSON.stringify({ 'aws:SourceVpce': vpcEndpointId });

/**
 * The patch that admits `vpcEndpointId` into the team's API: our statement set (theirs kept as
 * they are), the endpoint associated. Empty when both are there already.
 */
export function admitPatch(api: RestApi, deployment: string, vpcEndpointId: string): PatchOperation[] {
  const sid = admitSid(deployment);
  const statements = statementsOf(api);
  const patch: PatchOperation[] = [];
  if (
    !admits(
      statements.find((s) => s.Sid === sid),
      vpcEndpointId,
    )
  ) {
    const doc = (parsePolicy(api.policy) ?? { Version: '2012-10-17' }) as Statement;
    const kept = statements.filter((s) => s.Sid !== sid);
    const policy = { ...doc, Statement: [...kept, admitStatement(sid, vpcEndpointId)] };
    patch.push({ op: 'replace', path: '/policy', value: JSON.stringify(policy) });
  }
  if (!(api.endpointConfiguration?.vpcEndpointIds ?? []).includes(vpcEndpointId))
    patch.push({ op: 'add', path: '/endpointConfiguration/vpcEndpointIds', value: vpcEndpointId });
  return patch;
}

/** `down`: our statement out, and the endpoint association if drctl made it; nothing else. */
export function unadmitPatch(
  api: RestApi,
  deployment: string,
  associatedEndpoint: string | undefined,
): PatchOperation[] {
  const sid = admitSid(deployment);
  const statements = statementsOf(api);
  const patch: PatchOperation[] = [];
  if (statements.some((s) => s.Sid === sid)) {
    const doc = parsePolicy(api.policy) as Statement;
    const policy = { ...doc, Statement: statements.filter((s) => s.Sid !== sid) };
    patch.push({ op: 'replace', path: '/policy', value: JSON.stringify(policy) });
  }
  if (associatedEndpoint && (api.endpointConfiguration?.vpcEndpointIds ?? []).includes(associatedEndpoint))
    patch.push({ op: 'remove', path: '/endpointConfiguration/vpcEndpointIds', value: associatedEndpoint });
  return patch;
}

export const updateRestApi = (client: Client, restApiId: string, patchOperations: PatchOperation[]) =>
  client.send(new UpdateRestApiCommand({ restApiId, patchOperations }));

/**
 * Whether a policy lets execute-api:Invoke through `vpcEndpointId` (in `vpcId`, when known), Deny
 * first as IAM judges it; "cannot tell" (a condition drctl does not model) counts as not proven.
 */
export function policyAdmits(policy: unknown, vpcEndpointId: string, vpcId?: string): boolean {
  return invokeVerdict(policy, { vpce: vpcEndpointId, vpc: vpcId }).decision === 'allow';
}

/** The deployment stage prod serves now; undefined without a stage. */
export async function stageDeployment(client: Client, restApiId: string): Promise<string | undefined> {
  const stage = await unlessNotFound(() => client.send(new GetStageCommand({ restApiId, stageName: STAGE })));
  return stage?.deploymentId;
}

/** Config api.deploy: stage prod deployed again with the API's current definition. */
export const deployStage = (client: Client, restApiId: string, description: string) =>
  client.send(new CreateDeploymentCommand({ restApiId, stageName: STAGE, description }));

/**
 * The command that makes drctl's statement take effect (the team runs it, or sets api.deploy).
 * With a canary on the stage it deploys to the canary: promoting it is the team's step.
 */
export const deployCommand = (restApiId: string, region: string, canary = false) =>
  `aws apigateway create-deployment --rest-api-id ${restApiId} --stage-name ${STAGE} --region ${region}` +
  (canary
    ? ` (stage ${STAGE} has a canary: this deploys to the canary; promote it, or remove the canary first)`
    : '');
