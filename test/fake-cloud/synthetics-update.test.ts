import {
  GetCanaryCommand,
  StartCanaryCommand,
  StopCanaryCommand,
  SyntheticsClient,
  UpdateCanaryCommand,
} from '@aws-sdk/client-synthetics';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSynthetics } from '../support/fake-cloud/index.js';
import { DELAYS } from '../support/fake-cloud/delays.js';
import { Harness } from '../support/harness.js';
import { upTo } from '../support/steps.js';

// UpdateCanary as the fake models it (test/support/fake-cloud/README.md, Synthetics,
// "UpdateCanary"): UPDATING, then back to the state it had; ConflictException while another
// change runs; the new settings from the next run on.

const PRIMARY = 'sa-east-1';
const NAME = 'drctl-pri';
const WITH_CANARY = {
  ...upTo('canary', 'domain'),
};

let h: Harness;
afterEach(() => h?.cleanup());

const syn = () => new SyntheticsClient({ region: PRIMARY });
const state = async () => (await syn().send(new GetCanaryCommand({ Name: NAME }))).Canary!.Status!;
const conflict = (p: Promise<unknown>) => expect(p).rejects.toMatchObject({ name: 'ConflictException' });

describe('fake Synthetics UpdateCanary', () => {
  it('RUNNING -> UPDATING -> RUNNING; a second change while UPDATING is a ConflictException; no run while UPDATING; the new settings from the next run', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CANARY);
    h.cloud.clock.advance(3 * 60_000);
    // What follows tests the fake's UpdateCanary, not drctl's permissions: another user calls.
    await h.cloud.authorizer.asAdmin(async () => {
      const c = h.cloud.model(FakeSynthetics).find(PRIMARY, NAME)!;
      const env = { ...c.EnvironmentVariables, PROBE_PATH: '/other' };
      const runsBefore = c.runs.length;

      await syn().send(
        new UpdateCanaryCommand({
          Name: NAME,
          RunConfig: { TimeoutInSeconds: 30, EnvironmentVariables: env },
        }),
      );
      expect((await state()).State).toBe('UPDATING');
      expect((await state()).StateReasonCode).toBe('UPDATE_IN_PROGRESS');
      await conflict(syn().send(new UpdateCanaryCommand({ Name: NAME, SuccessRetentionPeriodInDays: 3 })));
      await conflict(syn().send(new StopCanaryCommand({ Name: NAME })));
      await conflict(syn().send(new StartCanaryCommand({ Name: NAME })));
      // Still the old settings while UPDATING.
      expect(c.EnvironmentVariables.PROBE_PATH).toBe('/health');

      const updateMs = DELAYS['canary.update'].typical * 1000;
      h.cloud.clock.advance(updateMs - 1);
      expect((await state()).State).toBe('UPDATING');
      expect(h.cloud.model(FakeSynthetics).find(PRIMARY, NAME)!.runs.length).toBe(runsBefore);
      h.cloud.clock.advance(1);
      expect(await state()).toMatchObject({ State: 'RUNNING', StateReasonCode: 'UPDATE_COMPLETE' });
      expect(c.EnvironmentVariables.PROBE_PATH).toBe('/other');
      h.cloud.clock.advance(60_000);
      expect(h.cloud.model(FakeSynthetics).find(PRIMARY, NAME)!.runs.length).toBe(runsBefore + 1);
    });
  });

  it('READY and STOPPED stay so after an update; STOPPING, and a name that does not exist, are refused', async () => {
    h = new Harness();
    await h.ok(['up'], WITH_CANARY);
    await h.cloud.authorizer.asAdmin(async () => {
      await syn().send(new StopCanaryCommand({ Name: NAME }));
      await conflict(syn().send(new UpdateCanaryCommand({ Name: NAME, SuccessRetentionPeriodInDays: 3 })));
      h.cloud.clock.advance(DELAYS['canary.stop'].typical * 1000);
      expect((await state()).State).toBe('STOPPED');
      await syn().send(new UpdateCanaryCommand({ Name: NAME, SuccessRetentionPeriodInDays: 3 }));
      h.cloud.clock.advance(DELAYS['canary.update'].typical * 1000);
      expect((await state()).State).toBe('STOPPED');
      expect(h.cloud.model(FakeSynthetics).find(PRIMARY, NAME)!.SuccessRetentionPeriodInDays).toBe(3);
      await expect(
        syn().send(new UpdateCanaryCommand({ Name: 'nope', SuccessRetentionPeriodInDays: 3 })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    });
  });
});
