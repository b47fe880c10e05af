import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from '../support/harness.js';
import { upTo } from '../support/steps.js';

// `down`'s question says what it will delete (per step and region, how many and which), in which
// account, and a wrong name says that the name did not match.

describe('the down question', () => {
  let h: Harness | undefined;
  afterEach(() => {
    h?.cleanup();
    h = undefined;
  });

  it('lists per step and region what the state records, and the account, before it asks', async () => {
    const steps = upTo('endpoints');
    h = new Harness();
    await h.ok(['up'], steps);
    const before = h.cloud.snapshot();
    const changes = h.cloud.mutatingCalls.length;
    let asked = '';
    const r = await h.run(['down'], {
      ...steps,
      isTTY: true,
      confirm: (q) => {
        asked = q;
        return Promise.resolve('nope');
      },
    });
    expect(r.code).toBe(2);
    expect(asked).toMatch(/Type the deployment name to confirm:/);
    const account = h.state()!.account!;
    expect(account).toMatch(/^\d{12}$/);
    expect(r.stdout).toContain(`down deletes what the state records in account ${account}`);
    const vpcId = h.outputs('vpc', 'sa-east-1').vpcId;
    const endpoint = h.outputs('endpoints', 'us-west-1').vpcEndpointId;
    expect(r.stdout).toMatch(new RegExp(`^  vpc sa-east-1: \\d+ ids: .*${vpcId}`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^  endpoints us-west-1: \\d+ ids?: .*${endpoint}`, 'm'));
    expect(r.stdout).toMatch(/^ {2}keypairs sa-east-1: 1 id: key-/m);
    for (const line of r.stdout.split('\n').filter((l) => l.startsWith('  '))) expect(line.length).toBeLessThanOrEqual(80);
    // A typo: nothing deleted, and it says the name did not match (not only "--yes").
    expect(r.stderr).toContain('not confirmed; nothing was deleted');
    expect(r.stderr).toContain('The name did not match: you typed "nope", the deployment is "drctl"');
    expect(h.cloud.snapshot()).toEqual(before);
    expect(h.cloud.mutatingCalls).toHaveLength(changes);
  });
});
