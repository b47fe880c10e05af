import '../support/fast-tmp.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIALS_STOPPED } from '../../src/engine/runner.js';
import { Harness, type RunOutput, cleanUpSnapshot } from '../support/harness.js';
import { normalised } from '../support/normalise.js';

// Credentials that stop working part-way (the fake cloud's `credentialsExpireAfter`), in-process so
// the cloud's call log can be read: the runner starts no step once one has met them, each step in
// flight makes at most the one refused call, and after the login the same command finishes the job.

let h: Harness;
afterEach(() => h?.cleanup());

let clean: string[];
beforeAll(async () => {
  clean = await cleanUpSnapshot();
});

type Ev = { type: string; step?: string; scope?: string; reason?: string };

/** The run's events from the first step the credentials stopped on. */
function afterStop(r: RunOutput): Ev[] {
  const events = r.events as Ev[];
  const first = events.findIndex((e) => e.type === 'step-skipped' && e.reason === CREDENTIALS_STOPPED);
  expect(first, 'a step was stopped by the credentials').toBeGreaterThanOrEqual(0);
  return events.slice(first);
}

const refused = (h: Harness) => h.cloud.calls.filter((c) => /^ExpiredToken/.test(c.outcome));

describe('credentials that expire part-way', () => {
  it('up: no step starts after the credentials fail, none is marked failed, and up after the login converges', async () => {
    h = new Harness();
    h.cloud.faults = { credentialsExpireAfter: 80 };
    const r = await h.run(['--json', 'up']);
    expect(r.code, r.stderr).toBe(2);
    const rest = afterStop(r);
    expect(rest.filter((e) => e.type === 'step-start')).toEqual([]);
    expect((r.events as Ev[]).filter((e) => e.type === 'step-failed')).toEqual([]);
    // The steps in flight when the token expired each met it once; nothing else was tried.
    const inFlight = rest.filter((e) => e.type === 'step-skipped' && e.reason === CREDENTIALS_STOPPED);
    expect(refused(h).length).toBeGreaterThan(0);
    expect(refused(h).length).toBeLessThanOrEqual(inFlight.length);
    expect(r.summary).toMatchObject({ ok: false, exitCode: 2, error: { field: 'credentials' } });

    h.cloud.revive(); // the login
    const again = await h.ok(['up']);
    expect((again.events as Ev[]).filter((e) => e.type === 'step-failed')).toEqual([]);
    expect(normalised(h.cloud.snapshot())).toEqual(clean);
  });

  it('down: stops the same way, keeps the records of what it did not delete, and down after the login leaves nothing', async () => {
    h = new Harness();
    await h.ok(['up']);
    h.cloud.revive();
    h.cloud.faults = { credentialsExpireAfter: 40, credentialsExpireAs: 'sso' };
    const r = await h.run(['--json', '--yes', 'down']);
    expect(r.code, r.stderr).toBe(2);
    expect(afterStop(r).filter((e) => e.type === 'step-start')).toEqual([]);
    expect(Object.keys(h.state()!.steps).length, 'what was not deleted is still recorded').toBeGreaterThan(0);
    expect(h.cloud.snapshot().length).toBeGreaterThan(0);

    h.cloud.revive();
    await h.ok(['--yes', 'down']);
    expect(h.cloud.snapshot()).toEqual([]);
  });
});
