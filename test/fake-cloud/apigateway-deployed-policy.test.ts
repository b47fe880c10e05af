import {
  APIGatewayClient,
  CreateDeploymentCommand,
  GetExportCommand,
  ImportRestApiCommand,
  UpdateRestApiCommand,
} from '@aws-sdk/client-api-gateway';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeCloud, FakeApiGateway, type FakeCloud } from '../support/fake-cloud/index.js';

// A private API's resource policy changed after deployment takes effect only when the API is
// deployed again (apigateway-resource-policies-create-attach.html): invoke evaluates the policy of
// the stage's deployment, and GetExport (extensions=apigateway) carries that policy.

const REGION = 'sa-east-1';
const VPCE = 'vpce-0123456789abcdef0';
let cloud: FakeCloud;
beforeEach(() => {
  cloud = createFakeCloud();
});
afterEach(() => cloud.uninstall());

const apigw = () => new APIGatewayClient({ region: REGION });
const body = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc));
const allow = (condition?: unknown) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: '*',
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/*',
      ...(condition ? { Condition: condition } : {}),
    },
  ],
});
const other = allow({ StringEquals: { 'aws:SourceVpce': 'vpce-0fffffffffffffff0' } });
const mine = allow({ StringEquals: { 'aws:SourceVpce': VPCE } });

async function seed(): Promise<string> {
  return cloud.authorizer.asAdmin(async () => {
    const api = await apigw().send(
      new ImportRestApiCommand({
        parameters: { endpointConfigurationTypes: 'PRIVATE' },
        body: body({
          openapi: '3.0.1',
          info: { title: 't', version: '1' },
          paths: {
            '/health': {
              get: {
                'x-amazon-apigateway-integration': {
                  type: 'mock',
                  requestTemplates: { 'application/json': '{"statusCode": 200}' },
                },
              },
            },
          },
          'x-amazon-apigateway-policy': other,
        }),
      }),
    );
    await apigw().send(new CreateDeploymentCommand({ restApiId: api.id!, stageName: 'prod' }));
    cloud.clock.advance(10_000);
    return api.id!;
  });
}

const invoke = (restApiId: string) =>
  cloud.model(FakeApiGateway).invoke(REGION, { restApiId, stage: 'prod', path: '/health', vpceId: VPCE });

describe('fake API Gateway: a policy change takes effect on the next deployment', () => {
  it('invoke is refused (403) after the policy admits the endpoint, until CreateDeployment', async () => {
    const id = await seed();
    expect(invoke(id).status).toBe(403);
    await cloud.authorizer.asAdmin(() =>
      apigw().send(
        new UpdateRestApiCommand({
          restApiId: id,
          patchOperations: [{ op: 'replace', path: '/policy', value: JSON.stringify(mine) }],
        }),
      ),
    );
    const before = invoke(id);
    expect(before.status).toBe(403);
    expect(before.errorType).toBe('AccessDeniedException');
    const exported = async () =>
      JSON.parse(
        new TextDecoder().decode(
          (
            await cloud.authorizer.asAdmin(() =>
              apigw().send(
                new GetExportCommand({
                  restApiId: id,
                  stageName: 'prod',
                  exportType: 'oas30',
                  parameters: { extensions: 'apigateway' },
                }),
              ),
            )
          ).body,
        ),
      )['x-amazon-apigateway-policy'];
    // The export is of the deployment: its policy is still the old one.
    expect(JSON.stringify(await exported())).not.toContain(VPCE);
    await cloud.authorizer.asAdmin(() =>
      apigw().send(new CreateDeploymentCommand({ restApiId: id, stageName: 'prod' })),
    );
    expect(invoke(id).status).toBe(200);
    expect(JSON.stringify(await exported())).toContain(VPCE);
  });
});
