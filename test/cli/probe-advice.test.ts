import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtCliWorkdirs } from '../support/built-cli.js';
import { type Exit, runDrctl, userEnv } from '../support/cli-process.js';

// Advice that leads somewhere (issue 23 point 6), as a user meets it: the built CLI on the fake
// cloud, after a seeding `up`, with Lambda refusing to invoke the probe (DRCTL_FAKE_FAULTS). The
// function never ran, so drctl says the invocation failed (the AWS error, the function, the region)
// and what to check; it does not send the user to `drctl step probe` (which finds the probe in
// place and changes nothing) nor blame the network path. `drills` and `report` then show the
// errored drill with its reason.

const workdir = builtCliWorkdirs();
const text = (r: Pick<Exit, 'stdout' | 'stderr'>) => `${r.stdout}\n${r.stderr}`;

const PROBE = 'drctl-probe';
const REGION = 'us-west-1'; // the probe runs in the secondary VPC
const DENIED = { accessDenied: ['Invoke'] };
const THROTTLED = { throttleRate: 1, throttleOnly: ['Invoke'] };

async function onFakeCloud(args: string[], faults: object) {
  const d = workdir();
  const r = await runDrctl(args, {
    cwd: d.dir,
    env: userEnv(d.dir, { DRCTL_FAKE_SEED: 'up', DRCTL_FAKE_FAULTS: JSON.stringify(faults) }),
    fakeCloud: true,
  });
  return { d, r };
}

/** No dead ends: not "redeploy the probe", not the network path. */
function noDeadEnds(r: Exit): void {
  expect(text(r)).not.toContain('step probe');
  expect(text(r)).not.toMatch(/Check the (sa-east-1|us-west-1) path|from inside the VPC:/);
  expect(text(r)).not.toMatch(/internal error|a bug in drctl/);
}

describe('the probe cannot be invoked', () => {
  it.each([
    ['refused (AccessDeniedException)', DENIED, 'AccessDeniedException'],
    ['throttled beyond the retries (ThrottlingException)', THROTTLED, 'ThrottlingException'],
  ])(
    'failover-test, %s: says the invocation failed and what to check',
    async (_, faults, code) => {
      const { r } = await onFakeCloud(['failover-test'], faults);
      expect(r.code, text(r)).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: failover-test: ${code}: `, 'm'));
      expect(r.stderr).toContain(
        `\n  the probe function ${PROBE} in ${REGION} could not be invoked: the invocation failed, not the network path\n`,
      );
      expect(r.stderr).toContain('what to do: What the drill changed is back');
      expect(r.stderr).toContain(`Check that these credentials may call lambda:InvokeFunction on ${PROBE}`);
      expect(r.stderr).toContain(
        `aws lambda get-function-configuration --function-name ${PROBE} --region ${REGION}`,
      );
      noDeadEnds(r);
    },
    60_000,
  );

  it('verify: could not check (exit 1), naming the invocation, not the path', async () => {
    const { r } = await onFakeCloud(['verify'], DENIED);
    expect(r.code, text(r)).toBe(1);
    for (const region of ['sa-east-1', 'us-west-1'])
      expect(r.stdout).toMatch(
        new RegExp(
          `^ERROR probe ${region} +https://api\\.octank\\.com/health: not tried, the probe function ${PROBE} in ${REGION} could not be invoked: Lambda Invoke answered AccessDeniedException`,
          'm',
        ),
      );
    expect(r.stdout).toMatch(/^ +fix: The invocation failed, not the network path\. Check that these/m);
    expect(r.stdout).toContain('verify: COULD NOT CHECK');
    noDeadEnds(r);
  }, 60_000);

  it('drills and report show the errored drill with its reason', async () => {
    const { d, r } = await onFakeCloud(['failover-test'], DENIED);
    expect(r.code, text(r)).toBe(1);
    const env = userEnv(d.dir);
    const drills = await runDrctl(['drills'], { cwd: d.dir, env });
    expect(drills.code, text(drills)).toBe(0);
    expect(drills.stdout).toMatch(
      new RegExp(
        `invert +ERROR +failover-test: AccessDeniedException: .*\\n  the probe function ${PROBE} in ${REGION} could not be invoked`,
      ),
    );
    const report = await runDrctl(['report', '--out', 'r.md'], { cwd: d.dir, env });
    expect(report.code, text(report)).toBe(0);
    const md = readFileSync(join(d.dir, 'r.md'), 'utf8');
    const last = md.slice(md.indexOf('## Last drill'), md.indexOf('## Recovery over all drills'));
    expect(last).not.toMatch(/no drill has run yet/i);
    expect(last).toMatch(/the last, .*, error: failover-test: AccessDeniedException: /);
    expect(last).toContain(
      `the probe function ${PROBE} in ${REGION} could not be invoked: the invocation failed`,
    );
    expect(md).toMatch(
      new RegExp(
        `\\| invert \\| error \\|.*\\| failover-test: AccessDeniedException: .*the probe function ${PROBE} in ${REGION} could not be invoked`,
      ),
    );
    expect(md).not.toContain('step probe');
  }, 60_000);
});
