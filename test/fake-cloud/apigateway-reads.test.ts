import {
  APIGatewayClient,
  CreateDeploymentCommand,
  GetAuthorizersCommand,
  GetModelsCommand,
  GetStageCommand,
  ImportRestApiCommand,
  PutRestApiCommand,
  UpdateStageCommand,
  paginateGetResources,
} from '@aws-sdk/client-api-gateway';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeCloud, type FakeCloud } from '../support/fake-cloud/index.js';

// The API Gateway reads `drctl verify` compares regions with, derived from the stored definition:
// resources (one per path segment, paged), methods and integrations, authorizers, models; and a
// stage's settings as UpdateStage leaves them.

const REGION = 'sa-east-1'; // a region drctl's policy grants (the fake authorizes every call)
let cloud: FakeCloud;
beforeEach(() => {
  cloud = createFakeCloud();
  cloud.pageSize = undefined;
});
afterEach(() => cloud.uninstall());

const apigw = () => new APIGatewayClient({ region: REGION });
const body = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc));
const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' } };
const doc = {
  swagger: '2.0',
  info: { title: 'reads' },
  paths: { '/a/{id}': { get: { security: [{ tok: [] }], 'x-amazon-apigateway-integration': mock } } },
  securityDefinitions: {
    tok: {
      type: 'apiKey',
      name: 'Authorization',
      in: 'header',
      'x-amazon-apigateway-authorizer': { type: 'token', authorizerUri: 'arn:aws:lambda:x' },
    },
  },
  definitions: { Thing: { type: 'object' } },
};

describe('fake API Gateway: what a definition made', () => {
  it('GetResources pages the resources (a parent per path segment), embed=methods adds the integrations', async () => {
    const { id } = await apigw().send(new ImportRestApiCommand({ body: body(doc) }));
    const pages: string[][] = [];
    for await (const p of paginateGetResources(
      { client: apigw() },
      { restApiId: id!, limit: 2, embed: ['methods'] },
    ))
      pages.push((p.items ?? []).map((r) => r.path!));
    expect(pages).toEqual([['/', '/a'], ['/a/{id}']]);
    const all = [];
    for await (const p of paginateGetResources({ client: apigw() }, { restApiId: id!, embed: ['methods'] }))
      all.push(...(p.items ?? []));
    const leaf = all.find((r) => r.path === '/a/{id}')!;
    expect(leaf.resourceMethods?.GET?.authorizationType).toBe('CUSTOM');
    // "The default value is 29,000 milliseconds" (API_Integration.html).
    expect(leaf.resourceMethods?.GET?.methodIntegration).toMatchObject({
      type: 'MOCK',
      timeoutInMillis: 29000,
    });
  });

  it('authorizers and models come from the definition; PutRestApi merge adds to them', async () => {
    const { id } = await apigw().send(new ImportRestApiCommand({ body: body(doc) }));
    cloud.clock.advance(3_000);
    await apigw().send(
      new PutRestApiCommand({
        restApiId: id!,
        mode: 'merge',
        body: body({ swagger: '2.0', info: { title: 'reads' }, definitions: { Other: { type: 'string' } } }),
      }),
    );
    const authorizers = await apigw().send(new GetAuthorizersCommand({ restApiId: id! }));
    expect(authorizers.items?.map((a) => [a.name, a.type])).toEqual([['tok', 'TOKEN']]);
    const models = await apigw().send(new GetModelsCommand({ restApiId: id! }));
    expect(models.items?.map((m) => m.name)).toEqual(['Thing', 'Other']);
  });

  it('UpdateStage sets variables, tracing and method settings, and refuses a path it does not know', async () => {
    const { id } = await apigw().send(
      new ImportRestApiCommand({ body: body(doc), parameters: { endpointConfigurationTypes: 'REGIONAL' } }),
    );
    await apigw().send(new CreateDeploymentCommand({ restApiId: id!, stageName: 'prod' }));
    await apigw().send(
      new UpdateStageCommand({
        restApiId: id!,
        stageName: 'prod',
        patchOperations: [
          { op: 'replace', path: '/variables/color', value: 'blue' },
          { op: 'replace', path: '/tracingEnabled', value: 'true' },
          { op: 'replace', path: '/*/*/throttling/rateLimit', value: '100' },
        ],
      }),
    );
    const s = await apigw().send(new GetStageCommand({ restApiId: id!, stageName: 'prod' }));
    expect(s).toMatchObject({
      variables: { color: 'blue' },
      tracingEnabled: true,
      methodSettings: { '*/*': { throttlingRateLimit: 100 } },
    });
    await expect(
      apigw().send(
        new UpdateStageCommand({
          restApiId: id!,
          stageName: 'prod',
          patchOperations: [{ op: 'replace', path: '/nonsense', value: 'x' }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'BadRequestException' });
  });
});
