import {
  APIGatewayClient,
  CreateDeploymentCommand,
  GetRestApiCommand,
  UpdateRestApiCommand,
} from '@aws-sdk/client-api-gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/aws/resource-policy.js';
import { Harness } from '../support/harness.js';
import { mergePaths, seedTeamApi, teamGet, teamPolicy } from '../support/team-api.js';

// `drctl verify`'s drift check with `api: {"restApiId": ...}` (issue 25): the primary is the
// team's API, the secondary drctl's copy of its stage prod. The copy must be the primary's
// DEPLOYED definition; the team's undeployed edits and its resource policy (theirs plus drctl's
// one statement, drctl's own in the copy) differ by design and are not drift. One harness: each
// test leaves the regions matching for the next.

const PRIMARY = 'sa-east-1';
const SECONDARY = 'us-west-1';

let h: Harness;
let teamId: string;
const apigw = (region: string) => new APIGatewayClient({ region });
const get = teamGet();

async function driftLines() {
  h.cloud.clock.advance(5 * 60_000);
  return h.verifyLines('api-drift');
}

async function expectPasses(): Promise<void> {
  const lines = await driftLines();
  expect(
    lines.map((l) => `${l.status} ${l.text}`),
    JSON.stringify(lines, null, 1),
  ).toEqual([expect.stringMatching(/^ok /)]);
}

async function upAgain(): Promise<void> {
  h.cloud.clock.advance(60_000);
  await h.ok(['up']);
}

/** As the team: an admin, not drctl's policy. */
const asTeam = <T>(f: () => Promise<T>) => h.cloud.authorizer.asAdmin(f);

beforeAll(async () => {
  h = new Harness();
  teamId = await seedTeamApi(h.cloud, PRIMARY, { paths: { '/health': get, '/orders': get } });
  h.cloud.clock.advance(10_000);
  h.writeConfig({ api: { restApiId: teamId, healthPath: '/health' } });
  await h.ok(['up']);
}, 120_000);
afterAll(() => h?.cleanup());

describe('verify: drift with the team’s API as the primary (api.restApiId)', () => {
  it('passes after up: the policies differ by design, that is not drift', async () => {
    await expectPasses();
  });

  it('a change the team has not deployed is not drift (the copy follows stage prod)', async () => {
    await mergePaths(h.cloud, PRIMARY, teamId, { '/draft': get }, false);
    await expectPasses();
  });

  it('a route added by hand to the secondary copy: named with its region; up removes it', async () => {
    const copy = h.outputs('api', SECONDARY).restApiId;
    await mergePaths(h.cloud, SECONDARY, copy, { '/extra': get });
    const lines = await driftLines();
    const extra = lines.find((l) => l.status === 'fail' && l.text.startsWith('/extra GET:'));
    expect(extra, JSON.stringify(lines, null, 1)).toBeDefined();
    expect(extra!.text).toBe('/extra GET: (none) | method (primary | secondary)');
    expect(extra!.region).toBe(SECONDARY);
    expect(extra!.fix).toMatch(/secondary's API \(us-west-1\).*drctl up/);
    await upAgain();
    await expectPasses();
  }, 120_000);

  it('the team deploys a new route: the secondary is behind the primary until up', async () => {
    await mergePaths(h.cloud, PRIMARY, teamId, { '/invoices': get });
    const lines = await driftLines();
    const added = lines.find((l) => l.status === 'fail' && l.text.startsWith('/invoices GET:'));
    expect(added, JSON.stringify(lines, null, 1)).toBeDefined();
    expect(added!.text).toBe('/invoices GET: method | (none) (primary | secondary)');
    expect(added!.region).toBe(SECONDARY);
    expect(added!.fix).toMatch(/secondary's copy \(us-west-1\) is behind the primary.*drctl up/);
    // The undeployed /draft of the previous test came with this deployment: it is followed too.
    expect(lines.some((l) => l.text.startsWith('/draft GET:'))).toBe(true);
    await upAgain();
    await expectPasses();
  }, 120_000);

  it('the team’s policy edited (another statement): no drift reported', async () => {
    await asTeam(async () => {
      const now = await apigw(PRIMARY).send(new GetRestApiCommand({ restApiId: teamId }));
      // The team adds a statement of its own and keeps drctl's, as its edit would.
      const ours = (parsePolicy(now.policy) as { Statement: Array<{ Sid?: string }> }).Statement.filter((s) =>
        s.Sid?.startsWith('drctl'),
      );
      const policy = teamPolicy(['TeamInvoke', 'TeamAudit']);
      await apigw(PRIMARY).send(
        new UpdateRestApiCommand({
          restApiId: teamId,
          patchOperations: [
            {
              op: 'replace',
              path: '/policy',
              value: JSON.stringify({ ...policy, Statement: [...policy.Statement, ...ours] }),
            },
          ],
        }),
      );
      await apigw(PRIMARY).send(new CreateDeploymentCommand({ restApiId: teamId, stageName: 'prod' }));
    });
    await expectPasses();
  });

  it('the copy’s policy edited by hand: held to drctl’s, up puts it back', async () => {
    const copy = h.outputs('api', SECONDARY).restApiId;
    await asTeam(() =>
      apigw(SECONDARY).send(
        new UpdateRestApiCommand({
          restApiId: copy,
          patchOperations: [{ op: 'replace', path: '/policy', value: JSON.stringify(teamPolicy(['Open'])) }],
        }),
      ),
    );
    const lines = await driftLines();
    const policy = lines.find((l) => l.status === 'fail' && l.text.startsWith('resource policy: '));
    expect(policy, JSON.stringify(lines, null, 1)).toBeDefined();
    expect(policy!.text).toMatch(/\(drctl's \| secondary\)$/);
    expect(policy!.region).toBe(SECONDARY);
    expect(policy!.fix).toMatch(/drctl up/);
    await upAgain();
    await expectPasses();
  }, 120_000);

  it('a route added by hand to the copy and not deployed: the copy’s own line, up puts it back', async () => {
    const copy = h.outputs('api', SECONDARY).restApiId;
    await mergePaths(h.cloud, SECONDARY, copy, { '/undeployed': get }, false);
    const lines = await driftLines();
    const own = lines.find((l) => l.status === 'fail' && l.text.startsWith(`secondary ${SECONDARY}:`));
    expect(own, JSON.stringify(lines, null, 1)).toBeDefined();
    expect(own!.fix).toMatch(/drctl up/);
    await upAgain();
    await expectPasses();
  }, 120_000);
});
