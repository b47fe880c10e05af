import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Start-up time is measured by `npm run bench`; this test only proves the property that makes it
// fast: `drctl --help` and `drctl plan` never load an AWS SDK module.
const root = new URL('../..', import.meta.url).pathname;
const hook = join(root, 'test/support/deny-sdk-hook.mjs');
const entry = `import { main } from ${JSON.stringify(join(root, 'src/cli/main.ts'))}; process.exitCode = await main(['node', 'drctl', ...process.argv.slice(1)]);`;

function drctl(...args: string[]) {
  return spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', hook, '--input-type=module', '-e', entry, '--', ...args],
    {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    },
  );
}

describe('start-up loads no AWS SDK and no chart library', () => {
  it('drctl --help', () => {
    const r = drctl('--help');
    expect(r.stderr).not.toContain('loaded the AWS SDK');
    expect(r.stderr).not.toContain('loaded a chart library');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('failover-test');
  });

  it('drctl plan', () => {
    const r = drctl('--state', join(mkdtempSync(join(tmpdir(), 'drctl-startup-')), 'state.json'), 'plan');
    expect(r.stderr).not.toContain('loaded the AWS SDK');
    expect(r.status).toBe(0);
  });

  it('the hook itself catches a chart library import (drctl report renders with Vega)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drctl-startup-'));
    // One recorded drill, so there is a chart to draw.
    const at = '2026-01-01T00:00:00.000Z';
    const drill = {
      version: 1,
      drctlVersion: '0',
      deployment: 'drctl',
      regions: { primary: 'sa-east-1', secondary: 'us-west-1' },
      name: 'api.octank.com',
      mode: 'invert',
      dryRun: false,
      result: 'pass',
      startedAt: at,
      endedAt: at,
      recoverySeconds: 60,
      failbackSeconds: 60,
      rtoTargetSeconds: 300,
      boundSeconds: 150,
      bound: [],
      timeoutSeconds: 300,
      problems: [],
      failover: [{ event: 'fault', label: 'fault', at, seconds: 0 }],
      failback: [],
      events: [],
      samples: [],
      probes: 0,
    };
    mkdirSync(join(dir, 'drills'));
    writeFileSync(join(dir, 'drills', 'd.json'), JSON.stringify(drill));
    const r = drctl('--state', join(dir, 'state.json'), 'report', '--out', join(dir, 'r.html'));
    expect(r.stderr).toContain('loaded a chart library');
  });

  it('the hook itself catches an SDK import', () => {
    const r = drctl('--state', join(mkdtempSync(join(tmpdir(), 'drctl-startup-')), 'state.json'), 'up');
    expect(r.stderr).toContain('loaded the AWS SDK');
  });
});
