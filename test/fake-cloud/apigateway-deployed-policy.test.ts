import {
  APIGatewayClient,
  CreateDeploymentCommand,
  GetExportCommand,
  GetStageCommand,
  UpdateRestApiCommand,
  UpdateStageCommand,
} from '@aws-sdk/client-api-gateway';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeCloud, FakeApiGateway, type FakeCloud } from '../support/fake-cloud/index.js';
import { seedTeamApi, teamGet } from '../support/team-api.js';

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
  const id = await seedTeamApi(cloud, REGION, { paths: { '/health': teamGet() }, policy: other });
  cloud.clock.advance(10_000);
  return id;
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

describe('fake API Gateway: a canary on the stage takes the new deployments', () => {
  it('CreateDeployment goes to canarySettings.deploymentId; the stage serves its base until promoted', async () => {
    const id = await seed();
    const base = (
      await cloud.authorizer.asAdmin(() =>
        apigw().send(new GetStageCommand({ restApiId: id, stageName: 'prod' })),
      )
    ).deploymentId!;
    await cloud.authorizer.asAdmin(async () => {
      // A canary release needs an existing stage (create-canary-deployment.html).
      await expect(
        apigw().send(
          new CreateDeploymentCommand({
            restApiId: id,
            stageName: 'beta',
            canarySettings: { percentTraffic: 10 },
          }),
        ),
      ).rejects.toThrow(/Invalid stage/);
      await apigw().send(
        new CreateDeploymentCommand({
          restApiId: id,
          stageName: 'prod',
          canarySettings: { percentTraffic: 10 },
        }),
      );
      cloud.clock.advance(10_000);
      await apigw().send(
        new UpdateRestApiCommand({
          restApiId: id,
          patchOperations: [{ op: 'replace', path: '/policy', value: JSON.stringify(mine) }],
        }),
      );
      const d = await apigw().send(new CreateDeploymentCommand({ restApiId: id, stageName: 'prod' }));
      cloud.clock.advance(10_000);
      const stage = await apigw().send(new GetStageCommand({ restApiId: id, stageName: 'prod' }));
      expect(stage.deploymentId).toBe(base);
      expect(stage.canarySettings).toMatchObject({ deploymentId: d.id, percentTraffic: 10 });
      expect(invoke(id).status).toBe(403);
      // Promote: the stage points at the canary's deployment, the canary is removed.
      await apigw().send(
        new UpdateStageCommand({
          restApiId: id,
          stageName: 'prod',
          patchOperations: [
            { op: 'replace', path: '/deploymentId', value: d.id },
            { op: 'remove', path: '/canarySettings' },
          ],
        }),
      );
      const promoted = await apigw().send(new GetStageCommand({ restApiId: id, stageName: 'prod' }));
      expect(promoted.deploymentId).toBe(d.id);
      expect(promoted.canarySettings).toBeUndefined();
    });
    expect(invoke(id).status).toBe(200);
  });
});
