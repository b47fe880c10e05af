import {
  APIGatewayClient,
  CreateDeploymentCommand,
  ImportRestApiCommand,
  PutRestApiCommand,
} from '@aws-sdk/client-api-gateway';
import type { FakeCloud } from './fake-cloud/index.js';

// A team's own private REST API (config `api: {"restApiId"}`, issue 25), seeded with the SDK as
// another user of the account: the tests of the api step, verify's drift and the built CLI's
// preload all start from it.

type Doc = Record<string, unknown>;

/** A GET answered by a MOCK integration; `body`, when given, is what it answers. */
export function teamGet(body?: string): Doc {
  const response = {
    statusCode: '200',
    ...(body ? { responseTemplates: { 'application/json': body } } : {}),
  };
  const integration = {
    type: 'mock',
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    responses: { default: response },
  };
  return {
    get: { responses: { '200': { description: 'ok' } }, 'x-amazon-apigateway-integration': integration },
  };
}

/** The team's policy: an Allow of every invoke per Sid. */
export const teamPolicy = (sids: string[] = ['TeamInvoke']) => ({
  Version: '2012-10-17',
  Statement: sids.map((Sid) => ({
    Sid,
    Effect: 'Allow',
    Principal: '*',
    Action: 'execute-api:Invoke',
    Resource: 'execute-api:/*',
  })),
});

export const apiBody = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc));

/**
 * The team's API in `region` (PRIVATE unless `type` says; a private API cannot be deployed without
 * a resource policy), deployed to stage prod: its id.
 */
export async function seedTeamApi(
  cloud: FakeCloud,
  region: string,
  {
    paths,
    policy = teamPolicy(),
    type = 'PRIVATE',
    extra = {},
  }: {
    paths: Doc;
    policy?: unknown;
    type?: string;
    /** Other top-level fields of the definition (components). */
    extra?: Doc;
  },
): Promise<string> {
  const client = new APIGatewayClient({ region });
  return cloud.authorizer.asAdmin(async () => {
    const api = await client.send(
      new ImportRestApiCommand({
        parameters: { endpointConfigurationTypes: type },
        body: apiBody({
          openapi: '3.0.1',
          info: { title: 'team-orders', version: '1' },
          paths,
          ...extra,
          'x-amazon-apigateway-policy': policy,
        }),
      }),
    );
    await client.send(new CreateDeploymentCommand({ restApiId: api.id!, stageName: 'prod' }));
    return api.id!;
  });
}

/** `paths` merged into an API by hand (the team's, or drctl's copy), then deployed unless `deploy` is false. */
export async function mergePaths(
  cloud: FakeCloud,
  region: string,
  restApiId: string,
  paths: Doc,
  deploy = true,
): Promise<void> {
  const client = new APIGatewayClient({ region });
  await cloud.authorizer.asAdmin(async () => {
    await client.send(
      new PutRestApiCommand({
        restApiId,
        mode: 'merge',
        body: apiBody({ openapi: '3.0.1', info: { title: 'team-orders', version: '2' }, paths }),
      }),
    );
    if (deploy) await client.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
  });
}
