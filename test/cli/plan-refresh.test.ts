import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtCliWorkdirs } from '../support/built-cli.js';
import { runDrctl, userEnv } from '../support/cli-process.js';

// `drctl plan --refresh` (issue 25) as a user meets it: the built CLI on the fake cloud. The team's
// API is seeded in the primary (DRCTL_FAKE_TEAM_API), `up` copies it (the seed), then the team adds
// and deploys a route (DRCTL_FAKE_TEAM_API_ROUTE): plan --refresh says the copy is behind, in
// --json too, in 80 columns, with no mutating call and the state file untouched.

const workdir = builtCliWorkdirs();

async function planRefresh(args: string[], route?: string, pty = false) {
  const d = workdir();
  writeFileSync(
    join(d.dir, 'drctl.config.json'),
    JSON.stringify({ api: { restApiId: 'placeholder', healthPath: '/health' } }),
  );
  const snapshot = join(d.dir, 'cloud.json');
  const r = await runDrctl(args, {
    cwd: d.dir,
    env: userEnv(d.dir, {
      DRCTL_FAKE_TEAM_API: '1',
      DRCTL_FAKE_SEED: 'up',
      DRCTL_FAKE_SNAPSHOT: snapshot,
      ...(route ? { DRCTL_FAKE_TEAM_API_ROUTE: route } : {}),
    }),
    fakeCloud: true,
    ...(pty ? { pty: true, columns: 80 } : {}),
  });
  const cloud = JSON.parse(readFileSync(snapshot, 'utf8')) as {
    mutatingAfterSeed: number;
    stateAfterSeed?: string;
  };
  if (r.code !== 0) throw new Error(r.stdout + r.stderr);
  const state = readFileSync(join(d.dir, '.drctl/state.json'), 'utf8');
  return { r, cloud, state };
}

describe('drctl plan --refresh, through the built CLI', () => {
  it('the team added a route since up: the copy is behind, in text and --json; nothing changed', async () => {
    const { r, cloud, state } = await planRefresh(['plan', '--refresh'], '/orders', true);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("api us-west-1: update (the primary's API changed since the last up)");
    expect(r.stdout).toMatch(/plan: 0 to create, 1 to update in place, 0 to replace, 0 to delete/);
    // In an 80-column terminal every line fits.
    expect(r.stdout.split(/\r?\n/).filter((l) => l.length > 80)).toEqual([]);
    expect(cloud.mutatingAfterSeed).toBe(0);
    expect(state).toBe(cloud.stateAfterSeed);

    const json = await planRefresh(['--json', 'plan', '--refresh'], '/orders');
    expect(json.r.code, json.r.stderr).toBe(0);
    const summary = JSON.parse(json.r.stdout) as Record<string, any>;
    expect(summary).toMatchObject({
      command: 'plan',
      refreshed: { copyBehind: true },
      counts: { update: 1 },
    });
    const api = (summary.steps as Array<Record<string, any>>).find((s) => s.step === 'api')!;
    expect(api.actions['us-west-1']).toEqual({
      action: 'update',
      fields: ["the primary's API changed since the last up"],
    });
    expect(json.cloud.mutatingAfterSeed).toBe(0);
  }, 120_000);

  it('nothing changed since up: no change, and plan: no changes', async () => {
    const { r, cloud } = await planRefresh(['plan', '--refresh']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("api us-west-1: no change (the copy equals the primary's stage prod)");
    expect(r.stdout).toContain('plan: no changes');
    expect(cloud.mutatingAfterSeed).toBe(0);
  }, 120_000);
});
