import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from '../support/harness.js';

// What drctl says where it needs AWS: the CLI's own `main` on the fake cloud (the built CLI in a
// child process cannot reach the in-memory fake; test/cli/honest-output.test.ts covers what it can).

let h: Harness;
afterEach(() => h?.cleanup());

describe('down', () => {
  it('with nothing recorded and nothing found says so, asks nothing and exits 0', async () => {
    h = new Harness();
    // A terminal (an injected answer) but no --yes: it would ask if it found anything.
    const asked = () => Promise.reject(new Error('drctl asked a question'));
    const r = await h.run(['down'], { confirm: asked });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /down: nothing to delete: there is no state at .*state\.json, and nothing of deployment "drctl" was found/,
    );
    expect(h.cloud.mutatingCalls).toEqual([]);
    expect(existsSync(h.statePath)).toBe(false);
    const json = await h.run(['--json', 'down'], { confirm: asked });
    expect(json.summary).toMatchObject({ ok: true, exitCode: 0, nothingToDelete: true });
    const yes = await h.run(['down', '--yes']);
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stdout).toMatch(
      /down: nothing to delete: nothing was recorded, and nothing of deployment "drctl" was found/,
    );
    expect(yes.stdout).not.toContain('everything deleted');
    expect(h.cloud.mutatingCalls).toEqual([]);
  });

  it('with nothing recorded but resources found by tag, still asks (and refuses without a terminal)', async () => {
    h = new Harness();
    await h.ok(['up']);
    h.cloud.resetCalls();
    const { rmSync } = await import('node:fs');
    rmSync(h.statePath);
    const r = await h.run(['down']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect(h.cloud.mutatingCalls).toEqual([]);
  });

  it('prints what stays billable or restorable (each CA with its restore-until date), and keeps it in --json', async () => {
    h = new Harness();
    await h.ok(['up']);
    const r = await h.run(['down', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('kept by AWS after down:');
    for (const region of ['sa-east-1', 'us-west-1'])
      expect(r.stdout).toMatch(
        new RegExp(
          `private CA \\(deleted, restorable\\) arn:aws:acm-pca:${region}:\\S+ in ${region}, restorable until \\d{4}-\\d\\d-\\d\\d: \\$0 while deleted; a restore bills the days since deletion at \\$400\\.00 a month`,
        ),
      );

    h.cleanup();
    h = new Harness();
    await h.ok(['up']);
    const j = await h.run(['--json', 'down', '--yes']);
    const remains = j.summary?.remains as Array<Record<string, unknown>>;
    expect(remains).toHaveLength(2);
    expect(remains[0]).toMatchObject({ step: 'ca', what: 'private CA (deleted, restorable)' });
    expect(remains[0]!.restorableUntil).toMatch(/^\d{4}-\d\d-\d\d$/);
  });
});

const firstStep = async () => ({ steps: (await import('../../src/steps/index.js')).STEPS.slice(0, 1) });
const credentials = () => Promise.resolve({ accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' });

describe('retries and server errors', () => {
  it('a throttled call shows on its step progress line, with the retry count and wait', async () => {
    h = new Harness();
    h.cloud.faults = { throttleFirst: 3, throttleOnly: ['CreateKeyPair'] };
    const r = await h.run(['up'], await firstStep());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /keypairs (sa-east-1|us-west-1): CreateKeyPair throttled \(RequestLimitExceeded\), retry [123] in \d+ s/,
    );
  });

  it('a server error is retried as a server error, never called throttling', async () => {
    h = new Harness();
    // More than the SDK's own 6 attempts in each of the two regions (the fake emulates them), so
    // drctl's layer retries too.
    h.cloud.faults = { serverErrorFirst: 14, serverErrorOnly: ['DescribeKeyPairs'] };
    const r = await h.run(['up'], await firstStep());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/DescribeKeyPairs server error 503 \(ServiceUnavailable\), retry [12] in \d+ s/);
    expect(r.stderr).not.toMatch(/throttl/i);
  });

  it('--verbose adds the stack trace to a failed step; without it, none', async () => {
    h = new Harness();
    h.cloud.faults = { throttleRate: 1, throttleOnly: ['CreateKeyPair'] };
    const deps = { ...(await firstStep()), aws: { credentials, retryDeadlineMs: 1 } };
    const quiet = await h.run(['up'], deps);
    const verbose = await h.run(['--verbose', 'up'], deps);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toContain('AWS throttled drctl beyond its retries');
    expect(quiet.stderr).not.toMatch(/^\s+at /m);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^\s+at /m);
  });
});

describe('failover-test --dry-run', () => {
  it('an AWS error during a dry run never says it put anything back', async () => {
    h = new Harness();
    await h.ok(['up']);
    const stateBefore = JSON.stringify(h.state());
    h.cloud.resetCalls();
    // STS answers (the who-pays banner comes first); every read of the drill then fails.
    h.cloud.faults = { serverErrorRate: 1, serverErrorSpare: ['sts'] };
    const r = await h.run(['failover-test', '--dry-run'], { aws: { credentials, retryDeadlineMs: 1 } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: failover-test --dry-run: /);
    expect(r.stderr).toContain('A dry run changes nothing');
    expect(r.stderr).not.toMatch(/is back|put back|restored/);
    expect(h.cloud.mutatingCalls).toEqual([]);
    expect(JSON.stringify(h.state())).toBe(stateBefore);
  });
});
