import { describe, expect, it } from 'vitest';
import { createReporter } from '../../src/io/reporter.js';
import { Capture } from '../support/harness.js';

const events = [
  { type: 'step-start', step: 'vpc', scope: 'sa-east-1', title: 'VPC stack', t: 0 },
  {
    type: 'step-progress',
    step: 'vpc',
    scope: 'sa-east-1',
    text: 'stack drctl-vpc: CREATE_IN_PROGRESS',
    elapsedMs: 42_000,
    t: 42_000,
  },
  {
    type: 'step-progress',
    step: 'vpc',
    scope: 'sa-east-1',
    text: 'stack drctl-vpc: CREATE_IN_PROGRESS',
    elapsedMs: 50_000,
    t: 50_000,
  },
  { type: 'step-done', step: 'vpc', scope: 'sa-east-1', outcome: 'created', elapsedMs: 172_500, t: 172_500 },
  {
    type: 'step-failed',
    step: 'nlb',
    scope: 'us-west-1',
    elapsedMs: 1000,
    t: 1000,
    error: {
      message: 'nlb (us-west-1): AccessDenied: no',
      code: 'AccessDenied',
      resolution: 'see drctl iam-policy',
    },
  },
] as const;

async function render(json: boolean, color = false) {
  const stdout = new Capture();
  const stderr = new Capture();
  const r = await createReporter({ json, interactive: false, color, verbose: false, stdout, stderr });
  for (const e of events) r.emit(e);
  r.result({ ok: false });
  r.close();
  return { stdout: stdout.text, stderr: stderr.text };
}

describe('progress output', () => {
  it('plain lines say what is waited for and for how long, and repeat a wait only when it changes', async () => {
    const { stderr, stdout } = await render(false);
    expect(stdout).toBe('');
    expect(stderr.split('\n')).toEqual([
      '> vpc sa-east-1: VPC stack',
      '  vpc sa-east-1: stack drctl-vpc: CREATE_IN_PROGRESS, 42s',
      '✔ vpc sa-east-1: done (2m53s)',
      '✖ nlb us-west-1: nlb (us-west-1): AccessDenied: no',
      '    what to do: see drctl iam-policy',
      '',
    ]);
    expect(stderr).not.toContain('\u001b[');
  });

  it('--json writes one event per line and a summary on stdout, nothing for people on stderr', async () => {
    const { stdout, stderr } = await render(true);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(lines.map((l) => l.type)).toEqual([...events.map((e) => e.type), 'summary']);
    expect(stderr).toBe('');
  });

  it('colours only when asked (NO_COLOR and --no-color turn them off upstream)', async () => {
    expect((await render(false, true)).stderr).toContain('\u001b[32m✔');
  });
});
